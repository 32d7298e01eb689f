"""Storages read from a checkpoint, and the functions that rebuild tensors on them.

A checkpoint's pickle names PyTorch's rebuild functions (``torch._utils._rebuild_tensor_v2``
and friends); the unpicklers map those names to the functions here, which build ember
Tensors as numpy views of one flat array per storage. Views of one storage share memory,
as they did in the saved program. Tensors bound for a CUDA device are built on the CPU and
moved once the whole file has been read (``LoadContext.finish``), one copy per storage.
"""

from __future__ import annotations

import threading

import numpy as np

from .. import _device, _dtype
from .._tensor import Tensor

# PyTorch's legacy typed-storage classes, by the ember dtype they hold.
STORAGE_NAMES = {
    "float64": "DoubleStorage", "float32": "FloatStorage", "float16": "HalfStorage",
    "int64": "LongStorage", "int32": "IntStorage", "int16": "ShortStorage",
    "int8": "CharStorage", "uint8": "ByteStorage", "bool": "BoolStorage",
    "bfloat16": "BFloat16Storage", "complex128": "ComplexDoubleStorage",
    "complex64": "ComplexFloatStorage",
}

# torch dtype names (and aliases) that ember can represent.
TORCH_DTYPE_NAMES = {
    "float32": "float32", "float": "float32", "float64": "float64", "double": "float64",
    "float16": "float16", "half": "float16", "bfloat16": "bfloat16", "int64": "int64",
    "long": "int64", "int32": "int32", "int": "int32", "int16": "int16", "short": "int16",
    "int8": "int8", "uint8": "uint8", "bool": "bool", "complex64": "complex64",
    "cfloat": "complex64", "complex128": "complex128", "cdouble": "complex128",
    "uint16": "uint16", "uint32": "uint32", "uint64": "uint64",
    "float8_e5m2": "float8_e5m2", "float8_e4m3fn": "float8_e4m3fn",
    "float8_e5m2fnuz": "float8_e5m2fnuz", "float8_e4m3fnuz": "float8_e4m3fnuz",
    "float8_e8m0fnu": "float8_e8m0fnu",
}

# torch dtypes a checkpoint may name that ember has no counterpart for.
UNSUPPORTED_TORCH_DTYPES = (
    "complex32", "chalf", "float4_e2m1fn_x2", "qint8", "qint32", "quint8",
    "quint4x2", "quint2x4", "bits8", "bits16", "bits1x8", "bits2x4", "bits4x2",
    *(f"uint{i}" for i in range(1, 8)), *(f"int{i}" for i in range(1, 8)),
)


class CheckpointError(RuntimeError):
    """A checkpoint that is truncated, corrupted or not understood (raised inside the
    readers; ``ember.load`` re-raises it naming the file)."""


class StorageType:
    """What a pickled ``torch.FloatStorage`` (or ``torch.UntypedStorage``) stands for."""

    __slots__ = ("name", "np")

    def __init__(self, name: str, np_dtype):
        self.name = name
        self.np = np.dtype(np_dtype)

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __call__(self, *args, **kwargs):
        raise CheckpointError(f"ember cannot construct torch.{self.name} directly")


def storage_types() -> dict[str, StorageType]:
    """``{'FloatStorage': StorageType, ..., 'UntypedStorage': ...}``."""
    out = {name: StorageType(name, _dtype._BY_NAME[d].np) for d, name in STORAGE_NAMES.items()
           if d in _dtype._BY_NAME}
    out["UntypedStorage"] = StorageType("UntypedStorage", np.uint8)
    return out


