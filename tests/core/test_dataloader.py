"""DataLoader: batching, shuffling, worker processes (errors, deaths, seeding, order,
timeouts, persistence, cleanup) and the speed-up workers bring."""

from __future__ import annotations

import gc
import multiprocessing
import os
import random
import time

import ember
import numpy as np
import pytest
from ember.utils.data import (
    DataLoader,
    Dataset,
    IterableDataset,
    TensorDataset,
    get_worker_info,
)


class Range(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i


class Failing(Range):
    def __getitem__(self, i):
        if i == 5:
            raise ValueError(f"bad sample {i}")
        return i


class Dying(Range):
    def __getitem__(self, i):
        if i == 3:
            os._exit(3)
        return i


class Slow(Range):
    def __init__(self, n, delay):
        super().__init__(n)
        self.delay = delay

    def __getitem__(self, i):
        time.sleep(self.delay)
        return i


class Jittery(Range):
    """Samples take random times, so workers finish out of order."""

    def __getitem__(self, i):
        time.sleep(random.Random(i).random() * 0.01)
        return ember.tensor([i])


class Seeds(Range):
    def __getitem__(self, i):
        info = get_worker_info()
        return (info.id, info.seed, random.random(), float(np.random.rand()),
                ember.rand(1).item())


class Pid(Range):
    def __getitem__(self, i):
        return os.getpid()


class Split(IterableDataset):
    """Yields range(n), each worker its own interleaved share."""

    def __init__(self, n, split=True):
        self.n, self.split = n, split

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.split:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))

    def __len__(self):
        return self.n


