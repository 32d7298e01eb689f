"""Loss functions of ``ember.nn.functional``.

Cross entropy and NLL over class indices are fused ops (``ember.ops.loss``); the others
are composed of ember ops, so every loss differentiates (twice) for free. Every function
takes PyTorch's ``reduction`` ('none', 'mean', 'sum') and its legacy ``size_average`` /
``reduce`` pair.
"""

from __future__ import annotations

import math
import warnings

from ..._autocast_state import fp32_op
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...ops import elementwise as E
from ...ops import loss as L
from ...ops import reduce as R
from ...ops.activation import logsigmoid
from ._utils import legacy_reduction, reduce_loss

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
           "poisson_nll_loss", "gaussian_nll_loss", "margin_ranking_loss",
           "hinge_embedding_loss", "cosine_embedding_loss", "triplet_margin_loss",
           "triplet_margin_with_distance_loss", "multilabel_soft_margin_loss",
           "multi_margin_loss", "soft_margin_loss", "multilabel_margin_loss", "ctc_loss"]


def _size_warning(input: Tensor, target: Tensor) -> None:
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.",
                      stacklevel=4)  # one frame more: the autocast wrapper


def _class_input(input: Tensor, target: Tensor, name: str):
    """(input with classes on dim 1 and a batch dim, target with a batch dim, unbatched)."""
    if input.ndim == 0:
        raise ValueError(f"{name}: input tensor should be 1D or more")
    if input.ndim == 1:
        if target.ndim != 0:
            raise ValueError(f"Expected input batch_size (1) to match target batch_size "
                             f"({target.shape[0] if target.ndim else 1}).")
        return input.unsqueeze(0), target.unsqueeze(0), True
    if target.ndim != input.ndim - 1 or target.shape[0] != input.shape[0]:
        if target.ndim >= 1 and target.shape[0] != input.shape[0]:
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                             f"batch_size ({target.shape[0]}).")
        raise RuntimeError(f"Expected target size {list(input.shape[:1] + input.shape[2:])}, "
                           f"got {list(target.shape)}")
    if tuple(target.shape[1:]) != tuple(input.shape[2:]):
        raise RuntimeError(f"Expected target size {list(input.shape[:1] + input.shape[2:])}, "
                           f"got {list(target.shape)}")
    return input, target, False


def _check_weight(weight, c: int) -> None:
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != c):
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no "
                           "classes but got weight tensor of shape: "
                           f"{list(weight.shape)}")


@fp32_op("cross_entropy")
def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy between logits ``input`` (classes on dim 1) and ``target``: class
    indices (N, d1, ...) or class probabilities of ``input``'s shape."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    if target.is_floating_point():
        if tuple(target.shape) != tuple(input.shape):
            raise RuntimeError(f"Expected floating point target to have the same shape as "
                               f"input, got {list(target.shape)} and {list(input.shape)}")
        dim = 1 if input.ndim > 1 else 0
        c = input.shape[dim]
        _check_weight(weight, c)
        lsm = R.log_softmax(input, dim)
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / c
        prod = lsm * target
        if weight is not None:
            prod = prod * weight.reshape((-1,) + (1,) * (input.ndim - 1 - dim))
        loss = -prod.sum(dim)
        if reduction == "mean":
            n = input.numel() // c if input.numel() else 0
            return loss.sum() / n
        return reduce_loss(loss, reduction)
    if target.dtype.is_floating_point or target.is_complex():
        raise RuntimeError("expected scalar type Long but found " + str(target.dtype))
    x, t, unbatched = _class_input(input, target, "cross_entropy")
    _check_weight(weight, x.shape[1])
    out = L.cross_entropy_indices(x, t, weight, ignore_index, reduction, label_smoothing)
    return out.squeeze(0) if unbatched and reduction == "none" else out


@fp32_op("nll_loss")
def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log likelihood of log-probabilities ``input`` (classes on dim 1) at the
    class indices ``target``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if target.is_floating_point():
        raise RuntimeError("expected scalar type Long but found " + str(target.dtype))
    x, t, unbatched = _class_input(input, target, "nll_loss")
    _check_weight(weight, x.shape[1])
    out = L.nll_loss_indices(x, t, weight, ignore_index, reduction)
    return out.squeeze(0) if unbatched and reduction == "none" else out


