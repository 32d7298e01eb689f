"""RetinaNet (Lin et al., 2017, "Focal Loss for Dense Object Detection",
https://arxiv.org/abs/1708.02002): the ``RetinaNet`` detector, its ``RetinaNetHead`` (a
classification and a box-regression sub-network shared by all pyramid levels) and the
``retinanet_resnet50_fpn`` / ``retinanet_resnet50_fpn_v2`` builders with torchvision's COCO
checkpoints."""

from __future__ import annotations

import math
from functools import partial

import ember
from ember import Tensor, nn

from ...ops import boxes as box_ops
from ...ops.feature_pyramid_network import LastLevelP6P7
from ...ops.losses import sigmoid_focal_loss
from ...ops.misc import Conv2dNormActivation, FrozenBatchNorm2d
from ...transforms import _presets
from .._api import Weights, WeightsEnum, register_model
from ..resnet import ResNet50_Weights, resnet50
from . import _utils as det_utils
from ._dense import flatten_level, level_detections, merge_detections, prepare_inputs
from ._meta import _COCO_CATEGORIES
from .anchor_utils import AnchorGenerator
from .backbone_utils import _resnet_fpn_extractor, _validate_trainable_layers
from .faster_rcnn import _legacy_interface, _pin_classes
from .transform import GeneralizedRCNNTransform

__all__ = ["RetinaNet", "RetinaNetHead", "RetinaNetClassificationHead",
           "RetinaNetRegressionHead", "RetinaNet_ResNet50_FPN_Weights",
           "RetinaNet_ResNet50_FPN_V2_Weights", "retinanet_resnet50_fpn",
           "retinanet_resnet50_fpn_v2"]

_IMAGENET_MEAN = [0.485, 0.456, 0.406]
_IMAGENET_STD = [0.229, 0.224, 0.225]


def _default_anchorgen() -> AnchorGenerator:
    """Three octave scales (2^0, 2^1/3, 2^2/3, truncated to integers) of the base sizes
    32-512 of P3-P7, and the aspect ratios 1:2, 1:1, 2:1 on every level."""
    sizes = tuple(tuple(int(base * 2.0 ** (octave / 3.0)) for octave in range(3))
                  for base in (32, 64, 128, 256, 512))
    return AnchorGenerator(sizes, ((0.5, 1.0, 2.0),) * len(sizes))


def _conv_tower(in_channels: int, norm_layer) -> nn.Sequential:
    """Four 3x3 conv (+ norm) + ReLU blocks of constant width."""
    return nn.Sequential(*(Conv2dNormActivation(in_channels, in_channels, norm_layer=norm_layer)
                           for _ in range(4)))


def _init_tower(tower: nn.Module) -> None:
    for m in tower.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.weight, std=0.01)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)


def _rename_v1_tower_keys(state_dict, prefix: str, local_metadata) -> None:
    """Checkpoints of version < 2 stored the tower's convolutions as ``conv.<i>.*``."""
    if (local_metadata.get("version") or 0) >= 2:
        return
    for i in range(4):
        for kind in ("weight", "bias"):
            old = f"{prefix}conv.{i}.{kind}"
            if old in state_dict:
                state_dict[f"{prefix}conv.{i}.0.{kind}"] = state_dict.pop(old)


