"""SqueezeNet 1.0 and 1.1, as ``torchvision.models.squeezenet``: "SqueezeNet: AlexNet-level
accuracy with 50x fewer parameters and <0.5MB model size" (https://arxiv.org/abs/1602.07360)
with torchvision's module layout, ``state_dict`` keys and pretrained weights."""

from __future__ import annotations

from typing import Any

import ember
from ember import Tensor, nn

from ._api import WeightsEnum
from ._weights_common import _make_builder, _w

__all__ = ["SqueezeNet", "SqueezeNet1_0_Weights", "SqueezeNet1_1_Weights", "squeezenet1_0",
           "squeezenet1_1"]


class Fire(nn.Module):
    """A 1x1 "squeeze" convolution feeding two parallel "expand" convolutions (1x1 and 3x3),
    all followed by ReLU; the two expansions are concatenated along the channels."""

    def __init__(self, inplanes: int, squeeze_planes: int, expand1x1_planes: int,
                 expand3x3_planes: int) -> None:
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        s = self.squeeze_activation(self.squeeze(x))
        return ember.cat([self.expand1x1_activation(self.expand1x1(s)),
                          self.expand3x3_activation(self.expand3x3(s))], 1)


def _pool() -> nn.MaxPool2d:
    return nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)


class SqueezeNet(nn.Module):
    """SqueezeNet ``version`` "1_0" (the paper's network: 7x7 stem with 96 channels) or
    "1_1" (3x3 stem with 64 channels and earlier pooling, 2.4x cheaper); the classifier is a
    1x1 convolution to ``num_classes`` maps, ReLU and a global average pool."""

    def __init__(self, version: str = "1_0", num_classes: int = 1000,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.num_classes = num_classes
        if version == "1_0":
            self.features = nn.Sequential(
                nn.Conv2d(3, 96, kernel_size=7, stride=2), nn.ReLU(inplace=True), _pool(),
                Fire(96, 16, 64, 64), Fire(128, 16, 64, 64), Fire(128, 32, 128, 128),
                _pool(),
                Fire(256, 32, 128, 128), Fire(256, 48, 192, 192), Fire(384, 48, 192, 192),
                Fire(384, 64, 256, 256),
                _pool(),
                Fire(512, 64, 256, 256),
            )
        elif version == "1_1":
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, kernel_size=3, stride=2), nn.ReLU(inplace=True), _pool(),
                Fire(64, 16, 64, 64), Fire(128, 16, 64, 64),
                _pool(),
                Fire(128, 32, 128, 128), Fire(256, 32, 128, 128),
                _pool(),
                Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256),
                Fire(512, 64, 256, 256),
            )
        else:
            raise ValueError(f"Unsupported SqueezeNet version {version}: 1_0 or 1_1 expected")

        final_conv = nn.Conv2d(512, self.num_classes, kernel_size=1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), final_conv,
                                        nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    nn.init.normal_(m.weight, mean=0.0, std=0.01)
                else:
                    nn.init.kaiming_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        return ember.flatten(self.classifier(self.features(x)), 1)


_DOC0 = 'These weights reproduce closely the results of the paper using a simple training recipe.'
_RECIPE0 = 'https://github.com/pytorch/vision/pull/49#issuecomment-277560717'


class SqueezeNet1_0_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('squeezenet1_0-b66bff10.pth', crop=224, resize=256, min_size=(21, 21),
        num_params=1248424, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 58.092, 'acc@5': 80.42}}, ops=0.819, file_size=4.778,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class SqueezeNet1_1_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('squeezenet1_1-b8a52dc0.pth', crop=224, resize=256, min_size=(17, 17),
        num_params=1235496, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 58.178, 'acc@5': 80.624}}, ops=0.349, file_size=4.729,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


def _squeezenet(version: str):
    def construct(weights: WeightsEnum | None, kwargs: dict[str, Any]) -> SqueezeNet:
        return SqueezeNet(version, **kwargs)

    return construct


_BASE = "ember.vision.models.squeezenet.SqueezeNet"
squeezenet1_0 = _make_builder(
    __name__, "squeezenet1_0", SqueezeNet1_0_Weights, _squeezenet("1_0"),
    "SqueezeNet model architecture from the `SqueezeNet: AlexNet-level accuracy with 50x "
    "fewer parameters and <0.5MB model size <https://arxiv.org/abs/1602.07360>`_ paper.",
    _BASE)
squeezenet1_1 = _make_builder(
    __name__, "squeezenet1_1", SqueezeNet1_1_Weights, _squeezenet("1_1"),
    "SqueezeNet 1.1 model from the `official SqueezeNet repo "
    "<https://github.com/DeepScale/SqueezeNet/tree/master/SqueezeNet_v1.1>`_: 2.4x less "
    "computation and slightly fewer parameters than SqueezeNet 1.0, without sacrificing "
    "accuracy.", _BASE)