def _weighted(loss: Tensor, weight, reduction: str, mean_by_weight: bool) -> Tensor:
    if weight is None:
        return reduce_loss(loss, reduction)
    if tuple(weight.shape) != tuple(loss.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return reduce_loss(loss, reduction)


@fp32_op("mse_loss")
def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error ``(input - target)^2``."""
    _size_warning(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    d = input - target
    return _weighted(d * d, weight, reduction, True)


@fp32_op("l1_loss")
def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean absolute error ``|input - target|``."""
    _size_warning(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _weighted((input - target).abs(), weight, reduction, True)


@fp32_op("smooth_l1_loss")
def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``."""
    _size_warning(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = (input - target).abs()
    if beta == 0.0:
        return reduce_loss(d, reduction)
    loss = E.where(d < beta, d * d * (0.5 / beta), d - 0.5 * beta)
    return reduce_loss(loss, reduction)


@fp32_op("huber_loss")
def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``."""
    _size_warning(input, target)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    d = (input - target).abs()
    loss = E.where(d < delta, d * d * 0.5, (d - 0.5 * delta) * delta)
    return _weighted(loss, weight, reduction, False)


@fp32_op("binary_cross_entropy")
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``-w (y log x + (1 - y) log(1 - x))`` for probabilities ``input``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         "size.")
    loss = L.binary_cross_entropy(input, target.to(input.dtype))
    if weight is not None:
        loss = loss * weight
    return reduce_loss(loss, reduction)


@fp32_op("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """``binary_cross_entropy(sigmoid(input), target)`` computed stably from logits, with
    ``pos_weight`` weighting the positive term."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    target = target.to(input.dtype)
    ls_pos = logsigmoid(input)
    ls_neg = ls_pos - input  # log(1 - sigmoid(x))
    pos = target * ls_pos
    if pos_weight is not None:
        pos = pos * pos_weight
    loss = -(pos + (1 - target) * ls_neg)
    if weight is not None:
        loss = loss * weight
    return reduce_loss(loss, reduction)


@fp32_op("kl_div")
def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence of log-probabilities ``input`` from ``target``
    (probabilities, or log-probabilities with ``log_target``); ``'batchmean'`` divides the
    sum by the batch size."""
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns "
                      "with the KL div math definition.'mean' will be changed to behave the "
                      "same as 'batchmean' in the next major release.",
                      stacklevel=3)  # one frame more: the autocast wrapper
    if log_target:
        loss = target.exp() * (target - input)
    else:
        xlogy = E.where(target == 0, target * 0, target * target.log())
        loss = xlogy - target * input
    if reduction == "batchmean":
        s = loss.sum()
        return s / input.shape[0] if input.ndim != 0 else s
    return reduce_loss(loss, reduction)


@fp32_op("poisson_nll_loss")
def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True,
                     full: bool = False, size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Negative log likelihood of ``target`` under Poisson(``input``)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not a valid value for reduction")
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        t = target
        safe = E.where(t > 1, t, t * 0 + 1)
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + stirling.masked_fill(t <= 1, 0)
    return reduce_loss(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Negative log likelihood of ``target`` under N(``input``, ``var``)."""
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = input.new_full(tuple(input.shape), float(var))
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif input.ndim == var.ndim and sum(y for x, y in zip(input.shape, var.shape)
                                            if x != y) == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    d = input - target
    loss = 0.5 * (var.log() + d * d / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_loss(loss, reduction)


@fp32_op("margin_ranking_loss")
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, -y (x1 - x2) + margin)``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.shape}, input2: {input2.shape}, "
                           f"target: {target.shape} ")
    return reduce_loss((-target * (input1 - input2) + margin).clamp_min(0), reduction)


@fp32_op("hinge_embedding_loss")
def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``x`` where ``y == 1`` and ``max(0, margin - x)`` where ``y == -1``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    zeros = input * 0
    margin_clamp = (margin - input).clamp_min(0)
    loss = E.where(target != 1, margin_clamp, zeros) + E.where(target != -1, input, zeros)
    return reduce_loss(loss, reduction)


