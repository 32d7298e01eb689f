"""Faster R-CNN (Ren et al., 2015, https://arxiv.org/abs/1506.01497): the ``FasterRCNN``
detector, its box heads (``TwoMLPHead``, and ``FastRCNNConvFCHead`` of the v2 recipe) and
predictor (``FastRCNNPredictor``), and the ``fasterrcnn_resnet50_fpn`` /
``fasterrcnn_resnet50_fpn_v2`` builders with the COCO checkpoints torchvision publishes
(read by ``ember.load`` without torch)."""

from __future__ import annotations

import functools
import warnings

from ember import nn
from ember.nn import functional as F

from ...ops.misc import Conv2dNormActivation, FrozenBatchNorm2d
from ...ops.poolers import MultiScaleRoIAlign
from ...transforms import _presets
from .._api import Weights, WeightsEnum, register_model
from ..resnet import ResNet50_Weights, resnet50
from . import _utils as _det
from ._meta import _COCO_CATEGORIES
from .anchor_utils import AnchorGenerator
from .backbone_utils import _resnet_fpn_extractor, _validate_trainable_layers
from .generalized_rcnn import GeneralizedRCNN
from .roi_heads import RoIHeads
from .rpn import RegionProposalNetwork, RPNHead
from .transform import GeneralizedRCNNTransform

__all__ = ["FasterRCNN", "FasterRCNN_ResNet50_FPN_Weights", "FasterRCNN_ResNet50_FPN_V2_Weights",
           "fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn_v2", "TwoMLPHead",
           "FastRCNNConvFCHead", "FastRCNNPredictor"]

# one anchor size per FPN level (P2-P6), three aspect ratios each
_FPN_ANCHOR_SIZES = ((32,), (64,), (128,), (256,), (512,))
_FPN_ASPECT_RATIOS = (0.5, 1.0, 2.0)
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_HIDDEN = 1024  # width of the default TwoMLPHead


def _default_anchorgen() -> AnchorGenerator:
    return AnchorGenerator(_FPN_ANCHOR_SIZES,
                           tuple(_FPN_ASPECT_RATIOS for _ in _FPN_ANCHOR_SIZES))


def _check_components(backbone, num_classes, rpn_anchor_generator, box_roi_pool,
                      box_predictor) -> None:
    if not hasattr(backbone, "out_channels"):
        raise ValueError("backbone should contain an attribute out_channels specifying the "
                         "number of output channels (assumed to be the same for all the "
                         "levels)")
    if rpn_anchor_generator is not None and not isinstance(rpn_anchor_generator,
                                                           AnchorGenerator):
        raise TypeError("rpn_anchor_generator should be of type AnchorGenerator or None "
                        f"instead of {type(rpn_anchor_generator)}")
    if box_roi_pool is not None and not isinstance(box_roi_pool, MultiScaleRoIAlign):
        raise TypeError("box_roi_pool should be of type MultiScaleRoIAlign or None "
                        f"instead of {type(box_roi_pool)}")
    if num_classes is not None and box_predictor is not None:
        raise ValueError("num_classes should be None when box_predictor is specified")
    if num_classes is None and box_predictor is None:
        raise ValueError("num_classes should not be None when box_predictor is not "
                         "specified")


