"""``ember.types``: the type aliases of ``torch.types`` used in annotations."""

from __future__ import annotations

from ._device import device as _device_cls
from ._dtype import dtype as _dtype_cls
from ._tensor import Size, Tensor

__all__ = ["Number", "Device", "Storage", "_bool", "_complex", "_device", "_dtype", "_float",
           "_int", "_layout", "_qscheme", "_size", "_TensorOrTensors", "_TensorOrTensorsOrGradEdge",
           "FileLike", "IntLikeType", "SymInt", "SymFloat", "SymBool"]

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


class _SymbolicScalar:
    """Base of ``SymInt``/``SymFloat``/``SymBool``: PyTorch's symbolic (traced) scalars.
    ember traces no symbolic shapes, so no value is ever one of these (``isinstance(3,
    torch.SymInt)`` is False, as in PyTorch) and constructing one raises."""

    __slots__ = ()

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(f"ember has no symbolic shapes: {type(self).__name__} "
                                  "cannot be constructed")


class SymInt(_SymbolicScalar):
    """``torch.SymInt``: a symbolic integer (none exist in ember)."""

    __slots__ = ()


class SymFloat(_SymbolicScalar):
    """``torch.SymFloat``: a symbolic float (none exist in ember)."""

    __slots__ = ()


class SymBool(_SymbolicScalar):
    """``torch.SymBool``: a symbolic bool (none exist in ember)."""

    __slots__ = ()


IntLikeType = int | SymInt
Storage = object
FileLike = object
