"""Activation functions as single ops: gelu, silu, mish, softplus, leaky_relu, elu (and
selu/celu through its scales), hardtanh, hardsigmoid, hardswish, logsigmoid, softsign,
threshold, softshrink, hardshrink, prelu.

Each forward is one op on arrays; each backward is written with ember ops on the saved
input, so gradients of gradients work.
"""

from __future__ import annotations

import math

import numpy as np

from .._autocast_state import fp32_op, lower_op
from .._tensor import Tensor
from ..autograd.grad_mode import _State
from . import _onednn
from ._parallel import CHUNK, run_parts
from ._prep import special_module, unbroadcast
from .elementwise import exp, sigmoid, tanh, where
from .op import FLOAT32_64, Op, graphless, xp_of

__all__ = ["gelu", "silu", "mish", "softplus", "leaky_relu", "elu", "hardtanh",
           "hardsigmoid", "hardswish", "logsigmoid", "softsign", "threshold", "softshrink",
           "hardshrink", "prelu"]

_SQRT_2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_K_TANH = math.sqrt(2.0 / math.pi)


def inplace_source(input: Tensor, inplace: bool) -> Tensor:
    """The tensor an activation reads: ``input`` itself, or, for an in-place call that autograd
    records, a copy of it, so that the value backward saves is not the one overwritten."""
    if inplace and input.requires_grad and _State.enabled:
        return input.clone()
    return input


def _check_float(x: Tensor, op: str) -> None:
    if x._data.dtype.kind not in "fV":
        names = {"i": "Long", "u": "Byte", "b": "Bool", "c": "ComplexFloat"}
        raise RuntimeError(f'"{op}" not implemented for '
                           f"'{names.get(x._data.dtype.kind, str(x.dtype))}'")


def _stable_sigmoid(xp, x):
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


# Phi(-a), the standard normal tail, for a = |x| >= 0:  t * P(t) * exp(-a^2 / 2) with
# t = 1 / (1 + p a), P of degree 5: a minimax fit of the absolute error (below 4e-9 over
# a >= 0; evaluated in float32 it is within 2e-7, a few ulp of 0.5, and within 5e-5 relative
# down to Phi(-4)). Evaluated as t * P(t) / exp(a^2 / 2): the tail goes to 0 without a
# negation pass, and with no branch (numpy pays a full pass, or far more, for a mask).
_PHI_P = 0.276
_PHI_C = (0.11762427218811092, 0.04672256551739962, 0.32214892866163664,
          -0.3138558919095531, 0.4408114229468418, -0.11345130132328021)


def _phi_tail(xp, x):
    """``(a, y, e)`` for a float32 array ``x``: ``a = |x|``, ``y = Phi(-|x|)`` (the normal
    CDF at ``-|x|``) and ``e = exp(x**2 / 2)``, each a new array."""
    dt = x.dtype.type
    a = xp.abs(x)
    e = xp.multiply(a, a)
    e *= dt(0.5)
    xp.exp(e, out=e)
    t = xp.add(a, dt(1 / _PHI_P))
    xp.divide(dt(1 / _PHI_P), t, out=t)
    y = xp.multiply(t, dt(_PHI_C[-1]))
    for c in _PHI_C[-2::-1]:
        y += dt(c)
        y *= t
    y /= e
    return a, y, e


def _fast_phi(xp, x) -> bool:
    """Whether GELU of array ``x`` takes the float32 polynomial path: numpy arrays of float
    dtypes below float64 (float16 and bfloat16 are computed in float32, as PyTorch does). On
    cupy, and for float64, the exact ``erf`` is used."""
    return xp is np and x.dtype.itemsize < 8


def _elementwise_f32(fn, x, *more):
    """``fn(x, *more, out)`` over flat float32 parts of the arrays (``x``'s shape), in
    parallel (``_parallel.run_parts``); ``fn`` writes its result into ``out``, a float32 part
    of the output (or a float32 buffer that is then cast into it)."""
    flat = [np.ascontiguousarray(a).reshape(-1) for a in (x, *more)]
    res = np.empty(flat[0].size, x.dtype)
    direct = res.dtype == np.float32

    def part(lo, hi):
        args = [a[lo:hi].astype(np.float32, copy=False) for a in flat]
        with np.errstate(over="ignore", invalid="ignore"):  # exp(x^2 / 2) = inf is expected
            if direct:
                fn(*args, res[lo:hi])
            else:
                res[lo:hi] = fn(*args, np.empty(hi - lo, np.float32))

    run_parts(part, res.size, chunk=CHUNK)
    return res.reshape(x.shape)