class RetinaNetClassificationHead(nn.Module):
    """A classification head for use in RetinaNet.

    A four-layer conv tower (``norm_layer`` optional) and a 3x3 ``cls_logits`` conv giving
    ``num_classes`` logits for each of the ``num_anchors`` anchors of a cell; its bias starts
    at ``-log((1 - prior_probability) / prior_probability)``, so that every anchor starts
    out as foreground with probability ``prior_probability``.
    """

    _version = 2

    def __init__(self, in_channels: int, num_anchors: int, num_classes: int,
                 prior_probability: float = 0.01, norm_layer=None) -> None:
        super().__init__()
        self.conv = _conv_tower(in_channels, norm_layer)
        _init_tower(self.conv)
        self.cls_logits = nn.Conv2d(in_channels, num_anchors * num_classes, 3, padding=1)
        nn.init.normal_(self.cls_logits.weight, std=0.01)
        nn.init.constant_(self.cls_logits.bias,
                          -math.log((1 - prior_probability) / prior_probability))
        self.num_classes = num_classes
        self.num_anchors = num_anchors
        # kept from torchvision: the matcher's "between thresholds" label
        self.BETWEEN_THRESHOLDS = det_utils.Matcher.BETWEEN_THRESHOLDS

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        _rename_v1_tower_keys(state_dict, prefix, local_metadata)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)

    def compute_loss(self, targets, head_outputs, matched_idxs) -> Tensor:
        """Sigmoid focal loss over the anchors not ignored by the matcher, summed per image
        and divided by its number of foreground anchors (at least 1), averaged over the
        batch."""
        logits = head_outputs["cls_logits"]
        per_image = []
        for tgt, logit, matched in zip(targets, logits, matched_idxs):
            fg = matched >= 0
            n_fg = int(fg.sum())
            onehot = ember.zeros_like(logit)
            rows = ember.where(fg)[0]
            onehot[rows, tgt["labels"][matched[rows]]] = 1.0
            counted = matched != self.BETWEEN_THRESHOLDS
            loss = sigmoid_focal_loss(logit[counted], onehot[counted], reduction="sum")
            per_image.append(loss / max(1, n_fg))
        return sum(per_image) / len(targets)

    def forward(self, x):
        """Per-level feature maps -> logits (N, sum_l H_l W_l A, num_classes)."""
        out = [flatten_level(self.cls_logits(self.conv(level)), self.num_classes)
               for level in x]
        return ember.cat(out, dim=1)


class RetinaNetRegressionHead(nn.Module):
    """A regression head for use in RetinaNet.

    A four-layer conv tower (``norm_layer`` optional) and a 3x3 ``bbox_reg`` conv giving
    four box deltas for each of the ``num_anchors`` anchors of a cell. ``_loss_type``
    selects the training loss: ``"l1"`` on the deltas (default), ``"smooth_l1"``, or
    ``"giou"`` / ``"diou"`` / ``"ciou"`` on the decoded boxes.
    """

    _version = 2

    def __init__(self, in_channels: int, num_anchors: int, norm_layer=None) -> None:
        super().__init__()
        self.conv = _conv_tower(in_channels, norm_layer)
        self.bbox_reg = nn.Conv2d(in_channels, num_anchors * 4, 3, padding=1)
        nn.init.normal_(self.bbox_reg.weight, std=0.01)
        nn.init.zeros_(self.bbox_reg.bias)
        _init_tower(self.conv)
        self.box_coder = det_utils.BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
        self._loss_type = "l1"

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        _rename_v1_tower_keys(state_dict, prefix, local_metadata)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)

    def compute_loss(self, targets, head_outputs, anchors, matched_idxs) -> Tensor:
        """The ``_loss_type`` loss over each image's foreground anchors, divided by their
        number (at least 1), averaged over the batch."""
        deltas = head_outputs["bbox_regression"]
        per_image = []
        for tgt, pred, anc, matched in zip(targets, deltas, anchors, matched_idxs):
            rows = ember.where(matched >= 0)[0]
            gt = tgt["boxes"][matched[rows]]
            loss = det_utils._box_loss(self._loss_type, self.box_coder, anc[rows, :], gt,
                                       pred[rows, :])
            per_image.append(loss / max(1, int(rows.numel())))
        return sum(per_image) / max(1, len(targets))

    def forward(self, x):
        """Per-level feature maps -> deltas (N, sum_l H_l W_l A, 4)."""
        return ember.cat([flatten_level(self.bbox_reg(self.conv(level)), 4) for level in x],
                         dim=1)


