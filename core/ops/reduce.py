"""Reductions and scans: sum, mean, prod, max/min, arg-reductions, var/std, logsumexp,
softmax/log_softmax, cumsum, all/any."""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._autocast_state import fp32_op
from .._tensor import Tensor, _wrap_dim
from ..return_types import max as _max_rt
from ..return_types import min as _min_rt
from ..return_types import sort as _sort_rt
from ..return_types import topk as _topk_rt
from . import _opmath
from ._parallel import run_parts
from ._prep import accepts_axis, cast, to_float
from .op import FLOAT32_64, Op, graphless, xp_of

__all__ = ["sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "var",
           "std", "var_mean", "std_mean", "logsumexp", "softmax", "log_softmax", "cumsum",
           "all", "any", "norm", "sort", "argsort", "topk", "nanmean", "count_nonzero",
           "aminmax", "trace", "renorm", "cov", "corrcoef", "dist"]



def _numpy_names(dim, keepdim, axis, keepdims):
    """``dim``/``keepdim`` given by numpy's names ``axis``/``keepdims`` (PyTorch takes both)."""
    if axis is not None:
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    return dim, keepdim

def _dims(dim, ndim: int):
    """A tuple of non-negative dims, or None for all of them."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return None
        for d in dim:
            _check_int_dim(d)
        out = tuple(sorted({_wrap_dim(int(d), ndim) for d in dim}))
        if len(out) != len(dim):
            raise RuntimeError(f"dim {list(dim)} appears multiple times in the list of dims")
        return out
    _check_int_dim(dim)
    return (_wrap_dim(int(dim), ndim),)


def _check_int_dim(d) -> None:
    if not isinstance(d, (int, np.integer)) and not (isinstance(d, Tensor) and d.ndim == 0):
        raise TypeError(f"a dimension must be an int, got {type(d).__name__}")


def _axis(dims, ndim):
    if ndim == 0:
        return None
    return dims


def _expand_back(g: Tensor, shape, dims, keepdim: bool) -> Tensor:
    """Broadcasts a reduced gradient back over the reduced dims of ``shape``."""
    if not keepdim and len(shape):
        kshape = list(shape)
        for d in (range(len(shape)) if dims is None else dims):
            kshape[d] = 1
        g = g.reshape(kshape)
    return g.expand(shape)


class Sum(Op):
    _name = "sum"
    opmath = True

    def forward(self, x):
        self.shape = x.shape
        r = x.sum(axis=_axis(self.dims, x.ndim), keepdims=self.keepdim)
        if x.dtype.kind in "bui" and r.dtype != np.int64:
            r = r.astype(np.int64)
        return r

    def backward(self, g):
        return _expand_back(g, self.shape, self.dims, self.keepdim)


def sum(input: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None,
        dtype=None) -> Tensor:
    """Sum over ``dim`` (all dims when None); integer inputs sum to int64."""
    if axis is not None or keepdims is not None:  # numpy's names, as PyTorch accepts
        dim, keepdim = _numpy_names(dim, keepdim, axis, keepdims)
    if dtype is None:
        return Sum.apply(input, dims=_dims(dim, input.ndim), keepdim=keepdim)
    dtype = _dtype.to_dtype(dtype)
    input = cast(input, dtype)
    r = Sum.apply(input, dims=_dims(dim, input.ndim), keepdim=keepdim)
    return r if r.dtype is dtype else cast(r, dtype)  # an integer sum stays in ``dtype``


class NanSum(Op):
    _name = "nansum"
    opmath = True
    save_inputs = (0,)

    def forward(self, x):
        self.shape = x.shape
        return xp_of(x).asarray(xp_of(x).nansum(x, axis=_axis(self.dims, x.ndim),
                                                keepdims=self.keepdim))

    def backward(self, g):
        from .compare import isnan

        (x,) = self.saved_tensors
        return _expand_back(g, self.shape, self.dims, self.keepdim) * isnan(x).logical_not()


def nansum(input: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None,
           dtype=None) -> Tensor:
    """Sum treating NaN as zero."""
    if axis is not None or keepdims is not None:  # numpy's names, as PyTorch accepts
        dim, keepdim = _numpy_names(dim, keepdim, axis, keepdims)
    if dtype is not None:
        input = cast(input, _dtype.to_dtype(dtype))
    if input._data.dtype.kind not in "fc":
        return sum(input, dim, keepdim)
    return NanSum.apply(input, dims=_dims(dim, input.ndim), keepdim=keepdim)


class Mean(Op):
    _name = "mean"
    opmath = True

    def forward(self, x):
        self.shape = x.shape
        return x.mean(axis=_axis(self.dims, x.ndim), keepdims=self.keepdim)

    def backward(self, g):
        shape = self.shape
        n = 1
        for d in (range(len(shape)) if self.dims is None or not shape else self.dims):
            n *= shape[d]
        return _expand_back(g / n, shape, self.dims, self.keepdim)


def mean(input: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None,
         dtype=None) -> Tensor:
    """Mean over ``dim``; the input must be floating point or complex (or ``dtype`` given)."""
    if axis is not None or keepdims is not None:  # numpy's names, as PyTorch accepts
        dim, keepdim = _numpy_names(dim, keepdim, axis, keepdims)
    if dtype is not None:
        input = cast(input, _dtype.to_dtype(dtype))
    if input._data.dtype.kind not in "fc" and input.dtype is not _dtype.bfloat16:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {_pt_name(input.dtype)}")
    return Mean.apply(input, dims=_dims(dim, input.ndim), keepdim=keepdim)


def _pt_name(d) -> str:
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool", "float32": "Float", "float64": "Double",
            "float16": "Half"}.get(d.name, d.name)


class Prod(Op):
    _name = "prod"
    opmath = True
    save_inputs = (0,)
    save_output = True

    def forward(self, x):
        r = x.prod(axis=_axis(self.dims, x.ndim), keepdims=self.keepdim)
        if x.dtype.kind in "bui" and r.dtype != np.int64:
            r = r.astype(np.int64)
        return r

    def backward(self, g):
        from .elementwise import where

        (x,) = self.saved_tensors
        out = self.saved_output()
        dims, kd, shape = self.dims, self.keepdim, x.shape
        out_b = _expand_back(out, shape, dims, kd)
        g_b = _expand_back(g, shape, dims, kd)
        is_zero = x == 0
        if not bool(is_zero.any()):
            return g_b * out_b / x
        nz = where(is_zero, 1, x)
        p_nz = _expand_back(Prod.apply(nz, dims=dims, keepdim=kd), shape, dims, kd)
        zc = _expand_back(Sum.apply(is_zero, dims=dims, keepdim=kd), shape, dims, kd)
        safe_x = where(is_zero, 1, x)
        grad = where(zc == 0, out_b / safe_x, where((zc == 1) & is_zero, p_nz, 0))
        return g_b * grad


@fp32_op("prod")
def prod(input: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None,
         dtype=None) -> Tensor:
    """Product over ``dim`` (a single dim, or all when None)."""
    if axis is not None or keepdims is not None:  # numpy's names, as PyTorch accepts
        dim, keepdim = _numpy_names(dim, keepdim, axis, keepdims)
    if dtype is None:
        return Prod.apply(input, dims=_dims(dim, input.ndim), keepdim=keepdim)
    dtype = _dtype.to_dtype(dtype)
    input = cast(input, dtype)
    r = Prod.apply(input, dims=_dims(dim, input.ndim), keepdim=keepdim)
    return r if r.dtype is dtype else cast(r, dtype)  # an integer product stays in ``dtype``


def _empty_reduction(x, dims, keepdim: bool, name: str, dtype):
    """The (empty) result of reducing an empty array over non-empty ``dims``; reducing an
    empty dim raises IndexError, as in PyTorch (numpy has no identity for max/argmax)."""
    shape = []
    for d, n in enumerate(x.shape):
        if d in dims:
            if n == 0:
                raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero "
                                 "size.")
            if keepdim:
                shape.append(1)
        else:
            shape.append(n)
    return xp_of(x).empty(tuple(shape), dtype=dtype)


class AmaxAmin(Op):
    """max/min values over dims; the gradient is shared evenly between tied elements."""

    _name = "amax"
    save_inputs = (0,)
    save_output = True

    def forward(self, x):
        f = x.max if self.is_max else x.min
        name = "amax" if self.is_max else "amin"
        if x.size == 0:
            if self.dims is None:
                raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                                   "input.numel() == 0. Specify the reduction dim with the "
                                   "'dim' argument.")
            return _empty_reduction(x, self.dims, self.keepdim, name, x.dtype)
        return f(axis=_axis(self.dims, x.ndim), keepdims=self.keepdim)

    def backward(self, g):
        (x,) = self.saved_tensors
        out = _expand_back(self.saved_output(), x.shape, self.dims, self.keepdim)
        mask = (x == out)
        count = _expand_back(Sum.apply(mask, dims=self.dims, keepdim=self.keepdim), x.shape,
                             self.dims, self.keepdim)
        return _expand_back(g, x.shape, self.dims, self.keepdim) * mask / count


def amax(input: Tensor, dim=(), keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Maximum over ``dim`` (all dims for ``()``); ties share the gradient evenly."""
    if axis is not None or keepdims is not None:  # numpy's names, as PyTorch accepts
        dim, keepdim = _numpy_names(dim, keepdim, axis, keepdims)
    return AmaxAmin.apply(input, dims=_dims(dim, input.ndim), keepdim=keepdim, is_max=True)


