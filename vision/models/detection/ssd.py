"""SSD (Liu et al., 2016, "SSD: Single Shot MultiBox Detector",
https://arxiv.org/abs/1512.02325): the ``SSD`` detector (default boxes, softmax classes,
hard-negative mining), its convolutional ``SSDHead``, the VGG-16 feature extractor and the
``ssd300_vgg16`` builder with torchvision's COCO checkpoint."""

from __future__ import annotations

import functools
import warnings
from collections import OrderedDict

import ember
from ember import Tensor, nn
from ember.nn import functional as F

from ...ops import boxes as box_ops
from ...transforms import _presets
from .._api import Weights, WeightsEnum, register_model
from ..vgg import VGG16_Weights, vgg16
from . import _utils as det_utils
from ._dense import flatten_level, merge_detections, prepare_inputs
from ._meta import _COCO_CATEGORIES
from .anchor_utils import DefaultBoxGenerator
from .backbone_utils import _validate_trainable_layers
from .faster_rcnn import _pin_classes
from .transform import GeneralizedRCNNTransform

__all__ = ["SSD", "SSDHead", "SSDScoringHead", "SSDClassificationHead", "SSDRegressionHead",
           "SSDFeatureExtractorVGG", "SSD300_VGG16_Weights", "ssd300_vgg16"]


def _xavier_init(conv: nn.Module) -> None:
    for m in conv.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0.0)


class SSDScoringHead(nn.Module):
    """One predictor module per feature map (``module_list``), each giving
    ``num_columns`` values per default box; the outputs of all maps are flattened and
    concatenated to (N, sum_k H_k W_k A_k, num_columns)."""

    def __init__(self, module_list: nn.ModuleList, num_columns: int) -> None:
        super().__init__()
        self.module_list = module_list
        self.num_columns = num_columns

    def _get_result_from_module_list(self, x: Tensor, idx: int) -> Tensor:
        """Output of ``module_list[idx]`` on ``x``."""
        return self.module_list[idx](x)

    def forward(self, x: list[Tensor]) -> Tensor:
        return ember.cat([flatten_level(self._get_result_from_module_list(f, i),
                                        self.num_columns) for i, f in enumerate(x)], dim=1)


class SSDClassificationHead(SSDScoringHead):
    """3x3 convolutions giving ``num_classes`` logits (background included) for each of
    the ``num_anchors[k]`` default boxes of a cell of map k (``in_channels[k]`` wide)."""

    def __init__(self, in_channels: list[int], num_anchors: list[int], num_classes: int) -> None:
        convs = nn.ModuleList([nn.Conv2d(c, num_classes * a, kernel_size=3, padding=1)
                               for c, a in zip(in_channels, num_anchors)])
        _xavier_init(convs)
        super().__init__(convs, num_classes)


class SSDRegressionHead(SSDScoringHead):
    """3x3 convolutions giving four box deltas for each of the ``num_anchors[k]`` default
    boxes of a cell of map k."""

    def __init__(self, in_channels: list[int], num_anchors: list[int]) -> None:
        convs = nn.ModuleList([nn.Conv2d(c, 4 * a, kernel_size=3, padding=1)
                               for c, a in zip(in_channels, num_anchors)])
        _xavier_init(convs)
        super().__init__(convs, 4)


class SSDHead(nn.Module):
    """SSD's prediction head: ``classification_head`` and ``regression_head`` over maps of
    ``in_channels`` with ``num_anchors`` default boxes per cell."""

    def __init__(self, in_channels: list[int], num_anchors: list[int], num_classes: int) -> None:
        super().__init__()
        self.classification_head = SSDClassificationHead(in_channels, num_anchors, num_classes)
        self.regression_head = SSDRegressionHead(in_channels, num_anchors)

    def forward(self, x: list[Tensor]) -> dict:
        """``{"bbox_regression": (N, R, 4), "cls_logits": (N, R, K)}``."""
        return {"bbox_regression": self.regression_head(x),
                "cls_logits": self.classification_head(x)}


def _descending_rank(values: Tensor) -> Tensor:
    """Position of every entry of each row in that row sorted in descending order."""
    order = values.sort(dim=1, descending=True)[1]
    return order.sort(dim=1)[1]