def _gelu_f32(x, out):
    """``x * Phi(x)`` of a float32 array as ``relu(x) - |x| Phi(-|x|)``: accurate in the
    negative tail too, where ``0.5 x (1 + erf(x / sqrt 2))`` cancels."""
    a, y, e = _phi_tail(np, x)
    del e
    y *= a  # |x| Phi(-|x|): 0 at |x| = inf except for 0 * inf = nan, fixed below
    np.clip(x, np.float32(0), np.float32(math.inf), out=a)  # relu (faster than maximum)
    np.subtract(a, y, out=out)
    if not math.isfinite(y.sum()):  # x holds inf or nan: PyTorch's gelu(inf) = inf
        out[x == math.inf] = math.inf  # (gelu(-inf) = -inf * 0 = nan there, as here)
    return out


def _gelu_grad_f32(x, g, out):
    """``g * (Phi(x) + x phi(x))`` for float32 arrays (the derivative of exact GELU)."""
    f32 = np.float32
    a, y, e = _phi_tail(np, x)
    del a
    np.subtract(f32(0.5), y, out=y)  # Phi(x) = 0.5 + sign(x) (0.5 - Phi(-|x|))
    np.copysign(y, x, out=y)
    y += f32(0.5)
    np.divide(x, e, out=e)  # x exp(-x^2 / 2)
    e *= f32(_INV_SQRT_2PI)
    y += e
    np.multiply(y, g, out=out)
    return out


def _softplus_arr(xp, x):
    # log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|))
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


def _gelu_array(x, approximate: str):
    """GELU of an array (``approximate`` 'none' or 'tanh')."""
    y = _onednn.gelu(x, approximate)  # float32 on x86-64 Linux: PyTorch's values
    if y is not None:
        return y
    xp = xp_of(x)
    if approximate == "tanh":
        inner = x * x
        inner *= 0.044715
        inner += 1
        inner *= x
        inner *= _K_TANH
        t = xp.tanh(inner, out=inner)
        t += 1
        t *= x
        t *= 0.5
        return t
    if _fast_phi(xp, x):
        return _elementwise_f32(_gelu_f32, x)
    cdf = special_module(x).erf(x * (1 / _SQRT_2))
    cdf += 1
    with np.errstate(invalid="ignore"):  # gelu(-inf) = -inf * 0 = nan, as in PyTorch
        cdf *= x
    cdf *= 0.5
    return cdf.astype(x.dtype, copy=False)


class Gelu(Op):
    _name = "gelu"
    opmath = True
    save_inputs = (0,)

    def forward(self, x):
        return _gelu_array(x, self.approximate)

    def backward(self, g):
        (x,) = self.saved_tensors
        if not _State.enabled:
            gx = _onednn.gelu_backward(x._data, g._data, self.approximate)
            if gx is not None:
                return Tensor._make(gx)
        if not _State.enabled and self.approximate != "tanh":
            xd = x._data
            xp = xp_of(xd)
            gd = g._data
            if _fast_phi(xp, xd) and gd.dtype == xd.dtype:
                return Tensor._make(_elementwise_f32(_gelu_grad_f32, xd, gd))
            cdf = special_module(xd).erf(xd * (1 / _SQRT_2))
            cdf += 1
            cdf *= 0.5
            pdf = xd * xd
            pdf *= -0.5
            xp.exp(pdf, out=pdf)
            with np.errstate(invalid="ignore"):  # inf * 0 = nan at x = +-inf, as in PyTorch
                pdf *= xd
            pdf *= _INV_SQRT_2PI
            cdf += pdf
            cdf *= gd
            return Tensor._make(cdf)
        if self.approximate == "tanh":
            x2 = x * x
            t = tanh((x2 * 0.044715 + 1) * x * _K_TANH)
            dinner = (x2 * (3 * 0.044715) + 1) * _K_TANH
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dinner)
        cdf = 0.5 * (1 + (x * (1 / _SQRT_2)).erf())
        pdf = exp(x * x * -0.5) * _INV_SQRT_2PI
        return g * (cdf + x * pdf)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian Error Linear Unit: ``x * Phi(x)``; ``approximate='tanh'`` uses the tanh
    approximation."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh. Got "
                           f"{approximate}")
    _check_float(input, "GeluKernelImpl")
    x = input._data
    if type(x) is np.ndarray and x.dtype in FLOAT32_64 and graphless():  # (no graph node)
        return Tensor._make(_gelu_array(x, approximate))
    return Gelu.apply(input, approximate=approximate)


