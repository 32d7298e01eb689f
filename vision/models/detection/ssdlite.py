"""SSDlite (Sandler et al., 2018, "MobileNetV2: Inverted Residuals and Linear
Bottlenecks", https://arxiv.org/abs/1801.04381; Howard et al., 2019, "Searching for
MobileNetV3", https://arxiv.org/abs/1905.02244): SSD with depthwise-separable prediction
heads and extra blocks over a MobileNetV3-Large, and the ``ssdlite320_mobilenet_v3_large``
builder with torchvision's COCO checkpoint."""

from __future__ import annotations

from functools import partial

from ember import nn

from ...ops.misc import Conv2dNormActivation
from ...transforms import _presets
from .. import mobilenetv3
from .._api import Weights, WeightsEnum, register_model
from ..mobilenetv3 import MobileNet_V3_Large_Weights
from . import _utils as det_utils
from ._meta import _COCO_CATEGORIES
from .anchor_utils import DefaultBoxGenerator
from .backbone_utils import _validate_trainable_layers
from .faster_rcnn import _pin_classes
from .ssd import SSD, SSDScoringHead, _ssd_legacy

__all__ = ["SSDLiteHead", "SSDLiteClassificationHead", "SSDLiteRegressionHead",
           "SSDLiteFeatureExtractorMobileNet", "SSDLite320_MobileNet_V3_Large_Weights",
           "ssdlite320_mobilenet_v3_large"]


def _normal_init(conv: nn.Module) -> None:
    """N(0, 0.03) weights and zero biases for every convolution inside ``conv``."""
    for m in conv.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.weight, mean=0.0, std=0.03)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0.0)


def _prediction_block(in_channels: int, out_channels: int, kernel_size: int,
                      norm_layer) -> nn.Sequential:
    """Depthwise ``kernel_size`` conv + norm + ReLU6, then a pointwise conv with bias."""
    return nn.Sequential(
        Conv2dNormActivation(in_channels, in_channels, kernel_size=kernel_size,
                             groups=in_channels, norm_layer=norm_layer,
                             activation_layer=nn.ReLU6),
        nn.Conv2d(in_channels, out_channels, 1))


def _extra_block(in_channels: int, out_channels: int, norm_layer) -> nn.Sequential:
    """A stride-2 inverted bottleneck without residual: 1x1 down to ``out_channels // 2``,
    3x3 depthwise with stride 2, 1x1 up to ``out_channels``; each with norm and ReLU6."""
    mid = out_channels // 2
    relu6 = {"norm_layer": norm_layer, "activation_layer": nn.ReLU6}
    return nn.Sequential(
        Conv2dNormActivation(in_channels, mid, kernel_size=1, **relu6),
        Conv2dNormActivation(mid, mid, kernel_size=3, stride=2, groups=mid, **relu6),
        Conv2dNormActivation(mid, out_channels, kernel_size=1, **relu6))


class SSDLiteClassificationHead(SSDScoringHead):
    """Per map k: a 3x3 depthwise prediction block giving ``num_classes`` logits for each
    of the ``num_anchors[k]`` default boxes of a cell."""

    def __init__(self, in_channels: list[int], num_anchors: list[int], num_classes: int,
                 norm_layer) -> None:
        blocks = nn.ModuleList([_prediction_block(c, num_classes * a, 3, norm_layer)
                                for c, a in zip(in_channels, num_anchors)])
        _normal_init(blocks)
        super().__init__(blocks, num_classes)


class SSDLiteRegressionHead(SSDScoringHead):
    """Per map k: a 3x3 depthwise prediction block giving four box deltas for each of the
    ``num_anchors[k]`` default boxes of a cell."""

    def __init__(self, in_channels: list[int], num_anchors: list[int], norm_layer) -> None:
        blocks = nn.ModuleList([_prediction_block(c, 4 * a, 3, norm_layer)
                                for c, a in zip(in_channels, num_anchors)])
        _normal_init(blocks)
        super().__init__(blocks, 4)


class SSDLiteHead(nn.Module):
    """SSDlite's prediction head: ``classification_head`` and ``regression_head``."""

    def __init__(self, in_channels: list[int], num_anchors: list[int], num_classes: int,
                 norm_layer) -> None:
        super().__init__()
        self.classification_head = SSDLiteClassificationHead(in_channels, num_anchors,
                                                             num_classes, norm_layer)
        self.regression_head = SSDLiteRegressionHead(in_channels, num_anchors, norm_layer)

    def forward(self, x) -> dict:
        """``{"bbox_regression": (N, R, 4), "cls_logits": (N, R, K)}``."""
        return {"bbox_regression": self.regression_head(x),
                "cls_logits": self.classification_head(x)}


class SSDLiteFeatureExtractorMobileNet(nn.Module):
    """Six SSDlite maps from a MobileNet's ``features`` (``backbone``): the expansion
    output of block ``c4_pos`` (stride 16), the network's last map (stride 32), and four
    :func:`_extra_block` maps of 512, 256, 256 and 128 channels (times ``width_mult``, at
    least ``min_depth``)."""

    def __init__(self, backbone: nn.Module, c4_pos: int, norm_layer, width_mult: float = 1.0,
                 min_depth: int = 16) -> None:
        super().__init__()
        if backbone[c4_pos].use_res_connect:
            raise ValueError("backbone[c4_pos].use_res_connect should be False")
        split_block = backbone[c4_pos].block
        head_part = [backbone[i] for i in range(c4_pos)] + [split_block[0]]
        tail_part = [split_block[1:]] + [backbone[i] for i in range(c4_pos + 1, len(backbone))]
        self.features = nn.Sequential(nn.Sequential(*head_part), nn.Sequential(*tail_part))

        def depth(d: int) -> int:
            return max(min_depth, int(d * width_mult))

        widths = [backbone[-1].out_channels] + [depth(d) for d in (512, 256, 256, 128)]
        self.extra = nn.ModuleList([_extra_block(cin, cout, norm_layer)
                                    for cin, cout in zip(widths[:-1], widths[1:])])
        _normal_init(self.extra)

    def forward(self, x):
        from collections import OrderedDict

        maps = []
        for part in self.features:
            x = part(x)
            maps.append(x)
        for block in self.extra:
            x = block(x)
            maps.append(x)
        return OrderedDict((str(i), m) for i, m in enumerate(maps))


