"""The Bessel/Airy functions and orthogonal polynomials of ``torch.special``
(``bessel_y0``, ``modified_bessel_k1``, ``airy_ai``, ``chebyshev_polynomial_t(x, n)``, ...).

Not differentiable, as in PyTorch (their outputs never require grad). The Bessel kernels are
``scipy.special``'s (``cupyx.scipy.special`` on CUDA, both imported lazily); the polynomials
run PyTorch's recurrences on the array module of the input, with its special cases: 0 for
``n < 0``, closed values at ``|x| == 1`` (``x == 0`` or ``1`` for the shifted Chebyshev
forms), and the trigonometric forms for large ``n`` inside ``(-1, 1)``. ``n`` is truncated
to an integer, as PyTorch's ``static_cast<int64_t>``.
"""

from __future__ import annotations

import numpy as np

from ._tensor import Tensor
from .ops._prep import binary_operands, special_module, to_float
from .ops.elementwise import _out
from .ops.op import Op, xp_of

__all__ = ["airy_ai", "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1",
           "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
           "scaled_modified_bessel_k1", "spherical_bessel_j0", "chebyshev_polynomial_t",
           "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
           "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
           "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w",
           "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
           "legendre_polynomial_p"]


def _float_input(x: Tensor, name: str) -> Tensor:
    if x._data.dtype.kind == "f" and x._data.dtype.itemsize < 4:
        raise NotImplementedError(f'"{name}_cpu" not implemented for '
                                  f"'{'Half' if x._data.dtype == np.float16 else 'BFloat16'}'")
    return to_float(x)