@fp32_op("cosine_embedding_loss")
def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``y == 1``, ``max(0, cos(x1, x2) - margin)`` where
    ``y == -1``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if input1.ndim != input2.ndim:
        raise RuntimeError(f"cosine_embedding_loss : All input tensors should have same "
                           f"dimension but got sizes: input1: {input1.shape}, input2: "
                           f"{input2.shape}")
    if target.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input1.ndim != target.ndim + 1:
        raise RuntimeError(f"{target.ndim}D target tensor expects {target.ndim + 1}D input "
                           f"tensors, but found inputs with sizes {list(input1.shape)} and "
                           f"{list(input2.shape)}.")
    d = input1.ndim - 1
    eps = 1e-12
    prod = (input1 * input2).sum(d)
    m1 = (input1 * input1).sum(d) + eps
    m2 = (input2 * input2).sum(d) + eps
    cos = prod / (m1 * m2).sqrt()
    zeros = cos * 0
    loss = E.where(target == 1, 1 - cos, zeros) + \
        E.where(target == -1, (cos - margin).clamp_min(0), zeros)
    return reduce_loss(loss, reduction)


def _pairwise_distance(x1: Tensor, x2: Tensor, p: float, eps: float, keepdim: bool = False
                       ) -> Tensor:
    from .misc import pairwise_distance

    return pairwise_distance(x1, x2, p, eps, keepdim)


@fp32_op("triplet_margin_loss")
def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``max(d(a, p) - d(a, n) + margin, 0)`` with the ``p``-norm distance."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if not (anchor.ndim == positive.ndim == negative.ndim):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have "
                           f"the same number of dimensions, but got: anchor {anchor.ndim}D, "
                           f"positive {positive.ndim}D, and negative {negative.ndim}D inputs")
    d_pos = _pairwise_distance(anchor, positive, p, eps)
    d_neg = _pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = E.minimum(d_neg, _pairwise_distance(positive, negative, p, eps))
    return reduce_loss((margin + d_pos - d_neg).clamp_min(0), reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """Triplet margin loss with a custom ``distance_function`` (pairwise distance by
    default)."""
    if margin <= 0:
        raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, "
                         f"got {margin} instead")
    dist = distance_function if distance_function is not None else \
        (lambda a, b: _pairwise_distance(a, b, 2.0, 1e-6))
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = E.minimum(d_neg, dist(positive, negative))
    return reduce_loss((margin + d_pos - d_neg).clamp_min(0), reduction)


