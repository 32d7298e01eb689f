"""Pooling ops (1-, 2- and 3-D): max pooling (with indices, dilation, ceil_mode) and
average pooling (count_include_pad, divisor_override, ceil_mode).

Windows are strided views of the padded input; the forward reduces them with one
vectorised pass per kernel offset (kh*kw passes over the output, never a loop over batch
or pixels), and the backward adds the output gradient back with one strided add per
kernel offset. Each backward is itself an op whose backward is the forward's selection,
so double backward works.
"""

from __future__ import annotations

import itertools

import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import _State
from . import pool_max_cpu
from .conv import _pad
from .op import Op, xp_of

__all__ = ["max_pool", "avg_pool", "pool_out_size", "adaptive_ranges"]


def pool_out_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output length for one spatial dim."""
    eff = n + 2 * p - d * (k - 1) - 1
    if ceil_mode:
        out = -(-eff // s) + 1
        if (out - 1) * s >= n + p:
            out -= 1
    else:
        out = eff // s + 1
    return out


def _geometry(in_sp, k, stride, padding, dilation, ceil_mode):
    out = tuple(pool_out_size(n, kk, s, p, d, ceil_mode)
                for n, kk, s, p, d in zip(in_sp, k, stride, padding, dilation))
    pads = tuple((p, max(0, (o - 1) * s + d * (kk - 1) + 1 - n - p))
                 for n, kk, s, p, d, o in zip(in_sp, k, stride, padding, dilation, out))
    return out, pads


def _offsets(k):
    return list(itertools.product(*(range(kk) for kk in k)))


def _window_slices(offs, dilation, stride, out):
    return (slice(None), slice(None)) + tuple(
        slice(o * d, o * d + s * (m - 1) + 1, s)
        for o, d, s, m in zip(offs, dilation, stride, out))


def _check_pool_args(in_sp, k, stride, padding, dilation, name):
    for kk, p in zip(k, padding):
        if p > kk // 2:
            raise RuntimeError(f"{name}: pad should be at most half of effective kernel size, "
                               f"but got pad={p}, kernel_size={kk} and dilation=1.")
    for kk, s, d in zip(k, stride, dilation):
        if kk <= 0 or s <= 0 or d <= 0:
            raise RuntimeError(f"{name}: kernel_size, stride and dilation must be greater "
                               "than zero")


def _argmax_offsets(xp, xpad, best, k, dilation, stride, out):
    """For each window, the index (into the kernel offsets) of the first position holding
    the window's maximum (a NaN counts as the maximum, as in PyTorch)."""
    offs = _offsets(k)
    dt = np.uint8 if len(offs) < 256 else np.int64
    arg = xp.zeros(best.shape, dtype=dt)
    found = xp.zeros(best.shape, dtype=bool)
    nan_best = xp.isnan(best) if best.dtype.kind == "f" else None
    if nan_best is not None and not bool(nan_best.any()):
        nan_best = None
    for i, o in enumerate(offs):
        v = xpad[_window_slices(o, dilation, stride, out)]
        eq = v == best
        if nan_best is not None:
            eq |= xp.isnan(v) & nan_best
        new = xp.greater(eq, found)  # equal here and not found before
        if i:
            arg += new.astype(dt) * dt(i)
        found |= new
    return arg


