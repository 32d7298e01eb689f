"""ember.vision.ops: operators for computer vision, as ``torchvision.ops``.

Box utilities and IoU variants, NMS, RoI Align / RoI Pool (and their position-sensitive
forms), multi-scale RoI Align, deformable convolution, DropBlock, the Feature Pyramid
Network, detection losses and the small layers the models share.
"""

from .boxes import (
    batched_nms,
    box_area,
    box_convert,
    box_iou,
    clip_boxes_to_image,
    complete_box_iou,
    distance_box_iou,
    generalized_box_iou,
    masks_to_boxes,
    nms,
    remove_small_boxes,
)
from .deform_conv import DeformConv2d, deform_conv2d
from .drop_block import DropBlock2d, DropBlock3d, drop_block2d, drop_block3d
from .feature_pyramid_network import FeaturePyramidNetwork
from .losses import (
    complete_box_iou_loss,
    distance_box_iou_loss,
    generalized_box_iou_loss,
    sigmoid_focal_loss,
)
from .misc import (
    MLP,
    Conv2dNormActivation,
    Conv3dNormActivation,
    FrozenBatchNorm2d,
    Permute,
    SqueezeExcitation,
)
from .poolers import MultiScaleRoIAlign
from .ps_roi_align import PSRoIAlign, ps_roi_align
from .ps_roi_pool import PSRoIPool, ps_roi_pool
from .roi_align import RoIAlign, roi_align
from .roi_pool import RoIPool, roi_pool
from .stochastic_depth import StochasticDepth, stochastic_depth

__all__ = [
    "masks_to_boxes", "box_convert", "box_area", "box_iou", "generalized_box_iou",
    "distance_box_iou", "complete_box_iou", "clip_boxes_to_image", "remove_small_boxes",
    "nms", "batched_nms", "roi_align", "RoIAlign", "roi_pool", "RoIPool", "ps_roi_align",
    "PSRoIAlign", "ps_roi_pool", "PSRoIPool", "deform_conv2d", "DeformConv2d",
    "MultiScaleRoIAlign", "FeaturePyramidNetwork", "sigmoid_focal_loss",
    "generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss",
    "FrozenBatchNorm2d", "Conv2dNormActivation", "Conv3dNormActivation",
    "SqueezeExcitation", "MLP", "Permute", "StochasticDepth", "stochastic_depth",
    "DropBlock2d", "drop_block2d", "DropBlock3d", "drop_block3d",
]
