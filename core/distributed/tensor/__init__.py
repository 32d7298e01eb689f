"""``ember.distributed.tensor``: DTensor's names, declared only.

``Shard``/``Replicate``/``Partial`` are real (plain descriptions). ``DTensor`` exists for
``isinstance`` checks and annotations (no ember tensor is ever one); ``DTensor.from_local``,
``distribute_tensor`` and ``distribute_module`` raise NotImplementedError.
"""

from __future__ import annotations

from ..._tensor import Tensor
from .._unsupported import unsupported, unsupported_function
from ..device_mesh import DeviceMesh, init_device_mesh
from .placement_types import Partial, Placement, Replicate, Shard

__all__ = ["DTensor", "DeviceMesh", "init_device_mesh", "Placement", "Shard", "Replicate",
           "Partial", "distribute_tensor", "distribute_module"]


class DTensor(Tensor):
    """A tensor sharded over a DeviceMesh (not supported by ember: none can be made)."""

    __slots__ = ()

    def __init__(self, *args, **kwargs):
        raise unsupported("ember.distributed.tensor.DTensor")

    @classmethod
    def from_local(cls, local_tensor, device_mesh=None, placements=None, **kwargs):
        """Not supported (raises NotImplementedError)."""
        raise unsupported("ember.distributed.tensor.DTensor.from_local")


distribute_tensor = unsupported_function("ember.distributed.tensor.distribute_tensor",
                                         "Shards a tensor over a DeviceMesh")
distribute_module = unsupported_function("ember.distributed.tensor.distribute_module",
                                         "Shards a module's parameters over a DeviceMesh")
