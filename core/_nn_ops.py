"""The ``torch.*`` spellings of ``nn.functional`` ops: ``ember.conv2d``, ``ember.layer_norm``,
``ember.dropout``, ``ember.kl_div``, ...

Each reuses its ``ember.nn.functional`` twin, under the positional signature of the
``torch.*`` form, which sometimes differs from ``F.*``: ``torch.batch_norm`` takes weight
and bias before the running statistics, ``torch.embedding`` takes the weight first,
``torch.dropout(input, p, train)`` has no defaults, and the losses take ``reduction`` as an
int (0 none, 1 mean, 2 sum). ``ember.nn.functional`` is imported on the first call, so that
``import ember`` stays light.
"""

from __future__ import annotations

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "convolution", "dropout", "dropout_", "alpha_dropout",
           "alpha_dropout_", "feature_dropout", "feature_dropout_", "feature_alpha_dropout",
           "feature_alpha_dropout_", "embedding", "embedding_bag", "layer_norm",
           "group_norm", "instance_norm", "batch_norm", "rms_norm", "bilinear", "max_pool1d",
           "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "avg_pool1d",
           "adaptive_avg_pool1d", "adaptive_max_pool1d", "pixel_shuffle", "pixel_unshuffle",
           "channel_shuffle", "native_channel_shuffle", "cosine_similarity",
           "pairwise_distance", "pdist", "cosine_embedding_loss", "margin_ranking_loss",
           "hinge_embedding_loss", "triplet_margin_loss", "poisson_nll_loss", "kl_div",
           "binary_cross_entropy_with_logits", "ctc_loss", "celu", "celu_", "selu", "selu_",
           "rrelu", "rrelu_", "threshold", "threshold_", "prelu", "constant_pad_nd",
           "grid_sampler", "affine_grid_generator", "hardshrink", "native_layer_norm",
           "native_dropout", "native_batch_norm"]


def _F():
    from .nn import functional

    return functional


def _reduction(reduction, op: str) -> str:
    """PyTorch's int reduction enum as F's string (other ints leave the loss unreduced, as
    ATen does)."""
    if isinstance(reduction, bool) or not isinstance(reduction, int):
        raise TypeError(f"{op}(): argument 'reduction' must be int, not "
                        f"{type(reduction).__name__}")
    return {1: "mean", 2: "sum"}.get(reduction, "none")


def _stride(stride):
    """``[]`` (the schema default) means "the kernel size"."""
    return None if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else stride


