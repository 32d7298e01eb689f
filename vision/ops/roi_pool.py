"""RoI Pool (Fast R-CNN), as ``torchvision.ops.roi_pool``.

The bins of all RoIs are reduced together, one vectorised pass per window offset (windows
are padded to the largest bin and masked), keeping the running maximum and its offset; the
backward adds the output gradient at each maximum with one ``bincount``. Bin edges follow
torchvision's kernel: rounded box corners, ``floor``/``ceil`` bin bounds, empty bins give 0.
"""

from __future__ import annotations

import numpy as np
from ember import Tensor, nn
from ember.ops.op import Op

from ._utils import pair, rois_array, xp_of

__all__ = ["roi_pool", "RoIPool"]

_MAX_GATHER = 1 << 24  # elements gathered at once


def _round_half_away(xp, v):
    return xp.sign(v) * xp.floor(xp.abs(v) + 0.5)


def _bins(xp, start, end, n_bins, size, dt):
    """(K, n_bins) clipped [lo, hi) bounds of each bin along one axis."""
    length = xp.maximum(end - start + 1, 1).astype(dt)
    bin_size = length / dt.type(n_bins)
    p = xp.arange(n_bins, dtype=dt)[None, :]
    lo = xp.floor(p * bin_size[:, None]).astype(np.int64) + start[:, None]
    hi = xp.ceil((p + 1) * bin_size[:, None]).astype(np.int64) + start[:, None]
    return xp.clip(lo, 0, size), xp.clip(hi, 0, size)


def _roi_pool_forward(xp, x, rois, ph_n, pw_n, spatial_scale):
    n, c, h, w = x.shape
    k = rois.shape[0]
    dt = rois.dtype if rois.dtype.itemsize >= 4 else np.dtype("f4")
    r = rois.astype(dt)
    scale = dt.type(spatial_scale)
    batch = r[:, 0].astype(np.int64)
    sw = _round_half_away(xp, r[:, 1] * scale).astype(np.int64)
    sh = _round_half_away(xp, r[:, 2] * scale).astype(np.int64)
    ew = _round_half_away(xp, r[:, 3] * scale).astype(np.int64)
    eh = _round_half_away(xp, r[:, 4] * scale).astype(np.int64)
    hlo, hhi = _bins(xp, sh, eh, ph_n, h, dt)  # (K, PH)
    wlo, whi = _bins(xp, sw, ew, pw_n, w, dt)  # (K, PW)
    out = xp.zeros((k, c, ph_n, pw_n), dtype=x.dtype)
    arg = xp.full((k, c, ph_n, pw_n), -1, dtype=np.int64)
    if k == 0:
        return out, arg
    bh = max(int((hhi - hlo).max()), 1)
    bw = max(int((whi - wlo).max()), 1)
    fill = -xp.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    rows = xp.ascontiguousarray(xp.moveaxis(x, 1, -1)).reshape(-1, c)  # (N*H*W, C) rows
    step = max(1, _MAX_GATHER // max(1, ph_n * pw_n * c))
    for lo in range(0, k, step):  # chunks of RoIs; within a chunk, one pass per window offset
        s = slice(lo, min(k, lo + step))
        b = batch[s][:, None, None]
        y0 = hlo[s][:, :, None]  # (k, PH, 1)
        x0 = wlo[s][:, None, :]  # (k, 1, PW)
        best = off = m = None
        for i in range(bh):  # bh * bw passes (like pooling's kernel offsets), never per RoI
            yy = y0 + i
            vy = yy < hhi[s][:, :, None]
            for j in range(bw):
                xx = x0 + j
                invalid = ~(vy & (xx < whi[s][:, None, :]))[..., None]  # (k, PH, PW, 1)
                pix = (b * h + xp.minimum(yy, h - 1)) * w + xp.minimum(xx, w - 1)
                v = xp.take(rows, pix.reshape(-1), axis=0).reshape(pix.shape + (c,))
                if invalid.any():
                    xp.copyto(v, fill, where=invalid)  # (k, PH, PW, C)
                if best is None:
                    best = v
                    off = xp.zeros(v.shape, dtype=np.int32)  # window offset of the max
                    m = xp.empty(v.shape, dtype=bool)
                    continue
                xp.greater(v, best, out=m)  # strict: the first maximum in row-major order wins
                xp.copyto(best, v, where=m)
                xp.copyto(off, i * bw + j, where=m)
        empty = ~((hhi[s] > hlo[s])[:, :, None] & (whi[s] > wlo[s])[:, None, :])[..., None]
        best = xp.where(empty, x.dtype.type(0), best)
        arg_y = y0[..., None] + off // bw
        arg_x = x0[..., None] + off % bw
        pos = xp.where(empty, -1, arg_y * w + arg_x)
        out[s] = xp.moveaxis(best, -1, 1)
        arg[s] = xp.moveaxis(pos, -1, 1)
    return out, arg


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
