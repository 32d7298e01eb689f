"""Training-mode batch norm on the CPU over the (sample, channel) planes of the input.

The input (N, C, *sp) is read as N*C rows of L = prod(sp) values. Statistics are two passes
of row reductions (sums; then sums of squared deviations from the channel mean, with the
deviations made a cache-sized block at a time), reduced over the N rows of each channel in
a fixed order. The output is ``x * alpha + beta`` per channel (alpha = weight * invstd,
beta = bias - mean * alpha, as PyTorch's CPU kernel). The backward is two more passes: the
row sums of ``g`` and of ``g * (x - mean)``, then the closed form
``alpha * (g - mean(g) - xhat * mean(g * xhat))`` written as ``g * a + (x - mean) * b + c``.

Row sums are numpy's pairwise ``sum`` (not ``einsum``'s running sum, whose rounding moved an
ill-conditioned float64 ResNeXt-50 gradient golden test by 3%). Against the generic form
(full-size temporaries for every step) this reads the input three times and writes the
output once; blocks are split over ember's intra-op threads, each row's sums taken the same
way, so results don't depend on the thread count.

Blocks are walked as ``ops._channel_blocks.ChannelBlocks`` lays them out.
"""

from __future__ import annotations

import numpy as np

from ._channel_blocks import ChannelBlocks
from ._parallel import run_parts
from .reduce import _ROW_DTYPES

__all__ = ["usable", "forward", "backward"]


def usable(x, *params) -> bool:
    """Whether ``x`` (N, C, *sp) and the (C,) parameters take the row form: numpy float32 or
    float64 of one dtype, at least one spatial dim and a non-empty input."""
    return type(x) is np.ndarray and x.dtype in _ROW_DTYPES and x.ndim >= 3 and \
        x.size > 0 and all(p is None or (type(p) is np.ndarray and p.dtype == x.dtype)
                           for p in params)


def _rows(a):
    n, c = a.shape[:2]
    return np.ascontiguousarray(a).reshape(n * c, -1)


def _channel_sum(row_values, n, c):
    """Sums the N rows of each channel: (N*C,) -> (C,), in sample order."""
    return row_values.reshape(n, c).sum(axis=0)


def forward(x, w, b, eps: float):
    """The normalised output and the batch's per-channel mean and biased variance (C,) and
    inverse standard deviation."""
    n, c = x.shape[:2]
    x2 = _rows(x)
    rows, length = x2.shape
    count = n * length
    sums = np.empty(rows, x.dtype)

    def row_sums(lo, hi):
        sums[lo:hi] = x2[lo:hi].sum(axis=1)

    run_parts(row_sums, rows, length)
    mean = _channel_sum(sums, n, c) / count
    blocks = ChannelBlocks(n, c, length)
    mean_f = blocks.per_channel(mean)
    sq = np.empty(rows, x.dtype)

    def row_squares(lo, hi):
        d = blocks.block(x2, lo, hi) - blocks.at(mean_f, lo, hi)
        sq[blocks.rows(lo, hi)] = blocks.row_dots(d, d)

    blocks.walk(row_squares)
    var = _channel_sum(sq, n, c) / count
    invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
    alpha = invstd * w if w is not None else invstd
    beta = -mean * alpha
    if b is not None:
        beta += b
    a_f, b_f = blocks.per_channel(alpha), blocks.per_channel(beta)
    out = np.empty(x2.shape, x.dtype)

    def transform(lo, hi):
        o = blocks.block(out, lo, hi)
        np.multiply(blocks.block(x2, lo, hi), blocks.at(a_f, lo, hi), out=o)
        o += blocks.at(b_f, lo, hi)

    blocks.walk(transform)
    return out.reshape(x.shape), mean, var, invstd


def backward(g, x, mean, invstd, w, need_x: bool):
    """(grad of x or None, grad of weight, grad of bias) of the batch norm of ``x`` with the
    forward's ``mean`` and ``invstd`` (C,)."""
    n, c = x.shape[:2]
    x2, g2 = _rows(x), _rows(g.astype(x.dtype, copy=False))
    rows, length = x2.shape
    count = n * length
    blocks = ChannelBlocks(n, c, length)
    mean_f = blocks.per_channel(mean)
    sums = np.empty(rows, x.dtype)
    dots = np.empty(rows, x.dtype)

    def row_sums(lo, hi):
        part = blocks.rows(lo, hi)
        gs = blocks.block(g2, lo, hi)
        sums[part] = blocks.row_sums(gs)
        d = blocks.block(x2, lo, hi) - blocks.at(mean_f, lo, hi)
        dots[part] = blocks.row_dots(d, gs)

    blocks.walk(row_sums)
    sum_g = _channel_sum(sums, n, c)
    sum_gxhat = _channel_sum(dots, n, c) * invstd  # = grad of weight
    if not need_x:
        return None, sum_gxhat, sum_g
    k = invstd * w if w is not None else invstd
    # gx = k * (g - sum_g / M - xhat * sum_gxhat / M), xhat = (x - mean) * invstd
    a_f = blocks.per_channel(k)
    d_f = blocks.per_channel(-k * invstd * sum_gxhat / count)
    c_f = blocks.per_channel(-k * sum_g / count)
    out = np.empty(x2.shape, x.dtype)

    def grad_input(lo, hi):
        o = blocks.block(out, lo, hi)
        d = blocks.block(x2, lo, hi) - blocks.at(mean_f, lo, hi)
        d *= blocks.at(d_f, lo, hi)
        np.multiply(blocks.block(g2, lo, hi), blocks.at(a_f, lo, hi), out=o)
        o += d
        o += blocks.at(c_f, lo, hi)

    blocks.walk(grad_input)
    return out.reshape(x.shape), sum_gxhat, sum_g
