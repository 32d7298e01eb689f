"""``ember.distributed.fsdp.fully_sharded_data_parallel``: where PyTorch defines FSDP1's
wrapper; here the same declared-only ``FullyShardedDataParallel`` (constructing one raises
NotImplementedError, and no ember module is one) and its option enums."""

from __future__ import annotations

from . import FullyShardedDataParallel
from .api import BackwardPrefetch, ShardingStrategy, StateDictType

__all__ = ["FullyShardedDataParallel", "ShardingStrategy", "BackwardPrefetch", "StateDictType"]
