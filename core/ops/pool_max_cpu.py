"""Max pooling on the CPU, a cache-sized block of (sample, channel) planes at a time.

Each block of planes is padded (with -inf) into a small buffer, reduced with one pass per
kernel offset, and, when a gradient is wanted, the offset of each window's first maximum is
kept as it is found (``v > best`` marks where value and offset change), instead of
a second search over all offsets after the maximum is known. The backward adds the output
gradient picked at each offset's windows (``g * (arg == i)``) with one strided add, straight
into the unpadded input gradient (windows' positions in the padding are dropped). Blocks
are split over ember's intra-op threads (numpy releases the GIL inside these passes).

Inputs holding NaN keep ``pool.py``'s search (a NaN is the maximum, as in PyTorch), which
strict ``>`` comparisons would miss.
"""

from __future__ import annotations

import itertools

import numpy as np

from ._parallel import CHUNK, run_parts

__all__ = ["max_pool_forward", "max_pool_backward"]


def _offsets(k):
    return list(itertools.product(*(range(kk) for kk in k)))


def _windows(offs, dilation, stride, out):
    """The strided slices of a (planes, *padded) block read by kernel offset ``offs``."""
    return (slice(None),) + tuple(slice(o * d, o * d + s * (m - 1) + 1, s)
                                  for o, d, s, m in zip(offs, dilation, stride, out))


def _arg_dtype(k):
    return np.uint8 if len(_offsets(k)) < 256 else np.int64


def max_pool_forward(x, k, stride, dilation, pads, out, need_arg: bool):
    """The window maxima of ``x`` (N, C, *in) padded by ``pads`` ((lo, hi) per dim), and
    the index of each maximum's kernel offset (or None when ``need_arg`` is false); None
    when offsets are wanted and the input holds a NaN (the caller's search handles those)."""
    n, c = x.shape[:2]
    in_sp = x.shape[2:]
    planes = x.reshape((n * c,) + in_sp)
    padded = tuple(i + lo + hi for i, (lo, hi) in zip(in_sp, pads))
    interior = (slice(None),) + tuple(slice(lo, lo + i) for i, (lo, _) in zip(in_sp, pads))
    is_padded = padded != tuple(in_sp)
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    offs = _offsets(k)
    views = [_windows(o, dilation, stride, out) for o in offs]
    best = np.empty((n * c,) + tuple(out), x.dtype)
    arg = np.empty(best.shape, _arg_dtype(k)) if need_arg else None
    check_nan = need_arg and x.dtype.kind == "f"
    nan_seen = []

    def part(lo, hi):
        src = planes[lo:hi]
        if is_padded:
            buf = np.full((hi - lo,) + padded, fill, x.dtype)
            buf[interior] = src
            src = buf
        b = best[lo:hi]
        b[...] = src[views[0]]
        if arg is None:
            for v in views[1:]:
                np.maximum(b, src[v], out=b)
            return
        if check_nan and np.isnan(src.max()):  # the block is still in cache
            nan_seen.append(lo)
            return
        a = arg[lo:hi]
        a[...] = 0
        better = np.empty(b.shape, bool)
        step = np.empty(b.shape, a.dtype)
        for i, v in enumerate(views[1:], 1):
            w = src[v]
            np.greater(w, b, out=better)  # strictly greater: the first maximum is kept
            np.maximum(b, w, out=b)
            # a = i where better, as arithmetic (masked copies are several times slower)
            np.subtract(a.dtype.type(i), a, out=step)  # wraps for uint8; exact mod 256
            np.multiply(step, better, out=step)
            a += step

    if n * c:
        run_parts(part, n * c, max(1, int(np.prod(padded))), chunk=2 * CHUNK)
    if nan_seen:
        return None
    best = best.reshape((n, c) + tuple(out))
    return best, (None if arg is None else arg.reshape(best.shape))


def _clipped(offs, dilation, stride, out, in_sp, pads):
    """(input slices, output slices) of the windows' positions at kernel offset ``offs``
    that fall inside the unpadded input, or None when there are none."""
    dst, src = [slice(None)], [slice(None)]
    for o, d, s, m, size, (lo, _) in zip(offs, dilation, stride, out, in_sp, pads):
        start = o * d - lo  # input coordinate read by output index 0
        j0 = (-start + s - 1) // s if start < 0 else 0  # first j with start + s*j >= 0
        j1 = min(m, (size - start + s - 1) // s) if size > start else 0
        if j1 <= j0:
            return None
        dst.append(slice(start + s * j0, start + s * (j1 - 1) + 1, s))
        src.append(slice(j0, j1))
    return tuple(dst), tuple(src)


def max_pool_backward(g, arg, in_shape, k, stride, dilation, pads):
    """Adds ``g`` (N, C, *out) to the input position of each window's maximum (kernel
    offset ``arg``): the gradient of max pooling, shape ``in_shape``."""
    n, c = in_shape[:2]
    in_sp = tuple(in_shape[2:])
    out = g.shape[2:]
    gp = g.reshape((n * c,) + tuple(out))
    ap = arg.reshape(gp.shape)
    dx = np.empty((n * c,) + in_sp, g.dtype)
    moves = [(i, _clipped(o, dilation, stride, out, in_sp, pads))
             for i, o in enumerate(_offsets(k))]
    moves = [(i, m) for i, m in moves if m is not None]
    # Windows that never share an input position (stride >= the dilated kernel, as in the
    # common 2x2/2 pooling) let each offset's picks be written, not added; when they also
    # cover the input exactly, nothing needs zeroing first.
    disjoint = all(s >= d * (kk - 1) + 1 for s, d, kk in zip(stride, dilation, k))
    covered = disjoint and not any(lo or hi for lo, hi in pads) and all(
        s == kk and i == s * m for s, kk, i, m in zip(stride, k, in_sp, out)) and \
        all(d == 1 for d in dilation)

    def part(lo, hi):
        d, gg, a = dx[lo:hi], gp[lo:hi], ap[lo:hi]
        if not covered:
            d[...] = 0
        hit = np.empty(gg.shape, bool)
        picked = None if disjoint else np.empty(gg.shape, gg.dtype)
        for i, (dst, src) in moves:
            h = hit[src]
            np.equal(a[src], i, out=h)
            if disjoint:
                np.multiply(gg[src], h, out=d[dst])
            else:  # arithmetic, not a masked add (much slower)
                p = picked[src]
                np.multiply(gg[src], h, out=p)
                d[dst] += p

    if n * c:
        run_parts(part, n * c, max(1, int(np.prod(in_sp))), chunk=2 * CHUNK)
    return dx.reshape(in_shape)
