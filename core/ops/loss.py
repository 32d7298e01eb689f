"""Fused loss ops: cross entropy over class indices (log_softmax and gather in one op),
negative log likelihood, binary cross entropy and the connectionist temporal
classification loss (CTC).

Inputs put classes on dim 1: (N, C) or (N, C, d1, d2, ...), with targets (N,) or
(N, d1, d2, ...). No Python loop touches the batch. The backward of each op uses the
softmax kept from the forward when no graph of the gradient is wanted, and ember ops on
the saved input otherwise (so double backward works).
"""

from __future__ import annotations

from .._tensor import Tensor
from ..autograd.grad_mode import _State
from .op import Op, xp_of

__all__ = ["cross_entropy_indices", "nll_loss_indices", "binary_cross_entropy", "ctc_loss"]

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
    opmath = True
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
            # ignored targets get an exact 0, also when coef is nan (0 / 0 in 'mean')
            coef = xp.where(self.mask, coef, 0)
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
        from .elementwise import where
        from .reduce import softmax

        p = softmax(x, 1)
        coef = where(Tensor._make(self.mask), _coef(g, self), 0)
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
    opmath = True

    def forward(self, x):
        xp = xp_of(x)
        tt, mask, wt = _targets(xp, self.target, self.ignore_index, x.shape[1], x.dtype,
                                self.weight)
        self.tt, self.mask, self.wt = tt, mask, wt
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
        b = b.expand((shape[0],) + tuple(shape[2:]))
        # ignored targets get an exact 0, also when coef is nan (0 / 0 in 'mean')
        b = b.masked_fill(Tensor._make(~self.mask), 0).unsqueeze(1)
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
    opmath = True
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


_NEG_INF = float("-inf")