class RetinaNetHead(nn.Module):
    """A regression and classification head for use in RetinaNet: ``classification_head``
    (:class:`RetinaNetClassificationHead`) and ``regression_head``
    (:class:`RetinaNetRegressionHead`) over ``in_channels`` wide maps with ``num_anchors``
    anchors per cell."""

    def __init__(self, in_channels: int, num_anchors: int, num_classes: int,
                 norm_layer=None) -> None:
        super().__init__()
        self.classification_head = RetinaNetClassificationHead(
            in_channels, num_anchors, num_classes, norm_layer=norm_layer)
        self.regression_head = RetinaNetRegressionHead(in_channels, num_anchors,
                                                       norm_layer=norm_layer)

    def compute_loss(self, targets, head_outputs, anchors, matched_idxs) -> dict:
        """``{"classification": focal loss, "bbox_regression": box loss}``."""
        return {
            "classification": self.classification_head.compute_loss(targets, head_outputs,
                                                                    matched_idxs),
            "bbox_regression": self.regression_head.compute_loss(targets, head_outputs,
                                                                 anchors, matched_idxs),
        }

    def forward(self, x):
        """``{"cls_logits": (N, R, K), "bbox_regression": (N, R, 4)}`` for the R anchors of
        all levels."""
        return {"cls_logits": self.classification_head(x),
                "bbox_regression": self.regression_head(x)}


class RetinaNet(nn.Module):
    """Implements RetinaNet.

    The input is a list of float (C, H, W) images in the 0-1 range, of any sizes. In
    training mode the call also takes one target dict per image - ``boxes`` (float
    (N, 4) x1y1x2y2, ``0 <= x1 < x2 <= W``, ``0 <= y1 < y2 <= H``) and ``labels`` (int64
    (N,)) - and returns ``{"classification", "bbox_regression"}`` losses. In eval mode it
    returns one dict per image with ``boxes``, ``scores`` and ``labels`` in input-image
    coordinates.

    ``backbone`` must have an ``out_channels`` attribute and return a tensor or an ordered
    dict of maps. ``num_classes`` counts the background. ``min_size``/``max_size``/
    ``image_mean``/``image_std`` configure the :class:`GeneralizedRCNNTransform`.
    ``anchor_generator`` defaults to three scales and three ratios per level, ``head`` to
    a :class:`RetinaNetHead`, ``proposal_matcher`` to a ``Matcher(fg_iou_thresh,
    bg_iou_thresh, allow_low_quality_matches=True)``. At inference every level keeps at most
    ``topk_candidates`` (anchor, class) pairs scoring above ``score_thresh``; a per-class
    NMS at ``nms_thresh`` then keeps ``detections_per_img`` boxes.
    """

    def __init__(self, backbone, num_classes, min_size=800, max_size=1333, image_mean=None,
                 image_std=None, anchor_generator=None, head=None, proposal_matcher=None,
                 score_thresh=0.05, nms_thresh=0.5, detections_per_img=300,
                 fg_iou_thresh=0.5, bg_iou_thresh=0.4, topk_candidates=1000, **kwargs) -> None:
        super().__init__()
        if not hasattr(backbone, "out_channels"):
            raise ValueError("backbone should contain an attribute out_channels specifying the "
                             "number of output channels (assumed to be the same for all the "
                             "levels)")
        if anchor_generator is not None and not isinstance(anchor_generator, AnchorGenerator):
            raise TypeError("anchor_generator should be of type AnchorGenerator or None, "
                            f"instead got {type(anchor_generator)}")
        self.backbone = backbone
        self.anchor_generator = _default_anchorgen() if anchor_generator is None \
            else anchor_generator
        if head is None:
            head = RetinaNetHead(backbone.out_channels,
                                 self.anchor_generator.num_anchors_per_location()[0],
                                 num_classes)
        self.head = head
        if proposal_matcher is None:
            proposal_matcher = det_utils.Matcher(fg_iou_thresh, bg_iou_thresh,
                                                 allow_low_quality_matches=True)
        self.proposal_matcher = proposal_matcher
        self.box_coder = det_utils.BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
        self.transform = GeneralizedRCNNTransform(
            min_size, max_size, _IMAGENET_MEAN if image_mean is None else image_mean,
            _IMAGENET_STD if image_std is None else image_std, **kwargs)
        self.score_thresh = score_thresh
        self.nms_thresh = nms_thresh
        self.detections_per_img = detections_per_img
        self.topk_candidates = topk_candidates
        self._has_warned = False

    def eager_outputs(self, losses, detections):
        """The losses in training mode, the detections in eval mode."""
        return losses if self.training else detections

    def _match(self, targets, anchors):
        out = []
        for tgt, anc in zip(targets, anchors):
            gt = tgt["boxes"]
            if gt.numel() == 0:
                out.append(ember.full((anc.size(0),), -1, dtype=ember.int64,
                                      device=anc.device))
            else:
                out.append(self.proposal_matcher(box_ops.box_iou(gt, anc)))
        return out

    def compute_loss(self, targets, head_outputs, anchors) -> dict:
        """Matches every image's anchors to its targets and returns the head's losses."""
        return self.head.compute_loss(targets, head_outputs, anchors,
                                      self._match(targets, anchors))

    def postprocess_detections(self, head_outputs, anchors, image_shapes):
        """``head_outputs``: ``cls_logits`` / ``bbox_regression``, each a per-level list of
        (N, R_l, .) tensors; ``anchors``: per image, a per-level list of (R_l, 4) boxes.
        Returns one ``{"boxes", "scores", "labels"}`` dict per image."""
        n_classes = head_outputs["cls_logits"][0].size(-1)
        results = []
        for i, (levels, hw) in enumerate(zip(anchors, image_shapes)):
            per_level = [level_detections(ember.sigmoid(logits[i]).flatten(),  # anchor-major
                                          deltas[i], anc, self.box_coder.decode_single, hw,
                                          n_classes, self.score_thresh, self.topk_candidates)
                         for logits, deltas, anc in zip(head_outputs["cls_logits"],
                                                        head_outputs["bbox_regression"],
                                                        levels)]
            results.append(merge_detections(*zip(*per_level), self.nms_thresh,
                                            self.detections_per_img))
        return results

    def forward(self, images, targets=None):
        """``images``: list of (C, H, W) tensors; ``targets`` (training only): list of
        dicts with ``boxes`` (N, 4) x1y1x2y2 and ``labels`` (N,)."""
        original_sizes, batch, targets, features = prepare_inputs(self, images, targets)
        head_outputs = self.head(features)
        anchors = self.anchor_generator(batch, features)
        if self.training:
            if targets is None:
                raise ValueError("targets should not be none when in training mode")
            return self.eager_outputs(self.compute_loss(targets, head_outputs, anchors), [])
        cells = [int(f.size(2) * f.size(3)) for f in features]
        per_cell = head_outputs["cls_logits"].size(1) // sum(cells)
        counts = [c * per_cell for c in cells]
        split = {k: list(v.split(counts, 1)) for k, v in head_outputs.items()}
        split_anchors = [list(a.split(counts)) for a in anchors]
        dets = self.postprocess_detections(split, split_anchors, batch.image_sizes)
        dets = self.transform.postprocess(dets, batch.image_sizes, original_sizes)
        return self.eager_outputs({}, dets)