class UnsupportedDtype:
    """A torch dtype named in a checkpoint that ember cannot represent; using it to
    rebuild a tensor raises."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class LoadedStorage:
    """One storage of a checkpoint: a flat array (``array``) and the device it goes to.

    ``map_location`` callables receive it as ``storage``; ``storage.cpu()``,
    ``storage.cuda(i)`` and ``storage.to(device)`` choose the target device.
    """

    __slots__ = ("key", "array", "location", "device", "_typed")

    def __init__(self, key: str, array: np.ndarray, location: str):
        self.key = key
        self.array = array  # flat, of the storage's element type
        self.location = location
        self.device = None  # the target ember device, set by the reader
        self._typed: dict = {}

    @property
    def dtype(self):
        """The ember dtype of the stored elements (uint8 for untyped storages)."""
        return _dtype.from_numpy_dtype(self.array.dtype)

    def nbytes(self) -> int:
        """The storage's size in bytes."""
        return int(self.array.nbytes)

    def size(self) -> int:
        """The number of stored elements."""
        return int(self.array.size)

    __len__ = size

    def to(self, device) -> LoadedStorage:
        """Sends the storage (and its tensors) to ``device``; returns it."""
        self.device = _device.device(str(device))
        return self

    def cpu(self) -> LoadedStorage:
        """``to('cpu')``."""
        return self.to("cpu")

    def cuda(self, device=None) -> LoadedStorage:
        """``to('cuda:<device>')`` (device 0 by default)."""
        if device is None:
            return self.to("cuda:0")
        return self.to(device if not isinstance(device, int) else f"cuda:{device}")

    def typed(self, np_dtype) -> np.ndarray:
        """The flat array reinterpreted as ``np_dtype`` (the storage may be untyped bytes)."""
        np_dtype = np.dtype(np_dtype)
        if np_dtype == self.array.dtype:
            return self.array
        arr = self._typed.get(np_dtype)
        if arr is None:
            if self.array.nbytes % np_dtype.itemsize:
                raise CheckpointError(f"storage {self.key} holds {self.array.nbytes} bytes, "
                                      f"not a whole number of {np_dtype} elements")
            arr = self._typed[np_dtype] = self.array.view(np_dtype)
        return arr

    def __repr__(self) -> str:
        return f"LoadedStorage(key={self.key!r}, dtype={self.array.dtype}, size={self.size()})"


def _ints(values, what: str) -> tuple:
    try:
        out = tuple(int(v) for v in values)
    except (TypeError, ValueError):
        raise CheckpointError(f"tensor {what} {values!r} is not a tuple of integers") from None
    return out


def strided_view(flat: np.ndarray, offset, size, stride) -> np.ndarray:
    """A view of ``flat`` (1-D) with PyTorch's offset/size/stride (in elements), checked
    to stay inside ``flat``."""
    size = _ints(size, "size")
    stride = _ints(stride, "stride")
    try:
        offset = int(offset)
    except (TypeError, ValueError):
        raise CheckpointError(f"tensor storage offset {offset!r} is not an integer") from None
    if len(size) != len(stride):
        raise CheckpointError(f"tensor size {size} and stride {stride} differ in length")
    if offset < 0 or any(n < 0 for n in size) or any(s < 0 for s in stride):
        raise CheckpointError(f"negative tensor offset/size/stride: offset {offset}, size "
                              f"{size}, stride {stride}")
    numel = flat.size
    empty = any(n == 0 for n in size)
    if empty:
        if offset > numel:
            raise CheckpointError(f"tensor storage offset {offset} is past the end of its "
                                  f"storage ({numel} elements)")
        offset = 0
    else:
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= numel:
            raise CheckpointError(
                f"tensor (offset {offset}, size {list(size)}, stride {list(stride)}) reaches "
                f"element {last} of a storage of {numel} elements")
    item = flat.itemsize
    return np.ndarray(size, dtype=flat.dtype, buffer=flat, offset=offset * item,
                      strides=tuple(s * item for s in stride))


def _apply_metadata(arr, metadata):
    if metadata:
        if metadata.get("conj"):
            arr = arr.conj()
        if metadata.get("neg"):
            arr = -arr
    return arr


def _check_storage(storage, fn: str) -> LoadedStorage:
    if not isinstance(storage, LoadedStorage):
        raise CheckpointError(f"{fn}: expected a storage, got {type(storage).__name__}")
    return storage


