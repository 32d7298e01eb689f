"""Convolution ops (1-D, 2-D and 3-D): strided views of the padded input plus one large
matrix product per layer (batched over groups), as chainer's ``im2col`` + ``tensordot``.

Layout. ``im2col`` gathers the windows of the padded input (N, C, *in) with ONE strided
view of shape (C, *k, N, *out) and one copy into a (C*K, N*L) buffer (K = prod(kernel),
L = prod(out)). The forward is then ``W (G, O/G, C/G*K) @ col (G, C/G*K, N*L)`` on BLAS.
1x1 convolutions skip the gather and multiply the input directly. Stride-1 convolutions
with short output rows gather in padded-row layout (``MAX_ROW_WASTE``): each window row runs
on through the padding columns, so whole planes copy as one run; those extra outputs are
dropped. 1x1 stride-1 convolutions over large planes multiply each sample's plane in place
(``PER_SAMPLE_MIN_POSITIONS``).

Three ops make the family closed under differentiation (so double backward works):

- ``Convolution(x, w[, b])``: the forward;
- ``ConvInputGrad(gy, w)``: the gradient of the input, i.e. the transposed convolution
  (``W^T @ gy`` with gy on the stride phases' grid, then one shifted add per kernel offset
  into its phase and one strided copy per phase, ``_grid_input_grad``; never a loop over
  batch or pixels); also the forward of ``ConvTranspose``;
- ``ConvWeightGrad(x, gy)``: the gradient of the weight, ``gy @ col^T`` (one matmul over
  the gathered buffer, reusing the forward's buffer when it was kept).
"""

from __future__ import annotations

import itertools

from .._tensor import Tensor
from ..autograd.grad_mode import _State
from . import _onednn
from . import conv_shift as shift
from ._lowp import float32_gemm
from .op import Op, xp_of

__all__ = ["conv", "conv_transpose", "im2col", "col2im", "unfold", "fold"]

# gathered buffers up to this size are kept from forward for the weight gradient
KEEP_COL_BYTES = 256 * 1024 * 1024
# with a graph, windows that would be gathered in sample blocks are gathered whole and kept
# (no second gather for the weight gradient) when at most this size, which bounds the
# memory this adds per layer (see _forward_rows)
KEEP_WHOLE_BYTES = 64 * 1024 * 1024
# larger gathers are made and multiplied a block of samples at a time, each block about
# this size: small enough to stay in the last-level cache between its copy and its product,
# large enough that a 2-thread BLAS is not slowed by many short calls on a busy machine
CHUNK_BYTES = 16 * 1024 * 1024


def _prod(t) -> int:
    n = 1
    for v in t:
        n *= v
    return n


def out_shape(in_shape, k, stride, pads, dilation) -> tuple:
    """Spatial output shape of a convolution (pads are (lo, hi) pairs)."""
    return tuple((i + lo + hi - d * (kk - 1) - 1) // s + 1
                 for i, kk, s, (lo, hi), d in zip(in_shape, k, stride, pads, dilation))