@fp32_op("multilabel_soft_margin_loss")
def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """Multi-label one-versus-all logistic loss, averaged over classes."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    c = input.shape[input.ndim - 1]
    loss = loss.sum(input.ndim - 1) / c
    return reduce_loss(loss, reduction)


@fp32_op("multi_margin_loss")
def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: ``sum_{j != y} max(0, margin - x[y] + x[j])^p / C``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    t = target.reshape(-1, 1)
    c = x.shape[1]
    xy = x.gather(1, t)
    h = (margin - xy + x).clamp_min(0)
    if p == 2:
        h = h * h
    if weight is not None:
        h = h * weight[target.reshape(-1)].reshape(-1, 1)
    h = h.scatter(1, t, 0.0)
    loss = h.sum(1) / c
    if input.ndim < 2:
        loss = loss.reshape(())
    return reduce_loss(loss, reduction)


@fp32_op("soft_margin_loss")
def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Two-class logistic loss ``log(1 + exp(-y x))``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    return reduce_loss(-logsigmoid(target * input), reduction)


@fp32_op("multilabel_margin_loss")
def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Multi-class multi-label hinge loss; ``target`` holds class indices padded with -1
    after the last valid one."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    x = input if input.ndim == 2 else input.reshape(1, -1)
    t = target.reshape(x.shape)._data
    xp = _xp(t)
    c = x.shape[1]
    valid = xp.cumprod(t >= 0, axis=1).astype(bool)  # before the first -1
    # how often each class is listed as a target: a repeated entry counts every time
    counts = ((t[:, :, None] == xp.arange(c)) & valid[:, :, None]).sum(1)
    dt = x._data.dtype
    # margins[n, j, i] = 1 - (x[n, j] - x[n, i]) for target j and non-target i
    m = (1 - (x.unsqueeze(2) - x.unsqueeze(1))).clamp_min(0)
    w = Tensor._make((counts[:, :, None] * (counts == 0)[:, None, :]).astype(dt))
    loss = (m * w).sum((1, 2)) / c
    if input.ndim < 2:
        loss = loss.reshape(())
    return reduce_loss(loss, reduction)


def _lengths(xp, lengths, name: str):
    if isinstance(lengths, Tensor):
        arr = lengths._data
        if arr.dtype.kind not in "iu":
            raise RuntimeError(f"ctc_loss(): {name} must be an integer tensor, got "
                               f"{lengths.dtype}")
        return xp.asarray(arr, dtype=xp.int64).reshape(-1)
    if isinstance(lengths, int):
        return xp.asarray([lengths], dtype=xp.int64)
    return xp.asarray([int(v) for v in lengths], dtype=xp.int64)


@fp32_op("ctc_loss")
def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """The connectionist temporal classification loss of ``log_probs`` (T, N, C) (or (T, C)
    unbatched) against ``targets``: padded (N, S) or the concatenation of all targets
    (sum(target_lengths),). 'mean' divides each loss by its target length, then averages
    over the batch. ``zero_infinity`` zeroes infinite losses (inputs too short for their
    targets) and their gradients.

    The gradient with respect to ``log_probs`` is PyTorch's: the one that is exact when
    ``log_probs`` comes from ``log_softmax`` (through which it is then propagated).
    """
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    xp = _xp(log_probs._data)
    unbatched = log_probs.ndim == 2
    if log_probs.ndim not in (2, 3):
        raise RuntimeError(f"ctc_loss(): log_probs must be 2-D (unbatched) or 3-D, got "
                           f"{log_probs.ndim}-D")
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    t_len, n, c = lp.shape
    if not 0 <= blank < c:
        raise RuntimeError("blank must be in label range")
    il = _lengths(xp, input_lengths, "input_lengths")
    tl = _lengths(xp, target_lengths, "target_lengths")
    if il.shape[0] != n:
        raise RuntimeError("input_lengths must be of size batch_size")
    if tl.shape[0] != n:
        raise RuntimeError("target_lengths must be of size batch_size")
    tg = targets._data
    if tg.dtype.kind not in "iu":
        raise RuntimeError(f"ctc_loss(): targets must be an integer tensor, got "
                           f"{targets.dtype}")
    if unbatched:
        tg = tg.reshape(1, -1)
    if n and int(il.max()) > t_len:
        raise RuntimeError(f"Expected input_lengths to have value at most {t_len}, but got "
                           f"value {int(il.max())} (while checking arguments for "
                           "ctc_loss_allocate_outputs)")
    if n and (int(tl.min()) < 0 or int(il.min()) < 0):
        raise RuntimeError("ctc_loss(): input_lengths and target_lengths must be "
                           "non-negative")
    smax = int(tl.max()) if n else 0
    if tg.ndim == 1:
        total = int(tl.sum())
        if tg.shape[0] < total:
            raise RuntimeError(f"Expected tensor to have size {total} at dimension 0, but got "
                               f"size {tg.shape[0]} for argument #2 'targets' (while checking "
                               "arguments for ctc_loss_allocate_outputs)")
        starts = xp.concatenate([xp.zeros(1, dtype=xp.int64), xp.cumsum(tl)[:-1]])
        k = xp.arange(max(smax, 1))
        idx = xp.minimum(starts[:, None] + k[None, :], max(total - 1, 0))
        padded = tg.astype(xp.int64)[idx] if total else xp.zeros(idx.shape, dtype=xp.int64)
        padded = padded[:, :smax]
    elif tg.ndim == 2:
        if tg.shape[1] < smax:
            raise RuntimeError(f"Expected tensor to have size at least {smax} at dimension 1, "
                               f"but got size {tg.shape[1]} for argument #2 'targets' (while "
                               "checking arguments for ctc_loss_allocate_outputs)")
        padded = tg[:, :smax].astype(xp.int64)
    else:
        raise RuntimeError(f"ctc_loss(): targets must be 1-D or 2-D, got {targets.ndim}-D")
    loss = L.ctc_loss(lp, padded, il, tl, blank, zero_infinity)
    if reduction == "none":
        return loss.reshape(()) if unbatched else loss
    if reduction == "sum":
        return loss.sum()
    denom = Tensor._make(xp.maximum(tl, 1).astype(loss._data.dtype))
    return (loss / denom).mean()


def _xp(arr):
    from ...ops.op import xp_of

    return xp_of(arr)