class LoadContext:
    """The tensors rebuilt by one load, so that they can be moved to their device at the
    end. Readers enter it around unpickling (``with LoadContext() as ctx``)."""

    _tls = threading.local()

    def __init__(self):
        self.views: dict = {}  # id(tensor) -> [tensor, storage, dtype, offset, size, stride, meta]

    def __enter__(self) -> LoadContext:
        stack = getattr(self._tls, "stack", None)
        if stack is None:
            stack = self._tls.stack = []
        stack.append(self)
        return self

    def __exit__(self, *exc) -> None:
        self._tls.stack.pop()

    @classmethod
    def current(cls, required: bool = True) -> LoadContext | None:
        """The innermost load in progress in this thread."""
        stack = getattr(cls._tls, "stack", None)
        if not stack:
            if not required:
                return None
            raise CheckpointError("tensor rebuild functions run only inside ember.load")
        return stack[-1]

    def retarget(self, old: Tensor, new: Tensor) -> None:
        """``new`` wraps ``old``'s array (a Parameter): device moves must reach it."""
        entry = self.views.pop(id(old), None)
        if entry is not None:
            entry[0] = new
            self.views[id(new)] = entry

    def finish(self) -> None:
        """Moves the tensors bound for CUDA to their device, one copy per storage."""
        moved: dict = {}
        for entry in self.views.values():
            t, storage, np_dtype, offset, size, stride, metadata = entry
            dev = storage.device
            if dev is None or dev.type == "cpu":
                continue
            if dev.type == "meta":
                from .._meta import to_meta

                t._data = to_meta(t._data)
                continue
            t._data = _to_cuda_view(storage, dev, moved, np_dtype, offset, size, stride,
                                    metadata)


def _to_cuda_view(storage, dev, moved, np_dtype, offset, size, stride, metadata):
    cp = _device.cupy_module()  # raises a clear error without CUDA
    with cp.cuda.Device(dev.index or 0):  # pragma: no cover - cuda
        flat = moved.get(id(storage))
        if flat is None:
            flat = moved[id(storage)] = cp.asarray(storage.array)
        f = flat if np_dtype == flat.dtype else flat.view(np_dtype)
        item = f.itemsize
        arr = cp.ndarray(tuple(int(n) for n in size), dtype=f.dtype,
                         memptr=f.data + int(offset) * item,
                         strides=tuple(int(x) * item for x in stride))
        return _apply_metadata(arr, metadata)


def _build(storage, np_dtype, offset, size, stride, requires_grad, metadata=None) -> Tensor:
    flat = storage.typed(np_dtype)
    arr = _apply_metadata(strided_view(flat, offset, size, stride), metadata)
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad = True
    LoadContext.current().views[id(t)] = [t, storage, np_dtype, offset, size, stride,
                                          metadata]
    return t


def rebuild_tensor(storage, storage_offset, size, stride):
    """``torch._utils._rebuild_tensor``."""
    s = _check_storage(storage, "_rebuild_tensor")
    return _build(s, s.array.dtype, storage_offset, size, stride, False)


def rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                      metadata=None):
    """``torch._utils._rebuild_tensor_v2``: a tensor viewing ``storage``."""
    s = _check_storage(storage, "_rebuild_tensor_v2")
    return _build(s, s.array.dtype, storage_offset, size, stride, requires_grad, metadata)


def rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                      dtype, metadata=None):
    """``torch._utils._rebuild_tensor_v3``: like v2, with the dtype given explicitly (for
    tensors stored in an untyped storage, e.g. uint16)."""
    s = _check_storage(storage, "_rebuild_tensor_v3")
    if isinstance(dtype, UnsupportedDtype) or not isinstance(dtype, _dtype.dtype):
        raise CheckpointError(f"tensor dtype {dtype!r} is not supported by ember")
    return _build(s, dtype.np, storage_offset, size, stride, requires_grad, metadata)


def parameter_class():
    """``ember.nn.Parameter`` when ember.nn provides it, else None."""
    try:
        from ..nn import Parameter
    except ImportError:
        return None
    return Parameter


def _as_parameter(data, requires_grad):
    if not isinstance(data, Tensor):
        raise CheckpointError(f"_rebuild_parameter: expected a tensor, got "
                              f"{type(data).__name__}")
    P = parameter_class()
    if P is None:
        data.requires_grad = bool(requires_grad)
        return data
    p = P(data, bool(requires_grad))
    ctx = LoadContext.current(required=False)
    if ctx is not None:
        ctx.retarget(data, p)
    return p