def amin(input: Tensor, dim=(), keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Minimum over ``dim``; ties share the gradient evenly."""
    if axis is not None or keepdims is not None:  # numpy's names, as PyTorch accepts
        dim, keepdim = _numpy_names(dim, keepdim, axis, keepdims)
    return AmaxAmin.apply(input, dims=_dims(dim, input.ndim), keepdim=keepdim, is_max=False)


class ArgReduce(Op):
    _name = "argmax"
    differentiable = False

    def forward(self, x):
        xp = xp_of(x)
        f = xp.argmax if self.is_max else xp.argmin
        if self.dim is None:
            if x.size == 0:
                raise IndexError(f"{'argmax' if self.is_max else 'argmin'}(): Expected "
                                 "reduction dim to be specified for input.numel() == 0.")
            r = f(x.reshape(-1))
            if self.keepdim:
                r = xp.asarray(r).reshape((1,) * x.ndim)
            return xp.asarray(r, dtype=np.int64)
        if x.size == 0 and x.ndim:
            return _empty_reduction(x, (self.dim,), self.keepdim,
                                    "argmax" if self.is_max else "argmin", np.int64)
        r = f(x, axis=self.dim, keepdims=self.keepdim) if x.ndim else xp.asarray(0)
        return r.astype(np.int64, copy=False)


def _check_not_bool(input: Tensor, op: str) -> None:
    if input._data.dtype == np.bool_:
        raise RuntimeError(f"{op}(): does not support bool input")


def argmax(input: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Index of the maximum (first occurrence) over ``dim`` or the flattened tensor."""
    if axis is not None or keepdims is not None:  # numpy's names, as PyTorch accepts
        dim, keepdim = _numpy_names(dim, keepdim, axis, keepdims)
    _check_not_bool(input, "argmax")
    d = None if dim is None else _wrap_dim(dim, input.ndim)
    return ArgReduce.apply(input, dim=d, keepdim=keepdim, is_max=True)


def argmin(input: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Index of the minimum (first occurrence) over ``dim`` or the flattened tensor."""
    if axis is not None or keepdims is not None:  # numpy's names, as PyTorch accepts
        dim, keepdim = _numpy_names(dim, keepdim, axis, keepdims)
    _check_not_bool(input, "argmin")
    d = None if dim is None else _wrap_dim(dim, input.ndim)
    return ArgReduce.apply(input, dim=d, keepdim=keepdim, is_max=False)


class MaxMinDim(Op):
    """max/min along one dim with indices; the gradient goes to the selected index."""

    _name = "max"
    n_outputs = 2

    def forward(self, x):
        xp = xp_of(x)
        d = self.dim
        if x.ndim == 0:
            return x.copy(), xp.asarray(0, dtype=np.int64)
        if x.size == 0:
            name = "max" if self.is_max else "min"
            return (_empty_reduction(x, (d,), self.keepdim, name, x.dtype),
                    _empty_reduction(x, (d,), self.keepdim, name, np.int64))
        idx = (xp.argmax if self.is_max else xp.argmin)(x, axis=d, keepdims=True)
        self.shape = x.shape
        self.idx = idx
        vals = xp.take_along_axis(x, idx, axis=d)
        if x.dtype.kind == "f":  # NaN propagates, as in PyTorch
            nan = xp.isnan(x).any(axis=d, keepdims=True)
            if nan.any():
                nidx = xp.argmax(xp.isnan(x), axis=d, keepdims=True)
                idx = xp.where(nan, nidx, idx)
                self.idx = idx
                vals = xp.take_along_axis(x, idx, axis=d)
        if not self.keepdim:
            vals = vals.squeeze(d)
            idx = idx.squeeze(d)
        return vals, idx.astype(np.int64, copy=False)

    def backward(self, g, _gi=None):
        if g is None:
            return (None,)
        from .index import scatter

        d = self.dim
        if not hasattr(self, "shape"):
            return (g.clone(),)
        if not self.keepdim:
            g = g.unsqueeze(d)
        idx = Tensor._make(self.idx)
        return scatter(g.new_zeros(self.shape), d, idx, g)


@accepts_axis
def max(input: Tensor, dim=None, keepdim: bool = False, *, out=None):
    """``max(input)``: the maximum value; ``max(input, dim)``: (values, indices);
    ``max(input, other)``: elementwise maximum."""
    if isinstance(dim, Tensor):
        from .elementwise import maximum

        return maximum(input, dim)
    if dim is None:
        return amax(input)
    vals, idx = MaxMinDim.apply(input, dim=_wrap_dim(dim, input.ndim), keepdim=keepdim,
                                is_max=True)
    return _max_rt((vals, idx))


@accepts_axis
def min(input: Tensor, dim=None, keepdim: bool = False, *, out=None):
    """``min(input)``, ``min(input, dim)`` -> (values, indices), or elementwise minimum."""
    if isinstance(dim, Tensor):
        from .elementwise import minimum

        return minimum(input, dim)
    if dim is None:
        return amin(input)
    vals, idx = MaxMinDim.apply(input, dim=_wrap_dim(dim, input.ndim), keepdim=keepdim,
                                is_max=False)
    return _min_rt((vals, idx))


def _correction(unbiased, correction) -> float:
    if correction is not None:
        return float(correction)
    if unbiased is None:
        return 1.0
    return 1.0 if unbiased else 0.0


class Var(Op):
    _name = "var"
    opmath = True
    save_inputs = (0,)

    def forward(self, x):
        self.shape = x.shape
        ax = _axis(self.dims, x.ndim)
        xp = xp_of(x)
        n = x.size if ax is None else int(np.prod([x.shape[d] for d in ax]))
        self.n = n
        m = x.mean(axis=ax, keepdims=True)
        dev = x - m
        if x.dtype.kind == "c":
            sq = (dev * dev.conj()).real
        else:
            # (a 0-dim x gives a numpy scalar ``dev``, which can't be an ``out``)
            sq = xp.multiply(dev, dev, out=dev) if dev.ndim else dev * dev
        s = sq.sum(axis=ax, keepdims=self.keepdim)
        denom = n - self.correction
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp.asarray(s / max_(denom, 0))

    def backward(self, g):
        (x,) = self.saved_tensors
        denom = self.n - self.correction
        m = x.mean(dim=self.dims, keepdim=True) if self.dims is not None else x.mean()
        gb = _expand_back(g, x.shape, self.dims, self.keepdim)
        return gb * (2.0 / denom) * (x - m)


def max_(a, b):
    return a if a > b else b


def _var_args(dim, unbiased):
    """(dim, unbiased) of the overloads PyTorch accepts: ``var(x, True)`` (a bool first is
    ``unbiased``) and ``var(x, None, 1)``-style calls where an int or dims sequence in the
    ``unbiased`` slot is the dim."""
    if isinstance(dim, bool) and unbiased is None:
        return None, dim
    if isinstance(unbiased, (int, list, tuple)) and not isinstance(unbiased, bool):
        return unbiased, None  # var(x, dim) given positionally as PyTorch allows
    return dim, unbiased


@accepts_axis
def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Variance over ``dim`` with Bessel's ``correction`` (default 1)."""
    dim, unbiased = _var_args(dim, unbiased)
    if input._data.dtype.kind not in "fcV":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    return Var.apply(input, dims=_dims(dim, input.ndim), keepdim=keepdim,
                     correction=_correction(unbiased, correction))


@accepts_axis
def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Standard deviation: ``sqrt(var(...))`` (for float16/bfloat16 both in float32, rounded
    once, as PyTorch's kernel)."""
    return _opmath.in_float32(
        lambda x: var(x, dim, unbiased, keepdim, correction=correction).sqrt(), input)


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
             correction=None):
    """(var, mean) over ``dim``."""
    dim, unbiased = _var_args(dim, unbiased)
    v = var(input, dim, unbiased, keepdim, correction=correction)
    return v, mean(to_float(input), dim, keepdim)


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
             correction=None):
    """(std, mean) over ``dim``."""
    if _opmath.low_dtype([input]) is not None:  # both in float32, each rounded once
        low = input.dtype
        v, m = var_mean(cast(input, _dtype.float32), dim, unbiased, keepdim,
                        correction=correction)
        return cast(v.sqrt(), low), cast(m, low)
    v, m = var_mean(input, dim, unbiased, keepdim, correction=correction)
    return v.sqrt(), m


class LogSumExp(Op):
    _name = "logsumexp"
    save_inputs = (0,)
    save_output = True

    def forward(self, x):
        xp = xp_of(x)
        ax = _axis(self.dims, x.ndim)
        m = x.max(axis=ax, keepdims=True) if x.size else xp.zeros((1,) * x.ndim, x.dtype)
        m = xp.where(xp.isfinite(m), m, 0)
        if _opmath.is_low(x.dtype):  # PyTorch composes it of half ops: each step rounded
            low = x.dtype
            x, m = x.astype(np.float32), m.astype(np.float32)
            e = _opmath.rounded(xp.exp(_opmath.rounded(x - m, low)), low)
            s = _opmath.rounded(xp.log(_opmath.rounded(e.sum(axis=ax, keepdims=True), low)),
                                low)
            s = (s + m).astype(low)
        else:
            s = xp.log(xp.exp(x - m).sum(axis=ax, keepdims=True)) + m
        if not self.keepdim:
            s = s.reshape([n for i, n in enumerate(x.shape)
                           if not (ax is None or i in ax)])
        return s

    def backward(self, g):
        (x,) = self.saved_tensors
        out = _expand_back(self.saved_output(), x.shape, self.dims, self.keepdim)
        return _expand_back(g, x.shape, self.dims, self.keepdim) * (x - out).exp()


def logsumexp(input: Tensor, dim=None, keepdim: bool = False, *, axis=None,
              keepdims=None) -> Tensor:
    """``log(sum(exp(input), dim))``, computed stably."""
    if axis is not None or keepdims is not None:  # numpy's names, as PyTorch accepts
        dim, keepdim = _numpy_names(dim, keepdim, axis, keepdims)
    if dim is None:
        raise TypeError('logsumexp() missing 1 required positional arguments: "dim"')
    x = to_float(input)
    return LogSumExp.apply(x, dims=_dims(dim, x.ndim), keepdim=keepdim)


class Softmax(Op):
    _name = "softmax"
    opmath = True
    save_output = True

    def forward(self, x):
        d = self.dim
        if isinstance(x, np.ndarray) and d == x.ndim - 1 and x.dtype in _ROW_DTYPES and x.size:
            return _softmax_rows(x)  # (checked first: the common case)
        xp = xp_of(x)
        if x.ndim == 0:
            return xp.ones_like(x)
        if x.size == 0:
            return x.copy()
        e = x - x.max(axis=d, keepdims=True)
        xp.exp(e, out=e)
        e /= e.sum(axis=d, keepdims=True)
        return e

    def backward(self, g):
        y = self.saved_output()
        return y * (g - (g * y).sum(self.dim, keepdim=True))


_ROW_DTYPES = FLOAT32_64  # the dtypes of the row-wise (einsum/BLAS) paths
SMALL_ROWS = 1 << 14  # values: row-wise passes over at most this many run without run_parts
_EINSUM_ROW_MAX = 4096  # longer rows are summed pairwise (numpy's sum) for accuracy


def row_sum(x2):
    """Sums of the rows of a C-contiguous 2-D array: ``einsum`` (several times faster than
    ``sum(axis=1)`` on short rows) up to ``_EINSUM_ROW_MAX`` columns, numpy's pairwise sum on
    longer rows."""
    if x2.shape[1] <= _EINSUM_ROW_MAX:
        return np.einsum("ij->i", x2)
    return x2.sum(axis=1)


def row_sum_sq(x2):
    """Sums of squares of the rows of a C-contiguous 2-D array (``einsum``; pairwise
    ``sum`` of the squares on rows longer than ``_EINSUM_ROW_MAX``)."""
    if x2.shape[1] <= _EINSUM_ROW_MAX:
        return np.einsum("ij,ij->i", x2, x2)
    return (x2 * x2).sum(axis=1)


def _softmax_rows(x):
    """Softmax over the last dim of a float numpy array: max, subtract, exp, sum and divide
    over parts of the rows, in parallel for large inputs (``_parallel.run_parts``)."""
    n = x.shape[-1]
    x2 = np.ascontiguousarray(x).reshape(-1, n)
    if x2.size <= SMALL_ROWS:  # (a decoding step's scores): no per-part bookkeeping
        out = x2 - np.maximum.reduce(x2, axis=1, keepdims=True)
        np.exp(out, out=out)
        out /= np.add.reduce(out, axis=1, keepdims=True)
        return out.reshape(x.shape)
    out = np.empty(x2.shape, x.dtype)

    def part(lo, hi):
        xs, o = x2[lo:hi], out[lo:hi]
        np.subtract(xs, xs.max(axis=1, keepdims=True), out=o)
        np.exp(o, out=o)
        o /= row_sum(o)[:, None]

    run_parts(part, x2.shape[0], n)
    return out.reshape(x.shape)


class LogSoftmax(Op):
    _name = "log_softmax"
    save_output = True

    def forward(self, x):
        xp = xp_of(x)
        d = self.dim
        if x.ndim == 0:
            return xp.zeros_like(x)
        if x.size == 0:
            return x.copy()
        low = x.dtype if _opmath.is_low(x.dtype) else None
        if low is not None:  # PyTorch's half kernel: float32, log-sum rounded to the half type
            x = x.astype(np.float32)
        s = x - x.max(axis=d, keepdims=True)
        lse = xp.exp(s).sum(axis=d, keepdims=True)
        if low is not None:
            lse = _opmath.rounded(xp.log(_opmath.rounded(lse, low)), low)
            return (s - lse).astype(low)
        s -= xp.log(lse)
        return s

    def backward(self, g):
        y = self.saved_output()
        return _opmath.in_float32(
            lambda g, y: g - y.exp() * g.sum(self.dim, keepdim=True), g, y)


def _softmax_dim(dim, ndim: int, name: str) -> int:
    if dim is None:
        dim = 0 if ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit choice
    return _wrap_dim(dim, ndim)


def _float_input(input: Tensor, dtype, kernel: str) -> Tensor:
    """``input`` cast to ``dtype`` when given; integer inputs without one raise, as in
    PyTorch."""
    if dtype is not None:
        return cast(input, _dtype.to_dtype(dtype))
    if input._data.dtype.kind not in "fcV":
        raise NotImplementedError(f"\"{kernel}\" not implemented for "
                                  f"'{_pt_name(input.dtype)}'")
    return input


def softmax(input: Tensor, dim=None, dtype=None, *, _stacklevel=3, axis=None) -> Tensor:
    """``exp(x) / sum(exp(x), dim)``, computed stably (``axis=``: NumPy's spelling)."""
    if axis is not None:
        dim = axis
    x = input
    if dtype is not None or x._data.dtype.kind != "f":
        x = _float_input(input, dtype, "softmax_lastdim_kernel_impl")
    a = x._data
    nd = a.ndim
    if type(dim) is int and -nd <= dim < nd:
        if (dim == -1 or dim == nd - 1) and type(a) is np.ndarray and a.dtype in _ROW_DTYPES \
                and a.size and graphless():  # no graph node (e.g. a decoding step)
            return Tensor._make(_softmax_rows(a))
        return Softmax.apply(x, dim=dim + nd if dim < 0 else dim)  # (the usual dim=-1)
    return Softmax.apply(x, dim=_softmax_dim(dim, nd, "softmax"))


@accepts_axis
def log_softmax(input: Tensor, dim=None, dtype=None, *, _stacklevel=3) -> Tensor:
    """``log(softmax(x, dim))``, computed stably."""
    x = _float_input(input, dtype, "log_softmax_lastdim_kernel_impl")
    return LogSoftmax.apply(x, dim=_softmax_dim(dim, x.ndim, "log_softmax"))


def scan_accumulate(x, ufunc_name: str, axis: int):
    """``x.cumsum``/``x.cumprod`` along ``axis`` as PyTorch's kernels accumulate: float16
    and bfloat16 in float32 (CPU and CUDA), and on the CPU float32 and complex64 in double
    precision; the running value is rounded to ``x``'s dtype only when stored."""
    acc = None
    if x.dtype.itemsize == 2 and (x.dtype.kind == "f" or (_dtype._BF16 is not None
                                                           and x.dtype == _dtype._BF16)):
        acc = np.float32
    elif xp_of(x) is np and x.dtype in (np.float32, np.complex64):
        acc = np.float64 if x.dtype == np.float32 else np.complex128
    if acc is None:
        return getattr(x, ufunc_name)(axis=axis)
    return getattr(x, ufunc_name)(axis=axis, dtype=acc).astype(x.dtype)


class Cumsum(Op):
    _name = "cumsum"

    def forward(self, x):
        if x.ndim == 0:
            return x.copy()
        r = scan_accumulate(x, "cumsum", self.dim)
        if x.dtype.kind in "bui" and r.dtype != np.int64:
            r = r.astype(np.int64)
        return r

    def backward(self, g):
        if g.ndim == 0:
            return g
        d = self.dim
        return g.flip(d).cumsum(d).flip(d)


@accepts_axis
def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Cumulative sum along ``dim``."""
    if dtype is None:
        return Cumsum.apply(input, dim=_wrap_dim(dim, input.ndim))
    dtype = _dtype.to_dtype(dtype)
    input = cast(input, dtype)
    r = Cumsum.apply(input, dim=_wrap_dim(dim, input.ndim))
    return r if r.dtype is dtype else cast(r, dtype)  # an integer cumsum stays in ``dtype``


class AllAny(Op):
    _name = "all"
    differentiable = False

    def forward(self, x):
        ax = _axis(self.dims, x.ndim)
        r = x.all(axis=ax, keepdims=self.keepdim) if self.is_all else \
            x.any(axis=ax, keepdims=self.keepdim)
        return r if x.dtype != np.uint8 else r.astype(np.uint8)


def all(input: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """True if every element (over ``dim``) is nonzero."""
    if axis is not None or keepdims is not None:  # numpy's names, as PyTorch accepts
        dim, keepdim = _numpy_names(dim, keepdim, axis, keepdims)
    return AllAny.apply(input, dims=_dims(dim, input.ndim), keepdim=keepdim, is_all=True)


def any(input: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """True if any element (over ``dim``) is nonzero."""
    if axis is not None or keepdims is not None:  # numpy's names, as PyTorch accepts
        dim, keepdim = _numpy_names(dim, keepdim, axis, keepdims)
    return AllAny.apply(input, dims=_dims(dim, input.ndim), keepdim=keepdim, is_all=False)


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """``torch.norm``: the vector ``p``-norm over ``dim`` (``'fro'``: the 2-norm of the
    elements; ``'nuc'``: the nuclear norm of the matrices in ``dim``)."""
    from ..linalg._norms import matrix_norm, vector_norm

    if isinstance(dim, int):
        dim = (dim,)
    if p == "nuc":
        d = tuple(dim) if dim is not None else tuple(range(input.ndim))
        return matrix_norm(input, "nuc", d, keepdim, dtype=dtype)
    if isinstance(p, str) and p != "fro":
        raise RuntimeError(f"norm: invalid norm type {p!r}")
    ord = 2 if p in ("fro", None) else p
    if ord == 2 and dim is None and dtype is None and input._data.dtype.kind == "f" and \
            input._data.dtype.itemsize >= 4 and input.numel():
        return Norm2.apply(input, keepdim=keepdim)
    return vector_norm(input, ord, dim, keepdim, dtype=dtype)


def dist(input: Tensor, other: Tensor, p=2) -> Tensor:
    """The ``p``-norm of ``input - other`` (broadcast), over all elements."""
    from .elementwise import sub

    diff = sub(input, other)
    if not (diff.is_floating_point() or diff.is_complex()):
        raise RuntimeError(f"dist(): input dtype should be either floating point or complex. "
                           f"Got {diff.dtype} instead.")
    if isinstance(p, Tensor):
        p = p.item()
    return norm(diff, float(p))


class Norm2(Op):
    """The 2-norm of all elements of a real tensor, as one BLAS dot product; the gradient
    is 0 at the origin, as in PyTorch."""

    _name = "norm"
    opmath = True
    save_inputs = (0,)
    save_output = True

    def forward(self, x):
        xp = xp_of(x)
        f = x.reshape(-1)
        r = xp.sqrt(xp.dot(f, f))
        return r.reshape((1,) * x.ndim) if self.keepdim else xp.asarray(r)

    def backward(self, g):
        (x,) = self.saved_tensors
        nrm = self.saved_output()
        zero = nrm == 0
        return x * (g / nrm.masked_fill(zero, 1)).masked_fill(zero, 0)


# -- sorting -------------------------------------------------------------------------------
class ArgSort(Op):
    """Indices that sort along ``dim`` (stable; NaN sorts as the largest value)."""

    _name = "argsort"
    differentiable = False

    def forward(self, x):
        xp = xp_of(x)
        if x.ndim == 0:
            return xp.zeros((), dtype=np.int64)
        return stable_argsort(x, self.dim, self.descending)


_ORDER_KEY = {np.dtype(np.float32): np.uint32, np.dtype(np.float16): np.uint16,
              np.dtype(np.int32): np.uint32, np.dtype(np.int16): np.uint16,
              np.dtype(np.int8): np.uint8, np.dtype(np.uint32): np.uint32,
              np.dtype(np.uint16): np.uint16, np.dtype(np.uint8): np.uint8,
              np.dtype(np.bool_): np.uint8}


def _order_key(x):
    """Unsigned integers that sort like ``x`` (NaN last, -0.0 equal to 0.0), or None for
    dtypes wider than 32 bits."""
    xp = xp_of(x)
    ut = _ORDER_KEY.get(x.dtype)
    if ut is None:
        return None
    bits = np.dtype(ut).itemsize * 8
    top = ut(1 << (bits - 1))
    if x.dtype.kind == "f":
        b = (x + x.dtype.type(0)).view(ut)  # -0.0 + 0.0 is +0.0
        k = b ^ xp.where(b >= top, ut(~ut(0)), top)
        return xp.where(xp.isnan(x), ut(~ut(0)), k)
    if x.dtype.kind == "i":
        return x.view(ut) ^ top
    return x.view(ut) if x.dtype != np.bool_ else x.view(np.uint8)


def stable_argsort(x, d: int, descending: bool = False):
    """Indices that sort ``x`` along ``d``, ties in their original order (NaN largest).

    For dtypes up to 32 bits the order key and the position are packed into one uint64 and
    sorted with the array module's fast (unstable) sort, which is stable by construction and
    several times faster than a merge sort; wider dtypes use the stable sort."""
    xp = xp_of(x)
    n = x.shape[d]
    key = _order_key(x) if n < 2 ** 31 else None
    if key is None:
        if not descending:
            return xp.argsort(x, axis=d, kind="stable").astype(np.int64, copy=False)
        a = xp.argsort(xp.flip(x, d), axis=d, kind="stable")
        return (n - 1 - xp.flip(a, d)).astype(np.int64, copy=False)
    if descending:
        key = ~key
    key = xp.moveaxis(key, d, -1).astype(np.uint64) << np.uint64(32)
    key |= xp.arange(n, dtype=np.uint64)
    key.sort(axis=-1)
    idx = (key & np.uint64(0xFFFFFFFF)).astype(np.int64)
    return xp.moveaxis(idx, -1, d)


@accepts_axis
def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False
            ) -> Tensor:
    """Indices that sort ``input`` along ``dim`` (ties keep their order)."""
    d = _wrap_dim(dim, input.ndim)
    return ArgSort.apply(input, dim=d, descending=descending)


@accepts_axis
def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """(values, indices) sorted along ``dim``; the values pass the gradient back."""
    from .index import gather

    idx = argsort(input, dim, descending)
    vals = gather(input, dim, idx) if input.ndim else input.clone()
    return _sort_rt((vals, idx))


@accepts_axis
def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """(values, indices) of the ``k`` largest (or smallest) elements along ``dim``."""
    from .index import gather

    d = _wrap_dim(dim, input.ndim)
    n = input.shape[d] if input.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range (k={k}, size of dim {d} is {n})")
    if input.ndim and 0 < k and 4 * k < n and input._data.dtype.kind in "fiu":
        idx = Tensor._make(_topk_indices(input._data, k, d, largest))
        return _topk_rt((gather(input, d, idx), idx))
    idx = argsort(input, d, descending=largest)
    if input.ndim:
        idx = idx.narrow(d, 0, k).contiguous()
        return _topk_rt((gather(input, d, idx), idx))
    return _topk_rt((input.clone(), idx))


# -- more reductions -------------------------------------------------------------------------
def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None,
            dtype=None) -> Tensor:
    """Mean over ``dim`` ignoring NaN (NaN where a slice is all NaN)."""
    if axis is not None or keepdims is not None:  # numpy's names, as PyTorch accepts
        dim, keepdim = _numpy_names(dim, keepdim, axis, keepdims)
    from .compare import isnan

    if dtype is not None:
        input = cast(input, _dtype.to_dtype(dtype))
    if input._data.dtype.kind not in "fc" and input.dtype is not _dtype.bfloat16:
        raise RuntimeError("nanmean(): expected input to have floating point or complex "
                           f"dtype but got {_pt_name(input.dtype)}")
    keep = isnan(input).logical_not()
    return nansum(input, dim, keepdim) / keep.sum(dim, keepdim)


class CountNonzero(Op):
    _name = "count_nonzero"
    differentiable = False

    def forward(self, x):
        xp = xp_of(x)
        return xp.asarray(xp.count_nonzero(x, axis=_axis(self.dims, x.ndim)), dtype=np.int64)


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """The number of nonzero elements over ``dim`` (all when None)."""
    return CountNonzero.apply(input, dims=_dims(dim, input.ndim))


def aminmax(input: Tensor, *, dim=None, keepdim: bool = False):
    """(min, max) over ``dim`` (all elements when None)."""
    from ..return_types import aminmax as _rt

    if dim is None:
        if input.numel() == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as "
                               "the operation has no identity.")
        if keepdim:
            shape = (1,) * input.ndim
            return _rt((amin(input).reshape(shape), amax(input).reshape(shape)))
        return _rt((amin(input), amax(input)))
    return _rt((amin(input, dim, keepdim), amax(input, dim, keepdim)))


class Trace(Op):
    _name = "trace"
    opmath = True

    def forward(self, x):
        self.shape = x.shape
        r = xp_of(x).trace(x)
        return xp_of(x).asarray(r, dtype=np.int64 if x.dtype.kind in "biu" else x.dtype)

    def backward(self, g):
        from .shape import DiagScatter

        a, b = self.shape
        n = a if a < b else b  # (``min`` is the op of this module)
        return DiagScatter.apply(g.expand((n,)), out_shape=self.shape, offset=0, d1=0, d2=1)


def trace(input: Tensor) -> Tensor:
    """The sum of the main diagonal of a 2-D tensor (int64 for integer inputs)."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return Trace.apply(input)


def renorm(input: Tensor, p, dim: int, maxnorm) -> Tensor:
    """Each slice along ``dim`` rescaled to ``p``-norm at most ``maxnorm``."""
    from ..linalg._norms import vector_norm
    from .elementwise import where

    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported (got p={p})")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} "
                           "dimensions")
    d = _wrap_dim(dim, input.ndim)
    others = tuple(i for i in range(input.ndim) if i != d)
    nrm = vector_norm(input, p, others, True)
    factor = where(nrm > maxnorm, maxnorm / (nrm + 1e-7), 1.0)
    return input * cast(factor, input.dtype)


