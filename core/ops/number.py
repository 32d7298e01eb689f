"""Number-representation ops: integer ``gcd``/``lcm`` and the floating-point helpers
``ldexp``, ``frexp`` and ``nextafter``.

``gcd``/``lcm`` and ``nextafter`` take two tensors (PyTorch accepts no Python number for
``other``) and promote them as the binary ops do; ``gcd``/``lcm`` accept integer dtypes
only, ``nextafter`` floating ones only.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from .._dtype import _FROM_NP
from .._tensor import Tensor
from ..return_types import frexp as _frexp_result
from ._prep import binary_operands, cast, unbroadcast
from .compare import _pt_name
from .elementwise import _out, exp2, where
from .op import Op, xp_of

__all__ = ["gcd", "lcm", "ldexp", "frexp", "nextafter"]

_LN2 = math.log(2.0)
_BF16 = _dtype.bfloat16.np if _dtype.bfloat16 is not None else None


def _tensor_operands(name: str, input, other):
    """Both arguments must be Tensors, as in PyTorch's ``name(Tensor, Tensor)``."""
    for pos, (arg, v) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(v, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not "
                            f"{type(v).__name__}")
    return binary_operands(input, other, name)


# -- gcd, lcm ------------------------------------------------------------------------------
class _IntBinary(Op):
    differentiable = False

    def forward(self, a, b):
        xp = xp_of(a)
        return getattr(xp, self._name)(a, b).astype(a.dtype, copy=False)


class Gcd(_IntBinary):
    _name = "gcd"


class Lcm(_IntBinary):
    _name = "lcm"


def _int_binary(cls, input, other, out):
    a, b = _tensor_operands(cls._name, input, other)
    if a._data.dtype.kind not in "iu":
        raise NotImplementedError(f"\"{cls._name}_cpu\" not implemented for "
                                  f"'{_pt_name(a.dtype)}'")
    return _out(cls.apply(a, b), out)


