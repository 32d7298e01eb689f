"""Comparison, logical and bitwise ops (not differentiable; results are bool or integer)."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ._prep import binary_operands
from .op import Op, xp_of

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
           "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "isnan",
           "isinf", "isfinite", "equal", "allclose", "isclose", "bitwise_left_shift",
           "bitwise_right_shift", "isreal", "isposinf", "isneginf", "signbit", "greater",
           "greater_equal", "less", "less_equal", "not_equal", "isin"]


def _binary_cmp(name: str, fn, doc: str, integral_only: bool = False):
    cls = type(name.capitalize(), (Op,), {"_name": name, "differentiable": False,
                                         "forward": lambda self, a, b: fn(xp_of(a), a, b)})

    def op(input, other, *, out=None) -> Tensor:
        a, b = binary_operands(input, other, name)
        if integral_only and a._data.dtype.kind not in "iub":
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for "
                                      f"'{_pt_name(a.dtype)}'")
        r = cls.apply(a, b)
        if out is not None:
            from .shape import resize_out

            return resize_out(out, r)
        return r

    op.__name__ = name
    op.__doc__ = doc
    return op


eq = _binary_cmp("eq", lambda xp, a, b: a == b, "Elementwise ``input == other``.")
ne = _binary_cmp("ne", lambda xp, a, b: a != b, "Elementwise ``input != other``.")
lt = _binary_cmp("lt", lambda xp, a, b: a < b, "Elementwise ``input < other``.")
le = _binary_cmp("le", lambda xp, a, b: a <= b, "Elementwise ``input <= other``.")
gt = _binary_cmp("gt", lambda xp, a, b: a > b, "Elementwise ``input > other``.")
ge = _binary_cmp("ge", lambda xp, a, b: a >= b, "Elementwise ``input >= other``.")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
logical_and = _binary_cmp("logical_and", lambda xp, a, b: xp.logical_and(a, b),
                          "Elementwise logical AND of the truth values.")
logical_or = _binary_cmp("logical_or", lambda xp, a, b: xp.logical_or(a, b),
                         "Elementwise logical OR of the truth values.")
logical_xor = _binary_cmp("logical_xor", lambda xp, a, b: xp.logical_xor(a, b),
                          "Elementwise logical XOR of the truth values.")
bitwise_and = _binary_cmp("bitwise_and", lambda xp, a, b: a & b,
                          "Bitwise AND of integer or bool tensors.", integral_only=True)
bitwise_or = _binary_cmp("bitwise_or", lambda xp, a, b: a | b,
                         "Bitwise OR of integer or bool tensors.", integral_only=True)
bitwise_xor = _binary_cmp("bitwise_xor", lambda xp, a, b: a ^ b,
                          "Bitwise XOR of integer or bool tensors.", integral_only=True)


def _pt_name(d) -> str:
    """PyTorch's scalar-type name of a dtype (as its error messages print it)."""
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
            "uint8": "Byte", "bool": "Bool", "float32": "Float", "float64": "Double",
            "float16": "Half", "bfloat16": "BFloat16", "complex64": "ComplexFloat",
            "complex128": "ComplexDouble"}.get(d.name, d.name)


def _unary_pred(name: str, fn, doc: str):
    cls = type(name.capitalize(), (Op,), {"_name": name, "differentiable": False,
                                         "forward": lambda self, x: fn(xp_of(x), x)})

    def op(input: Tensor) -> Tensor:
        return cls.apply(input)

    op.__name__ = name
    op.__doc__ = doc
    return op


logical_not = _unary_pred("logical_not", lambda xp, x: xp.logical_not(x),
                          "Elementwise logical NOT.")
isnan = _unary_pred("isnan", lambda xp, x: xp.isnan(x), "True where the value is NaN.")
isinf = _unary_pred("isinf", lambda xp, x: xp.isinf(x), "True where the value is +/-inf.")
isfinite = _unary_pred("isfinite", lambda xp, x: xp.isfinite(x),
                       "True where the value is neither inf nor NaN.")
isposinf = _unary_pred("isposinf", lambda xp, x: xp.isposinf(x), "True where +inf.")
isneginf = _unary_pred("isneginf", lambda xp, x: xp.isneginf(x), "True where -inf.")
signbit = _unary_pred("signbit", lambda xp, x: xp.signbit(x), "True where the sign bit is set.")


def _bitwise_not_fn(xp, x):
    if x.dtype.kind not in "iub":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return ~x