class FasterRCNN(GeneralizedRCNN):
    """Faster R-CNN: a backbone (with an ``out_channels`` attribute, returning one tensor
    or an ordered dict of feature maps), a region proposal network and RoI box heads.

    Inputs are a list of float (C, H, W) images in [0, 1], of any sizes. In training mode
    the call also takes one target dict per image, ``boxes`` (float, (N, 4), x1y1x2y2 with
    0 <= x1 < x2 <= W, 0 <= y1 < y2 <= H) and ``labels`` (int64, (N,)), and returns the
    dict of RPN and box-head losses. In eval mode it returns one dict per image with
    ``boxes``, ``labels`` and ``scores``, boxes in input-image coordinates.

    Give ``num_classes`` (background included) or your own ``box_predictor``, not both.
    ``min_size``/``max_size``/``image_mean``/``image_std`` configure the
    ``GeneralizedRCNNTransform``; the ``rpn_*`` arguments configure the
    ``RegionProposalNetwork`` (``*_train``/``*_test`` counts per mode), the ``box_*``
    arguments and ``bbox_reg_weights`` the ``RoIHeads``. Unset modules get the defaults:
    FPN anchors of sizes 32-512, an ``RPNHead``, a 7x7 ``MultiScaleRoIAlign`` over maps
    "0"-"3", a ``TwoMLPHead`` of width 1024 and a ``FastRCNNPredictor``.
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
                 bbox_reg_weights=None, **kwargs) -> None:
        _check_components(backbone, num_classes, rpn_anchor_generator, box_roi_pool,
                          box_predictor)
        channels = backbone.out_channels

        anchors = _default_anchorgen() if rpn_anchor_generator is None else rpn_anchor_generator
        if rpn_head is None:
            rpn_head = RPNHead(channels, anchors.num_anchors_per_location()[0])
        proposer = RegionProposalNetwork(
            anchors, rpn_head, rpn_fg_iou_thresh, rpn_bg_iou_thresh, rpn_batch_size_per_image,
            rpn_positive_fraction,
            {"training": rpn_pre_nms_top_n_train, "testing": rpn_pre_nms_top_n_test},
            {"training": rpn_post_nms_top_n_train, "testing": rpn_post_nms_top_n_test},
            rpn_nms_thresh, score_thresh=rpn_score_thresh)

        if box_roi_pool is None:
            box_roi_pool = MultiScaleRoIAlign(featmap_names=[str(i) for i in range(4)],
                                              output_size=7, sampling_ratio=2)
        if box_head is None:
            side = box_roi_pool.output_size[0]
            box_head = TwoMLPHead(channels * side * side, _HIDDEN)
        if box_predictor is None:
            box_predictor = FastRCNNPredictor(_HIDDEN, num_classes)
        heads = RoIHeads(box_roi_pool, box_head, box_predictor, box_fg_iou_thresh,
                         box_bg_iou_thresh, box_batch_size_per_image, box_positive_fraction,
                         bbox_reg_weights, box_score_thresh, box_nms_thresh,
                         box_detections_per_img)

        prep = GeneralizedRCNNTransform(
            min_size, max_size,
            list(_IMAGENET_MEAN) if image_mean is None else image_mean,
            list(_IMAGENET_STD) if image_std is None else image_std, **kwargs)
        super().__init__(backbone, proposer, heads, prep)


class TwoMLPHead(nn.Module):
    """Flattens pooled RoI features and applies two ReLU fully connected layers
    (``fc6``: in_channels -> representation_size, ``fc7``: same width)."""

    def __init__(self, in_channels: int, representation_size: int) -> None:
        super().__init__()
        self.fc6 = nn.Linear(in_channels, representation_size)
        self.fc7 = nn.Linear(representation_size, representation_size)

    def forward(self, x):
        h = F.relu(self.fc6(x.flatten(start_dim=1)))
        return F.relu(self.fc7(h))


class FastRCNNConvFCHead(nn.Sequential):
    """Box head of the v2 recipe: 3x3 ``Conv2dNormActivation`` blocks of widths
    ``conv_layers`` over the pooled (C, H, W) = ``input_size`` features, a flatten, then
    ReLU fully connected layers of widths ``fc_layers``. Convolutions start from Kaiming
    normal weights (fan-out) and zero biases."""

    def __init__(self, input_size: tuple[int, int, int], conv_layers: list[int],
                 fc_layers: list[int], norm_layer=None) -> None:
        channels, height, width = input_size
        blocks: list[nn.Module] = []
        for out in conv_layers:
            blocks.append(Conv2dNormActivation(channels, out, norm_layer=norm_layer))
            channels = out
        blocks.append(nn.Flatten())
        features = channels * height * width
        for out in fc_layers:
            blocks += [nn.Linear(features, out), nn.ReLU(inplace=True)]
            features = out
        super().__init__(*blocks)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)


class FastRCNNPredictor(nn.Module):
    """Linear class scores (``cls_score``) and per-class box deltas (``bbox_pred``) for
    ``num_classes`` classes, background included."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.cls_score = nn.Linear(in_channels, num_classes)
        self.bbox_pred = nn.Linear(in_channels, 4 * num_classes)

    def forward(self, x):
        if x.dim() == 4 and list(x.shape[2:]) != [1, 1]:
            raise ValueError("x has the wrong shape, expecting the last two dimensions to be "
                             f"[1,1] instead of {list(x.shape[2:])}")
        flat = x.flatten(start_dim=1)
        return self.cls_score(flat), self.bbox_pred(flat)