def _unary(name: str, kernel):
    cls = type("Special" + "".join(w.capitalize() for w in name.split("_")), (Op,),
               {"_name": name, "differentiable": False,
                "forward": lambda self, x: _errstate_call(kernel, x)})

    def fn(input: Tensor, *, out=None) -> Tensor:
        return _out(cls.apply(_float_input(input, name)), out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``torch.special.{name}``, elementwise (not differentiable)."
    fn.op = cls
    return fn


def _errstate_call(kernel, x):
    with np.errstate(all="ignore"):
        r = kernel(x)
    return r.astype(x.dtype, copy=False)


def _sp(name):
    return lambda x: getattr(special_module(x), name)(x)


def _spherical_j0(x):
    xp = xp_of(x)
    x2 = x * x
    series = 1 + x2 * (-1 / 6 + x2 * (1 / 120 + x2 * (-1 / 5040 + x2 * (
        1 / 362880 + x2 * (-1 / 39916800 + x2 * (1 / 6227020800))))))
    safe = xp.where(x == 0, 1, x)
    r = xp.where(xp.abs(x) < 0.5, series, xp.sin(safe) / safe)
    return xp.where(xp.isinf(x), 0, r)


airy_ai = _unary("airy_ai", lambda x: special_module(x).airy(x)[0])
bessel_y0 = _unary("bessel_y0", _sp("y0"))
bessel_y1 = _unary("bessel_y1", _sp("y1"))
modified_bessel_i0 = _unary("modified_bessel_i0", _sp("i0"))
modified_bessel_i1 = _unary("modified_bessel_i1", _sp("i1"))
modified_bessel_k0 = _unary("modified_bessel_k0", _sp("k0"))
modified_bessel_k1 = _unary("modified_bessel_k1", _sp("k1"))
scaled_modified_bessel_k0 = _unary("scaled_modified_bessel_k0", _sp("k0e"))
scaled_modified_bessel_k1 = _unary("scaled_modified_bessel_k1", _sp("k1e"))
spherical_bessel_j0 = _unary("spherical_bessel_j0", _spherical_j0)


# -- orthogonal polynomials --------------------------------------------------------------

def _recurrence(xp, k, rec_mask, p0, p1, step):
    """Degree-``k`` values of the three-term recurrence ``step(m, p_{m-2}, p_{m-1})`` from
    ``p0``, ``p1``, run up to the largest ``k`` where ``rec_mask``."""
    out = xp.where(k == 0, p0, p1)
    if not bool(rec_mask.any()):
        return out
    nmax = int(k[rec_mask].max())
    p, q = p0, p1
    for m in range(2, nmax + 1):
        r = step(m, p, q)
        out = xp.where(k == m, r, out)
        p, q = q, r
    return out


def _sign_n(xp, k, a, b):
    """``a`` where ``k`` is even, else ``b``."""
    return xp.where(k % 2 == 0, a, b)


def _cheb_t(xp, x, k):
    one = xp.abs(x) == 1
    trig = (k > 6) & (xp.abs(x) < 1)
    rec = _recurrence(xp, k, (k >= 0) & ~one & ~trig, xp.ones_like(x), x,
                      lambda m, p, q: (x + x) * q - p)
    r = xp.where(trig, xp.cos(k * xp.arccos(xp.clip(x, -1, 1))), rec)
    r = xp.where(one, xp.where((x > 0) | (k % 2 == 0), 1.0, -1.0), r)
    return xp.where(k < 0, 0.0, r)


def _cheb_u(xp, x, k):
    one = xp.abs(x) == 1
    trig = (k > 8) & (xp.abs(x) < 1)
    rec = _recurrence(xp, k, (k >= 0) & ~one & ~trig, xp.ones_like(x), x + x,
                      lambda m, p, q: (x + x) * q - p)
    t = xp.arccos(xp.clip(x, -1, 1))
    st = xp.sin(t)
    safe = xp.where(st != 0, st, 1.0)
    tr = xp.where(st != 0, xp.sin((k + 1) * t) / safe, (k + 1) * xp.cos((k + 1) * t) * x)
    r = xp.where(trig, tr, rec)
    r = xp.where(one, xp.where((x > 0) | (k % 2 == 0), k + 1.0, -(k + 1.0)), r)
    return xp.where(k < 0, 0.0, r)


def _cheb_v(xp, x, k):
    one = xp.abs(x) == 1
    trig = (k > 8) & (xp.abs(x) < 1)
    rec = _recurrence(xp, k, (k >= 0) & ~one & ~trig, xp.ones_like(x), x + x - 1,
                      lambda m, p, q: (x + x) * q - p)
    t = xp.arccos(xp.clip(x, -1, 1))
    ok = xp.sin(t / 2) != 1
    safe = xp.where(ok, xp.cos(t / 2), 1.0)
    tr = xp.where(ok, xp.cos((k + 0.5) * t) / safe, _sign_n(xp, k, k + k + 1.0, -(k + k + 1.0)))
    r = xp.where(trig, tr, rec)
    r = xp.where(one, xp.where(x > 0, 1.0, _sign_n(xp, k, k + k + 1.0, -(k + k + 1.0))), r)
    return xp.where(k < 0, 0.0, r)


def _cheb_w(xp, x, k):
    one = xp.abs(x) == 1
    trig = (k > 8) & (xp.abs(x) < 1)
    rec = _recurrence(xp, k, (k >= 0) & ~one & ~trig, xp.ones_like(x), x + x + 1,
                      lambda m, p, q: (x + x) * q - p)
    t = xp.arccos(xp.clip(x, -1, 1))
    ok = xp.cos(t / 2) != 1
    safe = xp.where(ok, xp.sin(t / 2), 1.0)
    tr = xp.where(ok, xp.sin((k + 0.5) * t) / safe,
                  xp.where(x > 0, k + k + 1.0, _sign_n(xp, k, 1.0, -1.0)))
    r = xp.where(trig, tr, rec)
    r = xp.where(one, xp.where(x > 0, k + k + 1.0, _sign_n(xp, k, 1.0, -1.0)), r)
    return xp.where(k < 0, 0.0, r)


def _shifted(kind: str, threshold: int):
    def kernel(xp, x, k):
        y = x + x - 1
        at1, at0 = x == 1, x == 0
        trig = (k > threshold) & (xp.abs(y) < 1)
        p1 = {"t": y, "u": y + y, "v": y + y - 1, "w": y + y + 1}[kind]
        rec = _recurrence(xp, k, (k >= 0) & ~at1 & ~at0 & ~trig, xp.ones_like(x), p1,
                          lambda m, p, q: (y + y) * q - p)
        t = xp.arccos(xp.clip(y, -1, 1))
        if kind == "t":
            tr = xp.cos(k * t)
            v1, v0 = 1.0, _sign_n(xp, k, 1.0, -1.0)
        elif kind == "u":
            st = xp.sin(t)
            safe = xp.where(st != 0, st, 1.0)
            tr = xp.where(st != 0, xp.sin((k + 1) * t) / safe, (k + 1) * xp.cos((k + 1) * t) * y)
            v1, v0 = k + 1.0, _sign_n(xp, k, k + 1.0, -(k + 1.0))
        elif kind == "v":
            ok = xp.sin(t / 2) != 1
            safe = xp.where(ok, xp.cos(t / 2), 1.0)
            alt = _sign_n(xp, k, k + k + 1.0, -(k + k + 1.0))
            tr = xp.where(ok, xp.cos((k + 0.5) * t) / safe, alt)
            v1, v0 = 1.0, alt
        else:
            ok = xp.cos(t / 2) != 1
            safe = xp.where(ok, xp.sin(t / 2), 1.0)
            alt = _sign_n(xp, k, 1.0, -1.0)
            tr = xp.where(ok, xp.sin((k + 0.5) * t) / safe, alt)
            v1, v0 = k + k + 1.0, alt
        r = xp.where(trig, tr, rec)
        r = xp.where(at0, v0, r)
        r = xp.where(at1, v1, r)
        return xp.where(k < 0, 0.0, r)
    return kernel


def _hermite_h(xp, x, k):
    rec = _recurrence(xp, k, k >= 0, xp.ones_like(x), x + x,
                      lambda m, p, q: (x + x) * q - 2 * (m - 1) * p)
    return xp.where(k < 0, 0.0, rec)


def _hermite_he(xp, x, k):
    rec = _recurrence(xp, k, k >= 0, xp.ones_like(x), x,
                      lambda m, p, q: x * q - (m - 1) * p)
    return xp.where(k < 0, 0.0, rec)


def _laguerre_l(xp, x, k):
    zero = x == 0
    rec = _recurrence(xp, k, (k >= 0) & ~zero, xp.ones_like(x), 1 - x,
                      lambda m, p, q: ((2 * (m - 1) + (1 - x)) * q - (m - 1) * p) / m)
    r = xp.where(zero, 1.0, rec)
    return xp.where(k < 0, 0.0, r)


def _legendre_p(xp, x, k):
    one = xp.abs(x) == 1
    rec = _recurrence(xp, k, (k >= 0) & ~one, xp.ones_like(x), x,
                      lambda m, p, q: ((2 * m - 1) * x * q - (m - 1) * p) / m)
    r = xp.where(one, xp.where((x > 0) | (k % 2 == 0), 1.0, -1.0), rec)
    return xp.where(k < 0, 0.0, r)


def _polynomial(name: str, kernel):
    def forward(self, x, n):
        xp = xp_of(x)
        x, n = xp.broadcast_arrays(x, n)
        with np.errstate(all="ignore"):
            k = xp.trunc(n).astype(np.int64) if n.dtype.kind == "f" else n.astype(np.int64)
            r = kernel(xp, x, k)
        return xp.asarray(r).astype(x.dtype, copy=False)

    cls = type("Special" + "".join(w.capitalize() for w in name.split("_")), (Op,),
               {"_name": name, "differentiable": False, "forward": forward})

    def fn(input, n, *, out=None) -> Tensor:
        x, n = binary_operands(input, n, name)
        x = _float_input(x, name)
        n = to_float(n)
        return _out(cls.apply(x, n), out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``torch.special.{name}(input, n)``: the polynomial of degree ``n`` "
                  "(tensor or number) at ``input``, elementwise (not differentiable).")
    fn.op = cls
    return fn


chebyshev_polynomial_t = _polynomial("chebyshev_polynomial_t", _cheb_t)
chebyshev_polynomial_u = _polynomial("chebyshev_polynomial_u", _cheb_u)
chebyshev_polynomial_v = _polynomial("chebyshev_polynomial_v", _cheb_v)
chebyshev_polynomial_w = _polynomial("chebyshev_polynomial_w", _cheb_w)
shifted_chebyshev_polynomial_t = _polynomial("shifted_chebyshev_polynomial_t",
                                             _shifted("t", 6))
shifted_chebyshev_polynomial_u = _polynomial("shifted_chebyshev_polynomial_u",
                                             _shifted("u", 6))
shifted_chebyshev_polynomial_v = _polynomial("shifted_chebyshev_polynomial_v",
                                             _shifted("v", 6))
shifted_chebyshev_polynomial_w = _polynomial("shifted_chebyshev_polynomial_w",
                                             _shifted("w", 4))
hermite_polynomial_h = _polynomial("hermite_polynomial_h", _hermite_h)
hermite_polynomial_he = _polynomial("hermite_polynomial_he", _hermite_he)
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l", _laguerre_l)
legendre_polynomial_p = _polynomial("legendre_polynomial_p", _legendre_p)
