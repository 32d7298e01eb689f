"""Shape and geometry functions of ``ember.nn.functional``: pad, interpolate/upsample,
pixel_shuffle/unshuffle, channel_shuffle, distances (cosine_similarity,
pairwise_distance, pdist) and scaled_dot_product_attention."""

from __future__ import annotations

import math

import numpy as np

from ... import _dtype
from ..._autocast_state import autocast_excluded, fp32_op, lower_op
from ..._tensor import Tensor
from ...ops import padding as Pd
from ...ops import reduce as R
from ...ops.op import Op, xp_of
from ._utils import _ntuple

__all__ = ["pad", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
           "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle",
           "cosine_similarity", "pairwise_distance", "pdist", "scaled_dot_product_attention"]


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pads the last ``len(pad) // 2`` dims: ``pad = (left_last, right_last, left_prev,
    right_prev, ...)``. Modes: 'constant' (negative amounts crop), 'reflect', 'replicate',
    'circular'."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(pad) // 2
    if k > input.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input "
                           "dimension but got padding length "
                           f"{len(pad)} and input of dimension {input.ndim}")
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(k)][::-1]
    if mode == "constant":
        return Pd.constant_pad(input, pairs, 0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument.")
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    return Pd.index_pad(input, pairs, mode)


_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _sizes(input: Tensor, nd: int, size, scale_factor, recompute_scale_factor):
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)) and len(size) != nd:
            raise ValueError(f"Input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(input.shape[2:])} and output size of {size}. Please "
                             "provide input tensor in (N, C, d1, d2, ...,dK) format and output "
                             "size in (o1, o2, ...,oK) format.")
        return tuple(int(s) for s in _ntuple(nd)(size)), None
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    sf = tuple(float(s) for s in _ntuple(nd)(scale_factor))
    if len(sf) != nd:
        raise ValueError(f"Input and scale_factor must have the same number of spatial "
                         f"dimensions, but got input with spatial dimensions of "
                         f"{list(input.shape[2:])} and scale_factor of shape {scale_factor}.")
    out = tuple(int(math.floor(n * s)) for n, s in zip(input.shape[2:], sf))
    return out, (None if recompute_scale_factor else sf)


def _scale(n_in: int, n_out: int, align_corners: bool, sf) -> float:
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    if sf is not None and sf > 0:
        return 1.0 / sf
    return n_in / n_out


def _cubic_weights(t):
    a = -0.75

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _interp_matrix(n_in: int, n_out: int, mode: str, align_corners: bool, sf):
    """The (n_out, n_in) matrix of linear or cubic interpolation along one dim."""
    scale = _scale(n_in, n_out, align_corners, sf)
    dst = np.arange(n_out, dtype=np.float64)
    src = scale * dst if align_corners else scale * (dst + 0.5) - 0.5
    m = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    if mode == "cubic":
        i0 = np.floor(src).astype(np.int64)
        t = src - i0
        for j, w in enumerate(_cubic_weights(t)):
            np.add.at(m, (rows, np.clip(i0 - 1 + j, 0, n_in - 1)), w)
        return m
    src = np.maximum(src, 0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    l1 = src - i0
    np.add.at(m, (rows, i0), 1 - l1)
    np.add.at(m, (rows, i1), l1)
    return m


def _aa_filter(mode: str):
    if mode == "bilinear":
        return lambda x: np.maximum(0.0, 1.0 - np.abs(x))
    a = -0.5  # PyTorch's antialiased bicubic uses Keys' a = -0.5 (as PIL)

    def cubic(x):
        x = np.abs(x)
        near = ((a + 2) * x - (a + 3)) * x * x + 1
        far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))

    return cubic


