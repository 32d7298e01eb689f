"""Scans along one dimension: cumprod (with zeros), cummax/cummin, logcumsumexp, diff, and
the trapezoid rules."""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap_dim
from ..autograd.grad_mode import _State
from ..return_types import cummax as _cummax_rt
from ..return_types import cummin as _cummin_rt
from ._prep import accepts_axis, cast, to_float
from .elementwise import where
from .op import Op, xp_of
from .reduce import scan_accumulate

__all__ = ["cumprod", "cummax", "cummin", "logcumsumexp", "diff", "trapezoid", "trapz",
           "cumulative_trapezoid", "gradient"]


def _rev_cumsum(t: Tensor, d: int) -> Tensor:
    return t.flip(d).cumsum(d).flip(d)


class Cumprod(Op):
    _name = "cumprod"
    save_inputs = (0,)
    save_output = True

    def forward(self, x):
        if x.ndim == 0:
            return x.copy()
        r = scan_accumulate(x, "cumprod", self.dim)
        if x.dtype.kind in "bui" and r.dtype != np.int64:
            r = r.astype(np.int64)
        return r

    def backward(self, g):
        (x,) = self.saved_tensors
        if x.ndim == 0:
            return g
        d = self.dim
        y = self.saved_output()
        is_zero = x == 0
        if not bool(is_zero.any()):
            return _rev_cumsum(g * y, d) / x
        if _State.enabled:  # create_graph: the O(n^2) form, differentiable everywhere
            return _cumprod_grad_quadratic(x, g, d)
        # Elements before the first zero of their slice: the usual formula. The first zero:
        # the product of what precedes it times the reverse cumsum of g against the
        # products that start after it. Elements after the first zero: no gradient.
        zc = is_zero.cumsum(d)
        before = zc == 0
        first = is_zero & (zc == 1)
        one = x.new_ones(())
        safe = where(before, x, one)
        part1 = where(before, _rev_cumsum(g * y, d) / safe, 0.0)
        prefix = Cumprod.apply(safe, dim=d)  # at the first zero: the product before it
        after = Cumprod.apply(where(before | first, one, x), dim=d)
        part2 = where(first, prefix * _rev_cumsum(g * after, d), 0.0)
        return part1 + part2


def _cumprod_grad_quadratic(x: Tensor, g: Tensor, d: int) -> Tensor:
    """``grad_j = sum_{k >= j} g_k prod_{i <= k, i != j} x_i`` with an (n, n) matrix per
    slice: slower, but its own derivative is right where ``x`` has zeros."""
    from .index import _tri

    xm, gm = x.movedim(d, -1), g.movedim(d, -1)
    n = xm.shape[-1]
    eye = Tensor._make(xp_of(x._data).eye(n, dtype=bool))
    rows = where(eye, x.new_ones(()), xm.unsqueeze(-2).expand(xm.shape[:-1] + (n, n)))
    prods = Cumprod.apply(rows, dim=rows.ndim - 1)  # [..., j, k] = prod_{i<=k, i!=j} x_i
    upper = _tri(x.new_ones((n, n)), 0, False, "triu")
    return (prods * upper * gm.unsqueeze(-2)).sum(-1).movedim(-1, d)


@accepts_axis
def cumprod(input: Tensor, dim: int, *, dtype=None, out=None) -> Tensor:
    """Cumulative product along ``dim`` (integer inputs accumulate in int64)."""
    if dtype is not None:
        dtype = _dtype.to_dtype(dtype)
        input = cast(input, dtype)
    r = Cumprod.apply(input, dim=_wrap_dim(dim, input.ndim))
    if dtype is not None and r.dtype is not dtype:  # an integer product stays in ``dtype``
        r = cast(r, dtype)
    return _out(r, out)


def _out(r, out):
    if out is None:
        return r
    from .shape import resize_out

    return resize_out(out, r)


