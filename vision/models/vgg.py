"""VGG 11/13/16/19, with and without batch norm, as ``torchvision.models.vgg``: "Very Deep
Convolutional Networks for Large-Scale Image Recognition" (https://arxiv.org/abs/1409.1556)
with torchvision's module layout, ``state_dict`` keys and pretrained weights."""

from __future__ import annotations

from typing import Any

import ember
from ember import Tensor, nn

from ._api import WeightsEnum
from ._weights_common import NAN, _make_builder, _w

__all__ = [
    "VGG", "VGG11_Weights", "VGG11_BN_Weights", "VGG13_Weights", "VGG13_BN_Weights",
    "VGG16_Weights", "VGG16_BN_Weights", "VGG19_Weights", "VGG19_BN_Weights", "vgg11",
    "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
]

# the paper's configurations A, B, D and E: output channels of the 3x3 convolutions, "M"
# for a 2x2 max pool
_CONFIGS: dict[str, list[int | str]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512,
          "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512,
          512, 512, 512, "M"],
}


def make_layers(cfg: list[int | str], batch_norm: bool = False) -> nn.Sequential:
    """The convolutional trunk of a configuration: conv (+ batch norm) + ReLU per number,
    a max pool per "M"."""
    layers: list[nn.Module] = []
    channels = 3
    for item in cfg:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(channels, int(item), kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(int(item)))
        layers.append(nn.ReLU(inplace=True))
        channels = int(item)
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """A VGG trunk (``features``), a 7x7 adaptive average pool and the three fully connected
    layers (4096, 4096, ``num_classes``) with ReLU and dropout."""

    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(ember.flatten(x, 1))


_DOC0 = 'These weights were trained from scratch by using a simplified training recipe.'
_DOC1 = (
    '\n'
    "                These weights can't be used for classification because they are missing values in the `classifier`\n"  # noqa: E501
    '                module. Only the `features` module has valid values and can be used for feature extraction. The weights\n'  # noqa: E501
    '                were trained using the original input standardization method as described in the paper.\n'  # noqa: E501
    '            '
)
_RECIPE0 = 'https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg'
_RECIPE1 = 'https://github.com/amdegroot/ssd.pytorch#training-ssd'


class VGG11_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('vgg11-8a719046.pth', crop=224, resize=256, min_size=(32, 32),
        num_params=132863336, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 69.02, 'acc@5': 88.628}}, ops=7.609, file_size=506.84,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class VGG11_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('vgg11_bn-6002323d.pth', crop=224, resize=256, min_size=(32, 32),
        num_params=132868840, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 70.37, 'acc@5': 89.81}}, ops=7.609, file_size=506.881,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class VGG13_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('vgg13-19584684.pth', crop=224, resize=256, min_size=(32, 32),
        num_params=133047848, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 69.928, 'acc@5': 89.246}}, ops=11.308, file_size=507.545,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class VGG13_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('vgg13_bn-abd245e5.pth', crop=224, resize=256, min_size=(32, 32),
        num_params=133053736, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 71.586, 'acc@5': 90.374}}, ops=11.308, file_size=507.59,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class VGG16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('vgg16-397923af.pth', crop=224, resize=256, min_size=(32, 32),
        num_params=138357544, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 71.592, 'acc@5': 90.382}}, ops=15.47, file_size=527.796,
        docs=_DOC0)
    IMAGENET1K_FEATURES = _w('vgg16_features-amdegroot-88682ab5.pth', crop=224, resize=256,
        mean=(0.48235, 0.45882, 0.40784),
        std=(0.00392156862745098, 0.00392156862745098, 0.00392156862745098), categories=None,
        min_size=(32, 32), num_params=138357544, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': NAN, 'acc@5': NAN}}, ops=15.47, file_size=527.802,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V1


class VGG16_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('vgg16_bn-6c64b313.pth', crop=224, resize=256, min_size=(32, 32),
        num_params=138365992, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 73.36, 'acc@5': 91.516}}, ops=15.47, file_size=527.866,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class VGG19_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('vgg19-dcbb9e9d.pth', crop=224, resize=256, min_size=(32, 32),
        num_params=143667240, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 72.376, 'acc@5': 90.876}}, ops=19.632, file_size=548.051,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class VGG19_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('vgg19_bn-c79401a0.pth', crop=224, resize=256, min_size=(32, 32),
        num_params=143678248, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 74.218, 'acc@5': 91.842}}, ops=19.632, file_size=548.143,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


def _vgg(cfg: str, batch_norm: bool):
    def construct(weights: WeightsEnum | None, kwargs: dict[str, Any]) -> VGG:
        if weights is not None:
            kwargs.setdefault("init_weights", False)
        return VGG(make_layers(_CONFIGS[cfg], batch_norm=batch_norm), **kwargs)

    return construct


def _vgg_builder(name: str, enum: type[WeightsEnum], cfg: str, depth: int, bn: bool):
    summary = (f"VGG-{depth}{' with batch normalization' if bn else ''} from `Very Deep "
               "Convolutional Networks for Large-Scale Image Recognition "
               "<https://arxiv.org/abs/1409.1556>`__.")
    return _make_builder(__name__, name, enum, _vgg(cfg, bn), summary,
                         "ember.vision.models.vgg.VGG")


vgg11 = _vgg_builder("vgg11", VGG11_Weights, "A", 11, False)
vgg11_bn = _vgg_builder("vgg11_bn", VGG11_BN_Weights, "A", 11, True)
vgg13 = _vgg_builder("vgg13", VGG13_Weights, "B", 13, False)
vgg13_bn = _vgg_builder("vgg13_bn", VGG13_BN_Weights, "B", 13, True)
vgg16 = _vgg_builder("vgg16", VGG16_Weights, "D", 16, False)
vgg16_bn = _vgg_builder("vgg16_bn", VGG16_BN_Weights, "D", 16, True)
vgg19 = _vgg_builder("vgg19", VGG19_Weights, "E", 19, False)
vgg19_bn = _vgg_builder("vgg19_bn", VGG19_BN_Weights, "E", 19, True)