def gcd(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """The elementwise greatest common divisor of two integer tensors (non-negative;
    ``gcd(0, 0) == 0``)."""
    return _int_binary(Gcd, input, other, out)


def lcm(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """The elementwise least common multiple of two integer tensors (non-negative;
    0 where either is 0)."""
    return _int_binary(Lcm, input, other, out)


# -- ldexp ---------------------------------------------------------------------------------
class Ldexp(Op):
    """``a * 2 ** b`` with both operands already of the (floating) result dtype.

    Departure from PyTorch: ``a``'s gradient is ``2 ** b`` also for negative integer ``b``,
    where PyTorch 2.13 computes the power in integers and gives 0."""

    _name = "ldexp"
    save_inputs = (0, 1)

    def forward(self, a, b):
        return a * xp_of(b).exp2(b)

    def backward(self, g):
        a, b = self.saved_tensors
        scale = exp2(b)
        ga = gb = None
        if self.next_functions[0][0] is not None:
            ga = unbroadcast(g * scale, a.shape)
        if self.next_functions[1][0] is not None:
            gb = unbroadcast(g * a * scale * _LN2, b.shape)
        return ga, gb


def ldexp(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """``input * 2 ** other``. The result has the promoted dtype of both, or the default
    float dtype when both are integral."""
    a, b = _tensor_operands("ldexp", input, other)
    d = _FROM_NP[a._data.dtype]
    if not (d.is_floating_point or d.is_complex):
        d = _dtype.get_default_dtype()
    return _out(Ldexp.apply(cast(a, d), cast(b, d)), out)


# -- frexp ---------------------------------------------------------------------------------
def widen_exactly(xp, x):
    """float64 values of float32 ``x``, subnormals included: built from the bit pattern,
    since CuPy's float32 kernels read subnormals as 0 (seen on an H200: frexp of one gave a
    zero mantissa, a float32 -> float64 cast gave 0)."""
    bits = x.view(np.uint32)
    mantissa = (bits & np.uint32(0x7FFFFF)).astype(np.float64)
    tiny = mantissa * 2.0 ** -149  # a subnormal's value: mantissa * 2**-149, exact in float64
    tiny = xp.where((bits >> np.uint32(31)) != 0, -tiny, tiny)
    return xp.where((bits & np.uint32(0x7F800000)) == 0, tiny, x.astype(np.float64))


class Frexp(Op):
    """(mantissa, exponent) with ``x == mantissa * 2 ** exponent``, ``0.5 <= |mantissa| < 1``;
    only the mantissa is differentiable."""

    _name = "frexp"
    n_outputs = 2

    def forward(self, x):
        xp = xp_of(x)
        work = x.astype(np.float32) if x.dtype == _BF16 else x
        if xp is not np and x.dtype == np.float32:
            work = widen_exactly(xp, x)  # CuPy's float32 kernels flush subnormals to zero
        m, e = xp.frexp(work)
        self.exponent = e
        return m.astype(x.dtype, copy=False), e.astype(np.int32, copy=False)

    def backward(self, gm, ge=None):
        if gm is None:
            return None
        e = self.exponent
        scale = xp_of(e).ldexp(1.0, -e).astype(gm._data.dtype)  # 2 ** -exponent, exact
        return gm * Tensor._make(scale)


def frexp(input: Tensor, *, out=None):
    """Splits ``input`` into mantissa and exponent: ``input == mantissa * 2 ** exponent``
    with ``0.5 <= |mantissa| < 1`` (the exponent is int32; 0, inf and NaN have exponent
    0). Returns ``(mantissa, exponent)`` as ``torch.return_types.frexp``."""
    if not input.is_floating_point():
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    m, e = Frexp.apply(input)
    if out is not None:
        from .shape import resize_out

        m, e = resize_out(out[0], m), resize_out(out[1], e)
    return _frexp_result((m, e))


# -- nextafter -----------------------------------------------------------------------------
def _nextafter_bits(xp, a, b):
    """``nextafter`` by stepping the bit pattern, with every comparison made on integers (for
    bfloat16, which numpy lacks it for, and on CUDA, whose float kernels flush subnormals)."""
    uint = np.dtype(f"u{a.dtype.itemsize}")
    sign_bit = uint.type(1) << uint.type(8 * a.itemsize - 1)
    ua, ub = a.view(uint), b.view(uint)
    inf_bits = np.array(np.inf, dtype=a.dtype).view(uint)
    mag_a, mag_b = ua & ~sign_bit, ub & ~sign_bit
    nan = (mag_a > inf_bits) | (mag_b > inf_bits)
    # an order-preserving integer key: magnitude, negated for negative values (-0 == +0)
    ka, kb = mag_a.astype(np.int64), mag_b.astype(np.int64)
    ka = xp.where((ua & sign_bit) != 0, -ka, ka)
    kb = xp.where((ub & sign_bit) != 0, -kb, kb)
    up = (ka < kb) == (ka > 0)
    stepped = xp.where(up, ua + uint.type(1), ua - uint.type(1)).astype(uint)
    tiny = ((ub & sign_bit) | uint.type(1)).astype(uint)  # the smallest subnormal towards b
    r = xp.where(mag_a == 0, tiny, stepped)
    r = xp.where(ka == kb, ub, r)
    r = xp.where(nan, xp.where(mag_a > inf_bits, ua, ub), r)
    return r.astype(uint).view(a.dtype)


class Nextafter(Op):
    """The next representable value after ``a`` towards ``b``. As in PyTorch, ``a``'s
    gradient passes through where ``a != b`` and ``b`` gets none."""

    _name = "nextafter"
    save_inputs = (0, 1)

    def forward(self, a, b):
        xp = xp_of(a)
        if a.dtype == _BF16 or xp is not np:  # cupy's runs in float with -ftz, inexact
            a, b = xp.broadcast_arrays(a, b)
            with np.errstate(invalid="ignore"):  # NaN operands compare False, as intended
                return _nextafter_bits(xp, a, b)
        return xp.nextafter(a, b)

    def backward(self, g):
        a, b = self.saved_tensors
        ga = gb = None
        if self.next_functions[0][0] is not None:
            ga = unbroadcast(where(a == b, g * 0, g), a.shape)
        if self.next_functions[1][0] is not None:
            gb = unbroadcast(g * 0, b.shape)
        return ga, gb


def nextafter(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """The next floating-point value after ``input`` towards ``other``, elementwise."""
    a, b = _tensor_operands("nextafter", input, other)
    if not a.is_floating_point():
        raise NotImplementedError(f"\"nextafter_cpu\" not implemented for "
                                  f"'{_pt_name(a.dtype)}'")
    return _out(Nextafter.apply(a, b), out)
