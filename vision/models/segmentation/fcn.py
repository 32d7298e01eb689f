"""Fully convolutional networks for semantic segmentation (Long, Shelhamer and Darrell,
arXiv:1411.4038) on a dilated ResNet, as ``torchvision.models.segmentation.fcn``: same
module names and ``state_dict`` keys, so torchvision's COCO/VOC checkpoints load as they
are."""

from __future__ import annotations

from typing import Any

from ember import nn

from .._api import WeightsEnum
from .._api import register_model as _register_model
from ..resnet import ResNet50_Weights, ResNet101_Weights
from ._utils import (
    _legacy_interface,
    _load,
    _resnet_features,
    _resolve,
    _SimpleSegmentationModel,
    _voc_weights,
)

__all__ = ["FCN", "FCN_ResNet50_Weights", "FCN_ResNet101_Weights", "fcn_resnet50",
           "fcn_resnet101"]


class FCN(_SimpleSegmentationModel):
    """FCN from "Fully Convolutional Networks for Semantic Segmentation"
    (https://arxiv.org/abs/1411.4038).

    Args:
        backbone (nn.Module): computes the features; it returns a dict holding the map
            "out" for the main head and, when ``aux_classifier`` is set, "aux" for it.
        classifier (nn.Module): turns the "out" features into per-class scores.
        aux_classifier (nn.Module, optional): second head on the "aux" features, used for
            an auxiliary loss in training.

    ``forward(x)`` returns an OrderedDict of (N, num_classes, H, W) scores at the input's
    size: "out", and "aux" when there is an auxiliary head.
    """


class FCNHead(nn.Sequential):
    """The FCN classifier: a 3x3 convolution to ``in_channels // 4`` channels with batch
    norm and ReLU, dropout (p=0.1), then a 1x1 convolution to ``channels`` scores."""

    def __init__(self, in_channels: int, channels: int) -> None:
        hidden = in_channels // 4
        super().__init__(
            nn.Conv2d(in_channels, hidden, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Conv2d(hidden, channels, kernel_size=1),
        )


_DOCS = """
        These weights were trained on a subset of COCO, using only the 20 categories that are present in the Pascal VOC
        dataset.
    """  # noqa: E501


class FCN_ResNet50_Weights(WeightsEnum):
    """FCN ResNet-50 weights trained on COCO images with the 20 Pascal VOC classes."""

    COCO_WITH_VOC_LABELS_V1 = _voc_weights(
        "fcn_resnet50_coco-1167a1af.pth", num_params=35322218, recipe="fcn_resnet50",
        miou=60.5, pixel_acc=91.4, ops=152.717, file_size=135.009, docs=_DOCS)
    DEFAULT = COCO_WITH_VOC_LABELS_V1


class FCN_ResNet101_Weights(WeightsEnum):
    """FCN ResNet-101 weights trained on COCO images with the 20 Pascal VOC classes."""

    # torchvision's meta links this file to the deeplabv3_resnet101 recipe; kept as published
    COCO_WITH_VOC_LABELS_V1 = _voc_weights(
        "fcn_resnet101_coco-7ecb50ca.pth", num_params=54314346, recipe="deeplabv3_resnet101",
        miou=63.7, pixel_acc=91.9, ops=232.738, file_size=207.711, docs=_DOCS)
    DEFAULT = COCO_WITH_VOC_LABELS_V1


def _fcn(depth: int, weights: Any, weights_enum: type[WeightsEnum], weights_backbone: Any,
         backbone_enum: type[WeightsEnum], progress: bool, num_classes: int | None,
         aux_loss: bool | None) -> FCN:
    weights, weights_backbone, num_classes, aux_loss = _resolve(
        weights, weights_enum, weights_backbone, backbone_enum, num_classes, aux_loss)
    backbone = _resnet_features(depth, weights_backbone, progress, aux_loss)
    aux = FCNHead(1024, num_classes) if aux_loss else None
    model = FCN(backbone, FCNHead(2048, num_classes), aux)
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
        aux_loss (bool, optional): add the auxiliary head on ``layer3`` (output "aux").
        weights_backbone (:class:`~ember.vision.models.{backbone}`, optional): pretrained
            weights for the ResNet backbone, ignored when ``weights`` is given. Default:
            ``{backbone}.IMAGENET1K_V1`` (downloaded on first use).
        **kwargs: accepted and ignored, as in torchvision.
"""


@_register_model()
@_legacy_interface(FCN_ResNet50_Weights, ResNet50_Weights)
def fcn_resnet50(*, weights: FCN_ResNet50_Weights | None = None, progress: bool = True,
                 num_classes: int | None = None, aux_loss: bool | None = None,
                 weights_backbone: ResNet50_Weights | None = ResNet50_Weights.IMAGENET1K_V1,
                 **kwargs: Any) -> FCN:
    return _fcn(50, weights, FCN_ResNet50_Weights, weights_backbone, ResNet50_Weights,
                progress, num_classes, aux_loss)


@_register_model()
@_legacy_interface(FCN_ResNet101_Weights, ResNet101_Weights)
def fcn_resnet101(*, weights: FCN_ResNet101_Weights | None = None, progress: bool = True,
                  num_classes: int | None = None, aux_loss: bool | None = None,
                  weights_backbone: ResNet101_Weights | None = ResNet101_Weights.IMAGENET1K_V1,
                  **kwargs: Any) -> FCN:
    return _fcn(101, weights, FCN_ResNet101_Weights, weights_backbone, ResNet101_Weights,
                progress, num_classes, aux_loss)


for _fn, _depth, _enum, _bb in ((fcn_resnet50, 50, "FCN_ResNet50_Weights", "ResNet50_Weights"),
                                (fcn_resnet101, 101, "FCN_ResNet101_Weights",
                                 "ResNet101_Weights")):
    _fn.__doc__ = (f"FCN with a dilated ResNet-{_depth} backbone (output stride 8), from "
                   "`Fully Convolutional Networks for Semantic Segmentation "
                   "<https://arxiv.org/abs/1411.4038>`_.\n"
                   + _ARGS_DOC.format(enum=_enum, backbone=_bb))
del _fn, _depth, _enum, _bb
