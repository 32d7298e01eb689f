"""``DistributedSampler``: each of ``num_replicas`` processes sees its own share of the
dataset, as ``torch.utils.data.distributed.DistributedSampler``."""

from __future__ import annotations

import math
from collections.abc import Iterator

from ... import _creation, _random
from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _default_group(what: str) -> int:
    """World size or rank from ``ember.distributed``'s default process group."""
    try:
        from ... import distributed as dist

        if dist.is_available() and dist.is_initialized():
            return dist.get_world_size() if what == "num_replicas" else dist.get_rank()
    except (ImportError, AttributeError):
        pass
    raise RuntimeError(f"Requires distributed package to be available (pass {what} "
                       "explicitly, or initialise ember.distributed's process group)")


class DistributedSampler(Sampler):
    """Restricts sampling to the share of one replica (process).

    The indices (shuffled with seed ``seed + epoch`` when ``shuffle``) are padded by
    repeating the first ones until they divide evenly (or, with ``drop_last``, the tail is
    cut), then replica ``rank`` takes every ``num_replicas``-th index from ``rank`` on.
    Call ``set_epoch(epoch)`` at the start of each epoch so that shuffles differ between
    epochs and agree between replicas.

    Args:
        dataset: the dataset (its length is used).
        num_replicas: the number of processes (default: ``ember.distributed``'s world size).
        rank: this process's rank (default: ``ember.distributed``'s rank).
        shuffle: shuffle the indices (default True).
        seed: the shuffle seed, the same on every replica.
        drop_last: drop the tail instead of padding.
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None:
            num_replicas = _default_group("num_replicas")
        if rank is None:
            rank = _default_group("rank")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(self.dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            g = _random.Generator().manual_seed(self.seed + self.epoch)
            indices = _creation.randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[:self.total_size]
        assert len(indices) == self.total_size
        indices = indices[self.rank:self.total_size:self.num_replicas]
        assert len(indices) == self.num_samples
        return iter(indices)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Sets the epoch, which seeds the shuffle (call it before each epoch)."""
        self.epoch = epoch