def cov(input: Tensor, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:
    """The covariance matrix of the variables in the rows of ``input`` (observations in
    columns), with optional frequency and importance weights."""
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got "
                           f"an input with {input.ndim} dimensions")
    x = to_float(input)
    x = x.reshape(1, -1) if x.ndim < 2 else x
    n = x.shape[1]
    w = None
    if fweights is not None:
        if fweights._data.dtype.kind not in "iu":
            raise RuntimeError("cov(): expected fweights to have integral dtype but got "
                               f"fweights with {fweights.dtype} dtype")
        if fweights.ndim > 1 or fweights.numel() != n:
            raise RuntimeError(f"cov(): expected fweights to have the same numel as there are "
                               f"observations in the input but got {fweights.numel()} != {n}")
        w = fweights
    if aweights is not None:
        if aweights._data.dtype.kind != "f":
            raise RuntimeError("cov(): expected aweights to have floating point dtype but got "
                               f"aweights with {aweights.dtype} dtype")
        if aweights.ndim > 1 or aweights.numel() != n:
            raise RuntimeError(f"cov(): expected aweights to have the same numel as there are "
                               f"observations in the input but got {aweights.numel()} != {n}")
        w = aweights if w is None else w * aweights
    if w is None:
        avg = x.mean(1)
        w_sum = float(n)
        norm_factor = w_sum - correction
    else:
        w = cast(w, x.dtype) if w.dtype != x.dtype else w
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
        if correction != 0 and aweights is not None:
            norm_factor = w_sum - correction * (w * aweights).sum() / w_sum
        else:
            norm_factor = w_sum - correction
    if not isinstance(norm_factor, Tensor):
        norm_factor = max_(norm_factor, 0.0)
    else:
        from .elementwise import clamp

        norm_factor = clamp(norm_factor, min=0)
    xc = x - avg.unsqueeze(1)
    other = (xc * w) if w is not None else xc
    c = xc.matmul(other.mT.conj() if other.is_complex() else other.mT)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = c / norm_factor
    return r.squeeze()


