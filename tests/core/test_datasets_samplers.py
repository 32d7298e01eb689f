"""Datasets, random_split and samplers against their contracts, and against torch where
the output is deterministic."""

from __future__ import annotations

import ember
import numpy as np
import pytest
from ember.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    Dataset,
    DistributedSampler,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    StackDataset,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    random_split,
)
from ember.utils.data.distributed import DistributedSampler as DistributedSampler2

torch = pytest.importorskip("torch")
tud = torch.utils.data


class Range(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i


class Stream(IterableDataset):
    def __init__(self, items):
        self.items = items

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


# -- datasets ------------------------------------------------------------------------------
def test_tensor_dataset():
    x, y = ember.arange(10.0).reshape(5, 2), ember.arange(5)
    ds = TensorDataset(x, y)
    assert len(ds) == 5
    a, b = ds[3]
    assert a.tolist() == [6.0, 7.0] and b.item() == 3
    with pytest.raises(AssertionError, match="Size mismatch"):
        TensorDataset(x, ember.arange(4))


def test_concat_dataset_and_add():
    ds = ConcatDataset([Range(3), Range(0), Range(4)])
    assert len(ds) == 7 and ds.cumulative_sizes == [3, 3, 7]
    assert [ds[i] for i in range(7)] == [0, 1, 2, 0, 1, 2, 3]
    assert ds[-1] == 3 and ds[-7] == 0
    with pytest.raises(ValueError):
        ds[-8]
    both = Range(2) + Range(3)
    assert isinstance(both, ConcatDataset) and [both[i] for i in range(5)] == [0, 1, 0, 1, 2]
    with pytest.raises(AssertionError):
        ConcatDataset([])
    with pytest.raises(AssertionError):
        ConcatDataset([Stream([1])])


def test_chain_dataset():
    ds = ChainDataset([Stream([1, 2]), Stream([3])])
    assert list(ds) == [1, 2, 3] and len(ds) == 3
    assert list(Stream([1]) + Stream([2, 3])) == [1, 2, 3]


def test_subset_and_stack_dataset():
    sub = Subset(Range(10), [7, 2, 5])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [7, 2, 5]
    assert sub.__getitems__([0, 2]) == [7, 5]
    st = StackDataset(Range(3), Subset(Range(10), [9, 8, 7]))
    assert st[1] == (1, 8) and len(st) == 3
    named = StackDataset(x=Range(3), y=Range(3))
    assert named[2] == {"x": 2, "y": 2}
    assert named.__getitems__([0, 1]) == [{"x": 0, "y": 0}, {"x": 1, "y": 1}]
    with pytest.raises(ValueError):
        StackDataset(Range(2), Range(3))
    with pytest.raises(ValueError):
        StackDataset(Range(2), y=Range(2))


def test_dataset_base_is_abstract():
    with pytest.raises(NotImplementedError):
        Dataset()[0]
    with pytest.raises(NotImplementedError):
        iter(IterableDataset())


def test_downloadable_dataset_is_a_dataset():
    from ember.datasets.dataset import DownloadableDataset

    assert issubclass(DownloadableDataset, Dataset)


# -- random_split ----------------------------------------------------------------------------
@pytest.mark.parametrize("n,lengths", [(10, [3, 7]), (10, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]),
                                       (7, [0.1, 0.2, 0.7]), (5, [5])])
def test_random_split_partitions(n, lengths):
    parts = random_split(Range(n), lengths, generator=ember.Generator().manual_seed(1))
    ref = tud.random_split(tud.TensorDataset(torch.arange(n)), lengths,
                           generator=torch.Generator().manual_seed(1))
    assert [len(p) for p in parts] == [len(p) for p in ref]  # torch's sizes
    items = [x for p in parts for x in (p[i] for i in range(len(p)))]
    assert sorted(items) == list(range(n))


def test_random_split_is_reproducible_and_checked():
    a = random_split(Range(20), [10, 10], generator=ember.Generator().manual_seed(3))
    b = random_split(Range(20), [10, 10], generator=ember.Generator().manual_seed(3))
    c = random_split(Range(20), [10, 10], generator=ember.Generator().manual_seed(4))
    assert a[0].indices == b[0].indices and a[0].indices != c[0].indices
    ember.manual_seed(0)
    d = random_split(Range(20), [10, 10])
    ember.manual_seed(0)
    assert random_split(Range(20), [10, 10])[0].indices == d[0].indices
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(Range(5), [2, 2])
    with pytest.warns(UserWarning, match="index 1 is 0"):
        random_split(Range(2), [1.0, 0.0])


