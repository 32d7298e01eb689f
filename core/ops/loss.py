"""Fused loss ops: cross entropy over class indices (log_softmax and gather in one op),
negative log likelihood, and binary cross entropy.

Inputs put classes on dim 1: (N, C) or (N, C, d1, d2, ...), with targets (N,) or
(N, d1, d2, ...). No Python loop touches the batch. The backward of each op uses the
softmax kept from the forward when no graph of the gradient is wanted, and ember ops on
the saved input otherwise (so double backward works).
"""

from __future__ import annotations

from .._tensor import Tensor
from ..autograd.grad_mode import _State
from .op import Op, xp_of

__all__ = ["cross_entropy_indices", "nll_loss_indices", "binary_cross_entropy"]

_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _targets(xp, t, ignore_index: int, n_classes: int, x_dtype, weight):
    """(safe targets, mask of counted elements, per-element weights) for class indices."""
    mask = t != ignore_index
    tt = xp.where(mask, t, 0)
    if tt.size:
        lo, hi = int(tt.min()), int(tt.max())
        if lo < 0 or hi >= n_classes:
            bad = lo if lo < 0 else hi
            raise IndexError(f"Target {bad} is out of bounds.")
    if weight is not None:
        wt = weight[tt].astype(x_dtype, copy=False) * mask
    else:
        wt = mask.astype(x_dtype)
    return tt, mask, wt


def _reduce_arr(xp, loss, wt, reduction: str):
    if reduction == "none":
        return loss, None
    total = loss.sum(dtype=loss.dtype)
    if reduction == "sum":
        return xp.asarray(total, dtype=loss.dtype), None
    denom = wt.sum(dtype=loss.dtype)
    with _errstate(xp):  # every target ignored: 0 / 0 = nan, as PyTorch
        mean = total / denom
    return xp.asarray(mean, dtype=loss.dtype), denom


def _coef(g: Tensor, op) -> Tensor:
    """The upstream gradient per element: g itself for 'none', else g (divided by the
    weight sum for 'mean')."""
    if op.reduction == "mean":
        return g / Tensor._make(xp_of(g._data).asarray(op.denom, dtype=g._data.dtype))
    return g


class CrossEntropy(Op):
    """Cross entropy of logits ``x`` (classes on dim 1) against class indices, with class
    weights, ``ignore_index`` and label smoothing."""

    _name = "cross_entropy"
    save_inputs = (0,)

    def forward(self, x):
        xp = xp_of(x)
        c = x.shape[1]
        z = x - x.max(axis=1, keepdims=True)
        e = xp.exp(z)
        s = e.sum(axis=1, keepdims=True)
        lse = xp.log(s)
        e /= s
        self.p = e  # softmax, for backward
        w = self.weight
        tt, mask, wt = _targets(xp, self.target, self.ignore_index, c, x.dtype, w)
        self.tt, self.mask, self.wt = tt, mask, wt
        zt = xp.take_along_axis(z, tt[:, None], axis=1)[:, 0]
        lse0 = lse[:, 0]
        loss = (lse0 - zt) * wt
        ls = self.label_smoothing
        if ls > 0:
            if w is not None:
                wb = w.astype(x.dtype, copy=False).reshape((1, c) + (1,) * (x.ndim - 2))
                smooth = lse0 * w.sum(dtype=x.dtype) - (z * wb).sum(axis=1)
            else:
                smooth = lse0 * c - z.sum(axis=1)
            smooth *= mask
            loss = loss * (1 - ls) + smooth * (ls / c)
        out, self.denom = _reduce_arr(xp, loss.astype(x.dtype, copy=False), wt,
                                      self.reduction)
        return out

    def backward(self, g):
        (x,) = self.saved_tensors
        xp = xp_of(x._data)
        c = x.shape[1]
        ls = self.label_smoothing
        w = self.weight
        wsum = float(w.sum()) if w is not None else float(c)
        a = self.wt * (1 - ls)
        if ls > 0:
            a = a + self.mask * (ls / c * wsum)
        if not _State.enabled:
            # the fast path: arrays only, the softmax kept from forward
            gd = g._data
            coef = gd / self.denom if self.reduction == "mean" else gd
            coef = xp.asarray(coef, dtype=x._data.dtype)
            p = self.p
            grad = p * (coef * a)[:, None]
            idx = self.tt[:, None]
            picked = xp.take_along_axis(grad, idx, axis=1)
            picked -= (coef * (self.wt * (1 - ls)))[:, None]
            xp.put_along_axis(grad, idx, picked, axis=1)
            if ls > 0:
                wb = 1.0 if w is None else w.astype(p.dtype).reshape(
                    (1, c) + (1,) * (p.ndim - 2))
                grad -= (coef * self.mask * (ls / c))[:, None].astype(p.dtype) * wb
            return Tensor._make(grad.astype(x._data.dtype, copy=False))
        from .reduce import softmax

        p = softmax(x, 1)
        coef = _coef(g, self)
        dt = x._data.dtype
        grad = p * (coef * Tensor._make(a.astype(dt))).unsqueeze(1)
        b = (coef * Tensor._make((self.wt * (1 - ls)).astype(dt))).unsqueeze(1)
        onehot = p.new_zeros(p.shape).scatter(1, Tensor._make(self.tt[:, None]),
                                              b.expand((p.shape[0], 1) + tuple(p.shape[2:])))
        grad = grad - onehot
        if ls > 0:
            m = (coef * Tensor._make((self.mask * (ls / c)).astype(dt))).unsqueeze(1)
            if w is not None:
                m = m * Tensor._make(w.astype(dt).reshape((1, c) + (1,) * (x.ndim - 2)))
            grad = grad - m
        return grad

    def _release(self) -> None:
        super()._release()
        self.p = None