class ParameterType:
    """What ``torch.nn.parameter.Parameter`` stands for in a weights-only load: calling it
    (or NEWOBJ) makes an ``ember.nn.Parameter``."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from .._creation import empty

            data = empty(0)
        return _as_parameter(data, requires_grad)


def rebuild_parameter(data, requires_grad, backward_hooks):
    """``torch._utils._rebuild_parameter``: an ``ember.nn.Parameter`` (a plain tensor when
    ember.nn is unavailable)."""
    return _as_parameter(data, requires_grad)


def set_obj_state(obj, state):
    """Restores Python attributes saved with a tensor (``torch._utils._set_obj_state``)."""
    if isinstance(state, tuple):
        if len(state) != 2:
            raise CheckpointError(f"invalid tensor state {state!r}")
        dict_state, slots_state = state
    else:
        dict_state, slots_state = state, None
    for part in (dict_state, slots_state):
        if part:
            if not isinstance(part, dict):
                raise CheckpointError(f"invalid tensor state {part!r}")
            for k, v in part.items():
                if not isinstance(k, str):
                    raise CheckpointError(f"invalid tensor attribute name {k!r}")
                setattr(obj, k, v)
    return obj


def rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    """``torch._utils._rebuild_parameter_with_state``."""
    return set_obj_state(_as_parameter(data, requires_grad), state)


def rebuild_device_tensor_from_cpu_tensor(data, dtype, device, requires_grad):
    """``torch._utils._rebuild_device_tensor_from_cpu_tensor`` (the data stays where the
    checkpoint's storages are mapped)."""
    if not isinstance(data, Tensor):
        raise CheckpointError("_rebuild_device_tensor_from_cpu_tensor: expected a tensor")
    data.requires_grad = bool(requires_grad)
    return data


def rebuild_meta_tensor_no_storage(dtype, size, stride, requires_grad):
    """``torch._utils._rebuild_meta_tensor_no_storage``: a tensor on the meta device (a
    shape and a dtype, no data)."""
    from .._meta import meta_array

    if isinstance(dtype, UnsupportedDtype) or not isinstance(dtype, _dtype.dtype):
        raise CheckpointError(f"tensor dtype {dtype!r} is not supported by ember")
    size = _ints(size, "size")
    if any(n < 0 for n in size):
        raise CheckpointError(f"negative meta tensor size {size}")
    t = Tensor._make(meta_array(size, dtype.np))
    if requires_grad:
        t.requires_grad = True
    return t


_REBUILDERS = (rebuild_tensor, rebuild_tensor_v2, rebuild_tensor_v3, rebuild_parameter,
               rebuild_parameter_with_state, rebuild_device_tensor_from_cpu_tensor,
               rebuild_meta_tensor_no_storage)


def rebuild_from_type_v2(func, new_type, args, state):
    """``torch._tensor._rebuild_from_type_v2``: a tensor with Python attributes, or of a
    Tensor subclass."""
    if func not in _REBUILDERS:
        raise CheckpointError(f"_rebuild_from_type_v2: {func!r} is not a tensor rebuild "
                              "function")
    if not isinstance(args, tuple):
        raise CheckpointError("_rebuild_from_type_v2: args must be a tuple")
    ret = func(*args)
    if new_type is ParameterType:
        ret = _as_parameter(ret, ret.requires_grad)
    elif isinstance(new_type, type) and issubclass(new_type, Tensor) and \
            not isinstance(ret, new_type):
        P = parameter_class()
        if P is not None and issubclass(new_type, P):
            ret = _as_parameter(ret, ret.requires_grad)
        else:
            new = new_type.__new__(new_type)
            Tensor._init(new, ret._data, ret.requires_grad)
            LoadContext.current().retarget(ret, new)
            ret = new
    return set_obj_state(ret, state)


def unsupported_rebuild(kind: str):
    """A stand-in for PyTorch rebuild functions of tensors ember cannot represent."""

    def rebuild(*args, **kwargs):
        raise CheckpointError(f"the checkpoint holds a {kind} tensor, which ember does not "
                              "support")

    rebuild.__name__ = f"_rebuild_{kind.replace(' ', '_')}"
    return rebuild


def get_layout(name):
    """``torch.serialization._get_layout``: layouts are plain strings in ember."""
    return name if isinstance(name, str) else str(name)
