"""The pickler of ``ember.save``: ember objects written as PyTorch writes its own.

Tensors become ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
requires_grad, OrderedDict())`` whose storage is a persistent id ``('storage',
torch.FloatStorage, key, 'cpu', numel)``; ``ember.nn.Parameter`` becomes
``torch._utils._rebuild_parameter``; dtypes, ``Size`` and devices become ``torch.float32``,
``torch.Size`` and ``torch.device``. The names are written as pickle GLOBALs without
importing torch (the pure-Python pickler lets us emit them directly).

Views of one numpy array share one storage, with their offsets and strides; a view that
PyTorch cannot express (negative or unaligned strides) is written as a contiguous copy.
"""

from __future__ import annotations

import collections
import pickle
import sys

import numpy as np

from .. import _device, _dtype
from .._meta import is_meta_array
from .._tensor import Size, Tensor
from ._storage import STORAGE_NAMES

__all__ = ["CheckpointPickler", "StorageCollector", "StorageRef"]


class TorchGlobal:
    """A global named in the pickle by module and name (a PyTorch function or class)."""

    __slots__ = ("module", "name")
    _cache: dict = {}

    def __new__(cls, module: str, name: str):
        key = (module, name)
        obj = cls._cache.get(key)
        if obj is None:
            obj = object.__new__(cls)
            obj.module, obj.name = module, name
            cls._cache[key] = obj
        return obj

    def __call__(self, *args, **kwargs):  # pickle requires reduce functions to be callable
        raise TypeError(f"{self.module}.{self.name} is only a name in a checkpoint")


_V2 = TorchGlobal("torch._utils", "_rebuild_tensor_v2")
_V3 = TorchGlobal("torch._utils", "_rebuild_tensor_v3")
_META = TorchGlobal("torch._utils", "_rebuild_meta_tensor_no_storage")
_PARAM = TorchGlobal("torch._utils", "_rebuild_parameter")
_PARAM_STATE = TorchGlobal("torch._utils", "_rebuild_parameter_with_state")
_FROM_TYPE = TorchGlobal("torch._tensor", "_rebuild_from_type_v2")
_TENSOR = TorchGlobal("torch", "Tensor")
_SIZE = TorchGlobal("torch", "Size")
_DEVICE = TorchGlobal("torch", "device")
_UNTYPED = TorchGlobal("torch.storage", "UntypedStorage")


class StorageRef:
    """One storage to write: its bytes (``array``, flat uint8), key and persistent id."""

    __slots__ = ("key", "array", "stype", "numel", "location")

    def __init__(self, key: str, array: np.ndarray, stype: TorchGlobal, numel: int,
                 location: str):
        self.key, self.array, self.stype, self.numel, self.location = (
            key, array, stype, numel, location)

    def pid(self, legacy: bool) -> tuple:
        base = ("storage", self.stype, self.key, self.location, self.numel)
        return base + (None,) if legacy else base


