"""RoI Align (Mask R-CNN), as ``torchvision.ops.roi_align``.

Every output value is an average of bilinear samples of the feature map, so the whole op is
linear in the input: ``out = A @ features`` for a sparse matrix ``A`` whose rows are the
(roi, bin) pairs and whose columns are the (image, y, x) positions. ``A`` is built once,
vectorised over all RoIs, bins and sampling points (separable bilinear weights in y and x),
then the forward is one sparse-dense product over the channels and the backward is the
product with ``A``'s transpose. Each is an ember op whose backward is the other, so double
backward works. The geometry (sampling grid, the ``aligned`` half-pixel offset, the
``sampling_ratio <= 0`` adaptive grid, the out-of-range rule and border clamping) follows
torchvision's CPU kernel, in the input's dtype.
"""

from __future__ import annotations

import numpy as np
from ember import Tensor, nn
from ember.ops.op import Op

from ._utils import pair, rois_array, sparse_module, xp_of

__all__ = ["roi_align", "RoIAlign", "roi_align_matrix"]

_MAX_ENTRIES = 1 << 22  # sparse entries built at once (bounds the temporary memory)


def _axis_weights(xp, start, bin_size, grid, n_bins, g_max, size, dt):
    """Sampling positions along one axis for every (roi, bin, sample).

    Returns ``(lo, hi, w_lo, w_hi)``, each (K, n_bins, g_max): the two neighbouring
    indices and their bilinear weights (zero for samples outside the map or beyond the
    roi's own grid size).
    """
    b = xp.arange(n_bins, dtype=dt)[None, :, None]
    i = xp.arange(g_max)[None, None, :]
    gs = grid.astype(dt)[:, None, None]
    half = (i.astype(dt) + dt.type(0.5))
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = start[:, None, None] + b * bin_size[:, None, None] + half * bin_size[:, None, None] \
            / gs
    valid = (i < grid[:, None, None]) & ~((pos < -1.0) | (pos > size))
    pos = xp.where(pos <= 0, dt.type(0), pos)
    pos = xp.where(valid, pos, dt.type(0))
    lo = pos.astype(np.int64)
    top = lo >= size - 1
    lo = xp.where(top, size - 1, lo)
    hi = xp.where(top, size - 1, lo + 1)
    pos = xp.where(top, lo.astype(dt), pos)
    frac = pos - lo.astype(dt)
    w_hi = xp.where(valid, frac, dt.type(0))
    w_lo = xp.where(valid, dt.type(1) - frac, dt.type(0))
    return lo, hi, w_lo, w_hi