class MaxPool(Op):
    """Max over windows. When a gradient is wanted (``need_arg``), the kernel offset of
    each maximum is found once in forward and kept for backward.

    Departure from PyTorch: in a window holding several NaNs the index is that of the
    first NaN (PyTorch reports the last); the value is NaN either way.
    """

    _name = "max_pool"

    def forward(self, x):
        xp = xp_of(x)
        in_sp = x.shape[2:]
        out, pads = _geometry(in_sp, self.k, self.stride, self.padding, self.dilation,
                              self.ceil_mode)
        if any(o <= 0 for o in out):
            raise RuntimeError(f"max_pool: Given input size: {tuple(x.shape[1:])}. Calculated "
                               f"output size: {(x.shape[1],) + out}. Output size is too small")
        self.out, self.pads, self.in_shape = out, pads, x.shape
        self.arg = None
        if xp is np and x.dtype.kind in "fiu":
            found = pool_max_cpu.max_pool_forward(x, self.k, self.stride, self.dilation,
                                                  pads, out, self.need_arg)
            if found is not None:  # else a NaN in the input: the search below
                best, self.arg = found
                if self.need_arg and self.holder is not None:
                    self.holder.append(self)
                return best
        fill = -xp.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        xpad = _pad(xp, x, pads, value=fill)
        offs = _offsets(self.k)
        best = xpad[_window_slices(offs[0], self.dilation, self.stride, out)].copy()
        for o in offs[1:]:
            xp.maximum(best, xpad[_window_slices(o, self.dilation, self.stride, out)],
                       out=best)  # NaN propagates, as PyTorch's max pooling
        self.arg = None
        if self.need_arg:
            self.arg = _argmax_offsets(xp, xpad, best, self.k, self.dilation, self.stride,
                                       out)
            if self.holder is not None:
                self.holder.append(self)
        return best

    def flat_indices(self):
        """Flat indices of the maxima into each (unpadded) input plane, as int64."""
        xp = xp_of(self.arg)
        in_sp = self.in_shape[2:]
        kpos = np.array(_offsets(self.k), dtype=np.int64)  # (K, nd)
        flat = None
        for dim in range(len(in_sp)):
            o = xp.arange(self.out[dim], dtype=np.int64) * self.stride[dim] - \
                self.padding[dim]
            shape = [1] * (2 + len(in_sp))
            shape[2 + dim] = -1
            koff = xp.asarray(kpos[:, dim] * self.dilation[dim])[self.arg]
            pos = o.reshape(shape) + koff
            flat = pos if flat is None else flat * in_sp[dim] + pos
        return flat

    def backward(self, g):
        return MaxPoolBackward.apply(g, arg=self.arg, k=self.k, stride=self.stride,
                                     dilation=self.dilation, pads=self.pads,
                                     in_shape=self.in_shape, out=self.out)

    def _release(self) -> None:
        super()._release()
        self.arg = None


class MaxPoolBackward(Op):
    """Adds ``g`` to the position of each window's maximum."""

    _name = "max_pool_backward"

    def forward(self, g):
        xp = xp_of(g)
        if xp is np:
            return pool_max_cpu.max_pool_backward(g, self.arg, self.in_shape, self.k,
                                                  self.stride, self.dilation, self.pads)
        padded = self.in_shape[:2] + tuple(n + lo + hi for n, (lo, hi) in
                                           zip(self.in_shape[2:], self.pads))
        dxp = xp.zeros(padded, dtype=g.dtype)
        disjoint = _non_overlapping(self.k, self.stride, self.dilation)
        for i, o in enumerate(_offsets(self.k)):
            sl = _window_slices(o, self.dilation, self.stride, self.out)
            if disjoint:
                dxp[sl] = g * (self.arg == i)
            else:
                dxp[sl] += g * (self.arg == i)
        crop = (slice(None), slice(None)) + tuple(slice(lo, lo + n) for n, (lo, _) in
                                                  zip(self.in_shape[2:], self.pads))
        return xp.ascontiguousarray(dxp[crop])

    def backward(self, gg):
        return MaxPoolSelect.apply(gg, arg=self.arg, k=self.k, stride=self.stride,
                                   dilation=self.dilation, pads=self.pads,
                                   in_shape=self.in_shape, out=self.out)


class MaxPoolSelect(Op):
    """Picks, for each window, the value at the position of the forward's maximum."""

    _name = "max_pool_select"

    def forward(self, x):
        xp = xp_of(x)
        xpad = _pad(xp, x, self.pads)
        res = xp.zeros(x.shape[:2] + tuple(self.out), dtype=x.dtype)
        for i, o in enumerate(_offsets(self.k)):
            v = xpad[_window_slices(o, self.dilation, self.stride, self.out)]
            res += v * (self.arg == i)
        return res

    def backward(self, g):
        return MaxPoolBackward.apply(g, arg=self.arg, k=self.k, stride=self.stride,
                                     dilation=self.dilation, pads=self.pads,
                                     in_shape=self.in_shape, out=self.out)


def _non_overlapping(k, stride, dilation) -> bool:
    return all(s >= d * (kk - 1) + 1 for kk, s, d in zip(k, stride, dilation))


def max_pool(input: Tensor, k, stride, padding, dilation, ceil_mode: bool,
             return_indices: bool = True):
    """Max pooling of batched ``input`` (N, C, *in): values, and flat int64 indices into
    each input plane when ``return_indices``."""
    _check_pool_args(input.shape[2:], k, stride, padding, dilation, "max_pool")
    need = return_indices or (input.requires_grad and _State.enabled)
    holder: list = [] if return_indices else None
    out = MaxPool.apply(input, k=tuple(k), stride=tuple(stride), padding=tuple(padding),
                        dilation=tuple(dilation), ceil_mode=bool(ceil_mode), need_arg=need,
                        holder=holder)
    if not return_indices:
        return out
    return out, Tensor._make(holder[0].flat_indices())


