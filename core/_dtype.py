"""ember dtypes: PyTorch's names over numpy dtypes, and PyTorch's type-promotion rules.

A ``dtype`` object wraps one numpy dtype. ``bfloat16`` comes from the ``ml_dtypes`` package.
Promotion follows ``torch.result_type``: operands are ranked as dimensioned tensors,
zero-dimensional tensors and Python scalars ("wrapped numbers"); a lower rank only changes
the result when it brings a higher category (bool < integer < floating < complex).
"""

from __future__ import annotations

import math

import numpy as np

try:  # bfloat16 is optional: loaders still decode it to float32 without it
    import ml_dtypes as _ml_dtypes

    _BF16 = np.dtype(_ml_dtypes.bfloat16)
    _FLOAT8 = {name: np.dtype(getattr(_ml_dtypes, name)) for name in (
        "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz",
        "float8_e8m0fnu") if hasattr(_ml_dtypes, name)}
except ImportError:  # pragma: no cover - ml_dtypes is a declared dependency
    _BF16, _FLOAT8 = None, {}

__all__ = [
    "dtype", "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
    "float32", "float64", "complex32", "complex64", "complex128", "float8_e4m3fn", "float8_e5m2",
    "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "get_default_dtype",
    "set_default_dtype",
    "promote_types", "result_type", "can_cast", "finfo", "iinfo",
]

_py_bool = bool
_py_int = int
_py_float = float


class dtype:
    """A tensor element type, as ``torch.dtype``: ``ember.float32``, ``ember.long``, ..."""

    __slots__ = ("name", "np", "itemsize", "is_floating_point", "is_complex", "is_signed",
                 "_category")

    def __init__(self, name: str, np_dtype, category: int):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.is_floating_point = category == 2
        self.is_complex = category == 3
        self.is_signed = name not in ("uint8", "uint16", "uint32", "uint64", "bool")
        self._category = category  # 0 bool, 1 integer, 2 floating, 3 complex

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_real(self) -> dtype:
        """The real counterpart of a complex dtype (complex64 -> float32)."""
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    def to_complex(self) -> dtype:
        """The complex counterpart of a floating dtype (float32 -> complex64)."""
        return {"float16": complex64, "bfloat16": complex64, "float32": complex64,
                "float64": complex128}.get(self.name, self)


bool = dtype("bool", np.bool_, 0)  # noqa: A001 - PyTorch's name
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 1)
int16 = dtype("int16", np.int16, 1)
int32 = dtype("int32", np.int32, 1)
int64 = dtype("int64", np.int64, 1)
uint16 = dtype("uint16", np.uint16, 1)
uint32 = dtype("uint32", np.uint32, 1)
uint64 = dtype("uint64", np.uint64, 1)
float16 = dtype("float16", np.float16, 2)
bfloat16 = dtype("bfloat16", _BF16, 2) if _BF16 is not None else None
float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)
complex64 = dtype("complex64", np.complex64, 3)
complex128 = dtype("complex128", np.complex128, 3)
# 8-bit floats (ml_dtypes' encodings, bit for bit PyTorch's): storage and casts only, as in
# PyTorch, which promotes them with no other dtype
float8_e4m3fn, float8_e5m2, float8_e4m3fnuz, float8_e5m2fnuz, float8_e8m0fnu = (
    dtype(name, _FLOAT8[name], 2) if name in _FLOAT8 else None for name in (
        "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz",
        "float8_e8m0fnu"))
_FLOAT8_TYPES = frozenset(d for d in (float8_e4m3fn, float8_e5m2, float8_e4m3fnuz,
                                      float8_e5m2fnuz, float8_e8m0fnu) if d is not None)

# PyTorch's aliases
half = float16
float = float32  # noqa: A001
double = float64
short = int16
int = int32  # noqa: A001
long = int64
cfloat = complex64
cdouble = complex128
# complex32 (chalf) is declared, so that code naming it (dtype comparisons, membership tests)
# runs, but numpy has no complex half: nothing can be made with it (to_dtype raises)
complex32 = dtype("complex32", np.complex64, 3)
complex32.itemsize = 4
chalf = complex32

