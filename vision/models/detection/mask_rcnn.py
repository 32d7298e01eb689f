"""Mask R-CNN (He et al., 2017, https://arxiv.org/abs/1703.06870): Faster R-CNN plus a
small fully convolutional branch that predicts, for every detected box, an M x M mask per
class. ``MaskRCNN``, its default mask head (``MaskRCNNHeads``) and predictor
(``MaskRCNNPredictor``), and the ``maskrcnn_resnet50_fpn`` / ``maskrcnn_resnet50_fpn_v2``
builders with torchvision's COCO checkpoints."""

from __future__ import annotations

from collections import OrderedDict

from ember import nn

from ...ops.misc import Conv2dNormActivation
from ...ops.poolers import MultiScaleRoIAlign
from ...transforms import _presets
from .._api import Weights, WeightsEnum, register_model
from ..resnet import ResNet50_Weights
from ._meta import _COCO_CATEGORIES
from .faster_rcnn import (
    FasterRCNN,
    _build_resnet50_fpn,
    _legacy_interface,
    _pin_classes,
    _resnet50_fpn_v2_parts,
)

__all__ = ["MaskRCNN", "MaskRCNN_ResNet50_FPN_Weights", "MaskRCNN_ResNet50_FPN_V2_Weights",
           "maskrcnn_resnet50_fpn", "maskrcnn_resnet50_fpn_v2", "MaskRCNNHeads",
           "MaskRCNNPredictor"]

_MASK_POOL_SIZE = 14  # RoI Align output of the mask branch; the predictor doubles it
_MASK_WIDTH = 256  # channels of the default mask head and predictor


def _default_pool() -> MultiScaleRoIAlign:
    return MultiScaleRoIAlign(featmap_names=["0", "1", "2", "3"], output_size=_MASK_POOL_SIZE,
                              sampling_ratio=2)


class MaskRCNN(FasterRCNN):
    """Mask R-CNN: :class:`FasterRCNN` with a mask branch in its ``roi_heads``.

    Inputs are those of :class:`FasterRCNN`; in training mode each target dict also
    holds ``masks``, (N, H, W) uint8 binary masks of its N objects, and the losses gain
    ``loss_mask``. In eval mode each detection dict also holds ``masks``, (N, 1, H, W)
    float probabilities in [0, 1] at input-image size (threshold them, e.g. at 0.5, for
    binary masks).

    ``mask_roi_pool`` (a :class:`MultiScaleRoIAlign`, default 14x14 over maps "0"-"3"),
    ``mask_head`` (default ``MaskRCNNHeads`` of four 256-wide 3x3 convs) and
    ``mask_predictor`` (default ``MaskRCNNPredictor(256, 256, num_classes)``) build the
    branch; give ``num_classes`` or your own ``mask_predictor``, not both. The other
    arguments are :class:`FasterRCNN`'s.
    """

    def __init__(self, backbone, num_classes=None,
                 # resizing / normalisation
                 min_size=800, max_size=1333, image_mean=None, image_std=None,
                 # proposal stage
                 rpn_anchor_generator=None, rpn_head=None, rpn_pre_nms_top_n_train=2000,
                 rpn_pre_nms_top_n_test=1000, rpn_post_nms_top_n_train=2000,
                 rpn_post_nms_top_n_test=1000, rpn_nms_thresh=0.7, rpn_fg_iou_thresh=0.7,
                 rpn_bg_iou_thresh=0.3, rpn_batch_size_per_image=256, rpn_positive_fraction=0.5,
                 rpn_score_thresh=0.0,
                 # box stage
                 box_roi_pool=None, box_head=None, box_predictor=None, box_score_thresh=0.05,
                 box_nms_thresh=0.5, box_detections_per_img=100, box_fg_iou_thresh=0.5,
                 box_bg_iou_thresh=0.5, box_batch_size_per_image=512, box_positive_fraction=0.25,
                 bbox_reg_weights=None,
                 # mask stage
                 mask_roi_pool=None, mask_head=None, mask_predictor=None, **kwargs) -> None:
        if mask_roi_pool is not None and not isinstance(mask_roi_pool, MultiScaleRoIAlign):
            raise TypeError("mask_roi_pool should be of type MultiScaleRoIAlign or None "
                            f"instead of {type(mask_roi_pool)}")
        if num_classes is not None and mask_predictor is not None:
            raise ValueError("num_classes should be None when mask_predictor is specified")
        if not hasattr(backbone, "out_channels"):
            raise ValueError("backbone should contain an attribute out_channels specifying the "
                             "number of output channels (assumed to be the same for all the "
                             "levels)")
        if mask_roi_pool is None:
            mask_roi_pool = _default_pool()
        if mask_head is None:
            mask_head = MaskRCNNHeads(backbone.out_channels, [_MASK_WIDTH] * 4, 1)
        if mask_predictor is None:
            mask_predictor = MaskRCNNPredictor(_MASK_WIDTH, _MASK_WIDTH, num_classes)

        super().__init__(
            backbone, num_classes, min_size, max_size, image_mean, image_std,
            rpn_anchor_generator, rpn_head, rpn_pre_nms_top_n_train, rpn_pre_nms_top_n_test,
            rpn_post_nms_top_n_train, rpn_post_nms_top_n_test, rpn_nms_thresh,
            rpn_fg_iou_thresh, rpn_bg_iou_thresh, rpn_batch_size_per_image,
            rpn_positive_fraction, rpn_score_thresh, box_roi_pool, box_head, box_predictor,
            box_score_thresh, box_nms_thresh, box_detections_per_img, box_fg_iou_thresh,
            box_bg_iou_thresh, box_batch_size_per_image, box_positive_fraction,
            bbox_reg_weights, **kwargs)
        heads = self.roi_heads
        heads.mask_roi_pool = mask_roi_pool
        heads.mask_head = mask_head
        heads.mask_predictor = mask_predictor