class SSD(nn.Module):
    """Implements SSD architecture from `"SSD: Single Shot MultiBox Detector"
    <https://arxiv.org/abs/1512.02325>`_.

    Inputs and outputs are those of the other detectors: a list of (C, H, W) images in the
    0-1 range (all resized to the fixed ``size``), targets with ``boxes``/``labels`` in
    training (losses ``bbox_regression`` and ``classification``), per-image ``boxes``/
    ``scores``/``labels`` in eval mode.

    ``backbone`` returns the feature maps (an ordered dict or a tensor); without a ``head``
    their channel counts are found by one dry run and an :class:`SSDHead` is made.
    ``anchor_generator`` is a :class:`DefaultBoxGenerator`. A default box is positive when
    its IoU with a ground truth reaches ``iou_thresh`` (each ground truth also takes its
    best default box); the classification loss keeps, per image, the negatives with the
    highest loss, ``(1 - positive_fraction) / positive_fraction`` times as many as the
    positives. At inference, per class, at most ``topk_candidates`` boxes with a softmax
    score above ``score_thresh`` are kept, and a per-class NMS at ``nms_thresh`` keeps
    ``detections_per_img``.
    """

    def __init__(self, backbone: nn.Module, anchor_generator: DefaultBoxGenerator,
                 size: tuple[int, int], num_classes: int, image_mean=None, image_std=None,
                 head: nn.Module | None = None, score_thresh: float = 0.01,
                 nms_thresh: float = 0.45, detections_per_img: int = 200,
                 iou_thresh: float = 0.5, topk_candidates: int = 400,
                 positive_fraction: float = 0.25, **kwargs) -> None:
        super().__init__()
        self.backbone = backbone
        self.anchor_generator = anchor_generator
        self.box_coder = det_utils.BoxCoder(weights=(10.0, 10.0, 5.0, 5.0))
        if head is None:
            if hasattr(backbone, "out_channels"):
                out_channels = backbone.out_channels
            else:
                out_channels = det_utils.retrieve_out_channels(backbone, size)
            if len(out_channels) != len(anchor_generator.aspect_ratios):
                raise ValueError(f"The length of the output channels from the backbone "
                                 f"({len(out_channels)}) do not match the length of the "
                                 "anchor generator aspect ratios "
                                 f"({len(anchor_generator.aspect_ratios)})")
            head = SSDHead(out_channels, anchor_generator.num_anchors_per_location(),
                           num_classes)
        self.head = head
        self.proposal_matcher = det_utils.SSDMatcher(iou_thresh)
        self.transform = GeneralizedRCNNTransform(
            min(size), max(size), [0.485, 0.456, 0.406] if image_mean is None else image_mean,
            [0.229, 0.224, 0.225] if image_std is None else image_std, size_divisible=1,
            fixed_size=size, **kwargs)
        self.score_thresh = score_thresh
        self.nms_thresh = nms_thresh
        self.detections_per_img = detections_per_img
        self.topk_candidates = topk_candidates
        self.neg_to_pos_ratio = (1.0 - positive_fraction) / positive_fraction
        self._has_warned = False

    def eager_outputs(self, losses, detections):
        """The losses in training mode, the detections in eval mode."""
        return losses if self.training else detections

    def compute_loss(self, targets, head_outputs, anchors, matched_idxs) -> dict:
        """Smooth-L1 on the encoded deltas of the positives, and softmax cross-entropy over
        the positives plus the hardest negatives; both divided by the number of positives
        in the batch (at least 1)."""
        deltas = head_outputs["bbox_regression"]  # (N, R, 4)
        logits = head_outputs["cls_logits"]  # (N, R, K)
        box_losses, class_targets = [], []
        for tgt, pred, anc, matched in zip(targets, deltas, anchors, matched_idxs):
            rows = ember.where(matched >= 0)[0]
            gt = tgt["boxes"][matched[rows]]
            goal = self.box_coder.encode_single(gt, anc[rows])
            box_losses.append(F.smooth_l1_loss(pred[rows], goal, reduction="sum"))
            labels = ember.zeros(matched.shape, dtype=tgt["labels"].dtype,
                                 device=matched.device)
            labels[rows] = tgt["labels"][matched[rows]]
            class_targets.append(labels)
        class_targets = ember.stack(class_targets)  # (N, R)
        n_img, n_box, n_cls = logits.shape
        ce = F.cross_entropy(logits.reshape(-1, n_cls), class_targets.reshape(-1),
                             reduction="none").view(n_img, n_box)

        # hard negatives: the highest-loss non-positives, ratio x positives per image
        positive = class_targets > 0
        n_pos = positive.sum(dim=1, keepdim=True)
        ranking = ce.detach().masked_fill(positive, float("-inf"))
        negative = _descending_rank(ranking) < n_pos * self.neg_to_pos_ratio
        denom = max(1, int(n_pos.sum()))
        return {"bbox_regression": sum(box_losses) / denom,
                "classification": (ce[positive].sum() + ce[negative].sum()) / denom}

    def postprocess_detections(self, head_outputs, image_anchors, image_shapes):
        """Decodes every image's boxes and keeps, for each foreground class, the best
        ``topk_candidates`` with softmax scores above ``score_thresh``, then a per-class
        NMS."""
        probs = F.softmax(head_outputs["cls_logits"], dim=-1)  # (N, R, K)
        n_cls = probs.size(-1)
        results = []
        for deltas, p, anchors, hw in zip(head_outputs["bbox_regression"], probs,
                                          image_anchors, image_shapes):
            boxes = box_ops.clip_boxes_to_image(self.box_coder.decode_single(deltas, anchors),
                                                hw)
            k = min(self.topk_candidates, int(p.size(0)))
            best, rows = p[:, 1:].topk(k, dim=0)  # (k, K - 1), per class
            best, rows = best.t().reshape(-1), rows.t().reshape(-1)  # class-major
            labels = ember.arange(1, n_cls, device=p.device).repeat_interleave(k)
            keep = best > self.score_thresh
            results.append(merge_detections([boxes[rows[keep]]], [best[keep]],
                                            [labels[keep]], self.nms_thresh,
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
            matched = []
            for anc, tgt in zip(anchors, targets):
                if tgt["boxes"].numel() == 0:
                    matched.append(ember.full((anc.size(0),), -1, dtype=ember.int64,
                                              device=anc.device))
                else:
                    matched.append(self.proposal_matcher(box_ops.box_iou(tgt["boxes"], anc)))
            return self.eager_outputs(self.compute_loss(targets, head_outputs, anchors,
                                                        matched), [])
        dets = self.postprocess_detections(head_outputs, anchors, batch.image_sizes)
        dets = self.transform.postprocess(dets, batch.image_sizes, original_sizes)
        return self.eager_outputs({}, dets)


class SSDFeatureExtractorVGG(nn.Module):
    """SSD300/512's VGG-16 feature maps. ``backbone``: the ``features`` Sequential of a VGG
    (its third max pool is switched to ceil mode). Map 0 is conv4_3 after a ReLU, L2
    normalised over channels and scaled by the learnable ``scale_weight`` (initially
    20); map 1 the output of pool5 (3x3, stride 1) and the dilated fc6 / 1x1 fc7
    convolutions; maps 2-5 (2-6 when ``highres``) those of the extra blocks."""

    def __init__(self, backbone: nn.Module, highres: bool) -> None:
        super().__init__()
        pools = [i for i, m in enumerate(backbone) if isinstance(m, nn.MaxPool2d)]
        pool3, pool4 = pools[2], pools[3]
        backbone[pool3].ceil_mode = True
        self.scale_weight = nn.Parameter(ember.ones(512) * 20)
        self.features = backbone[:pool4]
        # (in, squeeze, out, stride, padding, kernel) of each extra block
        specs = [(1024, 256, 512, 2, 1, 3), (512, 128, 256, 2, 1, 3),
                 (256, 128, 256, 1, 0, 3), (256, 128, 256, 1, 0, 3)]
        if highres:
            specs.append((256, 128, 256, 1, 0, 4))
        extra = [nn.Sequential(nn.Conv2d(cin, mid, kernel_size=1), nn.ReLU(inplace=True),
                               nn.Conv2d(mid, cout, kernel_size=k, stride=s, padding=p),
                               nn.ReLU(inplace=True))
                 for cin, mid, cout, s, p, k in specs]
        _xavier_init(nn.ModuleList(extra))
        fc = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=False),
            nn.Conv2d(512, 1024, kernel_size=3, padding=6, dilation=6),  # fc6, dilated
            nn.ReLU(inplace=True),
            nn.Conv2d(1024, 1024, kernel_size=1),  # fc7
            nn.ReLU(inplace=True))
        _xavier_init(fc)
        # conv5 stage (pool4 .. relu5_3, without pool5), then fc6 / fc7
        tail = [backbone[i] for i in range(pool4, len(backbone) - 1)]
        self.extra = nn.ModuleList([nn.Sequential(*tail, fc)] + extra)

    def forward(self, x: Tensor) -> OrderedDict:
        x = self.features(x)
        maps = [self.scale_weight.view(1, -1, 1, 1) * F.normalize(x)]
        for block in self.extra:
            x = block(x)
            maps.append(x)
        return OrderedDict((str(i), m) for i, m in enumerate(maps))


