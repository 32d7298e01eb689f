"""FCOS (Tian et al., 2019, "FCOS: Fully Convolutional One-Stage Object Detection",
https://arxiv.org/abs/1904.01355): the anchor-free ``FCOS`` detector, its ``FCOSHead``
(classification, box distances and centerness) and the ``fcos_resnet50_fpn`` builder with
torchvision's COCO checkpoint."""

from __future__ import annotations

import math

import ember
from ember import Tensor, nn
from ember.nn import functional as F

from ...ops.feature_pyramid_network import LastLevelP6P7
from ...ops.losses import generalized_box_iou_loss, sigmoid_focal_loss
from ...ops.misc import FrozenBatchNorm2d
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

__all__ = ["FCOS", "FCOSHead", "FCOSClassificationHead", "FCOSRegressionHead",
           "FCOS_ResNet50_FPN_Weights", "fcos_resnet50_fpn"]

# larger than any box area: "smallest admissible box" becomes a maximum of (offset - area)
_AREA_OFFSET = 1.0e8


def _gn_tower(in_channels: int, num_convs: int, norm_layer) -> nn.Sequential:
    """``num_convs`` x (3x3 conv, norm, ReLU) as one flat Sequential; GroupNorm(32) when
    ``norm_layer`` is None. Convolutions start from N(0, 0.01) weights and zero biases."""
    if norm_layer is None:
        def norm_layer(c):
            return nn.GroupNorm(32, c)
    layers: list[nn.Module] = []
    for _ in range(num_convs):
        conv = nn.Conv2d(in_channels, in_channels, kernel_size=3, stride=1, padding=1)
        nn.init.normal_(conv.weight, std=0.01)
        nn.init.constant_(conv.bias, 0)
        layers += [conv, norm_layer(in_channels), nn.ReLU()]
    return nn.Sequential(*layers)


class FCOSClassificationHead(nn.Module):
    """A classification head for use in FCOS: a conv tower and a 3x3 ``cls_logits`` conv
    giving ``num_classes`` logits per location (``num_anchors`` per cell); its bias
    starts at ``-log((1 - prior_probability) / prior_probability)``."""

    def __init__(self, in_channels: int, num_anchors: int, num_classes: int,
                 num_convs: int = 4, prior_probability: float = 0.01,
                 norm_layer=None) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.num_anchors = num_anchors
        self.conv = _gn_tower(in_channels, num_convs, norm_layer)
        self.cls_logits = nn.Conv2d(in_channels, num_anchors * num_classes, 3, padding=1)
        nn.init.normal_(self.cls_logits.weight, std=0.01)
        nn.init.constant_(self.cls_logits.bias,
                          -math.log((1 - prior_probability) / prior_probability))

    def forward(self, x):
        """Per-level maps -> logits (N, sum_l H_l W_l A, num_classes)."""
        return ember.cat([flatten_level(self.cls_logits(self.conv(level)), self.num_classes)
                          for level in x], dim=1)


class FCOSRegressionHead(nn.Module):
    """A regression head for use in FCOS: a conv tower shared by ``bbox_reg`` (four
    non-negative distances, after a ReLU, to the box sides in units of the level's stride)
    and ``bbox_ctrness`` (a centerness logit)."""

    def __init__(self, in_channels: int, num_anchors: int, num_convs: int = 4,
                 norm_layer=None) -> None:
        super().__init__()
        self.conv = _gn_tower(in_channels, num_convs, norm_layer)
        self.bbox_reg = nn.Conv2d(in_channels, num_anchors * 4, 3, padding=1)
        self.bbox_ctrness = nn.Conv2d(in_channels, num_anchors, 3, padding=1)
        for conv in (self.bbox_reg, self.bbox_ctrness):
            nn.init.normal_(conv.weight, std=0.01)
            nn.init.zeros_(conv.bias)

    def forward(self, x):
        """Per-level maps -> (distances (N, R, 4), centerness logits (N, R, 1))."""
        dists, ctr = [], []
        for level in x:
            hidden = self.conv(level)
            dists.append(flatten_level(F.relu(self.bbox_reg(hidden)), 4))
            ctr.append(flatten_level(self.bbox_ctrness(hidden), 1))
        return ember.cat(dists, dim=1), ember.cat(ctr, dim=1)


