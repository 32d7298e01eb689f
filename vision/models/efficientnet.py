"""EfficientNet B0-B7 and EfficientNetV2 S/M/L, as ``torchvision.models.efficientnet``:
"EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks"
(https://arxiv.org/abs/1905.11946) and "EfficientNetV2: Smaller Models and Faster Training"
(https://arxiv.org/abs/2104.00298), with torchvision's module layout, ``state_dict`` keys and
pretrained weights."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import ember
from ember import Tensor, nn

from ..ops.misc import Conv2dNormActivation, SqueezeExcitation
from ..ops.stochastic_depth import StochasticDepth
from ._api import WeightsEnum
from ._weights_common import _make_builder, _w
from .mobilenetv2 import _make_divisible

__all__ = [
    "EfficientNet", "EfficientNet_B0_Weights", "EfficientNet_B1_Weights",
    "EfficientNet_B2_Weights", "EfficientNet_B3_Weights", "EfficientNet_B4_Weights",
    "EfficientNet_B5_Weights", "EfficientNet_B6_Weights", "EfficientNet_B7_Weights",
    "EfficientNet_V2_S_Weights", "EfficientNet_V2_M_Weights", "EfficientNet_V2_L_Weights",
    "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
    "efficientnet_b4", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7",
    "efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l",
]


@dataclass
class _MBConvConfig:
    expand_ratio: float
    kernel: int
    stride: int
    input_channels: int
    out_channels: int
    num_layers: int
    block: Callable[..., nn.Module]

    @staticmethod
    def adjust_channels(channels: int, width_mult: float, min_value: int | None = None) -> int:
        return _make_divisible(channels * width_mult, 8, min_value)


class MBConvConfig(_MBConvConfig):
    """A stage of mobile inverted bottlenecks; channels scale with ``width_mult`` (rounded to
    multiples of 8) and the number of layers with ``depth_mult`` (rounded up)."""

    def __init__(self, expand_ratio: float, kernel: int, stride: int, input_channels: int,
                 out_channels: int, num_layers: int, width_mult: float = 1.0,
                 depth_mult: float = 1.0, block: Callable[..., nn.Module] | None = None) -> None:
        super().__init__(expand_ratio, kernel, stride,
                         self.adjust_channels(input_channels, width_mult),
                         self.adjust_channels(out_channels, width_mult),
                         int(math.ceil(num_layers * depth_mult)), block or MBConv)


class FusedMBConvConfig(_MBConvConfig):
    """A stage of fused bottlenecks (EfficientNetV2's early stages), never rescaled."""

    def __init__(self, expand_ratio: float, kernel: int, stride: int, input_channels: int,
                 out_channels: int, num_layers: int,
                 block: Callable[..., nn.Module] | None = None) -> None:
        super().__init__(expand_ratio, kernel, stride, input_channels, out_channels,
                         num_layers, block or FusedMBConv)


class MBConv(nn.Module):
    """1x1 expansion (when the ratio is not 1), depthwise convolution, squeeze-and-excitation
    (squeezing to a quarter of the input width), linear 1x1 projection; residual with
    stochastic depth when the shape is kept."""

    def __init__(self, cnf: MBConvConfig, stochastic_depth_prob: float,
                 norm_layer: Callable[..., nn.Module],
                 se_layer: Callable[..., nn.Module] = SqueezeExcitation) -> None:
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        layers: list[nn.Module] = []
        if expanded != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, expanded, kernel_size=1,
                                               norm_layer=norm_layer,
                                               activation_layer=nn.SiLU))
        layers.append(Conv2dNormActivation(expanded, expanded, kernel_size=cnf.kernel,
                                           stride=cnf.stride, groups=expanded,
                                           norm_layer=norm_layer, activation_layer=nn.SiLU))
        layers.append(se_layer(expanded, max(1, cnf.input_channels // 4),
                               activation=partial(nn.SiLU, inplace=True)))
        layers.append(Conv2dNormActivation(expanded, cnf.out_channels, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, x: Tensor) -> Tensor:
        out = self.block(x)
        if self.use_res_connect:
            out = self.stochastic_depth(out) + x
        return out


class FusedMBConv(nn.Module):
    """A full ``kernel`` convolution doing the expansion (and the stride), then a linear 1x1
    projection (or the one convolution alone when the ratio is 1); residual with stochastic
    depth when the shape is kept."""

    def __init__(self, cnf: FusedMBConvConfig, stochastic_depth_prob: float,
                 norm_layer: Callable[..., nn.Module]) -> None:
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        if expanded != cnf.input_channels:
            layers = [
                Conv2dNormActivation(cnf.input_channels, expanded, kernel_size=cnf.kernel,
                                     stride=cnf.stride, norm_layer=norm_layer,
                                     activation_layer=nn.SiLU),
                Conv2dNormActivation(expanded, cnf.out_channels, kernel_size=1,
                                     norm_layer=norm_layer, activation_layer=None),
            ]
        else:
            layers = [Conv2dNormActivation(cnf.input_channels, cnf.out_channels,
                                           kernel_size=cnf.kernel, stride=cnf.stride,
                                           norm_layer=norm_layer, activation_layer=nn.SiLU)]
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, x: Tensor) -> Tensor:
        out = self.block(x)
        if self.use_res_connect:
            out = self.stochastic_depth(out) + x
        return out


class EfficientNet(nn.Module):
    """EfficientNet V1 and V2 main class.

    Args:
        inverted_residual_setting (Sequence[Union[MBConvConfig, FusedMBConvConfig]]): Network
            structure
        dropout (float): The droupout probability
        stochastic_depth_prob (float): The stochastic depth probability, growing linearly
            with the block index up to this value
        num_classes (int): Number of classes
        norm_layer (Optional[Callable[..., nn.Module]]): Module specifying the normalization
            layer to use
        last_channel (int): The number of channels on the penultimate layer (default: four
            times the last stage's width)
    """

    def __init__(self, inverted_residual_setting: Sequence[_MBConvConfig], dropout: float,
                 stochastic_depth_prob: float = 0.2, num_classes: int = 1000,
                 norm_layer: Callable[..., nn.Module] | None = None,
                 last_channel: int | None = None) -> None:
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        if not (isinstance(inverted_residual_setting, Sequence) and
                all(isinstance(s, _MBConvConfig) for s in inverted_residual_setting)):
            raise TypeError("The inverted_residual_setting should be List[MBConvConfig]")
        norm_layer = norm_layer or nn.BatchNorm2d

        first = inverted_residual_setting[0].input_channels
        layers: list[nn.Module] = [
            Conv2dNormActivation(3, first, kernel_size=3, stride=2, norm_layer=norm_layer,
                                 activation_layer=nn.SiLU)]
        total = sum(cnf.num_layers for cnf in inverted_residual_setting)
        index = 0
        for cnf in inverted_residual_setting:
            stage: list[nn.Module] = []
            for i in range(cnf.num_layers):
                block_cnf = copy.copy(cnf)
                if i > 0:
                    block_cnf.input_channels = block_cnf.out_channels
                    block_cnf.stride = 1
                sd_prob = stochastic_depth_prob * float(index) / total
                stage.append(block_cnf.block(block_cnf, sd_prob, norm_layer))
                index += 1
            layers.append(nn.Sequential(*stage))

        last_in = inverted_residual_setting[-1].out_channels
        last_out = last_channel if last_channel is not None else 4 * last_in
        layers.append(Conv2dNormActivation(last_in, last_out, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True),
                                        nn.Linear(last_out, num_classes))

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                bound = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.zeros_(m.bias)

    def _forward_impl(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(ember.flatten(x, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self._forward_impl(x)


def _efficientnet_conf(arch: str, **kwargs: Any
                       ) -> tuple[list[_MBConvConfig], int | None]:
    if arch.startswith("efficientnet_b"):
        mb = partial(MBConvConfig, width_mult=kwargs.pop("width_mult"),
                     depth_mult=kwargs.pop("depth_mult"))
        setting: list[_MBConvConfig] = [
            mb(1, 3, 1, 32, 16, 1), mb(6, 3, 2, 16, 24, 2), mb(6, 5, 2, 24, 40, 2),
            mb(6, 3, 2, 40, 80, 3), mb(6, 5, 1, 80, 112, 3), mb(6, 5, 2, 112, 192, 4),
            mb(6, 3, 1, 192, 320, 1),
        ]
        return setting, None
    f, m = FusedMBConvConfig, MBConvConfig
    if arch == "efficientnet_v2_s":
        setting = [f(1, 3, 1, 24, 24, 2), f(4, 3, 2, 24, 48, 4), f(4, 3, 2, 48, 64, 4),
                   m(4, 3, 2, 64, 128, 6), m(6, 3, 1, 128, 160, 9), m(6, 3, 2, 160, 256, 15)]
    elif arch == "efficientnet_v2_m":
        setting = [f(1, 3, 1, 24, 24, 3), f(4, 3, 2, 24, 48, 5), f(4, 3, 2, 48, 80, 5),
                   m(4, 3, 2, 80, 160, 7), m(6, 3, 1, 160, 176, 14), m(6, 3, 2, 176, 304, 18),
                   m(6, 3, 1, 304, 512, 5)]
    elif arch == "efficientnet_v2_l":
        setting = [f(1, 3, 1, 32, 32, 4), f(4, 3, 2, 32, 64, 7), f(4, 3, 2, 64, 96, 7),
                   m(4, 3, 2, 96, 192, 10), m(6, 3, 1, 192, 224, 19), m(6, 3, 2, 224, 384, 25),
                   m(6, 3, 1, 384, 640, 7)]
    else:
        raise ValueError(f"Unsupported model type {arch}")
    return setting, 1280


_DOC0 = 'These weights are ported from the original paper.'
_DOC1 = (
    '\n'
    "                These weights improve upon the results of the original paper by using a modified version of TorchVision's\n"  # noqa: E501
    '                `new training recipe\n'
    '                <https://pytorch.org/blog/how-to-train-state-of-the-art-models-using-torchvision-latest-primitives/>`_.\n'  # noqa: E501
    '            '
)
_RECIPE0 = 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v1'
_RECIPE1 = 'https://github.com/pytorch/vision/issues/3995#new-recipe-with-lr-wd-crop-tuning'
_RECIPE2 = 'https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v2'


class EfficientNet_B0_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('efficientnet_b0_rwightman-7f5810bc.pth', crop=224, resize=256,
        interp='bicubic', min_size=(1, 1), num_params=5288548, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 77.692, 'acc@5': 93.532}}, ops=0.386, file_size=20.451,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B1_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('efficientnet_b1_rwightman-bac287d4.pth', crop=240, resize=256,
        interp='bicubic', min_size=(1, 1), num_params=7794184, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 78.642, 'acc@5': 94.186}}, ops=0.687, file_size=30.134,
        docs=_DOC0)
    IMAGENET1K_V2 = _w('efficientnet_b1-c27df63c.pth', crop=240, resize=255, min_size=(1, 1),
        num_params=7794184, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 79.838, 'acc@5': 94.934}}, ops=0.687, file_size=30.136,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V2


