"""ShuffleNet V2 x0.5/x1.0/x1.5/x2.0, as ``torchvision.models.shufflenetv2``: "ShuffleNet V2:
Practical Guidelines for Efficient CNN Architecture Design"
(https://arxiv.org/abs/1807.11164) with torchvision's module layout, ``state_dict`` keys and
pretrained weights."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ember
from ember import Tensor, nn

from ._api import WeightsEnum
from ._weights_common import _make_builder, _w

__all__ = ["ShuffleNetV2", "ShuffleNet_V2_X0_5_Weights", "ShuffleNet_V2_X1_0_Weights",
           "ShuffleNet_V2_X1_5_Weights", "ShuffleNet_V2_X2_0_Weights", "shufflenet_v2_x0_5",
           "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"]


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    """Interleaves the channels of ``groups`` equal groups (group-major to channel-major)."""
    n, c, h, w = x.shape
    x = x.reshape(n, groups, c // groups, h, w).transpose(1, 2).contiguous()
    return x.reshape(n, c, h, w)


def _bn_relu_1x1(inp: int, oup: int) -> list[nn.Module]:
    return [nn.Conv2d(inp, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup), nn.ReLU(inplace=True)]


class InvertedResidual(nn.Module):
    """The ShuffleNet V2 unit. Stride 1: half the channels pass through, the other half go
    through 1x1 - 3x3 depthwise - 1x1; stride 2: both halves are computed from the whole
    input (the left one by 3x3 depthwise - 1x1). The halves are concatenated and shuffled."""

    def __init__(self, inp: int, oup: int, stride: int) -> None:
        super().__init__()
        if not 1 <= stride <= 3:
            raise ValueError("illegal stride value")
        self.stride = stride
        half = oup // 2
        if stride == 1 and inp != half << 1:
            raise ValueError(f"Invalid combination of stride {stride}, inp {inp} and oup {oup} "
                             "values. If stride == 1 then inp should be equal to oup // 2 << 1.")
        if stride > 1:
            self.branch1 = nn.Sequential(
                self.depthwise_conv(inp, inp, kernel_size=3, stride=stride, padding=1),
                nn.BatchNorm2d(inp), *_bn_relu_1x1(inp, half))
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            *_bn_relu_1x1(inp if stride > 1 else half, half),
            self.depthwise_conv(half, half, kernel_size=3, stride=stride, padding=1),
            nn.BatchNorm2d(half), *_bn_relu_1x1(half, half))

    @staticmethod
    def depthwise_conv(i: int, o: int, kernel_size: int, stride: int = 1, padding: int = 0,
                       bias: bool = False) -> nn.Conv2d:
        return nn.Conv2d(i, o, kernel_size, stride, padding, bias=bias, groups=i)

    def forward(self, x: Tensor) -> Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = ember.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = ember.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    """A 3x3 stride-2 stem and max pool, three stages of units (``stages_repeats``), a 1x1
    convolution to ``stages_out_channels[-1]`` maps, global mean and a linear layer."""

    def __init__(self, stages_repeats: list[int], stages_out_channels: list[int],
                 num_classes: int = 1000,
                 inverted_residual: Callable[..., nn.Module] = InvertedResidual) -> None:
        super().__init__()
        if len(stages_repeats) != 3:
            raise ValueError("expected stages_repeats as list of 3 positive ints")
        if len(stages_out_channels) != 5:
            raise ValueError("expected stages_out_channels as list of 5 positive ints")
        self._stage_out_channels = stages_out_channels

        channels = stages_out_channels[0]
        self.conv1 = nn.Sequential(nn.Conv2d(3, channels, 3, 2, 1, bias=False),
                                   nn.BatchNorm2d(channels), nn.ReLU(inplace=True))
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for i, (repeats, out) in enumerate(zip(stages_repeats, stages_out_channels[1:4])):
            units = [inverted_residual(channels, out, 2)]
            units += [inverted_residual(out, out, 1) for _ in range(repeats - 1)]
            setattr(self, f"stage{i + 2}", nn.Sequential(*units))
            channels = out
        last = stages_out_channels[-1]
        self.conv5 = nn.Sequential(*_bn_relu_1x1(channels, last))
        self.fc = nn.Linear(last, num_classes)

    def _forward_impl(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.conv1(x))
        x = self.stage4(self.stage3(self.stage2(x)))
        x = self.conv5(x).mean([2, 3])  # global pool
        return self.fc(x)

    def forward(self, x: Tensor) -> Tensor:
        return self._forward_impl(x)


_DOC0 = 'These weights were trained from scratch to reproduce closely the results of the paper.'
_DOC1 = (
    '\n'
    "                These weights were trained from scratch by using TorchVision's `new training recipe\n"  # noqa: E501
    '                <https://pytorch.org/blog/how-to-train-state-of-the-art-models-using-torchvision-latest-primitives/>`_.\n'  # noqa: E501
    '            '
)
_RECIPE0 = 'https://github.com/ericsun99/Shufflenet-v2-Pytorch'
_RECIPE1 = 'https://github.com/pytorch/vision/pull/5906'


class ShuffleNet_V2_X0_5_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('shufflenetv2_x0.5-f707e7126e.pth', crop=224, resize=256, min_size=(1, 1),
        num_params=1366792, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 60.552, 'acc@5': 81.746}}, ops=0.04, file_size=5.282,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class ShuffleNet_V2_X1_0_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('shufflenetv2_x1-5666bf0f80.pth', crop=224, resize=256, min_size=(1, 1),
        num_params=2278604, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 69.362, 'acc@5': 88.316}}, ops=0.145, file_size=8.791,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class ShuffleNet_V2_X1_5_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('shufflenetv2_x1_5-3c479a10.pth', crop=224, resize=232, min_size=(1, 1),
        num_params=3503624, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 72.996, 'acc@5': 91.086}}, ops=0.296, file_size=13.557,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V1


class ShuffleNet_V2_X2_0_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('shufflenetv2_x2_0-8be3c8ee.pth', crop=224, resize=232, min_size=(1, 1),
        num_params=7393996, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 76.23, 'acc@5': 93.006}}, ops=0.583, file_size=28.433,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V1


def _shufflenet(channels: list[int]):
    def construct(weights: WeightsEnum | None, kwargs: dict[str, Any]) -> ShuffleNetV2:
        return ShuffleNetV2([4, 8, 4], channels, **kwargs)

    return construct


def _sn(mult: str, enum: type[WeightsEnum], channels: list[int]):
    return _make_builder(
        __name__, f"shufflenet_v2_x{mult}", enum, _shufflenet(channels),
        f"Constructs a ShuffleNetV2 architecture with {mult.replace('_', '.')}x output "
        "channels, as described in `ShuffleNet V2: Practical Guidelines for Efficient CNN "
        "Architecture Design <https://arxiv.org/abs/1807.11164>`__.",
        "ember.vision.models.shufflenetv2.ShuffleNetV2")


shufflenet_v2_x0_5 = _sn("0_5", ShuffleNet_V2_X0_5_Weights, [24, 48, 96, 192, 1024])
shufflenet_v2_x1_0 = _sn("1_0", ShuffleNet_V2_X1_0_Weights, [24, 116, 232, 464, 1024])
shufflenet_v2_x1_5 = _sn("1_5", ShuffleNet_V2_X1_5_Weights, [24, 176, 352, 704, 1024])
shufflenet_v2_x2_0 = _sn("2_0", ShuffleNet_V2_X2_0_Weights, [24, 244, 488, 976, 2048])
