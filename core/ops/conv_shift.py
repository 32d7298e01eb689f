"""Stride-1 convolutions as sums of shifted matrix products: no window gather at all.

The padded input is laid out as one flat buffer per channel in (H, N, W) order, so every
kernel offset (i, j) is a fixed shift ``s = i*dh*N*Wp + j*dw`` of the whole buffer: the
output rows ``y[:, p] = sum_(i,j) W[:, :, i, j] @ xbuf[:, p + s]`` are kh*kw GEMMs whose
right operand is a shifted view of the same buffer (leading dimension = the channel
stride), accumulated in place (``beta = 1``) through ``ops._blas``. The output grid keeps
the padded width: its positions past the last real column read the next sample's (or the
zero tail's) values and are dropped; that waste is ``Wp / Wo`` of the products (1.06 for a
32x32 map with padding 1). Measured on the 2-core machine against gather + one GEMM, the
3x3 layers of ResNet-18/20 run their forward 15-40% faster; no gather buffer is made.

The same buffer serves the backward: the weight gradient of offset (i, j) is
``gy_grid @ xbuf[:, s:s+P]^T``, and the input gradient is this convolution of the output
gradient with the flipped, transposed kernel. When the convolution keeps the size ("same"
padding: lo + hi = d*(k-1) in both dims) the output gradient's padded buffer for the
latter contains the zero-columned grid the former needs, so one buffer serves both.

Used on numpy float32/float64, groups 1, 1-D and 2-D, at least ``MIN_CHANNELS`` input
channels (fewer make each product too thin) and a bounded waste; other convolutions take
``ops.conv``'s gather path.
"""

from __future__ import annotations

import numpy as np

from . import _blas

__all__ = ["ShiftPlan", "plan_for", "transposed_plan", "pack", "convolve", "unpack",
           "grid_grad", "weight_grad", "flipped"]

MIN_CHANNELS = 8
MAX_WASTE = 1.25


class ShiftPlan:
    """The flat-buffer geometry of one stride-1 2-D convolution (1-D runs with H = 1)."""

    __slots__ = ("n", "c", "h", "w", "kh", "kw", "dh", "dw", "ph", "pw", "hp", "wp",
                 "ho", "wo", "row", "chan", "size", "tail", "grid", "shifts")

    def __init__(self, n, c, in_sp, k, pads, dilation):
        if len(in_sp) == 1:
            in_sp, k, pads, dilation = (1,) + tuple(in_sp), (1,) + tuple(k), \
                ((0, 0),) + tuple(pads), (1,) + tuple(dilation)
        self.n, self.c = n, c
        self.h, self.w = in_sp
        self.kh, self.kw = k
        self.dh, self.dw = dilation
        self.ph, self.pw = pads
        self.hp = self.h + self.ph[0] + self.ph[1]
        self.wp = self.w + self.pw[0] + self.pw[1]
        self.ho = self.hp - self.dh * (self.kh - 1)
        self.wo = self.wp - self.dw * (self.kw - 1)
        self.row = n * self.wp  # one padded image row of every sample
        self.tail = self.dw * (self.kw - 1)  # zeros after each channel, read by the last shifts
        self.chan = self.hp * self.row + self.tail  # one channel of the buffer
        self.size = c * self.chan
        self.grid = self.ho * self.row  # output positions, padding columns included
        self.shifts = [i * self.dh * self.row + j * self.dw
                       for i in range(self.kh) for j in range(self.kw)]

    def same_size(self) -> bool:
        """Whether the output keeps the input's size (then one output-gradient buffer
        serves both gradients)."""
        return self.ho == self.h and self.wo == self.w

    def transposed(self, out_channels: int) -> ShiftPlan:
        """The plan of the input gradient: the output gradient (N, O, Ho, Wo) padded by
        d*(k-1) - pad, convolved with the flipped kernel."""
        pads = ((self.dh * (self.kh - 1) - self.ph[0], self.dh * (self.kh - 1) - self.ph[1]),
                (self.dw * (self.kw - 1) - self.pw[0], self.dw * (self.kw - 1) - self.pw[1]))
        return ShiftPlan(self.n, out_channels, (self.ho, self.wo), (self.kh, self.kw), pads,
                         (self.dh, self.dw))


