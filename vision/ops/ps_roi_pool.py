"""Position-sensitive RoI Pool (R-FCN), as ``torchvision.ops.ps_roi_pool``.

Each bin averages its integer window of the feature map, so the op is linear in the input:
the sparse (K*PH*PW, N*H*W) matrix of window averages is built vectorised over the RoIs
(in chunks that bound its temporary memory) and applied by :mod:`._position_sensitive`, bin
(i, j) of output channel ``c`` reading input channel ``(c * PH + i) * PW + j``.

The geometry is torchvision's CPU forward kernel's: RoI corners are
``round(coordinate * spatial_scale)`` (halves away from zero), RoIs narrower than one pixel
count as one, bin (i, j) spans rows ``floor(i * bin_h) .. ceil((i + 1) * bin_h)`` from the
RoI's start, and the window ends are clamped to ``[0, H - 1]`` and ``[0, W - 1]`` (so the
last row and column of the map are never read); an empty window gives 0.
"""

from __future__ import annotations

import numpy as np
from ember import Tensor, nn

from ._position_sensitive import ps_roi_apply
from ._utils import pair, rois_array, sparse_module, xp_of

__all__ = ["ps_roi_pool", "PSRoIPool"]

_MAX_ENTRIES = 1 << 22  # sparse entries built at once (bounds the temporary memory)


def _round_half_away(xp, v):
    """C's ``round`` (halves away from zero), exactly, as int64."""
    a = xp.abs(v)
    f = xp.floor(a)
    r = f + (a - f >= 0.5)
    return xp.where(v < 0, -r, r).astype(np.int64)


def _windows(xp, start, length, n_bins, size, dt):
    """Per RoI and bin, the clamped window ``[lo, hi)`` along one axis: (K, n_bins) each."""
    bin_size = length.astype(dt) / dt.type(n_bins)
    i = xp.arange(n_bins, dtype=dt)[None, :]
    lo = xp.floor(i * bin_size[:, None]).astype(np.int64) + start[:, None]
    hi = xp.ceil((i + 1) * bin_size[:, None]).astype(np.int64) + start[:, None]
    return xp.clip(lo, 0, size - 1), xp.clip(hi, 0, size - 1)


