"""Elementwise ops: arithmetic, powers, exponentials, activations' math, rounding.

Unary ops are declared with ``_unary``: a forward on arrays and a backward in ember ops that
receives the saved input (or output). Binary ops promote their operands first
(``binary_operands``) and un-broadcast their gradients.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from .._dtype import _FROM_NP
from .._tensor import Tensor
from ..autograd.grad_mode import _State
from . import _opmath, _parallel
from ._prep import (
    _result_scalar,
    binary_operands,
    cast,
    checked_int_scalar,
    special_module,
    to_float,
    unbroadcast,
)
from .op import FLOAT32_64, Op, graphless, xp_of

__all__ = [
    "add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "fmod", "pow",
    "neg", "exp", "log", "sqrt", "rsqrt", "abs", "sign", "sigmoid", "tanh", "erf", "sin", "cos",
    "relu", "clamp", "reciprocal", "square", "log1p", "expm1", "floor", "ceil", "round",
    "trunc", "minimum", "maximum", "where", "lerp", "addcmul", "addcdiv", "exp2", "log2",
    "log10", "erfc", "frac", "tan", "atan", "asin", "acos", "sinh", "cosh", "rsub", "atan2",
    "arctan2", "nan_to_num", "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh",
    "deg2rad", "rad2deg", "sinc", "logit", "hypot", "fmax", "fmin", "copysign", "logaddexp",
    "logaddexp2", "heaviside", "float_power",
]


def _conj(t: Tensor) -> Tensor:
    return t.conj() if t._data.dtype.kind == "c" else t


# -- binary arithmetic -------------------------------------------------------------------
def _add_arrays(a, b):
    """``a + b``, split over threads when both are large numpy arrays of one shape (residual
    adds, summed gradients)."""
    if type(a) is np.ndarray and a.shape == b.shape and a.dtype == b.dtype and \
            a.size >= 2 * _parallel.MIN_PART:
        out = np.empty(a.shape, a.dtype)
        if _parallel.flat_map(np.add, out, a, b):
            return out
    return a + b


def _graphless_binary(fn, a: Tensor, b: Tensor):
    """``fn(a, b)`` on the arrays of float32/float64 CPU operands of one dtype as a Tensor
    without a graph node when no graph is recorded (``op.graphless``: a decoding step's
    residual adds and score scaling); None otherwise, and for operands numpy cannot
    broadcast, whose error the op itself raises."""
    ad, bd = a._data, b._data
    if type(ad) is not np.ndarray or type(bd) is not np.ndarray or ad.dtype not in FLOAT32_64 \
            or bd.dtype != ad.dtype or not ad.ndim or not graphless():
        return None
    try:
        return Tensor._make(fn(ad, bd))
    except ValueError:
        return None


class Add(Op):
    _name = "add"
    opmath = True

    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        return _add_arrays(a, b)

    def backward(self, g):
        sa, sb = self.shapes
        return unbroadcast(g, sa), unbroadcast(g, sb)


class Sub(Op):
    _name = "sub"
    opmath = True

    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        return a - b

    def backward(self, g):
        sa, sb = self.shapes
        return unbroadcast(g, sa), unbroadcast(-g, sb)


class Mul(Op):
    _name = "mul"
    opmath = True
    save_inputs = (0, 1)

    def forward(self, a, b):
        return a * b

    def backward(self, g):
        if self._freed:
            self.saved_tensors  # noqa: B018 - raises the "backward a second time" error
        sa, sb = self._saved[0].shape, self._saved[1].shape  # shapes don't change in place
        ga = gb = None
        if self.next_functions[0][0]:
            ga = unbroadcast(g * _conj(self.saved_tensor(1)), sa)
        if self.next_functions[1][0]:
            gb = unbroadcast(g * _conj(self.saved_tensor(0)), sb)
        return ga, gb


class Div(Op):
    _name = "div"
    opmath = True
    save_inputs = (0, 1)

    def forward(self, a, b):
        return a / b

    def backward(self, g):
        b = self.saved_tensor(1)
        ga = gb = None
        if self.next_functions[0][0]:
            ga = unbroadcast(g / _conj(b), self.saved_tensor(0).shape)
        if self.next_functions[1][0]:
            gb = unbroadcast(-g * _conj(self.saved_tensor(0)) / _conj(b * b), b.shape)
        return ga, gb


class Pow(Op):
    _name = "pow"
    opmath = True
    save_inputs = (0, 1)

    def forward(self, a, b):
        if a.dtype.kind in "iu" and b.dtype.kind in "iu" and (b < 0).any():
            # numpy refuses negative integer powers; PyTorch gives 1 for a base of 1,
            # +-1 for -1 and 0 otherwise (an integer 1 / a**-b)
            xp = xp_of(a)
            neg = b < 0
            r = a ** xp.where(neg, 0, b)
            inv = xp.where(a == 1, 1, xp.where(a == -1, 1 - 2 * (b & 1), 0))
            return xp.where(neg, inv.astype(r.dtype), r)
        return a ** b

    def backward(self, g):
        a, b = self.saved_tensors
        ga = gb = None
        if self.next_functions[0][0]:
            ga = unbroadcast(where(b == 0, 0.0, g * b * a ** (b - 1)), a.shape)
        if self.next_functions[1][0]:
            gb = unbroadcast(where((a == 0) & (b >= 0), 0.0, g * (a ** b) * log(a)), b.shape)
        return ga, gb


class Maximum(Op):
    _name = "maximum"
    save_inputs = (0, 1)

    def forward(self, a, b):
        return xp_of(a).maximum(a, b)

    def backward(self, g):
        a, b = self.saved_tensors
        half = where(a == b, g / 2, g)
        return (unbroadcast(half.masked_fill(a < b, 0), a.shape),
                unbroadcast(half.masked_fill(b < a, 0), b.shape))


class Minimum(Op):
    _name = "minimum"
    save_inputs = (0, 1)

    def forward(self, a, b):
        return xp_of(a).minimum(a, b)

    def backward(self, g):
        a, b = self.saved_tensors
        half = where(a == b, g / 2, g)
        return (unbroadcast(half.masked_fill(a > b, 0), a.shape),
                unbroadcast(half.masked_fill(b > a, 0), b.shape))


def _check_int_divisor(b) -> None:
    """PyTorch's CPU kernels raise for an integer division by zero (numpy gives 0 and
    warns); on CUDA, as in PyTorch, nothing is checked (no device sync)."""
    if b.dtype.kind in "iub" and type(b) is np.ndarray and not b.all():
        raise RuntimeError("ZeroDivisionError")


class Remainder(Op):
    _name = "remainder"
    opmath = True
    save_inputs = (0, 1)

    def forward(self, a, b):
        _check_int_divisor(b)
        xp = xp_of(a)
        r = xp.remainder(a, b)
        if r.dtype.kind == "f":  # a zero keeps the dividend's sign, as C's fmod (PyTorch)
            r = xp.where(r == 0, xp.copysign(r, a), r)
        return r

    def backward(self, g):
        a, b = self.saved_tensors
        return unbroadcast(g, a.shape), unbroadcast(-g * floor_divide(a, b), b.shape)


class Fmod(Op):
    _name = "fmod"
    save_inputs = (0, 1)

    def forward(self, a, b):
        _check_int_divisor(b)
        return xp_of(a).fmod(a, b)

    def backward(self, g):
        a, b = self.saved_tensors
        return unbroadcast(g, a.shape), unbroadcast(-g * trunc(a / b), b.shape)


class FloorDivide(Op):
    """Division rounded down. As in PyTorch, a float result requires grad but has no
    derivative: backpropagating through it raises."""

    _name = "floor_divide"
    opmath = True

    def forward(self, a, b):
        _check_int_divisor(b)
        return xp_of(a).floor_divide(a, b)

    def backward(self, g):
        raise RuntimeError("derivative for floor_divide is not implemented")


class TruncDivide(Op):
    _name = "trunc_divide"
    opmath = True
    differentiable = False

    def forward(self, a, b):
        xp = xp_of(a)
        if a.dtype.kind in "iu":
            _check_int_divisor(b)
            q = xp.floor_divide(a, b)
            fix = (xp.remainder(a, b) != 0) & ((a < 0) != (b < 0))
            return q + fix.astype(q.dtype)
        return xp.trunc(a / b)


def add(input, other, *deprecated, alpha=1, out=None) -> Tensor:
    """``input + alpha * other`` with broadcasting and type promotion (PyTorch's deprecated
    ``add(input, alpha, other)`` order is accepted with its warning)."""
    if deprecated:
        alpha, other = _deprecated_scalar_first("add", other, deprecated, "alpha")
    if type(other) is not Tensor and getattr(other, "is_sparse", False) and \
            isinstance(input, Tensor):
        return _out(_add_sparse(input, other, alpha), out)
    if alpha != 1:
        _check_alpha(input, other, alpha)
        if _low_result(input, other, "add"):  # as PyTorch: alpha in the half type, the
            a, b = binary_operands(input, other, "add")  # sum in float32, rounded once
            h = _opmath.half_value(alpha, a._data.dtype)
            return _out(_opmath.in_float32(lambda p, q: add(p, q, alpha=h), a, b), out)
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    a, b = binary_operands(input, other, "add")
    if out is None:
        r = _graphless_binary(_add_arrays, a, b)
        if r is not None:
            return r
    return _out(Add.apply(a, b), out)


def _add_sparse(dense: Tensor, sparse, alpha) -> Tensor:
    """``dense + alpha * sparse`` for a sparse COO ``sparse``: a new dense tensor in the
    promoted dtype, as PyTorch (``eye(n) + adjacency`` in its GCN example)."""
    from ..sparse import add_dense

    dt = _dtype.promote_types(dense.dtype, sparse.dtype)
    return add_dense(dense if dense.dtype == dt else dense.to(dt), sparse, alpha)


def _low_result(input, other, op: str) -> bool:
    """Whether ``input op other`` promotes to float16/bfloat16."""
    if not any(isinstance(t, Tensor) and t._data.dtype.itemsize == 2 for t in (input, other)):
        return False
    return _opmath.low_dtype(binary_operands(input, other, op)[:1]) is not None


_WARNED_DEPRECATED: set = set()  # ops whose deprecated overload has warned


def _deprecated_scalar_first(op: str, scalar, rest: tuple, name: str):
    """PyTorch's deprecated overloads that put the scalar first (``add(input, alpha,
    other)``, ``addcmul(input, value, t1, t2)``): warns once per op, as PyTorch does, and
    returns ``(scalar, tensors)``."""
    n = 1 if op in ("add", "sub") else 2
    if isinstance(scalar, Tensor) or len(rest) != n:
        raise TypeError(f"{op}() received an invalid combination of arguments")
    if op not in _WARNED_DEPRECATED:
        import warnings

        _WARNED_DEPRECATED.add(op)
        tensors = "Tensor other" if n == 1 else "Tensor tensor1, Tensor tensor2"
        warnings.warn(f"This overload of {op} is deprecated:\n\t{op}(Number {name}, "
                      f"{tensors})\nConsider using one of the following signatures "
                      f"instead:\n\t{op}({tensors}, *, Number {name} = 1)", UserWarning,
                      stacklevel=3)
    return scalar, (rest[0] if n == 1 else rest)


def sub(input, other, *deprecated, alpha=1, out=None) -> Tensor:
    """``input - alpha * other`` (the deprecated ``sub(input, alpha, other)`` is accepted)."""
    if deprecated:
        alpha, other = _deprecated_scalar_first("sub", other, deprecated, "alpha")
    if getattr(other, "is_sparse", False) and isinstance(input, Tensor):
        return _out(_add_sparse(input, other, -alpha), out)
    if alpha != 1:
        _check_alpha(input, other, alpha)
        if _low_result(input, other, "sub"):  # as add
            a, b = binary_operands(input, other, "sub")
            h = _opmath.half_value(alpha, a._data.dtype)
            return _out(_opmath.in_float32(lambda p, q: sub(p, q, alpha=h), a, b), out)
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    a, b = binary_operands(input, other, "sub")
    if a._data.dtype == np.bool_:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if (a is not input and _is_bool(input)) or (b is not other and _is_bool(other)):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")
    return _out(Sub.apply(a, b), out)


def _is_bool(x) -> bool:
    return x is True or x is False or (isinstance(x, Tensor) and x._data.dtype == np.bool_)


subtract = sub


def _check_alpha(a, b, alpha) -> None:
    integral = all(x._data.dtype.kind in "iub" if isinstance(x, Tensor) else
                   isinstance(x, int) for x in (a, b))
    if integral and isinstance(alpha, float):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")


def rsub(input, other, *, alpha=1) -> Tensor:
    """``other - alpha * input``."""
    return sub(other, input, alpha=alpha)


def mul(input, other, *, out=None) -> Tensor:
    """Elementwise product with broadcasting and type promotion."""
    a, b = binary_operands(input, other, "mul")
    if a._data.dtype.itemsize == 2:  # a half type: the scalar in float32 (ops._opmath)
        b = _opmath.scalar_operand(a, b, other)
    elif out is None:
        r = _graphless_binary(np.multiply, a, b)
        if r is not None:
            return r
    return _out(Mul.apply(a, b), out)


multiply = mul


def div(input, other, *, rounding_mode=None, out=None) -> Tensor:
    """True division (integers promote to the default float), or ``'trunc'``/``'floor'``
    rounding."""
    a, b = binary_operands(input, other, "div")
    if rounding_mode is None:
        a, b = to_float(a), to_float(b)
        if a._data.dtype.itemsize == 2:  # a half type: the scalar in float32 (ops._opmath)
            b = _opmath.scalar_operand(a, b, other)
        elif out is None:
            r = _graphless_binary(np.true_divide, a, b)
            if r is not None:
                return r
        return _out(Div.apply(a, b), out)
    if a._data.dtype.itemsize == 2:  # a half type: the scalar in float32 (ops._opmath)
        b = _opmath.scalar_operand(a, b, other)
    if rounding_mode == "floor":
        return _out(FloorDivide.apply(a, b), out)
    if rounding_mode == "trunc":
        return _out(TruncDivide.apply(a, b), out)
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                       f"found '{rounding_mode}'")


divide = div
true_divide = div


def floor_divide(input, other, *, out=None) -> Tensor:
    """Division rounded down (Python's ``//``)."""
    a, b = binary_operands(input, other, "floor_divide")
    if a._data.dtype.itemsize == 2:  # a half type: the scalar in float32 (ops._opmath)
        b = _opmath.scalar_operand(a, b, other)
    return _out(FloorDivide.apply(a, b), out)


def remainder(input, other, *, out=None) -> Tensor:
    """Python's modulus: the result has the sign of the divisor."""
    a, b = binary_operands(input, other, "remainder")
    return _out(Remainder.apply(a, b), out)


def fmod(input, other, *, out=None) -> Tensor:
    """C's fmod: the result has the sign of the dividend."""
    a, b = binary_operands(input, other, "fmod")
    return _out(Fmod.apply(a, b), out)


def pow(input, exponent, *, out=None) -> Tensor:
    """``input ** exponent``; a scalar exponent keeps the tensor's dtype unless it promotes it
    (an int tensor to a float or complex one, a float tensor to a complex one)."""
    if isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        if isinstance(exponent, int) and exponent < 0 and input._data.dtype.kind in "iub":
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if _FROM_NP[input._data.dtype] is not _result_scalar(input, exponent):
            return _out(_pow_tensor(input, exponent), out)
        if exponent == 2:
            return _out(square(input), out)
        if exponent == 1:
            return _out(input * 1, out)
        if exponent == 0.5 and input.is_floating_point():
            return _out(sqrt(input), out)
        return _out(PowScalar.apply(input, exponent=exponent if not isinstance(exponent, int)
                                    or input._data.dtype.kind not in "fc" else float(exponent))
                    if input._data.dtype.kind in "fc" else _pow_tensor(input, exponent), out)
    return _out(_pow_tensor(input, exponent), out)


def _pow_tensor(a, b) -> Tensor:
    a, b = binary_operands(a, b, "pow")
    return Pow.apply(a, b)


class PowScalar(Op):
    _name = "pow"
    opmath = True
    save_inputs = (0,)

    def forward(self, x):
        e = self.exponent
        r = x ** x.dtype.type(e) if x.dtype.kind == "f" else x ** e
        return r

    def backward(self, g):
        (x,) = self.saved_tensors
        e = self.exponent
        if e == 0:
            return g * 0
        return g * (e * x ** (e - 1))


def maximum(input, other, *, out=None) -> Tensor:
    """Elementwise maximum (NaN propagates)."""
    a, b = binary_operands(input, other, "maximum")
    return _out(Maximum.apply(a, b), out)


def minimum(input, other, *, out=None) -> Tensor:
    """Elementwise minimum (NaN propagates)."""
    a, b = binary_operands(input, other, "minimum")
    return _out(Minimum.apply(a, b), out)


def _out(result: Tensor, out) -> Tensor:
    if out is None:
        return result
    if not _dtype.can_cast(result.dtype, out.dtype):  # no float -> int, complex -> float
        names = _dtype._TORCH_NAMES
        raise RuntimeError(f"result type {names.get(result.dtype.name, result.dtype.name)} "
                           "can't be cast to the desired output type "
                           f"{names.get(out.dtype.name, out.dtype.name)}")
    from .shape import resize_out

    return resize_out(out, result)


# -- unary ops ---------------------------------------------------------------------------
# unary ops whose float16/bfloat16 results are exact in the half type (no float32 round trip)
_EXACT_UNARY = frozenset({"neg", "abs", "sign", "sgn", "relu", "floor", "ceil", "trunc"})


def _unary(name: str, fwd, bwd=None, save: str | None = "input", floating: bool = True,
           doc: str = ""):
    """Declares a unary op class and its function. ``bwd(g, x_or_out, node)`` returns the
    input gradient; ``save`` says whether it needs the input or the output."""
    attrs = {"_name": name, "forward": lambda self, x: fwd(x),
             "opmath": name not in _EXACT_UNARY}
    if bwd is None:
        attrs["differentiable"] = False
    elif save == "input":
        attrs["save_inputs"] = (0,)
        attrs["backward"] = lambda self, g: bwd(g, self.saved_tensors[0], self)
    elif save == "output":
        attrs["save_output"] = True
        attrs["backward"] = lambda self, g: bwd(g, self.saved_output(), self)
    else:
        attrs["backward"] = lambda self, g: bwd(g, None, self)
    cls = type("".join(p.capitalize() for p in name.split("_")), (Op,), attrs)

    def fn(input: Tensor, *, out=None) -> Tensor:
        x = to_float(input) if floating else input
        return _out(cls.apply(x), out)

    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = doc or f"Elementwise ``{name}``, as ``torch.{name}``."
    fn.op = cls
    return fn


def _np(x):
    return xp_of(x)


def _neg(x):
    if x.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return -x


neg = _unary("neg", _neg, lambda g, _, n: -g, save=None, floating=False)
negative = neg
exp = _unary("exp", lambda x: _np(x).exp(x), lambda g, y, n: g * _conj(y), save="output")
exp2 = _unary("exp2", lambda x: _np(x).exp2(x),
              lambda g, y, n: g * _conj(y) * math.log(2.0), save="output")
expm1 = _unary("expm1", lambda x: _np(x).expm1(x), lambda g, y, n: g * _conj(y + 1), save="output")
log = _unary("log", lambda x: _np(x).log(x), lambda g, x, n: g / _conj(x))
log2 = _unary("log2", lambda x: _np(x).log2(x), lambda g, x, n: g / (_conj(x) * math.log(2.0)))
log10 = _unary("log10", lambda x: _np(x).log10(x), lambda g, x, n: g / (_conj(x) * math.log(10.0)))
log1p = _unary("log1p", lambda x: _np(x).log1p(x), lambda g, x, n: g / _conj(x + 1))
sqrt = _unary("sqrt", lambda x: _np(x).sqrt(x), lambda g, y, n: g / (2 * _conj(y)),
              save="output")
rsqrt = _unary("rsqrt", lambda x: 1 / _np(x).sqrt(x),
               lambda g, y, n: g * (-0.5) * _conj(y * y * y), save="output")
reciprocal = _unary("reciprocal", lambda x: 1 / x, lambda g, y, n: -g * _conj(y * y),
                    save="output")
square = _unary("square", lambda x: x * x, lambda g, x, n: g * 2 * _conj(x), floating=False)
def _abs_grad(g, x, n):
    if not x.is_complex():
        return g * x.sign()
    # g * sgn(x), with sgn written as x / |x| so that its own derivative is kept (the
    # second derivative of |z|, e.g. of a power spectrogram); sgn(0) = 0
    a = abs(x)
    zero = a == 0
    return g * where(zero, x * 0, x / where(zero, a + 1, a))


abs = _unary("abs", lambda x: _np(x).abs(x), _abs_grad, floating=False)
absolute = abs
sign = _unary("sign", lambda x: _sign(x), lambda g, x, n: g * 0, save=None,
              floating=False)
sgn = _unary("sgn", lambda x: _sgn(x), None, floating=False)
sin = _unary("sin", lambda x: _np(x).sin(x), lambda g, x, n: g * _conj(x.cos()))
cos = _unary("cos", lambda x: _np(x).cos(x), lambda g, x, n: -g * _conj(x.sin()))
tan = _unary("tan", lambda x: _np(x).tan(x), lambda g, y, n: g * _conj(1 + y * y), save="output")
asin = _unary("asin", lambda x: _np(x).arcsin(x), lambda g, x, n: g * _conj(rsqrt(1 - x * x)))
acos = _unary("acos", lambda x: _np(x).arccos(x), lambda g, x, n: -g * _conj(rsqrt(1 - x * x)))
atan = _unary("atan", lambda x: _np(x).arctan(x), lambda g, x, n: g / _conj(1 + x * x))
sinh = _unary("sinh", lambda x: _np(x).sinh(x), lambda g, x, n: g * _conj(x.cosh()))
cosh = _unary("cosh", lambda x: _np(x).cosh(x), lambda g, x, n: g * _conj(x.sinh()))
tanh = _unary("tanh", lambda x: _np(x).tanh(x), lambda g, y, n: g * _conj(1 - y * y),
              save="output")
sigmoid = _unary("sigmoid", lambda x: _sigmoid(x), lambda g, y, n: g * _conj(y * (1 - y)),
                 save="output")
erf = _unary("erf", lambda x: special_module(x).erf(x),
             lambda g, x, n: g * (2.0 / math.sqrt(math.pi)) * exp(-x * x))
erfc = _unary("erfc", lambda x: special_module(x).erfc(x),
              lambda g, x, n: g * (-2.0 / math.sqrt(math.pi)) * exp(-x * x))
relu = _unary("relu", lambda x: _relu(x), lambda g, y, n: _relu_grad(g, y), save="output",
              floating=False)
floor = _unary("floor", lambda x: _np(x).floor(x) if x.dtype.kind == "f" else x.copy(),
               lambda g, _, n: g * 0, save=None, floating=False)
ceil = _unary("ceil", lambda x: _np(x).ceil(x) if x.dtype.kind == "f" else x.copy(),
              lambda g, _, n: g * 0, save=None, floating=False)
trunc = _unary("trunc", lambda x: _np(x).trunc(x) if x.dtype.kind == "f" else x.copy(),
               lambda g, _, n: g * 0, save=None, floating=False)
fix = trunc
frac = _unary("frac", lambda x: _frac(x), lambda g, _, n: g, save=None, floating=False)


def _frac(x):
    if x.dtype.kind not in "fc":
        from .._dtype import _FROM_NP
        from .compare import _pt_name

        raise NotImplementedError(f"\"frac_cpu\" not implemented for "
                                  f"'{_pt_name(_FROM_NP[x.dtype])}'")
    return x - _np(x).trunc(x)


def _sign(x):
    if x.dtype.kind == "b":
        return x.copy()
    xp = _np(x)
    r = xp.sign(x)
    if x.dtype.kind in "fV":  # as PyTorch, NaN has sign 0 (numpy keeps NaN)
        r = xp.where(r != r, r.dtype.type(0), r)
    return r


def _sgn(x):
    xp = _np(x)
    if x.dtype.kind == "c":
        a = xp.abs(x)
        return xp.where(a == 0, 0, x / xp.where(a == 0, 1, a)).astype(x.dtype)
    return xp.sign(x)


def _relu(x):
    if x.dtype.kind == "b":
        raise RuntimeError("relu: not implemented for 'Bool'")
    if type(x) is np.ndarray and x.flags.c_contiguous:  # (others keep their layout)
        out = np.empty(x.shape, x.dtype)
        relu_array(x, out)
        return out
    return _np(x).maximum(x, x.dtype.type(0))


_ZERO_CHUNKS: dict = {}  # dtype -> read-only zeros of CHUNK values


def relu_array(x, out) -> None:
    """``out = max(x, 0)`` for numpy arrays of one shape (``out`` may be ``x``). numpy's
    ``maximum`` of two arrays is vectorised and of an array and a scalar is not (float32,
    64K values in cache: 11 us against 32), so large contiguous arrays are taken against a
    chunk of zeros, a cache-sized part at a time and over the threads."""
    if x.size >= 4096:
        zeros = _ZERO_CHUNKS.get(x.dtype)
        if zeros is None:
            zeros = np.zeros(_parallel.CHUNK, x.dtype)
            zeros.flags.writeable = False
            _ZERO_CHUNKS[x.dtype] = zeros
        if _parallel.flat_map(lambda a, out: np.maximum(a, zeros[:a.size], out=out), out, x):
            return
    np.maximum(x, x.dtype.type(0), out=out)


def _relu_grad(g: Tensor, y: Tensor) -> Tensor:
    """``g`` where ``y <= 0`` is false (so a NaN passes its gradient, as PyTorch's
    threshold_backward); without a graph of the gradient, on arrays in one chunked (and,
    when large, threaded) pass instead of a comparison, a cast and a product."""
    gd, yd = g._data, y._data
    if not _State.enabled and type(gd) is np.ndarray and gd.shape == yd.shape and \
            gd.dtype == yd.dtype and gd.dtype.kind == "f":
        out = np.empty(gd.shape, gd.dtype)

        def masked(g_part, y_part, out):
            keep = np.less_equal(y_part, 0)
            np.logical_not(keep, out=keep)
            np.multiply(g_part, keep, out=out)

        if _parallel.flat_map(masked, out, gd, yd):
            return Tensor._make(out)
    return g * ~(y <= 0)


def _sigmoid(x):
    xp = _np(x)
    if x.dtype.kind == "f":
        # 1 / (1 + exp(-x)) in place: exp overflows to inf only where the result is 0
        # (into an array: numpy's ufuncs return a scalar for a 0-d one)
        r = xp.negative(x, out=xp.empty_like(x))
        if xp is np:
            with np.errstate(over="ignore"):
                xp.exp(r, out=r)
        else:
            xp.exp(r, out=r)
        r += 1
        return xp.reciprocal(r, out=r)
    if x.dtype.kind == "c":
        return 1 / (1 + xp.exp(-x))
    # stable on both tails: exp of a non-positive argument only
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


class Round(Op):
    _name = "round"
    opmath = True

    def forward(self, x):
        xp = xp_of(x)
        if x.dtype.kind not in "fc":
            return x.copy()
        return xp.round(x, self.decimals)

    def backward(self, g):
        return g * 0


def round(input: Tensor, *, decimals: int = 0, out=None) -> Tensor:
    """Rounds half to even, as ``torch.round`` (optionally to ``decimals`` places)."""
    return _out(Round.apply(input, decimals=decimals), out)


class Clamp(Op):
    _name = "clamp"
    save_inputs = (0,)

    def forward(self, x):
        lo, hi = self.min, self.max
        xp = xp_of(x)
        if x.dtype.kind in "fiu" and (lo is None or hi is None or lo <= hi):
            return xp.clip(x, None if lo is None else _bound(xp, lo, x.dtype),
                           None if hi is None else _bound(xp, hi, x.dtype))
        r = x
        if lo is not None:  # bounds as 0-dim arrays of x's dtype keep bfloat16 (kind "V")
            r = xp.maximum(r, xp.asarray(lo, dtype=x.dtype))
        if hi is not None:
            r = xp.minimum(r, xp.asarray(hi, dtype=x.dtype))
        return r.astype(x.dtype, copy=False) if r is not x else x.copy()

    def backward(self, g):
        (x,) = self.saved_tensors
        mask = None
        if self.min is not None:
            mask = x >= self.min
        if self.max is not None:
            m2 = x <= self.max
            mask = m2 if mask is None else mask & m2
        return g * mask


def _bound(xp, v, dt):
    """A clamp bound in dtype ``dt``, converted as PyTorch does (``clamp(uint8, max=-1)``
    clamps to 255; 300 raises)."""
    try:
        return dt.type(v)
    except OverflowError:
        return dt.type(checked_int_scalar(v, dt))


class ClampTensor(Op):
    _name = "clamp"
    save_inputs = (0, 1, 2)

    def forward(self, x, lo, hi):
        xp = xp_of(x)
        return xp.minimum(xp.maximum(x, lo), hi)

    def backward(self, g):
        x, lo, hi = self.saved_tensors
        inside = (x >= lo) & (x <= hi)
        return (unbroadcast(g * inside, x.shape), unbroadcast(g * (x < lo), lo.shape),
                unbroadcast(g * (x > hi) * (x >= lo), hi.shape))


def clamp(input: Tensor, min=None, max=None, *, out=None) -> Tensor:
    """Limits values to [min, max]; either bound may be None (and may be a tensor)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        big = np.inf if input.is_floating_point() else np.iinfo(input._data.dtype).max
        lo = min if min is not None else -big
        hi = max if max is not None else big
        x, lo = binary_operands(input, lo, "clamp")
        x, hi = binary_operands(x, hi, "clamp")
        lo = cast(lo, x.dtype) if lo.dtype != x.dtype else lo
        return _out(ClampTensor.apply(x, lo, hi), out)
    x = input
    for bound in (min, max):  # a scalar bound may promote, as result_type(input, bound)
        if bound is not None:
            rd = _result_scalar(x, bound)
            if rd is not _FROM_NP[x._data.dtype]:
                x = cast(x, rd)
    return _out(Clamp.apply(x, min=min, max=max), out)


clip = clamp


def clamp_min(input, min) -> Tensor:
    return clamp(input, min=min)


def clamp_max(input, max) -> Tensor:
    return clamp(input, max=max)


# -- ternary -----------------------------------------------------------------------------
class Where(Op):
    _name = "where"
    save_inputs = (0,)

    def forward(self, c, a, b):
        self.shapes = (a.shape, b.shape)
        return xp_of(a).where(c, a, b)

    def backward(self, g):
        (c,) = self.saved_tensors
        sa, sb = self.shapes
        zero = g.new_zeros(())
        return None, unbroadcast(where(c, g, zero), sa), unbroadcast(where(c, zero, g), sb)


def where(condition: Tensor, input=None, other=None, *, out=None):
    """Elements of ``input`` where ``condition`` holds, else of ``other``; with one argument,
    ``nonzero(condition, as_tuple=True)``."""
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor) \
            and isinstance(condition, Tensor):
        input, other = _scalar_pair(input, other, condition)
    a, b = binary_operands(input, other, "where")
    if not isinstance(condition, Tensor):
        from ._prep import as_tensor_arg

        condition = as_tensor_arg(condition, a)
    if condition._data.dtype != np.bool_:
        if condition._data.dtype == np.uint8:
            condition = cast(condition, np.bool_)
        else:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {condition.dtype}")
    return _out(Where.apply(condition, a, b), out)


def _scalar_pair(a, b, like: Tensor):
    """Two Python scalars as 0-dim tensors on ``like``'s device, of the dtype PyTorch gives
    ``where(cond, a, b)``: bool, int64, the default float or the default complex dtype."""
    from .._creation import tensor

    if not all(isinstance(v, (bool, int, float, complex)) for v in (a, b)):
        raise TypeError(f"where: expected Tensors or Python scalars as input and other, got "
                        f"{type(a).__name__} and {type(b).__name__}")
    kinds = {bool if isinstance(v, bool) else type(v) for v in (a, b)}
    if complex in kinds:
        dt = _dtype.complex128 if _dtype.get_default_dtype() == _dtype.float64 \
            else _dtype.complex64
    elif float in kinds:
        dt = _dtype.get_default_dtype()
    elif int in kinds:
        dt = _dtype.int64
    else:
        dt = _dtype.bool
    return (tensor(a, dtype=dt, device=like.device), tensor(b, dtype=dt, device=like.device))


class Lerp(Op):
    """``start + weight * (end - start)`` evaluated as PyTorch's kernels do: from ``start``
    where ``|weight| < 0.5``, else as ``end - (end - start) * (1 - weight)``, so that weight
    1 gives ``end`` exactly and an infinite start or end gives PyTorch's infinity, not NaN.
    (PyTorch's CPU kernel fuses the multiply-add; the separate roundings here can differ
    from it by one unit in the last place.)"""

    _name = "lerp"
    opmath = True
    save_inputs = (0, 1, 2)

    def forward(self, s, e, w):
        xp = xp_of(s)
        d = e - s
        if w.ndim == 0:  # one weight (optimizers' moving averages): one branch
            return s + w * d if bool(xp.abs(w) < 0.5) else e - d * (1 - w)
        return xp.where(xp.abs(w) < 0.5, s + w * d, e - d * (1 - w))

    def backward(self, g):
        s, e, w = self.saved_tensors
        gs = ge = gw = None
        if self.next_functions[0][0]:
            gs = unbroadcast(g * _conj(1 - w), s.shape)
        if self.next_functions[1][0]:
            ge = unbroadcast(g * _conj(w), e.shape)
        if self.next_functions[2][0]:
            gw = unbroadcast(g * _conj(e - s), w.shape)
        return gs, ge, gw


def lerp(input: Tensor, end, weight, *, out=None) -> Tensor:
    """``input + weight * (end - input)`` (see ``Lerp`` for how it is evaluated)."""
    start, end_t = binary_operands(input, end, "lerp")
    if not (start.is_floating_point() or start.is_complex()):
        return _out(input + weight * (end - input), out)
    w = cast(weight, start.dtype) if isinstance(weight, Tensor) else \
        binary_operands(start, weight, "lerp")[1]
    w = _opmath.scalar_operand(start, cast(w, start.dtype), weight)  # float32 for half
    return _out(Lerp.apply(start, end_t, w), out)


def addcmul(input: Tensor, tensor1, tensor2, *deprecated, value=1, out=None) -> Tensor:
    """``input + value * tensor1 * tensor2`` (the deprecated ``addcmul(input, value, t1, t2)``
    is accepted)."""
    if deprecated:
        value, (tensor1, tensor2) = _deprecated_scalar_first("addcmul", tensor1,
                                                             (tensor2,) + deprecated, "value")
    if _same_low(input, tensor1, tensor2):  # in float32, rounded once (as PyTorch's kernel)
        return _out(_opmath.in_float32(lambda i, a, b: i + value * a * b, input, tensor1,
                                       tensor2), out)
    return _out(input + value * tensor1 * tensor2, out)


def _same_low(*tensors) -> bool:
    """Whether every operand is a tensor of one float16/bfloat16 dtype."""
    if not all(isinstance(t, Tensor) for t in tensors):
        return False
    d = tensors[0]._data.dtype
    return _opmath.low_dtype(tensors[:1]) is not None and all(t._data.dtype == d
                                                              for t in tensors)


def addcdiv(input: Tensor, tensor1, tensor2, *deprecated, value=1, out=None) -> Tensor:
    """``input + value * tensor1 / tensor2`` (the deprecated ``addcdiv(input, value, t1, t2)``
    is accepted)."""
    if deprecated:
        value, (tensor1, tensor2) = _deprecated_scalar_first("addcdiv", tensor1,
                                                             (tensor2,) + deprecated, "value")
    if _same_low(input, tensor1, tensor2):  # in float32, rounded once (as PyTorch's kernel)
        return _out(_opmath.in_float32(lambda i, a, b: i + value * (a / b), input, tensor1,
                                       tensor2), out)
    return _out(input + value * (tensor1 / tensor2), out)


class Atan2(Op):
    _name = "atan2"
    opmath = True
    save_inputs = (0, 1)

    def forward(self, a, b):
        return xp_of(a).arctan2(a, b)

    def backward(self, g):
        a, b = self.saved_tensors
        den = a * a + b * b
        ga = unbroadcast(g * b / den, a.shape) if self.next_functions[0][0] else None
        gb = unbroadcast(-g * a / den, b.shape) if self.next_functions[1][0] else None
        return ga, gb


def atan2(input, other, *, out=None) -> Tensor:
    """Elementwise arctangent of ``input / other`` with the quadrant of (other, input)."""
    a, b = binary_operands(input, other, "atan2")
    return _out(Atan2.apply(to_float(a), to_float(b)), out)


arctan2 = atan2


class NanToNum(Op):
    """NaN, +inf and -inf replaced by finite values; they get no gradient."""

    _name = "nan_to_num"
    save_inputs = (0,)

    def forward(self, x):
        if x.dtype.kind not in "fcV":
            return x.copy()
        from .._dtype import finfo

        info = finfo(x.dtype)
        pos = info.max if self.posinf is None else self.posinf
        neg = info.min if self.neginf is None else self.neginf
        xp = xp_of(x)
        if x.dtype.kind == "V":  # bfloat16: nan_to_num leaves non-numpy floats alone
            return xp.nan_to_num(x.astype(xp.float32), nan=self.nan, posinf=pos,
                                 neginf=neg).astype(x.dtype)
        return xp.nan_to_num(x, nan=self.nan, posinf=pos, neginf=neg)

    def backward(self, g):
        (x,) = self.saved_tensors
        from .compare import isfinite

        return g * isfinite(x)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf=None, neginf=None, *, out=None
               ) -> Tensor:
    """Replaces NaN with ``nan``, +inf with ``posinf`` and -inf with ``neginf`` (the dtype's
    largest and smallest finite values by default)."""
    return _out(NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf), out)


# -- more unary math -----------------------------------------------------------------------
asinh = _unary("asinh", lambda x: _np(x).arcsinh(x),
               lambda g, x, n: g * _conj(rsqrt(x * x + 1)))
acosh = _unary("acosh", lambda x: _np(x).arccosh(x),
               lambda g, x, n: g * _conj(rsqrt(x - 1) * rsqrt(x + 1)))
atanh = _unary("atanh", lambda x: _np(x).arctanh(x),
               lambda g, x, n: g / _conj(1 - x * x))
arcsinh, arccosh, arctanh = asinh, acosh, atanh
deg2rad = _unary("deg2rad", lambda x: x * x.dtype.type(math.pi / 180),
                 lambda g, _, n: g * (math.pi / 180), save=None)
rad2deg = _unary("rad2deg", lambda x: x * x.dtype.type(180 / math.pi),
                 lambda g, _, n: g * (180 / math.pi), save=None)


def _sinc(x):
    xp = _np(x)
    px = x * x.dtype.type(math.pi)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = xp.sin(px) / px
    return xp.where(x == 0, x.dtype.type(1), r).astype(x.dtype, copy=False)


def _sinc_grad(g, x, n):
    px = x * math.pi
    safe = where(x == 0, 1.0, px)
    d = (safe.cos() * safe - safe.sin()) / (safe * x.where(x != 0, 1.0))
    return g * where(x == 0, 0.0, d)


sinc = _unary("sinc", _sinc, _sinc_grad, doc="``sin(pi x) / (pi x)``, 1 at 0.")


class Logit(Op):
    _name = "logit"  # (float16/bfloat16: each step in the half type, as PyTorch's kernel)
    save_inputs = (0,)

    def forward(self, x):
        xp = xp_of(x)
        eps = self.eps
        if eps is not None:
            x = xp.clip(x, x.dtype.type(eps), x.dtype.type(1 - eps))
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp.log(x / (1 - x))

    def backward(self, g):
        (x,) = self.saved_tensors
        d = g / (x * (1 - x))
        if self.eps is None:
            return d
        return where((x < self.eps) | (x > 1 - self.eps), 0.0, d)


def logit(input: Tensor, eps=None, *, out=None) -> Tensor:
    """``log(x / (1 - x))``, with ``x`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given."""
    return _out(Logit.apply(to_float(input), eps=eps), out)


# -- more binary math ----------------------------------------------------------------------
def _binary(name: str, fwd, bwd=None, floating: bool = True, doc: str = "",
            int_error: bool = False):
    """Declares a binary op (promoted, broadcast operands). ``bwd(g, a, b, out, node)``
    returns both input gradients (un-broadcast here); None makes a non-differentiable op."""
    attrs = {"_name": name, "forward": lambda self, a, b: fwd(xp_of(a), a, b),
             "opmath": True}
    if bwd is None:
        attrs["differentiable"] = False
    else:
        attrs["save_inputs"] = (0, 1)
        attrs["save_output"] = True

        def backward(self, g):
            a, b = self.saved_tensors
            ga, gb = bwd(g, a, b, self.saved_output(), self)
            return (unbroadcast(ga, a.shape) if ga is not None and self.next_functions[0][0]
                    else None,
                    unbroadcast(gb, b.shape) if gb is not None and self.next_functions[1][0]
                    else None)
        attrs["backward"] = backward
    cls = type("".join(p.capitalize() for p in name.split("_")), (Op,), attrs)

    def fn(input, other, *, out=None) -> Tensor:
        a, b = binary_operands(input, other, name)
        if int_error and a._data.dtype.kind in "iub":
            from .compare import _pt_name

            raise NotImplementedError(f"\"{name}_cpu\" not implemented for "
                                      f"'{_pt_name(a.dtype)}'")
        if floating:
            a, b = to_float(a), to_float(b)
        return _out(cls.apply(a, b), out)

    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = doc or f"Elementwise ``{name}``, as ``torch.{name}``."
    fn.op = cls
    return fn


hypot = _binary("hypot", lambda xp, a, b: xp.hypot(a, b),
                lambda g, a, b, y, n: (g * a / y, g * b / y), floating=False,
                doc="``sqrt(a**2 + b**2)``, computed without overflow.")


def _fminmax_grad(is_max):
    def bwd(g, a, b, y, n):
        from .compare import isnan

        pick_a = ((a >= b) if is_max else (a <= b)) | isnan(b)
        zero = g.new_zeros(())
        return where(pick_a, g, zero), where(pick_a, zero, g)
    return bwd


fmax = _binary("fmax", lambda xp, a, b: xp.fmax(a, b), _fminmax_grad(True), floating=False,
               doc="Elementwise maximum that ignores NaN (NaN only when both are NaN).")
fmin = _binary("fmin", lambda xp, a, b: xp.fmin(a, b), _fminmax_grad(False), floating=False,
               doc="Elementwise minimum that ignores NaN (NaN only when both are NaN).")


def _copysign_grad(g, a, b, y, n):
    return where(a == 0, 0.0, g * (y / where(a == 0, 1.0, a))), g * 0


copysign = _binary("copysign", lambda xp, a, b: xp.copysign(a, b), _copysign_grad,
                   doc="``|input|`` with the sign of ``other``.")


def _logaddexp_grad(g, a, b, y, n):
    return g * (a - y).exp(), g * (b - y).exp()


def _logaddexp2_grad(g, a, b, y, n):
    return g * exp2(a - y), g * exp2(b - y)


logaddexp = _binary("logaddexp", lambda xp, a, b: xp.logaddexp(a, b), _logaddexp_grad,
                    floating=False, int_error=True, doc="``log(exp(a) + exp(b))``, stably.")
logaddexp2 = _binary("logaddexp2", lambda xp, a, b: xp.logaddexp2(a, b), _logaddexp2_grad,
                     floating=False, int_error=True,
                     doc="``log2(2**a + 2**b)``, stably.")


class Heaviside(Op):
    """The step function; as in PyTorch it records a node whose backward raises."""

    _name = "heaviside"

    def forward(self, a, b):
        xp = xp_of(a)
        return xp.where(a == 0, b, (a > 0).astype(a.dtype)).astype(a.dtype, copy=False)

    def backward(self, g):
        raise RuntimeError("derivative for aten::heaviside is not implemented")


def heaviside(input: Tensor, values, *, out=None) -> Tensor:
    """0 where ``input < 0``, ``values`` where it is 0, 1 where it is positive."""
    if not isinstance(values, Tensor) or input.dtype != values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different "
                           "dtypes" if isinstance(values, Tensor) else
                           "heaviside(): argument 'values' must be Tensor")
    a, b = binary_operands(input, values, "heaviside")
    return _out(Heaviside.apply(a, b), out)


def float_power(input, exponent, *, out=None) -> Tensor:
    """``input ** exponent`` computed in double precision (complex128 for complex)."""
    cplx = any(isinstance(v, Tensor) and v.is_complex() or isinstance(v, complex)
               for v in (input, exponent))
    d = np.complex128 if cplx else np.float64
    a = cast(input, d) if isinstance(input, Tensor) else input
    b = cast(exponent, d) if isinstance(exponent, Tensor) else exponent
    if not isinstance(a, Tensor):
        return _out(_pow_tensor(a, b), out)
    if not isinstance(b, Tensor):
        return _out(pow(a, complex(b) if cplx else float(b)), out)
    return _out(pow(a, b), out)
