"""Legacy tensor types: ``ember.FloatTensor``, ``ember.LongTensor``, ... (and their
``ember.cuda`` twins), as ``torch.FloatTensor`` and friends.

Each is a class whose call builds a tensor of its dtype (``LongTensor([1, 2])`` from data,
``FloatTensor(2, 3)`` uninitialized of that shape, ``FloatTensor()`` empty,
``FloatTensor(size)``, ``FloatTensor(tensor)`` an alias of a tensor of that dtype) and whose
``isinstance`` check matches tensors of that dtype and device, as in PyTorch.
``set_default_tensor_type`` (deprecated in PyTorch too) is here as well.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import _dtype

__all__ = ["LEGACY_TYPES", "CUDA_LEGACY_TYPES", "legacy_type_of", "set_default_tensor_type"]

_NAMES = (("FloatTensor", "float32"), ("DoubleTensor", "float64"),
          ("HalfTensor", "float16"), ("BFloat16Tensor", "bfloat16"),
          ("LongTensor", "int64"), ("IntTensor", "int32"), ("ShortTensor", "int16"),
          ("CharTensor", "int8"), ("ByteTensor", "uint8"), ("BoolTensor", "bool"))


class _TensorType(type):
    """Metaclass of the legacy types (PyTorch's ``torch.tensortype``)."""

    def __instancecheck__(cls, obj) -> bool:
        from ._tensor import Tensor

        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and \
            obj.device.type == cls._device_type

    def __subclasscheck__(cls, sub) -> bool:
        return type.__subclasscheck__(cls, sub)

    def __call__(cls, *args, device=None):
        return cls._new(args, device)

    def __repr__(cls) -> str:
        return f"<class '{cls._qualname}'>"

    @property
    def is_cuda(cls) -> bool:
        """True for the ``ember.cuda`` types."""
        return cls._device_type == "cuda"

    @property
    def is_sparse(cls) -> bool:
        """Always False (no sparse legacy types)."""
        return False


class _LegacyTensor(metaclass=_TensorType):
    """Base of the legacy tensor types."""

    dtype = None
    _device_type = "cpu"
    _qualname = "torch.Tensor"

    @classmethod
    def _new(cls, args, device):
        from ._creation import _infer_np
        from ._device import device as _dev
        from ._tensor import Size, Tensor

        dev = _dev(device) if device is not None else _dev(cls._device_type)
        if dev.type != cls._device_type:
            raise RuntimeError(f"legacy constructor expects device type: {cls._device_type} "
                               f"but device type: {dev.type} was passed")
        if cls._device_type == "cuda":
            from .cuda import is_available

            if not is_available():
                raise TypeError(f"type {cls._qualname} not available. ember has no CUDA "
                                "device here (CuPy missing or no GPU).")
        npd = cls.dtype.np
        if not args:
            arr = np.empty((0,), dtype=npd)
        elif all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
            arr = np.empty(tuple(int(a) for a in args), dtype=npd)
        elif len(args) == 1 and isinstance(args[0], Size):
            arr = np.empty(tuple(args[0]), dtype=npd)
        elif len(args) == 1 and isinstance(args[0], Tensor):
            t = args[0]
            if t.dtype is not cls.dtype or t.device.type != cls._device_type:
                raise TypeError(f"expected {cls._qualname} (got {t.type()})")
            return t.detach()  # PyTorch returns an alias of the tensor
        elif len(args) == 1 and not isinstance(args[0], (int, float, complex, bool)):
            arr = np.array(_infer_np(args[0]), dtype=npd)
        else:
            raise TypeError(f"new(): data must be a sequence (got {type(args[0]).__name__})")
        t = Tensor._make(arr)
        return t.to(dev) if cls._device_type == "cuda" else t


def _make_type(name: str, dtype_name: str, cuda: bool) -> type:
    qual = ("torch.cuda." if cuda else "torch.") + name
    doc = (f"Legacy constructor and ``isinstance`` type of {dtype_name} tensors on "
           f"{'cuda' if cuda else 'cpu'} (``{qual}``).")
    return _TensorType(name, (_LegacyTensor,), {
        "dtype": _dtype._BY_NAME[dtype_name], "_device_type": "cuda" if cuda else "cpu",
        "_qualname": qual, "__doc__": doc,
        "__module__": "ember.cuda" if cuda else "ember"})


LEGACY_TYPES = {n: _make_type(n, d, False) for n, d in _NAMES}
CUDA_LEGACY_TYPES = {n: _make_type(n, d, True) for n, d in _NAMES}


def legacy_type_of(obj):
    """``(dtype, device type)`` of a legacy type class or of its name
    (``'torch.cuda.LongTensor'``); None when ``obj`` is neither."""
    if isinstance(obj, _TensorType):
        return obj.dtype, obj._device_type
    if isinstance(obj, str):
        parts = obj.split(".")
        table = CUDA_LEGACY_TYPES if "cuda" in parts[:-1] else LEGACY_TYPES
        cls = table.get(parts[-1])
        if cls is not None and parts[0] in ("torch", "ember"):
            return cls.dtype, cls._device_type
    return None


def set_default_tensor_type(t) -> None:
    """Deprecated (as in PyTorch): sets the default floating point dtype from a legacy
    type (``ember.DoubleTensor``) or its name (``'torch.DoubleTensor'``). ember keeps the
    default device unchanged for cuda types; use ``set_default_dtype``/
    ``set_default_device``."""
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please "
                  "use torch.set_default_dtype() and torch.set_default_device() as "
                  "alternatives.", UserWarning, stacklevel=2)
    info = legacy_type_of(t)
    if info is None:
        raise TypeError(f"invalid type: '{t}'")
    dt, _dev = info
    if not dt.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _dtype.set_default_dtype(dt)
