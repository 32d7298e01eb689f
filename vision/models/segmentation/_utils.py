"""Pieces the segmentation models share: the backbone-plus-heads model whose outputs are
resized to the input, the backbone factories (dilated ResNet, dilated MobileNetV3-Large
features), the weights declaration with its VOC categories, and the builder checks on
``weights`` / ``num_classes`` / ``aux_loss`` / ``weights_backbone``."""

from __future__ import annotations

import functools
import warnings
from collections import OrderedDict
from typing import Any

from ember import Tensor, nn
from ember.nn import functional as F

from ...transforms._presets import SemanticSegmentation
from .._api import Weights, WeightsEnum
from .._utils import IntermediateLayerGetter

__all__ = ["_SimpleSegmentationModel", "_VOC_CATEGORIES", "_voc_weights", "_resized",
           "_pin_value", "_legacy_interface", "_resnet_features", "_mobilenet_features",
           "_load", "_resolve"]

# Pascal VOC's 20 object classes after the background class (index = label id)
_VOC_CATEGORIES = [
    "__background__", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
]

_DOWNLOADS = "https://download.pytorch.org/models/"
_RECIPES = "https://github.com/pytorch/vision/tree/main/references/segmentation#"


def _voc_weights(file: str, *, num_params: int, recipe: str, miou: float, pixel_acc: float,
                 ops: float, file_size: float, docs: str) -> Weights:
    """A ``Weights`` entry of torchvision's COCO-trained, VOC-labelled segmentation files:
    ``file`` under its download folder, ``recipe`` the anchor of its reference README."""
    meta = {
        "min_size": (1, 1),
        "categories": _VOC_CATEGORIES,
        "num_params": num_params,
        "recipe": _RECIPES + recipe,
        "_metrics": {"COCO-val2017-VOC-labels": {"miou": miou, "pixel_acc": pixel_acc}},
        "_ops": ops,
        "_file_size": file_size,
        "_docs": docs,
    }
    return Weights(url=_DOWNLOADS + file,
                   transforms=functools.partial(SemanticSegmentation, resize_size=520),
                   meta=meta)


def _resized(logits: Tensor, size) -> Tensor:
    """(N, K, h, w) -> (N, K, *size): bilinear, half-pixel centres (align_corners=False)."""
    return F.interpolate(logits, size=tuple(size), mode="bilinear", align_corners=False)


class _SimpleSegmentationModel(nn.Module):
    """A feature extractor and one or two dense heads.

    ``backbone(x)`` must return a dict with the feature map ``"out"`` (and ``"aux"`` when
    ``aux_classifier`` is given). Each head turns its map into per-class scores, which are
    resized bilinearly to the input's height and width. ``forward`` returns an OrderedDict
    ``{"out": (N, K, H, W)}``, plus ``"aux"`` for the auxiliary head.
    """

    def __init__(self, backbone: nn.Module, classifier: nn.Module,
                 aux_classifier: nn.Module | None = None) -> None:
        super().__init__()
        self.backbone = backbone
        self.classifier = classifier
        self.aux_classifier = aux_classifier

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        size = x.shape[-2:]
        features = self.backbone(x)
        heads = [("out", self.classifier)]
        if self.aux_classifier is not None:
            heads.append(("aux", self.aux_classifier))
        return OrderedDict((key, _resized(head(features[key]), size)) for key, head in heads)


def _pin_value(param: str, given: Any, required: Any) -> Any:
    """``required`` (the value the pretrained weights were made with), after checking that
    the caller did not ask for another one (None means "not asked")."""
    if given is not None and given != required:
        raise ValueError(f"The parameter '{param}' expected value {required} but got {given} "
                         "instead.")
    return required


