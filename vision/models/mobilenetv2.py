"""MobileNet V2, as ``torchvision.models.mobilenetv2``: "MobileNetV2: Inverted Residuals and
Linear Bottlenecks" (https://arxiv.org/abs/1801.04381) with torchvision's module layout,
``state_dict`` keys and pretrained weights."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ember
from ember import Tensor, nn

from ..ops.misc import Conv2dNormActivation
from ._api import WeightsEnum
from ._weights_common import _make_builder, _w

__all__ = ["MobileNetV2", "MobileNet_V2_Weights", "mobilenet_v2"]


def _make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """``v`` rounded to the nearest multiple of ``divisor`` (at least ``min_value``, default
    ``divisor``), bumped up one step when rounding down lost more than 10%."""
    floor = divisor if min_value is None else min_value
    rounded = max(floor, int(v + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * v:
        rounded += divisor
    return rounded


class InvertedResidual(nn.Module):
    """Expand with a 1x1 convolution (skipped for ratio 1), filter with a 3x3 depthwise
    convolution, project linearly with a 1x1 convolution; a skip connection when the shape
    is kept."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int,
                 norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride should be 1 or 2 instead of {stride}")
        norm_layer = norm_layer or nn.BatchNorm2d
        self.stride = stride
        hidden = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup

        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden, kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=nn.ReLU6))
        layers += [
            Conv2dNormActivation(hidden, hidden, stride=stride, groups=hidden,
                                 norm_layer=norm_layer, activation_layer=nn.ReLU6),
            nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
            norm_layer(oup),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup
        self._is_cn = stride > 1

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv(x)
        return x + out if self.use_res_connect else out


class MobileNetV2(nn.Module):
    """MobileNet V2 main class.

    Args:
        num_classes (int): Number of classes
        width_mult (float): Width multiplier - adjusts number of channels in each layer by
            this amount
        inverted_residual_setting: Network structure, rows of (t, c, n, s): expansion,
            output channels, repeats, first stride
        round_nearest (int): Round the number of channels in each layer to be a multiple of
            this number. Set to 1 to turn off rounding
        block: Module specifying inverted residual building block for mobilenet
        norm_layer: Module specifying the normalization layer to use
        dropout (float): The droupout probability
    """

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0,
                 inverted_residual_setting: list[list[int]] | None = None,
                 round_nearest: int = 8, block: Callable[..., nn.Module] | None = None,
                 norm_layer: Callable[..., nn.Module] | None = None,
                 dropout: float = 0.2) -> None:
        super().__init__()
        block = block or InvertedResidual
        norm_layer = norm_layer or nn.BatchNorm2d
        if inverted_residual_setting is None:
            inverted_residual_setting = [
                [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1],
                [6, 160, 3, 2], [6, 320, 1, 1],
            ]
        if len(inverted_residual_setting) == 0 or \
                any(len(row) != 4 for row in inverted_residual_setting):
            raise ValueError("inverted_residual_setting should be non-empty and a 4-element "
                             f"list, got {inverted_residual_setting}")

        channels = _make_divisible(32 * width_mult, round_nearest)
        self.last_channel = _make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features: list[nn.Module] = [
            Conv2dNormActivation(3, channels, stride=2, norm_layer=norm_layer,
                                 activation_layer=nn.ReLU6)]
        for t, c, n, s in inverted_residual_setting:
            out = _make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(block(channels, out, s if i == 0 else 1, expand_ratio=t,
                                      norm_layer=norm_layer))
                channels = out
        features.append(Conv2dNormActivation(channels, self.last_channel, kernel_size=1,
                                             norm_layer=norm_layer, activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout),
                                        nn.Linear(self.last_channel, num_classes))

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def _forward_impl(self, x: Tensor) -> Tensor:
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, (1, 1))
        return self.classifier(ember.flatten(x, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self._forward_impl(x)


_DOC0 = 'These weights reproduce closely the results of the paper using a simple training recipe.'
_DOC1 = (
    '\n'
    "                These weights improve upon the results of the original paper by using a modified version of TorchVision's\n"  # noqa: E501
    '                `new training recipe\n'
    '                <https://pytorch.org/blog/how-to-train-state-of-the-art-models-using-torchvision-latest-primitives/>`_.\n'  # noqa: E501
    '            '
)
_RECIPE0 = 'https://github.com/pytorch/vision/tree/main/references/classification#mobilenetv2'
_RECIPE1 = 'https://github.com/pytorch/vision/issues/3995#new-recipe-with-reg-tuning'


class MobileNet_V2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('mobilenet_v2-b0353104.pth', crop=224, resize=256, min_size=(1, 1),
        num_params=3504872, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 71.878, 'acc@5': 90.286}}, ops=0.301, file_size=13.555,
        docs=_DOC0)
    IMAGENET1K_V2 = _w('mobilenet_v2-7ebf99e0.pth', crop=224, resize=232, min_size=(1, 1),
        num_params=3504872, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 72.154, 'acc@5': 90.822}}, ops=0.301, file_size=13.598,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V2


def _build(weights: WeightsEnum | None, kwargs: dict[str, Any]) -> MobileNetV2:
    return MobileNetV2(**kwargs)


mobilenet_v2 = _make_builder(
    __name__, "mobilenet_v2", MobileNet_V2_Weights, _build,
    "MobileNetV2 architecture from the `MobileNetV2: Inverted Residuals and Linear "
    "Bottlenecks <https://arxiv.org/abs/1801.04381>`_ paper.",
    "ember.vision.models.mobilenetv2.MobileNetV2")
