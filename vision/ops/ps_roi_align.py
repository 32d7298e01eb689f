"""Position-sensitive RoI Align (R-FCN / Light-Head R-CNN), as
``torchvision.ops.ps_roi_align``.

The sampling is RoI Align's with ``aligned=True`` (a -0.5 pixel shift and no minimum RoI
size), so the sparse matrix of :func:`.roi_align.roi_align_matrix` gives every bin's average;
bin (i, j) of output channel c reads input channel ``(c * PH + i) * PW + j`` only, which
:mod:`._position_sensitive` turns into one sparse product over exactly those values.
"""

from __future__ import annotations

import numpy as np
from ember import Tensor, nn

from ._position_sensitive import ps_roi_apply
from ._utils import pair, rois_array, xp_of
from .roi_align import roi_align_matrix

__all__ = ["ps_roi_align", "PSRoIAlign"]


def _empty_grid(rois, output_size, spatial_scale: float, sampling_ratio: int):
    """(K,) bool: RoIs whose adaptive sampling grid has no point (torchvision divides their
    zero sum by a zero count: NaN)."""
    xp = xp_of(rois)
    if sampling_ratio > 0 or rois.shape[0] == 0:
        return None
    dt = rois.dtype if rois.dtype.kind == "f" and rois.dtype.itemsize >= 4 else np.dtype("f4")
    r = rois.astype(dt)
    scale, half = dt.type(spatial_scale), dt.type(0.5)
    roi_w = (r[:, 3] * scale - half) - (r[:, 1] * scale - half)
    roi_h = (r[:, 4] * scale - half) - (r[:, 2] * scale - half)
    gh = xp.ceil(roi_h / dt.type(output_size[0])).astype(np.int64)
    gw = xp.ceil(roi_w / dt.type(output_size[1])).astype(np.int64)
    empty = gh * gw == 0
    return empty if bool(empty.any()) else None


def ps_roi_align(input: Tensor, boxes, output_size, spatial_scale: float = 1.0,
                 sampling_ratio: int = -1) -> Tensor:
    """Performs Position-Sensitive Region of Interest (RoI) Align operator mentioned in
    Light-Head R-CNN.

    Args:
        input (Tensor[N, C, H, W]): The input tensor, i.e. a batch with ``N`` elements. Each
            element contains ``C`` feature maps of dimensions ``H x W``.
        boxes (Tensor[K, 5] or List[Tensor[L, 4]]): the box coordinates in (x1, y1, x2, y2)
            format where the regions will be taken from (see :func:`roi_align`).
        output_size (int or Tuple[int, int]): the size of the output (in bins or pixels)
            after the pooling is performed, as (height, width).
        spatial_scale (float): a scaling factor that maps the box coordinates to the input
            coordinates. Default: 1.0
        sampling_ratio (int): number of sampling points in the interpolation grid used to
            compute the output value of each pooled output bin (see :func:`roi_align`).
            Default: -1

    Returns:
        Tensor[K, C / (output_size[0] * output_size[1]), output_size[0], output_size[1]]: The
        pooled RoIs

    With ``sampling_ratio <= 0``, a RoI so thin that its adaptive grid has no sampling point
    gives NaN, as torchvision's kernel (0 / 0). Differentiable in ``input``, to any order.
    """
    rois = rois_array(input, boxes, "ps_roi_align")
    ph, pw = pair(output_size, "ps_roi_align")
    c = input.shape[1]
    if c % (ph * pw) != 0:
        raise RuntimeError("ps_roi_align: input channels must be a multiple of pooling height "
                           f"* pooling width, got {c} channels and output_size {(ph, pw)}")
    mat = roi_align_matrix(rois, tuple(input.shape), (ph, pw), spatial_scale,
                           int(sampling_ratio), True)
    out = ps_roi_apply(input, mat, (ph, pw))  # (K, C / (PH*PW), PH, PW)
    empty = _empty_grid(rois, (ph, pw), spatial_scale, int(sampling_ratio))
    if empty is not None:  # as torchvision: 0 / 0 for a RoI without sampling points
        xp = xp_of(rois)
        nan = xp.where(empty, np.nan, 0.0).astype(out._data.dtype).reshape(-1, 1, 1, 1)
        out = out + Tensor._make(nan, False, None, 0)
    return out


class PSRoIAlign(nn.Module):
    """See :func:`ps_roi_align`."""

    def __init__(self, output_size, spatial_scale: float, sampling_ratio: int) -> None:
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio

    def forward(self, input: Tensor, rois) -> Tensor:
        return ps_roi_align(input, rois, self.output_size, self.spatial_scale,
                            self.sampling_ratio)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(output_size={self.output_size}, "
                f"spatial_scale={self.spatial_scale}, sampling_ratio={self.sampling_ratio})")
