"""``ember.distributed.fsdp``: fully sharded data parallel, declared only.

The policy objects (``MixedPrecisionPolicy``, ``CPUOffloadPolicy``, ``OffloadPolicy``) are
plain records and construct, as do FSDP1's option enums (``ShardingStrategy``,
``BackwardPrefetch``, ``StateDictType``); ``fully_shard`` and ``FullyShardedDataParallel`` raise
NotImplementedError. ``FSDPModule`` exists for ``isinstance`` checks (no ember module is
one). Use ``ember.nn.parallel.DistributedDataParallel`` for data-parallel training.
"""

from __future__ import annotations

import dataclasses

from .._unsupported import Unsupported, unsupported_function
from .api import BackwardPrefetch, CPUOffload, ShardingStrategy, StateDictType

__all__ = ["fully_shard", "FSDPModule", "FullyShardedDataParallel", "MixedPrecisionPolicy",
           "OffloadPolicy", "CPUOffloadPolicy", "BackwardPrefetch", "ShardingStrategy",
           "StateDictType", "CPUOffload"]


@dataclasses.dataclass(frozen=True)
class MixedPrecisionPolicy:
    """The dtypes FSDP2 would compute, reduce and output in."""

    param_dtype: object = None
    reduce_dtype: object = None
    output_dtype: object = None
    cast_forward_inputs: bool = True


@dataclasses.dataclass
class OffloadPolicy:
    """No offloading."""


@dataclasses.dataclass
class CPUOffloadPolicy(OffloadPolicy):
    """Keep sharded parameters on the CPU."""

    pin_memory: bool = True


class FSDPModule:
    """The class ``fully_shard`` mixes into a module (no ember module is one)."""


class FullyShardedDataParallel(Unsupported):
    """FSDP1's wrapper module (not supported by ember: constructing one raises)."""

    _what = "ember.distributed.fsdp.FullyShardedDataParallel"


fully_shard = unsupported_function("ember.distributed.fsdp.fully_shard",
                                   "Shards a module's parameters across ranks (FSDP2)")