class FasterRCNN_ResNet50_FPN_Weights(WeightsEnum):
    COCO_V1 = Weights(
        url="https://download.pytorch.org/models/fasterrcnn_resnet50_fpn_coco-258fb6c6.pth",
        transforms=_presets.ObjectDetection,
        meta={
            "categories": _COCO_CATEGORIES,
            "min_size": (1, 1),
            "num_params": 41755286,
            "recipe": "https://github.com/pytorch/vision/tree/main/references/detection"
                      "#faster-r-cnn-resnet-50-fpn",
            "_metrics": {"COCO-val2017": {"box_map": 37.0}},
            "_ops": 134.38,
            "_file_size": 159.743,
            "_docs": "These weights were produced by following a similar training recipe as "
                     "on the paper.",
        },
    )
    DEFAULT = COCO_V1


class FasterRCNN_ResNet50_FPN_V2_Weights(WeightsEnum):
    """COCO weights of ``fasterrcnn_resnet50_fpn_v2`` (torchvision's published
    checkpoint)."""

    COCO_V1 = Weights(
        url="https://download.pytorch.org/models/fasterrcnn_resnet50_fpn_v2_coco-dd69338a.pth",
        transforms=_presets.ObjectDetection,
        meta={
            "categories": _COCO_CATEGORIES,
            "min_size": (1, 1),
            "num_params": 43712278,
            "recipe": "https://github.com/pytorch/vision/pull/5763",
            "_metrics": {"COCO-val2017": {"box_map": 46.7}},
            "_ops": 280.371,
            "_file_size": 167.104,
            "_docs": "These weights were produced using an enhanced training recipe to boost "
                     "the model accuracy.",
        },
    )
    DEFAULT = COCO_V1


def _legacy_interface(weights_enum, pretrained_weights):
    """A builder decorator mapping the deprecated ``pretrained`` / ``pretrained_backbone``
    flags (with a warning) onto ``weights`` / ``weights_backbone``, and tagging the builder
    with its weights enum. ``pretrained_weights(flag)`` names the weights that a true
    ``pretrained`` flag stands for."""
    renames = (("pretrained", "weights", pretrained_weights),
               ("pretrained_backbone", "weights_backbone",
                lambda flag: ResNet50_Weights.IMAGENET1K_V1))

    def deco(builder):
        @functools.wraps(builder)
        def wrapper(*args, **kwargs):
            for old, new, pick in renames:
                if old not in kwargs:
                    continue
                flag = kwargs.pop(old)
                if flag and kwargs.get(new) is not None:
                    raise ValueError(f"pass either {old}= or {new}=, not both")
                warnings.warn(f"The parameter '{old}' is deprecated, please use '{new}' "
                              f"instead.", UserWarning, stacklevel=2)
                kwargs[new] = pick(flag) if flag else None
            return builder(*args, **kwargs)

        wrapper._weights_enum = weights_enum
        return wrapper

    return deco


def _pin_classes(weights, weights_backbone, num_classes, default_classes: int = 91,
                 name: str = "num_classes", meta_key: str = "categories"):
    """``(weights_backbone, num_classes)`` for a detection builder: full-model weights
    drop the backbone weights and fix the class count to their categories (a different
    explicit ``num_classes`` raises); otherwise ``num_classes`` defaults to
    ``default_classes``."""
    if weights is None:
        return weights_backbone, default_classes if num_classes is None else num_classes
    expected = len(weights.meta[meta_key])
    if num_classes not in (None, expected):
        raise ValueError(f"The parameter '{name}' expected value {expected} but got "
                         f"{num_classes} instead.")
    return None, expected


_handle_legacy = _legacy_interface(FasterRCNN_ResNet50_FPN_Weights,
                                   lambda flag: FasterRCNN_ResNet50_FPN_Weights.COCO_V1)


@register_model()
@_handle_legacy
def fasterrcnn_resnet50_fpn(*, weights=None, progress=True, num_classes=None,
                            weights_backbone=ResNet50_Weights.IMAGENET1K_V1,
                            trainable_backbone_layers=None, **kwargs) -> FasterRCNN:
    """Faster R-CNN with a ResNet-50 + FPN backbone (arXiv:1506.01497).

    ``weights``: a :class:`FasterRCNN_ResNet50_FPN_Weights` (COCO, 91 classes) or None.
    ``weights_backbone`` defaults, as in torchvision, to ImageNet ResNet-50 weights
    (downloaded on first use); pass None for a fully random model. Without any pretrained
    weights the backbone uses ``nn.BatchNorm2d`` and trains all 5 stages; otherwise
    ``FrozenBatchNorm2d`` and ``trainable_backbone_layers`` stages (default 3). Other
    keyword arguments go to :class:`FasterRCNN`; see it for inputs and outputs.
    """
    weights = FasterRCNN_ResNet50_FPN_Weights.verify(weights)
    weights_backbone, num_classes = _pin_classes(
        weights, ResNet50_Weights.verify(weights_backbone), num_classes)

    return _build_resnet50_fpn(FasterRCNN, weights, weights_backbone,
                               trainable_backbone_layers, progress,
                               FasterRCNN_ResNet50_FPN_Weights.COCO_V1,
                               num_classes=num_classes, **kwargs)