class CumMaxMin(Op):
    """Running max/min along ``dim`` with the index where it was (last) reached; NaN
    propagates. The gradient goes to those indices."""

    _name = "cummax"
    n_outputs = 2

    def forward(self, x):
        xp = xp_of(x)
        d = self.dim
        self.shape = x.shape
        if x.ndim == 0:
            self.idx = xp.zeros((), dtype=np.int64)
            return x.copy(), self.idx
        if x.size == 0:
            self.idx = xp.zeros(x.shape, dtype=np.int64)
            return x.copy(), self.idx
        uf = xp.maximum if self.is_max else xp.minimum
        vals = uf.accumulate(x, axis=d) if xp is np else _accumulate(xp, uf, x, d)
        n = x.shape[d]
        pos = xp.arange(n, dtype=np.int64).reshape((n,) + (1,) * (x.ndim - d - 1))
        hit = x == vals
        if x.dtype.kind == "f":
            hit |= xp.isnan(x)
        cand = xp.where(hit, pos, 0)
        idx = xp.maximum.accumulate(cand, axis=d) if xp is np else \
            _accumulate(xp, xp.maximum, cand, d)
        self.idx = idx
        return vals, idx

    def backward(self, g, _gi=None):
        if g is None:
            return None
        if len(self.shape) == 0:
            return g
        from .index import ScatterAdd

        return ScatterAdd.apply(g.new_zeros(self.shape), Tensor._make(self.idx), g,
                                dim=self.dim)


def _accumulate(xp, uf, x, d):  # pragma: no cover - cuda (cupy ufuncs lack accumulate)
    """A running reduction by doubling: log2(n) vectorised steps."""
    x = xp.moveaxis(x, d, -1).copy()
    n = x.shape[-1]
    k = 1
    while k < n:
        x[..., k:] = uf(x[..., k:], x[..., :-k])
        k *= 2
    return xp.moveaxis(x, -1, d)


def _cum_extreme(input: Tensor, dim: int, is_max: bool):
    d = _wrap_dim(dim, input.ndim)
    if input._data.dtype == np.bool_:
        input = cast(input, np.uint8)
        vals, idx = CumMaxMin.apply(input, dim=d, is_max=is_max)
        return cast(vals, np.bool_), idx
    return CumMaxMin.apply(input, dim=d, is_max=is_max)


def cummax(input: Tensor, dim: int):
    """(values, indices) of the running maximum along ``dim``."""
    return _cummax_rt(_cum_extreme(input, dim, True))


def cummin(input: Tensor, dim: int):
    """(values, indices) of the running minimum along ``dim``."""
    return _cummin_rt(_cum_extreme(input, dim, False))


class LogCumSumExp(Op):
    _name = "logcumsumexp"
    opmath = True
    save_inputs = (0,)
    save_output = True

    def forward(self, x):
        xp = xp_of(x)
        if x.ndim == 0:
            return x.copy()
        if xp is np:
            with np.errstate(invalid="ignore", over="ignore"):
                return np.logaddexp.accumulate(x, axis=self.dim)
        d = self.dim  # pragma: no cover - cuda
        return _accumulate(xp, xp.logaddexp, x, d)  # pragma: no cover - cuda

    def backward(self, g):
        (x,) = self.saved_tensors
        if x.ndim == 0:
            return g
        d = self.dim
        y = self.saved_output()
        # sum_{k >= i} g_k exp(x_i - y_k), in log space for each sign of g
        neg_inf = g.new_full((), float("-inf"))
        pos = where(g > 0, g, 1.0).log() - y
        neg = where(g < 0, -g, 1.0).log() - y
        pos = where(g > 0, pos, neg_inf)
        neg = where(g < 0, neg, neg_inf)
        rp = logcumsumexp(pos.flip(d), d).flip(d)
        rn = logcumsumexp(neg.flip(d), d).flip(d)
        return (rp + x).exp() - (rn + x).exp()


