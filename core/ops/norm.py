"""Normalization ops: batch norm (training statistics) and layer norm, each one fused op.

Forward: statistics in two passes (mean, then the mean of squared deviations), then one
scale-and-shift. Backward: the closed form ``(w * invstd) * (g - mean(g) - xhat *
mean(g * xhat))`` on arrays; when a graph of the gradient is wanted (``create_graph``),
the same formula in ember ops on the saved input, so double backward works. Evaluation-
mode batch norm is a plain scale-and-shift and is composed in ``nn.functional``.
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import _State
from . import _onednn_bnorm, _opmath, batch_norm_rows
from ._parallel import run_parts
from .op import Op, graphless, xp_of
from .reduce import _ROW_DTYPES, SMALL_ROWS, row_sum, row_sum_sq

__all__ = ["batch_norm_train", "layer_norm"]


def _stats(xp, x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True, dtype=x.dtype)
    xc = x - mean
    var = (xc * xc).mean(axis=axes, keepdims=True, dtype=x.dtype)
    invstd = 1.0 / xp.sqrt(var + eps)
    return mean, xc, var, invstd.astype(x.dtype, copy=False)


def _norm_backward_arrays(xp, g, xhat, invstd, scale, axes, m):
    """Input gradient of ``y = xhat * scale`` with xhat normalised over ``axes``."""
    gs = g * scale if scale is not None else g
    mean_g = gs.mean(axis=axes, keepdims=True, dtype=g.dtype)
    mean_gx = (gs * xhat).mean(axis=axes, keepdims=True, dtype=g.dtype)
    out = xhat * mean_gx
    xp.subtract(gs, out, out=out)
    out -= mean_g
    out *= invstd
    return out


def _norm_backward_ops(g: Tensor, x: Tensor, scale, axes, eps):
    """The same gradient in ember ops (differentiable again)."""
    mean = x.mean(dim=axes, keepdim=True)
    xc = x - mean
    var = (xc * xc).mean(dim=axes, keepdim=True)
    invstd = (var + eps).rsqrt()
    xhat = xc * invstd
    gs = g * scale if scale is not None else g
    mean_g = gs.mean(dim=axes, keepdim=True)
    mean_gx = (gs * xhat).mean(dim=axes, keepdim=True)
    return (gs - mean_g - xhat * mean_gx) * invstd, xhat


class BatchNormTrain(Op):
    """Batch norm with the batch's statistics over dims (0, 2, 3, ...); the batch mean and
    biased variance are left in ``stats`` for the running-statistics update."""

    _name = "batch_norm"
    save_inputs = (0, 1)

    def forward(self, x, w=None, b=None):
        xp = xp_of(x)
        self.low = x.dtype if _opmath.is_low(x.dtype) else None
        if self.low is not None:
            return self._forward_low(xp, x, w, b)
        self.rows = batch_norm_rows.usable(x, w, b)
        if self.rows:
            on_dnn = _onednn_bnorm.forward(x, w, b, self.eps)  # float32 on x86-64 Linux
            if on_dnn is not None:
                y, mean, var = on_dnn
                invstd = (1.0 / np.sqrt(var + self.eps)).astype(x.dtype, copy=False)
            else:
                y, mean, var, invstd = batch_norm_rows.forward(x, w, b, self.eps)
            self.stats.extend((mean, var))
            self.mean, self.var, self.invstd = mean, var, invstd  # (C,)
            return y
        axes = (0,) + tuple(range(2, x.ndim))
        mean, xc, var, invstd = _stats(xp, x, axes, self.eps)
        self.stats.extend((mean.reshape(-1), var.reshape(-1)))
        self.mean, self.invstd = mean, invstd
        shape = (1, -1) + (1,) * (x.ndim - 2)
        xc *= invstd
        if w is not None:
            xc *= w.reshape(shape)
        if b is not None:
            xc += b.reshape(shape)
        return xc

    def _forward_low(self, xp, x, w, b):
        """float16/bfloat16 as PyTorch's kernel: statistics in float32, the mean and inverse
        standard deviation rounded to the input dtype, ``x * a + (b - mean * a)`` with
        ``a = invstd * w`` in float32, rounded once."""
        low, f32 = x.dtype, np.float32
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        x32 = x.astype(f32)
        mean, xc, var, invstd = _stats(xp, x32, axes, self.eps)
        self.stats.extend((mean.reshape(-1), var.reshape(-1)))
        mean, invstd = _opmath.rounded(mean, low), _opmath.rounded(invstd, low)
        self.mean, self.invstd, self.rows = mean, invstd, False
        a = invstd * w.astype(f32).reshape(shape) if w is not None else invstd
        shift = -mean * a
        if b is not None:
            shift = shift + b.astype(f32).reshape(shape)
        x32 *= a
        x32 += shift
        return x32.astype(low)

    def backward(self, g):
        saved = self.saved_tensors
        x = saved[0]
        w = saved[1] if len(saved) > 1 and self.has_weight else None
        nf = self.next_functions
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        gx = gw = gb = None
        low = getattr(self, "low", None)
        if low is not None and not _State.enabled:  # in float32, each gradient rounded once
            f32 = np.float32
            g, x = Tensor._make(g._data.astype(f32)), Tensor._make(x._data.astype(f32))
            w = None if w is None else Tensor._make(w._data.astype(f32))
        if self.rows and not _State.enabled:
            wd = None if w is None else w._data
            on_dnn = None
            if nf[0][0] is not None:  # (oneDNN computes all three gradients)
                on_dnn = _onednn_bnorm.backward(g._data, x._data, self.mean, self.var, wd,
                                                len(nf) > 2, self.eps)
            if on_dnn is not None:
                gx, gw, gb = on_dnn
            else:
                gx, gw, gb = batch_norm_rows.backward(g._data, x._data, self.mean,
                                                      self.invstd, wd, nf[0][0] is not None)
            gx, gw, gb = [None if a is None else Tensor._make(a) for a in (gx, gw, gb)]
            if len(nf) < 2 or nf[1][0] is None:
                gw = None
            if len(nf) < 3 or nf[2][0] is None:
                gb = None
        elif not _State.enabled:
            gd = g._data
            xhat = x._data - self.mean
            xhat *= self.invstd
            sum_g = gd.sum(axis=axes, keepdims=True, dtype=gd.dtype)
            sum_gx = (gd * xhat).sum(axis=axes, keepdims=True, dtype=gd.dtype)
            if len(nf) > 1 and nf[1][0] is not None:
                gw = Tensor._make(sum_gx.reshape(-1))
            if len(nf) > 2 and nf[2][0] is not None:
                gb = Tensor._make(sum_g.reshape(-1))
            if nf[0][0] is not None:
                # gx = k (g - sum_g / M - xhat sum_gx / M) with k = w * invstd, per channel
                m = gd.size // gd.shape[1]
                k = self.invstd * w._data.reshape(shape) if w is not None else self.invstd
                xhat *= -(sum_gx * k) / m
                xhat += -(sum_g * k) / m
                xhat += gd * k
                gx = Tensor._make(xhat)
        else:
            scale = w.reshape(shape) if w is not None else None
            gx, xhat = _norm_backward_ops(g, x, scale, axes, self.eps)
            if len(nf) > 1 and nf[1][0] is not None:
                gw = (g * xhat).sum(dim=axes)
            if len(nf) > 2 and nf[2][0] is not None:
                gb = g.sum(dim=axes)
        if low is not None and not _State.enabled:
            gx, gw, gb = [None if t is None else Tensor._make(t._data.astype(low))
                          for t in (gx, gw, gb)]
        return (gx, gw, gb)[:len(nf)]


def batch_norm_train(input: Tensor, weight, bias, eps: float, stats: list) -> Tensor:
    """Training-mode batch norm of (N, C, *) ``input``; appends (mean, var) to ``stats``."""
    args = [input]
    if weight is not None:
        args.append(weight)
    if bias is not None:
        if weight is None:
            args.append(_ones_like_channel(input, bias))
        args.append(bias)
    return BatchNormTrain.apply(*args, eps=float(eps), stats=stats,
                                has_weight=len(args) > 1,
                                save_inputs=(0, 1) if len(args) > 1 else (0,))


def _ones_like_channel(input: Tensor, bias: Tensor) -> Tensor:
    return bias.new_ones(bias.shape).requires_grad_(False)


def layer_norm_row(x, w, b, n: int, eps: float):
    """Layer norm of a single row (a decoding step's (1, 1, 768)), as (out, mean, invstd):
    the statistics as Python floats (a pairwise sum and a BLAS dot), then three passes on
    1-D views; six numpy calls in all, which matters more than the arithmetic at this size.
    A constant row with ``eps=0`` gets an infinite ``invstd`` (PyTorch's NaNs)."""
    x1 = x.reshape(n)
    mean = float(np.add.reduce(x1)) / n
    out = x1 - mean
    var = float(out.dot(out)) / n  # biased variance
    v = var + eps
    invstd = math.inf if v == 0 else 1.0 / math.sqrt(v)
    out *= invstd
    if w is not None:
        out *= w.reshape(n)
    if b is not None:
        out += b.reshape(n)
    return out.reshape(x.shape), mean, invstd


class LayerNorm(Op):
    """Layer norm over the last ``nd`` dims, with optional elementwise affine."""

    _name = "layer_norm"
    opmath = True
    save_inputs = (0, 1)
    has_weight = True

    def forward(self, x, w=None, b=None):
        if type(x) is np.ndarray and x.dtype in _ROW_DTYPES and x.size and \
                (w is None or w.dtype == x.dtype) and (b is None or b.dtype == x.dtype):
            if x.shape[-1] == x.size and self.nd == 1:
                return self._one_row(x, w, b, x.size)
            return self._rows(x, w, b)
        xp = xp_of(x)
        axes = tuple(range(x.ndim - self.nd, x.ndim))
        mean, xc, var, invstd = _stats(xp, x, axes, self.eps)
        self.mean, self.invstd = mean, invstd
        xc *= invstd
        if w is not None:
            xc *= w
        if b is not None:
            xc += b
        return xc

    def _rows(self, x, w, b):
        """The forward on the rows of a (rows, normalized size) view: two-pass statistics
        with einsum row sums, then the scale and shift in place, over parts of the rows in
        parallel (``_parallel.run_parts``)."""
        n = 1
        for s in x.shape[x.ndim - self.nd:]:
            n *= s
        x2 = np.ascontiguousarray(x).reshape(-1, n)
        rows = x2.shape[0]
        if rows == 1:
            return self._one_row(x, w, b, n)
        if rows * n <= SMALL_ROWS:
            return self._rows_small(x, x2, w, b, n)
        out = np.empty(x2.shape, x.dtype)
        mean = np.empty((rows, 1), x.dtype)
        invstd = np.empty((rows, 1), x.dtype)
        w = w.reshape(n) if w is not None else None
        b = b.reshape(n) if b is not None else None
        eps, inv_n = self.eps, 1.0 / n

        def part(lo, hi):
            xs, o, m, v = x2[lo:hi], out[lo:hi], mean[lo:hi], invstd[lo:hi]
            np.multiply(row_sum(xs)[:, None], inv_n, out=m)
            np.subtract(xs, m, out=o)
            np.multiply(row_sum_sq(o)[:, None], inv_n, out=v)  # biased variance
            v += eps
            np.sqrt(v, out=v)
            np.divide(1, v, out=v)
            o *= v
            if w is not None:
                o *= w
            if b is not None:
                o += b

        run_parts(part, rows, n)
        keep = x.shape[:x.ndim - self.nd] + (1,) * self.nd
        self.mean, self.invstd = mean.reshape(keep), invstd.reshape(keep)
        return out.reshape(x.shape)

    def _one_row(self, x, w, b, n):
        out, self.mean, self.invstd = layer_norm_row(x, w, b, n, self.eps)
        return out

    def _rows_small(self, x, x2, w, b, n):
        """``_rows`` for few values (an attention step's few rows): the same passes, on the
        calling thread, without the per-part bookkeeping, which costs as much as the
        arithmetic here."""
        inv_n = 1.0 / n
        mean = np.add.reduce(x2, axis=1, keepdims=True)
        mean *= inv_n
        out = x2 - mean
        invstd = np.add.reduce(out * out, axis=1, keepdims=True)
        invstd *= inv_n  # biased variance
        invstd += self.eps
        np.sqrt(invstd, out=invstd)
        np.divide(1, invstd, out=invstd)
        out *= invstd
        if w is not None:
            out *= w.reshape(n)
        if b is not None:
            out += b.reshape(n)
        keep = x.shape[:x.ndim - self.nd] + (1,) * self.nd
        self.mean, self.invstd = mean.reshape(keep), invstd.reshape(keep)
        return out.reshape(x.shape)

    def backward(self, g):
        saved = self.saved_tensors
        x = saved[0]
        w = saved[1] if len(saved) > 1 and self.has_weight else None
        nf = self.next_functions
        axes = tuple(range(x.ndim - self.nd, x.ndim))
        lead = tuple(range(x.ndim - self.nd))
        gx = gw = gb = None
        if not _State.enabled:
            xp = xp_of(x._data)
            gd = g._data
            xhat = x._data - self.mean
            xhat *= self.invstd
            if len(nf) > 1 and nf[1][0] is not None:
                gw = Tensor._make((gd * xhat).sum(axis=lead, dtype=gd.dtype))
            if len(nf) > 2 and nf[2][0] is not None:
                gb = Tensor._make(gd.sum(axis=lead, dtype=gd.dtype))
            if nf[0][0] is not None:
                gx = Tensor._make(_norm_backward_arrays(
                    xp, gd, xhat, self.invstd, w._data if w is not None else None, axes, None))
        else:
            gx, xhat = _norm_backward_ops(g, x, w, axes, self.eps)
            if len(nf) > 1 and nf[1][0] is not None:
                gw = (g * xhat).sum(dim=lead) if lead else g * xhat
            if len(nf) > 2 and nf[2][0] is not None:
                gb = g.sum(dim=lead) if lead else g
        return (gx, gw, gb)[:len(nf)]


def layer_norm(input: Tensor, nd: int, weight, bias, eps: float) -> Tensor:
    """Layer norm of ``input`` over its last ``nd`` dims."""
    x = input._data
    if nd == 1 and type(x) is np.ndarray and x.size == x.shape[-1] and x.size and \
            x.dtype in _ROW_DTYPES and weight is not None and bias is not None and \
            graphless():  # a single row without grad: no graph node (a decoding step)
        w, b = weight._data, bias._data
        if type(w) is np.ndarray and type(b) is np.ndarray and w.dtype == x.dtype and \
                b.dtype == x.dtype:
            return Tensor._make(layer_norm_row(x, w, b, x.size, float(eps))[0])
    args = [input]
    if weight is not None:
        args.append(weight)
    if bias is not None:
        if weight is None:
            args.append(bias.new_ones(bias.shape))
        args.append(bias)
    if len(args) == 3:  # (the class defaults: has_weight, save_inputs=(0, 1))
        return LayerNorm.apply(input, args[1], bias, nd=int(nd), eps=float(eps))
    return LayerNorm.apply(*args, nd=int(nd), eps=float(eps), has_weight=len(args) > 1,
                           save_inputs=(0, 1) if len(args) > 1 else (0,))