def cross_entropy_indices(input: Tensor, target: Tensor, weight: Tensor | None,
                          ignore_index: int, reduction: str,
                          label_smoothing: float) -> Tensor:
    """Cross entropy of ``input`` (N, C, ...) against class indices ``target`` (N, ...)."""
    _check_reduction(reduction)
    w = weight._data if weight is not None else None
    return CrossEntropy.apply(input, target=target._data, weight=w, ignore_index=ignore_index,
                              reduction=reduction, label_smoothing=float(label_smoothing))


class NLLLoss(Op):
    """Negative log likelihood: ``-input[n, target[n]]`` (weighted, with ignore_index)."""

    _name = "nll_loss"

    def forward(self, x):
        xp = xp_of(x)
        tt, mask, wt = _targets(xp, self.target, self.ignore_index, x.shape[1], x.dtype,
                                self.weight)
        self.tt, self.wt = tt, wt
        self.shape = x.shape
        picked = xp.take_along_axis(x, tt[:, None], axis=1)[:, 0]
        loss = -(picked * wt)
        out, self.denom = _reduce_arr(xp, loss.astype(x.dtype, copy=False), wt,
                                      self.reduction)
        return out

    def backward(self, g):
        coef = _coef(g, self)
        dt = g._data.dtype
        b = -(coef * Tensor._make(self.wt.astype(dt)))
        shape = self.shape
        b = b.expand((shape[0],) + tuple(shape[2:])).unsqueeze(1)
        return g.new_zeros(shape).scatter(1, Tensor._make(self.tt[:, None]), b)


def nll_loss_indices(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
                     reduction: str) -> Tensor:
    """NLL of log-probabilities ``input`` (N, C, ...) at class indices ``target``."""
    _check_reduction(reduction)
    w = weight._data if weight is not None else None
    return NLLLoss.apply(input, target=target._data, weight=w, ignore_index=ignore_index,
                         reduction=reduction)


class BinaryCrossEntropy(Op):
    """``-w * (y log x + (1 - y) log(1 - x))`` with the logs clamped at -100 (as PyTorch),
    elementwise (reduction is applied outside)."""

    _name = "binary_cross_entropy"
    save_inputs = (0, 1)

    def forward(self, x, y):
        xp = xp_of(x)
        if x.size and (float(x.min()) < 0 or float(x.max()) > 1):
            raise RuntimeError("all elements of input should be between 0 and 1")
        with _errstate(xp):
            lx = xp.maximum(xp.log(x), -100)
            l1x = xp.maximum(xp.log1p(-x), -100)
        loss = -(y * lx + (1 - y) * l1x)
        return loss.astype(x.dtype, copy=False)

    def backward(self, g):
        x, y = self.saved_tensors
        gx = gy = None
        if self.next_functions[0][0] is not None:
            gx = g * (x - y) / ((1 - x) * x).clamp(min=1e-12)
        if self.next_functions[1][0] is not None:
            gy = -g * (x.log().clamp(min=-100) - (-x).log1p().clamp(min=-100))
        return gx, gy


class _errstate:
    def __init__(self, xp):
        self.xp = xp

    def __enter__(self):
        if hasattr(self.xp, "errstate"):
            self.ctx = self.xp.errstate(divide="ignore", invalid="ignore")
            self.ctx.__enter__()

    def __exit__(self, *exc):
        if hasattr(self, "ctx"):
            self.ctx.__exit__(*exc)


def binary_cross_entropy(input: Tensor, target: Tensor) -> Tensor:
    """Elementwise binary cross entropy of probabilities ``input`` against ``target``."""
    return BinaryCrossEntropy.apply(input, target)