def _vgg_extractor(backbone, highres: bool, trainable_layers: int) -> SSDFeatureExtractorVGG:
    """Freezes all but the last ``trainable_layers`` (0-5) VGG stages of ``backbone``'s
    features and wraps them in an :class:`SSDFeatureExtractorVGG`."""
    body = backbone.features
    starts = [0] + [i for i, m in enumerate(body) if isinstance(m, nn.MaxPool2d)][:-1]
    n_stages = len(starts)
    if not 0 <= trainable_layers <= n_stages:
        raise ValueError(f"trainable_layers should be in the range [0, {n_stages}]. "
                         f"Instead got {trainable_layers}")
    frozen_until = len(body) if trainable_layers == 0 else starts[n_stages - trainable_layers]
    for i in range(frozen_until):
        for p in body[i].parameters():
            p.requires_grad_(False)
    return SSDFeatureExtractorVGG(body, highres)


class SSD300_VGG16_Weights(WeightsEnum):
    """COCO weights of ``ssd300_vgg16`` (torchvision's published checkpoint)."""

    COCO_V1 = Weights(
        url="https://download.pytorch.org/models/ssd300_vgg16_coco-b556d3b4.pth",
        transforms=_presets.ObjectDetection,
        meta={
            "num_params": 35641826,
            "categories": _COCO_CATEGORIES,
            "min_size": (1, 1),
            "recipe": "https://github.com/pytorch/vision/tree/main/references/detection"
                      "#ssd300-vgg16",
            "_metrics": {"COCO-val2017": {"box_map": 25.1}},
            "_ops": 34.858,
            "_file_size": 135.988,
            "_docs": "These weights were produced by following a similar training recipe as "
                     "on the paper.",
        },
    )
    DEFAULT = COCO_V1