def _aa_matrix(n_in: int, n_out: int, mode: str, align_corners: bool, sf):
    """The (n_out, n_in) matrix of PyTorch's antialiased resampling along one dim: the
    filter (triangle or Keys cubic) stretched by the downscale factor, each row normalised
    to sum 1."""
    scale = _scale(n_in, n_out, align_corners, sf)
    interp = 2 if mode == "bilinear" else 4
    support = interp * 0.5 * scale if scale >= 1.0 else interp * 0.5
    max_size = int(math.ceil(support)) * 2 + 1
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    i = np.arange(n_out, dtype=np.float64)
    center = scale * (i + 0.5)
    xmin = np.maximum((center - support + 0.5).astype(np.int64), 0)
    xmax = np.minimum((center + support + 0.5).astype(np.int64), n_in)
    xsize = np.clip(xmax - xmin, 0, max_size)
    j = np.arange(max_size)
    valid = j[None, :] < xsize[:, None]
    w = _aa_filter(mode)((j[None, :] + xmin[:, None] - center[:, None] + 0.5) * invscale)
    w = np.where(valid, w, 0.0)
    total = w.sum(axis=1, keepdims=True)
    w = np.where(total != 0.0, w / np.where(total != 0.0, total, 1.0), w)
    m = np.zeros((n_out, n_in))
    rows = np.broadcast_to(np.arange(n_out)[:, None], w.shape)
    cols = np.minimum(xmin[:, None] + j[None, :], n_in - 1)
    np.add.at(m, (rows[valid], cols[valid]), w[valid])
    return m


def _nearest_index(n_in: int, n_out: int, sf, exact: bool):
    scale = (1.0 / sf) if sf is not None and sf > 0 else n_in / n_out
    dst = np.arange(n_out, dtype=np.float32)
    sc = np.float32(scale)
    src = np.floor((dst + np.float32(0.5)) * sc) if exact else np.floor(dst * sc)
    return np.minimum(src.astype(np.int64), n_in - 1)


def _along(x: Tensor, dim: int, m: np.ndarray) -> Tensor:
    mt = x.new_tensor(m.astype(x._data.dtype))
    if dim == x.ndim - 1:
        return x.matmul(mt.t())
    if dim == x.ndim - 2:
        return mt.matmul(x)
    return x.movedim(dim, -1).matmul(mt.t()).movedim(-1, dim)


def _interpolate_uint8(input: Tensor, out_sp, sfs, mode: str, align_corners: bool,
                       antialias: bool) -> Tensor:
    """Bilinear or bicubic resampling of 4-D uint8 input as PyTorch's CPU uint8 kernels:
    separable passes (width, then height; a dim whose size is unchanged is skipped) with
    fixed-point int16-range weights, each pass rounding and clamping back to uint8."""
    xp = _xp(input)
    a = input._data
    for axis in (3, 2):
        n_in, n_out = a.shape[axis], out_sp[axis - 2]
        if n_in == n_out:
            continue
        sf = sfs[axis - 2] if sfs is not None else None
        w = (_aa_matrix(n_in, n_out, mode, align_corners, sf) if antialias else
             _interp_matrix(n_in, n_out, "cubic" if mode == "bicubic" else "linear",
                            align_corners, sf))
        bits = 0  # the most fraction bits that keep the largest weight within int16
        while bits < 22 and int(0.5 + np.abs(w).max() * (1 << (bits + 1))) < (1 << 15):
            bits += 1
        scaled = w * (1 << bits)
        ints = np.where(scaled >= 0, np.floor(scaled + 0.5), np.ceil(scaled - 0.5))
        # integer sums stay far below 2**53, so the float64 product is exact
        acc = xp.moveaxis(a, axis, -1).astype(np.float64) @ xp.asarray(ints.T)
        acc = acc.astype(np.int64)
        if bits:
            acc = (acc + (1 << (bits - 1))) >> bits
        a = xp.moveaxis(xp.clip(acc, 0, 255).astype(np.uint8), -1, axis)
    return Tensor._make(xp.ascontiguousarray(a))


