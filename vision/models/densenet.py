"""DenseNet 121/161/169/201, as ``torchvision.models.densenet``: "Densely Connected
Convolutional Networks" (https://arxiv.org/abs/1608.06993) with torchvision's module layout,
``state_dict`` keys and pretrained weights."""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

import ember
from ember import Tensor, nn
from ember.nn import functional as F

from ._api import WeightsEnum
from ._weights_common import _make_builder, _w

__all__ = ["DenseNet", "DenseNet121_Weights", "DenseNet161_Weights", "DenseNet169_Weights",
           "DenseNet201_Weights", "densenet121", "densenet161", "densenet169", "densenet201"]


class _DenseLayer(nn.Module):
    """BN-ReLU-1x1 conv (to ``bn_size * growth_rate`` maps), BN-ReLU-3x3 conv (to
    ``growth_rate`` maps) over the concatenation of all earlier outputs of the block."""

    def __init__(self, num_input_features: int, growth_rate: int, bn_size: int,
                 drop_rate: float, memory_efficient: bool = False) -> None:
        super().__init__()
        width = bn_size * growth_rate
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, width, kernel_size=1, stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(width)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, growth_rate, kernel_size=3, stride=1, padding=1,
                               bias=False)
        self.drop_rate = float(drop_rate)
        # recomputation to save memory is a speed/memory trade-off that ember does not need:
        # the flag is kept for the signature, the result is the same
        self.memory_efficient = memory_efficient

    def bn_function(self, inputs: list[Tensor]) -> Tensor:
        return self.conv1(self.relu1(self.norm1(ember.cat(inputs, 1))))

    def forward(self, input: Tensor | list[Tensor]) -> Tensor:
        prev = [input] if isinstance(input, Tensor) else list(input)
        out = self.conv2(self.relu2(self.norm2(self.bn_function(prev))))
        if self.drop_rate > 0:
            out = F.dropout(out, p=self.drop_rate, training=self.training)
        return out


class _DenseBlock(nn.ModuleDict):
    """``num_layers`` dense layers; each sees every earlier output, the block returns all of
    them concatenated."""

    _version = 2

    def __init__(self, num_layers: int, num_input_features: int, bn_size: int,
                 growth_rate: int, drop_rate: float, memory_efficient: bool = False) -> None:
        super().__init__()
        for i in range(num_layers):
            self.add_module(f"denselayer{i + 1}",
                            _DenseLayer(num_input_features + i * growth_rate, growth_rate,
                                        bn_size, drop_rate, memory_efficient))

    def forward(self, init_features: Tensor) -> Tensor:
        features = [init_features]
        for layer in self.values():
            features.append(layer(features))
        return ember.cat(features, 1)


class _Transition(nn.Sequential):
    """BN-ReLU-1x1 conv to ``num_output_features`` maps, then 2x2 average pooling."""

    def __init__(self, num_input_features: int, num_output_features: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(num_input_features)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(num_input_features, num_output_features, kernel_size=1,
                              stride=1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    r"""Densenet-BC model class, based on `"Densely Connected Convolutional Networks"
    <https://arxiv.org/abs/1608.06993>`_.

    Args:
        growth_rate (int): how many filters to add each layer (`k` in paper)
        block_config (list of 4 ints): how many layers in each pooling block
        num_init_features (int): the number of filters to learn in the first convolution
            layer
        bn_size (int): multiplicative factor for number of bottle neck layers (i.e.
            bn_size * k features in the bottleneck layer)
        drop_rate (float): dropout rate after each dense layer
        num_classes (int): number of classification classes
        memory_efficient (bool): accepted for compatibility (checkpointing is not used)
    """

    def __init__(self, growth_rate: int = 32, block_config: tuple[int, ...] = (6, 12, 24, 16),
                 num_init_features: int = 64, bn_size: int = 4, drop_rate: float = 0,
                 num_classes: int = 1000, memory_efficient: bool = False) -> None:
        super().__init__()
        self.features = nn.Sequential(OrderedDict([
            ("conv0", nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3,
                                bias=False)),
            ("norm0", nn.BatchNorm2d(num_init_features)),
            ("relu0", nn.ReLU(inplace=True)),
            ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
        ]))
        channels = num_init_features
        for i, num_layers in enumerate(block_config):
            self.features.add_module(
                f"denseblock{i + 1}",
                _DenseBlock(num_layers, channels, bn_size, growth_rate, drop_rate,
                            memory_efficient))
            channels += num_layers * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module(f"transition{i + 1}",
                                         _Transition(channels, channels // 2))
                channels //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(channels))
        self.classifier = nn.Linear(channels, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.features(x), inplace=True)
        out = F.adaptive_avg_pool2d(out, (1, 1))
        return self.classifier(ember.flatten(out, 1))


# the published checkpoints come from an older layout where a dense layer's modules were
# named "norm.1", "conv.2", ...; they are renamed to "norm1", "conv2", ... on load
_OLD_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|"
    r"running_var))$")


def _load_state_dict(model: nn.Module, weights: WeightsEnum | None, progress: bool) -> None:
    if weights is None:
        return
    state_dict = dict(weights.get_state_dict(progress=progress, check_hash=True))
    for key in list(state_dict):
        found = _OLD_KEY.match(key)
        if found:
            state_dict[found.group(1) + found.group(2)] = state_dict.pop(key)
    model.load_state_dict(state_dict)


_DOC0 = 'These weights are ported from LuaTorch.'
_RECIPE0 = 'https://github.com/pytorch/vision/pull/116'


class DenseNet121_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('densenet121-a639ec97.pth', crop=224, resize=256, min_size=(29, 29),
        num_params=7978856, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 74.434, 'acc@5': 91.972}}, ops=2.834, file_size=30.845,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class DenseNet161_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('densenet161-8d451a50.pth', crop=224, resize=256, min_size=(29, 29),
        num_params=28681000, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 77.138, 'acc@5': 93.56}}, ops=7.728, file_size=110.369,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class DenseNet169_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('densenet169-b2777c0a.pth', crop=224, resize=256, min_size=(29, 29),
        num_params=14149480, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 75.6, 'acc@5': 92.806}}, ops=3.36, file_size=54.708,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class DenseNet201_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('densenet201-c1103571.pth', crop=224, resize=256, min_size=(29, 29),
        num_params=20013928, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 76.896, 'acc@5': 93.37}}, ops=4.291, file_size=77.373,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


def _densenet_builder(depth: int, enum: type[WeightsEnum], growth_rate: int,
                      block_config: tuple[int, ...], num_init_features: int):
    def construct(weights: WeightsEnum | None, kwargs: dict[str, Any]) -> DenseNet:
        return DenseNet(growth_rate, block_config, num_init_features, **kwargs)

    return _make_builder(
        __name__, f"densenet{depth}", enum, construct,
        f"Densenet-{depth} model from `Densely Connected Convolutional Networks "
        "<https://arxiv.org/abs/1608.06993>`_.", "ember.vision.models.densenet.DenseNet",
        load=_load_state_dict)


densenet121 = _densenet_builder(121, DenseNet121_Weights, 32, (6, 12, 24, 16), 64)
densenet161 = _densenet_builder(161, DenseNet161_Weights, 48, (6, 12, 36, 24), 96)
densenet169 = _densenet_builder(169, DenseNet169_Weights, 32, (6, 12, 32, 32), 64)
densenet201 = _densenet_builder(201, DenseNet201_Weights, 32, (6, 12, 48, 32), 64)