class EfficientNet_B2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('efficientnet_b2_rwightman-c35c1473.pth', crop=288, resize=288,
        interp='bicubic', min_size=(1, 1), num_params=9109994, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 80.608, 'acc@5': 95.31}}, ops=1.088, file_size=35.174,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B3_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('efficientnet_b3_rwightman-b3899882.pth', crop=300, resize=320,
        interp='bicubic', min_size=(1, 1), num_params=12233232, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 82.008, 'acc@5': 96.054}}, ops=1.827, file_size=47.184,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B4_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('efficientnet_b4_rwightman-23ab8bcd.pth', crop=380, resize=384,
        interp='bicubic', min_size=(1, 1), num_params=19341616, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 83.384, 'acc@5': 96.594}}, ops=4.394, file_size=74.489,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B5_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('efficientnet_b5_lukemelas-1a07897c.pth', crop=456, resize=456,
        interp='bicubic', min_size=(1, 1), num_params=30389784, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 83.444, 'acc@5': 96.628}}, ops=10.266, file_size=116.864,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B6_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('efficientnet_b6_lukemelas-24a108a5.pth', crop=528, resize=528,
        interp='bicubic', min_size=(1, 1), num_params=43040704, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 84.008, 'acc@5': 96.916}}, ops=19.068, file_size=165.362,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B7_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('efficientnet_b7_lukemelas-c5b4e57e.pth', crop=600, resize=600,
        interp='bicubic', min_size=(1, 1), num_params=66347960, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 84.122, 'acc@5': 96.908}}, ops=37.746, file_size=254.675,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_S_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('efficientnet_v2_s-dd5fe13b.pth', crop=384, resize=384, min_size=(33, 33),
        num_params=21458488, recipe=_RECIPE2,
        metrics={'ImageNet-1K': {'acc@1': 84.228, 'acc@5': 96.878}}, ops=8.366, file_size=82.704,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_M_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('efficientnet_v2_m-dc08266a.pth', crop=480, resize=480, min_size=(33, 33),
        num_params=54139356, recipe=_RECIPE2,
        metrics={'ImageNet-1K': {'acc@1': 85.112, 'acc@5': 97.156}}, ops=24.582, file_size=208.01,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V1


class EfficientNet_V2_L_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('efficientnet_v2_l-59c71312.pth', crop=480, resize=480, interp='bicubic',
        mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), min_size=(33, 33), num_params=118515272,
        recipe=_RECIPE2, metrics={'ImageNet-1K': {'acc@1': 85.808, 'acc@5': 97.788}}, ops=56.08,
        file_size=454.573, docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


_BN_TF = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)  # B5-B7 (ported TF weights)
_BN_V2 = partial(nn.BatchNorm2d, eps=1e-03)


def _efficientnet(arch: str, dropout: float, norm_layer: Callable[..., nn.Module] | None = None,
                  **conf: float):
    def construct(weights: WeightsEnum | None, kwargs: dict[str, Any]) -> EfficientNet:
        setting, last_channel = _efficientnet_conf(arch, **conf)
        if norm_layer is not None:
            kwargs.setdefault("norm_layer", norm_layer)
        return EfficientNet(setting, kwargs.pop("dropout", dropout),
                            last_channel=last_channel, **kwargs)

    return construct


_V1_DOC = ("EfficientNet {} model architecture from the `EfficientNet: Rethinking Model "
           "Scaling for Convolutional Neural Networks <https://arxiv.org/abs/1905.11946>`_ "
           "paper.")
_V2_DOC = ("Constructs an EfficientNetV2-{} architecture from `EfficientNetV2: Smaller Models "
           "and Faster Training <https://arxiv.org/abs/2104.00298>`_.")
_BASE = "ember.vision.models.efficientnet.EfficientNet"


def _v1(n: int, enum: type[WeightsEnum], width: float, depth: float, dropout: float,
        norm_layer: Callable[..., nn.Module] | None = None):
    name = f"efficientnet_b{n}"
    return _make_builder(__name__, name, enum,
                         _efficientnet(name, dropout, norm_layer, width_mult=width,
                                       depth_mult=depth),
                         _V1_DOC.format(f"B{n}"), _BASE)


def _v2(size: str, enum: type[WeightsEnum], dropout: float):
    name = f"efficientnet_v2_{size}"
    return _make_builder(__name__, name, enum, _efficientnet(name, dropout, _BN_V2),
                         _V2_DOC.format(size.upper()), _BASE)


efficientnet_b0 = _v1(0, EfficientNet_B0_Weights, 1.0, 1.0, 0.2)
efficientnet_b1 = _v1(1, EfficientNet_B1_Weights, 1.0, 1.1, 0.2)
efficientnet_b2 = _v1(2, EfficientNet_B2_Weights, 1.1, 1.2, 0.3)
efficientnet_b3 = _v1(3, EfficientNet_B3_Weights, 1.2, 1.4, 0.3)
efficientnet_b4 = _v1(4, EfficientNet_B4_Weights, 1.4, 1.8, 0.4)
efficientnet_b5 = _v1(5, EfficientNet_B5_Weights, 1.6, 2.2, 0.4, _BN_TF)
efficientnet_b6 = _v1(6, EfficientNet_B6_Weights, 1.8, 2.6, 0.5, _BN_TF)
efficientnet_b7 = _v1(7, EfficientNet_B7_Weights, 2.0, 3.1, 0.5, _BN_TF)
efficientnet_v2_s = _v2("s", EfficientNet_V2_S_Weights, 0.2)
efficientnet_v2_m = _v2("m", EfficientNet_V2_M_Weights, 0.3)
efficientnet_v2_l = _v2("l", EfficientNet_V2_L_Weights, 0.4)
