"""ConvNeXt tiny/small/base/large, as ``torchvision.models.convnext``: "A ConvNet for the
2020s" (https://arxiv.org/abs/2201.03545) with torchvision's module layout, ``state_dict``
keys and pretrained weights."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import ember
from ember import Tensor, nn
from ember.nn import functional as F

from ..ops.misc import Conv2dNormActivation, Permute
from ..ops.stochastic_depth import StochasticDepth
from ._api import WeightsEnum
from ._weights_common import _make_builder, _w

__all__ = ["ConvNeXt", "ConvNeXt_Tiny_Weights", "ConvNeXt_Small_Weights",
           "ConvNeXt_Base_Weights", "ConvNeXt_Large_Weights", "convnext_tiny",
           "convnext_small", "convnext_base", "convnext_large"]


class LayerNorm2d(nn.LayerNorm):
    """Layer norm over the channels of an NCHW tensor."""

    def forward(self, x: Tensor) -> Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    """7x7 depthwise convolution, layer norm (channels last), inverted 4x MLP with GELU,
    scaled by the learnt per-channel ``layer_scale``, residual with stochastic depth."""

    def __init__(self, dim: int, layer_scale: float, stochastic_depth_prob: float,
                 norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        norm_layer = norm_layer or partial(nn.LayerNorm, eps=1e-6)
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            Permute([0, 2, 3, 1]),
            norm_layer(dim),
            nn.Linear(dim, 4 * dim, bias=True),
            nn.GELU(),
            nn.Linear(4 * dim, dim, bias=True),
            Permute([0, 3, 1, 2]),
        )
        self.layer_scale = nn.Parameter(ember.ones(dim, 1, 1) * layer_scale)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, input: Tensor) -> Tensor:
        out = self.layer_scale * self.block(input)
        return self.stochastic_depth(out) + input


class CNBlockConfig:
    """A stage: its width, the width of the next stage (None for the last) and its depth."""

    def __init__(self, input_channels: int, out_channels: int | None, num_layers: int) -> None:
        self.input_channels = input_channels
        self.out_channels = out_channels
        self.num_layers = num_layers

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(input_channels={self.input_channels}, "
                f"out_channels={self.out_channels}, num_layers={self.num_layers})")


class ConvNeXt(nn.Module):
    """A 4x4 stride-4 patchify stem, stages of :class:`CNBlock` separated by downsampling
    layers (layer norm + 2x2 stride-2 convolution), global average pooling and a head of
    layer norm, flatten and linear layer. Stochastic depth grows linearly over the blocks up
    to ``stochastic_depth_prob``."""

    def __init__(self, block_setting: list[CNBlockConfig], stochastic_depth_prob: float = 0.0,
                 layer_scale: float = 1e-6, num_classes: int = 1000,
                 block: Callable[..., nn.Module] | None = None,
                 norm_layer: Callable[..., nn.Module] | None = None, **kwargs: Any) -> None:
        super().__init__()
        if not block_setting:
            raise ValueError("The block_setting should not be empty")
        if not (isinstance(block_setting, Sequence) and
                all(isinstance(s, CNBlockConfig) for s in block_setting)):
            raise TypeError("The block_setting should be List[CNBlockConfig]")
        block = block or CNBlock
        norm_layer = norm_layer or partial(LayerNorm2d, eps=1e-6)

        first = block_setting[0].input_channels
        layers: list[nn.Module] = [
            Conv2dNormActivation(3, first, kernel_size=4, stride=4, padding=0,
                                 norm_layer=norm_layer, activation_layer=None, bias=True)]
        total = sum(cnf.num_layers for cnf in block_setting)
        index = 0
        for cnf in block_setting:
            stage = []
            for _ in range(cnf.num_layers):
                sd_prob = stochastic_depth_prob * index / (total - 1.0)
                stage.append(block(cnf.input_channels, layer_scale, sd_prob))
                index += 1
            layers.append(nn.Sequential(*stage))
            if cnf.out_channels is not None:
                layers.append(nn.Sequential(
                    norm_layer(cnf.input_channels),
                    nn.Conv2d(cnf.input_channels, cnf.out_channels, kernel_size=2, stride=2)))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)

        last = block_setting[-1]
        width = last.out_channels if last.out_channels is not None else last.input_channels
        self.classifier = nn.Sequential(norm_layer(width), nn.Flatten(1),
                                        nn.Linear(width, num_classes))

        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def _forward_impl(self, x: Tensor) -> Tensor:
        return self.classifier(self.avgpool(self.features(x)))

    def forward(self, x: Tensor) -> Tensor:
        return self._forward_impl(x)


_DOC0 = (
    '\n'
    "        These weights improve upon the results of the original paper by using a modified version of TorchVision's\n"  # noqa: E501
    '        `new training recipe\n'
    '        <https://pytorch.org/blog/how-to-train-state-of-the-art-models-using-torchvision-latest-primitives/>`_.\n'  # noqa: E501
    '    '
)
_RECIPE0 = 'https://github.com/pytorch/vision/tree/main/references/classification#convnext'


class ConvNeXt_Tiny_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('convnext_tiny-983f1562.pth', crop=224, resize=236, min_size=(32, 32),
        num_params=28589128, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 82.52, 'acc@5': 96.146}}, ops=4.456, file_size=109.119,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class ConvNeXt_Small_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('convnext_small-0c510722.pth', crop=224, resize=230, min_size=(32, 32),
        num_params=50223688, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 83.616, 'acc@5': 96.65}}, ops=8.684, file_size=191.703,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class ConvNeXt_Base_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('convnext_base-6075fbad.pth', crop=224, resize=232, min_size=(32, 32),
        num_params=88591464, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 84.062, 'acc@5': 96.87}}, ops=15.355, file_size=338.064,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class ConvNeXt_Large_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('convnext_large-ea097f82.pth', crop=224, resize=232, min_size=(32, 32),
        num_params=197767336, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 84.414, 'acc@5': 96.976}}, ops=34.361, file_size=754.537,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


def _convnext(widths: tuple[int, int, int, int], depths: tuple[int, int, int, int],
              stochastic_depth_prob: float):
    def construct(weights: WeightsEnum | None, kwargs: dict[str, Any]) -> ConvNeXt:
        setting = [CNBlockConfig(w, nxt, d) for w, nxt, d in
                   zip(widths, list(widths[1:]) + [None], depths)]
        sdp = kwargs.pop("stochastic_depth_prob", stochastic_depth_prob)
        return ConvNeXt(setting, stochastic_depth_prob=sdp, **kwargs)

    return construct


def _cnx(size: str, enum: type[WeightsEnum], widths, depths, sdp: float):
    return _make_builder(
        __name__, f"convnext_{size}", enum, _convnext(widths, depths, sdp),
        f"ConvNeXt {size.capitalize()} model architecture from the `A ConvNet for the 2020s "
        "<https://arxiv.org/abs/2201.03545>`_ paper.",
        "ember.vision.models.convnext.ConvNext")


convnext_tiny = _cnx("tiny", ConvNeXt_Tiny_Weights, (96, 192, 384, 768), (3, 3, 9, 3), 0.1)
convnext_small = _cnx("small", ConvNeXt_Small_Weights, (96, 192, 384, 768), (3, 3, 27, 3),
                      0.4)
convnext_base = _cnx("base", ConvNeXt_Base_Weights, (128, 256, 512, 1024), (3, 3, 27, 3),
                     0.5)
convnext_large = _cnx("large", ConvNeXt_Large_Weights, (192, 384, 768, 1536), (3, 3, 27, 3),
                      0.5)
