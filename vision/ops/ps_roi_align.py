"""Position-sensitive RoI Align (R-FCN / Light-Head R-CNN), as
``torchvision.ops.ps_roi_align``.

The sampling is RoI Align's with ``aligned=True`` (a -0.5 pixel shift and no minimum RoI
size), so the same sparse matrix ``A`` (see :mod:`.roi_align`) gives every bin's average for
every channel; bin (i, j) of output channel c then keeps input channel
``(c * PH + i) * PW + j``. The backward scatters the gradient into those channels and applies
``A``'s transpose.
"""

from __future__ import annotations

from ember import Tensor, nn
from ember.ops.op import Op

from ._utils import pair, rois_array, xp_of
from .roi_align import roi_align_matrix

__all__ = ["ps_roi_align", "PSRoIAlign"]


def _channel_index(xp, c_out, ph, pw):
    """(C_out, PH, PW) input channel of each output channel and bin."""
    c = xp.arange(c_out)[:, None, None]
    i = xp.arange(ph)[None, :, None]
    j = xp.arange(pw)[None, None, :]
    return (c * ph + i) * pw + j


class PSRoIAlignOp(Op):
    _name = "ps_roi_align"

    def forward(self, x):
        xp = xp_of(x)
        n, c, h, w = x.shape
        k = self.k
        ph, pw = self.out_hw
        x2 = xp.ascontiguousarray(xp.moveaxis(x, 1, -1).reshape(-1, c))
        y = xp.asarray(self.mat @ x2).reshape(k, ph, pw, c)  # every bin, every channel
        ch = _channel_index(xp, c // (ph * pw), ph, pw)  # (C_out, PH, PW)
        bins_i = xp.arange(ph)[None, :, None]
        bins_j = xp.arange(pw)[None, None, :]
        out = y[:, bins_i, bins_j, ch]  # (K, C_out, PH, PW)
        return xp.ascontiguousarray(out).astype(x.dtype, copy=False)

    def backward(self, g):
        return PSRoIAlignBackward.apply(g, mat=self.mat, in_shape=self.in_shape,
                                        out_hw=self.out_hw, k=self.k)


class PSRoIAlignBackward(Op):
    _name = "ps_roi_align_backward"

    def forward(self, g):
        xp = xp_of(g)
        n, c, h, w = self.in_shape
        ph, pw = self.out_hw
        full = xp.zeros((self.k, ph, pw, c), dtype=g.dtype)
        ch = _channel_index(xp, c // (ph * pw), ph, pw)
        bins_i = xp.arange(ph)[None, :, None]
        bins_j = xp.arange(pw)[None, None, :]
        full[:, bins_i, bins_j, ch] = g
        gx = xp.asarray(self.mat.T @ full.reshape(-1, c)).reshape(n, h, w, c)
        return xp.ascontiguousarray(xp.moveaxis(gx, -1, 1)).astype(g.dtype, copy=False)

    def backward(self, gg):
        return PSRoIAlignOp.apply(gg, mat=self.mat, in_shape=self.in_shape, out_hw=self.out_hw,
                                  k=self.k)


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
    """
    rois = rois_array(input, boxes, "ps_roi_align")
    ph, pw = pair(output_size, "ps_roi_align")
    c = input.shape[1]
    if c % (ph * pw) != 0:
        raise RuntimeError("ps_roi_align: input channels must be a multiple of pooling height "
                           f"* pooling width, got {c} channels and output_size {(ph, pw)}")
    mat = roi_align_matrix(rois, tuple(input.shape), (ph, pw), spatial_scale,
                           int(sampling_ratio), True)
    return PSRoIAlignOp.apply(input, mat=mat, in_shape=tuple(input.shape), out_hw=(ph, pw),
                              k=rois.shape[0])


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
