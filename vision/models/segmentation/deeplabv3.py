"""DeepLabV3 (Chen et al., "Rethinking Atrous Convolution for Semantic Image Segmentation",
arXiv:1706.05587) on a dilated ResNet or MobileNetV3-Large, as
``torchvision.models.segmentation.deeplabv3``: the atrous spatial pyramid pooling head
with torchvision's module names and ``state_dict`` keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ember
from ember import Tensor, nn

from .._api import WeightsEnum
from .._api import register_model as _register_model
from ..mobilenetv3 import MobileNet_V3_Large_Weights
from ..resnet import ResNet50_Weights, ResNet101_Weights
from ._utils import (
    _legacy_interface,
    _load,
    _mobilenet_features,
    _resnet_features,
    _resolve,
    _SimpleSegmentationModel,
    _voc_weights,
)
from .fcn import FCNHead

__all__ = ["DeepLabV3", "DeepLabV3_ResNet50_Weights", "DeepLabV3_ResNet101_Weights",
           "DeepLabV3_MobileNet_V3_Large_Weights", "deeplabv3_mobilenet_v3_large",
           "deeplabv3_resnet50", "deeplabv3_resnet101"]


class DeepLabV3(_SimpleSegmentationModel):
    """DeepLabV3 from "Rethinking Atrous Convolution for Semantic Image Segmentation"
    (https://arxiv.org/abs/1706.05587).

    Args:
        backbone (nn.Module): computes the features; it returns a dict holding the map
            "out" for the main head and, when ``aux_classifier`` is set, "aux" for it.
        classifier (nn.Module): turns the "out" features into per-class scores
            (normally a :class:`DeepLabHead`).
        aux_classifier (nn.Module, optional): second head on the "aux" features, used for
            an auxiliary loss in training.

    ``forward(x)`` returns an OrderedDict of (N, num_classes, H, W) scores at the input's
    size: "out", and "aux" when there is an auxiliary head.
    """


def _conv_bn_relu(in_channels: int, out_channels: int, kernel_size: int,
                  dilation: int = 1) -> list[nn.Module]:
    pad = dilation * (kernel_size // 2)
    return [nn.Conv2d(in_channels, out_channels, kernel_size, padding=pad, dilation=dilation,
                      bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU()]


class ASPPConv(nn.Sequential):
    """One atrous branch of :class:`ASPP`: a 3x3 convolution with the given ``dilation``
    (padded to keep the size), batch norm and ReLU."""

    def __init__(self, in_channels: int, out_channels: int, dilation: int) -> None:
        super().__init__(*_conv_bn_relu(in_channels, out_channels, 3, dilation))


class ASPPPooling(nn.Sequential):
    """The image-level branch of :class:`ASPP`: global average pooling, a 1x1 convolution
    with batch norm and ReLU, and the resulting (N, C, 1, 1) vector spread back over the
    input's height and width."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(nn.AdaptiveAvgPool2d(1), *_conv_bn_relu(in_channels, out_channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        pooled = super().forward(x)  # (N, C, 1, 1)
        # bilinear resizing of a single pixel repeats it: a broadcast does the same
        return pooled.expand(-1, -1, h, w)


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling: parallel branches on the same features (a 1x1
    convolution, one :class:`ASPPConv` per rate of ``atrous_rates``, and
    :class:`ASPPPooling`), each with ``out_channels`` channels, concatenated and projected
    back to ``out_channels`` by a 1x1 convolution, batch norm, ReLU and dropout (p=0.5).

    Submodules: ``convs`` (ModuleList of the branches, in that order) and ``project``.
    """

    def __init__(self, in_channels: int, atrous_rates: Sequence[int],
                 out_channels: int = 256) -> None:
        super().__init__()
        branches: list[nn.Module] = [nn.Sequential(*_conv_bn_relu(in_channels, out_channels, 1))]
        branches += [ASPPConv(in_channels, out_channels, int(r)) for r in atrous_rates]
        branches.append(ASPPPooling(in_channels, out_channels))
        self.convs = nn.ModuleList(branches)
        self.project = nn.Sequential(
            *_conv_bn_relu(len(branches) * out_channels, out_channels, 1), nn.Dropout(0.5))

    def forward(self, x: Tensor) -> Tensor:
        stacked = ember.cat([branch(x) for branch in self.convs], dim=1)  # (N, B*C, H, W)
        return self.project(stacked)


class DeepLabHead(nn.Sequential):
    """The DeepLabV3 classifier: :class:`ASPP` (256 channels), a 3x3 convolution with batch
    norm and ReLU, then a 1x1 convolution to ``num_classes`` scores."""

    def __init__(self, in_channels: int, num_classes: int,
                 atrous_rates: Sequence[int] = (12, 24, 36)) -> None:
        super().__init__(ASPP(in_channels, atrous_rates), *_conv_bn_relu(256, 256, 3),
                         nn.Conv2d(256, num_classes, kernel_size=1))


_DOCS = """
        These weights were trained on a subset of COCO, using only the 20 categories that are present in the Pascal VOC
        dataset.
    """  # noqa: E501


class DeepLabV3_ResNet50_Weights(WeightsEnum):
    """DeepLabV3 ResNet-50 weights trained on COCO images with the 20 Pascal VOC classes."""

    COCO_WITH_VOC_LABELS_V1 = _voc_weights(
        "deeplabv3_resnet50_coco-cd0a2569.pth", num_params=42004074,
        recipe="deeplabv3_resnet50", miou=66.4, pixel_acc=92.4, ops=178.722,
        file_size=160.515, docs=_DOCS)
    DEFAULT = COCO_WITH_VOC_LABELS_V1


class DeepLabV3_ResNet101_Weights(WeightsEnum):
    """DeepLabV3 ResNet-101 weights trained on COCO images with the 20 Pascal VOC
    classes."""

    # torchvision's meta links this file to the fcn_resnet101 recipe; kept as published
    COCO_WITH_VOC_LABELS_V1 = _voc_weights(
        "deeplabv3_resnet101_coco-586e9e4e.pth", num_params=60996202, recipe="fcn_resnet101",
        miou=67.4, pixel_acc=92.4, ops=258.743, file_size=233.217, docs=_DOCS)
    DEFAULT = COCO_WITH_VOC_LABELS_V1


class DeepLabV3_MobileNet_V3_Large_Weights(WeightsEnum):
    """DeepLabV3 MobileNetV3-Large weights trained on COCO images with the 20 Pascal VOC
    classes."""

    COCO_WITH_VOC_LABELS_V1 = _voc_weights(
        "deeplabv3_mobilenet_v3_large-fc3c493d.pth", num_params=11029328,
        recipe="deeplabv3_mobilenet_v3_large", miou=60.3, pixel_acc=91.2, ops=10.452,
        file_size=42.301, docs=_DOCS)
    DEFAULT = COCO_WITH_VOC_LABELS_V1


def _deeplab_resnet(depth: int, weights: Any, weights_enum: type[WeightsEnum],
                    weights_backbone: Any, backbone_enum: type[WeightsEnum], progress: bool,
                    num_classes: int | None, aux_loss: bool | None) -> DeepLabV3:
    weights, weights_backbone, num_classes, aux_loss = _resolve(
        weights, weights_enum, weights_backbone, backbone_enum, num_classes, aux_loss)
    backbone = _resnet_features(depth, weights_backbone, progress, aux_loss)
    aux = FCNHead(1024, num_classes) if aux_loss else None
    model = DeepLabV3(backbone, DeepLabHead(2048, num_classes), aux)
    _load(model, weights, progress)
    return model


_ARGS_DOC = """
    Args:
        weights (:class:`~ember.vision.models.segmentation.{enum}`, optional): pretrained
            weights for the whole model (see the enum for the choices); by default none.
            They fix ``num_classes`` to 21 and ``aux_loss`` to True.
        progress (bool, optional): show a download progress bar on stderr. Default: True.
        num_classes (int, optional): number of output classes, background included
            (default 21).
        aux_loss (bool, optional): add the auxiliary :class:`FCNHead` (output "aux") on
            {aux_tap}.
        weights_backbone (:class:`~ember.vision.models.{backbone}`, optional): pretrained
            weights for the backbone, ignored when ``weights`` is given. Default:
            ``{backbone}.IMAGENET1K_V1`` (downloaded on first use).
        **kwargs: accepted and ignored, as in torchvision.
"""


@_register_model()
@_legacy_interface(DeepLabV3_ResNet50_Weights, ResNet50_Weights)
def deeplabv3_resnet50(*, weights: DeepLabV3_ResNet50_Weights | None = None,
                       progress: bool = True, num_classes: int | None = None,
                       aux_loss: bool | None = None,
                       weights_backbone: ResNet50_Weights | None = ResNet50_Weights.IMAGENET1K_V1,
                       **kwargs: Any) -> DeepLabV3:
    return _deeplab_resnet(50, weights, DeepLabV3_ResNet50_Weights, weights_backbone,
                           ResNet50_Weights, progress, num_classes, aux_loss)


@_register_model()
@_legacy_interface(DeepLabV3_ResNet101_Weights, ResNet101_Weights)
def deeplabv3_resnet101(*, weights: DeepLabV3_ResNet101_Weights | None = None,
                        progress: bool = True, num_classes: int | None = None,
                        aux_loss: bool | None = None,
                        weights_backbone: ResNet101_Weights | None =
                        ResNet101_Weights.IMAGENET1K_V1,
                        **kwargs: Any) -> DeepLabV3:
    return _deeplab_resnet(101, weights, DeepLabV3_ResNet101_Weights, weights_backbone,
                           ResNet101_Weights, progress, num_classes, aux_loss)


@_register_model()
@_legacy_interface(DeepLabV3_MobileNet_V3_Large_Weights, MobileNet_V3_Large_Weights)
def deeplabv3_mobilenet_v3_large(
        *, weights: DeepLabV3_MobileNet_V3_Large_Weights | None = None, progress: bool = True,
        num_classes: int | None = None, aux_loss: bool | None = None,
        weights_backbone: MobileNet_V3_Large_Weights | None =
        MobileNet_V3_Large_Weights.IMAGENET1K_V1,
        **kwargs: Any) -> DeepLabV3:
    weights, weights_backbone, num_classes, aux_loss = _resolve(
        weights, DeepLabV3_MobileNet_V3_Large_Weights, weights_backbone,
        MobileNet_V3_Large_Weights, num_classes, aux_loss)
    backbone, high, low = _mobilenet_features(weights_backbone, progress,
                                              ("out", "aux" if aux_loss else None))
    aux = FCNHead(low, num_classes) if aux_loss else None
    model = DeepLabV3(backbone, DeepLabHead(high, num_classes), aux)
    _load(model, weights, progress)
    return model


for _fn, _what, _enum, _bb, _tap in (
        (deeplabv3_resnet50, "a dilated ResNet-50 backbone (output stride 8)",
         "DeepLabV3_ResNet50_Weights", "ResNet50_Weights", "``layer3``"),
        (deeplabv3_resnet101, "a dilated ResNet-101 backbone (output stride 8)",
         "DeepLabV3_ResNet101_Weights", "ResNet101_Weights", "``layer3``"),
        (deeplabv3_mobilenet_v3_large,
         "a dilated MobileNetV3-Large backbone (output stride 16)",
         "DeepLabV3_MobileNet_V3_Large_Weights", "MobileNet_V3_Large_Weights",
         "the first stride-8 block")):
    _fn.__doc__ = (f"DeepLabV3 with {_what}, from `Rethinking Atrous Convolution for "
                   "Semantic Image Segmentation <https://arxiv.org/abs/1706.05587>`_.\n"
                   + _ARGS_DOC.format(enum=_enum, backbone=_bb, aux_tap=_tap))
del _fn, _what, _enum, _bb, _tap