class CTCLoss(Op):
    """The per-sample CTC negative log likelihood of ``log_probs`` (T, N, C) for padded
    ``targets`` (N, S) (attributes, with the lengths and ``blank``).

    Forward: the alpha recursion in log space, one vectorised step per time step over the
    batch and the 2S+1 positions of the blank-extended labels. Backward: the beta recursion
    the same way, then PyTorch's gradient ``exp(lp) - sum_s exp(alpha + beta + nll - lp)``
    (the gradient as if ``log_probs`` came from a ``log_softmax``, which is what PyTorch
    computes), zero at ``t >= input_length`` and, with ``zero_infinity``, for infinite
    losses.
    """

    _name = "ctc_loss"
    opmath = True
    save_inputs = (0,)

    def _extended(self, xp, lp):
        tgt, tl, blank = self.targets, self.target_lengths, self.blank
        n, s = tgt.shape
        # every target empty: one (masked) label keeps the two-step shifts below in shape
        s = max(s, 1)
        width = 2 * s + 1
        pos = xp.arange(width)
        ext = xp.full((n, width), blank, dtype=xp.int64)
        if tgt.shape[1]:
            ext[:, 1::2] = tgt
        valid = pos[None, :] < (2 * tl + 1)[:, None]
        ext = xp.where(valid, ext, blank)
        prev2 = xp.concatenate([xp.full((n, 2), -1, dtype=xp.int64), ext[:, :-2]], axis=1)
        skip = (pos[None, :] > 1) & (prev2 != ext)
        t_len = lp.shape[0]
        lp_ext = xp.take_along_axis(lp, xp.broadcast_to(ext[None], (t_len, n, width)), axis=2)
        return ext, skip, lp_ext

    def forward(self, lp):
        xp = xp_of(lp)
        t_len, n, _ = lp.shape
        il, tl = self.input_lengths, self.target_lengths
        ext, skip, lp_ext = self._extended(xp, lp)
        width = ext.shape[1]
        ninf = xp.asarray(_NEG_INF, dtype=lp.dtype)
        rows = xp.arange(n)
        alpha = xp.full((t_len, n, width), _NEG_INF, dtype=lp.dtype)
        alpha[0, :, 0] = lp_ext[0, :, 0]
        if width > 1:
            alpha[0, :, 1] = xp.where(tl > 0, lp_ext[0, :, 1], ninf)
        with _errstate(xp):
            for t in range(1, t_len):
                a = alpha[t - 1]
                s1 = xp.concatenate([xp.full((n, 1), _NEG_INF, dtype=lp.dtype), a[:, :-1]], 1)
                s2 = xp.concatenate([xp.full((n, 2), _NEG_INF, dtype=lp.dtype), a[:, :-2]], 1)
                s2 = xp.where(skip, s2, ninf)
                new = xp.logaddexp(xp.logaddexp(a, s1), s2) + lp_ext[t]
                alpha[t] = xp.where((t < il)[:, None], new, a)
            last = alpha[t_len - 1]
            end = last[rows, 2 * tl]
            end1 = xp.where(tl > 0, last[rows, xp.maximum(2 * tl - 1, 0)], ninf)
            nll = -xp.logaddexp(end, end1)
        self.alpha = alpha
        self.nll = nll
        if self.zero_infinity:
            nll = xp.where(xp.isinf(nll), xp.zeros_like(nll), nll)
        return nll.astype(lp.dtype, copy=False)

    def _occupation(self, lp):
        """(sum over positions with label c of exp(alpha + beta + nll - lp), the mask of
        the entries that get a gradient), both (T, N, C)."""
        xp = xp_of(lp)
        t_len, n, c = lp.shape
        il, tl = self.input_lengths, self.target_lengths
        ext, skip, lp_ext = self._extended(xp, lp)
        width = ext.shape[1]
        ninf = xp.asarray(_NEG_INF, dtype=lp.dtype)
        rows = xp.arange(n)
        pos = xp.arange(width)
        skip_b = xp.concatenate([skip[:, 2:], xp.zeros((n, 2), dtype=bool)], axis=1)
        is_end = (pos[None, :] == (2 * tl)[:, None]) | \
            ((pos[None, :] == (2 * tl - 1)[:, None]) & (tl > 0)[:, None])
        beta = xp.full((t_len, n, width), _NEG_INF, dtype=lp.dtype)
        b = beta[t_len - 1]
        with _errstate(xp):
            for t in range(t_len - 1, -1, -1):
                s1 = xp.concatenate([b[:, 1:], xp.full((n, 1), _NEG_INF, dtype=lp.dtype)], 1)
                s2 = xp.concatenate([b[:, 2:], xp.full((n, 2), _NEG_INF, dtype=lp.dtype)], 1)
                s2 = xp.where(skip_b, s2, ninf)
                rec = xp.logaddexp(xp.logaddexp(b, s1), s2) + lp_ext[t]
                init = xp.where(is_end, lp_ext[t], ninf)
                first = (t == il - 1)[:, None]
                b = xp.where(first, init, xp.where((t < il - 1)[:, None], rec, ninf))
                beta[t] = b
            q = xp.exp(self.alpha + beta + self.nll[None, :, None] - lp_ext)
        idx = ((xp.arange(t_len)[:, None, None] * n + rows[None, :, None]) * c + ext[None])
        occ = xp.bincount(idx.reshape(-1), weights=q.reshape(-1), minlength=t_len * n * c)
        occ = occ.reshape(t_len, n, c).astype(lp.dtype, copy=False)
        keep = xp.arange(t_len)[:, None] < il[None, :]  # (T, N)
        if self.zero_infinity:
            keep = keep & ~xp.isinf(self.nll)[None, :]
            occ = xp.where(keep[:, :, None], occ, 0)  # no NaN from the infinite losses
        else:  # an infinite loss has a NaN gradient in every class (as PyTorch)
            occ = xp.where(xp.isinf(self.nll)[None, :, None], xp.nan, occ)
        return occ, keep[:, :, None]

    def backward(self, g):
        from .elementwise import where

        (lp,) = self.saved_tensors
        occ, keep = self._occupation(lp._data)
        grad = (lp.exp() - Tensor._make(occ)) * g.reshape(1, -1, 1)
        return where(Tensor._make(keep), grad, 0)

    def _release(self) -> None:
        super()._release()
        self.alpha = None


def ctc_loss(log_probs: Tensor, targets, input_lengths, target_lengths, blank: int,
             zero_infinity: bool) -> Tensor:
    """Per-sample CTC losses (N,) of batched ``log_probs`` (T, N, C); ``targets`` (N, S)
    padded, ``input_lengths``/``target_lengths`` int64 arrays of the log_probs' module."""
    return CTCLoss.apply(log_probs, targets=targets, input_lengths=input_lengths,
                         target_lengths=target_lengths, blank=int(blank),
                         zero_infinity=bool(zero_infinity))
