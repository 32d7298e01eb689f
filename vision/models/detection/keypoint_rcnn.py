"""Keypoint R-CNN (the keypoint variant of Mask R-CNN, He et al., 2017,
https://arxiv.org/abs/1703.06870): Faster R-CNN plus a branch that predicts one heatmap
per keypoint for every detected box. ``KeypointRCNN``, its default head
(``KeypointRCNNHeads``) and predictor (``KeypointRCNNPredictor``), and the
``keypointrcnn_resnet50_fpn`` builder with torchvision's COCO person-keypoint
checkpoints."""

from __future__ import annotations

from ember import nn
from ember.nn import functional as F

from ...ops.poolers import MultiScaleRoIAlign
from ...transforms import _presets
from .._api import Weights, WeightsEnum, register_model
from ..resnet import ResNet50_Weights
from .faster_rcnn import FasterRCNN, _build_resnet50_fpn, _legacy_interface, _pin_classes

__all__ = ["KeypointRCNN", "KeypointRCNN_ResNet50_FPN_Weights", "keypointrcnn_resnet50_fpn",
           "KeypointRCNNHeads", "KeypointRCNNPredictor"]

_COCO_PERSON_CATEGORIES = ["no person", "person"]
_COCO_PERSON_KEYPOINT_NAMES = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
]
# training sizes of the short side: one is drawn per image
_KEYPOINT_MIN_SIZES = (640, 672, 704, 736, 768, 800)
_HEAD_WIDTH = 512
_HEAD_DEPTH = 8
_DEFAULT_KEYPOINTS = 17


class KeypointRCNN(FasterRCNN):
    """Keypoint R-CNN: :class:`FasterRCNN` with a keypoint branch in its ``roi_heads``.

    Inputs are those of :class:`FasterRCNN`; in training mode each target dict also
    holds ``keypoints``, (N, K, 3) float32 ``[x, y, visibility]`` rows (visibility 0 marks a
    keypoint that is not labelled), and the losses gain ``loss_keypoint``. In eval mode
    each detection dict also holds ``keypoints`` (N, K, 3: x, y, 1, in input-image
    coordinates) and ``keypoints_scores`` (N, K).

    ``min_size`` defaults to (640, 672, 704, 736, 768, 800) (one drawn per training image;
    evaluation uses the last). ``keypoint_roi_pool`` (a :class:`MultiScaleRoIAlign`,
    default 14x14 over maps "0"-"3"), ``keypoint_head`` (default eight 512-wide 3x3 convs)
    and ``keypoint_predictor`` (default ``KeypointRCNNPredictor(512, num_keypoints)``,
    ``num_keypoints`` defaulting to 17) build the branch; give ``num_keypoints`` or your
    own ``keypoint_predictor``, not both. The other arguments are :class:`FasterRCNN`'s.
    """

    def __init__(self, backbone, num_classes=None,
                 # resizing / normalisation
                 min_size=None, max_size=1333, image_mean=None, image_std=None,
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
                 # keypoint stage
                 keypoint_roi_pool=None, keypoint_head=None, keypoint_predictor=None,
                 num_keypoints=None, **kwargs) -> None:
        if keypoint_roi_pool is not None and not isinstance(keypoint_roi_pool,
                                                            MultiScaleRoIAlign):
            raise TypeError("keypoint_roi_pool should be of type MultiScaleRoIAlign or None "
                            f"instead of {type(keypoint_roi_pool)}")
        if num_keypoints is not None and keypoint_predictor is not None:
            raise ValueError("num_keypoints should be None when keypoint_predictor is "
                             "specified")
        if not hasattr(backbone, "out_channels"):
            raise ValueError("backbone should contain an attribute out_channels specifying the "
                             "number of output channels (assumed to be the same for all the "
                             "levels)")
        if min_size is None:
            min_size = _KEYPOINT_MIN_SIZES
        if keypoint_roi_pool is None:
            keypoint_roi_pool = MultiScaleRoIAlign(featmap_names=["0", "1", "2", "3"],
                                                   output_size=14, sampling_ratio=2)
        if keypoint_head is None:
            keypoint_head = KeypointRCNNHeads(backbone.out_channels,
                                              [_HEAD_WIDTH] * _HEAD_DEPTH)
        if keypoint_predictor is None:
            keypoint_predictor = KeypointRCNNPredictor(
                _HEAD_WIDTH, _DEFAULT_KEYPOINTS if num_keypoints is None else num_keypoints)

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
        heads.keypoint_roi_pool = keypoint_roi_pool
        heads.keypoint_head = keypoint_head
        heads.keypoint_predictor = keypoint_predictor


class KeypointRCNNHeads(nn.Sequential):
    """Keypoint head: a 3x3 conv (padding 1) and a ReLU per entry of ``layers`` (its
    output width), as a flat sequence (convs at even indices). Convs start from Kaiming
    normal weights (fan-out) and zero biases."""

    def __init__(self, in_channels, layers) -> None:
        blocks: list[nn.Module] = []
        width = in_channels
        for out in layers:
            blocks += [nn.Conv2d(width, out, 3, stride=1, padding=1), nn.ReLU(inplace=True)]
            width = out
        super().__init__(*blocks)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)