def _pad(xp, x, pads, value=0):
    """Pads the spatial dims of (N, C, *sp) with ``value`` ((lo, hi) per dim)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    shape = x.shape[:2] + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
    out = xp.full(shape, value, dtype=x.dtype) if value != 0 else \
        xp.zeros(shape, dtype=x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(lo, lo + n) for n, (lo, _) in
                                           zip(x.shape[2:], pads))] = x
    return out


def windows(xp, xpad, k, stride, dilation, out, order: str = "ckn"):
    """A strided view of the windows of padded ``xpad`` (N, C, *sp): shape
    (C, *k, N, *out) for ``order='ckn'`` or (N, C, *out, *k) for ``order='nco'``."""
    st = xpad.strides
    nd = len(k)
    kst = tuple(st[2 + i] * dilation[i] for i in range(nd))
    ost = tuple(st[2 + i] * stride[i] for i in range(nd))
    n, c = xpad.shape[:2]
    if order == "ckn":
        shape = (c,) + tuple(k) + (n,) + tuple(out)
        strides = (st[1],) + kst + (st[0],) + ost
    else:
        shape = (n, c) + tuple(out) + tuple(k)
        strides = (st[0], st[1]) + ost + kst
    return xp.lib.stride_tricks.as_strided(xpad, shape=shape, strides=strides)


def im2col(xp, x, k, stride, pads, dilation, out=None):
    """The (C*K, N*L) buffer of every window of ``x`` (N, C, *in), and the output shape
    (``out`` limits the windows to fewer output positions than fit)."""
    if out is None:
        out = out_shape(x.shape[2:], k, stride, pads, dilation)
    xpad = _pad(xp, x, pads)
    v = windows(xp, xpad, k, stride, dilation, out)
    col = xp.ascontiguousarray(v)
    return col.reshape(x.shape[1] * _prod(k), x.shape[0] * _prod(out)), out


def _non_overlapping(k, stride, dilation) -> bool:
    return all(s >= d * (kk - 1) + 1 for kk, s, d in zip(k, stride, dilation))


class _Phases:
    """Where each kernel offset of a (strided) convolution lands in its input.

    Offset ``o`` of output index ``j`` reads input index ``j*s + o*d - lo``, which is index
    ``j + q`` of the stride phase ``a`` (``q, a = divmod(o*d - lo, s)``): per dim,
    ``taps[dim][o] = (a, q - q_min)``; each phase array spans ``extent`` indices from
    ``q_min``."""

    def __init__(self, k, stride, pads, dilation, out):
        self.stride = tuple(stride)
        self.taps = [[(a, q) for q, a in (divmod(o * d - lo, s) for o in range(kk))]
                     for kk, d, s, (lo, _) in zip(k, dilation, stride, pads)]
        self.q_min = [min(q for _, q in t) for t in self.taps]
        self.taps = [[(a, q - qm) for a, q in t] for t, qm in zip(self.taps, self.q_min)]
        self.extent = tuple(max(q for _, q in t) + m for t, m in zip(self.taps, out))

    def offsets(self):
        """(offset tuple, phase key, shift tuple) of every kernel offset."""
        for offs in itertools.product(*(range(len(t)) for t in self.taps)):
            yield offs, tuple(self.taps[i][o][0] for i, o in enumerate(offs)), \
                tuple(self.taps[i][o][1] for i, o in enumerate(offs))

    def scatter(self, xp, phases, x_shape, dtype):
        """The input (N, C, *in) made of the (C, N, *extent) ``phases`` arrays (by key):
        each phase's part inside the input copied into its strided positions."""
        in_sp = tuple(x_shape[2:])
        spans = []  # per dim: {phase: (first, end)} of the phase indices inside the input
        for t, qm, e, s, size in zip(self.taps, self.q_min, self.extent, self.stride, in_sp):
            spans.append({a: (max(qm, 0), max(max(qm, 0), min(qm + e, -(-(size - a) // s))))
                          for a in {a for a, _ in t}})
        covered = all(sum(m1 - m0 for m0, m1 in dim.values()) == size
                      for dim, size in zip(spans, in_sp))
        dx = (xp.empty if covered else xp.zeros)(x_shape, dtype=dtype)
        for key, arr in phases.items():
            dst, src = [], []
            for i, a in enumerate(key):
                m0, m1 = spans[i][a]
                if m1 <= m0:
                    break
                s = self.stride[i]
                dst.append(slice(m0 * s + a, (m1 - 1) * s + a + 1, s))
                src.append(slice(m0 - self.q_min[i], m1 - self.q_min[i]))
            else:
                dx[(slice(None), slice(None)) + tuple(dst)] = \
                    arr[(slice(None), slice(None)) + tuple(src)].swapaxes(0, 1)
        return dx


def col2im(xp, col, x_shape, k, stride, pads, dilation, out):
    """Adds the (C*K, N*L) buffer ``col`` back onto an input of shape ``x_shape``
    (N, C, *in): each kernel offset's block is added, as it lies in ``col`` ((C, N, *out)),
    at its shift into a (C, N, ...) array of its stride phase (``_Phases``), and each phase
    is copied once into the input's strided positions (a strided pass over the input per
    phase, not per kernel offset)."""
    n, c = x_shape[:2]
    col = col.reshape((c,) + tuple(k) + (n,) + tuple(out))
    if not any(lo or hi for lo, hi in pads) and _non_overlapping(k, stride, dilation):
        dx = xp.zeros(x_shape, dtype=col.dtype)
        windows(xp, dx, k, stride, dilation, out)[...] = col
        return dx
    ph = _Phases(k, stride, pads, dilation, out)
    phases = {}
    for offs, key, moved in ph.offsets():
        if key not in phases:
            phases[key] = xp.zeros((c, n) + ph.extent, dtype=col.dtype)
        at = tuple(slice(q, q + m) for q, m in zip(moved, out))
        phases[key][(slice(None), slice(None)) + at] += col[(slice(None),) + offs]
    return ph.scatter(xp, phases, x_shape, col.dtype)


GRID_MAX_WASTE = 1.35


def _grid_pays(k, stride, pads, dilation, out) -> bool:
    """Whether the input gradient takes ``_grid_input_grad``: kernel offsets that overlap
    (or padding), on a phase grid at most ``GRID_MAX_WASTE`` times the output (the grid's
    extra rows and columns are multiplied too; at 1.31 times, 7x7 outputs of a 3x3/2
    convolution of 8x256x14x14, the grid still measured faster: 12.7 -> 11.3 ms)."""
    if _pointwise(k, pads) or (not any(lo or hi for lo, hi in pads) and
                               _non_overlapping(k, stride, dilation)):
        return False
    extent = _Phases(k, stride, pads, dilation, out).extent
    return _prod(extent) <= GRID_MAX_WASTE * _prod(out)


def _grid_input_grad(xp, gy, w, x_shape, stride, pads, dilation, groups):
    """The input gradient ``col2im(W^T @ gy)`` with ``gy`` (N, O, *out) first placed on
    the (N, *extent) grid of the stride phases (zeros around it): each kernel offset's rows
    of the product are then one flat shifted add of whole rows into its phase (long
    contiguous adds instead of one short add per output row). Measured with the product,
    against ``col2im`` of the dense product (2 cores, float32, 3x3/2 convolutions):
    128x16x32x32 input 15.7 -> 11.6 ms, 128x32x16x16 11.7 -> 7.3, 8x64x56x56 14.0 ->
    12.1, 32x64x14x14 6.4 -> 4.2."""
    n, o = gy.shape[:2]
    c, k = x_shape[1], tuple(w.shape[2:])
    ph = _Phases(k, stride, pads, dilation, gy.shape[2:])
    size = _prod(ph.extent)
    grid = xp.zeros((o, n) + ph.extent, dtype=gy.dtype)
    grid[(slice(None), slice(None)) + tuple(slice(0, m) for m in gy.shape[2:])] = \
        gy.swapaxes(0, 1)
    g2 = grid.reshape(o, n * size)
    if groups == 1:
        dcol = xp.matmul(w.reshape(o, -1).T, g2)  # (C*K, N*E)
    else:
        wt = xp.ascontiguousarray(w.reshape(groups, o // groups, -1).swapaxes(1, 2))
        dcol = xp.matmul(wt, g2.reshape(groups, o // groups, -1))  # (G, Cg*K, N*E)
    dcol = dcol.reshape(c, _prod(k), n * size)
    strides = [_prod(ph.extent[i + 1:]) for i in range(len(k))]
    reach = sum(max(q for _, q in t) * st for t, st in zip(ph.taps, strides))
    phases = {}
    for t, (_, key, moved) in enumerate(ph.offsets()):
        if key not in phases:
            phases[key] = xp.zeros((c, n * size + reach), dtype=dcol.dtype)
        at = sum(q * st for q, st in zip(moved, strides))
        phases[key][:, at:at + n * size] += dcol[:, t]
    phases = {key: arr[:, :n * size].reshape((c, n) + ph.extent)
              for key, arr in phases.items()}
    return ph.scatter(xp, phases, x_shape, dcol.dtype)


def _pointwise(k, pads) -> bool:
    return all(kk == 1 for kk in k) and not any(lo or hi for lo, hi in pads)


def _subsample(x, stride):
    if all(s == 1 for s in stride):
        return x
    return x[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)]


def _to_rows(xp, a):
    """(N, C, *sp) -> (C, N*L) contiguous."""
    n, c = a.shape[:2]
    length = _prod(a.shape[2:])  # not -1: an empty batch has no size to infer it from
    return xp.ascontiguousarray(a.reshape(n, c, length).swapaxes(0, 1)).reshape(c, n * length)


def _from_rows(xp, a2, n, sp):
    """(C, N*L) -> (N, C, *sp) contiguous; rows in padded-row layout (wider last dim, see
    ``_forward_padded_rows``) drop their padding columns."""
    c = a2.shape[0]
    inner = a2.shape[1] // n // _prod(sp[:-1]) if sp else 1
    a = a2.reshape((c, n) + tuple(sp[:-1]) + (inner,))
    if sp and inner != sp[-1]:
        a = a[..., :sp[-1]]
    return xp.ascontiguousarray(a.swapaxes(0, 1))


def _samples_per_chunk(n: int, col_rows: int, length: int, itemsize: int) -> int:
    """How many samples' windows to gather at a time so that the gathered block (about
    ``CHUNK_BYTES``) stays in cache between its copy and its matrix product."""
    per_sample = col_rows * length * itemsize
    return max(1, min(n, CHUNK_BYTES // max(per_sample, 1)))


# stride-1 windows with short output rows (at most ROW_MAX_WIDTH values) are gathered in
# padded-row layout when the padded last dim is at most MAX_ROW_WASTE times the output's:
# each window row then runs on through the padding columns, so the copy moves whole output
# planes as one contiguous run instead of one short row at a time, and the columns computed
# at padding positions are dropped afterwards. Measured (2 cores): the 32- and 64-channel
# layers of CIFAR ResNets (16x16, 8x8) 15-20% faster, ResNet-20's training step ~9%; on
# rows of 28-56 values the row-at-a-time gather is as fast and wastes nothing
ROW_MAX_WIDTH = 16
MAX_ROW_WASTE = 1.25


def _row_width(k, stride, pads, dilation, in_sp):
    """The padded last-dim width when the windows are gathered in padded-row layout (see
    ``MAX_ROW_WASTE``), else None."""
    if any(s != 1 for s in stride) or _pointwise(k, pads) or \
            any(lo < 0 or hi < 0 for lo, hi in pads):
        return None
    wp = in_sp[-1] + pads[-1][0] + pads[-1][1]
    wo = wp - dilation[-1] * (k[-1] - 1)
    if wo <= 0 or wo > ROW_MAX_WIDTH or wp > MAX_ROW_WASTE * wo or \
            any(o <= 0 for o in out_shape(in_sp, k, stride, pads, dilation)):
        return None
    return wp


def _pad_flat(xp, x, pads, tail: int):
    """``x`` (N, C, *sp) zero-padded by ``pads`` into a flat buffer with ``tail`` extra
    zeros (read by the last windows of padded-row layout), and the padded spatial shape."""
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
    size = x.shape[0] * x.shape[1] * _prod(padded)
    flat = xp.zeros(size + tail, dtype=x.dtype)
    flat[:size].reshape(x.shape[:2] + padded)[
        (slice(None), slice(None)) + tuple(slice(lo, lo + n) for n, (lo, _) in
                                           zip(x.shape[2:], pads))] = x
    return flat, padded


def _row_tail(k, dilation) -> int:
    return dilation[-1] * (k[-1] - 1)


def _gather_padded_rows(xp, flat, n0, n1, c, padded, k, dilation, out):
    """The (C*K, (n1-n0)*L') windows of samples [n0, n1) of the flat padded buffer in
    padded-row layout: L' = prod(out[:-1]) * padded[-1] (each output row as wide as the
    padded input row; the extra columns are windows over the padding)."""
    it = flat.itemsize
    nd = len(k)
    pst = [1] * nd
    for i in range(nd - 2, -1, -1):
        pst[i] = pst[i + 1] * padded[i + 1]
    plane = pst[0] * padded[0]
    shape = (c,) + tuple(k) + (n1 - n0,) + tuple(out[:-1]) + (padded[-1],)
    strides = (plane * it,) + tuple(pst[i] * dilation[i] * it for i in range(nd)) + \
        (c * plane * it,) + tuple(pst[i] * it for i in range(nd - 1)) + (it,)
    v = xp.lib.stride_tricks.as_strided(flat[n0 * c * plane:], shape=shape, strides=strides)
    return xp.ascontiguousarray(v).reshape(c * _prod(k), -1)


def _padded_row_grad(xp, gy, wp):
    """``gy`` (N, O, *out) as (O, N*L') rows in padded-row layout (zeros in the padding
    columns), for the weight gradient of a padded-row gather."""
    n, o = gy.shape[:2]
    g = xp.zeros((o, n) + tuple(gy.shape[2:-1]) + (wp,), dtype=gy.dtype)
    g[..., :gy.shape[-1]] = gy.swapaxes(0, 1)
    return g.reshape(o, -1)


def _forward_padded_rows(xp, x, w, pads, dilation, groups, wp, keep=False):
    """``_forward_rows`` for stride 1 in padded-row layout: (O, N*L') rows, the output's
    spatial shape, and the gathered buffer when made in one piece and small enough."""
    n, o, k = x.shape[0], w.shape[0], w.shape[2:]
    c = x.shape[1]
    out = out_shape(x.shape[2:], k, (1,) * len(k), pads, dilation)
    length = _prod(out[:-1]) * wp
    flat, padded = _pad_flat(xp, x, pads, _row_tail(k, dilation))
    nb = _samples_per_chunk(n, c * _prod(k), length, x.dtype.itemsize)
    if nb >= n or (keep and n * length * c * _prod(k) * x.dtype.itemsize <= KEEP_WHOLE_BYTES):
        col = _gather_padded_rows(xp, flat, 0, n, c, padded, k, dilation, out)
        return _matmul_groups(xp, w, col, groups), out, \
            (col if col.nbytes <= KEEP_COL_BYTES else None)
    y2 = xp.empty((o, n * length), dtype=xp.result_type(x.dtype, w.dtype))
    for s in range(0, n, nb):  # blocks of samples, not a loop per sample
        e = min(n, s + nb)
        col = _gather_padded_rows(xp, flat, s, e, c, padded, k, dilation, out)
        y2[:, s * length:e * length] = _matmul_groups(xp, w, col, groups)
    return y2, out, None


def _forward_rows(xp, x, w, stride, pads, dilation, groups, keep=False):
    """``W @ im2col(x)`` as (O, N*L) rows, the output's spatial shape, and the gathered
    buffer when it was made in one piece and is small enough to keep for the weight
    gradient (else None). Large inputs are gathered a few samples at a time: each block
    of windows is multiplied while it is still in cache (a third faster for the
    small-channel layers of CIFAR ResNets than one large gather), unless ``keep`` (a graph
    may need the weight gradient) and the whole buffer is at most ``KEEP_WHOLE_BYTES``:
    gathering it again for the weight gradient costs more than the blocks save (2 cores,
    forward and both gradients: ResNet-20's 16->32 3x3/2 layer at batch 128 37-38 -> 27-28
    ms, a 64->128 3x3/2 layer on 56x56 maps at batch 32 138-158 -> 122-125 ms)."""
    n, o, k = x.shape[0], w.shape[0], w.shape[2:]
    if _pointwise(k, pads):
        xs = _subsample(x, stride)
        col = _to_rows(xp, xs)
        return _matmul_groups(xp, w, col, groups), xs.shape[2:], \
            (col if col.nbytes <= KEEP_COL_BYTES else None)
    wp = _row_width(k, stride, pads, dilation, x.shape[2:])
    if wp is not None:
        return _forward_padded_rows(xp, x, w, pads, dilation, groups, wp, keep)
    out = out_shape(x.shape[2:], k, stride, pads, dilation)
    length = _prod(out)
    rows = w.shape[1] * groups * _prod(k)
    nb = _samples_per_chunk(n, rows, length, x.dtype.itemsize)
    if nb >= n or (keep and n * rows * length * x.dtype.itemsize <= KEEP_WHOLE_BYTES):
        col, _ = im2col(xp, x, k, stride, pads, dilation)
        return _matmul_groups(xp, w, col, groups), out, \
            (col if col.nbytes <= KEEP_COL_BYTES else None)
    xpad, nopad = _pad(xp, x, pads), ((0, 0),) * len(k)  # padded once, not per block
    y2 = None
    for s in range(0, n, nb):  # blocks of samples, not a loop per sample
        e = min(n, s + nb)
        col, _ = im2col(xp, xpad[s:e], k, stride, nopad, dilation, out)
        part = _matmul_groups(xp, w, col, groups)
        if y2 is None:
            y2 = xp.empty((o, n * length), dtype=part.dtype)
        y2[:, s * length:e * length] = part
    return y2, out, None


# 1x1 stride-1 convolutions over at least this many positions multiply each sample's
# (C, L) plane as it lies: one batched product into the (N, O, L) output, with no copy of
# the input into (C, N*L) rows and of the result back (smaller planes make BLAS calls too
# short, and take the row form)
PER_SAMPLE_MIN_POSITIONS = 196


def _per_sample_pointwise(k, stride, pads, groups: int, sp) -> bool:
    return groups == 1 and _pointwise(k, pads) and all(s == 1 for s in stride) and \
        _prod(sp) >= PER_SAMPLE_MIN_POSITIONS


def _matmul_groups(xp, w, col, groups):
    """``w`` (O, C/G, *k) times ``col`` (C*K, M) per group -> (O, M)."""
    o = w.shape[0]
    if groups == 1:
        return xp.matmul(w.reshape(o, -1), col)
    y = xp.matmul(w.reshape(groups, o // groups, -1),
                  col.reshape(groups, col.shape[0] // groups, -1))
    return y.reshape(o, -1)


class Convolution(Op):
    """``y = conv(x, w) + b`` for 1-, 2- and 3-D inputs (N, C, *in)."""

    _name = "convolution"
    save_inputs = (0, 1)

    @float32_gemm
    def forward(self, x, w, b=None):
        xp = xp_of(x)
        n, o = x.shape[0], w.shape[0]
        if x.size == 0:  # an empty batch (e.g. no RoIs reach a detector's mask head)
            self.col = None
            sp = out_shape(x.shape[2:], w.shape[2:], self.stride, self.pads, self.dilation)
            return xp.zeros((n, o) + sp, dtype=xp.result_type(x.dtype, w.dtype))
        self.x_buf = self.x_col = None
        y = _onednn.conv_forward(x, w, b, self.stride, self.pads, self.dilation, self.groups)
        self.onednn = y is not None
        if self.onednn:  # oneDNN's kernels (ops._onednn); its gradients are oneDNN's too
            self.col = None
            return y
        plan = _shift_plan(x, w, self.stride, self.pads, self.dilation, self.groups)
        if plan is not None:  # shifted products over one packed buffer (ops.conv_shift)
            self.col = None
            buf = shift.pack(x, plan)
            if plan.uses_columns() and not _State.enabled:  # no graph: no columns to keep
                y = shift.unpack(shift.convolve_in_blocks(buf, w, plan), plan, x.ndim - 2)
                if b is not None:
                    y += b.reshape((o,) + (1,) * (x.ndim - 2))
                return y
            col = shift.columns(buf, plan) if plan.uses_columns() else None
            kept = buf if col is None else col
            if kept.nbytes <= KEEP_COL_BYTES:  # for the weight gradient
                self.x_buf, self.x_col = (buf, None) if col is None else (None, col)
            y = shift.unpack(shift.convolve(buf, w, plan, col), plan, x.ndim - 2)
            if b is not None:
                y += b.reshape((o,) + (1,) * (x.ndim - 2))
            return y
        if _per_sample_pointwise(w.shape[2:], self.stride, self.pads, self.groups,
                                 x.shape[2:]):
            self.col = None
            y = xp.matmul(w.reshape(o, -1), x.reshape(n, x.shape[1], -1))  # (N, O, L)
            if b is not None:
                y += b[:, None]
            return y.reshape((n, o) + x.shape[2:])
        y2, sp, self.col = _forward_rows(xp, x, w, self.stride, self.pads, self.dilation,
                                         self.groups, keep=_State.enabled)
        if b is not None:
            y2 += b[:, None]
        return _from_rows(xp, y2, x.shape[0], sp)

    def backward(self, gy):
        x, w = self.saved_tensors
        nf = self.next_functions
        attrs = self._attrs()
        onednn = getattr(self, "onednn", False)  # (forward ran on oneDNN: so do the grads)
        plan = None if onednn else \
            _shift_plan(x._data, w._data, self.stride, self.pads, self.dilation, self.groups)
        if plan is not None and type(gy._data) is type(x._data) and \
                gy._data.dtype == x._data.dtype:
            return self._shift_backward(gy, x, w, plan, attrs)
        padded_rows = _row_width(tuple(w.shape[2:]), self.stride, self.pads, self.dilation,
                                 tuple(x.shape[2:])) is not None
        attrs["g_rows"] = None if padded_rows or onednn else \
            _to_rows(xp_of(gy._data), gy._data)  # shared by both products
        gx = gw = gb = None
        if nf[0][0] is not None:
            gx = ConvInputGrad.apply(gy, w, in_shape=tuple(x.shape[2:]), **attrs)
        if nf[1][0] is not None:
            gw = ConvWeightGrad.apply(x, gy, k=tuple(w.shape[2:]), col=self.col, **attrs)
        if len(nf) > 2 and nf[2][0] is not None:
            gb = gy.sum(dim=(0,) + tuple(range(2, gy.ndim)))
        return (gx, gw, gb) if len(nf) > 2 else (gx, gw)

    def _shift_backward(self, gy, x, w, plan, attrs):
        """Both gradients on the shift path, sharing the packed input kept from forward and
        one packed output gradient (see ``ops.conv_shift``)."""
        nf = self.next_functions
        grid = shift.grid_grad(gy._data, plan)
        x_buf, x_col, self.x_buf, self.x_col = self.x_buf, self.x_col, None, None
        attrs["g_rows"] = None
        gx = gw = gb = None
        if nf[0][0] is not None:
            gx = ConvInputGrad.apply(gy, w, in_shape=tuple(x.shape[2:]), g_buf=grid[3],
                                     **attrs)
        if nf[1][0] is not None:
            gw = ConvWeightGrad.apply(x, gy, k=tuple(w.shape[2:]), col=None, x_buf=x_buf,
                                      x_col=x_col, g_grid=grid, **attrs)
        if len(nf) > 2 and nf[2][0] is not None:
            gb = gy.sum(dim=(0,) + tuple(range(2, gy.ndim)))
        return (gx, gw, gb) if len(nf) > 2 else (gx, gw)

    def _attrs(self) -> dict:
        return {"stride": self.stride, "pads": self.pads, "dilation": self.dilation,
                "groups": self.groups}

    def _release(self) -> None:
        super()._release()
        self.col = self.x_buf = self.x_col = None


def _shift_plan(x, w, stride, pads, dilation, groups, w_shape=None):
    """The shift plan of ``conv(x, w)`` (``ops.conv_shift``) or None; ``w`` may be any
    array of the kernel's type and dtype when ``w_shape`` gives the kernel's shape."""
    if type(x) is not type(w) or x.dtype != w.dtype:
        return None
    return shift.plan_for(x.shape, x.dtype, w.shape if w_shape is None else w_shape, stride,
                          pads, dilation, groups, on_cpu=type(x) is shift.np.ndarray)


def _as_forward_conv(k, stride, pads, dilation, out, in_shape) -> bool:
    """Whether the transposed convolution can run as a plain one: stride 1, not 1x1, each
    pad at most the dilated kernel extent, and no output padding."""
    return all(s == 1 for s in stride) and not all(kk == 1 for kk in k) and \
        all(0 <= lo <= d * (kk - 1) and 0 <= hi <= d * (kk - 1) and
            m + d * (kk - 1) - lo - hi == i
            for kk, d, (lo, hi), m, i in zip(k, dilation, pads, out, in_shape))


def _transposed_shift_plan(gy, w, x_shape, stride, pads, dilation, groups):
    """The shift plan of the input gradient's convolution (over ``gy``), or None."""
    if type(gy) is not type(w) or gy.dtype != w.dtype:
        return None
    plan = shift.plan_for(x_shape, gy.dtype, w.shape, stride, pads, dilation, groups,
                          on_cpu=type(gy) is shift.np.ndarray)
    if plan is None or (plan.ho, plan.wo)[2 - (gy.ndim - 2):] != tuple(gy.shape[2:]):
        return None
    return shift.transposed_plan(plan, gy.shape[1])


class ConvInputGrad(Op):
    """The transposed convolution: the gradient of ``conv(x, w)`` with respect to ``x``,
    given the output gradient ``gy`` (N, O, *out); ``in_shape`` is x's spatial shape."""

    _name = "convolution_backward_input"
    save_inputs = (0, 1)

    @float32_gemm
    def forward(self, gy, w):
        xp = xp_of(gy)
        g = self.groups
        n, o = gy.shape[:2]
        out = gy.shape[2:]
        cg = w.shape[1]
        k = w.shape[2:]
        x_shape = (n, cg * g) + tuple(self.in_shape)
        g_rows, self.g_rows = self.g_rows, None
        g_buf, self.g_buf = getattr(self, "g_buf", None), None
        if gy.size == 0:
            return xp.zeros(x_shape, dtype=xp.result_type(gy.dtype, w.dtype))
        gx = _onednn.conv_backward_data(gy, w, x_shape, self.stride, self.pads, self.dilation,
                                        g)
        if gx is not None:
            return gx
        tplan = _transposed_shift_plan(gy, w, x_shape, self.stride, self.pads,
                                       self.dilation, g)
        if tplan is not None:  # stride 1: the flipped kernel over shifted views of gy
            buf = g_buf if g_buf is not None else shift.pack(gy, tplan)
            return shift.unpack(shift.convolve(buf, shift.flipped(w), tplan), tplan,
                                gy.ndim - 2)
        if _per_sample_pointwise(k, self.stride, self.pads, g, out) and \
                tuple(out) == tuple(self.in_shape):
            return xp.matmul(w.reshape(o, -1).T, gy.reshape(n, o, -1)).reshape(x_shape)
        if g == 1 and o <= cg and _as_forward_conv(k, self.stride, self.pads, self.dilation,
                                                   out, self.in_shape):
            # stride 1: the transposed convolution is a convolution of gy with the flipped,
            # transposed kernel over gy padded by d*(k-1)-pad: one gather and a matmul
            # with the long contraction, instead of a wide matmul plus kh*kw strided adds.
            # Not when the forward widened the channels (O > C): the gather over gy's O
            # channels then outweighs the strided adds over C (32 -> 64 channels: 40 ->
            # 35 ms; 1 -> 32: 12 -> 2 ms)
            wf = xp.ascontiguousarray(w.swapaxes(0, 1)[(Ellipsis,) + (slice(None, None, -1),)
                                                         * len(k)])
            pads = tuple((d * (kk - 1) - lo, d * (kk - 1) - hi)
                         for kk, d, (lo, hi) in zip(k, self.dilation, self.pads))
            y2, sp, _ = _forward_rows(xp, gy, wf, self.stride, pads, self.dilation, 1)
            return _from_rows(xp, y2, n, sp)
        if _grid_pays(k, self.stride, self.pads, self.dilation, out):
            return _grid_input_grad(xp, gy, w, x_shape, self.stride, self.pads,
                                    self.dilation, g)
        g2 = g_rows if g_rows is not None else _to_rows(xp, gy)  # (O, N*L)
        if g == 1:
            dcol = xp.matmul(w.reshape(o, -1).T, g2)  # (C*K, N*L)
        else:
            wt = xp.ascontiguousarray(w.reshape(g, o // g, -1).swapaxes(1, 2))  # (G, CgK, Og)
            dcol = xp.matmul(wt, g2.reshape(g, o // g, -1)).reshape(cg * g * _prod(k), -1)
        if _pointwise(k, self.pads):
            y = _from_rows(xp, dcol, n, out)
            if all(s == 1 for s in self.stride) and tuple(out) == tuple(self.in_shape):
                return y
            dx = xp.zeros(x_shape, dtype=y.dtype)
            dx[(slice(None), slice(None)) + tuple(slice(0, s * (m - 1) + 1, s) for s, m in
                                                  zip(self.stride, out))] = y
            return dx
        return col2im(xp, dcol, x_shape, k, self.stride, self.pads, self.dilation, out)

    def backward(self, ggx):
        gy, w = self.saved_tensors
        nf = self.next_functions
        attrs = {"stride": self.stride, "pads": self.pads, "dilation": self.dilation,
                 "groups": self.groups, "g_rows": None}
        d_gy = d_w = None
        if nf[0][0] is not None:
            d_gy = Convolution.apply(ggx, w, **attrs)
            if tuple(d_gy.shape) != tuple(gy.shape):  # output padding (stride 1, dilation)
                d_gy = d_gy[(slice(None), slice(None)) +
                            tuple(slice(0, m) for m in gy.shape[2:])]
        if nf[1][0] is not None:
            d_w = ConvWeightGrad.apply(ggx, gy, k=tuple(w.shape[2:]), col=None, **attrs)
        return d_gy, d_w


SHORT_CONTRACTION = 2048


def _weight_grad(xp, g2, cols, groups: int):
    """``g2 (O, N*L) @ cols^T`` per group -> (O, C/G*K). The long N*L axis is the shared
    (contracted) one; BLAS is fastest with it innermost in both operands, so each product
    is taken as ``cols_g @ g2_g^T`` and transposed back (a small copy), except that a short
    contraction (at most ``SHORT_CONTRACTION``, e.g. 7x7 maps of a small batch) runs
    fastest as ``g2 @ cols^T`` (OpenBLAS, 2 threads: (512, 392) x (392, 4608) at 136-141
    instead of 60-67 GFLOP/s)."""
    if groups == 1:
        if g2.shape[1] <= SHORT_CONTRACTION:
            return xp.matmul(g2, cols.T)
        return xp.ascontiguousarray(xp.matmul(cols, g2.T).T)
    o, ck = g2.shape[0] // groups, cols.shape[0] // groups
    g3 = g2.reshape(groups, o, -1)
    c3 = cols.reshape(groups, ck, -1)
    if groups <= 16:
        return xp.concatenate([xp.matmul(c3[i], g3[i].T).T for i in range(groups)], axis=0)
    gt = xp.ascontiguousarray(g3.swapaxes(1, 2))  # (G, N*L, Og)
    return xp.ascontiguousarray(xp.matmul(c3, gt).swapaxes(1, 2)).reshape(groups * o, ck)


def _chunked_weight_grad(xp, x, g2, k, stride, pads, dilation, groups, out):
    """``_weight_grad`` over the windows of ``x`` gathered a cache-sized block of samples at
    a time (as ``_forward_rows``), summing the blocks' products; ``out`` is the output's
    spatial shape."""
    n = x.shape[0]
    length = _prod(out)
    nb = _samples_per_chunk(n, x.shape[1] * _prod(k), length, x.dtype.itemsize)
    xpad, nopad = _pad(xp, x, pads), ((0, 0),) * len(k)  # padded once, not per block
    return _sum_of_blocks(xp, g2, n, nb, length, groups,
                          lambda s, e: im2col(xp, xpad[s:e], k, stride, nopad, dilation,
                                              out)[0])


def _chunked_padded_weight_grad(xp, x, g2, k, pads, dilation, groups, out, wp):
    """``_chunked_weight_grad`` for windows gathered in padded-row layout (stride 1);
    ``g2`` holds the output gradient in the same layout."""
    n, c = x.shape[:2]
    length = _prod(out[:-1]) * wp
    nb = _samples_per_chunk(n, c * _prod(k), length, x.dtype.itemsize)
    flat, padded = _pad_flat(xp, x, pads, _row_tail(k, dilation))
    return _sum_of_blocks(xp, g2, n, nb, length, groups,
                          lambda s, e: _gather_padded_rows(xp, flat, s, e, c, padded, k,
                                                           dilation, out))


def _sum_of_blocks(xp, g2, n, nb, length, groups, gather):
    """The weight gradient summed over blocks of ``nb`` samples: ``gather(s, e)`` makes the
    windows of samples [s, e), whose output gradient is ``g2``'s columns of those samples
    (``length`` each)."""
    gw = None
    for s in range(0, n, nb):  # blocks of samples, not a loop per sample
        e = min(n, s + nb)
        part = _weight_grad(xp, g2[:, s * length:e * length], gather(s, e), groups)
        if gw is None:
            gw = part
        else:
            gw += part
    return gw


class ConvWeightGrad(Op):
    """The gradient of ``conv(x, w)`` with respect to ``w`` (kernel shape ``k``), given
    the input ``x`` and the output gradient ``gy``."""

    _name = "convolution_backward_weight"
    save_inputs = (0, 1)

    @float32_gemm
    def forward(self, x, gy):
        xp = xp_of(x)
        g = self.groups
        o = gy.shape[1]
        c = x.shape[1]
        k = self.k
        x_buf, x_col = getattr(self, "x_buf", None), getattr(self, "x_col", None)
        grid = getattr(self, "g_grid", None)
        self.x_buf = self.x_col = self.g_grid = None
        if x.size == 0 or gy.size == 0:  # an empty batch contributes nothing
            self.col = self.g_rows = None
            return xp.zeros((o, c // g) + tuple(k), dtype=xp.result_type(x.dtype, gy.dtype))
        w_shape = (o, c // g) + tuple(k)
        gw = _onednn.conv_backward_weights(x, gy, w_shape, self.stride, self.pads,
                                           self.dilation, g)
        if gw is not None:
            self.col = self.g_rows = None
            return gw
        plan = _shift_plan(x, gy, self.stride, self.pads, self.dilation, g, w_shape)
        if plan is not None and (plan.ho, plan.wo)[2 - len(k):] == tuple(gy.shape[2:]):
            self.col = self.g_rows = None
            if grid is None:
                grid = shift.grid_grad(gy, plan)
            if plan.uses_columns():
                if x_col is None:
                    x_col = shift.columns(shift.pack(x, plan), plan)
                return shift.weight_grad(None, grid, plan, w_shape, col=x_col)
            if x_buf is None:
                x_buf = shift.pack(x, plan)
            return shift.weight_grad(x_buf, grid, plan, w_shape)
        wp = _row_width(k, self.stride, self.pads, self.dilation, x.shape[2:])
        if wp is not None and tuple(gy.shape[2:]) == out_shape(
                x.shape[2:], k, self.stride, self.pads, self.dilation):
            g2 = _padded_row_grad(xp, gy, wp)  # (O, N*L'), as the windows were gathered
            cols, self.col, self.g_rows = self.col, None, None
            if cols is None:
                return _chunked_padded_weight_grad(xp, x, g2, k, self.pads, self.dilation, g,
                                                   gy.shape[2:], wp
                                                   ).reshape((o, c // g) + tuple(k))
            return _weight_grad(xp, g2, cols, g).reshape((o, c // g) + tuple(k))
        g2 = self.g_rows if self.g_rows is not None else _to_rows(xp, gy)  # (O, N*L)
        self.g_rows = None
        cols = self.col
        self.col = None
        if cols is None:
            if _pointwise(k, self.pads):
                xs = _subsample(x, self.stride)
                xs = xs[(slice(None), slice(None)) + tuple(slice(0, m) for m in gy.shape[2:])]
                cols = _to_rows(xp, xs)
            else:
                return _chunked_weight_grad(xp, x, g2, k, self.stride, self.pads,
                                            self.dilation, g, gy.shape[2:]
                                            ).reshape((o, c // g) + tuple(k))
        return _weight_grad(xp, g2, cols, g).reshape((o, c // g) + tuple(k))

    def backward(self, ggw):
        x, gy = self.saved_tensors
        nf = self.next_functions
        attrs = {"stride": self.stride, "pads": self.pads, "dilation": self.dilation,
                 "groups": self.groups, "g_rows": None}
        d_x = d_gy = None
        if nf[0][0] is not None:
            d_x = ConvInputGrad.apply(gy, ggw, in_shape=tuple(x.shape[2:]), **attrs)
        if nf[1][0] is not None:
            d_gy = Convolution.apply(x, ggw, **attrs)
        return d_x, d_gy


def conv(input: Tensor, weight: Tensor, bias: Tensor | None, stride, pads, dilation,
         groups: int) -> Tensor:
    """Convolution of batched ``input`` (N, C, *in) with ``weight`` (O, C/groups, *k);
    ``pads`` holds a (lo, hi) pair per spatial dim."""
    attrs = {"stride": tuple(stride), "pads": tuple(tuple(p) for p in pads),
             "dilation": tuple(dilation), "groups": int(groups)}
    if bias is None:
        return Convolution.apply(input, weight, **attrs)
    return Convolution.apply(input, weight, bias, **attrs)


def conv_transpose(input: Tensor, weight: Tensor, bias: Tensor | None, stride, pads,
                   output_padding, groups: int, dilation) -> Tensor:
    """Transposed convolution of batched ``input`` (N, C_in, *in) with ``weight``
    (C_in, C_out/groups, *k)."""
    k = weight.shape[2:]
    out = tuple((i - 1) * s - lo - hi + d * (kk - 1) + op + 1
                for i, s, (lo, hi), d, kk, op in zip(input.shape[2:], stride, pads, dilation,
                                                     k, output_padding))
    y = ConvInputGrad.apply(input, weight, in_shape=out, stride=tuple(stride),
                            pads=tuple(tuple(p) for p in pads), dilation=tuple(dilation),
                            groups=int(groups), g_rows=None)
    if bias is not None:
        y = y + bias.reshape((-1,) + (1,) * len(k))
    return y


class Unfold(Op):
    """``F.unfold``: (N, C, *in) -> (N, C*K, L) sliding local blocks."""

    _name = "im2col"

    def forward(self, x):
        xp = xp_of(x)
        self.in_shape = x.shape
        out = out_shape(x.shape[2:], self.k, self.stride, self.pads, self.dilation)
        self.out = out
        xpad = _pad(xp, x, self.pads)
        v = windows(xp, xpad, self.k, self.stride, self.dilation, out)  # (C, *k, N, *out)
        nd = len(self.k)
        v = xp.moveaxis(v, 1 + nd, 0)  # (N, C, *k, *out)
        n, c = x.shape[:2]
        return xp.ascontiguousarray(v).reshape(n, c * _prod(self.k), _prod(out))

    def backward(self, g):
        return Fold.apply(g, in_sp=tuple(self.in_shape[2:]), k=self.k, stride=self.stride,
                          pads=self.pads, dilation=self.dilation)


class Fold(Op):
    """``F.fold``: (N, C*K, L) -> (N, C, *output_size), summing overlapping values."""

    _name = "col2im"

    def forward(self, g):
        xp = xp_of(g)
        n = g.shape[0]
        kk = _prod(self.k)
        c = g.shape[1] // kk
        out = out_shape(self.in_sp, self.k, self.stride, self.pads, self.dilation)
        if _prod(out) != g.shape[2]:
            raise RuntimeError(f"Given output_size={tuple(self.in_sp)}, kernel_size="
                               f"{tuple(self.k)}, dilation={tuple(self.dilation)}, padding="
                               f"{tuple(p[0] for p in self.pads)}, stride={tuple(self.stride)}"
                               f", expected size of input's dimension 2 to match the calculated "
                               f"number of sliding blocks {_prod(out)}, but got "
                               f"input.size(2)={g.shape[2]}.")
        nd = len(self.k)
        col = g.reshape((n, c) + tuple(self.k) + tuple(out))
        col = xp.moveaxis(col, 0, 1 + nd).reshape(c * kk, -1)  # (C*K, N*L)
        return col2im(xp, xp.ascontiguousarray(col), (n, c) + tuple(self.in_sp), self.k,
                      self.stride, self.pads, self.dilation, out)

    def backward(self, gg):
        return Unfold.apply(gg, k=self.k, stride=self.stride, pads=self.pads,
                            dilation=self.dilation)


def unfold(input: Tensor, k, dilation, pads, stride) -> Tensor:
    """Extracts sliding local blocks of a batched input (``F.unfold``)."""
    return Unfold.apply(input, k=tuple(k), stride=tuple(stride),
                        pads=tuple(tuple(p) for p in pads), dilation=tuple(dilation))


def fold(input: Tensor, output_size, k, dilation, pads, stride) -> Tensor:
    """Combines sliding local blocks into a batched tensor (``F.fold``)."""
    return Fold.apply(input, in_sp=tuple(output_size), k=tuple(k), stride=tuple(stride),
                      pads=tuple(tuple(p) for p in pads), dilation=tuple(dilation))