def live_children(timeout=5.0):
    """Child processes still alive after waiting up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        children = multiprocessing.active_children()
        if not children or time.monotonic() > deadline:
            return children
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def _no_leftover_workers():
    yield
    assert live_children() == []


# -- single process ---------------------------------------------------------------------------
@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (3, False), (3, True),
                                                  (10, False), (16, True), (None, False)])
def test_batches_and_len_match_torch(batch_size, drop_last):
    torch = pytest.importorskip("torch")  # imported here: spawned workers import this module
    tud = torch.utils.data
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    ours = DataLoader(TensorDataset(ember.from_numpy(x), ember.arange(10)),
                      batch_size=batch_size, drop_last=drop_last)
    ref = tud.DataLoader(tud.TensorDataset(torch.from_numpy(x), torch.arange(10)),
                         batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(ref)
    got, want = list(ours), list(ref)
    assert len(got) == len(want)
    for (a, b), (c, d) in zip(got, want):
        assert np.array_equal(a.numpy(), c.numpy()) and np.array_equal(b.numpy(), d.numpy())
        assert b.dtype is ember.int64


def test_shuffle_is_a_permutation_and_follows_the_generator():
    def epoch(seed):
        loader = DataLoader(Range(50), batch_size=7, shuffle=True,
                            generator=ember.Generator().manual_seed(seed))
        return [int(i) for batch in loader for i in batch]

    a = epoch(0)
    assert sorted(a) == list(range(50)) and a != list(range(50))
    assert epoch(0) == a and epoch(1) != a
    loader = DataLoader(Range(50), batch_size=50, shuffle=True)
    assert next(iter(loader)).tolist() != next(iter(loader)).tolist()  # new order per epoch


def test_iterable_dataset_len_and_batches():
    loader = DataLoader(Split(10), batch_size=4)
    assert len(loader) == 3
    assert [b.tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(DataLoader(Split(10), batch_size=4, drop_last=True)) == 2
    assert [b.tolist() for b in DataLoader(Split(10), batch_size=4, drop_last=True)] == \
        [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_argument_validation():
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Split(3), shuffle=True)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(Range(3), batch_sampler=[[0, 1]], batch_size=2)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(Range(3), sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="persistent_workers"):
        DataLoader(Range(3), persistent_workers=True)
    with pytest.raises(ValueError, match="prefetch_factor"):
        DataLoader(Range(3), prefetch_factor=2)
    with pytest.raises(ValueError, match="timeout"):
        DataLoader(Range(3), timeout=-1)
    loader = DataLoader(Range(3))
    with pytest.raises(ValueError, match="batch_size"):
        loader.batch_size = 5


def test_batch_sampler_and_collate_fn():
    loader = DataLoader(Range(6), batch_sampler=[[5, 0], [2]], collate_fn=lambda b: b)
    assert list(loader) == [[5, 0], [2]] and len(loader) == 2
    assert get_worker_info() is None


# -- worker processes ---------------------------------------------------------------------------
def test_workers_keep_sampler_order():
    want = [b.tolist() for b in DataLoader(Jittery(40), batch_size=3)]
    got = [b.tolist() for b in DataLoader(Jittery(40), batch_size=3, num_workers=2)]
    assert got == want
    assert [b.tolist() for b in DataLoader(Jittery(12), batch_size=None, num_workers=3,
                                           prefetch_factor=1)] == [[i] for i in range(12)]


def test_out_of_order_delivery_yields_every_batch():
    got = [b.tolist() for b in DataLoader(Jittery(30), batch_size=2, num_workers=2,
                                          in_order=False)]
    assert sorted(got) == [[[i], [i + 1]] for i in range(0, 30, 2)]


def test_worker_exception_reraised_with_traceback():
    loader = DataLoader(Failing(10), batch_size=2, num_workers=2)
    with pytest.raises(ValueError) as info:
        list(loader)
    msg = str(info.value)
    assert "bad sample 5" in msg and "DataLoader worker process" in msg
    assert "Traceback" in msg and "__getitem__" in msg


def test_worker_death_is_reported_promptly():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="exit code 3"):
        list(DataLoader(Dying(10), batch_size=1, num_workers=2))
    assert time.monotonic() - start < 5


def test_worker_seeds_differ_and_follow_the_generator():
    def run(seed):
        loader = DataLoader(Seeds(4), batch_size=None, num_workers=2,
                            generator=ember.Generator().manual_seed(seed))
        return list(loader)

    a = run(123)
    assert {s[0] for s in a} == {0, 1}
    w0 = [s for s in a if s[0] == 0][0]
    w1 = [s for s in a if s[0] == 1][0]
    assert w1[1] == w0[1] + 1  # seed = base_seed + worker_id
    assert all(x != y for x, y in zip(w0[2:], w1[2:]))  # random, numpy and ember differ
    assert run(123) == a and run(124) != a


def test_iterable_dataset_split_across_workers():
    got = [int(x) for b in DataLoader(Split(20), batch_size=3, num_workers=2) for x in b]
    assert sorted(got) == list(range(20))
    dup = [int(x) for b in DataLoader(Split(6, split=False), batch_size=2, num_workers=2)
           for x in b]
    assert sorted(dup) == sorted(list(range(6)) * 2)  # unsplit: each worker yields all


def test_timeout_raises():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="timed out"):
        next(iter(DataLoader(Slow(4, 2.0), num_workers=1, timeout=0.3)))
    assert time.monotonic() - start < 1.5


def test_persistent_workers_survive_epochs():
    loader = DataLoader(Pid(8), batch_size=2, num_workers=2, persistent_workers=True)
    first = {int(p) for b in loader for p in b}
    second = {int(p) for b in loader for p in b}
    assert len(first) == 2 and first == second
    it = iter(loader)
    next(it)  # an epoch abandoned half-way...
    assert len([b for b in loader]) == 4  # ...does not leak into the next one
    split = DataLoader(Split(9), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(2):
        assert sorted(int(x) for b in split for x in b) == list(range(9))
    del loader, it, split
    gc.collect()


def test_workers_are_cleaned_up_after_break_and_del():
    for _ in DataLoader(Range(100), batch_size=2, num_workers=2):
        break
    assert live_children() == []
    it = iter(DataLoader(Range(100), batch_size=2, num_workers=2))
    next(it)
    assert len(multiprocessing.active_children()) == 2
    del it
    assert live_children() == []
    loader = DataLoader(Range(10), num_workers=2, persistent_workers=True)
    next(iter(loader))
    del loader
    gc.collect()
    assert live_children() == []


def test_worker_init_fn_pin_memory_and_spawn():
    loader = DataLoader(Seeds(2), batch_size=None, num_workers=1, pin_memory=True,
                        multiprocessing_context="spawn", worker_init_fn=_check_info)
    assert [s[0] for s in loader] == [0, 0]


def _check_info(worker_id):
    info = get_worker_info()
    assert info.id == worker_id and info.num_workers == 1 and isinstance(info.dataset, Seeds)


def test_two_workers_serve_a_slow_dataset_about_twice_as_fast(capsys):
    ds = Slow(240, 0.002)

    def epoch(loader):
        start = time.perf_counter()
        assert sum(len(b) for b in loader) == 240
        return time.perf_counter() - start

    serial = min(epoch(DataLoader(ds, batch_size=8)) for _ in range(2))
    cold = epoch(DataLoader(ds, batch_size=8, num_workers=2))  # includes starting workers
    loader = DataLoader(ds, batch_size=8, num_workers=2, persistent_workers=True)
    epoch(loader)
    warm = min(epoch(loader) for _ in range(2))
    with capsys.disabled():
        print(f"\n[dataloader speed] 240 samples x 2 ms, batch 8: 0 workers {serial:.3f} s; "
              f"2 workers {cold:.3f} s with start-up ({serial / cold:.2f}x), "
              f"{warm:.3f} s warm ({serial / warm:.2f}x)")
    del loader
    assert serial / warm > 1.5