def plan_for(x_shape, dtype, w_shape, stride, pads, dilation, groups,
             on_cpu: bool = True) -> ShiftPlan | None:
    """The shift plan of convolving an input of ``x_shape`` (N, C, *in) and ``dtype`` with a
    kernel of ``w_shape``, or None when the shift path does not apply (see the module
    docstring; ``on_cpu``: the arrays are numpy's)."""
    nd = len(w_shape) - 2
    if not on_cpu or nd not in (1, 2) or groups != 1 or \
            dtype not in (np.float32, np.float64) or x_shape[1] < MIN_CHANNELS or \
            any(s != 1 for s in stride) or any(lo < 0 or hi < 0 for lo, hi in pads) or \
            all(k == 1 for k in w_shape[2:]) or 0 in x_shape:
        return None
    plan = ShiftPlan(x_shape[0], x_shape[1], x_shape[2:], w_shape[2:], pads, dilation)
    if plan.ho <= 0 or plan.wo <= 0 or plan.wp > MAX_WASTE * plan.wo or \
            _blas.gemm(np.dtype(dtype)) is None:
        return None
    return plan


def transposed_plan(plan: ShiftPlan, out_channels: int) -> ShiftPlan | None:
    """The input-gradient plan, or None when a padding exceeds the dilated kernel (the
    transposed convolution would need negative padding) or the output gradient has too few
    channels for the shift path."""
    if out_channels < MIN_CHANNELS or \
            max(plan.ph) > plan.dh * (plan.kh - 1) or max(plan.pw) > plan.dw * (plan.kw - 1):
        return None
    return plan.transposed(out_channels)


def pack(x, plan: ShiftPlan):
    """``x`` (N, C, H, W) (or (N, C, W)) zero-padded into the flat (C, Hp*N*Wp + tail)
    buffer; only the padding is zeroed, the rest is written once."""
    p = plan
    buf = np.empty(p.size, dtype=x.dtype)
    planes = buf.reshape(p.c, p.chan)
    planes[:, p.chan - p.tail:] = 0
    v = planes[:, :p.chan - p.tail].reshape(p.c, p.hp, p.n, p.wp)
    (h0, h1), (w0, w1) = p.ph, p.pw
    if h0:
        v[:, :h0] = 0
    if h1:
        v[:, p.hp - h1:] = 0
    if w0:
        v[:, h0:p.hp - h1, :, :w0] = 0
    if w1:
        v[:, h0:p.hp - h1, :, p.wp - w1:] = 0
    v[:, h0:h0 + p.h, :, w0:w0 + p.w] = x.reshape(p.n, p.c, p.h, p.w).transpose(1, 2, 0, 3)
    return buf


def convolve(buf, w, plan: ShiftPlan):
    """The output grid (O, Ho*N*Wp) of the packed input ``buf`` and kernel ``w``
    (O, C, kh[, kw]): kh*kw GEMMs over shifted views of ``buf``, summed in place (on
    BLAS's own threads: splitting the positions over ember's threads with one-thread
    products measured 30% slower)."""
    p = plan
    o = w.shape[0]
    gemm = _blas.gemm(buf.dtype)
    wk = np.ascontiguousarray(w.reshape(o, p.c, p.kh * p.kw).transpose(2, 0, 1),
                              dtype=buf.dtype)  # (K, O, C)
    y = np.empty((o, p.grid), dtype=buf.dtype)
    for t, s in enumerate(p.shifts):  # one product per kernel offset (kh*kw of them)
        gemm(o, p.grid, p.c, wk, t * o * p.c, p.c, buf, s, p.chan, y, 0, p.grid,
             beta=0.0 if t == 0 else 1.0)
    return y