@autocast_excluded
def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resizes (N, C, *spatial) input to ``size`` or by ``scale_factor``; modes 'nearest',
    'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area'.

    ``antialias=True`` (4-D bilinear or bicubic) resamples with PyTorch's antialiased
    separable kernels: the filter widens by the downscale factor, so downsampling averages
    every input pixel (one resampling matrix product per axis). Integer input takes the
    nearest modes, and uint8 also bilinear and bicubic (PyTorch's fixed-point uint8 kernels).
    """
    nd = input.ndim - 2
    if nd < 1 or nd > 3:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                                  f"{input.ndim}D) for the modes: nearest | linear | bilinear | "
                                  f"bicubic | trilinear | area | nearest-exact (got {mode})")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif mode in _MODE_DIMS:
        if _MODE_DIMS[mode] != nd:
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                      f"{_MODE_DIMS[mode] + 2}D input")
        align_corners = bool(align_corners)
    else:
        raise NotImplementedError(f"Input Error: unknown interpolation mode {mode}")
    if antialias and not (mode in ("bilinear", "bicubic") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes and "
                         "requires a 4-D tensor as input")
    out_sp, sfs = _sizes(input, nd, size, scale_factor, recompute_scale_factor)
    if mode not in ("nearest", "nearest-exact") and not input.is_floating_point():
        if input.dtype == _dtype.uint8 and mode in ("bilinear", "bicubic"):
            return _interpolate_uint8(input, out_sp, sfs, mode, align_corners, antialias)
        raise NotImplementedError(f"interpolate: mode {mode!r} is not implemented for "
                                  f"{input.dtype} input (only nearest modes, and bilinear or "
                                  "bicubic on uint8)")
    if mode == "area":
        from .pooling import _adaptive_avg

        return _adaptive_avg(nd, input, out_sp, "adaptive_avg_pool")
    in_sp = tuple(input.shape[2:])
    if min(in_sp + out_sp) <= 0:
        names = "DHW"[3 - nd:]
        raise RuntimeError("Input and output sizes should be greater than 0, but got input ("
                           + ", ".join(f"{a}: {v}" for a, v in zip(names, in_sp)) +
                           ") and output (" +
                           ", ".join(f"{a}: {v}" for a, v in zip(names, out_sp)) + ")")
    x = input
    for i in range(nd):
        n_in, n_out = input.shape[2 + i], out_sp[i]
        sf = sfs[i] if sfs is not None else None
        if mode in ("nearest", "nearest-exact"):
            if n_in == n_out:
                continue
            idx = _nearest_index(n_in, n_out, sf, mode == "nearest-exact")
            x = x.index_select(2 + i, Tensor._make(_xp(x).asarray(idx)))
        elif antialias:
            x = _along(x, 2 + i, _aa_matrix(n_in, n_out, mode, align_corners, sf))
        else:
            m = _interp_matrix(n_in, n_out, "cubic" if mode == "bicubic" else "linear",
                               align_corners, sf)
            x = _along(x, 2 + i, m)
    return x


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated alias of ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated: ``interpolate(mode='nearest')``."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated: ``interpolate(mode='bilinear', align_corners=True)``."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def _xp(t: Tensor):
    from ...ops.op import xp_of

    return xp_of(t._data)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""
    r = upscale_factor
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.ndim} dimension(s)")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    nl = len(lead)
    x = input.reshape(tuple(lead) + (c // (r * r), r, r, h, w))
    perm = tuple(range(nl)) + tuple(nl + i for i in (0, 3, 1, 4, 2))
    return x.permute(perm).reshape(tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""
    r = downscale_factor
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by "
                           f"downscale_factor, but got {h} and {w} with factor {r}")
    nl = len(lead)
    x = input.reshape(tuple(lead) + (c, h // r, r, w // r, r))
    perm = tuple(range(nl)) + tuple(nl + i for i in (0, 2, 4, 1, 3))
    return x.permute(perm).reshape(tuple(lead) + (c * r * r, h // r, w // r))


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Shuffles the channels (dim 1) of (N, C, *) input across ``groups``."""
    n, c = input.shape[:2]
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {groups} groups.")
    rest = tuple(input.shape[2:])
    x = input.reshape((n, groups, c // groups) + rest).transpose(1, 2)
    return x.reshape((n, c) + rest)


native_channel_shuffle = channel_shuffle


def _clamped_norm(x: Tensor, dim: int, eps: float) -> Tensor:
    """The 2-norm of ``x`` along ``dim`` (kept), clamped at ``eps`` in value only (the
    gradient is the unclamped norm's, as PyTorch)."""
    n = R.norm(x, 2, dim, keepdim=True)
    return n + (n.clamp_min(eps) - n).detach()


@fp32_op("cosine_similarity")
def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim``."""
    from ...ops.shape import broadcast_to

    shape = tuple(np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape)))
    a = broadcast_to(x1, shape) if tuple(x1.shape) != shape else x1
    b = broadcast_to(x2, shape) if tuple(x2.shape) != shape else x2
    return ((a / _clamped_norm(a, dim, eps)) * (b / _clamped_norm(b, dim, eps))).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` along the last dim."""
    d = max(x1.ndim, x2.ndim) - 1
    diff = x1 - x2 + eps
    if d < 0:
        return diff.abs()
    return R.norm(diff, p, d, keepdim=keepdim)


@fp32_op("pdist")
def pdist(input: Tensor, p: float = 2) -> Tensor:
    """The ``p``-norm distances between every pair of rows (upper triangle, row-major)."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    n = input.shape[0]
    i, j = np.triu_indices(n, 1)
    xp = _xp(input)
    a = input.index_select(0, Tensor._make(xp.asarray(i)))
    b = input.index_select(0, Tensor._make(xp.asarray(j)))
    return R.norm(a - b, p, 1)


@lower_op("scaled_dot_product_attention")
def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(q k^T * scale + mask) v`` over (..., L, E) queries and (..., S, E) keys;
    a boolean mask keeps True positions, a float mask is added. A query whose keys are all
    masked gets a zero output (and zero gradients), as in PyTorch.

    Departure from PyTorch: always computed in this math form (no fused flash or
    memory-efficient kernel); the values are the same.
    """
    from ...ops import _opmath
    from ...ops.elementwise import where

    if attn_mask is not None and hasattr(attn_mask, "_materialize"):  # attention.bias masks
        attn_mask = attn_mask._materialize(query.device)
    if _opmath.low_dtype([query]) is not None and key.dtype == query.dtype == value.dtype:
        # float16/bfloat16: the scores, softmax and weighted sum in float32, rounded once
        # (as PyTorch's fused CPU kernel accumulates; its blocked order differs in the last
        # place); a float mask of the half dtype is widened with them
        return _opmath.in_float32(
            lambda q, k, v, m: scaled_dot_product_attention(q, k, v, m, dropout_p, is_causal,
                                                            scale, enable_gqa),
            query, key, value, attn_mask)
    lq, s = query.shape[-2], key.shape[-2]
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        rep = query.shape[-3] // key.shape[-3]

        def repeat_heads(t):  # (..., Hk, S, D) -> (..., Hk * rep, S, D)
            s = tuple(t.shape)
            e = t.unsqueeze(-3).expand(s[:-2] + (rep,) + s[-2:])
            return e.reshape(s[:-3] + (s[-3] * rep,) + s[-2:])

        key, value = repeat_heads(key), repeat_heads(value)
    scores = query.matmul(key.transpose(-2, -1)) * scale  # (..., L, S)
    xp = _xp(query)
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                               "set when is_causal=True")
        keep = Tensor._make(xp.tril(xp.ones((lq, s), dtype=bool)))
        scores = scores.masked_fill(~keep, float("-inf"))
    empty = None
    if attn_mask is not None:
        if attn_mask.dtype.name == "bool":
            scores = where(attn_mask, scores, scores.new_full((), float("-inf")))
            empty = ~attn_mask.any(-1, keepdim=True)
        else:
            scores = scores + attn_mask
            empty = (attn_mask == float("-inf")).all(-1, keepdim=True)
        if not bool(empty.any()):
            empty = None
    if empty is not None:  # rows whose keys are all masked attend to nothing: output 0
        scores = where(empty, scores.new_zeros(()), scores)
    attn = R.softmax(scores, -1)
    if empty is not None:
        attn = where(empty, attn.new_zeros(()), attn)
    if dropout_p > 0.0:
        from .dropout import dropout

        attn = dropout(attn, dropout_p, True)
    out = attn.matmul(value)  # (..., L, Ev)
    q = query._data
    if out.shape == query.shape and q.ndim > 1 and not q.flags.c_contiguous:
        out = _InLayoutOf.apply(out, like=q)  # PyTorch's kernels keep the query's layout
    return out


class _InLayoutOf(Op):
    """A copy of ``x`` whose memory has the stride order of the array ``like`` (same shape):
    what ``transpose(1, 2).view(...)`` after attention relies on."""

    _name = "clone"

    def forward(self, x):
        y = xp_of(x).empty_like(self.like)  # keeps like's stride order
        y[...] = x
        self.like = None
        return y

    def backward(self, g):
        return g