bitwise_not = _unary_pred("bitwise_not", _bitwise_not_fn, "Bitwise NOT.")


def equal(input: Tensor, other: Tensor) -> bool:
    """True if both tensors have the same shape and elements."""
    if input.shape != other.shape:
        return False
    return bool(eq(input, other).all().item())


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """Elementwise ``|input - other| <= atol + rtol * |other|``."""
    if isinstance(input, Tensor) and isinstance(other, Tensor) and input.dtype != other.dtype:
        raise RuntimeError(f"{_pt_name(input.dtype)} did not match {_pt_name(other.dtype)}")
    if rtol < 0 or atol < 0:
        which, v = ("rtol", rtol) if rtol < 0 else ("atol", atol)
        raise RuntimeError(f"{which} must be greater than or equal to zero, but got {v}")
    a, b = binary_operands(input, other, "isclose")
    xp = xp_of(a._data)
    return Tensor._make(np.asarray(xp.isclose(a._data, b._data, rtol=rtol, atol=atol,
                                              equal_nan=equal_nan))
                        if xp is np else xp.isclose(a._data, b._data, rtol=rtol, atol=atol,
                                                    equal_nan=equal_nan))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True if every element is close (see ``isclose``)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all().item())


def _shift(xp, a, b, left: bool):
    """Shifts with PyTorch's results for out-of-range counts (negative or at least the bit
    width: 0, or the sign fill for a right shift)."""
    bits = a.dtype.itemsize * 8
    if b.size == 0 or (0 <= int(b.min()) and int(b.max()) < bits):  # the common case
        return xp.left_shift(a, b) if left else xp.right_shift(a, b)
    big = (b < 0) | (b >= bits)
    s = xp.where(big, 0, b).astype(a.dtype, copy=False)
    if left:
        return xp.where(big, a.dtype.type(0), xp.left_shift(a, s))
    r = xp.right_shift(a, s)
    fill = xp.where(a < 0, a.dtype.type(-1), a.dtype.type(0)) if a.dtype.kind == "i" else \
        a.dtype.type(0)
    return xp.where(big, fill, r)


def _shift_fn(xp, a, b, left):
    if a.dtype == np.bool_:  # bools shift as uint8 would, then come back as bool in torch
        a = a.astype(np.uint8)
        b = b.astype(np.uint8) if hasattr(b, "astype") else b
    return _shift(xp, a, b, left)


bitwise_left_shift = _binary_cmp("bitwise_left_shift",
                                 lambda xp, a, b: _shift_fn(xp, a, b, True),
                                 "``input << other`` on integer tensors.", integral_only=True)
bitwise_right_shift = _binary_cmp("bitwise_right_shift",
                                  lambda xp, a, b: _shift_fn(xp, a, b, False),
                                  "``input >> other`` (arithmetic) on integer tensors.",
                                  integral_only=True)


def isreal(input: Tensor) -> Tensor:
    """True where the value has no imaginary part (everywhere for real dtypes)."""
    xp = xp_of(input._data)
    if input._data.dtype.kind != "c":
        return Tensor._make(xp.ones(input._data.shape, dtype=bool))
    return Tensor._make(input._data.imag == 0)


class Isin(Op):
    _name = "isin"
    differentiable = False

    def forward(self, a, b):
        return xp_of(a).isin(a, b, assume_unique=self.assume_unique, invert=self.invert)


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False,
         out=None) -> Tensor:
    """True where an element of ``elements`` is among ``test_elements`` (either may be a
    number; both are compared in their promoted dtype). ``invert`` negates the result."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError(f"isin(): expected at least one Tensor argument, got "
                        f"{type(elements).__name__} and {type(test_elements).__name__}")
    for v in (elements, test_elements):
        if isinstance(v, (list, tuple)):
            raise TypeError(f"isin(): expected a Tensor or a number, got {type(v).__name__}")
        if (isinstance(v, Tensor) and v._data.dtype.kind in "bc") or isinstance(v, complex):
            name = _pt_name(v.dtype) if isinstance(v, Tensor) else "ComplexDouble"
            raise RuntimeError(f"Unsupported input type encountered for isin(): {name}")
    a, b = binary_operands(elements, test_elements, "isin")
    r = Isin.apply(a, b, assume_unique=bool(assume_unique), invert=bool(invert))
    if out is not None:
        from .shape import resize_out

        return resize_out(out, r)
    return r
