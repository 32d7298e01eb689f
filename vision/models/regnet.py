"""RegNet X and Y, as ``torchvision.models.regnet``: "Designing Network Design Spaces"
(https://arxiv.org/abs/2003.13678) with torchvision's module layout, ``state_dict`` keys and
pretrained weights (including the SWAG ones of the large RegNetY models)."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import ember
from ember import Tensor, nn

from ..ops.misc import Conv2dNormActivation, SqueezeExcitation
from ._api import WeightsEnum
from ._weights_common import _make_builder, _w
from .mobilenetv2 import _make_divisible

__all__ = [
    "RegNet", "BlockParams",
    "RegNet_Y_400MF_Weights", "RegNet_Y_800MF_Weights", "RegNet_Y_1_6GF_Weights",
    "RegNet_Y_3_2GF_Weights", "RegNet_Y_8GF_Weights", "RegNet_Y_16GF_Weights",
    "RegNet_Y_32GF_Weights", "RegNet_Y_128GF_Weights", "RegNet_X_400MF_Weights",
    "RegNet_X_800MF_Weights", "RegNet_X_1_6GF_Weights", "RegNet_X_3_2GF_Weights",
    "RegNet_X_8GF_Weights", "RegNet_X_16GF_Weights", "RegNet_X_32GF_Weights",
    "regnet_y_400mf", "regnet_y_800mf", "regnet_y_1_6gf", "regnet_y_3_2gf", "regnet_y_8gf",
    "regnet_y_16gf", "regnet_y_32gf", "regnet_y_128gf", "regnet_x_400mf", "regnet_x_800mf",
    "regnet_x_1_6gf", "regnet_x_3_2gf", "regnet_x_8gf", "regnet_x_16gf", "regnet_x_32gf",
]


class SimpleStemIN(Conv2dNormActivation):
    """The stem: a strided 3x3 convolution, norm, activation."""

    def __init__(self, width_in: int, width_out: int, norm_layer: Callable[..., nn.Module],
                 activation_layer: Callable[..., nn.Module]) -> None:
        super().__init__(width_in, width_out, kernel_size=3, stride=2, norm_layer=norm_layer,
                         activation_layer=activation_layer)


class BottleneckTransform(nn.Sequential):
    """1x1 to the bottleneck width, grouped 3x3 (with the stride), optional
    squeeze-and-excitation (squeezing to ``se_ratio`` of the block's input width), linear
    1x1 to the output width."""

    def __init__(self, width_in: int, width_out: int, stride: int,
                 norm_layer: Callable[..., nn.Module],
                 activation_layer: Callable[..., nn.Module], group_width: int,
                 bottleneck_multiplier: float, se_ratio: float | None) -> None:
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        w_b = int(round(width_out * bottleneck_multiplier))
        groups = w_b // group_width
        layers["a"] = Conv2dNormActivation(width_in, w_b, kernel_size=1, stride=1,
                                           norm_layer=norm_layer,
                                           activation_layer=activation_layer)
        layers["b"] = Conv2dNormActivation(w_b, w_b, kernel_size=3, stride=stride,
                                           groups=groups, norm_layer=norm_layer,
                                           activation_layer=activation_layer)
        if se_ratio:
            layers["se"] = SqueezeExcitation(w_b, int(round(se_ratio * width_in)),
                                             activation=activation_layer)
        layers["c"] = Conv2dNormActivation(w_b, width_out, kernel_size=1, stride=1,
                                           norm_layer=norm_layer, activation_layer=None)
        super().__init__(layers)


class ResBottleneckBlock(nn.Module):
    """Residual bottleneck block: ``f(x) + x`` (x projected by a strided 1x1 when the shape
    changes), then the activation."""

    def __init__(self, width_in: int, width_out: int, stride: int,
                 norm_layer: Callable[..., nn.Module],
                 activation_layer: Callable[..., nn.Module], group_width: int = 1,
                 bottleneck_multiplier: float = 1.0, se_ratio: float | None = None) -> None:
        super().__init__()
        self.proj = None
        if width_in != width_out or stride != 1:
            self.proj = Conv2dNormActivation(width_in, width_out, kernel_size=1, stride=stride,
                                             norm_layer=norm_layer, activation_layer=None)
        self.f = BottleneckTransform(width_in, width_out, stride, norm_layer, activation_layer,
                                     group_width, bottleneck_multiplier, se_ratio)
        self.activation = activation_layer(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x if self.proj is None else self.proj(x)
        return self.activation(shortcut + self.f(x))


class AnyStage(nn.Sequential):
    """``depth`` blocks named ``block{stage_index}-{i}``; the first one strides."""

    def __init__(self, width_in: int, width_out: int, stride: int, depth: int,
                 block_constructor: Callable[..., nn.Module],
                 norm_layer: Callable[..., nn.Module],
                 activation_layer: Callable[..., nn.Module], group_width: int,
                 bottleneck_multiplier: float, se_ratio: float | None = None,
                 stage_index: int = 0) -> None:
        super().__init__()
        for i in range(depth):
            block = block_constructor(width_in if i == 0 else width_out, width_out,
                                      stride if i == 0 else 1, norm_layer, activation_layer,
                                      group_width, bottleneck_multiplier, se_ratio)
            self.add_module(f"block{stage_index}-{i}", block)


class BlockParams:
    """Per-stage depths, widths, group widths, bottleneck multipliers and strides (plus the
    squeeze-and-excitation ratio) of a RegNet."""

    def __init__(self, depths: list[int], widths: list[int], group_widths: list[int],
                 bottleneck_multipliers: list[float], strides: list[int],
                 se_ratio: float | None = None) -> None:
        self.depths = depths
        self.widths = widths
        self.group_widths = group_widths
        self.bottleneck_multipliers = bottleneck_multipliers
        self.strides = strides
        self.se_ratio = se_ratio

    @classmethod
    def from_init_params(cls, depth: int, w_0: int, w_a: float, w_m: float, group_width: int,
                         bottleneck_multiplier: float = 1.0, se_ratio: float | None = None,
                         **kwargs: Any) -> BlockParams:
        """The paper's quantised linear parametrisation: block ``j`` gets the width
        ``w_0 + w_a * j`` snapped to ``w_0 * w_m ** k`` (then to a multiple of 8); runs of
        equal widths form the stages, each starting with stride 2."""
        quant = 8
        if w_a < 0 or w_0 <= 0 or w_m <= 1 or w_0 % 8 != 0:
            raise ValueError("Invalid RegNet settings")
        block_widths = []
        for j in range(depth):
            u = w_0 + w_a * j
            k = round(math.log(u / w_0) / math.log(w_m))
            block_widths.append(int(round(w_0 * w_m ** k / quant)) * quant)
        widths: list[int] = []
        depths: list[int] = []
        for w in block_widths:
            if widths and widths[-1] == w:
                depths[-1] += 1
            else:
                widths.append(w)
                depths.append(1)
        n = len(widths)
        widths, group_widths = cls._adjust_widths_groups_compatibilty(
            widths, [bottleneck_multiplier] * n, [group_width] * n)
        return cls(depths=depths, widths=widths, group_widths=group_widths,
                   bottleneck_multipliers=[bottleneck_multiplier] * n, strides=[2] * n,
                   se_ratio=se_ratio)

    def _get_expanded_params(self) -> Iterator[tuple[int, int, int, int, float]]:
        return zip(self.widths, self.strides, self.depths, self.group_widths,
                   self.bottleneck_multipliers)

    @staticmethod
    def _adjust_widths_groups_compatibilty(stage_widths: list[int], bottleneck_ratios:
                                           list[float], group_widths: list[int]
                                           ) -> tuple[list[int], list[int]]:
        """Makes each bottleneck width a multiple of its (capped) group width."""
        bottleneck = [int(w * b) for w, b in zip(stage_widths, bottleneck_ratios)]
        groups = [min(g, w_b) for g, w_b in zip(group_widths, bottleneck)]
        bottleneck = [_make_divisible(w_b, g) for w_b, g in zip(bottleneck, groups)]
        widths = [int(w_b / b) for w_b, b in zip(bottleneck, bottleneck_ratios)]
        return widths, groups


class RegNet(nn.Module):
    """RegNet main class.

    Args:
        block_params (BlockParams): The stage configuration
        num_classes (int): Number of classes
        stem_width (int): Width of the stem
        stem_type (callable, optional): The stem module (default ``SimpleStemIN``)
        block_type (callable, optional): The block module (default ``ResBottleneckBlock``)
        norm_layer (callable, optional): The normalisation (default ``nn.BatchNorm2d``)
        activation (callable, optional): The activation (default ``nn.ReLU``)
    """

    def __init__(self, block_params: BlockParams, num_classes: int = 1000,
                 stem_width: int = 32, stem_type: Callable[..., nn.Module] | None = None,
                 block_type: Callable[..., nn.Module] | None = None,
                 norm_layer: Callable[..., nn.Module] | None = None,
                 activation: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        stem_type = stem_type or SimpleStemIN
        norm_layer = norm_layer or nn.BatchNorm2d
        block_type = block_type or ResBottleneckBlock
        activation = activation or nn.ReLU

        self.stem = stem_type(3, stem_width, norm_layer, activation)
        width = stem_width
        stages: list[tuple[str, nn.Module]] = []
        for i, (w_out, stride, depth, g, b) in enumerate(block_params._get_expanded_params()):
            stages.append((f"block{i + 1}",
                           AnyStage(width, w_out, stride, depth, block_type, norm_layer,
                                    activation, g, b, block_params.se_ratio,
                                    stage_index=i + 1)))
            width = w_out
        self.trunk_output = nn.Sequential(OrderedDict(stages))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(in_features=width, out_features=num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                nn.init.normal_(m.weight, mean=0.0, std=math.sqrt(2.0 / fan_out))
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, mean=0.0, std=0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.trunk_output(self.stem(x)))
        return self.fc(ember.flatten(x, start_dim=1))


_RECIPE0 = 'https://github.com/pytorch/vision/tree/main/references/classification#small-models'
_DOC0 = 'These weights reproduce closely the results of the paper using a simple training recipe.'
_RECIPE1 = 'https://github.com/pytorch/vision/issues/3995#new-recipe'
_DOC1 = (
    '\n'
    "                These weights improve upon the results of the original paper by using a modified version of TorchVision's\n"  # noqa: E501
    '                `new training recipe\n'
    '                <https://pytorch.org/blog/how-to-train-state-of-the-art-models-using-torchvision-latest-primitives/>`_.\n'  # noqa: E501
    '            '
)
_RECIPE2 = 'https://github.com/pytorch/vision/tree/main/references/classification#medium-models'
_RECIPE3 = 'https://github.com/pytorch/vision/tree/main/references/classification#large-models'
_RECIPE4 = 'https://github.com/facebookresearch/SWAG'
_DOC2 = (
    '\n'
    '                These weights are learnt via transfer learning by end-to-end fine-tuning the original\n'  # noqa: E501
    '                `SWAG <https://arxiv.org/abs/2201.08371>`_ weights on ImageNet-1K data.\n'
    '            '
)
_LICENSE0 = 'https://github.com/facebookresearch/SWAG/blob/main/LICENSE'
_RECIPE5 = 'https://github.com/pytorch/vision/pull/5793'
_DOC3 = (
    '\n'
    '                These weights are composed of the original frozen `SWAG <https://arxiv.org/abs/2201.08371>`_ trunk\n'  # noqa: E501
    '                weights and a linear classifier learnt on top of them trained on ImageNet-1K data.\n'  # noqa: E501
    '            '
)
_RECIPE6 = 'https://github.com/pytorch/vision/issues/3995#new-recipe-with-fixres'


class RegNet_Y_400MF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('regnet_y_400mf-c65dace8.pth', crop=224, resize=256, min_size=(1, 1),
        num_params=4344144, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 74.046, 'acc@5': 91.716}}, ops=0.402, file_size=16.806,
        docs=_DOC0)
    IMAGENET1K_V2 = _w('regnet_y_400mf-e6988f5f.pth', crop=224, resize=232, min_size=(1, 1),
        num_params=4344144, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 75.804, 'acc@5': 92.742}}, ops=0.402, file_size=16.806,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_800MF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('regnet_y_800mf-1b27b58c.pth', crop=224, resize=256, min_size=(1, 1),
        num_params=6432512, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 76.42, 'acc@5': 93.136}}, ops=0.834, file_size=24.774,
        docs=_DOC0)
    IMAGENET1K_V2 = _w('regnet_y_800mf-58fc7688.pth', crop=224, resize=232, min_size=(1, 1),
        num_params=6432512, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 78.828, 'acc@5': 94.502}}, ops=0.834, file_size=24.774,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_1_6GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('regnet_y_1_6gf-b11a554e.pth', crop=224, resize=256, min_size=(1, 1),
        num_params=11202430, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 77.95, 'acc@5': 93.966}}, ops=1.612, file_size=43.152,
        docs=_DOC0)
    IMAGENET1K_V2 = _w('regnet_y_1_6gf-0d7bc02a.pth', crop=224, resize=232, min_size=(1, 1),
        num_params=11202430, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 80.876, 'acc@5': 95.444}}, ops=1.612, file_size=43.152,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_3_2GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('regnet_y_3_2gf-b5a9779c.pth', crop=224, resize=256, min_size=(1, 1),
        num_params=19436338, recipe=_RECIPE2,
        metrics={'ImageNet-1K': {'acc@1': 78.948, 'acc@5': 94.576}}, ops=3.176, file_size=74.567,
        docs=_DOC0)
    IMAGENET1K_V2 = _w('regnet_y_3_2gf-9180c971.pth', crop=224, resize=232, min_size=(1, 1),
        num_params=19436338, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 81.982, 'acc@5': 95.972}}, ops=3.176, file_size=74.567,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_8GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('regnet_y_8gf-d0d0e4a8.pth', crop=224, resize=256, min_size=(1, 1),
        num_params=39381472, recipe=_RECIPE2,
        metrics={'ImageNet-1K': {'acc@1': 80.032, 'acc@5': 95.048}}, ops=8.473, file_size=150.701,
        docs=_DOC0)
    IMAGENET1K_V2 = _w('regnet_y_8gf-dc2b1b54.pth', crop=224, resize=232, min_size=(1, 1),
        num_params=39381472, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 82.828, 'acc@5': 96.33}}, ops=8.473, file_size=150.701,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_16GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('regnet_y_16gf-9e6ed7dd.pth', crop=224, resize=256, min_size=(1, 1),
        num_params=83590140, recipe=_RECIPE3,
        metrics={'ImageNet-1K': {'acc@1': 80.424, 'acc@5': 95.24}}, ops=15.912, file_size=319.49,
        docs=_DOC0)
    IMAGENET1K_V2 = _w('regnet_y_16gf-3e4a00f9.pth', crop=224, resize=232, min_size=(1, 1),
        num_params=83590140, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 82.886, 'acc@5': 96.328}}, ops=15.912, file_size=319.49,
        docs=_DOC1)
    IMAGENET1K_SWAG_E2E_V1 = _w('regnet_y_16gf_swag-43afe44d.pth', crop=384, resize=384,
        interp='bicubic', min_size=(1, 1), num_params=83590140, recipe=_RECIPE4,
        metrics={'ImageNet-1K': {'acc@1': 86.012, 'acc@5': 98.054}}, ops=46.735, file_size=319.49,
        docs=_DOC2, license=_LICENSE0)
    IMAGENET1K_SWAG_LINEAR_V1 = _w('regnet_y_16gf_lc_swag-f3ec0043.pth', crop=224, resize=224,
        interp='bicubic', min_size=(1, 1), num_params=83590140, recipe=_RECIPE5,
        metrics={'ImageNet-1K': {'acc@1': 83.976, 'acc@5': 97.244}}, ops=15.912, file_size=319.49,
        docs=_DOC3, license=_LICENSE0)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_32GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('regnet_y_32gf-4dee3f7a.pth', crop=224, resize=256, min_size=(1, 1),
        num_params=145046770, recipe=_RECIPE3,
        metrics={'ImageNet-1K': {'acc@1': 80.878, 'acc@5': 95.34}}, ops=32.28, file_size=554.076,
        docs=_DOC0)
    IMAGENET1K_V2 = _w('regnet_y_32gf-8db6d4b5.pth', crop=224, resize=232, min_size=(1, 1),
        num_params=145046770, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 83.368, 'acc@5': 96.498}}, ops=32.28, file_size=554.076,
        docs=_DOC1)
    IMAGENET1K_SWAG_E2E_V1 = _w('regnet_y_32gf_swag-04fdfa75.pth', crop=384, resize=384,
        interp='bicubic', min_size=(1, 1), num_params=145046770, recipe=_RECIPE4,
        metrics={'ImageNet-1K': {'acc@1': 86.838, 'acc@5': 98.362}}, ops=94.826, file_size=554.076,
        docs=_DOC2, license=_LICENSE0)
    IMAGENET1K_SWAG_LINEAR_V1 = _w('regnet_y_32gf_lc_swag-e1583746.pth', crop=224, resize=224,
        interp='bicubic', min_size=(1, 1), num_params=145046770, recipe=_RECIPE5,
        metrics={'ImageNet-1K': {'acc@1': 84.622, 'acc@5': 97.48}}, ops=32.28, file_size=554.076,
        docs=_DOC3, license=_LICENSE0)
    DEFAULT = IMAGENET1K_V2


class RegNet_Y_128GF_Weights(WeightsEnum):
    IMAGENET1K_SWAG_E2E_V1 = _w('regnet_y_128gf_swag-c8ce3e52.pth', crop=384, resize=384,
        interp='bicubic', min_size=(1, 1), num_params=644812894, recipe=_RECIPE4,
        metrics={'ImageNet-1K': {'acc@1': 88.228, 'acc@5': 98.682}}, ops=374.57, file_size=2461.564,
        docs=_DOC2, license=_LICENSE0)
    IMAGENET1K_SWAG_LINEAR_V1 = _w('regnet_y_128gf_lc_swag-cbe8ce12.pth', crop=224, resize=224,
        interp='bicubic', min_size=(1, 1), num_params=644812894, recipe=_RECIPE5,
        metrics={'ImageNet-1K': {'acc@1': 86.068, 'acc@5': 97.844}}, ops=127.518,
        file_size=2461.564, docs=_DOC3, license=_LICENSE0)
    DEFAULT = IMAGENET1K_SWAG_E2E_V1


class RegNet_X_400MF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('regnet_x_400mf-adf1edd5.pth', crop=224, resize=256, min_size=(1, 1),
        num_params=5495976, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 72.834, 'acc@5': 90.95}}, ops=0.414, file_size=21.258,
        docs=_DOC0)
    IMAGENET1K_V2 = _w('regnet_x_400mf-62229a5f.pth', crop=224, resize=232, min_size=(1, 1),
        num_params=5495976, recipe=_RECIPE6,
        metrics={'ImageNet-1K': {'acc@1': 74.864, 'acc@5': 92.322}}, ops=0.414, file_size=21.257,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V2


class RegNet_X_800MF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('regnet_x_800mf-ad17e45c.pth', crop=224, resize=256, min_size=(1, 1),
        num_params=7259656, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 75.212, 'acc@5': 92.348}}, ops=0.8, file_size=27.945,
        docs=_DOC0)
    IMAGENET1K_V2 = _w('regnet_x_800mf-94a99ebd.pth', crop=224, resize=232, min_size=(1, 1),
        num_params=7259656, recipe=_RECIPE6,
        metrics={'ImageNet-1K': {'acc@1': 77.522, 'acc@5': 93.826}}, ops=0.8, file_size=27.945,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V2


class RegNet_X_1_6GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('regnet_x_1_6gf-e3633e7f.pth', crop=224, resize=256, min_size=(1, 1),
        num_params=9190136, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 77.04, 'acc@5': 93.44}}, ops=1.603, file_size=35.339,
        docs=_DOC0)
    IMAGENET1K_V2 = _w('regnet_x_1_6gf-a12f2b72.pth', crop=224, resize=232, min_size=(1, 1),
        num_params=9190136, recipe=_RECIPE6,
        metrics={'ImageNet-1K': {'acc@1': 79.668, 'acc@5': 94.922}}, ops=1.603, file_size=35.339,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V2


class RegNet_X_3_2GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('regnet_x_3_2gf-f342aeae.pth', crop=224, resize=256, min_size=(1, 1),
        num_params=15296552, recipe=_RECIPE2,
        metrics={'ImageNet-1K': {'acc@1': 78.364, 'acc@5': 93.992}}, ops=3.177, file_size=58.756,
        docs=_DOC0)
    IMAGENET1K_V2 = _w('regnet_x_3_2gf-7071aa85.pth', crop=224, resize=232, min_size=(1, 1),
        num_params=15296552, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 81.196, 'acc@5': 95.43}}, ops=3.177, file_size=58.756,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V2


class RegNet_X_8GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('regnet_x_8gf-03ceed89.pth', crop=224, resize=256, min_size=(1, 1),
        num_params=39572648, recipe=_RECIPE2,
        metrics={'ImageNet-1K': {'acc@1': 79.344, 'acc@5': 94.686}}, ops=7.995, file_size=151.456,
        docs=_DOC0)
    IMAGENET1K_V2 = _w('regnet_x_8gf-2b70d774.pth', crop=224, resize=232, min_size=(1, 1),
        num_params=39572648, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 81.682, 'acc@5': 95.678}}, ops=7.995, file_size=151.456,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V2


class RegNet_X_16GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('regnet_x_16gf-2007eb11.pth', crop=224, resize=256, min_size=(1, 1),
        num_params=54278536, recipe=_RECIPE2,
        metrics={'ImageNet-1K': {'acc@1': 80.058, 'acc@5': 94.944}}, ops=15.941, file_size=207.627,
        docs=_DOC0)
    IMAGENET1K_V2 = _w('regnet_x_16gf-ba3796d7.pth', crop=224, resize=232, min_size=(1, 1),
        num_params=54278536, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 82.716, 'acc@5': 96.196}}, ops=15.941, file_size=207.627,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V2


class RegNet_X_32GF_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('regnet_x_32gf-9d47f8d0.pth', crop=224, resize=256, min_size=(1, 1),
        num_params=107811560, recipe=_RECIPE3,
        metrics={'ImageNet-1K': {'acc@1': 80.622, 'acc@5': 95.248}}, ops=31.736, file_size=412.039,
        docs=_DOC0)
    IMAGENET1K_V2 = _w('regnet_x_32gf-6eb8fdc6.pth', crop=224, resize=232, min_size=(1, 1),
        num_params=107811560, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 83.014, 'acc@5': 96.288}}, ops=31.736, file_size=412.039,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V2




# (depth, w_0, w_a, w_m, group_width) of each size; the Y models add squeeze-and-excitation
_CONFIGS = {
    "y_400mf": (16, 48, 27.89, 2.09, 8), "y_800mf": (14, 56, 38.84, 2.4, 16),
    "y_1_6gf": (27, 48, 20.71, 2.65, 24), "y_3_2gf": (21, 80, 42.63, 2.66, 24),
    "y_8gf": (17, 192, 76.82, 2.19, 56), "y_16gf": (18, 200, 106.23, 2.48, 112),
    "y_32gf": (20, 232, 115.89, 2.53, 232), "y_128gf": (27, 456, 160.83, 2.52, 264),
    "x_400mf": (22, 24, 24.48, 2.54, 16), "x_800mf": (16, 56, 35.73, 2.28, 16),
    "x_1_6gf": (18, 80, 34.01, 2.25, 24), "x_3_2gf": (25, 88, 26.31, 2.25, 48),
    "x_8gf": (23, 80, 49.56, 2.88, 120), "x_16gf": (22, 216, 55.59, 2.1, 128),
    "x_32gf": (23, 320, 69.86, 2.0, 168),
}


def _regnet(size: str, enum: type[WeightsEnum]):
    depth, w_0, w_a, w_m, group_width = _CONFIGS[size]
    se_ratio = 0.25 if size.startswith("y") else None

    def construct(weights: WeightsEnum | None, kwargs: dict[str, Any]) -> RegNet:
        params = BlockParams.from_init_params(depth=depth, w_0=w_0, w_a=w_a, w_m=w_m,
                                              group_width=group_width, se_ratio=se_ratio,
                                              **kwargs)
        kwargs.setdefault("norm_layer", partial(nn.BatchNorm2d, eps=1e-05, momentum=0.1))
        return RegNet(params, **kwargs)

    label = f"RegNet{size[0].upper()}_{size[2:].upper().replace('_', '.')}"
    return _make_builder(
        __name__, f"regnet_{size}", enum, construct,
        f"Constructs a {label} architecture "
        "from `Designing Network Design Spaces <https://arxiv.org/abs/2003.13678>`_.",
        "ember.vision.models.regnet.RegNet")


regnet_y_400mf = _regnet("y_400mf", RegNet_Y_400MF_Weights)
regnet_y_800mf = _regnet("y_800mf", RegNet_Y_800MF_Weights)
regnet_y_1_6gf = _regnet("y_1_6gf", RegNet_Y_1_6GF_Weights)
regnet_y_3_2gf = _regnet("y_3_2gf", RegNet_Y_3_2GF_Weights)
regnet_y_8gf = _regnet("y_8gf", RegNet_Y_8GF_Weights)
regnet_y_16gf = _regnet("y_16gf", RegNet_Y_16GF_Weights)
regnet_y_32gf = _regnet("y_32gf", RegNet_Y_32GF_Weights)
regnet_y_128gf = _regnet("y_128gf", RegNet_Y_128GF_Weights)
regnet_x_400mf = _regnet("x_400mf", RegNet_X_400MF_Weights)
regnet_x_800mf = _regnet("x_800mf", RegNet_X_800MF_Weights)
regnet_x_1_6gf = _regnet("x_1_6gf", RegNet_X_1_6GF_Weights)
regnet_x_3_2gf = _regnet("x_3_2gf", RegNet_X_3_2GF_Weights)
regnet_x_8gf = _regnet("x_8gf", RegNet_X_8GF_Weights)
regnet_x_16gf = _regnet("x_16gf", RegNet_X_16GF_Weights)
regnet_x_32gf = _regnet("x_32gf", RegNet_X_32GF_Weights)