_COMMON_META = {"categories": _COCO_CATEGORIES, "min_size": (1, 1)}


class RetinaNet_ResNet50_FPN_Weights(WeightsEnum):
    """COCO weights of ``retinanet_resnet50_fpn`` (torchvision's published checkpoint)."""

    COCO_V1 = Weights(
        url="https://download.pytorch.org/models/retinanet_resnet50_fpn_coco-eeacb38b.pth",
        transforms=_presets.ObjectDetection,
        meta={
            **_COMMON_META,
            "num_params": 34014999,
            "recipe": "https://github.com/pytorch/vision/tree/main/references/detection"
                      "#retinanet",
            "_metrics": {"COCO-val2017": {"box_map": 36.4}},
            "_ops": 151.54,
            "_file_size": 130.267,
            "_docs": "These weights were produced by following a similar training recipe as "
                     "on the paper.",
        },
    )
    DEFAULT = COCO_V1


class RetinaNet_ResNet50_FPN_V2_Weights(WeightsEnum):
    """COCO weights of ``retinanet_resnet50_fpn_v2`` (torchvision's published
    checkpoint)."""

    COCO_V1 = Weights(
        url="https://download.pytorch.org/models/retinanet_resnet50_fpn_v2_coco-5905b1c5.pth",
        transforms=_presets.ObjectDetection,
        meta={
            **_COMMON_META,
            "num_params": 38198935,
            "recipe": "https://github.com/pytorch/vision/pull/5756",
            "_metrics": {"COCO-val2017": {"box_map": 41.5}},
            "_ops": 152.238,
            "_file_size": 146.037,
            "_docs": "These weights were produced using an enhanced training recipe to boost "
                     "the model accuracy.",
        },
    )
    DEFAULT = COCO_V1