_ALL = [d for d in (bool, uint8, int8, int16, int32, int64, uint16, uint32, uint64, float16,
                    bfloat16, float32, float64, complex64, complex128) if d is not None] + \
    sorted(_FLOAT8_TYPES, key=lambda d: d.name)
_BY_NAME = {d.name: d for d in _ALL}
_FROM_NP = {d.np: d for d in _ALL}


def _dtype_by_name(name: str) -> dtype:
    return complex32 if name == "complex32" else _BY_NAME[name]


def from_numpy_dtype(np_dtype) -> dtype:
    """The ember dtype of a numpy dtype; raises TypeError for types PyTorch lacks."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        nd = np.dtype(np_dtype)
        if nd in _FROM_NP:
            return _FROM_NP[nd]
        raise TypeError(
            f"can't convert np.ndarray of type {nd}. The only supported types are: "
            "float64, float32, float16, bfloat16, complex64, complex128, int64, int32, int16, "
            "int8, uint8, and bool.") from None


def to_dtype(d) -> dtype:
    """Accepts an ember dtype, a numpy dtype/type, a torch-style string or a Python type."""
    if isinstance(d, dtype):
        if d is complex32:
            raise TypeError("ember has no complex32 (chalf) tensors: numpy has no complex "
                            "half type (use complex64)")
        return d
    if d is None:
        return _default_dtype
    if d is _py_float:
        return _default_dtype
    if d is _py_int:
        return int64
    if d is _py_bool:
        return bool
    if d is complex:
        return _default_dtype.to_complex()
    if isinstance(d, str):
        name = d.replace("torch.", "").replace("ember.", "")
        alias = {"float": "float32", "double": "float64", "half": "float16", "long": "int64",
                 "int": "int32", "short": "int16", "cfloat": "complex64",
                 "cdouble": "complex128"}
        name = alias.get(name, name)
        if name in _BY_NAME:
            return _BY_NAME[name]
        raise TypeError(f"unknown dtype {d!r}")
    name = getattr(d, "name", None)  # a torch.dtype-like object: torch.float32 -> 'float32'
    if isinstance(name, str) and name in _BY_NAME and not isinstance(d, np.dtype):
        return _BY_NAME[name]
    text = str(d)
    if text.startswith("torch."):
        return to_dtype(text)
    return from_numpy_dtype(np.dtype(d))


_default_dtype = float32


def get_default_dtype() -> dtype:
    """The default floating point dtype (initially ``ember.float32``)."""
    return _default_dtype


def set_default_dtype(d) -> None:
    """Sets the default floating point dtype; only float32 and float64 are supported,
    as in PyTorch (float16/bfloat16 are accepted too)."""
    global _default_dtype
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_dtype = d
    _RESULT_CACHE.clear()


_TORCH_NAMES = {"float8_e4m3fn": "Float8_e4m3fn", "float8_e5m2": "Float8_e5m2",
                "float8_e4m3fnuz": "Float8_e4m3fnuz", "float8_e5m2fnuz": "Float8_e5m2fnuz",
                "float8_e8m0fnu": "Float8_e8m0fnu", "float32": "Float", "float64": "Double",
                "float16": "Half", "bfloat16": "BFloat16", "int64": "Long", "int32": "Int",
                "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
                "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _promote_pair(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a in _FLOAT8_TYPES or b in _FLOAT8_TYPES:
        raise RuntimeError("Promotion for Float8 Types is not supported, attempted to promote "
                           f"{_TORCH_NAMES.get(a.name, a.name)} and "
                           f"{_TORCH_NAMES.get(b.name, b.name)}")
    if a._category != b._category:
        hi, lo = (a, b) if a._category > b._category else (b, a)
        if hi._category == 3 and lo._category == 2:  # complex with float keeps precision
            return complex128 if (lo is float64 or hi is complex128) else hi
        return hi
    if a._category == 2 and {a.name, b.name} == {"float16", "bfloat16"}:
        return float32
    if a._category == 2 and bfloat16 is not None and bfloat16 in (a, b):
        other = b if a is bfloat16 else a
        return other
    return _FROM_NP[np.promote_types(a.np, b.np)]


_PAIR_CACHE: dict = {}


def promote_types(a, b) -> dtype:
    """The smallest dtype to which both dtypes can be promoted (``torch.promote_types``)."""
    a, b = to_dtype(a), to_dtype(b)
    key = (a, b)
    r = _PAIR_CACHE.get(key)
    if r is None:
        r = _PAIR_CACHE[key] = _promote_pair(a, b)
    return r


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    """PyTorch's combine_categories: a lower-priority operand matters only when it brings
    a higher category."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher._category == 3:
        return higher
    if lower._category == 3:
        return higher.to_complex() if higher._category == 2 else lower
    if higher._category == 2:
        return higher
    if higher is bool or lower._category == 2:
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value) -> dtype:
    """The dtype a Python scalar takes when it stands alone (``torch.tensor(value)``)."""
    if isinstance(value, _py_bool):
        return bool
    if isinstance(value, _py_int):
        return int64
    if isinstance(value, complex):
        return _default_dtype.to_complex()
    return _default_dtype


