"""Special functions: gamma family (lgamma, digamma, polygamma, mvlgamma), erfinv, erfcx,
Bessel functions (i0, i0e, i1, i1e, j0, j1), the normal distribution (ndtr, ndtri,
log_ndtr), xlogy/xlog1py, entr, zeta and the incomplete gamma functions.

Kernels come from ``scipy.special`` for numpy arrays and ``cupyx.scipy.special`` for cupy
arrays (both imported lazily); gradients are written with ember ops, so they differentiate
again.
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ._prep import binary_operands, special_module, to_float, unbroadcast
from .elementwise import _out, exp, sign, where
from .op import Op, xp_of

__all__ = ["lgamma", "digamma", "polygamma", "mvlgamma", "erfinv", "i0", "i0e", "i1", "i1e",
           "ndtr", "ndtri", "log_ndtr", "erfcx", "xlogy", "xlog1py", "entr", "bessel_j0",
           "bessel_j1", "zeta", "gammainc", "gammaincc", "igamma", "igammac"]

_SQRT_2PI = math.sqrt(2 * math.pi)


def _call(name: str, *arrays):
    """``scipy.special.<name>`` (or cupyx's) on arrays, computed in float32 at least and
    returned in the first array's dtype."""
    x = arrays[0]
    sp = special_module(x)
    dt = x.dtype
    if dt.itemsize < 4 and dt.kind == "f":
        arrays = tuple(a.astype(np.float32) for a in arrays)
    with np.errstate(all="ignore"):
        r = getattr(sp, name)(*arrays)
        if name == "xlog1py" and type(x) is not np.ndarray:  # cupyx gives 0 for (0, NaN)
            xp = xp_of(r)
            r = xp.where(xp.isnan(arrays[1]), arrays[1].astype(r.dtype), r)
    return r.astype(dt, copy=False)


def _unary(name: str, kernel: str, bwd=None, save: str = "input", doc: str = ""):
    attrs = {"_name": name, "forward": lambda self, x: _call(kernel, x)}
    if bwd is None:
        attrs["differentiable"] = False
    elif save == "input":
        attrs["save_inputs"] = (0,)
        attrs["backward"] = lambda self, g: bwd(g, self.saved_tensors[0], None)
    else:
        attrs["save_inputs"] = (0,)
        attrs["save_output"] = True
        attrs["backward"] = lambda self, g: bwd(g, self.saved_tensors[0], self.saved_output())
    cls = type("Special" + name.capitalize(), (Op,), attrs)

    def fn(input: Tensor, *, out=None) -> Tensor:
        return _out(cls.apply(to_float(input)), out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc or f"``torch.special.{name}``, elementwise."
    fn.op = cls
    return fn


lgamma = _unary("lgamma", "gammaln", lambda g, x, y: g * digamma(x),
                doc="The log of the absolute value of the gamma function.")
lgamma.op.forward = lambda self, x: _abs_inf(_call("gammaln", x), x)


def _abs_inf(r, x):
    """lgamma(-inf) is +inf (log |gamma|), where scipy gives -inf."""
    return xp_of(r).where(x == -np.inf, r.dtype.type(np.inf), r) if r.dtype.kind == "f" \
        else r
digamma = _unary("digamma", "psi", lambda g, x, y: g * polygamma(1, x),
                 doc="The logarithmic derivative of the gamma function.")
erfinv = _unary("erfinv", "erfinv",
                lambda g, x, y: g * (math.sqrt(math.pi) / 2) * exp(y * y), save="output",
                doc="The inverse error function.")
i0 = _unary("i0", "i0", lambda g, x, y: g * i1(x),
            doc="The modified Bessel function of the first kind, order 0.")
i0e = _unary("i0e", "i0e", lambda g, x, y: g * (i1e(x) - sign(x) * y), save="output",
             doc="The exponentially scaled ``i0``: ``exp(-|x|) * i0(x)``.")


def _i1_grad(g, x, y):
    safe = where(x == 0, 1.0, x)
    return g * where(x == 0, 0.5, i0(x) - y / safe)


def _i1e_grad(g, x, y):
    safe = where(x == 0, 1.0, x)
    return g * where(x == 0, 0.5, i0e(x) - y * (sign(x) + 1 / safe))


i1 = _unary("i1", "i1", _i1_grad, save="output",
            doc="The modified Bessel function of the first kind, order 1.")
i1e = _unary("i1e", "i1e", _i1e_grad, save="output",
             doc="The exponentially scaled ``i1``: ``exp(-|x|) * i1(x)``.")
ndtr = _unary("ndtr", "ndtr", lambda g, x, y: g * exp(x * x * -0.5) / _SQRT_2PI,
              doc="The standard normal cumulative distribution function.")
ndtri = _unary("ndtri", "ndtri", lambda g, x, y: g * _SQRT_2PI * exp(y * y * 0.5),
               save="output", doc="The inverse of ``ndtr``.")
log_ndtr = _unary("log_ndtr", "log_ndtr",
                  lambda g, x, y: g * exp(-(y + x * x * 0.5)) / _SQRT_2PI, save="output",
                  doc="``log(ndtr(x))``, accurate in the far left tail.")
erfcx = _unary("erfcx", "erfcx",
               lambda g, x, y: g * (2 * x * y - 2 / math.sqrt(math.pi)), save="output",
               doc="The scaled complementary error function ``exp(x**2) * erfc(x)``.")
bessel_j0 = _unary("bessel_j0", "j0", doc="The Bessel function of the first kind, order 0.")
bessel_j1 = _unary("bessel_j1", "j1", doc="The Bessel function of the first kind, order 1.")


class Entr(Op):
    _name = "entr"
    opmath = True
    save_inputs = (0,)

    def forward(self, x):
        return _call("entr", x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * -(1 + x.log())


def entr(input: Tensor, *, out=None) -> Tensor:
    """``-x * log(x)`` for ``x > 0``, 0 at 0, ``-inf`` below."""
    return _out(Entr.apply(to_float(input)), out)


class Polygamma(Op):
    _name = "polygamma"
    opmath = True
    save_inputs = (0,)

    def forward(self, x):
        if self.n == 0:
            return _call("psi", x)
        sp = special_module(x)
        n = self.n if type(x) is np.ndarray else xp_of(x).asarray(self.n)  # cupyx needs arrays
        with np.errstate(all="ignore"):
            return sp.polygamma(n, x).astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * Polygamma.apply(x, n=self.n + 1)


def polygamma(n: int, input: Tensor, *, out=None) -> Tensor:
    """The ``n``-th derivative of the digamma function."""
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return _out(Polygamma.apply(to_float(input), n=int(n)), out)


def mvlgamma(input: Tensor, p: int, *, out=None) -> Tensor:
    """The multivariate log-gamma function of dimension ``p``:
    ``p(p-1)/4 log(pi) + sum_i lgamma(x - i/2)``."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    x = to_float(input)
    shifts = Tensor._make(
        (-np.arange(p, dtype=np.float64) / 2).astype(x._data.dtype))
    if type(x._data) is not np.ndarray:  # pragma: no cover - cuda
        shifts = shifts.to(x.device)
    r = lgamma(x.unsqueeze(-1) + shifts).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)
    return _out(r, out)


def _binary_special(name: str, kernel: str, bwd, doc: str):
    attrs = {"_name": name, "save_inputs": (0, 1),
             "forward": lambda self, a, b: _call(kernel, a, b)}

    def backward(self, g):
        a, b = self.saved_tensors
        ga, gb = bwd(self, g, a, b)
        return (unbroadcast(ga, a.shape) if ga is not None and self.next_functions[0][0]
                else None,
                unbroadcast(gb, b.shape) if gb is not None and self.next_functions[1][0]
                else None)

    attrs["backward"] = backward
    cls = type("Special" + name.capitalize(), (Op,), attrs)

    def fn(input, other, *, out=None) -> Tensor:
        a, b = binary_operands(input, other, name)
        return _out(cls.apply(to_float(a), to_float(b)), out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    fn.op = cls
    return fn


def _xlogy_grad(node, g, x, y):
    return where((x == 0) & (y <= 0), 0.0, xlogy(g, y)), g * x / y


def _xlog1py_grad(node, g, x, y):
    return where((x == 0) & (y <= -1), 0.0, xlog1py(g, y)), g * x / (1 + y)


def _no_grad(what: str):
    def bwd(node, g, a, b):
        raise NotImplementedError(f"the derivative for '{what}' is not implemented.")
    return bwd


def _gammainc_grad(sign_: float, what: str):
    def bwd(node, g, a, x):
        if node.next_functions[0][0] is not None:
            raise NotImplementedError(f"the derivative for '{what}: input' is not "
                                      "implemented.")
        return None, g * sign_ * exp(-x + (a - 1) * x.log() - lgamma(a))
    return bwd


xlogy = _binary_special("xlogy", "xlogy", _xlogy_grad,
                        "``x * log(y)``, 0 where ``x == 0`` (unless ``y`` is NaN).")
xlog1py = _binary_special("xlog1py", "xlog1py", _xlog1py_grad,
                          "``x * log1p(y)``, 0 where ``x == 0`` (unless ``y`` is NaN).")
zeta = _binary_special("zeta", "zeta", _no_grad("zeta"), "The Hurwitz zeta function.")
gammainc = _binary_special("gammainc", "gammainc", _gammainc_grad(1.0, "igamma"),
                           "The regularized lower incomplete gamma function.")
gammaincc = _binary_special("gammaincc", "gammaincc", _gammainc_grad(-1.0, "igammac"),
                            "The regularized upper incomplete gamma function.")
igamma, igammac = gammainc, gammaincc  # torch.igamma / torch.igammac