class FCOSHead(nn.Module):
    """A regression and classification head for use in FCOS: ``classification_head``
    and ``regression_head`` over ``in_channels`` wide maps, ``num_convs`` layers deep."""

    def __init__(self, in_channels: int, num_anchors: int, num_classes: int,
                 num_convs: int | None = 4) -> None:
        super().__init__()
        self.box_coder = det_utils.BoxLinearCoder(normalize_by_size=True)
        self.classification_head = FCOSClassificationHead(in_channels, num_anchors,
                                                          num_classes, num_convs)
        self.regression_head = FCOSRegressionHead(in_channels, num_anchors, num_convs)

    def compute_loss(self, targets, head_outputs, anchors, matched_idxs) -> dict:
        """Focal loss over all locations, GIoU loss of the decoded boxes and centerness
        binary cross-entropy over the foreground ones, each summed over the batch and
        divided by its number of foreground locations (at least 1)."""
        logits = head_outputs["cls_logits"]  # (N, R, K)
        dists = head_outputs["bbox_regression"]  # (N, R, 4)
        ctr_logits = head_outputs["bbox_ctrness"]  # (N, R, 1)
        matched = ember.stack(matched_idxs)  # (N, R)
        fg = matched >= 0
        n_fg = int(fg.sum())

        gt_boxes, gt_onehot = [], []
        for tgt, idx in zip(targets, matched_idxs):
            safe = idx.clamp(min=0)
            if tgt["labels"].numel() == 0:
                boxes = ember.zeros((idx.numel(), 4), dtype=dists.dtype, device=idx.device)
                onehot = ember.zeros((idx.numel(), logits.size(-1)), dtype=logits.dtype,
                                     device=idx.device)
            else:
                boxes = tgt["boxes"][safe]
                onehot = F.one_hot(tgt["labels"][safe], logits.size(-1)).to(logits.dtype)
            gt_boxes.append(boxes)
            gt_onehot.append(onehot * (idx >= 0).to(logits.dtype)[:, None])
        gt_boxes = ember.stack(gt_boxes)  # (N, R, 4)
        gt_onehot = ember.stack(gt_onehot)  # (N, R, K)
        all_anchors = ember.stack(anchors)  # (N, R, 4)

        loss_cls = sigmoid_focal_loss(logits, gt_onehot, reduction="sum")
        pred_boxes = self.box_coder.decode(dists, all_anchors)
        loss_box = generalized_box_iou_loss(pred_boxes[fg], gt_boxes[fg], reduction="sum")

        # centerness target: sqrt(min(l, r) / max(l, r) * min(t, b) / max(t, b))
        target_dists = self.box_coder.encode(all_anchors, gt_boxes)
        lr = target_dists[..., 0::2]
        tb = target_dists[..., 1::2]
        ratio = (lr.min(dim=-1)[0] / lr.max(dim=-1)[0]) * (tb.min(dim=-1)[0] / tb.max(dim=-1)[0])
        target_ctr = ember.sqrt(ratio[fg])
        loss_ctr = F.binary_cross_entropy_with_logits(ctr_logits[..., 0][fg], target_ctr,
                                                      reduction="sum")
        denom = max(1, n_fg)
        return {"classification": loss_cls / denom, "bbox_regression": loss_box / denom,
                "bbox_ctrness": loss_ctr / denom}

    def forward(self, x):
        """``{"cls_logits", "bbox_regression", "bbox_ctrness"}`` for all locations."""
        dists, ctr = self.regression_head(x)
        return {"cls_logits": self.classification_head(x), "bbox_regression": dists,
                "bbox_ctrness": ctr}


