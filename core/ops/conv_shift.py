"""Convolutions as sums of shifted matrix products over one packed buffer: no window gather.

At stride 1 the input is laid out as one flat buffer per channel, sample after sample, each
sample's rows followed by zero columns and its last row by zero rows; each gap is shared
by the two neighbours it separates (the right padding of one row is the left padding of
the next, the bottom rows of one sample are the top rows of the next), so every kernel
offset (i, j) is a fixed shift ``s = i*dh*Wq + j*dw`` of the whole buffer: the output
``y[:, p] = sum_(i,j) W[:, :, i, j] @ xbuf[:, p + s]`` is kh*kw GEMMs whose right operand is
a shifted view of the same buffer (leading dimension = the channel stride), accumulated in
place (``beta = 1``) through ``ops._blas``. The output grid keeps the gaps: its positions
there are computed and dropped; that waste is ``Hq*Wq / (Ho*Wo)`` of the products (1.06 for a
32x32 map with padding 1, 1.27 for 8x8). Sample-major blocks keep each sample's rows
together, so packing and unpacking are copies of whole planes (a 128x16x32x32 batch: 4.2 ->
1.4 ms to pack, 2.4 -> 1.3 ms to unpack, against the (C, H, N, W) rows used before).
Measured on the 2-core machine against gather + one GEMM, the 3x3 layers of ResNet-18/20
run their forward 15-40% faster; no gather buffer is made.

The same buffer serves the backward: the weight gradient of offset (i, j) is
``gy_grid @ xbuf[:, s:s+P]^T``, and the input gradient is this convolution of the output
gradient with the flipped, transposed kernel. When the convolution keeps the size ("same"
padding: lo + hi = d*(k-1) in both dims) the output gradient's padded buffer for the
latter contains the zero-columned grid the former needs, so one buffer serves both.

Strided convolutions split the explicitly padded input into its stride phases, each laid
out as (C, Hq, N, Wq) rows (see ``ShiftPlan``), so every tap is again a contiguous shifted
view. Convolutions with fewer than ``MIN_CHANNELS``
input channels copy those views into one (K*C, P) matrix (contiguous copies, no strided
gather) and multiply once.

Which convolutions take this path was measured against the gather path (2 cores, float32,
forward + both gradients): stride 1 with at least ``MIN_CHANNELS`` input channels (the
shifted products; ResNet layers 20-35% faster) and strided convolutions with fewer (the
phase columns; ResNet's 7x7/2 stem 83 -> 69 ms). The other two corners lost: strided
layers with many channels (ResNet-18's 3x3/2 layers 38 -> 43 ms, ResNet-20's 16-channel one
43 -> 57 ms: thin per-phase products) and stride-1 layers with few channels (3 -> 16
channels at 32x32: 11 -> 15 ms), and keep ``ops.conv``'s gather path, as do groups, 3-D,
1x1 kernels and maps whose padded rows are wider than ``MAX_WASTE`` times the output's
(for a strided one: its phases' rows): small maps, where the gather's one product with kh*kw
times the contraction wins (ResNet-18's 512-channel 7x7 layer, forward and both gradients:
48 ms gathered, 61 ms shifted; 8x8 maps of 64 channels: 34 gathered, 22 shifted). numpy
float32/float64 on the CPU only (CuPy arrays take the gather path).
"""

from __future__ import annotations

import numpy as np

from . import _blas
from ._parallel import run_parts

__all__ = ["ShiftPlan", "plan_for", "transposed_plan", "pack", "columns", "convolve",
           "convolve_in_blocks", "unpack", "grid_grad", "weight_grad", "flipped"]

MIN_CHANNELS = 8
MAX_WASTE = 1.25
BLOCK_BYTES = 4 << 20  # columns made and multiplied this much at a time (convolve_in_blocks)