def _mobilenet_extractor(backbone, trainable_layers: int, norm_layer):
    """Freezes all but the last ``trainable_layers`` stages of a MobileNet's features
    (stages start at its stride-2 blocks) and wraps them in a
    :class:`SSDLiteFeatureExtractorMobileNet` split at the last stride-2 block."""
    body = backbone.features
    starts = [0] + [i for i, b in enumerate(body) if getattr(b, "_is_cn", False)] \
        + [len(body) - 1]
    n_stages = len(starts)
    if not 0 <= trainable_layers <= n_stages:
        raise ValueError(f"Trainable layers should be in the range [0,{n_stages}], "
                         f"got {trainable_layers} ")
    frozen_until = len(body) if trainable_layers == 0 else starts[n_stages - trainable_layers]
    for i in range(frozen_until):
        for p in body[i].parameters():
            p.requires_grad_(False)
    return SSDLiteFeatureExtractorMobileNet(body, starts[-2], norm_layer)


class SSDLite320_MobileNet_V3_Large_Weights(WeightsEnum):
    """COCO weights of ``ssdlite320_mobilenet_v3_large`` (torchvision's published
    checkpoint)."""

    COCO_V1 = Weights(
        url="https://download.pytorch.org/models/ssdlite320_mobilenet_v3_large_coco-a79551df.pth",
        transforms=_presets.ObjectDetection,
        meta={
            "num_params": 3440060,
            "categories": _COCO_CATEGORIES,
            "min_size": (1, 1),
            "recipe": "https://github.com/pytorch/vision/tree/main/references/detection"
                      "#ssdlite320-mobilenetv3-large",
            "_metrics": {"COCO-val2017": {"box_map": 21.3}},
            "_ops": 0.583,
            "_file_size": 13.418,
            "_docs": "These weights were produced by following a similar training recipe as "
                     "on the paper.",
        },
    )
    DEFAULT = COCO_V1


@register_model()
@_ssd_legacy(SSDLite320_MobileNet_V3_Large_Weights, MobileNet_V3_Large_Weights.IMAGENET1K_V1)
def ssdlite320_mobilenet_v3_large(*, weights=None, progress=True, num_classes=None,
                                  weights_backbone=MobileNet_V3_Large_Weights.IMAGENET1K_V1,
                                  trainable_backbone_layers=None, norm_layer=None,
                                  **kwargs) -> SSD:
    """SSDlite with a MobileNetV3-Large backbone at 320x320 (arXiv:1905.02244): six maps
    of 6 default boxes per cell (scales 0.2-0.95), depthwise-separable heads, batch norm
    with eps 0.001 and momentum 0.03 by default (``norm_layer``).

    ``weights``: a :class:`SSDLite320_MobileNet_V3_Large_Weights` (COCO, 91 classes) or
    None. ``weights_backbone`` defaults to ImageNet MobileNetV3-Large weights; without them
    the backbone's tail is halved ("reduced tail") and initialised like the heads.
    ``trainable_backbone_layers`` (0-6) defaults to 6. Other keyword arguments go to
    :class:`SSD` (defaults: score_thresh 0.001, nms_thresh 0.55, 300 detections, 300
    candidates, mean and std 0.5).
    """
    if "size" in kwargs:
        import warnings

        warnings.warn("The size of the model is already fixed; ignoring the parameter.")
        kwargs.pop("size")
    weights = SSDLite320_MobileNet_V3_Large_Weights.verify(weights)
    weights_backbone, num_classes = _pin_classes(
        weights, MobileNet_V3_Large_Weights.verify(weights_backbone), num_classes)
    pretrained_any = weights is not None or weights_backbone is not None
    n_trainable = _validate_trainable_layers(pretrained_any, trainable_backbone_layers, 6, 6)
    if norm_layer is None:
        norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.03)
    body = mobilenetv3.mobilenet_v3_large(weights=weights_backbone, progress=progress,
                                          norm_layer=norm_layer,
                                          reduced_tail=weights_backbone is None)
    if weights_backbone is None:
        _normal_init(body)
    backbone = _mobilenet_extractor(body, n_trainable, norm_layer)
    size = (320, 320)
    anchors = DefaultBoxGenerator([[2, 3] for _ in range(6)], min_ratio=0.2, max_ratio=0.95)
    out_channels = det_utils.retrieve_out_channels(backbone, size)
    n_anchors = anchors.num_anchors_per_location()
    if len(out_channels) != len(anchors.aspect_ratios):
        raise ValueError(f"The length of the output channels from the backbone "
                         f"({len(out_channels)}) do not match the length of the anchor "
                         f"generator aspect ratios ({len(anchors.aspect_ratios)})")
    options = {"score_thresh": 0.001, "nms_thresh": 0.55, "detections_per_img": 300,
               "topk_candidates": 300, "image_mean": [0.5, 0.5, 0.5],
               "image_std": [0.5, 0.5, 0.5]}
    options.update(kwargs)
    model = SSD(backbone, anchors, size, num_classes,
                head=SSDLiteHead(out_channels, n_anchors, num_classes, norm_layer), **options)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model
