"""Operand preparation shared by the op families: scalars to tensors, PyTorch's dtype
promotion, device checks and gradient un-broadcasting."""

from __future__ import annotations

import functools

import numpy as np

from .. import _dtype, _float8
from .._dtype import _FROM_NP, result_type_from, scalar_dtype
from .._tensor import Tensor
from .op import Op

__all__ = ["binary_operands", "to_float", "unbroadcast", "cast", "as_tensor_arg",
           "check_same_device", "special_module"]

_ndarray = np.ndarray
_FLOAT8 = frozenset(d.np for d in _dtype._FLOAT8_TYPES)


_C_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int",
            "int64": "int64_t"}


def checked_int_scalar(v, dt):
    """A Python number as PyTorch converts it to integer numpy dtype ``dt``: values in its
    range (for an unsigned type also negative ints down to -max, which wrap: -1 is 255 in
    uint8); others raise RuntimeError. Meant for the slow path after numpy refused a value,
    and for float fills (inf/NaN) of integer tensors."""
    info = np.iinfo(dt)
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        v = int(v)
        if info.min <= v <= info.max:
            return v
        if info.min == 0 and -info.max <= v < 0:
            return v + info.max + 1
    elif isinstance(v, (float, np.floating)) and info.min <= v <= info.max:  # not inf/NaN
        return v
    raise RuntimeError(f"value cannot be converted to type {_C_NAMES.get(dt.name, dt.name)} "
                       "without overflow")


class ToDtype(Op):
    """Differentiable dtype conversion; the gradient is cast back to the input's dtype."""

    _name = "to_copy"

    def forward(self, x):
        self.src = x.dtype
        if self.dst in _FLOAT8:  # PyTorch's saturating / sign-free float8 conversions
            return _float8.astype(_xp(x), x, self.dst)
        if hasattr(x, "__cuda_array_interface__"):  # pragma: no cover - cuda
            return _astype_on_gpu(x, np.dtype(self.dst))
        return x.astype(self.dst)

    def backward(self, g):
        src = _FROM_NP[self.src]
        if not (src.is_floating_point or src.is_complex):
            return None
        if g.is_complex() and not src.is_complex:
            g = g.real
        return cast(g, src)


def _astype_on_gpu(x, dst):  # pragma: no cover - cuda
    """``x.astype(dst)`` for a CuPy array, with the CPU's results where a GPU's differ."""
    if dst.kind in "iu" and dst.itemsize < 8 and x.dtype.kind == "f":
        # GPUs saturate float -> narrow int; the CPU (and PyTorch there) truncates to a wide
        # integer and wraps, which going through int64 reproduces
        return x.astype(np.int64).astype(dst)
    if dst == np.float64 and x.dtype == np.float32:
        from .number import widen_exactly

        return widen_exactly(_xp(x), x)  # CuPy's float32 kernels flush subnormals
    return x.astype(dst)


def cast(t: Tensor, d) -> Tensor:
    """``t`` converted to dtype ``d`` (``t`` itself when it already has it)."""
    npd = d.np if isinstance(d, _dtype.dtype) else d
    if t._data.dtype == npd:
        return t
    return ToDtype.apply(t, dst=npd)


def _scalar_tensor(value, d: _dtype.dtype, like: Tensor) -> Tensor:
    data = like._data
    xp = np if type(data) is _ndarray else _xp(data)
    try:
        arr = xp.asarray(value, dtype=d.np)
    except OverflowError:
        arr = xp.asarray(np.array(value).astype(d.np))
    return Tensor._make(arr)


def _xp(arr):
    from .op import xp_of

    return xp_of(arr)


def check_same_device(a: Tensor, b: Tensor, op: str = "") -> None:
    """Raises as PyTorch does when two tensors live on different devices (a 0-dim CPU tensor
    may join a CUDA one)."""
    if type(a._data) is type(b._data):
        if type(a._data) is _ndarray:
            return
        if a.device == b.device:
            return
    elif a.device == b.device:  # (e.g. a numpy subclass: a lazy module's unset parameter)
        return
    for x in (a, b):
        if x.ndim == 0 and type(x._data) is _ndarray:
            return
    raise RuntimeError(
        "Expected all tensors to be on the same device, but found at least two devices, "
        f"{a.device} and {b.device}!" + (f" (in {op})" if op else ""))