class KeypointRCNNPredictor(nn.Module):
    """Keypoint predictor: a 4x4 stride-2 transposed conv (``kps_score_lowres``, padding
    1) to ``num_keypoints`` heatmaps at twice the input resolution, then a bilinear 2x
    upsampling (``up_scale``) - 14x14 pooled features give 56x56 heatmaps."""

    def __init__(self, in_channels, num_keypoints) -> None:
        super().__init__()
        kernel = 4
        self.kps_score_lowres = nn.ConvTranspose2d(in_channels, num_keypoints, kernel,
                                                   stride=2, padding=kernel // 2 - 1)
        nn.init.kaiming_normal_(self.kps_score_lowres.weight, mode="fan_out",
                                nonlinearity="relu")
        nn.init.zeros_(self.kps_score_lowres.bias)
        self.up_scale = 2
        self.out_channels = num_keypoints

    def forward(self, x):
        low = self.kps_score_lowres(x)
        return F.interpolate(low, scale_factor=float(self.up_scale), mode="bilinear",
                             align_corners=False, recompute_scale_factor=False)


_KEYPOINT_META = {
    "categories": _COCO_PERSON_CATEGORIES,
    "keypoint_names": _COCO_PERSON_KEYPOINT_NAMES,
    "min_size": (1, 1),
}


class KeypointRCNN_ResNet50_FPN_Weights(WeightsEnum):
    """COCO person-keypoint weights of ``keypointrcnn_resnet50_fpn``: ``COCO_V1`` (the
    default) and the early-epoch ``COCO_LEGACY`` checkpoint."""

    COCO_LEGACY = Weights(
        url="https://download.pytorch.org/models/keypointrcnn_resnet50_fpn_coco-9f466800.pth",
        transforms=_presets.ObjectDetection,
        meta={
            **_KEYPOINT_META,
            "num_params": 59137258,
            "recipe": "https://github.com/pytorch/vision/issues/1606",
            "_metrics": {"COCO-val2017": {"box_map": 50.6, "kp_map": 61.1}},
            "_ops": 133.924,
            "_file_size": 226.054,
            "_docs": """
                These weights were produced by following a similar training recipe as on the paper but use a checkpoint
                from an early epoch.
            """,  # noqa: E501  (torchvision's text, indentation included)
        },
    )
    COCO_V1 = Weights(
        url="https://download.pytorch.org/models/keypointrcnn_resnet50_fpn_coco-fc266e95.pth",
        transforms=_presets.ObjectDetection,
        meta={
            **_KEYPOINT_META,
            "num_params": 59137258,
            "recipe": "https://github.com/pytorch/vision/tree/main/references/detection"
                      "#keypoint-r-cnn",
            "_metrics": {"COCO-val2017": {"box_map": 54.6, "kp_map": 65.0}},
            "_ops": 137.42,
            "_file_size": 226.054,
            "_docs": "These weights were produced by following a similar training recipe as "
                     "on the paper.",
        },
    )
    DEFAULT = COCO_V1


@register_model()
@_legacy_interface(
    KeypointRCNN_ResNet50_FPN_Weights,
    lambda flag: (KeypointRCNN_ResNet50_FPN_Weights.COCO_LEGACY if flag == "legacy"
                  else KeypointRCNN_ResNet50_FPN_Weights.COCO_V1))
def keypointrcnn_resnet50_fpn(*, weights=None, progress=True, num_classes=None,
                              num_keypoints=None,
                              weights_backbone=ResNet50_Weights.IMAGENET1K_V1,
                              trainable_backbone_layers=None, **kwargs) -> KeypointRCNN:
    """Keypoint R-CNN with a ResNet-50 + FPN backbone (arXiv:1703.06870).

    ``weights``: a :class:`KeypointRCNN_ResNet50_FPN_Weights` (COCO persons: 2 classes,
    17 keypoints) or None; the deprecated ``pretrained="legacy"`` selects ``COCO_LEGACY``.
    Without weights, ``num_classes`` defaults to 2 and ``num_keypoints`` to 17.
    ``weights_backbone`` defaults, as in torchvision, to ImageNet ResNet-50 weights
    (downloaded on first use); pass None for a fully random model. Without any pretrained
    weights the backbone uses ``nn.BatchNorm2d`` and trains all 5 stages; otherwise
    ``FrozenBatchNorm2d`` and ``trainable_backbone_layers`` stages (default 3). Other
    keyword arguments go to :class:`KeypointRCNN`; see it for inputs and outputs.
    """
    weights = KeypointRCNN_ResNet50_FPN_Weights.verify(weights)
    weights_backbone, num_classes = _pin_classes(
        weights, ResNet50_Weights.verify(weights_backbone), num_classes, default_classes=2)
    _, num_keypoints = _pin_classes(weights, None, num_keypoints,
                                    default_classes=_DEFAULT_KEYPOINTS, name="num_keypoints",
                                    meta_key="keypoint_names")
    return _build_resnet50_fpn(KeypointRCNN, weights, weights_backbone,
                               trainable_backbone_layers, progress,
                               KeypointRCNN_ResNet50_FPN_Weights.COCO_V1,
                               num_classes=num_classes, num_keypoints=num_keypoints, **kwargs)
