"""MNASNet 0.5/0.75/1.0/1.3, as ``torchvision.models.mnasnet``: "MnasNet: Platform-Aware
Neural Architecture Search for Mobile" (https://arxiv.org/abs/1807.11626) with torchvision's
module layout, ``state_dict`` keys and pretrained weights."""

from __future__ import annotations

import warnings
from typing import Any

from ember import Tensor, nn

from ._api import WeightsEnum
from ._weights_common import _make_builder, _w

__all__ = ["MNASNet", "MNASNet0_5_Weights", "MNASNet0_75_Weights", "MNASNet1_0_Weights",
           "MNASNet1_3_Weights", "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3"]

# the reference implementation's batch norm decay of 0.9997, as a PyTorch momentum
_BN_MOMENTUM = 1 - 0.9997


class _InvertedResidual(nn.Module):
    """1x1 expansion, ``kernel_size`` depthwise convolution (with the stride), linear 1x1
    projection, each followed by batch norm; residual when the shape is kept."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, stride: int,
                 expansion_factor: int, bn_momentum: float = 0.1) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride should be 1 or 2 instead of {stride}")
        if kernel_size not in (3, 5):
            raise ValueError(f"kernel_size should be 3 or 5 instead of {kernel_size}")
        mid = in_ch * expansion_factor
        self.apply_residual = in_ch == out_ch and stride == 1
        self.layers = nn.Sequential(
            nn.Conv2d(in_ch, mid, 1, bias=False),
            nn.BatchNorm2d(mid, momentum=bn_momentum),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, mid, kernel_size, padding=kernel_size // 2, stride=stride,
                      groups=mid, bias=False),
            nn.BatchNorm2d(mid, momentum=bn_momentum),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, out_ch, 1, bias=False),
            nn.BatchNorm2d(out_ch, momentum=bn_momentum),
        )

    def forward(self, input: Tensor) -> Tensor:
        out = self.layers(input)
        return out + input if self.apply_residual else out


def _stack(in_ch: int, out_ch: int, kernel_size: int, stride: int, exp_factor: int,
           repeats: int, bn_momentum: float) -> nn.Sequential:
    """``repeats`` inverted residuals; only the first changes the width and strides."""
    if repeats < 1:
        raise ValueError(f"repeats should be >= 1, instead got {repeats}")
    blocks = [_InvertedResidual(in_ch, out_ch, kernel_size, stride, exp_factor,
                                bn_momentum=bn_momentum)]
    blocks += [_InvertedResidual(out_ch, out_ch, kernel_size, 1, exp_factor,
                                 bn_momentum=bn_momentum) for _ in range(1, repeats)]
    return nn.Sequential(*blocks)


def _round_to_multiple_of(val: float, divisor: int, round_up_bias: float = 0.9) -> int:
    """Rounds ``val`` to the nearest multiple of ``divisor`` (at least ``divisor``), one
    multiple higher when rounding would lose more than ``1 - round_up_bias`` of it."""
    if not 0.0 < round_up_bias < 1.0:
        raise ValueError(f"round_up_bias should be greater than 0.0 and smaller than 1.0 "
                         f"instead of {round_up_bias}")
    new_val = max(divisor, int(val + divisor / 2) // divisor * divisor)
    return new_val if new_val >= round_up_bias * val else new_val + divisor


def _get_depths(alpha: float) -> list[int]:
    """The widths of the stem and the stages, scaled by ``alpha``."""
    return [_round_to_multiple_of(d * alpha, 8) for d in (32, 16, 24, 40, 80, 96, 192, 320)]


def _stem(depths: list[int]) -> list[nn.Module]:
    return [
        nn.Conv2d(3, depths[0], 3, padding=1, stride=2, bias=False),
        nn.BatchNorm2d(depths[0], momentum=_BN_MOMENTUM),
        nn.ReLU(inplace=True),
        nn.Conv2d(depths[0], depths[0], 3, padding=1, stride=1, groups=depths[0], bias=False),
        nn.BatchNorm2d(depths[0], momentum=_BN_MOMENTUM),
        nn.ReLU(inplace=True),
        nn.Conv2d(depths[0], depths[1], 1, padding=0, stride=1, bias=False),
        nn.BatchNorm2d(depths[1], momentum=_BN_MOMENTUM),
    ]


class MNASNet(nn.Module):
    """MNASNet, as described in https://arxiv.org/abs/1807.11626. This implements the B1
    variant of the model.

    Args:
        alpha (float): The depth multiplier
        num_classes (int): Number of classes
        dropout (float): The dropout probability
    """

    # version 2 scales the stem with alpha too; version 1 checkpoints keep it at 32/16
    _version = 2

    def __init__(self, alpha: float, num_classes: int = 1000, dropout: float = 0.2) -> None:
        super().__init__()
        if alpha <= 0.0:
            raise ValueError(f"alpha should be greater than 0.0 instead of {alpha}")
        self.alpha = alpha
        self.num_classes = num_classes
        depths = _get_depths(alpha)
        m = _BN_MOMENTUM
        layers = _stem(depths) + [
            _stack(depths[1], depths[2], 3, 2, 3, 3, m),
            _stack(depths[2], depths[3], 5, 2, 3, 3, m),
            _stack(depths[3], depths[4], 5, 2, 6, 3, m),
            _stack(depths[4], depths[5], 3, 1, 6, 2, m),
            _stack(depths[5], depths[6], 5, 2, 6, 4, m),
            _stack(depths[6], depths[7], 3, 1, 6, 1, m),
            nn.Conv2d(depths[7], 1280, 1, padding=0, stride=1, bias=False),
            nn.BatchNorm2d(1280, momentum=m),
            nn.ReLU(inplace=True),
        ]
        self.layers = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True),
                                        nn.Linear(1280, num_classes))

        for mod in self.modules():
            if isinstance(mod, nn.Conv2d):
                nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")
                if mod.bias is not None:
                    nn.init.zeros_(mod.bias)
            elif isinstance(mod, nn.BatchNorm2d):
                nn.init.ones_(mod.weight)
                nn.init.zeros_(mod.bias)
            elif isinstance(mod, nn.Linear):
                nn.init.kaiming_uniform_(mod.weight, mode="fan_out", nonlinearity="sigmoid")
                nn.init.zeros_(mod.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = self.layers(x)
        return self.classifier(x.mean([2, 3]))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        version = local_metadata.get("version", None)
        if version not in (None, 1, 2):
            raise ValueError(f"version should be set to 1 or 2 instead of {version}")
        if version == 1 and self.alpha != 1.0:
            # a version 1 checkpoint has the unscaled stem: rebuild it to match
            v1_stem = _stem([32, 16])
            for i, layer in enumerate(v1_stem):
                self.layers[i] = layer
            self.layers[8] = _stack(16, _get_depths(self.alpha)[2], 3, 2, 3, 3, _BN_MOMENTUM)
            self._version = 1
            warnings.warn(
                "A new version of MNASNet model has been implemented. Your checkpoint was "
                "saved using the previous version. This checkpoint will load and work as "
                "before, but you may want to upgrade by training a newer model or "
                "transfer learning from an updated ImageNet checkpoint.", UserWarning)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)


_DOC0 = 'These weights reproduce closely the results of the paper.'
_DOC1 = (
    '\n'
    "                These weights were trained from scratch by using TorchVision's `new training recipe\n"  # noqa: E501
    '                <https://pytorch.org/blog/how-to-train-state-of-the-art-models-using-torchvision-latest-primitives/>`_.\n'  # noqa: E501
    '            '
)
_RECIPE0 = 'https://github.com/1e100/mnasnet_trainer'
_RECIPE1 = 'https://github.com/pytorch/vision/pull/6019'


class MNASNet0_5_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('mnasnet0.5_top1_67.823-3ffadce67e.pth', crop=224, resize=256,
        min_size=(1, 1), num_params=2218512, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 67.734, 'acc@5': 87.49}}, ops=0.104, file_size=8.591,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class MNASNet0_75_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('mnasnet0_75-7090bc5f.pth', crop=224, resize=232, min_size=(1, 1),
        num_params=3170208, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 71.18, 'acc@5': 90.496}}, ops=0.215, file_size=12.303,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V1


class MNASNet1_0_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('mnasnet1.0_top1_73.512-f206786ef8.pth', crop=224, resize=256,
        min_size=(1, 1), num_params=4383312, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 73.456, 'acc@5': 91.51}}, ops=0.314, file_size=16.915,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class MNASNet1_3_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('mnasnet1_3-a4c69d6f.pth', crop=224, resize=232, min_size=(1, 1),
        num_params=6282256, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 76.506, 'acc@5': 93.522}}, ops=0.526, file_size=24.246,
        docs=_DOC1)
    DEFAULT = IMAGENET1K_V1


def _mnasnet(alpha: float, enum: type[WeightsEnum], label: str):
    def construct(weights: WeightsEnum | None, kwargs: dict[str, Any]) -> MNASNet:
        return MNASNet(alpha, **kwargs)

    return _make_builder(
        __name__, f"mnasnet{label}", enum, construct,
        f"MNASNet with depth multiplier of {alpha} from `MnasNet: Platform-Aware Neural "
        "Architecture Search for Mobile <https://arxiv.org/abs/1807.11626>`_ paper.",
        "ember.vision.models.mnasnet.MNASNet")


mnasnet0_5 = _mnasnet(0.5, MNASNet0_5_Weights, "0_5")
mnasnet0_75 = _mnasnet(0.75, MNASNet0_75_Weights, "0_75")
mnasnet1_0 = _mnasnet(1.0, MNASNet1_0_Weights, "1_0")
mnasnet1_3 = _mnasnet(1.3, MNASNet1_3_Weights, "1_3")