# -- convolution ---------------------------------------------------------------------------
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (``F.conv1d``)."""
    return _F().conv1d(input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (``F.conv2d``)."""
    return _F().conv2d(input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution (``F.conv3d``)."""
    return _F().conv3d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """1-D transposed convolution (``F.conv_transpose1d``)."""
    return _F().conv_transpose1d(input, weight, bias, stride, padding, output_padding, groups,
                                 dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """2-D transposed convolution (``F.conv_transpose2d``)."""
    return _F().conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups,
                                 dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """3-D transposed convolution (``F.conv_transpose3d``)."""
    return _F().conv_transpose3d(input, weight, bias, stride, padding, output_padding, groups,
                                 dilation)


def _per_dim(v, nd: int):
    if isinstance(v, int):
        return v
    v = tuple(int(s) for s in v)
    return v * nd if len(v) == 1 else v


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                groups):
    """The generic convolution: ``conv{1,2,3}d`` or, with ``transposed``,
    ``conv_transpose{1,2,3}d``, picked by the weight's dimensions; one-element parameter
    lists apply to every spatial dimension."""
    nd = weight.ndim - 2
    if nd not in (1, 2, 3):
        raise RuntimeError(f"convolution: expected a 3-D, 4-D or 5-D weight, got a "
                           f"{weight.ndim}-D weight of size {list(weight.shape)}")
    stride, padding, dilation = (_per_dim(v, nd) for v in (stride, padding, dilation))
    F = _F()
    if transposed:
        return getattr(F, f"conv_transpose{nd}d")(input, weight, bias, stride, padding,
                                                  _per_dim(output_padding, nd), groups,
                                                  dilation)
    return getattr(F, f"conv{nd}d")(input, weight, bias, stride, padding, dilation, groups)


# -- dropout -------------------------------------------------------------------------------
def _check_p(p) -> None:
    """ATen raises RuntimeError where ``F.dropout`` raises ValueError."""
    if p < 0 or p > 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p, train):
    """Dropout (``F.dropout(input, p, train)``)."""
    _check_p(p)
    return _F().dropout(input, p, train)


def dropout_(input, p, train):
    """In-place ``dropout``."""
    _check_p(p)
    return _F().dropout(input, p, train, inplace=True)


def alpha_dropout(input, p, train):
    """Alpha dropout (``F.alpha_dropout(input, p, train)``)."""
    _check_p(p)
    return _F().alpha_dropout(input, p, train)


def alpha_dropout_(input, p, train):
    """In-place ``alpha_dropout``."""
    _check_p(p)
    return _F().alpha_dropout(input, p, train, inplace=True)


def _feature(input, p, train, inplace, alpha):
    from .nn.functional.dropout import _dropout

    _check_p(p)
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _dropout(input, p, train, inplace, shape, alpha)


def feature_dropout(input, p, train):
    """Dropout of whole features: the (N, C) entries of (N, C, *) input are kept or zeroed
    together over the remaining dimensions."""
    return _feature(input, p, train, False, False)


def feature_dropout_(input, p, train):
    """In-place ``feature_dropout``."""
    return _feature(input, p, train, True, False)


def feature_alpha_dropout(input, p, train):
    """Alpha dropout of whole features (``F.feature_alpha_dropout``)."""
    return _feature(input, p, train, False, True)


def feature_alpha_dropout_(input, p, train):
    """In-place ``feature_alpha_dropout``."""
    return _feature(input, p, train, True, True)


# -- embeddings ----------------------------------------------------------------------------
def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` at ``indices`` (note the order: weight first); a negative
    ``padding_idx`` means none."""
    from .ops import embedding as E

    pad = int(padding_idx) if padding_idx is not None and padding_idx >= 0 else None
    return E.embedding(indices, weight, pad, scale_grad_by_freq)


def embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0, sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """ATen's embedding_bag: ``(output, offset2bag, bag_size, max_indices)`` for 1-D
    ``indices`` split into bags at ``offsets``; ``mode`` 0 sum, 1 mean, 2 max. ``output`` is
    ``F.embedding_bag``'s; the other three are the bookkeeping tensors ATen returns beside it
    (offset2bag: the bag of each index; bag_size: the indices counted per bag; max_indices:
    the row that won each max, or bag_size for mean). In sum mode, as ATen's CPU kernel,
    offset2bag is empty and the other two are zeros."""
    import numpy as np

    from ._tensor import Tensor
    from .ops.op import xp_of

    names = {0: "sum", 1: "mean", 2: "max"}
    if mode not in names:
        raise RuntimeError(f"embedding_bag: mode must be 0 (sum), 1 (mean) or 2 (max), got "
                           f"{mode}")
    if padding_idx is not None and padding_idx < 0:
        padding_idx = None
    out = _F().embedding_bag(indices, weight, offsets, None, 2, scale_grad_by_freq,
                             names[mode], sparse, per_sample_weights, include_last_offset,
                             padding_idx)
    xp = xp_of(weight._data)
    idx = indices._data.reshape(-1).astype(np.int64)
    off = offsets._data.reshape(-1).astype(np.int64)
    nbags = out.shape[0]
    if mode == 0:
        empty = Tensor._make(xp.zeros(0, dtype=np.int64))
        zeros = Tensor._make(xp.zeros(nbags, dtype=np.int64))
        return out, empty, zeros, Tensor._make(zeros._data.copy())
    bag_of = xp.searchsorted(off, xp.arange(idx.shape[0]), side="right") - 1
    counted = idx != padding_idx if padding_idx is not None else xp.ones(idx.shape, bool)
    size = xp.bincount(bag_of[counted], minlength=nbags)[:nbags].astype(np.int64)
    if mode == 1:
        return (out, Tensor._make(bag_of.astype(np.int64)), Tensor._make(size),
                Tensor._make(size.copy()))
    best = xp.zeros((nbags, weight.shape[1]), dtype=np.int64)
    lengths = xp.bincount(bag_of, minlength=nbags)[:nbags]
    if idx.shape[0] and nbags:  # per bag and column: the counted index holding the max
        ar = xp.arange(int(lengths.max()) or 1)
        valid = ar[None, :] < lengths[:, None]
        pos = xp.where(valid, off[:nbags, None] + ar[None, :], 0)
        valid &= counted[pos]
        vals = weight._data[idx[pos]].astype(np.float64)  # (B, L, D)
        vals[~valid] = -np.inf
        won = xp.take_along_axis(idx[pos], xp.argmax(vals, axis=1), axis=1)
        best = xp.where(valid.any(axis=1)[:, None], won, 0)
    return out, Tensor._make(bag_of.astype(np.int64)), Tensor._make(size), Tensor._make(best)


# -- normalization -------------------------------------------------------------------------
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    """Layer normalization (``F.layer_norm``)."""
    return _F().layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    """Group normalization (``F.group_norm``)."""
    return _F().group_norm(input, num_groups, weight, bias, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum,
                  eps, cudnn_enabled):
    """Instance normalization (``F.instance_norm``; note weight and bias come first)."""
    return _F().instance_norm(input, running_mean, running_var, weight, bias,
                              use_input_stats, momentum, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):
    """Batch normalization (``F.batch_norm``; note weight and bias come first)."""
    return _F().batch_norm(input, running_mean, running_var, weight, bias, training,
                           momentum, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """RMS normalization (``F.rms_norm``)."""
    return _F().rms_norm(input, normalized_shape, weight, eps)


def bilinear(input1, input2, weight, bias=None):
    """``x1^T W x2 + b`` (``F.bilinear``)."""
    return _F().bilinear(input1, input2, weight, bias)


# -- pooling -------------------------------------------------------------------------------
def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """1-D max pooling (``F.max_pool1d``; an empty ``stride`` means the kernel size)."""
    return _F().max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """2-D max pooling (``F.max_pool2d``)."""
    return _F().max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """3-D max pooling (``F.max_pool3d``)."""
    return _F().max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1,
                            ceil_mode=False):
    """1-D max pooling returning ``(values, indices)``."""
    return _F().max_pool1d_with_indices(input, kernel_size, _stride(stride), padding,
                                        dilation, ceil_mode)


def avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling (``F.avg_pool1d``)."""
    return _F().avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode,
                           count_include_pad)


def adaptive_avg_pool1d(input, output_size):
    """1-D adaptive average pooling (``F.adaptive_avg_pool1d``)."""
    return _F().adaptive_avg_pool1d(input, output_size)


def adaptive_max_pool1d(input, output_size):
    """1-D adaptive max pooling: always ``(values, indices)``, as ATen's."""
    return _F().adaptive_max_pool1d(input, output_size, True)


# -- shuffles and distances ----------------------------------------------------------------
def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r) (``F.pixel_shuffle``)."""
    return _F().pixel_shuffle(input, upscale_factor)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W) (``F.pixel_unshuffle``)."""
    return _F().pixel_unshuffle(input, downscale_factor)


