"""RoI Pool (Fast R-CNN), as ``torchvision.ops.roi_pool``.

Bin edges follow torchvision's kernel: box corners rounded half away from zero, ``floor`` /
``ceil`` bin bounds clipped to the map, empty bins give 0, and a bin's maximum starts at
``-FLT_MAX`` and moves on a strictly greater value (so the first maximum in row-major order
wins and NaNs are skipped). The RoIs are grouped by the size of their largest bin and reduced
a cache-sized chunk at a time, all bins of a chunk together: one pass per offset inside the
window (gather one pixel of every bin, keep the running maximum and its offset), never a loop
over RoIs or bins. The backward adds the output gradient at each maximum with one
``bincount``.
"""

from __future__ import annotations

import numpy as np
from ember import Tensor, nn
from ember.ops.op import Op

from ._utils import pair, rois_array, xp_of

__all__ = ["roi_pool", "RoIPool"]

_TILE = 1 << 17  # elements of one chunk's (rois, PH, PW, C) arrays: about a cache's worth
_FLT_MAX = 3.4028234663852886e38  # torchvision starts every bin's maximum at -FLT_MAX


def _round_half_away(xp, v):
    """``std::round``: to the nearest integer, halves away from zero (exactly: ``v - trunc(v)``
    has no rounding error)."""
    t = xp.trunc(v)
    return t + xp.sign(v) * (xp.abs(v - t) >= 0.5)


def _bins(xp, start, end, n_bins, size, dt):
    """(K, n_bins) clipped [lo, hi) bounds of each bin along one axis."""
    length = xp.maximum(end - start + 1, 1).astype(dt)
    bin_size = length / dt.type(n_bins)
    p = xp.arange(n_bins, dtype=dt)[None, :]
    lo = xp.floor(p * bin_size[:, None]).astype(np.int64) + start[:, None]
    hi = xp.ceil((p + 1) * bin_size[:, None]).astype(np.int64) + start[:, None]
    return xp.clip(lo, 0, size), xp.clip(hi, 0, size)