def ps_roi_pool_matrix(rois, in_shape, output_size, spatial_scale: float):
    """The sparse (K*PH*PW, N*H*W) matrix of the bins' window averages for ``rois`` (array
    (K, 5)) over feature maps of shape ``in_shape`` = (N, C, H, W)."""
    xp = xp_of(rois)
    sp = sparse_module(rois)
    n, _, h, w = in_shape
    ph_n, pw_n = output_size
    k = rois.shape[0]
    dt = rois.dtype if rois.dtype.kind == "f" and rois.dtype.itemsize >= 4 else np.dtype("f4")
    if k == 0:
        return sp.csr_matrix((0, n * h * w), dtype=dt)
    r = rois.astype(dt)
    scale = dt.type(spatial_scale)
    sw, sh, ew, eh = (_round_half_away(xp, r[:, c] * scale) for c in (1, 2, 3, 4))
    hs, he = _windows(xp, sh, xp.maximum(eh - sh, 1), ph_n, h, dt)  # (K, PH)
    ws, we = _windows(xp, sw, xp.maximum(ew - sw, 1), pw_n, w, dt)  # (K, PW)
    span_h = xp.maximum(he - hs, 0)
    span_w = xp.maximum(we - ws, 0)
    area = (span_h[:, :, None] * span_w[:, None, :]).astype(dt)  # (K, PH, PW)
    with np.errstate(divide="ignore"):
        inv = xp.where(area > 0, dt.type(1) / area, dt.type(0))
    batch = r[:, 0].astype(np.int64)
    per_roi = max(1, ph_n * pw_n * max(int(span_h.max()), 1) * max(int(span_w.max()), 1))
    step = max(1, _MAX_ENTRIES // per_roi)
    blocks = []
    for lo in range(0, k, step):  # a few chunks, each vectorised over its RoIs
        s = slice(lo, min(k, lo + step))
        kk = s.stop - s.start
        mh = max(int(span_h[s].max()), 1)
        mw = max(int(span_w[s].max()), 1)
        dy = xp.arange(mh)
        dx = xp.arange(mw)
        yy = (hs[s][:, :, None] + dy)[:, :, None, :, None]  # (k, PH, 1, mh, 1)
        xx = (ws[s][:, :, None] + dx)[:, None, :, None, :]  # (k, 1, PW, 1, mw)
        vy = (dy < span_h[s][:, :, None])[:, :, None, :, None]
        vx = (dx < span_w[s][:, :, None])[:, None, :, None, :]
        shape = (kk, ph_n, pw_n, mh, mw)
        col = (batch[s][:, None, None, None, None] * h + yy) * w + xx
        row = xp.arange(kk * ph_n * pw_n, dtype=np.int64).reshape(kk, ph_n, pw_n, 1, 1)
        val = xp.broadcast_to(inv[s][:, :, :, None, None], shape)
        keep = xp.broadcast_to(vy & vx, shape) & (val != 0)
        blocks.append(sp.coo_matrix(
            (val[keep], (xp.broadcast_to(row, shape)[keep], xp.broadcast_to(col, shape)[keep])),
            shape=(kk * ph_n * pw_n, n * h * w)).tocsr())
    return blocks[0] if len(blocks) == 1 else sp.vstack(blocks).tocsr()


def ps_roi_pool(input: Tensor, boxes, output_size, spatial_scale: float = 1.0) -> Tensor:
    """Performs Position-Sensitive Region of Interest (RoI) Pool operator described in R-FCN.

    Args:
        input (Tensor[N, C, H, W]): The input tensor, i.e. a batch with ``N`` elements. Each
            element contains ``C`` feature maps of dimensions ``H x W``.
        boxes (Tensor[K, 5] or List[Tensor[L, 4]]): the box coordinates in (x1, y1, x2, y2)
            format where the regions will be taken from. If a single Tensor is passed, then
            the first column should contain the index of the corresponding element in the
            batch, i.e. a number in ``[0, N - 1]``. If a list of Tensors is passed, then each
            Tensor will correspond to the boxes for an element i in the batch.
        output_size (int or Tuple[int, int]): the size of the output (in bins or pixels)
            after the pooling is performed, as (height, width).
        spatial_scale (float): a scaling factor that maps the box coordinates to the input
            coordinates. For example, if your boxes are defined on the scale of a 224x224
            image and your input is a 112x112 feature map (resulting from a 0.5x scaling of
            the original image), you'll want to set this to 0.5. Default: 1.0

    Returns:
        Tensor[K, C / (output_size[0] * output_size[1]), output_size[0], output_size[1]]: The
        pooled RoIs.

    The values are those of torchvision's forward kernel (see the module docstring). The
    gradient is the exact gradient of those values; torchvision's backward kernel clamps the
    windows to ``[0, H]`` instead of ``[0, H - 1]``, so its gradient differs near the last
    row and column (docs/compatibility.md). Differentiable in ``input``, to any order.
    """
    rois = rois_array(input, boxes, "ps_roi_pool")
    ph, pw = pair(output_size, "ps_roi_pool")
    c = input.shape[1]
    if c % (ph * pw) != 0:
        raise RuntimeError("ps_roi_pool: input channels must be a multiple of pooling height "
                           f"* pooling width, got {c} channels and output_size {(ph, pw)}")
    mat = ps_roi_pool_matrix(rois, tuple(input.shape), (ph, pw), spatial_scale)
    return ps_roi_apply(input, mat, (ph, pw))


class PSRoIPool(nn.Module):
    """See :func:`ps_roi_pool`."""

    def __init__(self, output_size, spatial_scale: float) -> None:
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale

    def forward(self, input: Tensor, rois) -> Tensor:
        return ps_roi_pool(input, rois, self.output_size, self.spatial_scale)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(output_size={self.output_size}, "
                f"spatial_scale={self.spatial_scale})")
