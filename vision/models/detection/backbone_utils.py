"""ResNet + feature pyramid backbones for the detectors: ``BackboneWithFPN`` and
``resnet_fpn_backbone``."""

from __future__ import annotations

import warnings

from ember import nn

from ...ops import misc as misc_nn_ops
from ...ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelMaxPool
from .. import resnet
from .._utils import IntermediateLayerGetter

__all__ = ["BackboneWithFPN", "resnet_fpn_backbone"]

# ResNet stages from the head backwards: freezing keeps only the first k trainable.
_STAGES_FROM_TOP = ("layer4", "layer3", "layer2", "layer1", "conv1")


class BackboneWithFPN(nn.Module):
    """``body`` pulls the ``return_layers`` outputs out of ``backbone``; ``fpn`` turns the
    maps (channel counts ``in_channels_list``) into a pyramid of ``out_channels`` each.
    ``extra_blocks`` defaults to an extra max-pooled level."""

    def __init__(self, backbone, return_layers, in_channels_list, out_channels,
                 extra_blocks=None, norm_layer=None) -> None:
        super().__init__()
        self.body = IntermediateLayerGetter(backbone, return_layers=return_layers)
        self.fpn = FeaturePyramidNetwork(
            in_channels_list=in_channels_list, out_channels=out_channels,
            extra_blocks=LastLevelMaxPool() if extra_blocks is None else extra_blocks,
            norm_layer=norm_layer)
        self.out_channels = out_channels

    def forward(self, x):
        return self.fpn(self.body(x))


def resnet_fpn_backbone(*, backbone_name, weights, norm_layer=misc_nn_ops.FrozenBatchNorm2d,
                        trainable_layers=3, returned_layers=None, extra_blocks=None):
    """Builds ``resnet.<backbone_name>`` (frozen batch norm by default) and wraps it in a
    ``BackboneWithFPN``; only the last ``trainable_layers`` stages (0-5) keep gradients."""
    net = vars(resnet)[backbone_name](weights=weights, norm_layer=norm_layer)
    return _resnet_fpn_extractor(net, trainable_layers, returned_layers, extra_blocks)


def _freeze_all_but(model, trainable_layers):
    keep = list(_STAGES_FROM_TOP[:trainable_layers])
    if trainable_layers == 5:
        keep.append("bn1")
    for pname, p in model.named_parameters():
        if not any(pname.startswith(prefix) for prefix in keep):
            p.requires_grad_(False)


def _resnet_fpn_extractor(backbone, trainable_layers, returned_layers=None, extra_blocks=None,
                          norm_layer=None):
    if not 0 <= trainable_layers <= 5:
        raise ValueError(f"Trainable layers should be in the range [0,5], got {trainable_layers}")
    _freeze_all_but(backbone, trainable_layers)
    stages = [1, 2, 3, 4] if returned_layers is None else returned_layers
    if not (min(stages) >= 1 and max(stages) <= 4):
        raise ValueError(f"Each returned layer should be in the range [1,4]. Got {stages}")
    # layer1 of a ResNet has inplanes/8 channels and every later stage doubles them
    base = backbone.inplanes // 8
    channels = [base * 2 ** (s - 1) for s in stages]
    mapping = {f"layer{s}": str(i) for i, s in enumerate(stages)}
    if extra_blocks is None:
        extra_blocks = LastLevelMaxPool()
    return BackboneWithFPN(backbone, mapping, channels, 256, extra_blocks=extra_blocks,
                           norm_layer=norm_layer)


def _validate_trainable_layers(is_trained, trainable_backbone_layers, max_value, default_value):
    """Number of trainable stages to use: all of them when nothing is pretrained."""
    requested = trainable_backbone_layers
    if not is_trained:
        if requested is not None:
            warnings.warn("Changing trainable_backbone_layers has no effect if neither "
                          "pretrained nor pretrained_backbone have been set to True, falling "
                          f"back to trainable_backbone_layers={max_value} so that all layers "
                          "are trainable")
        requested = max_value
    elif requested is None:
        requested = default_value
    if not 0 <= requested <= max_value:
        raise ValueError(f"Trainable backbone layers should be in the range [0,{max_value}], "
                         f"got {requested} ")
    return requested