def _roi_pool_forward(xp, x, rois, ph_n, pw_n, spatial_scale):
    """The pooled (K, C, PH, PW) output and the (K, C, PH, PW) int32 position (``y * W + x``
    in the RoI's image, -1 where no value was taken) of each bin's maximum."""
    n, c, h, w = x.shape
    k = rois.shape[0]
    dt = rois.dtype if rois.dtype.itemsize >= 4 else np.dtype("f4")
    r = rois.astype(dt)
    scale = dt.type(spatial_scale)
    batch = r[:, 0].astype(np.int64)
    sw, sh, ew, eh = (_round_half_away(xp, r[:, i] * scale).astype(np.int64)
                      for i in (1, 2, 3, 4))
    hlo, hhi = _bins(xp, sh, eh, ph_n, h, dt)  # (K, PH)
    wlo, whi = _bins(xp, sw, ew, pw_n, w, dt)  # (K, PW)
    out = xp.zeros((k, c, ph_n, pw_n), dtype=x.dtype)
    arg = xp.full((k, c, ph_n, pw_n), -1, dtype=np.int32)
    if k == 0 or c == 0:
        return out, arg
    if x.dtype.kind == "f":  # -FLT_MAX is -inf in float16
        lowest = x.dtype.type(-_FLT_MAX if x.dtype.itemsize >= 4 else -np.inf)
        sentinel = -np.inf
    else:
        lowest = sentinel = np.iinfo(x.dtype).min
    # (N*H*W + 1, C) pixel rows; the last one, never above ``lowest``, stands for the window
    # positions outside a bin
    rows = xp.empty((n * h * w + 1, c), dtype=x.dtype)
    rows[:-1].reshape(n, h, w, c)[...] = xp.moveaxis(x, 1, -1)
    rows[-1] = sentinel
    pad = n * h * w
    # RoIs grouped by window (largest bin) size, so small RoIs make few passes
    win_h = np.asarray(_to_host(xp.maximum(hhi - hlo, 0).max(axis=1)))
    win_w = np.asarray(_to_host(xp.maximum(whi - wlo, 0).max(axis=1)))
    order = np.lexsort((win_w, win_h))
    cuts = np.flatnonzero((np.diff(win_h[order]) != 0) | (np.diff(win_w[order]) != 0)) + 1
    step = max(1, _TILE // (ph_n * pw_n * c))
    for group in np.split(order, cuts):
        bh, bw = int(win_h[group[0]]), int(win_w[group[0]])
        for lo in range(0, group.size, step):
            s = xp.asarray(group[lo:lo + step])
            y0, y1 = hlo[s][:, :, None], hhi[s][:, :, None]  # (k, PH, 1)
            x0, x1 = wlo[s][:, None, :], whi[s][:, None, :]  # (k, 1, PW)
            base = batch[s][:, None, None] * (h * w)
            shape = (s.shape[0], ph_n, pw_n, c)
            best = xp.full(shape, lowest, dtype=x.dtype)
            # 1 + the window offset i * bw + j of the maximum, 0 while none is taken: passes go
            # in increasing offset order, so the maximum of the marks where a pass raised the
            # maximum is that of the last raise (branch-free, unlike a masked copy)
            odt = np.dtype(np.uint8 if bh * bw < 255 else np.uint16 if bh * bw < 65535
                           else np.uint32)
            off = xp.zeros(shape, dtype=odt)
            mark = xp.empty(shape, dtype=odt)
            v = xp.empty(shape, dtype=x.dtype)
            m = xp.empty(shape, dtype=bool)
            for i in range(bh):  # bh * bw passes (like pooling's kernel offsets)
                yy = y0 + i
                in_y = yy < y1
                row0 = base + yy * w
                for j in range(bw):
                    xx = x0 + j
                    pix = xp.where(in_y & (xx < x1), row0 + xx, pad)  # (k, PH, PW)
                    xp.take(rows, pix.reshape(-1), axis=0, out=v.reshape(-1, c))
                    xp.greater(v, best, out=m)  # strict: the first maximum wins
                    xp.fmax(best, v, out=best)  # NaNs never raise it, as with ``>``
                    xp.multiply(m.view(np.uint8), odt.type(i * bw + j + 1), out=mark)
                    xp.maximum(off, mark, out=off)
            # position y * W + x of each maximum: a table by window offset, -1 where none
            o = np.arange(bh * bw)
            table = np.concatenate([[-(1 << 30)], o // max(bw, 1) * w + o % max(bw, 1)])
            pos = xp.take(xp.asarray(table.astype(np.int32)), off)
            pos += (y0 * w + x0)[..., None].astype(np.int32)
            xp.maximum(pos, -1, out=pos)
            # fmax may pick either of -0.0 and 0.0: torchvision has the value at the position
            zero = best == 0
            zero &= pos >= 0
            if zero.any():
                z = xp.flatnonzero(zero)
                at = (base[..., None] + pos).reshape(-1)[z]
                best.reshape(-1)[z] = rows[at, z % c]
            empty = ((y1 <= y0) | (x1 <= x0))[..., None]  # (k, PH, PW, 1)
            best = xp.where(empty, x.dtype.type(0), best)
            out[s] = xp.moveaxis(best, -1, 1)
            arg[s] = xp.moveaxis(pos, -1, 1)
    return out, arg


def _to_host(a):
    """``a`` as a numpy array (a copy from the device for cupy arrays)."""
    return a.get() if hasattr(a, "get") else a


def _scatter_add(xp, size, idx, vals):
    """A flat array of ``size`` zeros with ``vals`` added at ``idx`` (repeats accumulate)."""
    if xp is np:
        return np.bincount(idx, weights=vals, minlength=size).astype(vals.dtype)
    out = xp.zeros(size, dtype=vals.dtype)  # pragma: no cover - cuda
    xp.add.at(out, idx, vals)
    return out


class RoIPoolOp(Op):
    _name = "roi_pool"

    def forward(self, x):
        xp = xp_of(x)
        out, self.arg = _roi_pool_forward(xp, x, self.rois, self.ph, self.pw,
                                          self.spatial_scale)
        self.in_shape = x.shape
        return out

    def backward(self, g):
        return RoIPoolBackward.apply(g, arg=self.arg, batch=self.rois[:, 0].astype(np.int64),
                                     in_shape=self.in_shape)


class RoIPoolBackward(Op):
    """Adds each output gradient at its bin's maximum in the (N, C, H, W) input."""

    _name = "roi_pool_backward"

    def forward(self, g):
        xp = xp_of(g)
        n, c, h, w = self.in_shape
        k = g.shape[0]
        valid = self.arg >= 0
        flat = (self.batch[:, None, None, None] * c + xp.arange(c)[None, :, None, None]) \
            * (h * w) + self.arg
        flat = xp.broadcast_to(flat, g.shape)[valid]
        if k == 0:
            return xp.zeros(self.in_shape, dtype=g.dtype)
        return _scatter_add(xp, n * c * h * w, flat, g[valid]).reshape(self.in_shape)

    def backward(self, gg):
        return RoIPoolSelect.apply(gg, arg=self.arg, batch=self.batch, in_shape=self.in_shape)


class RoIPoolSelect(Op):
    """The input value at each bin's maximum (0 for empty bins)."""

    _name = "roi_pool_select"

    def forward(self, x):
        xp = xp_of(x)
        n, c, h, w = self.in_shape
        valid = self.arg >= 0
        flat_x = x.reshape(n, c, h * w)
        b = self.batch[:, None, None, None]
        ch = xp.arange(c)[None, :, None, None]
        vals = flat_x[b, ch, xp.where(valid, self.arg, 0)]
        return xp.where(valid, vals, x.dtype.type(0))

    def backward(self, g):
        return RoIPoolBackward.apply(g, arg=self.arg, batch=self.batch, in_shape=self.in_shape)


def roi_pool(input: Tensor, boxes, output_size, spatial_scale: float = 1.0) -> Tensor:
    """Performs Region of Interest (RoI) Pool operator described in Fast R-CNN.

    Args:
        input (Tensor[N, C, H, W]): The input tensor, i.e. a batch with ``N`` elements. Each
            element contains ``C`` feature maps of dimensions ``H x W``.
        boxes (Tensor[K, 5] or List[Tensor[L, 4]]): the box coordinates in (x1, y1, x2, y2)
            format where the regions will be taken from. If a single Tensor is passed, then
            the first column should contain the index of the corresponding element in the
            batch, i.e. a number in ``[0, N - 1]``. If a list of Tensors is passed, then each
            Tensor will correspond to the boxes for an element i in the batch.
        output_size (int or Tuple[int, int]): the size of the output after the cropping is
            performed, as (height, width)
        spatial_scale (float): a scaling factor that maps the box coordinates to the input
            coordinates. Default: 1.0

    Returns:
        Tensor[K, C, output_size[0], output_size[1]]: The pooled RoIs.
    """
    rois = rois_array(input, boxes, "roi_pool")
    oh, ow = pair(output_size, "roi_pool")
    return RoIPoolOp.apply(input, rois=rois, ph=oh, pw=ow, spatial_scale=float(spatial_scale))


class RoIPool(nn.Module):
    """See :func:`roi_pool`."""

    def __init__(self, output_size, spatial_scale: float) -> None:
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale

    def forward(self, input: Tensor, rois) -> Tensor:
        return roi_pool(input, rois, self.output_size, self.spatial_scale)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(output_size={self.output_size}, "
                f"spatial_scale={self.spatial_scale})")
