"""Activation functions as single ops: gelu, silu, mish, softplus, leaky_relu, elu (and
selu/celu through its scales), hardtanh, hardsigmoid, hardswish, logsigmoid, softsign,
threshold, softshrink, hardshrink, prelu.

Each forward is one op on arrays; each backward is written with ember ops on the saved
input, so gradients of gradients work.
"""

from __future__ import annotations

import math

from .._tensor import Tensor
from ..autograd.grad_mode import _State
from ._prep import special_module, unbroadcast
from .elementwise import exp, sigmoid, tanh, where
from .op import Op, xp_of

__all__ = ["gelu", "silu", "mish", "softplus", "leaky_relu", "elu", "hardtanh",
           "hardsigmoid", "hardswish", "logsigmoid", "softsign", "threshold", "softshrink",
           "hardshrink", "prelu"]

_SQRT_2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_K_TANH = math.sqrt(2.0 / math.pi)


def _check_float(x: Tensor, op: str) -> None:
    if x._data.dtype.kind not in "fV":
        names = {"i": "Long", "u": "Byte", "b": "Bool", "c": "ComplexFloat"}
        raise RuntimeError(f'"{op}" not implemented for '
                           f"'{names.get(x._data.dtype.kind, str(x.dtype))}'")


def _stable_sigmoid(xp, x):
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _erf_lowp(xp, x):
    """erf for float32/float16 arrays: Abramowitz & Stegun 7.1.26 (absolute error below
    1.5e-7, under float32 resolution around 1, which is where GELU uses it), several times
    faster than ``scipy.special.erf``. float64 keeps scipy's exact erf."""
    if x.dtype.itemsize >= 8:
        return special_module(x).erf(x)
    dt = x.dtype.type
    a = xp.abs(x)
    e = a * a
    xp.negative(e, out=e)
    xp.exp(e, out=e)
    t = a
    t *= dt(0.3275911)
    t += dt(1)
    xp.reciprocal(t, out=t)
    y = t * dt(1.061405429)
    y -= dt(1.453152027)
    y *= t
    y += dt(1.421413741)
    y *= t
    y -= dt(0.284496736)
    y *= t
    y += dt(0.254829592)
    y *= t
    y *= e
    xp.subtract(dt(1), y, out=y)
    return xp.copysign(y, x, out=y)


def _softplus_arr(xp, x):
    # log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|))
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class Gelu(Op):
    _name = "gelu"
    save_inputs = (0,)

    def forward(self, x):
        xp = xp_of(x)
        if self.approximate == "tanh":
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
        cdf = _erf_lowp(xp, x * (1 / _SQRT_2))
        cdf += 1
        cdf *= x
        cdf *= 0.5
        return cdf.astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        if not _State.enabled and self.approximate != "tanh":
            xd = x._data
            xp = xp_of(xd)
            cdf = _erf_lowp(xp, xd * (1 / _SQRT_2))
            cdf += 1
            cdf *= 0.5
            pdf = xd * xd
            pdf *= -0.5
            xp.exp(pdf, out=pdf)
            pdf *= xd
            pdf *= _INV_SQRT_2PI
            cdf += pdf
            cdf *= g._data
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
    return Gelu.apply(input, approximate=approximate)


class Silu(Op):
    _name = "silu"
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
    out = Silu.apply(input)
    return input.copy_(out) if inplace else out


class Mish(Op):
    _name = "mish"
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
    out = Mish.apply(input)
    return input.copy_(out) if inplace else out


class Softplus(Op):
    _name = "softplus"
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


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold``."""
    _check_float(input, "softplus")
    return Softplus.apply(input, beta=beta, threshold=threshold)


class LeakyRelu(Op):
    _name = "leaky_relu"
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
    out = LeakyRelu.apply(input, slope=negative_slope)
    return input.copy_(out) if inplace else out


class Elu(Op):
    _name = "elu"
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
    out = Elu.apply(input, alpha=alpha, scale=scale, input_scale=input_scale)
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
    out = Hardtanh.apply(input, lo=min_val, hi=max_val)
    return input.copy_(out) if inplace else out


class Hardsigmoid(Op):
    _name = "hardsigmoid"
    save_inputs = (0,)

    def forward(self, x):
        y = x / 6
        y += 0.5
        return xp_of(x).clip(y, 0, 1, out=y)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * ((x > -3) & (x < 3)) * (1 / 6)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``."""
    _check_float(input, "hardsigmoid")
    out = Hardsigmoid.apply(input)
    return input.copy_(out) if inplace else out


class Hardswish(Op):
    _name = "hardswish"
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
        return where(x < -3, g * 0, where(x <= 3, mid, g))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    _check_float(input, "hardswish")
    out = Hardswish.apply(input)
    return input.copy_(out) if inplace else out


class Logsigmoid(Op):
    _name = "log_sigmoid"
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
        return xp.where(x > self.threshold, x, xp.asarray(self.value, dtype=x.dtype))

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * (x > self.threshold)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``."""
    out = Threshold.apply(input, threshold=threshold, value=value)
    return input.copy_(out) if inplace else out


class Softshrink(Op):
    _name = "softshrink"
    save_inputs = (0,)

    def forward(self, x):
        xp = xp_of(x)
        lam = self.lambd
        return xp.where(x > lam, x - lam, xp.where(x < -lam, x + lam, 0)).astype(
            x.dtype, copy=False)

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
        return xp.where(xp.abs(x) > self.lambd, x, 0).astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * (x.abs() > self.lambd)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0."""
    return Hardshrink.apply(input, lambd=lambd)


class Prelu(Op):
    _name = "prelu"
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