def logcumsumexp(input: Tensor, dim: int, *, out=None) -> Tensor:
    """``log(cumsum(exp(input), dim))``, computed stably."""
    x = to_float(input)
    return _out(LogCumSumExp.apply(x, dim=_wrap_dim(dim, x.ndim)), out)


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """The ``n``-th forward difference along ``dim`` (``prepend``/``append`` joined first);
    for bool tensors, consecutive elements are XOR-ed."""
    from .shape import cat, narrow

    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _wrap_dim(dim, input.ndim)
    parts = [t for t in (prepend, input, append) if t is not None]
    if len(parts) > 1:
        parts = [t if t.ndim else t.expand(input.shape[:d] + (1,) + input.shape[d + 1:])
                 for t in parts]
        x = cat(parts, d)
    else:
        x = input
    for _ in range(n):  # n is the difference order (small)
        m = x.shape[d]
        if m == 0:
            break
        a, b = narrow(x, d, 1, m - 1), narrow(x, d, 0, m - 1)
        x = a ^ b if x._data.dtype == np.bool_ else a - b
    return x


def trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The trapezoid rule along ``dim`` with sample points ``x`` or spacing ``dx``."""
    from .shape import narrow

    d = _wrap_dim(dim, y.ndim)
    n = y.shape[d]
    if n == 0:
        return y.sum(d) * 0
    left, right = narrow(y, d, 0, n - 1), narrow(y, d, 1, n - 1)
    if isinstance(x, Tensor):
        dxs = diff(x, dim=-1 if x.ndim == 1 else d)
        if x.ndim == 1:
            dxs = dxs.reshape((-1,) + (1,) * (y.ndim - d - 1))
        return ((left + right) * dxs).sum(d) / 2
    step = dx if dx is not None else (x if x is not None else 1)
    return (left + right).sum(d) * (step / 2)


trapz = trapezoid


def cumulative_trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The running trapezoid rule along ``dim`` (one fewer element than ``y``)."""
    from .shape import narrow

    d = _wrap_dim(dim, y.ndim)
    n = y.shape[d]
    if n == 0:
        return y.clone()
    left, right = narrow(y, d, 0, n - 1), narrow(y, d, 1, n - 1)
    if isinstance(x, Tensor):
        dxs = diff(x, dim=-1 if x.ndim == 1 else d)
        if x.ndim == 1:
            dxs = dxs.reshape((-1,) + (1,) * (y.ndim - d - 1))
        return ((left + right) * dxs / 2).cumsum(d)
    step = dx if dx is not None else (x if x is not None else 1)
    return ((left + right) * (step / 2)).cumsum(d)


# -- gradient --------------------------------------------------------------------------------
def gradient(input: Tensor, *, spacing=None, dim=None, edge_order: int = 1) -> tuple:
    """Estimates the partial derivatives of the function sampled by ``input`` along each of
    ``dim`` (default: every dimension) by second-order central differences, with first- or
    second-order (``edge_order``) one-sided differences at the ends. ``spacing`` is a number
    or a list of numbers (the step of each dimension) or a list of 1-D tensors (the sample
    coordinates of each dimension). Returns one tensor per dimension."""
    if input._data.dtype == np.uint8:
        raise RuntimeError("torch.gradient does not support uint8 input.")
    dims = list(range(input.ndim)) if dim is None else (
        [dim] if isinstance(dim, int) else list(dim))
    if spacing is None or isinstance(spacing, (int, float, complex)):
        steps = [1.0 if spacing is None else spacing] * len(dims)
    elif isinstance(spacing, (list, tuple)):
        steps = list(spacing)
        want = isinstance(steps[0], Tensor) if steps else False
        for i, s in enumerate(steps):
            if isinstance(s, Tensor) != want or not (want or isinstance(s, (int, float,
                                                                             complex))):
                raise TypeError(f"gradient(): expected {'Tensor' if want else 'a number'} as "
                                f"element {i} of spacing, but got {type(s).__name__}")
        if dim is None and len(steps) != input.ndim:
            raise RuntimeError(
                "torch.gradient expected spacing to be unspecified, a scalar, or a list of "
                f"length equal to 'self.dim() = {input.ndim}', since dim argument was not "
                f"given, but got a list of length {len(steps)}")
        if dim is not None and len(steps) != len(dims):
            raise RuntimeError(
                "torch.gradient expected spacing to be unspecified, a scalar or it's spacing "
                "and dim arguments to have the same length, but got a spacing argument of "
                f"length {len(steps)} and a dim argument of length {len(dims)}.")
    else:
        raise TypeError("gradient(): spacing must be a number, a sequence of numbers or a "
                        f"sequence of 1-D tensors, not {type(spacing).__name__}")
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = [_wrap_dim(d, input.ndim) for d in dims]
    if len(set(dims)) != len(dims):
        raise RuntimeError("gradient(): dim appears multiple times in the list of dims")
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
    return tuple(_gradient_coords(input, s, d, edge_order) if isinstance(s, Tensor)
                 else _gradient_uniform(input, s, d, edge_order) for s, d in zip(steps, dims))


