"""torch.utils.data pieces whose random streams must follow PyTorch's for the same seed:
the DataLoader's per-epoch worker base seed (and so each worker's ``random``, numpy and
ember seeds), and SubsetRandomSampler's draws from the global generator; and the
``torch.utils.data._utils`` module paths programs import collation helpers from."""

from __future__ import annotations

import random

import ember
import numpy as np
import pytest
from ember.utils.data import DataLoader, Dataset, SubsetRandomSampler, get_worker_info

torch = pytest.importorskip("torch")


class WorkerSeeds(Dataset):
    """Each sample: the worker's seed and one draw from random, numpy and ember."""

    def __len__(self):
        return 2

    def __getitem__(self, i):
        return (get_worker_info().seed, random.random(), float(np.random.rand()),
                float(ember.rand(1).item()))


def _torch_worker_draws(base_seed: int):
    """What torch's worker 0 draws first after seeding from ``base_seed``."""
    from torch.utils.data._utils.worker import _generate_state

    random.seed(base_seed)
    np.random.seed(_generate_state(base_seed, 0))
    torch.manual_seed(base_seed)
    return random.random(), float(np.random.rand()), float(torch.rand(1).item())


@pytest.mark.parametrize("seed", [0, 5, 11])
def test_worker_seeds_follow_torch_for_the_same_global_seed(seed):
    ember.manual_seed(seed)
    first = list(DataLoader(WorkerSeeds(), batch_size=None, num_workers=1))[0]
    torch.manual_seed(seed)
    base = int(torch.empty((), dtype=torch.int64).random_().item())
    assert first[0] == base
    assert first[1:] == pytest.approx(_torch_worker_draws(base), rel=0, abs=1e-7)


def test_worker_seed_from_a_loader_generator_follows_torch():
    loader = DataLoader(WorkerSeeds(), batch_size=None, num_workers=1,
                        generator=ember.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(3)
    assert list(loader)[0][0] == int(torch.empty((), dtype=torch.int64).random_(generator=g))


def test_subset_random_sampler_draws_from_the_global_generator():
    for seed in range(4):
        ember.manual_seed(seed)
        got = list(SubsetRandomSampler([10, 11, 12, 13, 14, 15]))
        after = ember.rand(1).item()
        torch.manual_seed(seed)
        want = list(torch.utils.data.SubsetRandomSampler([10, 11, 12, 13, 14, 15]))
        assert got == want
        assert after == pytest.approx(torch.rand(1).item(), abs=1e-7)


def test_private_utils_paths_reexport_collation():
    from ember.utils.data import _utils
    from ember.utils.data import collate as collate_module
    from ember.utils.data._utils.collate import collate, default_collate_fn_map

    assert default_collate_fn_map is collate_module.default_collate_fn_map
    assert _utils.worker.get_worker_info is get_worker_info

    class Point:
        def __init__(self, x):
            self.x = x

    def collate_points(batch, *, collate_fn_map=None):
        return ember.tensor([p.x for p in batch])

    fn_map = {**default_collate_fn_map, Point: collate_points}
    out = collate([{"p": Point(1), "y": 2.0}, {"p": Point(3), "y": 4.0}],
                  collate_fn_map=fn_map)
    assert out["p"].tolist() == [1, 3] and out["y"].dtype == ember.float64