def channel_shuffle(input, groups):
    """Shuffles the channels of (N, C, *) input across ``groups``."""
    return _F().channel_shuffle(input, groups)


def native_channel_shuffle(input, groups):
    """``channel_shuffle`` (differentiable, where PyTorch's has no derivative)."""
    return _F().channel_shuffle(input, groups)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine similarity along ``dim`` (``F.cosine_similarity``)."""
    return _F().cosine_similarity(x1, x2, dim, eps)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``||x1 - x2 + eps||_p`` along the last dim (``F.pairwise_distance``)."""
    return _F().pairwise_distance(x1, x2, p, eps, keepdim)


def pdist(input, p=2.0):
    """Distances between every pair of rows (``F.pdist``)."""
    return _F().pdist(input, p)


# -- losses ----------------------------------------------------------------------------------
# ``reduction`` is ATen's int: 0 none, 1 mean, 2 sum. Its default is 0, as PyTorch 2.13's
# torch.* bindings behave (their schemas say Mean, but ``torch.kl_div(a, b)`` is unreduced).
def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    """``F.cosine_embedding_loss`` with an int ``reduction``."""
    r = _reduction(reduction, "cosine_embedding_loss")
    return _F().cosine_embedding_loss(input1, input2, target, margin, reduction=r)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    """``F.margin_ranking_loss`` with an int ``reduction``."""
    r = _reduction(reduction, "margin_ranking_loss")
    return _F().margin_ranking_loss(input1, input2, target, margin, reduction=r)


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    """``F.hinge_embedding_loss`` with an int ``reduction``."""
    r = _reduction(reduction, "hinge_embedding_loss")
    return _F().hinge_embedding_loss(input, target, margin, reduction=r)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False,
                        reduction=0):
    """``F.triplet_margin_loss`` with an int ``reduction``."""
    r = _reduction(reduction, "triplet_margin_loss")
    return _F().triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                    reduction=r)


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    """``F.poisson_nll_loss`` with every argument positional and an int ``reduction``."""
    r = _reduction(reduction, "poisson_nll_loss")
    return _F().poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=r)