class FCOS(nn.Module):
    """Implements FCOS.

    Inputs and outputs are those of :class:`RetinaNet`: a list of (C, H, W) images in the
    0-1 range, targets with ``boxes``/``labels`` in training (losses
    ``classification``, ``bbox_regression``, ``bbox_ctrness``), per-image ``boxes``/
    ``scores``/``labels`` in eval mode.

    Every feature-map location is a candidate point: the default ``anchor_generator`` puts
    one square "anchor" of the level's stride (8-128) on each, whose centre is the point.
    In training, a point is positive for a ground-truth box when it lies inside the box,
    within ``center_sampling_radius`` strides of its centre, and the box's largest side
    distance falls in the level's range (strides 4-8, open-ended at the first and last
    level); the smallest such box wins. At inference the score is
    ``sqrt(sigmoid(class logit) * sigmoid(centerness))``; each level keeps at most
    ``topk_candidates`` scores above ``score_thresh``, and a per-class NMS at
    ``nms_thresh`` keeps ``detections_per_img`` boxes.
    """

    def __init__(self, backbone, num_classes, min_size=800, max_size=1333, image_mean=None,
                 image_std=None, anchor_generator=None, head=None,
                 center_sampling_radius=1.5, score_thresh=0.2, nms_thresh=0.6,
                 detections_per_img=100, topk_candidates=1000, **kwargs) -> None:
        super().__init__()
        if not hasattr(backbone, "out_channels"):
            raise ValueError("backbone should contain an attribute out_channels specifying the "
                             "number of output channels (assumed to be the same for all the "
                             "levels)")
        if anchor_generator is not None and not isinstance(anchor_generator, AnchorGenerator):
            raise TypeError("anchor_generator should be of type AnchorGenerator or None, "
                            f"instead got {type(anchor_generator)}")
        self.backbone = backbone
        if anchor_generator is None:
            strides = ((8,), (16,), (32,), (64,), (128,))
            anchor_generator = AnchorGenerator(strides, ((1.0,),) * len(strides))
        self.anchor_generator = anchor_generator
        if head is None:
            head = FCOSHead(backbone.out_channels,
                            anchor_generator.num_anchors_per_location()[0], num_classes)
        self.head = head
        self.box_coder = det_utils.BoxLinearCoder(normalize_by_size=True)
        self.transform = GeneralizedRCNNTransform(
            min_size, max_size, [0.485, 0.456, 0.406] if image_mean is None else image_mean,
            [0.229, 0.224, 0.225] if image_std is None else image_std, **kwargs)
        self.center_sampling_radius = center_sampling_radius
        self.score_thresh = score_thresh
        self.nms_thresh = nms_thresh
        self.detections_per_img = detections_per_img
        self.topk_candidates = topk_candidates
        self._has_warned = False

    def eager_outputs(self, losses, detections):
        """The losses in training mode, the detections in eval mode."""
        return losses if self.training else detections

    def _match_image(self, gt: Tensor, anchors: Tensor, counts: list[int]) -> Tensor:
        """Index of the ground truth each of the R points is assigned to, or -1."""
        if gt.numel() == 0:
            return ember.full((anchors.size(0),), -1, dtype=ember.int64, device=anchors.device)
        points = 0.5 * (anchors[:, :2] + anchors[:, 2:])  # (R, 2)
        stride = anchors[:, 2] - anchors[:, 0]  # (R,)
        centres = 0.5 * (gt[:, :2] + gt[:, 2:])  # (G, 2)
        near = (points[:, None, :] - centres[None, :, :]).abs().max(dim=2)[0] \
            < self.center_sampling_radius * stride[:, None]  # (R, G)
        px, py = points[:, 0:1], points[:, 1:2]
        sides = ember.stack([px - gt[None, :, 0], py - gt[None, :, 1],
                             gt[None, :, 2] - px, gt[None, :, 3] - py], dim=2)  # (R, G, 4)
        inside = sides.min(dim=2)[0] > 0
        reach = sides.max(dim=2)[0]
        low = stride * 4
        low[:counts[0]] = 0
        high = stride * 8
        high[-counts[-1]:] = math.inf
        in_range = (reach > low[:, None]) & (reach < high[:, None])
        ok = near & inside & in_range
        area = (gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1])  # (G,)
        # smallest box wins: maximise (offset - area) over the admissible pairs
        rank = ok.to(area.dtype) * (_AREA_OFFSET - area[None, :])
        best, idx = rank.max(dim=1)
        idx[best < 1e-5] = -1
        return idx

    def compute_loss(self, targets, head_outputs, anchors, num_anchors_per_level) -> dict:
        """Assigns points to targets (see the class docstring) and returns the head's
        losses."""
        matched = [self._match_image(t["boxes"], a, num_anchors_per_level)
                   for t, a in zip(targets, anchors)]
        return self.head.compute_loss(targets, head_outputs, anchors, matched)

    def postprocess_detections(self, head_outputs, anchors, image_shapes):
        """``head_outputs``: per-level lists of (N, R_l, .) tensors; ``anchors``: per image,
        a per-level list of (R_l, 4). One ``{"boxes", "scores", "labels"}`` per image."""
        n_classes = head_outputs["cls_logits"][0].size(-1)
        results = []
        for i, (levels, hw) in enumerate(zip(anchors, image_shapes)):
            per_level = [level_detections(
                ember.sqrt(ember.sigmoid(logits[i]) * ember.sigmoid(ctr[i])).flatten(),
                dists[i], anc, self.box_coder.decode, hw, n_classes, self.score_thresh,
                self.topk_candidates)
                for logits, dists, ctr, anc in zip(head_outputs["cls_logits"],
                                                    head_outputs["bbox_regression"],
                                                    head_outputs["bbox_ctrness"], levels)]
            results.append(merge_detections(*zip(*per_level), self.nms_thresh,
                                            self.detections_per_img))
        return results

    def forward(self, images, targets=None):
        """``images``: list of (C, H, W) tensors; ``targets`` (training only): list of
        dicts with ``boxes`` (N, 4) x1y1x2y2 and ``labels`` (N,)."""
        original_sizes, batch, targets, features = prepare_inputs(self, images, targets)
        head_outputs = self.head(features)
        anchors = self.anchor_generator(batch, features)
        counts = [int(f.size(2) * f.size(3)) for f in features]
        if self.training:
            if targets is None:
                raise ValueError("targets should not be none when in training mode")
            return self.eager_outputs(
                self.compute_loss(targets, head_outputs, anchors, counts), [])
        split = {k: list(v.split(counts, 1)) for k, v in head_outputs.items()}
        split_anchors = [list(a.split(counts)) for a in anchors]
        dets = self.postprocess_detections(split, split_anchors, batch.image_sizes)
        dets = self.transform.postprocess(dets, batch.image_sizes, original_sizes)
        return self.eager_outputs({}, dets)