def _ptr(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def _contiguous_strides(shape) -> tuple:
    out, acc = [], 1
    for n in reversed(shape):
        out.append(acc)
        acc *= max(int(n), 1)
    return tuple(reversed(out))


class StorageCollector:
    """Assigns storages to tensors: views of one array share one storage."""

    def __init__(self, legacy: bool = False):
        self.legacy = legacy
        self.refs: list[StorageRef] = []
        self._shared: dict = {}  # (id(root array), dtype) -> StorageRef

    def _new_ref(self, flat_bytes: np.ndarray, dtype: _dtype.dtype, numel: int,
                 location: str) -> StorageRef:
        if dtype.name in STORAGE_NAMES:
            stype = TorchGlobal("torch", STORAGE_NAMES[dtype.name])
        elif self.legacy:
            raise ValueError(f"ember.save: {dtype} tensors cannot be written in the legacy "
                             "format (_use_new_zipfile_serialization=False)")
        else:  # newer dtypes (uint16/32/64) go in an untyped storage counted in bytes
            stype, numel = _UNTYPED, int(flat_bytes.size)
        ref = StorageRef(str(len(self.refs)), flat_bytes, stype, numel, location)
        self.refs.append(ref)
        return ref

    def _own(self, arr: np.ndarray, dtype, location: str):
        if not arr.flags.c_contiguous:
            arr = arr.copy(order="C")
        ref = self._new_ref(arr.reshape(-1).view(np.uint8), dtype, int(arr.size), location)
        return ref, 0, tuple(arr.shape), _contiguous_strides(arr.shape)

    def for_tensor(self, t: Tensor):
        """``(storage ref, offset, size, stride)`` for tensor ``t``."""
        arr = t._data
        dtype = _dtype.from_numpy_dtype(arr.dtype)
        if not isinstance(arr, np.ndarray):  # a cupy array: copied to the host
            host = _device.cupy_module().asnumpy(arr)
            return self._own(host, dtype, f"cuda:{arr.device.id}")
        if arr.size == 0:
            return self._own(np.empty(arr.shape, arr.dtype), dtype, "cpu")
        root = arr
        while isinstance(root.base, np.ndarray):
            root = root.base
        shared = self._view_of(arr, root, dtype)
        return shared if shared is not None else self._own(arr, dtype, "cpu")

    def _view_of(self, arr: np.ndarray, root: np.ndarray, dtype):
        item = arr.itemsize
        if root.flags.c_contiguous:
            flat = root.reshape(-1)
        elif root.flags.f_contiguous:  # e.g. from_numpy of a Fortran-ordered array
            flat = root.T.reshape(-1)
        else:
            return None
        if root.nbytes % item:
            return None
        delta = _ptr(arr) - _ptr(root)
        if delta < 0 or delta % item:
            return None
        last = delta
        contiguous = _contiguous_strides(arr.shape)
        stride = []
        for n, s, c in zip(arr.shape, arr.strides, contiguous):
            if n == 1:
                stride.append(c)
                continue
            if s < 0 or s % item:
                return None
            last += (n - 1) * s
            stride.append(s // item)
        if last + item > root.nbytes:
            return None
        key = (id(root), arr.dtype)
        ref = self._shared.get(key)
        if ref is None:
            ref = self._new_ref(flat.view(np.uint8), dtype, root.nbytes // item, "cpu")
            self._shared[key] = ref
        return ref, delta // item, tuple(arr.shape), tuple(stride)


class _PlainTensor:
    """The data of a Parameter, pickled as a plain tensor."""

    __slots__ = ("reduced",)

    def __init__(self, reduced):
        self.reduced = reduced


def _parameter_class():
    nn = sys.modules.get("ember.nn")  # no Parameter can exist before ember.nn is imported
    return getattr(nn, "Parameter", None) if nn is not None else None


class CheckpointPickler(pickle._Pickler):
    """Pickles ``obj`` with PyTorch's tensor encoding; storages go to ``collector``."""

    def __init__(self, file, protocol: int, collector: StorageCollector, legacy: bool):
        super().__init__(file, protocol)
        self.collector = collector
        self.legacy = legacy

    def persistent_id(self, obj):
        if type(obj) is StorageRef:
            return obj.pid(self.legacy)
        return None

    def save(self, obj, save_persistent_id=True):
        t = type(obj)
        if t is TorchGlobal or t is _dtype.dtype:
            module, name = (obj.module, obj.name) if t is TorchGlobal else ("torch", obj.name)
            x = self.memo.get(id(obj))
            if x is not None:
                self.write(self.get(x[0]))
                return
            self.write(pickle.GLOBAL + module.encode() + b"\n" + name.encode() + b"\n")
            self.memoize(obj)
            return
        super().save(obj, save_persistent_id)

    def _tensor_reduce(self, t: Tensor, requires_grad: bool):
        if is_meta_array(t._data):  # no storage: shape, stride and dtype only, as torch
            return _META, (t.dtype, Size(t.shape), tuple(t.stride()), requires_grad)
        ref, offset, size, stride = self.collector.for_tensor(t)
        hooks = collections.OrderedDict()
        if ref.stype is _UNTYPED:
            return _V3, (ref, offset, size, stride, requires_grad, hooks, t.dtype)
        return _V2, (ref, offset, size, stride, requires_grad, hooks)

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            state = obj.__dict__
            if "_inference" in state:  # the inference_mode flag is not saved (as torch)
                state = {k: v for k, v in state.items() if k != "_inference"}
            P = _parameter_class()
            if P is not None and isinstance(obj, P):
                inner = _PlainTensor(self._tensor_reduce(obj, False))
                if state:
                    return _PARAM_STATE, (inner, obj.requires_grad,
                                          collections.OrderedDict(), dict(state))
                return _PARAM, (inner, obj.requires_grad, collections.OrderedDict())
            func, args = self._tensor_reduce(obj, bool(obj.requires_grad))
            if type(obj) is Tensor and not state:
                return func, args
            new_type = _TENSOR if type(obj) is Tensor else type(obj)
            return _FROM_TYPE, (func, new_type, args, dict(state))
        t = type(obj)
        if t is _PlainTensor:
            return obj.reduced
        if t is Size:
            return _SIZE, (tuple(obj),)
        if t is _device.device:
            args = (obj.type,) if obj.index is None else (obj.type, obj.index)
            return _DEVICE, args
        return NotImplemented