def _legacy_interface(weights_enum: type[WeightsEnum], backbone_enum: type[WeightsEnum]):
    """Builder decorator for torchvision's deprecated booleans: ``pretrained=True`` means
    ``weights=<enum>.COCO_WITH_VOC_LABELS_V1`` and ``pretrained_backbone=True`` means
    ``weights_backbone=<backbone enum>.IMAGENET1K_V1`` (False means None); each warns. It
    also records the builder's weights enum for ``get_model_weights``."""
    aliases = (("pretrained", "weights", weights_enum, "COCO_WITH_VOC_LABELS_V1"),
               ("pretrained_backbone", "weights_backbone", backbone_enum, "IMAGENET1K_V1"))

    def deco(builder):
        @functools.wraps(builder)
        def wrapper(*args, **kwargs):
            for old, new, enum, member in aliases:
                if old not in kwargs:
                    continue
                flag = kwargs.pop(old)
                if kwargs.get(new) is not None:
                    raise ValueError(f"pass either {old}= or {new}=, not both")
                value = enum[member] if flag else None
                warnings.warn(f"The parameter '{old}' is deprecated, please use '{new}' instead "
                              f"({new}={value!r} for {old}={flag}).", UserWarning,
                              stacklevel=2)
                kwargs[new] = value
            return builder(*args, **kwargs)

        wrapper._weights_enum = weights_enum
        return wrapper

    return deco


def _load(model: nn.Module, weights: WeightsEnum | None, progress: bool) -> None:
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))


def _resnet_features(depth: int, weights_backbone: WeightsEnum | None, progress: bool,
                     aux: bool) -> IntermediateLayerGetter:
    """ResNet-``depth`` at output stride 8: ``layer3`` and ``layer4`` trade their stride for
    dilation 2 and 4. Returns ``layer4`` as "out" (2048 channels) and, with ``aux``,
    ``layer3`` as "aux" (1024 channels)."""
    from .. import resnet

    make = {50: resnet.resnet50, 101: resnet.resnet101}[depth]
    net = make(weights=weights_backbone, progress=progress,
               replace_stride_with_dilation=[False, True, True])
    taps = {"layer4": "out"}
    if aux:
        taps["layer3"] = "aux"
    return IntermediateLayerGetter(net, return_layers=taps)


def _mobilenet_features(weights_backbone: WeightsEnum | None, progress: bool,
                        names: tuple[str, str | None]) -> tuple[IntermediateLayerGetter,
                                                                int, int]:
    """The ``features`` of a dilated MobileNetV3-Large (output stride 16: its last
    down-sampling block keeps the resolution and dilates instead). Returns the getter of
    the last feature map, named ``names[0]``, and of the output of the block that first
    reaches stride 8, named ``names[1]`` (left out when None), with the channel counts of
    the two maps (last, stride 8)."""
    from .. import mobilenetv3

    net = mobilenetv3.mobilenet_v3_large(weights=weights_backbone, progress=progress,
                                         dilated=True)
    features = net.features
    # the stem halves the resolution; each block flagged _is_cn halves it once more
    halving = [i for i, block in enumerate(features) if getattr(block, "_is_cn", False)]
    stride8, last = halving[1], len(features) - 1
    high_name, low_name = names
    taps = {str(last): high_name}
    if low_name is not None:
        taps[str(stride8)] = low_name
    return (IntermediateLayerGetter(features, return_layers=taps),
            features[last].out_channels, features[stride8].out_channels)


def _resolve(weights: Any, weights_enum: type[WeightsEnum], weights_backbone: Any,
             backbone_enum: type[WeightsEnum], num_classes: int | None,
             aux_loss: bool | None, uses_aux: bool = True
             ) -> tuple[WeightsEnum | None, WeightsEnum | None, int, bool]:
    """The builders' argument rules: both weights arguments are checked against their
    enums (a member, its name, or None). Full-model ``weights`` replace the backbone's
    (``weights_backbone`` is then ignored) and fix ``num_classes`` to their categories and
    ``aux_loss`` to True (their checkpoints hold the auxiliary head); asking for other
    values raises ValueError. Without them ``num_classes`` defaults to 21."""
    weights = weights_enum.verify(weights)
    weights_backbone = backbone_enum.verify(weights_backbone)
    if weights is not None:
        weights_backbone = None
        num_classes = _pin_value("num_classes", num_classes, len(weights.meta["categories"]))
        if uses_aux:
            aux_loss = _pin_value("aux_loss", aux_loss, True)
    elif num_classes is None:
        num_classes = len(_VOC_CATEGORIES)
    return weights, weights_backbone, num_classes, bool(aux_loss)