def _gradient_uniform(x: Tensor, h, d: int, edge_order: int) -> Tensor:
    """``gradient`` along ``d`` for samples ``h`` apart."""
    from .shape import cat, narrow

    n = x.shape[d]

    def sl(start, length):
        return narrow(x, d, start, length)

    center = (sl(2, n - 2) - sl(0, n - 2)) / h
    if edge_order == 1:
        first = (sl(1, 1) - sl(0, 1)) / h
        last = (sl(n - 1, 1) - sl(n - 2, 1)) / h
    else:
        first = (sl(0, 1) * -1.5 + sl(1, 1) * 2 + sl(2, 1) * -0.5) / h
        last = (sl(n - 3, 1) * 0.5 + sl(n - 2, 1) * -2 + sl(n - 1, 1) * 1.5) / h
    return cat([first, center / 2, last], d)


def _gradient_coords(x: Tensor, coords: Tensor, d: int, edge_order: int) -> Tensor:
    """``gradient`` along ``d`` for samples at the 1-D coordinates ``coords``."""
    from .shape import cat, narrow

    if coords.ndim != 1:
        raise RuntimeError("torch.gradient expected each element of spacing to have one "
                           f"dimension, but got an element with {coords.ndim} dimensions!")
    n = x.shape[d]

    def sl(start, length):
        return narrow(x, d, start, length)

    shape = [1] * x.ndim
    shape[d] = -1
    h = diff(coords, 1, 0)
    m = h.shape[0]
    h1, h2 = narrow(h, 0, 0, max(m - 1, 0)), narrow(h, 0, 1, max(m - 1, 0))
    a = (-h2 / (h1 * (h1 + h2))).reshape(shape)
    b = ((h2 - h1) / (h1 * h2)).reshape(shape)
    c = (h1 / (h2 * (h1 + h2))).reshape(shape)
    center = a * sl(0, n - 2) + b * sl(1, n - 2) + c * sl(2, n - 2)
    if edge_order == 1:
        first = (sl(1, 1) - sl(0, 1)) / h[0]
        last = (sl(n - 1, 1) - sl(n - 2, 1)) / h[-1]
    else:
        h0, h1_, hl, hl2 = h[0], h[1], h[-1], h[-2]
        first = (-(2.0 * h0 + h1_) / (h0 * (h0 + h1_)) * sl(0, 1) +
                 (h0 + h1_) / (h0 * h1_) * sl(1, 1) +
                 -h0 / (h1_ * (h0 + h1_)) * sl(2, 1))
        last = (hl / (hl2 * (hl + hl2)) * sl(n - 3, 1) +
                -(hl + hl2) / (hl * hl2) * sl(n - 2, 1) +
                (2 * hl + hl2) / (hl * (hl + hl2)) * sl(n - 1, 1))
    return cat([first, center, last], d)
