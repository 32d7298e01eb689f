"""Lite R-ASPP (Howard et al., "Searching for MobileNetV3", arXiv:1905.02244, section 6.3)
on a dilated MobileNetV3-Large, as ``torchvision.models.segmentation.lraspp``: same module
names and ``state_dict`` keys."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ember import Tensor, nn

from .._api import WeightsEnum
from .._api import register_model as _register_model
from ..mobilenetv3 import MobileNet_V3_Large_Weights
from ._utils import (
    _legacy_interface,
    _load,
    _mobilenet_features,
    _resized,
    _resolve,
    _voc_weights,
)

__all__ = ["LRASPP", "LRASPP_MobileNet_V3_Large_Weights", "lraspp_mobilenet_v3_large"]


class LRASPPHead(nn.Module):
    """The Lite R-ASPP head on two feature maps: "high" (deep, coarse) and "low"
    (shallower, twice as fine).

    The high map goes through a 1x1 convolution, batch norm and ReLU (``cbr``) and is
    gated channel-wise by a squeeze branch (``scale``: global average pooling, 1x1
    convolution, sigmoid); the gated map is resized bilinearly to the low map's size and
    classified by ``high_classifier``, and ``low_classifier``'s scores for the low map are
    added. Returns (N, num_classes, h_low, w_low) scores.
    """

    def __init__(self, low_channels: int, high_channels: int, num_classes: int,
                 inter_channels: int) -> None:
        super().__init__()
        self.cbr = nn.Sequential(
            nn.Conv2d(high_channels, inter_channels, 1, bias=False),
            nn.BatchNorm2d(inter_channels),
            nn.ReLU(inplace=True),
        )
        self.scale = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(high_channels, inter_channels, 1, bias=False),
            nn.Sigmoid(),
        )
        self.low_classifier = nn.Conv2d(low_channels, num_classes, 1)
        self.high_classifier = nn.Conv2d(inter_channels, num_classes, 1)

    def forward(self, input: dict[str, Tensor]) -> Tensor:
        low, high = input["low"], input["high"]
        gated = self.cbr(high) * self.scale(high)  # (N, inter, h, w) * (N, inter, 1, 1)
        gated = _resized(gated, low.shape[-2:])
        return self.low_classifier(low) + self.high_classifier(gated)


class LRASPP(nn.Module):
    """Lite R-ASPP from "Searching for MobileNetV3" (https://arxiv.org/abs/1905.02244).

    Args:
        backbone (nn.Module): computes the features; it returns a dict with the deep map
            "high" and the finer map "low".
        low_channels (int): channels of the "low" map.
        high_channels (int): channels of the "high" map.
        num_classes (int): number of output classes, background included.
        inter_channels (int, optional): channels inside the head. Default: 128.

    ``forward(x)`` returns an OrderedDict ``{"out": (N, num_classes, H, W)}``, the scores
    resized bilinearly to the input's size.
    """

    def __init__(self, backbone: nn.Module, low_channels: int, high_channels: int,
                 num_classes: int, inter_channels: int = 128) -> None:
        super().__init__()
        self.backbone = backbone
        self.classifier = LRASPPHead(low_channels, high_channels, num_classes, inter_channels)

    def forward(self, input: Tensor) -> dict[str, Tensor]:
        scores = self.classifier(self.backbone(input))
        return OrderedDict(out=_resized(scores, input.shape[-2:]))


_DOCS = """
                These weights were trained on a subset of COCO, using only the 20 categories that are present in the
                Pascal VOC dataset.
            """  # noqa: E501


class LRASPP_MobileNet_V3_Large_Weights(WeightsEnum):
    """Lite R-ASPP MobileNetV3-Large weights trained on COCO images with the 20 Pascal VOC
    classes."""

    COCO_WITH_VOC_LABELS_V1 = _voc_weights(
        "lraspp_mobilenet_v3_large-d234d4ea.pth", num_params=3221538,
        recipe="lraspp_mobilenet_v3_large", miou=57.9, pixel_acc=91.2, ops=2.086,
        file_size=12.49, docs=_DOCS)
    DEFAULT = COCO_WITH_VOC_LABELS_V1


@_register_model()
@_legacy_interface(LRASPP_MobileNet_V3_Large_Weights, MobileNet_V3_Large_Weights)
def lraspp_mobilenet_v3_large(
        *, weights: LRASPP_MobileNet_V3_Large_Weights | None = None, progress: bool = True,
        num_classes: int | None = None,
        weights_backbone: MobileNet_V3_Large_Weights | None =
        MobileNet_V3_Large_Weights.IMAGENET1K_V1,
        **kwargs: Any) -> LRASPP:
    """Lite R-ASPP with a dilated MobileNetV3-Large backbone (output stride 16), from
    `Searching for MobileNetV3 <https://arxiv.org/abs/1905.02244>`_.

    The head reads the backbone's last feature map ("high", 960 channels) and the output
    of its first stride-8 block ("low", 40 channels).

    Args:
        weights (:class:`~ember.vision.models.segmentation.LRASPP_MobileNet_V3_Large_Weights`,
            optional): pretrained weights for the whole model (see the enum for the
            choices); by default none. They fix ``num_classes`` to 21.
        progress (bool, optional): show a download progress bar on stderr. Default: True.
        num_classes (int, optional): number of output classes, background included
            (default 21).
        weights_backbone (:class:`~ember.vision.models.MobileNet_V3_Large_Weights`,
            optional): pretrained weights for the backbone, ignored when ``weights`` is
            given. Default: ``MobileNet_V3_Large_Weights.IMAGENET1K_V1`` (downloaded on
            first use).
        **kwargs: ``aux_loss`` may only be falsy (this model has no auxiliary head: a true
            value raises NotImplementedError); anything else is ignored, as in torchvision.
    """
    if kwargs.pop("aux_loss", None):
        raise NotImplementedError("This model does not use auxiliary loss")
    weights, weights_backbone, num_classes, _ = _resolve(
        weights, LRASPP_MobileNet_V3_Large_Weights, weights_backbone,
        MobileNet_V3_Large_Weights, num_classes, None, uses_aux=False)
    backbone, high, low = _mobilenet_features(weights_backbone, progress, ("high", "low"))
    model = LRASPP(backbone, low, high, num_classes)
    _load(model, weights, progress)
    return model