def as_tensor_arg(x, like: Tensor | None = None) -> Tensor:
    """Converts an op argument (array, list, number) to a Tensor on ``like``'s device."""
    if isinstance(x, Tensor):
        return x
    from .._creation import tensor

    dev = like.device if like is not None else None
    return tensor(x, device=dev)


def binary_operands(a, b, op: str = ""):
    """Both operands as Tensors of PyTorch's result dtype (scalars become 0-dim tensors)."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            da = a._data.dtype
            db = b._data.dtype
            if type(a._data) is not type(b._data) or (type(a._data) is not _ndarray):
                check_same_device(a, b, op)
            if da == db:
                return a, b
            rd = _result_tensors(a, b)
            return cast(a, rd), cast(b, rd)
        d = a._data.dtype
        if (type(b) is float or type(b) is int) and d.kind == "f" and d.itemsize >= 4 and \
                type(a._data) is _ndarray:
            # (the common ``x / 8.0``: a float32/64 tensor keeps its dtype)
            return a, Tensor._make(np.asarray(b, dtype=d))
        if isinstance(b, (np.ndarray, list, tuple)):
            return binary_operands(a, as_tensor_arg(b, a), op)
        rd = _result_scalar(a, b)
        return cast(a, rd), _scalar_tensor(b, rd, a)
    if isinstance(b, Tensor):
        if isinstance(a, (np.ndarray, list, tuple)):
            return binary_operands(as_tensor_arg(a, b), b, op)
        rd = _result_scalar(b, a)
        return _scalar_tensor(a, rd, b), cast(b, rd)
    raise TypeError(f"{op}: expected at least one Tensor argument, got {type(a).__name__} and "
                    f"{type(b).__name__}")


def _result_tensors(a: Tensor, b: Tensor) -> _dtype.dtype:
    da = _FROM_NP[a._data.dtype]
    db = _FROM_NP[b._data.dtype]
    dim = zero = None
    for t, d in ((a, da), (b, db)):
        if t._data.ndim:
            dim = d if dim is None else _dtype.promote_types(dim, d)
        else:
            zero = d if zero is None else _dtype.promote_types(zero, d)
    return result_type_from(dim, zero, None)


def _result_scalar(t: Tensor, s) -> _dtype.dtype:
    if not isinstance(s, (bool, int, float, complex, np.generic)):
        raise TypeError(f"unsupported operand type {type(s).__name__} for a Tensor op")
    if isinstance(s, np.generic):
        s = s.item()
    d = _FROM_NP[t._data.dtype]
    if t._data.ndim:
        return result_type_from(d, None, scalar_dtype(s))
    return result_type_from(None, d, scalar_dtype(s))


def to_float(t: Tensor) -> Tensor:
    """Integer and bool tensors promoted to the default float dtype (for exp, sqrt, ...)."""
    k = t._data.dtype.kind
    if k == "f" or k == "c" or t._data.dtype == _BF16:
        return t
    return cast(t, _dtype.get_default_dtype())


_BF16 = _dtype.bfloat16.np if _dtype.bfloat16 is not None else None


def unbroadcast(g: Tensor, shape) -> Tensor:
    """Sums gradient ``g`` down to ``shape`` (undoing broadcasting)."""
    gs = g._data.shape
    if gs == tuple(shape):
        return g
    nd = len(gs) - len(shape)
    dims = list(range(nd))
    for i, s in enumerate(shape):
        if s == 1 and gs[nd + i] != 1:
            dims.append(nd + i)
    if dims:
        g = g.sum(dim=tuple(dims), keepdim=True)
    if nd:
        g = g.reshape(shape)
    return g


def special_module(arr):
    """scipy.special for numpy arrays, cupyx.scipy.special for cupy arrays (lazily)."""
    if type(arr) is _ndarray or isinstance(arr, np.generic):
        import scipy.special

        return scipy.special
    import cupyx.scipy.special  # pragma: no cover - cuda

    return cupyx.scipy.special


def accepts_axis(fn):
    """Decorates a function with a ``dim`` argument so that NumPy's spelling ``axis=`` works
    too, as PyTorch's argument parser allows (``torch.stack(ts, axis=1)``)."""

    @functools.wraps(fn)
    def run(*args, axis=None, **kwargs):
        if axis is not None:
            if "dim" in kwargs:
                raise TypeError(f"{fn.__name__}() got multiple values for argument 'dim'")
            kwargs["dim"] = axis
        return fn(*args, **kwargs)

    return run