class Silu(Op):
    _name = "silu"
    opmath = True
    save_inputs = (0,)

    def forward(self, x):
        s = _stable_sigmoid(xp_of(x), x)
        s *= x
        return s

    def backward(self, g):
        (x,) = self.saved_tensors
        s = sigmoid(x)
        return g * (s * (1 + x * (1 - s)))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (swish)."""
    _check_float(input, "silu")
    out = Silu.apply(inplace_source(input, inplace))
    return input.copy_(out) if inplace else out


class Mish(Op):
    _name = "mish"
    opmath = True
    save_inputs = (0,)

    def forward(self, x):
        xp = xp_of(x)
        return (x * xp.tanh(_softplus_arr(xp, x))).astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        tsp = tanh(softplus(x))
        return g * (tsp + x * sigmoid(x) * (1 - tsp * tsp))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    _check_float(input, "mish")
    out = Mish.apply(inplace_source(input, inplace))
    return input.copy_(out) if inplace else out


class Softplus(Op):
    _name = "softplus"
    opmath = True
    save_inputs = (0,)

    def forward(self, x):
        xp = xp_of(x)
        b, th = self.beta, self.threshold
        bx = x * b if b != 1 else x
        sp = _softplus_arr(xp, bx)
        if b != 1:
            sp /= b
        return xp.where(bx > th, x, sp).astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        bx = x * self.beta if self.beta != 1 else x
        return where(bx > self.threshold, g, g * sigmoid(bx))


@fp32_op("softplus")
def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold``."""
    _check_float(input, "softplus")
    return Softplus.apply(input, beta=beta, threshold=threshold)


class LeakyRelu(Op):
    _name = "leaky_relu"
    opmath = True
    save_inputs = (0,)

    def forward(self, x):
        xp = xp_of(x)
        return xp.where(x > 0, x, x * self.slope).astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        return where(x > 0, g, g * self.slope)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``max(0, x) + negative_slope * min(0, x)``."""
    _check_float(input, "leaky_relu")
    out = LeakyRelu.apply(inplace_source(input, inplace), slope=negative_slope)
    return input.copy_(out) if inplace else out


class Elu(Op):
    _name = "elu"
    opmath = True
    save_inputs = (0,)

    def forward(self, x):
        xp = xp_of(x)
        neg = xp.expm1(xp.minimum(x, 0) * self.input_scale)
        neg *= self.alpha * self.scale
        return xp.where(x > 0, x * self.scale, neg).astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        c = self.scale * self.alpha * self.input_scale
        neg = g * (exp(x.clamp(max=0) * self.input_scale) * c)
        return where(x > 0, g * self.scale, neg)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False, *, scale: float = 1.0,
        input_scale: float = 1.0) -> Tensor:
    """``x`` for x > 0, else ``alpha * (exp(x) - 1)`` (with SELU/CELU's scales)."""
    _check_float(input, "elu")
    out = Elu.apply(inplace_source(input, inplace), alpha=alpha, scale=scale,
                    input_scale=input_scale)
    return input.copy_(out) if inplace else out


class Hardtanh(Op):
    _name = "hardtanh"
    save_inputs = (0,)

    def forward(self, x):
        return xp_of(x).clip(x, self.lo, self.hi).astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * ((x > self.lo) & (x < self.hi))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """Clamps to ``[min_val, max_val]`` (gradient zero outside, and at the bounds)."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    out = Hardtanh.apply(inplace_source(input, inplace), lo=min_val, hi=max_val)
    return input.copy_(out) if inplace else out


class Hardsigmoid(Op):
    _name = "hardsigmoid"
    opmath = True
    save_inputs = (0,)

    def forward(self, x):
        y = x / 6
        y += 0.5
        return xp_of(x).clip(y, 0, 1, out=y)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * ((x > -3) & (x < 3)) * _ONE_SIXTH_F32


# PyTorch's hardsigmoid backward scales by 1/6 rounded to float32, in every dtype (so a
# float64 gradient is 1/6 * (1 + 3e-8)); ember uses the same constant to give its numbers
_ONE_SIXTH_F32 = 0.1666666716337204


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``."""
    _check_float(input, "hardsigmoid")
    out = Hardsigmoid.apply(inplace_source(input, inplace))
    return input.copy_(out) if inplace else out


class Hardswish(Op):
    _name = "hardswish"
    opmath = True
    save_inputs = (0,)

    def forward(self, x):
        y = x + 3
        xp_of(x).clip(y, 0, 6, out=y)
        y *= x
        y /= 6
        return y

    def backward(self, g):
        (x,) = self.saved_tensors
        mid = g * (x / 3 + 0.5)
        return where(x <= -3, g * 0, where(x < 3, mid, g))  # PyTorch's edges: 0 at -3, 1 at 3


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    _check_float(input, "hardswish")
    out = Hardswish.apply(inplace_source(input, inplace))
    return input.copy_(out) if inplace else out


class Logsigmoid(Op):
    _name = "log_sigmoid"
    opmath = True
    save_inputs = (0,)

    def forward(self, x):
        return -_softplus_arr(xp_of(x), -x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * sigmoid(-x)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))``, computed stably."""
    _check_float(input, "log_sigmoid_forward")
    return Logsigmoid.apply(input)


class Softsign(Op):
    _name = "softsign"
    opmath = True
    save_inputs = (0,)

    def forward(self, x):
        return x / (1 + xp_of(x).abs(x))

    def backward(self, g):
        (x,) = self.saved_tensors
        d = 1 + x.abs()
        return g / (d * d)


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    return Softsign.apply(input)


class Threshold(Op):
    _name = "threshold"
    save_inputs = (0,)

    def forward(self, x):
        xp = xp_of(x)
        # (x <= threshold picks the value: a NaN stays NaN, as in PyTorch)
        return xp.where(x <= self.threshold, xp.asarray(self.value, dtype=x.dtype), x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * (x > self.threshold)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``."""
    out = Threshold.apply(inplace_source(input, inplace), threshold=threshold, value=value)
    return input.copy_(out) if inplace else out