def _kaiming_fan_out(module: nn.Module, zero_bias: bool) -> None:
    """Kaiming-normal (fan-out, ReLU gain) weights for every conv / transposed conv in
    ``module``; zero biases when ``zero_bias``."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if zero_bias and m.bias is not None:
                nn.init.zeros_(m.bias)


class MaskRCNNHeads(nn.Sequential):
    """Mask head: one 3x3 ``Conv2dNormActivation`` (conv, optional ``norm_layer``, ReLU)
    per entry of ``layers`` (its output width), with the given ``dilation`` (padding kept
    equal to it, so the spatial size is preserved)."""

    _version = 2

    def __init__(self, in_channels, layers, dilation, norm_layer=None) -> None:
        blocks = []
        width = in_channels
        for out in layers:
            blocks.append(Conv2dNormActivation(width, out, kernel_size=3, stride=1,
                                               padding=dilation, dilation=dilation,
                                               norm_layer=norm_layer))
            width = out
        super().__init__(*blocks)
        _kaiming_fan_out(self, zero_bias=True)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # before version 2 the convs were named mask_fcn1, mask_fcn2, ...
        if (local_metadata.get("version") or 0) < 2:
            for i in range(len(self)):
                for kind in ("weight", "bias"):
                    legacy = f"{prefix}mask_fcn{i + 1}.{kind}"
                    if legacy in state_dict:
                        state_dict[f"{prefix}{i}.0.{kind}"] = state_dict.pop(legacy)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)


class MaskRCNNPredictor(nn.Sequential):
    """Mask predictor: a 2x2 stride-2 transposed conv (``conv5_mask``, to ``dim_reduced``
    channels, doubling the resolution), ReLU, and a 1x1 conv (``mask_fcn_logits``) giving
    one mask logit map per class."""

    def __init__(self, in_channels, dim_reduced, num_classes) -> None:
        super().__init__(OrderedDict([
            ("conv5_mask", nn.ConvTranspose2d(in_channels, dim_reduced, 2, 2, 0)),
            ("relu", nn.ReLU(inplace=True)),
            ("mask_fcn_logits", nn.Conv2d(dim_reduced, num_classes, 1, 1, 0)),
        ]))
        _kaiming_fan_out(self, zero_bias=False)


_MASK_META = {"categories": _COCO_CATEGORIES, "min_size": (1, 1)}


class MaskRCNN_ResNet50_FPN_Weights(WeightsEnum):
    """COCO weights of ``maskrcnn_resnet50_fpn`` (torchvision's published checkpoint)."""

    COCO_V1 = Weights(
        url="https://download.pytorch.org/models/maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth",
        transforms=_presets.ObjectDetection,
        meta={
            **_MASK_META,
            "num_params": 44401393,
            "recipe": "https://github.com/pytorch/vision/tree/main/references/detection"
                      "#mask-r-cnn",
            "_metrics": {"COCO-val2017": {"box_map": 37.9, "mask_map": 34.6}},
            "_ops": 134.38,
            "_file_size": 169.84,
            "_docs": "These weights were produced by following a similar training recipe as "
                     "on the paper.",
        },
    )
    DEFAULT = COCO_V1


class MaskRCNN_ResNet50_FPN_V2_Weights(WeightsEnum):
    """COCO weights of ``maskrcnn_resnet50_fpn_v2`` (torchvision's published checkpoint)."""

    COCO_V1 = Weights(
        url="https://download.pytorch.org/models/maskrcnn_resnet50_fpn_v2_coco-73cbd019.pth",
        transforms=_presets.ObjectDetection,
        meta={
            **_MASK_META,
            "num_params": 46359409,
            "recipe": "https://github.com/pytorch/vision/pull/5773",
            "_metrics": {"COCO-val2017": {"box_map": 47.4, "mask_map": 41.8}},
            "_ops": 333.577,
            "_file_size": 177.219,
            "_docs": "These weights were produced using an enhanced training recipe to boost "
                     "the model accuracy.",
        },
    )
    DEFAULT = COCO_V1


@register_model()
@_legacy_interface(MaskRCNN_ResNet50_FPN_Weights,
                   lambda flag: MaskRCNN_ResNet50_FPN_Weights.COCO_V1)
def maskrcnn_resnet50_fpn(*, weights=None, progress=True, num_classes=None,
                          weights_backbone=ResNet50_Weights.IMAGENET1K_V1,
                          trainable_backbone_layers=None, **kwargs) -> MaskRCNN:
    """Mask R-CNN with a ResNet-50 + FPN backbone (arXiv:1703.06870).

    ``weights``: a :class:`MaskRCNN_ResNet50_FPN_Weights` (COCO, 91 classes) or None.
    ``weights_backbone`` defaults, as in torchvision, to ImageNet ResNet-50 weights
    (downloaded on first use); pass None for a fully random model. Without any pretrained
    weights the backbone uses ``nn.BatchNorm2d`` and trains all 5 stages; otherwise
    ``FrozenBatchNorm2d`` and ``trainable_backbone_layers`` stages (default 3). Other
    keyword arguments go to :class:`MaskRCNN`; see it for inputs and outputs.
    """
    weights = MaskRCNN_ResNet50_FPN_Weights.verify(weights)
    weights_backbone, num_classes = _pin_classes(
        weights, ResNet50_Weights.verify(weights_backbone), num_classes)
    return _build_resnet50_fpn(MaskRCNN, weights, weights_backbone, trainable_backbone_layers,
                               progress, MaskRCNN_ResNet50_FPN_Weights.COCO_V1,
                               num_classes=num_classes, **kwargs)


@register_model()
@_legacy_interface(MaskRCNN_ResNet50_FPN_V2_Weights,
                   lambda flag: MaskRCNN_ResNet50_FPN_V2_Weights.COCO_V1)
def maskrcnn_resnet50_fpn_v2(*, weights=None, progress=True, num_classes=None,
                             weights_backbone=None, trainable_backbone_layers=None,
                             **kwargs) -> MaskRCNN:
    """Mask R-CNN with a ResNet-50 + FPN backbone, improved recipe (arXiv:2111.11429):
    batch norm in the FPN, box head and mask head, a two-conv RPN head and a 4-conv + 1-fc
    box head.

    ``weights``: a :class:`MaskRCNN_ResNet50_FPN_V2_Weights` (COCO, 91 classes) or None;
    ``weights_backbone`` (default None) optional ImageNet ResNet-50 weights;
    ``trainable_backbone_layers`` (0-5) defaults to 3 with pretrained weights, else 5.
    Other keyword arguments go to :class:`MaskRCNN`.
    """
    weights = MaskRCNN_ResNet50_FPN_V2_Weights.verify(weights)
    weights_backbone, num_classes = _pin_classes(
        weights, ResNet50_Weights.verify(weights_backbone), num_classes)
    backbone, parts = _resnet50_fpn_v2_parts(weights, weights_backbone,
                                             trainable_backbone_layers, progress)
    mask_head = MaskRCNNHeads(backbone.out_channels, [_MASK_WIDTH] * 4, 1,
                              norm_layer=nn.BatchNorm2d)
    model = MaskRCNN(backbone, num_classes=num_classes, mask_head=mask_head, **parts,
                     **kwargs)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model