@register_model()
@_legacy_interface(RetinaNet_ResNet50_FPN_Weights,
                   lambda flag: RetinaNet_ResNet50_FPN_Weights.COCO_V1)
def retinanet_resnet50_fpn(*, weights=None, progress=True, num_classes=None,
                           weights_backbone=ResNet50_Weights.IMAGENET1K_V1,
                           trainable_backbone_layers=None, **kwargs) -> RetinaNet:
    """RetinaNet with a ResNet-50 + FPN backbone (arXiv:1708.02002): FPN levels P3-P5 plus
    P6/P7 computed from P5.

    ``weights``: a :class:`RetinaNet_ResNet50_FPN_Weights` (COCO, 91 classes) or None.
    ``weights_backbone`` defaults, as in torchvision, to ImageNet ResNet-50 weights; pass
    None for a fully random model. With pretrained weights the ResNet uses
    ``FrozenBatchNorm2d`` and ``trainable_backbone_layers`` (0-5, default 3) trainable
    stages, otherwise ``nn.BatchNorm2d`` and all stages. Other keyword arguments go to
    :class:`RetinaNet`.
    """
    weights = RetinaNet_ResNet50_FPN_Weights.verify(weights)
    weights_backbone, num_classes = _pin_classes(
        weights, ResNet50_Weights.verify(weights_backbone), num_classes)
    pretrained_any = weights is not None or weights_backbone is not None
    n_trainable = _validate_trainable_layers(pretrained_any, trainable_backbone_layers, 5, 3)
    body = resnet50(weights=weights_backbone, progress=progress,
                    norm_layer=FrozenBatchNorm2d if pretrained_any else nn.BatchNorm2d)
    # P6 from the 256-channel P5 (in == out channels)
    backbone = _resnet_fpn_extractor(body, n_trainable, returned_layers=[2, 3, 4],
                                     extra_blocks=LastLevelP6P7(256, 256))
    model = RetinaNet(backbone, num_classes, **kwargs)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
        if weights is RetinaNet_ResNet50_FPN_Weights.COCO_V1:
            det_utils.overwrite_eps(model, 0.0)
    return model


@register_model()
@_legacy_interface(RetinaNet_ResNet50_FPN_V2_Weights,
                   lambda flag: RetinaNet_ResNet50_FPN_V2_Weights.COCO_V1)
def retinanet_resnet50_fpn_v2(*, weights=None, progress=True, num_classes=None,
                              weights_backbone=None, trainable_backbone_layers=None,
                              **kwargs) -> RetinaNet:
    """RetinaNet with a ResNet-50 + FPN backbone, improved recipe (Li et al., 2021,
    "Benchmarking Detection Transfer Learning with Vision Transformers",
    arXiv:2111.11429): P6 computed from the ResNet's C5, GroupNorm(32) in the head
    towers and a GIoU box loss.

    ``weights``: a :class:`RetinaNet_ResNet50_FPN_V2_Weights` (COCO, 91 classes) or None;
    ``weights_backbone`` (default None) optional ImageNet ResNet-50 weights;
    ``trainable_backbone_layers`` (0-5) defaults to 3 with pretrained weights, else 5.
    Other keyword arguments go to :class:`RetinaNet`.
    """
    weights = RetinaNet_ResNet50_FPN_V2_Weights.verify(weights)
    weights_backbone, num_classes = _pin_classes(
        weights, ResNet50_Weights.verify(weights_backbone), num_classes)
    pretrained_any = weights is not None or weights_backbone is not None
    n_trainable = _validate_trainable_layers(pretrained_any, trainable_backbone_layers, 5, 3)
    body = resnet50(weights=weights_backbone, progress=progress)
    backbone = _resnet_fpn_extractor(body, n_trainable, returned_layers=[2, 3, 4],
                                     extra_blocks=LastLevelP6P7(2048, 256))
    anchors = _default_anchorgen()
    head = RetinaNetHead(backbone.out_channels, anchors.num_anchors_per_location()[0],
                         num_classes, norm_layer=partial(nn.GroupNorm, 32))
    head.regression_head._loss_type = "giou"
    model = RetinaNet(backbone, num_classes, anchor_generator=anchors, head=head, **kwargs)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model