def kl_div(input, target, reduction=0, *, log_target=False):
    """ATen's KL divergence: ``reduction`` 1 is the plain elementwise mean (no
    ``'batchmean'``, no warning)."""
    from .nn.functional._utils import reduce_loss
    from .ops import elementwise as E

    r = _reduction(reduction, "kl_div")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = E.where(target == 0, target * 0, target * target.log()) - target * input
    return reduce_loss(loss, r)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None,
                                     reduction=0):
    """``F.binary_cross_entropy_with_logits`` with an int ``reduction``."""
    r = _reduction(reduction, "binary_cross_entropy_with_logits")
    return _F().binary_cross_entropy_with_logits(input, target, weight, reduction=r,
                                                 pos_weight=pos_weight)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0,
             zero_infinity=False):
    """``F.ctc_loss`` with an int ``reduction``."""
    return _F().ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                         _reduction(reduction, "ctc_loss"), zero_infinity)


# -- activations ---------------------------------------------------------------------------
def celu(input, alpha=1.0):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    return _F().celu(input, alpha)


def celu_(input, alpha=1.0):
    """In-place ``celu``."""
    return _F().celu(input, alpha, True)


def selu(input):
    """SELU (``F.selu``)."""
    return _F().selu(input)


def selu_(input):
    """In-place ``selu``."""
    return _F().selu(input, True)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """Randomized leaky ReLU: in training, each negative element's slope is drawn from
    U(lower, upper) (from ``generator`` when given); otherwise ``(lower + upper) / 2``."""
    return _rrelu(input, lower, upper, training, generator, False)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """In-place ``rrelu``."""
    return _rrelu(input, lower, upper, training, generator, True)


def _rrelu(input, lower, upper, training, generator, inplace):
    if not training or generator is None:
        return _F().rrelu(input, lower, upper, training, inplace)
    from . import _random
    from ._tensor import Tensor
    from .ops import elementwise as E

    rng = _random.generator_for(input.device, generator)
    slopes = rng.uniform(lower, upper, size=tuple(input.shape)).astype(input._data.dtype)
    out = E.where(input >= 0, input, input * Tensor._make(slopes))
    return input.copy_(out) if inplace else out