def roi_align_matrix(rois, in_shape, output_size, spatial_scale: float, sampling_ratio: int,
                     aligned: bool):
    """The sparse (K*PH*PW, N*H*W) matrix of RoI Align for ``rois`` (array (K, 5)) over
    feature maps of shape ``in_shape`` = (N, C, H, W)."""
    xp = xp_of(rois)
    sp = sparse_module(rois)
    n, _, h, w = in_shape
    ph_n, pw_n = output_size
    k = rois.shape[0]
    dt = rois.dtype if rois.dtype.kind == "f" and rois.dtype.itemsize >= 4 else np.dtype("f4")
    r = rois.astype(dt)
    scale = dt.type(spatial_scale)
    offset = dt.type(0.5 if aligned else 0.0)
    start_w = r[:, 1] * scale - offset
    start_h = r[:, 2] * scale - offset
    roi_w = r[:, 3] * scale - offset - start_w
    roi_h = r[:, 4] * scale - offset - start_h
    if not aligned:
        roi_w = xp.maximum(roi_w, dt.type(1))
        roi_h = xp.maximum(roi_h, dt.type(1))
    bin_h = roi_h / dt.type(ph_n)
    bin_w = roi_w / dt.type(pw_n)
    if sampling_ratio > 0:
        grid_h = xp.full(k, sampling_ratio, dtype=np.int64)
        grid_w = xp.full(k, sampling_ratio, dtype=np.int64)
    else:
        grid_h = xp.ceil(roi_h / dt.type(ph_n)).astype(np.int64)
        grid_w = xp.ceil(roi_w / dt.type(pw_n)).astype(np.int64)
    count = xp.maximum(grid_h * grid_w, 1).astype(dt)
    batch = r[:, 0].astype(np.int64)
    if k == 0:
        return sp.csr_matrix((0, n * h * w), dtype=dt)
    gh_all = int(grid_h.max()) if k else 0
    gw_all = int(grid_w.max()) if k else 0
    per_roi = max(1, ph_n * pw_n * max(gh_all, 1) * max(gw_all, 1) * 4)
    step = max(1, _MAX_ENTRIES // per_roi)
    blocks = []
    for lo_r in range(0, k, step):  # a few chunks, each vectorised over its RoIs
        s = slice(lo_r, min(k, lo_r + step))
        gh = max(int(grid_h[s].max()), 1)
        gw = max(int(grid_w[s].max()), 1)
        ylo, yhi, wylo, wyhi = _axis_weights(xp, start_h[s], bin_h[s], grid_h[s], ph_n, gh, h,
                                             dt)
        xlo, xhi, wxlo, wxhi = _axis_weights(xp, start_w[s], bin_w[s], grid_w[s], pw_n, gw, w,
                                             dt)
        yi = xp.stack([ylo, yhi], axis=-1)[:, :, None, :, None, :, None]  # (k,PH,1,gh,1,2,1)
        wy = xp.stack([wylo, wyhi], axis=-1)[:, :, None, :, None, :, None]
        xi = xp.stack([xlo, xhi], axis=-1)[:, None, :, None, :, None, :]  # (k,1,PW,1,gw,1,2)
        wx = xp.stack([wxlo, wxhi], axis=-1)[:, None, :, None, :, None, :]
        kk = s.stop - s.start
        val = (wy * wx) / count[s][:, None, None, None, None, None, None]
        col = (batch[s][:, None, None, None, None, None, None] * h + yi) * w + xi
        row = xp.arange(kk * ph_n * pw_n, dtype=np.int64).reshape(kk, ph_n, pw_n, 1, 1, 1, 1)
        shape = val.shape
        col = xp.broadcast_to(col, shape).ravel()
        row = xp.broadcast_to(row, shape).ravel()
        val = val.ravel()
        keep = val != 0
        blocks.append(sp.coo_matrix((val[keep], (row[keep], col[keep])),
                                    shape=(kk * ph_n * pw_n, n * h * w)).tocsr())
    return blocks[0] if len(blocks) == 1 else sp.vstack(blocks).tocsr()


def _apply(xp, mat, x, out_shape):
    """``mat @ x`` where x is (N, C, *sp) viewed as (N*prod(sp), C); result (M, C) reshaped
    channels-first to ``out_shape`` = (K, C, *sp_out)."""
    c = x.shape[1]
    dt = x.dtype
    work = dt if dt.itemsize >= 4 else np.dtype("f4")
    x2 = xp.ascontiguousarray(xp.moveaxis(x, 1, -1).reshape(-1, c).astype(work, copy=False))
    m = mat if mat.dtype == work else mat.astype(work)
    y = m @ x2  # (M, C)
    y = xp.asarray(y).reshape((out_shape[0],) + tuple(out_shape[2:]) + (c,))
    return xp.ascontiguousarray(xp.moveaxis(y, -1, 1)).astype(dt, copy=False)


class RoIAlignLinear(Op):
    """``out = A @ input`` for a precomputed sparse RoI matrix ``A`` (attributes: ``mat``,
    ``mat_t`` (its transpose), ``in_shape``, ``out_shape``)."""

    _name = "roi_align"

    def forward(self, x):
        return _apply(xp_of(x), self.mat, x, self.out_shape)

    def backward(self, g):
        return RoIAlignLinear.apply(g, mat=self.mat_t, mat_t=self.mat, in_shape=self.out_shape,
                                    out_shape=self.in_shape)


def roi_align(input: Tensor, boxes, output_size, spatial_scale: float = 1.0,
              sampling_ratio: int = -1, aligned: bool = False) -> Tensor:
    """Performs Region of Interest (RoI) Align operator with average pooling, as described in
    Mask R-CNN.

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
        sampling_ratio (int): number of sampling points in the interpolation grid used to
            compute the output value of each pooled output bin. If > 0, then exactly
            ``sampling_ratio x sampling_ratio`` sampling points per bin are used. If <= 0,
            then an adaptive number of grid points are used (computed as
            ``ceil(roi_width / output_width)``, and likewise for height). Default: -1
        aligned (bool): If False, use the legacy implementation. If True, pixel shift the box
            coordinates it by -0.5 for a better alignment with the two neighboring pixel
            indices. This version is used in Detectron2

    Returns:
        Tensor[K, C, output_size[0], output_size[1]]: The pooled RoIs.

    Differentiable with respect to ``input`` (not ``boxes``), to any order.
    """
    rois = rois_array(input, boxes, "roi_align")
    oh, ow = pair(output_size, "roi_align")
    mat = roi_align_matrix(rois, tuple(input.shape), (oh, ow), spatial_scale,
                           int(sampling_ratio), bool(aligned))
    in_shape = tuple(input.shape)
    out_shape = (rois.shape[0], in_shape[1], oh, ow)
    return RoIAlignLinear.apply(input, mat=mat, mat_t=mat.T.tocsr(), in_shape=in_shape,
                                out_shape=out_shape)


class RoIAlign(nn.Module):
    """See :func:`roi_align`."""

    def __init__(self, output_size, spatial_scale: float, sampling_ratio: int,
                 aligned: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio
        self.aligned = aligned

    def forward(self, input: Tensor, rois) -> Tensor:
        return roi_align(input, rois, self.output_size, self.spatial_scale,
                         self.sampling_ratio, self.aligned)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(output_size={self.output_size}, "
                f"spatial_scale={self.spatial_scale}, sampling_ratio={self.sampling_ratio}, "
                f"aligned={self.aligned})")