def _build_resnet50_fpn(model_cls, weights, weights_backbone, trainable_backbone_layers,
                        progress, eps0_weights, **model_kwargs):
    """The v1 R-CNN builders' shared body: ``model_cls`` over a ResNet-50 + FPN backbone
    (``FrozenBatchNorm2d`` and ``trainable_backbone_layers`` stages, default 3, when anything
    is pretrained; ``nn.BatchNorm2d`` and all 5 stages otherwise), then ``weights`` loaded;
    ``eps0_weights`` is the checkpoint trained with FrozenBatchNorm2d eps = 0."""
    pretrained_any = not (weights is None and weights_backbone is None)
    n_trainable = _validate_trainable_layers(pretrained_any, trainable_backbone_layers, 5, 3)
    body = resnet50(weights=weights_backbone, progress=progress,
                    norm_layer=FrozenBatchNorm2d if pretrained_any else nn.BatchNorm2d)
    model = model_cls(_resnet_fpn_extractor(body, n_trainable), **model_kwargs)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
        if weights is eps0_weights:
            _det.overwrite_eps(model, 0.0)
    return model


def _resnet50_fpn_v2_parts(weights, weights_backbone, trainable_backbone_layers, progress):
    """The v2 recipe's backbone (ResNet-50 and FPN with ``nn.BatchNorm2d``) and the
    ``FasterRCNN`` keyword arguments it changes (a two-conv RPN head and a 4-conv + 1-fc
    box head with batch norm)."""
    pretrained_any = not (weights is None and weights_backbone is None)
    n_trainable = _validate_trainable_layers(pretrained_any, trainable_backbone_layers, 5, 3)
    body = resnet50(weights=weights_backbone, progress=progress)
    backbone = _resnet_fpn_extractor(body, n_trainable, norm_layer=nn.BatchNorm2d)
    anchors = _default_anchorgen()
    width = backbone.out_channels
    parts = {
        "rpn_anchor_generator": anchors,
        "rpn_head": RPNHead(width, anchors.num_anchors_per_location()[0], conv_depth=2),
        "box_head": FastRCNNConvFCHead((width, 7, 7), [256, 256, 256, 256], [_HIDDEN],
                                       norm_layer=nn.BatchNorm2d),
    }
    return backbone, parts


@register_model()
@_legacy_interface(FasterRCNN_ResNet50_FPN_V2_Weights,
                   lambda flag: FasterRCNN_ResNet50_FPN_V2_Weights.COCO_V1)
def fasterrcnn_resnet50_fpn_v2(*, weights=None, progress=True, num_classes=None,
                               weights_backbone=None, trainable_backbone_layers=None,
                               **kwargs) -> FasterRCNN:
    """Faster R-CNN with a ResNet-50 + FPN backbone, improved recipe (Li et al., 2021,
    "Benchmarking Detection Transfer Learning with Vision Transformers",
    arXiv:2111.11429): batch norm in the FPN and box head, a two-conv RPN head and a
    4-conv + 1-fc box head (``FastRCNNConvFCHead``).

    ``weights``: a :class:`FasterRCNN_ResNet50_FPN_V2_Weights` (COCO, 91 classes) or None;
    ``weights_backbone`` (default None) optional ImageNet ResNet-50 weights;
    ``trainable_backbone_layers`` (0-5) defaults to 3 with pretrained weights, else 5.
    Other keyword arguments go to :class:`FasterRCNN`.
    """
    weights = FasterRCNN_ResNet50_FPN_V2_Weights.verify(weights)
    weights_backbone, num_classes = _pin_classes(
        weights, ResNet50_Weights.verify(weights_backbone), num_classes)
    backbone, parts = _resnet50_fpn_v2_parts(weights, weights_backbone,
                                             trainable_backbone_layers, progress)
    model = FasterRCNN(backbone, num_classes=num_classes, **parts, **kwargs)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model