_RESULT_CACHE: dict = {}


def result_type_from(dim: dtype | None, zero: dtype | None, wrapped: dtype | None) -> dtype:
    """Combines the promoted dtypes of dimensioned tensors, 0-dim tensors and scalars."""
    key = (dim, zero, wrapped)
    r = _RESULT_CACHE.get(key)
    if r is None:
        r = _RESULT_CACHE[key] = _combine(dim, _combine(zero, wrapped))
    return r


def result_type(*operands) -> dtype:
    """``torch.result_type`` over tensors and Python scalars. ember has no complex32: where
    PyTorch gives it (float16 with a complex 0-dim tensor or scalar), ember gives complex64."""
    dim = zero = wrapped = None
    for x in operands:
        d = getattr(x, "dtype", None)
        if isinstance(d, dtype):
            if x.ndim:
                dim = d if dim is None else promote_types(dim, d)
            else:
                zero = d if zero is None else promote_types(zero, d)
        else:
            s = scalar_dtype(x)
            wrapped = s if wrapped is None else _wrapped_max(wrapped, s)
    return result_type_from(dim, zero, wrapped)


def _wrapped_max(a: dtype, b: dtype) -> dtype:
    return a if a._category >= b._category else b


def can_cast(from_, to) -> bool:
    """Whether ``from_`` may be cast to ``to`` under PyTorch's casting rules (no category
    downgrade: float -> int and complex -> float are refused)."""
    a, b = to_dtype(from_), to_dtype(to)
    return a._category <= b._category


class finfo:
    """Machine limits for floating point dtypes, as ``torch.finfo``."""

    def __init__(self, type=None):  # noqa: A002 - PyTorch's name
        d = to_dtype(type)
        if not (d.is_floating_point or d.is_complex):
            raise TypeError(f"finfo: {d} is not a floating point dtype")
        d = d.to_real()
        info = (_ml_dtypes.finfo(d.np) if d is bfloat16 or d in _FLOAT8_TYPES
                else np.finfo(d.np))
        self.dtype = d.name
        self.bits = d.itemsize * 8
        self.eps = _py_float(info.eps)
        self.max = _py_float(info.max)
        self.min = _py_float(info.min)
        self.tiny = _py_float(info.tiny)
        self.smallest_normal = self.tiny
        # PyTorch's 10**-floor(-log10(eps)) as a Python float (numpy's is the nearest
        # value of the dtype itself, e.g. 9.99999997e-07 for float32)
        self.resolution = 10.0 ** -math.floor(-math.log10(self.eps))

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution}, min={self.min}, max={self.max}, "
                f"eps={self.eps}, smallest_normal={self.tiny}, tiny={self.tiny}, "
                f"dtype={self.dtype})")


class iinfo:
    """Machine limits for integer dtypes, as ``torch.iinfo``."""

    def __init__(self, type):  # noqa: A002
        d = to_dtype(type)
        if d._category > 1:
            raise TypeError(f"iinfo: {d} is not an integer dtype")
        info = np.iinfo(d.np) if d is not bool else None
        self.dtype = d.name
        self.bits = d.itemsize * 8
        self.max = _py_int(info.max) if info else 1
        self.min = _py_int(info.min) if info else 0

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