def threshold(input, threshold, value):
    """``x`` where ``x > threshold``, else ``value``."""
    return _F().threshold(input, threshold, value)


def threshold_(input, threshold, value):
    """In-place ``threshold``."""
    return _F().threshold(input, threshold, value, True)


def prelu(input, weight):
    """``max(0, x) + weight * min(0, x)``, ``weight`` per channel (dim 1) or shared."""
    from .ops.activation import prelu as f

    return f(input, weight)


# -- padding and sampling ------------------------------------------------------------------
def constant_pad_nd(input, pad, value=0):
    """Pads (negative amounts crop) the last ``len(pad) // 2`` dims with ``value``:
    ``pad = (left_last, right_last, left_prev, right_prev, ...)``."""
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError(f"Length of pad must be even but instead it equals {len(pad)}")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(f"Length of pad should be no more than twice the number of "
                           f"dimensions of the input. Pad length is {len(pad)} while the input "
                           f"has {input.ndim} dimensions.")
    return _F().pad(input, pad, "constant", value)


_INTERP = ("bilinear", "nearest", "bicubic")
_PADDING = ("zeros", "border", "reflection")


def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    """``F.grid_sample`` with the modes as ATen's ints: interpolation 0 bilinear, 1
    nearest, 2 bicubic; padding 0 zeros, 1 border, 2 reflection."""
    if interpolation_mode not in (0, 1, 2) or padding_mode not in (0, 1, 2):
        raise RuntimeError(f"grid_sampler(): expected interpolation_mode and padding_mode in "
                           f"0, 1, 2, got {interpolation_mode} and {padding_mode}")
    return _F().grid_sample(input, grid, _INTERP[interpolation_mode], _PADDING[padding_mode],
                            bool(align_corners))


def affine_grid_generator(theta, size, align_corners):
    """``F.affine_grid`` with ``align_corners`` required."""
    return _F().affine_grid(theta, list(size), bool(align_corners))


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0 (``F.hardshrink``)."""
    return _F().hardshrink(input, lambd)


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """Layer norm and its statistics: ``(out, mean, rstd)``, the statistics of shape
    ``input.shape[:-len(normalized_shape)] + (1,) * len(normalized_shape)``, as ATen's op."""
    nd = len(normalized_shape)
    dims = tuple(range(input.ndim - nd, input.ndim))
    out = _F().layer_norm(input, list(normalized_shape), weight, bias, eps)
    x = input.detach()
    mean = x.mean(dim=dims, keepdim=True)
    rstd = (x.var(dim=dims, unbiased=False, keepdim=True) + eps).rsqrt()
    return out, mean, rstd


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum,
                      eps):
    """Batch norm and its statistics: ``(out, save_mean, save_invstd)``, the batch's
    per-channel mean and ``1 / sqrt(biased var + eps)`` in training (running statistics, when
    given, updated in place), empty tensors in eval mode, as ATen's op."""
    out = _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                          eps)
    if not training:
        empty = input.new_zeros((0,))
        return out, empty, empty.clone()
    dims = (0,) + tuple(range(2, input.ndim))
    x = input.detach()
    mean = x.mean(dim=dims)
    invstd = (x.var(dim=dims, unbiased=False) + eps).rsqrt()
    return out, mean, invstd


def native_dropout(input, p, train):
    """Dropout and its keep mask: ``(out, mask)`` with a bool mask (all True, and ``out``
    a copy of ``input``, when ``train`` is False), as ATen's op."""
    _check_p(p)
    from ._creation import ones_like, zeros_like

    if not train or p == 0:
        return input.clone(), ones_like(input, dtype=_bool())
    if p == 1:
        return input * 0, zeros_like(input, dtype=_bool())
    mask = ones_like(input).bernoulli_(1 - p).bool()
    return input * mask / (1 - p), mask


def _bool():
    from . import _dtype

    return _dtype.bool