def _divisor(xp, in_sp, k, stride, padding, out, count_include_pad, dtype):
    """Each window's divisor, as PyTorch computes it (separable over dims)."""
    div = None
    for dim, n in enumerate(in_sp):
        o = np.arange(out[dim]) * stride[dim] - padding[dim]
        end = np.minimum(o + k[dim], n + padding[dim])
        size = end - o
        if not count_include_pad:
            size = np.minimum(end, n) - np.maximum(o, 0)
        shape = [1] * len(in_sp)
        shape[dim] = -1
        size = size.reshape(shape)
        div = size if div is None else div * size
    return xp.asarray(div.astype(dtype))


class AvgPool(Op):
    """Average over windows."""

    _name = "avg_pool"
    opmath = True

    def forward(self, x):
        xp = xp_of(x)
        in_sp = x.shape[2:]
        ones = (1,) * len(in_sp)
        out, pads = _geometry(in_sp, self.k, self.stride, self.padding, ones, self.ceil_mode)
        if any(o <= 0 for o in out):
            raise RuntimeError(f"avg_pool: Given input size: {tuple(x.shape[1:])}. Calculated "
                               f"output size: {(x.shape[1],) + out}. Output size is too small")
        self.out, self.pads, self.in_shape = out, pads, x.shape
        if self.divisor_override:
            self.div = x.dtype.type(self.divisor_override)
        else:
            self.div = _divisor(xp, in_sp, self.k, self.stride, self.padding, out,
                                self.count_include_pad, x.dtype)
        xpad = _pad(xp, x, pads)
        offs = _offsets(self.k)
        acc = xpad[_window_slices(offs[0], ones, self.stride, out)].copy()
        for o in offs[1:]:
            acc += xpad[_window_slices(o, ones, self.stride, out)]
        acc /= self.div
        return acc

    def backward(self, g):
        return AvgPoolBackward.apply(g, div=self.div, k=self.k, stride=self.stride,
                                     padding=self.padding, pads=self.pads,
                                     in_shape=self.in_shape, out=self.out,
                                     divisor_override=self.divisor_override,
                                     count_include_pad=self.count_include_pad,
                                     ceil_mode=self.ceil_mode)


class AvgPoolBackward(Op):
    """Spreads ``g / divisor`` over each window."""

    _name = "avg_pool_backward"
    opmath = True

    def forward(self, g):
        xp = xp_of(g)
        ones = (1,) * len(self.k)
        padded = self.in_shape[:2] + tuple(n + lo + hi for n, (lo, hi) in
                                           zip(self.in_shape[2:], self.pads))
        dxp = xp.zeros(padded, dtype=g.dtype)
        gd = g / self.div
        for o in _offsets(self.k):
            dxp[_window_slices(o, ones, self.stride, self.out)] += gd
        crop = (slice(None), slice(None)) + tuple(slice(lo, lo + n) for n, (lo, _) in
                                                  zip(self.in_shape[2:], self.pads))
        return xp.ascontiguousarray(dxp[crop])

    def backward(self, gg):
        return AvgPool.apply(gg, k=self.k, stride=self.stride, padding=self.padding,
                             ceil_mode=self.ceil_mode, count_include_pad=self.count_include_pad,
                             divisor_override=self.divisor_override)


def avg_pool(input: Tensor, k, stride, padding, ceil_mode: bool, count_include_pad: bool,
             divisor_override) -> Tensor:
    """Average pooling of batched ``input`` (N, C, *in)."""
    _check_pool_args(input.shape[2:], k, stride, padding, (1,) * len(k), "avg_pool")
    return AvgPool.apply(input, k=tuple(k), stride=tuple(stride), padding=tuple(padding),
                         ceil_mode=bool(ceil_mode), count_include_pad=bool(count_include_pad),
                         divisor_override=divisor_override)


def adaptive_ranges(n: int, out: int):
    """Start and end (exclusive) of each adaptive pooling window along a dim of length n."""
    i = np.arange(out)
    start = (i * n) // out
    end = -((-(i + 1) * n) // out)
    return start, end