class Softshrink(Op):
    _name = "softshrink"
    opmath = True
    save_inputs = (0,)

    def forward(self, x):
        xp = xp_of(x)
        lam = self.lambd
        return xp.where(x > lam, x - lam, xp.where(x < -lam, x + lam, x * 0)).astype(
            x.dtype, copy=False)  # (x * 0: a NaN stays NaN, as in PyTorch)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * (x.abs() > self.lambd)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """Shrinks towards zero by ``lambd`` (zero inside ``[-lambd, lambd]``)."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return Softshrink.apply(input, lambd=lambd)


class Hardshrink(Op):
    _name = "hardshrink"
    save_inputs = (0,)

    def forward(self, x):
        xp = xp_of(x)
        inside = (x >= -self.lambd) & (x <= self.lambd)  # (a NaN is not inside: kept)
        return xp.where(inside, 0, x).astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * (x.abs() > self.lambd)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0."""
    return Hardshrink.apply(input, lambd=lambd)


class Prelu(Op):
    _name = "prelu"
    opmath = True
    save_inputs = (0, 1)

    def forward(self, x, w):
        xp = xp_of(x)
        wb = w.reshape(self.wshape)
        return xp.where(x > 0, x, x * wb).astype(x.dtype, copy=False)

    def backward(self, g):
        x, w = self.saved_tensors
        wb = w.reshape(self.wshape)
        pos = x > 0
        gx = where(pos, g, g * wb)
        gw = None
        if self.next_functions[1][0] is not None:
            gw = unbroadcast(where(pos, g * 0, g * x), self.wshape).reshape(w.shape)
        return gx, gw


@lower_op("prelu")
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``max(0, x) + weight * min(0, x)``, with one weight per channel (dim 1) or one shared
    weight."""
    n = weight.numel()
    if input.ndim == 0 or n == 1:
        wshape = (1,) * max(input.ndim, 1) if input.ndim else ()
        if input.ndim == 0:
            wshape = ()
    else:
        c = input.shape[1] if input.ndim >= 2 else input.shape[0]
        if n != c:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {n} and channel size = {c}.")
        wshape = [1] * input.ndim
        wshape[1 if input.ndim >= 2 else 0] = n
        wshape = tuple(wshape)
    return Prelu.apply(input, weight, wshape=wshape)