class FCOS_ResNet50_FPN_Weights(WeightsEnum):
    """COCO weights of ``fcos_resnet50_fpn`` (torchvision's published checkpoint)."""

    COCO_V1 = Weights(
        url="https://download.pytorch.org/models/fcos_resnet50_fpn_coco-99b0c9b7.pth",
        transforms=_presets.ObjectDetection,
        meta={
            "num_params": 32269600,
            "categories": _COCO_CATEGORIES,
            "min_size": (1, 1),
            "recipe": "https://github.com/pytorch/vision/tree/main/references/detection"
                      "#fcos-resnet-50-fpn",
            "_metrics": {"COCO-val2017": {"box_map": 39.2}},
            "_ops": 128.207,
            "_file_size": 123.608,
            "_docs": "These weights were produced by following a similar training recipe as "
                     "on the paper.",
        },
    )
    DEFAULT = COCO_V1


@register_model()
@_legacy_interface(FCOS_ResNet50_FPN_Weights, lambda flag: FCOS_ResNet50_FPN_Weights.COCO_V1)
def fcos_resnet50_fpn(*, weights=None, progress=True, num_classes=None,
                      weights_backbone=ResNet50_Weights.IMAGENET1K_V1,
                      trainable_backbone_layers=None, **kwargs) -> FCOS:
    """FCOS with a ResNet-50 + FPN backbone (arXiv:1904.01355): FPN levels P3-P5 plus
    P6/P7 computed from P5.

    ``weights``: a :class:`FCOS_ResNet50_FPN_Weights` (COCO, 91 classes) or None.
    ``weights_backbone`` defaults to ImageNet ResNet-50 weights; pass None for a fully
    random model. With pretrained weights the ResNet uses ``FrozenBatchNorm2d`` and
    ``trainable_backbone_layers`` (0-5, default 3) trainable stages, otherwise
    ``nn.BatchNorm2d`` and all stages. Other keyword arguments go to :class:`FCOS`.
    """
    weights = FCOS_ResNet50_FPN_Weights.verify(weights)
    weights_backbone, num_classes = _pin_classes(
        weights, ResNet50_Weights.verify(weights_backbone), num_classes)
    pretrained_any = weights is not None or weights_backbone is not None
    n_trainable = _validate_trainable_layers(pretrained_any, trainable_backbone_layers, 5, 3)
    body = resnet50(weights=weights_backbone, progress=progress,
                    norm_layer=FrozenBatchNorm2d if pretrained_any else nn.BatchNorm2d)
    backbone = _resnet_fpn_extractor(body, n_trainable, returned_layers=[2, 3, 4],
                                     extra_blocks=LastLevelP6P7(256, 256))
    model = FCOS(backbone, num_classes, **kwargs)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model
