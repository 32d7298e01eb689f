"""Multi-scale RoI Align for feature pyramids, as ``torchvision.ops.MultiScaleRoIAlign``."""

from __future__ import annotations

import math

import ember
import numpy as np
from ember import Tensor, nn

from ._utils import convert_boxes_to_roi_format
from .boxes import box_area
from .roi_align import roi_align

__all__ = ["MultiScaleRoIAlign", "LevelMapper", "initLevelMapper"]


class LevelMapper:
    """Determine which FPN level each RoI in a set of RoIs should map to based on the
    heuristic in the FPN paper (eq. 1).

    Args:
        k_min (int): finest level of the pyramid
        k_max (int): coarsest level of the pyramid
        canonical_scale (int): canonical box size (default 224)
        canonical_level (int): canonical pyramid level (default 4)
        eps (float): small number to keep the logarithm defined
    """

    def __init__(self, k_min: int, k_max: int, canonical_scale: int = 224,
                 canonical_level: int = 4, eps: float = 1e-6) -> None:
        self.k_min = k_min
        self.k_max = k_max
        self.s0 = canonical_scale
        self.lvl0 = canonical_level
        self.eps = eps

    def __call__(self, boxlists: list[Tensor]) -> Tensor:
        s = ember.sqrt(ember.cat([box_area(boxlist) for boxlist in boxlists]))
        target_lvls = ember.floor(self.lvl0 + ember.log2(s / self.s0)
                                  + ember.tensor(self.eps, dtype=s.dtype))
        target_lvls = ember.clamp(target_lvls, min=self.k_min, max=self.k_max)
        return target_lvls.to(ember.int64) - self.k_min


def initLevelMapper(k_min: int, k_max: int, canonical_scale: int = 224,
                    canonical_level: int = 4, eps: float = 1e-6) -> LevelMapper:
    """A :class:`LevelMapper` (torchvision's factory name)."""
    return LevelMapper(k_min, k_max, canonical_scale, canonical_level, eps)


def _infer_scale(feature: Tensor, original_size) -> float:
    # assumption: the scale is of the form 2 ** (-k), with k integer
    size = feature.shape[-2:]
    possible_scales = []
    for s1, s2 in zip(size, original_size):
        approx_scale = float(s1) / float(s2)
        scale = 2 ** float(np.round(np.log2(np.float32(approx_scale))))
        possible_scales.append(scale)
    return possible_scales[0]


def _setup_scales(features, image_shapes, canonical_scale, canonical_level):
    if not image_shapes:
        raise ValueError("images list should not be empty")
    max_x = max(s[0] for s in image_shapes)
    max_y = max(s[1] for s in image_shapes)
    scales = [_infer_scale(feat, (max_x, max_y)) for feat in features]
    # get the levels in the feature map by leveraging the fact that the network always
    # downsamples by a factor of 2 at each level.
    lvl_min = -math.log2(scales[0])
    lvl_max = -math.log2(scales[-1])
    mapper = initLevelMapper(int(lvl_min), int(lvl_max), canonical_scale=canonical_scale,
                             canonical_level=canonical_level)
    return scales, mapper