def _ssd_legacy(weights_enum, backbone_weights):
    """Maps the deprecated ``pretrained`` / ``pretrained_backbone`` flags (with a
    warning) onto ``weights`` / ``weights_backbone`` (``weights_enum.COCO_V1`` and
    ``backbone_weights``)."""
    renames = (("pretrained", "weights", lambda: weights_enum.COCO_V1),
               ("pretrained_backbone", "weights_backbone", lambda: backbone_weights))

    def deco(builder):
        @functools.wraps(builder)
        def wrapper(*args, **kwargs):
            for old, new, pick in renames:
                if old in kwargs:
                    flag = kwargs.pop(old)
                    warnings.warn(f"The parameter '{old}' is deprecated, please use '{new}' "
                                  "instead.", UserWarning, stacklevel=2)
                    kwargs[new] = pick() if flag else None
            return builder(*args, **kwargs)

        wrapper._weights_enum = weights_enum
        return wrapper

    return deco


@register_model()
@_ssd_legacy(SSD300_VGG16_Weights, VGG16_Weights.IMAGENET1K_FEATURES)
def ssd300_vgg16(*, weights=None, progress=True, num_classes=None,
                 weights_backbone=VGG16_Weights.IMAGENET1K_FEATURES,
                 trainable_backbone_layers=None, **kwargs) -> SSD:
    """The SSD300 model from `"SSD: Single Shot MultiBox Detector"
    <https://arxiv.org/abs/1512.02325>`_: a VGG-16 feature extractor, six maps of
    4-6 default boxes per cell, 300x300 inputs normalised with the mean and 1/255 scale of
    the original Caffe VGG weights.

    ``weights``: a :class:`SSD300_VGG16_Weights` (COCO, 91 classes) or None.
    ``weights_backbone`` defaults to VGG-16 ImageNet features; pass None for a fully random
    model. ``trainable_backbone_layers`` (0-5) defaults to 4 with pretrained weights, else
    5. Other keyword arguments go to :class:`SSD`.
    """
    if "size" in kwargs:
        warnings.warn("The size of the model is already fixed; ignoring the parameter.")
        kwargs.pop("size")
    weights = SSD300_VGG16_Weights.verify(weights)
    weights_backbone, num_classes = _pin_classes(
        weights, VGG16_Weights.verify(weights_backbone), num_classes)
    pretrained_any = weights is not None or weights_backbone is not None
    n_trainable = _validate_trainable_layers(pretrained_any, trainable_backbone_layers, 5, 4)
    body = vgg16(weights=weights_backbone, progress=progress)
    backbone = _vgg_extractor(body, False, n_trainable)
    anchors = DefaultBoxGenerator([[2], [2, 3], [2, 3], [2, 3], [2], [2]],
                                  scales=[0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05],
                                  steps=[8, 16, 32, 64, 100, 300])
    options = {"image_mean": [0.48235, 0.45882, 0.40784],
               "image_std": [1.0 / 255.0, 1.0 / 255.0, 1.0 / 255.0]}
    options.update(kwargs)
    model = SSD(backbone, anchors, (300, 300), num_classes, **options)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model