# -- samplers -------------------------------------------------------------------------------
def test_sequential_sampler_matches_torch():
    assert list(SequentialSampler(Range(7))) == list(tud.SequentialSampler(range(7)))
    assert len(SequentialSampler(Range(7))) == 7


@pytest.mark.parametrize("batch_size", [1, 3, 4, 10])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sampler_matches_torch(batch_size, drop_last):
    ours = BatchSampler(SequentialSampler(Range(10)), batch_size, drop_last)
    ref = tud.BatchSampler(tud.SequentialSampler(range(10)), batch_size, drop_last)
    assert list(ours) == list(ref) and len(ours) == len(ref)


def test_batch_sampler_validates():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            BatchSampler(range(3), bad, False)
    with pytest.raises(ValueError):
        BatchSampler(range(3), 2, 1)


def test_random_sampler():
    g = ember.Generator().manual_seed(0)
    perm = list(RandomSampler(Range(10), generator=g))
    assert sorted(perm) == list(range(10))
    again = list(RandomSampler(Range(10), generator=ember.Generator().manual_seed(0)))
    assert again == perm
    assert list(RandomSampler(Range(10), generator=g)) != perm  # the generator moved on
    more = list(RandomSampler(Range(4), num_samples=10, generator=g))
    assert len(more) == 10 and sorted(more[:4]) == [0, 1, 2, 3] and \
        sorted(more[4:8]) == [0, 1, 2, 3]
    rep = RandomSampler(Range(3), replacement=True, num_samples=100, generator=g)
    draws = list(rep)
    assert len(draws) == len(rep) == 100 and set(draws) == {0, 1, 2}
    ember.manual_seed(5)
    a = list(RandomSampler(Range(10)))
    ember.manual_seed(5)
    assert list(RandomSampler(Range(10))) == a  # the global seed drives the default
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(Range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement"):
        RandomSampler(Range(3), replacement=1)


def test_subset_random_sampler():
    idx = [10, 20, 30, 40]
    out = list(SubsetRandomSampler(idx, generator=ember.Generator().manual_seed(2)))
    assert sorted(out) == idx and len(SubsetRandomSampler(idx)) == 4


def test_weighted_random_sampler():
    g = ember.Generator().manual_seed(0)
    w = [0.0, 1.0, 3.0, 0.0]
    draws = np.array(list(WeightedRandomSampler(w, 4000, generator=g)))
    assert set(draws.tolist()) <= {1, 2}
    assert abs((draws == 2).mean() - 0.75) < 0.05
    unique = list(WeightedRandomSampler([1, 2, 3, 4], 4, replacement=False, generator=g))
    assert sorted(unique) == [0, 1, 2, 3]
    with pytest.raises(RuntimeError):
        list(WeightedRandomSampler(w, 3, replacement=False))
    with pytest.raises(ValueError):
        WeightedRandomSampler(w, 0)
    with pytest.raises(ValueError):
        WeightedRandomSampler([[1.0, 2.0]], 2)
    assert len(WeightedRandomSampler(ember.tensor([1.0, 2.0]), 7)) == 7


@pytest.mark.parametrize("n", [10, 11, 3])
@pytest.mark.parametrize("replicas", [1, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_matches_torch_without_shuffle(n, replicas, drop_last):
    for rank in range(replicas):
        ours = DistributedSampler(Range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        ref = tud.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                     drop_last=drop_last)
        assert list(ours) == list(ref) and len(ours) == len(ref)


def test_distributed_sampler_shuffle_contract():
    n, replicas = 23, 4
    shards = [DistributedSampler(Range(n), replicas, r, seed=7) for r in range(replicas)]
    epoch0 = [list(s) for s in shards]
    union = sorted(i for shard in epoch0 for i in shard)
    assert len(union) == 24 and set(union) == set(range(n))  # padded to 24 with a repeat
    for s in shards:
        s.set_epoch(1)
    epoch1 = [list(s) for s in shards]
    assert epoch1 != epoch0
    same = DistributedSampler(Range(n), replicas, 2, seed=7)
    same.set_epoch(1)
    assert list(same) == epoch1[2]
    with pytest.raises(ValueError, match="Invalid rank"):
        DistributedSampler(Range(5), 2, 2)
    assert DistributedSampler2 is DistributedSampler


def test_distributed_sampler_needs_replicas_without_process_group():
    with pytest.raises((RuntimeError, ValueError)):
        DistributedSampler(Range(5))


def test_dataloader_with_samplers_in_order():
    loader = ember.utils.data.DataLoader(Range(10), batch_size=None,
                                         sampler=DistributedSampler(Range(10), 2, 1,
                                                                    shuffle=False))
    assert list(loader) == [1, 3, 5, 7, 9]
