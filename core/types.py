"""``ember.types``: the type aliases of ``torch.types`` used in annotations."""

from __future__ import annotations

from ._device import device as _device_cls
from ._dtype import dtype as _dtype_cls
from ._tensor import Size, Tensor

__all__ = ["Number", "Device", "Storage", "_bool", "_complex", "_device", "_dtype", "_float",
           "_int", "_layout", "_qscheme", "_size", "_TensorOrTensors", "_TensorOrTensorsOrGradEdge",
           "FileLike", "IntLikeType", "SymInt"]

Number = int | float | bool
Device = _device_cls | str | int | None
_bool = bool
_complex = complex
_float = float
_int = int
_device = _device_cls
_dtype = _dtype_cls
_layout = str
_qscheme = str
_size = Size | list | tuple
_TensorOrTensors = Tensor | tuple
_TensorOrTensorsOrGradEdge = Tensor | tuple
IntLikeType = int
SymInt = int
Storage = object
FileLike = object