class MultiScaleRoIAlign(nn.Module):
    """Multi-scale RoIAlign pooling, which is useful for detection with or without FPN.

    It infers the scale of the pooling via the heuristics specified in eq. 1 of the
    `Feature Pyramid Network paper <https://arxiv.org/abs/1612.03144>`_. They keyword-only
    parameters ``canonical_scale`` and ``canonical_level`` correspond respectively to
    ``224`` and ``k0=4`` in eq. 1, and have the following meaning: ``canonical_level`` is
    the target level of the pyramid from which to pool a region of interest with
    ``w x h = canonical_scale x canonical_scale``.

    Args:
        featmap_names (List[str]): the names of the feature maps that will be used for the
            pooling.
        output_size (List[Tuple[int, int]] or List[int]): output size for the pooled region
        sampling_ratio (int): sampling ratio for ROIAlign
        canonical_scale (int, optional): canonical_scale for LevelMapper
        canonical_level (int, optional): canonical_level for LevelMapper

    Examples::

        >>> m = ember.vision.ops.MultiScaleRoIAlign(['feat1', 'feat3'], 3, 2)
        >>> i = OrderedDict()
        >>> i['feat1'] = ember.rand(1, 5, 64, 64)
        >>> i['feat2'] = ember.rand(1, 5, 32, 32)  # this feature won't be used in the pooling
        >>> i['feat3'] = ember.rand(1, 5, 16, 16)
        >>> boxes = ember.rand(6, 4) * 256; boxes[:, 2:] += boxes[:, :2]
        >>> image_sizes = [(512, 512)]
        >>> output = m(i, [boxes], image_sizes)
        >>> print(output.shape)
        ember.Size([6, 5, 3, 3])
    """

    def __init__(self, featmap_names: list[str], output_size, sampling_ratio: int, *,
                 canonical_scale: int = 224, canonical_level: int = 4) -> None:
        super().__init__()
        if isinstance(output_size, int):
            output_size = (output_size, output_size)
        self.featmap_names = featmap_names
        self.sampling_ratio = sampling_ratio
        self.output_size = tuple(output_size)
        self.scales = None
        self.map_levels = None
        self.canonical_scale = canonical_scale
        self.canonical_level = canonical_level

    def forward(self, x: dict[str, Tensor], boxes: list[Tensor],
                image_shapes: list[tuple[int, int]]) -> Tensor:
        """
        Args:
            x (OrderedDict[Tensor]): feature maps for each level. They are assumed to have
                all the same number of channels, but they can have different sizes.
            boxes (List[Tensor[N, 4]]): boxes to be used to perform the pooling operation,
                in (x1, y1, x2, y2) format and in the image reference size, not the
                feature map reference. The coordinate must satisfy
                ``0 <= x1 < x2`` and ``0 <= y1 < y2``.
            image_shapes (List[Tuple[height, width]]): the sizes of each image before they
                have been fed to a CNN to obtain feature maps. This allows us to infer the
                scale factor for each one of the levels to be pooled.
        Returns:
            result (Tensor)
        """
        x_filtered = [v for k, v in x.items() if k in self.featmap_names]
        if self.scales is None or self.map_levels is None:
            self.scales, self.map_levels = _setup_scales(
                x_filtered, image_shapes, self.canonical_scale, self.canonical_level)
        return _multiscale_roi_align(x_filtered, boxes, self.output_size, self.sampling_ratio,
                                     self.scales, self.map_levels)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(featmap_names={self.featmap_names}, "
                f"output_size={self.output_size}, sampling_ratio={self.sampling_ratio})")


def _multiscale_roi_align(x_filtered, boxes, output_size, sampling_ratio, scales, mapper):
    rois = convert_boxes_to_roi_format(boxes)
    if len(x_filtered) == 1:
        return roi_align(x_filtered[0], rois, output_size=output_size,
                         spatial_scale=scales[0], sampling_ratio=sampling_ratio)
    levels = mapper(boxes).cpu().numpy()
    outs, order = [], []
    for level, (feature, scale) in enumerate(zip(x_filtered, scales)):
        idx = np.nonzero(levels == level)[0]
        if idx.size == 0:
            continue
        sel = ember.tensor(idx, device=rois.device)
        outs.append(roi_align(feature, rois[sel], output_size=output_size,
                              spatial_scale=scale, sampling_ratio=sampling_ratio)
                    .to(x_filtered[0].dtype))
        order.append(idx)
    if not outs:  # no RoIs at all
        c = x_filtered[0].shape[1]
        return ember.zeros((0, c) + tuple(output_size), dtype=x_filtered[0].dtype,
                           device=x_filtered[0].device)
    inverse = np.argsort(np.concatenate(order), kind="stable")
    return ember.cat(outs, dim=0)[ember.tensor(inverse, device=rois.device)]