def corrcoef(input: Tensor) -> Tensor:
    """Pearson correlation coefficients of the variables in the rows of ``input``."""
    from .elementwise import clamp

    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal()
    std = (d.real if d.is_complex() else d).sqrt()
    c = c / std.unsqueeze(1)
    c = c / std.unsqueeze(0)
    return clamp(c, -1, 1) if not c.is_complex() else c


def _topk_indices(x, k: int, d: int, largest: bool):
    """The positions of the ``k`` largest (smallest) elements along ``d``, in sorted order
    (ties by position): a partition, then a sort of the ``k`` candidates only."""
    xp = xp_of(x)
    xm = xp.moveaxis(x, d, -1)
    n = xm.shape[-1]
    kth = n - k if largest else k - 1
    thr = xp.partition(xm, kth, axis=-1)[..., kth:kth + 1]  # the k-th largest (smallest)
    mask = xm >= thr if largest else xm <= thr
    if largest and xm.dtype.kind == "f":
        mask |= xp.isnan(xm)  # NaN counts as the largest
    if bool((mask.sum(axis=-1) == k).all()):  # no ties at the threshold: the mask is it
        cand = (xp.flatnonzero(mask) % n).reshape(xm.shape[:-1] + (k,))  # row-major
    elif largest:
        cand = xp.sort(xp.argpartition(xm, n - k, axis=-1)[..., n - k:], axis=-1)
    else:
        cand = xp.sort(xp.argpartition(xm, k - 1, axis=-1)[..., :k], axis=-1)
    vals = xp.take_along_axis(xm, cand, axis=-1)
    order = stable_argsort(vals, vals.ndim - 1, descending=largest)
    return xp.moveaxis(xp.take_along_axis(cand, order, axis=-1), -1, d).astype(np.int64)


# -- out=: these compute out of place; the result is written into ``out`` when given ---------
from .._out_arg import wrap_out_functions  # noqa: E402

wrap_out_functions(globals(), [
    'max', 'min'])