def unpack(y, plan: ShiftPlan, ndim: int):
    """The output grid (O, Ho*N*Wp) as a contiguous (N, O, Ho, Wo) (or (N, O, Wo))
    array: padding columns dropped."""
    p = plan
    o = y.shape[0]
    out = np.ascontiguousarray(y.reshape(o, p.ho, p.n, p.wp)[..., :p.wo].transpose(2, 0, 1, 3))
    return out.reshape(p.n, o, p.wo) if ndim == 1 else out  # (N, O, Ho, Wo) or (N, O, Wo)


def grid_grad(gy, plan: ShiftPlan):
    """The output gradient ``gy`` (N, O, Ho, Wo) on the output grid for ``weight_grad``:
    (array, offset, leading dimension) with zeros in the padding columns. For a
    same-size convolution this is also the packed input of the input gradient's
    convolution (returned as the fourth item, else None)."""
    p = plan
    o = gy.shape[1]
    if p.same_size():
        tp = p.transposed(o)
        buf = pack(gy, tp)
        return buf, tp.ph[0] * tp.row + tp.pw[0], tp.chan, buf
    g = np.zeros((o, p.ho, p.n, p.wp), dtype=gy.dtype)
    g[..., :p.wo] = gy.reshape(p.n, o, p.ho, p.wo).transpose(1, 2, 0, 3)
    return g.reshape(-1), 0, p.grid, None


def weight_grad(buf, grid, plan: ShiftPlan, w_shape):
    """The kernel gradient (O, C, kh[, kw]) from the packed input ``buf`` and the output
    gradient on the grid (``grid`` = (flat array, offset, leading dimension) from
    ``grid_grad``).

    Offset (i, j) contributes ``gy_grid @ buf[:, s_ij : s_ij + P]^T``. Products with
    only O x C outputs and a contraction over every position run slowly on BLAS (16x16
    outputs: ~22 GFLOP/s), so the kw horizontal shifts are taken together: the grid is
    copied kw times, shifted by j*dw (``g3``, kw*O rows), and each kernel row i is one
    product ``g3 @ buf[:, i*dh*row : ...]^T`` with kw*O output rows (ResNet-20's 16-channel
    layer: 27 -> 15 ms; ResNet-18's 64-channel 56x56 layer: 29 -> 22 ms)."""
    p = plan
    g, g_off, g_ld = grid[:3]
    o = w_shape[0]
    gemm = _blas.gemm(buf.dtype)
    span = p.grid + p.dw * (p.kw - 1)  # positions read by the kw shifted copies
    if g_off + (o - 1) * g_ld + p.grid > g.size:
        raise RuntimeError("conv_shift.weight_grad: the gradient grid runs outside its buffer")
    rows = np.lib.stride_tricks.as_strided(g[g_off:], (o, p.grid),
                                           (g_ld * g.itemsize, g.itemsize))  # (O, P)
    g3 = np.empty((p.kw, o, span), dtype=buf.dtype)  # (kw, O, P + dw*(kw-1))
    for j in range(p.kw):  # kw shifted copies
        lo = j * p.dw
        g3[j, :, :lo] = 0
        g3[j, :, lo:lo + p.grid] = rows
        g3[j, :, lo + p.grid:] = 0
    gw = np.empty((p.kh, p.kw * o, p.c), dtype=buf.dtype)
    for i in range(p.kh):  # one product per kernel row
        gemm(p.kw * o, p.c, span, g3, 0, span, buf, i * p.dh * p.row, p.chan, gw,
             i * p.kw * o * p.c, p.c, trans_b=True)
    return np.ascontiguousarray(gw.reshape(p.kh, p.kw, o, p.c).transpose(2, 3, 0, 1)
                                ).reshape(w_shape)


def flipped(w):
    """The input-gradient kernel: ``w`` (O, C, *k) transposed to (C, O, *k) and flipped."""
    nd = w.ndim - 2
    return w.swapaxes(0, 1)[(Ellipsis,) + (slice(None, None, -1),) * nd]