class ShiftPlan:
    """The flat-buffer geometry of one 2-D convolution (1-D runs with H = 1).

    At stride 1 each channel is ``lead`` zeros, then N sample blocks of (Hq, Wq) (the input's
    rows followed by ``Wq - W`` zero columns, then ``Hq - H`` zero rows: as many as the
    larger padding of the dimension, or more where the output is taller than the input),
    then zeros up to ``chan``; output position ``p`` (sample n, row r, column c at
    ``n*Hq*Wq + r*Wq + c``) reads ``p + i*dh*Wq + j*dw`` for tap (i, j). A stride (sh, sw)
    splits the padded input into sh*sw phases (rows a, a+sh, ...; columns
    b, b+sw, ...), each packed as its own (C, Hq, N, Wq) block; kernel tap (i, j) reads
    phase ((i*dh) % sh, (j*dw) % sw) shifted by ((i*dh) // sh, (j*dw) // sw), so a strided
    convolution is again a sum of shifted products over one buffer (stride 1: one phase)."""

    __slots__ = ("n", "c", "h", "w", "kh", "kw", "dh", "dw", "ph", "pw", "sh", "sw", "hp",
                 "wp", "hq", "wq", "ho", "wo", "row", "chan", "size", "tail", "grid", "taps",
                 "lead", "image")

    def __init__(self, n, c, in_sp, k, pads, dilation, stride=None):
        stride = tuple(stride) if stride is not None else (1,) * len(in_sp)
        if len(in_sp) == 1:
            in_sp, k, pads, dilation, stride = (1,) + tuple(in_sp), (1,) + tuple(k), \
                ((0, 0),) + tuple(pads), (1,) + tuple(dilation), (1,) + stride
        self.n, self.c = n, c
        self.h, self.w = in_sp
        self.kh, self.kw = k
        self.dh, self.dw = dilation
        self.sh, self.sw = stride
        self.ph, self.pw = pads
        self.hp = self.h + self.ph[0] + self.ph[1]
        self.wp = self.w + self.pw[0] + self.pw[1]
        self.ho = (self.hp - self.dh * (self.kh - 1) - 1) // self.sh + 1
        self.wo = (self.wp - self.dw * (self.kw - 1) - 1) // self.sw + 1
        if self.strided():
            self.hq = -(-self.hp // self.sh)  # rows of each phase
            self.wq = -(-self.wp // self.sw)
            self.row = n * self.wq  # one phase row of every sample
            self.image, self.lead = None, 0
        else:  # image-major: each sample's rows, then zero rows shared with the next sample
            gap_h = max(*self.ph, self.hp - self.dh * (self.kh - 1) - self.h)
            gap_w = max(*self.pw, self.wp - self.dw * (self.kw - 1) - self.w)
            self.hq, self.wq = self.h + gap_h, self.w + gap_w
            self.row = self.wq
            self.image = self.hq * self.wq  # one sample's block
            self.lead = self.ph[0] * self.wq + self.pw[0]  # zeros before the first sample
        # (tap index, phase, row shift, column shift) for every kernel offset (i, j)
        self.taps = [(i * self.kw + j,
                      ((i * self.dh) % self.sh) * self.sw + (j * self.dw) % self.sw,
                      (i * self.dh) // self.sh, (j * self.dw) // self.sw)
                     for i in range(self.kh) for j in range(self.kw)]
        reach = max(t[2] * self.row + t[3] for t in self.taps)  # the farthest shift
        if self.image is None:
            self.grid = self.ho * self.row  # output positions, padding columns included
            self.tail = max(t[3] for t in self.taps)  # zeros after each channel
            self.chan = self.hq * self.row + self.tail  # one channel of one phase
        else:
            self.grid = n * self.image  # output positions, gap rows and columns included
            self.chan = self.grid + max(reach, self.lead)
            self.tail = self.chan - self.lead - self.grid
        self.size = self.sh * self.sw * c * self.chan

    def shift(self, tap) -> int:
        """The buffer offset that kernel tap (index, phase, row, column) reads from."""
        return tap[1] * self.c * self.chan + tap[2] * self.row + tap[3]

    def strided(self) -> bool:
        return self.sh != 1 or self.sw != 1

    def same_size(self) -> bool:
        """Whether the output keeps the input's size at stride 1 (then one output-gradient
        buffer serves both gradients)."""
        return not self.strided() and self.ho == self.h and self.wo == self.w

    def uses_columns(self) -> bool:
        """Few input channels: the shifted views are copied into one (K*C, P) matrix and
        multiplied once (each shifted product would have only C rows to contract)."""
        return self.c < MIN_CHANNELS

    def transposed(self, out_channels: int) -> ShiftPlan:
        """The plan of the input gradient at stride 1: the output gradient (N, O, Ho, Wo)
        padded by d*(k-1) - pad, convolved with the flipped kernel."""
        pads = ((self.dh * (self.kh - 1) - self.ph[0], self.dh * (self.kh - 1) - self.ph[1]),
                (self.dw * (self.kw - 1) - self.pw[0], self.dw * (self.kw - 1) - self.pw[1]))
        return ShiftPlan(self.n, out_channels, (self.ho, self.wo), (self.kh, self.kw), pads,
                         (self.dh, self.dw))


def measured_faster(stride, channels: int) -> bool:
    """Whether this path beat the gather path for the stride and input channels (see the
    module docstring): stride 1 with many channels, or strided with few."""
    return any(v != 1 for v in stride) == (channels < MIN_CHANNELS)


def plan_for(x_shape, dtype, w_shape, stride, pads, dilation, groups,
             on_cpu: bool = True) -> ShiftPlan | None:
    """The shift plan of convolving an input of ``x_shape`` (N, C, *in) and ``dtype`` with a
    kernel of ``w_shape``, or None when the shift path does not apply (see the module
    docstring; ``on_cpu``: the arrays are numpy's)."""
    nd = len(w_shape) - 2
    if not on_cpu or nd not in (1, 2) or groups != 1 or \
            dtype not in (np.float32, np.float64) or \
            any(lo < 0 or hi < 0 for lo, hi in pads) or \
            all(k == 1 for k in w_shape[2:]) or 0 in x_shape:
        return None
    if not measured_faster(stride, x_shape[1]):
        return None
    plan = ShiftPlan(x_shape[0], x_shape[1], x_shape[2:], w_shape[2:], pads, dilation, stride)
    gemm = _blas.gemm(np.dtype(dtype))
    padded_row = plan.wq if plan.strided() else plan.wp  # a phase's row, or the padded row
    if plan.ho <= 0 or plan.wo <= 0 or padded_row > MAX_WASTE * plan.wo or gemm is None or \
            plan.size > gemm.max_index:
        return None
    return plan


def transposed_plan(plan: ShiftPlan, out_channels: int) -> ShiftPlan | None:
    """The input-gradient plan, or None when the convolution is strided, a padding
    exceeds the dilated kernel (the transposed convolution would need negative padding) or
    the output gradient has too few channels for the shift path."""
    if plan.strided() or out_channels < MIN_CHANNELS or \
            max(plan.ph) > plan.dh * (plan.kh - 1) or max(plan.pw) > plan.dw * (plan.kw - 1):
        return None
    return plan.transposed(out_channels)


def _phase_views(buf, p: ShiftPlan):
    """The (C, Hq, N, Wq) view of each phase in ``buf``."""
    blocks = buf.reshape(p.sh * p.sw, p.c, p.chan)[:, :, :p.hq * p.row]
    return [blocks[q].reshape(p.c, p.hq, p.n, p.wq) for q in range(p.sh * p.sw)]


def pack(x, plan: ShiftPlan):
    """``x`` (N, C, H, W) (or (N, C, W)) zero-padded into the flat buffer of ``plan``: at
    stride 1 the sample blocks with their shared gaps (only the gaps are zeroed; the input
    is written once), else each phase's (C, Hq*N*Wq + tail) rows."""
    p = plan
    x4 = x.reshape(p.n, p.c, p.h, p.w)
    h0, w0 = p.ph[0], p.pw[0]
    if p.strided():
        buf = np.zeros(p.size, dtype=x.dtype)
        views = _phase_views(buf, p)
        for a in range(p.sh):
            r0 = max(0, -(-(h0 - a) // p.sh))  # first phase row inside the input
            r1 = -(-(h0 + p.h - a) // p.sh)
            for b in range(p.sw):
                q0 = max(0, -(-(w0 - b) // p.sw))
                q1 = -(-(w0 + p.w - b) // p.sw)
                if r1 > r0 and q1 > q0:
                    src = x4[:, :, a + p.sh * r0 - h0::p.sh, b + p.sw * q0 - w0::p.sw]
                    views[a * p.sw + b][:, r0:r1, :, q0:q1] = src.transpose(1, 2, 0, 3)
        return buf
    buf = np.empty(p.size, dtype=x.dtype)
    planes = buf.reshape(p.c, p.chan)
    planes[:, :p.lead] = 0
    planes[:, p.lead + p.grid:] = 0
    v = planes[:, p.lead:p.lead + p.grid].reshape(p.c, p.n, p.hq, p.wq).transpose(1, 0, 2, 3)

    def samples(lo, hi):  # (a strided copy: split over the threads by sample)
        v[lo:hi, :, p.h:] = 0  # the gap rows after each sample
        v[lo:hi, :, :p.h, p.w:] = 0  # the gap columns after each row
        v[lo:hi, :, :p.h, :p.w] = x4[lo:hi]  # (N, C, H, W) view of the (C, N, Hq, Wq) blocks

    run_parts(samples, p.n, p.c * p.hq * p.wq)
    return buf


def columns(buf, plan: ShiftPlan, lo: int = 0, hi: int | None = None, out=None):
    """The (K*C, P) matrix of every tap's shifted view of ``buf`` (rows ordered (tap,
    channel)): K contiguous copies, for convolutions with few input channels. With ``lo``,
    ``hi``: only output positions [lo, hi), written into ``out`` ((K, C, hi - lo),
    contiguous) when given."""
    p = plan
    hi = p.grid if hi is None else hi
    blocks = buf.reshape(p.sh * p.sw, p.c, p.chan)
    col = np.empty((len(p.taps), p.c, hi - lo), dtype=buf.dtype) if out is None else out
    for t, phase, r, q in p.taps:  # one copy per kernel offset
        s = r * p.row + q + lo
        col[t] = blocks[phase, :, s:s + hi - lo]
    return col.reshape(len(p.taps) * p.c, hi - lo)


def convolve_in_blocks(buf, w, plan: ShiftPlan):
    """``convolve(buf, w, plan, columns(buf, plan))`` without the whole column matrix: the
    columns of a block of positions (about ``BLOCK_BYTES``) are copied and multiplied while
    they are in cache, for a forward that keeps no columns for a weight gradient. ResNet's
    7x7/2 stem at batch 8 (a 62 MB column matrix): 22-23 ms -> 17 ms (8192 positions a
    block; 4096 and 16384-32768 were slower)."""
    p = plan
    o, k = w.shape[0], len(p.taps)
    w2 = _tap_matrix(w.astype(buf.dtype, copy=False), p)
    step = max(256, BLOCK_BYTES // (k * p.c * buf.itemsize))
    y = np.empty((o, p.grid), dtype=buf.dtype)
    block = np.empty((k, p.c, min(step, p.grid)), dtype=buf.dtype)  # reused by full blocks
    for lo in range(0, p.grid, step):  # blocks of positions (a few dozen), not per position
        hi = min(p.grid, lo + step)
        col = columns(buf, p, lo, hi, block if hi - lo == block.shape[2] else None)
        np.matmul(w2, col, out=y[:, lo:hi])
    return y


def _tap_matrix(w, plan: ShiftPlan):
    """``w`` (O, C, *k) as the (O, K*C) matrix that multiplies ``columns``."""
    return _taps_first(w, plan).transpose(1, 0, 2).reshape(w.shape[0], -1)


def _taps_first(w, plan: ShiftPlan):
    """``w`` (O, C, *k) as (K, O, C), contiguous."""
    o = w.shape[0]
    return np.ascontiguousarray(w.reshape(o, plan.c, plan.kh * plan.kw).transpose(2, 0, 1))


def convolve(buf, w, plan: ShiftPlan, col=None):
    """The output grid (O, Ho*N*Wq) of the packed input ``buf`` and kernel ``w``
    (O, C, kh[, kw]): kh*kw GEMMs over shifted views of ``buf``, summed in place (on
    BLAS's own threads: splitting the positions over ember's threads with one-thread
    products measured 30% slower); with ``col`` (from ``columns``), one product."""
    p = plan
    o = w.shape[0]
    if col is not None:
        return np.matmul(_tap_matrix(w.astype(buf.dtype, copy=False), p), col)
    wk = _taps_first(w.astype(buf.dtype, copy=False), p)  # (K, O, C)
    gemm = _blas.gemm(buf.dtype)
    y = np.empty((o, p.grid), dtype=buf.dtype)
    for n, tap in enumerate(p.taps):  # one product per kernel offset (kh*kw of them)
        gemm(o, p.grid, p.c, wk, tap[0] * o * p.c, p.c, buf, p.shift(tap), p.chan, y, 0,
             p.grid, beta=0.0 if n == 0 else 1.0)
    return y


def _output_view(y, plan: ShiftPlan):
    """The output grid (O, P) as an (N, O, Ho, Wo) view without its padding positions."""
    p = plan
    o = y.shape[0]
    if p.image is None:  # (O, Ho, N, Wq) rows
        return y.reshape(o, p.ho, p.n, p.wq)[..., :p.wo].transpose(2, 0, 1, 3)
    return y.reshape(o, p.n, p.hq, p.wq)[:, :, :p.ho, :p.wo].transpose(1, 0, 2, 3)


def unpack(y, plan: ShiftPlan, ndim: int):
    """The output grid (O, P) as a contiguous (N, O, Ho, Wo) (or (N, O, Wo)) array:
    padding positions dropped."""
    p = plan
    view = _output_view(y, p)
    out = np.empty(view.shape, dtype=y.dtype)

    def samples(lo, hi):  # (a strided copy: split over the threads by sample)
        out[lo:hi] = view[lo:hi]

    run_parts(samples, p.n, out[0].size)
    return out.reshape(p.n, y.shape[0], p.wo) if ndim == 1 else out


def grid_grad(gy, plan: ShiftPlan):
    """The output gradient ``gy`` (N, O, Ho, Wo) on the output grid for ``weight_grad``:
    (array, offset, leading dimension) with zeros in the padding positions. For a
    same-size convolution this is also the packed input of the input gradient's
    convolution (returned as the fourth item, else None)."""
    p = plan
    o = gy.shape[1]
    if p.same_size():
        tp = p.transposed(o)
        buf = pack(gy, tp)
        return buf, tp.lead, tp.chan, buf
    g = np.zeros((o, p.grid), dtype=gy.dtype)
    _output_view(g, p)[...] = gy.reshape(p.n, o, p.ho, p.wo)
    return g.reshape(-1), 0, p.grid, None


def _grid_rows(grid, o: int, plan: ShiftPlan):
    """The (O, P) rows of a gradient grid given as (flat array, offset, leading dim)."""
    g, g_off, g_ld = grid[:3]
    if g_off + (o - 1) * g_ld + plan.grid > g.size:
        raise RuntimeError("conv_shift: the gradient grid runs outside its buffer")
    return np.lib.stride_tricks.as_strided(g[g_off:], (o, plan.grid),
                                           (g_ld * g.itemsize, g.itemsize))


def weight_grad(buf, grid, plan: ShiftPlan, w_shape, col=None):
    """The kernel gradient (O, C, kh[, kw]) from the packed input ``buf`` (or its
    ``columns``) and the output gradient on the grid (``grid`` = (flat array, offset,
    leading dimension) from ``grid_grad``).

    Tap t contributes ``gy_grid @ buf[:, s_t : s_t + P]^T``. Products with only O x C
    outputs and a contraction over every position run slowly on BLAS (16x16 outputs: ~22
    GFLOP/s), so the taps of one phase and kernel row are taken together: the grid is
    copied once per column shift (``g3``), and each (phase, row shift) is one product
    ``g3 @ buf[:, ...]^T`` with (column shifts)*O output rows (ResNet-20's 16-channel layer:
    27 -> 15 ms; ResNet-18's 64-channel 56x56 layer: 29 -> 22 ms)."""
    p = plan
    o = w_shape[0]
    rows = _grid_rows(grid, o, p)  # (O, P)
    k = len(p.taps)
    if col is not None:  # (O, P) @ (P, K*C) -> (O, K, C)
        gw = np.matmul(rows, col.T).reshape(o, k, p.c)
        return np.ascontiguousarray(gw.transpose(0, 2, 1)).reshape(w_shape)
    gemm = _blas.gemm(buf.dtype)
    gw = np.empty((k, o, p.c), dtype=buf.dtype)
    stacks = {}
    for phase in sorted({t[1] for t in p.taps}):
        taps = [t for t in p.taps if t[1] == phase]
        cols = sorted({t[3] for t in taps})
        span = p.grid + cols[-1]  # positions read by the shifted copies
        if tuple(cols) not in stacks:
            g3 = np.empty((len(cols), o, span), dtype=buf.dtype)  # (shifts, O, span)

            def shifted(lo, hi, g3=g3, cols=cols):  # one shifted copy per column shift
                for m, q in enumerate(cols):
                    g3[m, lo:hi, :q] = 0
                    g3[m, lo:hi, q:q + p.grid] = rows[lo:hi]
                    g3[m, lo:hi, q + p.grid:] = 0

            run_parts(shifted, o, len(cols) * span)
            stacks[tuple(cols)] = g3
        g3 = stacks[tuple(cols)]
        part = np.empty((len(cols), o, p.c), dtype=buf.dtype)
        for r in sorted({t[2] for t in taps}):  # one product per row shift
            gemm(len(cols) * o, p.c, span, g3, 0, span, buf,
                 phase * p.c * p.chan + r * p.row, p.chan, part, 0, p.c, trans_b=True)
            for t in taps:
                if t[2] == r:
                    gw[t[0]] = part[cols.index(t[3])]
    return np.ascontiguousarray(gw.transpose(1, 2, 0)).reshape(w_shape)


def flipped(w):
    """The input-gradient kernel: ``w`` (O, C, *k) transposed to (C, O, *k) and flipped."""
    nd = w.ndim - 2
    return w.swapaxes(0, 1)[(Ellipsis,) + (slice(None, None, -1),) * nd]
