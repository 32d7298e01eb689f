"""MobileNet V3 large and small, as ``torchvision.models.mobilenetv3``: "Searching for
MobileNetV3" (https://arxiv.org/abs/1905.02244) with torchvision's module layout,
``state_dict`` keys and pretrained weights."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import ember
from ember import Tensor, nn

from ..ops.misc import Conv2dNormActivation
from ..ops.misc import SqueezeExcitation as SElayer
from ._api import WeightsEnum
from ._weights_common import _make_builder, _w
from .mobilenetv2 import _make_divisible

__all__ = ["MobileNetV3", "MobileNet_V3_Large_Weights", "MobileNet_V3_Small_Weights",
           "mobilenet_v3_large", "mobilenet_v3_small"]


class InvertedResidualConfig:
    """One row of the architecture table: input/expanded/output channels (scaled by
    ``width_mult``), kernel, squeeze-and-excitation, activation ("RE" or "HS"), stride and
    dilation."""

    def __init__(self, input_channels: int, kernel: int, expanded_channels: int,
                 out_channels: int, use_se: bool, activation: str, stride: int, dilation: int,
                 width_mult: float) -> None:
        self.input_channels = self.adjust_channels(input_channels, width_mult)
        self.kernel = kernel
        self.expanded_channels = self.adjust_channels(expanded_channels, width_mult)
        self.out_channels = self.adjust_channels(out_channels, width_mult)
        self.use_se = use_se
        self.use_hs = activation == "HS"
        self.stride = stride
        self.dilation = dilation

    @staticmethod
    def adjust_channels(channels: int, width_mult: float) -> int:
        return _make_divisible(channels * width_mult, 8)


_HARD_SE = partial(SElayer, scale_activation=nn.Hardsigmoid)


class InvertedResidual(nn.Module):
    """Expansion (1x1, skipped when it would not widen), depthwise ``kernel`` convolution,
    optional squeeze-and-excitation with a hard sigmoid gate, linear 1x1 projection; a skip
    connection when the shape is kept."""

    def __init__(self, cnf: InvertedResidualConfig, norm_layer: Callable[..., nn.Module],
                 se_layer: Callable[..., nn.Module] = _HARD_SE) -> None:
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        act = nn.Hardswish if cnf.use_hs else nn.ReLU

        layers: list[nn.Module] = []
        if cnf.expanded_channels != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, cnf.expanded_channels,
                                               kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=act))
        stride = 1 if cnf.dilation > 1 else cnf.stride
        layers.append(Conv2dNormActivation(cnf.expanded_channels, cnf.expanded_channels,
                                           kernel_size=cnf.kernel, stride=stride,
                                           dilation=cnf.dilation, groups=cnf.expanded_channels,
                                           norm_layer=norm_layer, activation_layer=act))
        if cnf.use_se:
            layers.append(se_layer(cnf.expanded_channels,
                                   _make_divisible(cnf.expanded_channels // 4, 8)))
        layers.append(Conv2dNormActivation(cnf.expanded_channels, cnf.out_channels,
                                           kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.out_channels = cnf.out_channels
        self._is_cn = cnf.stride > 1

    def forward(self, x: Tensor) -> Tensor:
        out = self.block(x)
        return out + x if self.use_res_connect else out


class MobileNetV3(nn.Module):
    """MobileNet V3 main class.

    Args:
        inverted_residual_setting (List[InvertedResidualConfig]): Network structure
        last_channel (int): The number of channels on the penultimate layer
        num_classes (int): Number of classes
        block (Optional[Callable[..., nn.Module]]): Module specifying inverted residual
            building block for mobilenet
        norm_layer (Optional[Callable[..., nn.Module]]): Module specifying the normalization
            layer to use
        dropout (float): The droupout probability
    """

    def __init__(self, inverted_residual_setting: list[InvertedResidualConfig],
                 last_channel: int, num_classes: int = 1000,
                 block: Callable[..., nn.Module] | None = None,
                 norm_layer: Callable[..., nn.Module] | None = None, dropout: float = 0.2,
                 **kwargs: Any) -> None:
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        if not (isinstance(inverted_residual_setting, Sequence) and
                all(isinstance(s, InvertedResidualConfig) for s in inverted_residual_setting)):
            raise TypeError("The inverted_residual_setting should be List[InvertedResidualConfig]")
        block = block or InvertedResidual
        norm_layer = norm_layer or partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)

        first = inverted_residual_setting[0].input_channels
        layers: list[nn.Module] = [
            Conv2dNormActivation(3, first, kernel_size=3, stride=2, norm_layer=norm_layer,
                                 activation_layer=nn.Hardswish)]
        layers += [block(cnf, norm_layer) for cnf in inverted_residual_setting]
        last_in = inverted_residual_setting[-1].out_channels
        last_out = 6 * last_in
        layers.append(Conv2dNormActivation(last_in, last_out, kernel_size=1,
                                           norm_layer=norm_layer,
                                           activation_layer=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(last_out, last_channel), nn.Hardswish(inplace=True),
            nn.Dropout(p=dropout, inplace=True), nn.Linear(last_channel, num_classes))

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
        x = self.avgpool(self.features(x))
        return self.classifier(ember.flatten(x, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self._forward_impl(x)


# rows: input, kernel, expanded, output, SE, activation, stride; the last three rows of
# each network are the "tail" that reduced_tail halves and dilated dilates
_LARGE = [
    (16, 3, 16, 16, False, "RE", 1), (16, 3, 64, 24, False, "RE", 2),
    (24, 3, 72, 24, False, "RE", 1), (24, 5, 72, 40, True, "RE", 2),
    (40, 5, 120, 40, True, "RE", 1), (40, 5, 120, 40, True, "RE", 1),
    (40, 3, 240, 80, False, "HS", 2), (80, 3, 200, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1), (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 480, 112, True, "HS", 1), (112, 3, 672, 112, True, "HS", 1),
    (112, 5, 672, 160, True, "HS", 2), (160, 5, 960, 160, True, "HS", 1),
    (160, 5, 960, 160, True, "HS", 1),
]
_SMALL = [
    (16, 3, 16, 16, True, "RE", 2), (16, 3, 72, 24, False, "RE", 2),
    (24, 3, 88, 24, False, "RE", 1), (24, 5, 96, 40, True, "HS", 2),
    (40, 5, 240, 40, True, "HS", 1), (40, 5, 240, 40, True, "HS", 1),
    (40, 5, 120, 48, True, "HS", 1), (48, 5, 144, 48, True, "HS", 1),
    (48, 5, 288, 96, True, "HS", 2), (96, 5, 576, 96, True, "HS", 1),
    (96, 5, 576, 96, True, "HS", 1),
]


def _mobilenet_v3_conf(arch: str, width_mult: float = 1.0, reduced_tail: bool = False,
                       dilated: bool = False, **kwargs: Any
                       ) -> tuple[list[InvertedResidualConfig], int]:
    r = 2 if reduced_tail else 1
    d = 2 if dilated else 1
    if arch == "mobilenet_v3_large":
        rows, last = _LARGE, 1280
    elif arch == "mobilenet_v3_small":
        rows, last = _SMALL, 1024
    else:
        raise ValueError(f"Unsupported model type {arch}")
    n = len(rows)
    setting = []
    for i, (cin, k, exp, cout, se, act, s) in enumerate(rows):
        dil = 1
        if i >= n - 3:  # the tail: its first row keeps its input and expanded widths
            if i > n - 3:
                cin //= r
                exp //= r
            cout //= r
            dil = d
        setting.append(InvertedResidualConfig(cin, k, exp, cout, se, act, s, dil, width_mult))
    return setting, InvertedResidualConfig.adjust_channels(last // r, width_mult)


_DOC0 = 'These weights were trained from scratch by using a simple training recipe.'
_DOC1 = (
    '\n'
    '                These weights improve marginally upon the results of the original paper by using a modified version of\n'  # noqa: E501
    "                TorchVision's `new training recipe\n"
    '                <https://pytorch.org/blog/how-to-train-state-of-the-art-models-using-torchvision-latest-primitives/>`_.\n'  # noqa: E501
    '            '
)
_DOC2 = (
    '\n'
    '                These weights improve upon the results of the original paper by using a simple training recipe.\n'  # noqa: E501
    '            '
)
_RECIPE0 = 'https://github.com/pytorch/vision/tree/main/references/classification#mobilenetv3-large--small'  # noqa: E501
_RECIPE1 = 'https://github.com/pytorch/vision/issues/3995#new-recipe-with-reg-tuning'


class MobileNet_V3_Large_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('mobilenet_v3_large-8738ca79.pth', crop=224, resize=256, min_size=(1, 1),
        num_params=5483032, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 74.042, 'acc@5': 91.34}}, ops=0.217, file_size=21.114,
        docs=_DOC0)
    IMAGENET1K_V2 = _w('mobilenet_v3_large-5c1a4163.pth', crop=224, resize=232, min_size=(1, 1),
        num_params=5483032, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 75.274, 'acc@5': 92.566}}, ops=0.217, file_size=21.107,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V2


class MobileNet_V3_Small_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('mobilenet_v3_small-047dcff4.pth', crop=224, resize=256, min_size=(1, 1),
        num_params=2542856, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 67.668, 'acc@5': 87.402}}, ops=0.057, file_size=9.829,
        docs=_DOC2)
    DEFAULT = IMAGENET1K_V1


def _mobilenet_v3(arch: str):
    def construct(weights: WeightsEnum | None, kwargs: dict[str, Any]) -> MobileNetV3:
        conf_keys = ("width_mult", "reduced_tail", "dilated")
        conf = {k: kwargs.pop(k) for k in conf_keys if k in kwargs}
        setting, last_channel = _mobilenet_v3_conf(arch, **conf)
        return MobileNetV3(setting, last_channel, **kwargs)

    return construct


_BASE = "ember.vision.models.mobilenetv3.MobileNetV3"
mobilenet_v3_large = _make_builder(
    __name__, "mobilenet_v3_large", MobileNet_V3_Large_Weights,
    _mobilenet_v3("mobilenet_v3_large"),
    "Constructs a large MobileNetV3 architecture from `Searching for MobileNetV3 "
    "<https://arxiv.org/abs/1905.02244>`__.", _BASE)
mobilenet_v3_small = _make_builder(
    __name__, "mobilenet_v3_small", MobileNet_V3_Small_Weights,
    _mobilenet_v3("mobilenet_v3_small"),
    "Constructs a small MobileNetV3 architecture from `Searching for MobileNetV3 "
    "<https://arxiv.org/abs/1905.02244>`__.", _BASE)
