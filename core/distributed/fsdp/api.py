"""``ember.distributed.fsdp.api``: the option enums of FSDP1's ``FullyShardedDataParallel``
(``ShardingStrategy``, ``BackwardPrefetch``, ``StateDictType``), as in PyTorch. They are
plain values, for code that names them in configurations; the wrapper itself is not
supported by ember."""

from __future__ import annotations

import dataclasses
import enum

__all__ = ["ShardingStrategy", "BackwardPrefetch", "StateDictType", "CPUOffload"]


class ShardingStrategy(enum.Enum):
    """How FSDP would shard parameters, gradients and optimizer state."""

    FULL_SHARD = enum.auto()
    SHARD_GRAD_OP = enum.auto()
    NO_SHARD = enum.auto()
    HYBRID_SHARD = enum.auto()
    _HYBRID_SHARD_ZERO2 = enum.auto()


class BackwardPrefetch(enum.Enum):
    """When FSDP would prefetch the next parameters in the backward pass."""

    BACKWARD_PRE = enum.auto()
    BACKWARD_POST = enum.auto()


class StateDictType(enum.Enum):
    """Which form of state dict an FSDP module would return."""

    FULL_STATE_DICT = enum.auto()
    LOCAL_STATE_DICT = enum.auto()
    SHARDED_STATE_DICT = enum.auto()


@dataclasses.dataclass
class CPUOffload:
    """FSDP1's option to keep parameters (and their gradients) on the CPU."""

    offload_params: bool = False
