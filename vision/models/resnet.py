"""ResNet, ResNeXt and Wide ResNet, as ``torchvision.models.resnet``: the same modules,
the same ``state_dict`` keys and the same pretrained weights (torchvision's ``.pth`` files,
read by ``ember.load`` without torch).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import ember
from ember import Tensor, nn

from ..transforms._presets import ImageClassification
from ._api import Weights, WeightsEnum, _ovewrite_named_param, handle_legacy_pretrained
from ._api import register_model as _register_model
from ._meta import _IMAGENET_CATEGORIES

__all__ = [
    "ResNet", "ResNet18_Weights", "ResNet34_Weights", "ResNet50_Weights", "ResNet101_Weights",
    "ResNet152_Weights", "ResNeXt50_32X4D_Weights", "ResNeXt101_32X8D_Weights",
    "ResNeXt101_64X4D_Weights", "Wide_ResNet50_2_Weights", "Wide_ResNet101_2_Weights",
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
    "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2",
]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1,
            dilation: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding"""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution"""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion: int = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, groups: int = 1, base_width: int = 64,
                 dilation: int = 1, norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        # Both self.conv1 and self.downsample layers downsample the input when stride != 1
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x

        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)

        out = self.conv2(out)
        out = self.bn2(out)

        if self.downsample is not None:
            identity = self.downsample(x)

        out += identity
        out = self.relu(out)

        return out


class Bottleneck(nn.Module):
    # Bottleneck in torchvision places the stride for downsampling at 3x3 convolution
    # (self.conv2) while original implementation places the stride at the first 1x1
    # convolution (self.conv1) according to "Deep residual learning for image recognition"
    # https://arxiv.org/abs/1512.03385. This variant is also known as ResNet V1.5 and
    # improves accuracy according to
    # https://ngc.nvidia.com/catalog/model-scripts/nvidia:resnet_50_v1_5_for_pytorch.

    expansion: int = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, groups: int = 1, base_width: int = 64,
                 dilation: int = 1, norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        # Both self.conv2 and self.downsample layers downsample the input when stride != 1
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x

        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)

        out = self.conv2(out)
        out = self.bn2(out)
        out = self.relu(out)

        out = self.conv3(out)
        out = self.bn3(out)

        if self.downsample is not None:
            identity = self.downsample(x)

        out += identity
        out = self.relu(out)

        return out


class ResNet(nn.Module):
    """ResNet from `Deep Residual Learning for Image Recognition
    <https://arxiv.org/abs/1512.03385>`_ (the V1.5 variant, stride in the 3x3 convolution),
    configured by its block type and the number of blocks of its four stages."""

    def __init__(self, block: type[BasicBlock | Bottleneck], layers: list[int],
                 num_classes: int = 1000, zero_init_residual: bool = False, groups: int = 1,
                 width_per_group: int = 64,
                 replace_stride_with_dilation: list[bool] | None = None,
                 norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self._norm_layer = norm_layer

        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            # each element in the tuple indicates if we should replace
            # the 2x2 stride with a dilated convolution instead
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("replace_stride_with_dilation should be None or a 3-element tuple, "
                             f"got {replace_stride_with_dilation}")
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2,
                                       dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2,
                                       dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2,
                                       dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

        # Zero-initialize the last BN in each residual branch,
        # so that the residual branch starts with zeros, and each residual block behaves like
        # an identity. This improves the model by 0.2~0.3% according to
        # https://arxiv.org/abs/1706.02677
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block: type[BasicBlock | Bottleneck], planes: int, blocks: int,
                    stride: int = 1, dilate: bool = False) -> nn.Sequential:
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                norm_layer(planes * block.expansion),
            )

        layers = []
        layers.append(block(self.inplanes, planes, stride, downsample, self.groups,
                            self.base_width, previous_dilation, norm_layer))
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups,
                                base_width=self.base_width, dilation=self.dilation,
                                norm_layer=norm_layer))

        return nn.Sequential(*layers)

    def _forward_impl(self, x: Tensor) -> Tensor:
        x = self.conv1(x)  # (N, 64, H/2, W/2)
        x = self.bn1(x)
        x = self.relu(x)
        x = self.maxpool(x)  # (N, 64, H/4, W/4)

        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)  # (N, 512 * expansion, H/32, W/32)

        x = self.avgpool(x)
        x = ember.flatten(x, 1)  # (N, 512 * expansion)
        x = self.fc(x)

        return x

    def forward(self, x: Tensor) -> Tensor:
        return self._forward_impl(x)


def _resnet(block: type[BasicBlock | Bottleneck], layers: list[int],
            weights: WeightsEnum | None, progress: bool, **kwargs: Any) -> ResNet:
    if weights is not None:
        _ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))

    model = ResNet(block, layers, **kwargs)

    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))

    return model


_COMMON_META = {
    "min_size": (1, 1),
    "categories": _IMAGENET_CATEGORIES,
}

_V1_DOCS = "These weights reproduce closely the results of the paper using a simple training " \
    "recipe."
_V2_DOCS = """
                These weights improve upon the results of the original paper by using TorchVision's `new training recipe
                <https://pytorch.org/blog/how-to-train-state-of-the-art-models-using-torchvision-latest-primitives/>`_.
            """  # noqa: E501
_RECIPE_V1 = "https://github.com/pytorch/vision/tree/main/references/classification#resnet"
_RECIPE_NEW = "https://github.com/pytorch/vision/issues/3995#new-recipe"


def _w(url: str, num_params: int, recipe: str, acc1: float, acc5: float, ops: float,
       file_size: float, docs: str, resize: int | None = None) -> Weights:
    tr = partial(ImageClassification, crop_size=224) if resize is None else \
        partial(ImageClassification, crop_size=224, resize_size=resize)
    return Weights(url=url, transforms=tr, meta={
        **_COMMON_META,
        "num_params": num_params,
        "recipe": recipe,
        "_metrics": {"ImageNet-1K": {"acc@1": acc1, "acc@5": acc5}},
        "_ops": ops,
        "_file_size": file_size,
        "_docs": docs,
    })


_URL = "https://download.pytorch.org/models/"


class ResNet18_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w(_URL + "resnet18-f37072fd.pth", 11689512, _RECIPE_V1, 69.758, 89.078,
                       1.814, 44.661, _V1_DOCS)
    DEFAULT = IMAGENET1K_V1


class ResNet34_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w(_URL + "resnet34-b627a593.pth", 21797672, _RECIPE_V1, 73.314, 91.42,
                       3.664, 83.275, _V1_DOCS)
    DEFAULT = IMAGENET1K_V1


class ResNet50_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w(_URL + "resnet50-0676ba61.pth", 25557032, _RECIPE_V1, 76.13, 92.862,
                       4.089, 97.781, _V1_DOCS)
    IMAGENET1K_V2 = _w(_URL + "resnet50-11ad3fa6.pth", 25557032,
                       "https://github.com/pytorch/vision/issues/3995#issuecomment-1013906621",
                       80.858, 95.434, 4.089, 97.79, _V2_DOCS, resize=232)
    DEFAULT = IMAGENET1K_V2


class ResNet101_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w(_URL + "resnet101-63fe2227.pth", 44549160, _RECIPE_V1, 77.374, 93.546,
                       7.801, 170.511, _V1_DOCS)
    IMAGENET1K_V2 = _w(_URL + "resnet101-cd907fc2.pth", 44549160, _RECIPE_NEW, 81.886, 95.78,
                       7.801, 170.53, _V2_DOCS, resize=232)
    DEFAULT = IMAGENET1K_V2


class ResNet152_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w(_URL + "resnet152-394f9c45.pth", 60192808, _RECIPE_V1, 78.312, 94.046,
                       11.514, 230.434, _V1_DOCS)
    IMAGENET1K_V2 = _w(_URL + "resnet152-f82ba261.pth", 60192808, _RECIPE_NEW, 82.284, 96.002,
                       11.514, 230.474, _V2_DOCS, resize=232)
    DEFAULT = IMAGENET1K_V2


_RECIPE_NEXT = "https://github.com/pytorch/vision/tree/main/references/classification#resnext"
_RECIPE_FIXRES = "https://github.com/pytorch/vision/issues/3995#new-recipe-with-fixres"
_RECIPE_WIDE = "https://github.com/pytorch/vision/pull/912#issue-445437439"


class ResNeXt50_32X4D_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w(_URL + "resnext50_32x4d-7cdf4587.pth", 25028904, _RECIPE_NEXT, 77.618,
                       93.698, 4.23, 95.789, _V1_DOCS)
    IMAGENET1K_V2 = _w(_URL + "resnext50_32x4d-1a0047aa.pth", 25028904, _RECIPE_NEW, 81.198,
                       95.34, 4.23, 95.833, _V2_DOCS, resize=232)
    DEFAULT = IMAGENET1K_V2


class ResNeXt101_32X8D_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w(_URL + "resnext101_32x8d-8ba56ff5.pth", 88791336, _RECIPE_NEXT, 79.312,
                       94.526, 16.414, 339.586, _V1_DOCS)
    IMAGENET1K_V2 = _w(_URL + "resnext101_32x8d-110c445d.pth", 88791336, _RECIPE_FIXRES,
                       82.834, 96.228, 16.414, 339.673, _V2_DOCS, resize=232)
    DEFAULT = IMAGENET1K_V2


class ResNeXt101_64X4D_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w(_URL + "resnext101_64x4d-173b62eb.pth", 83455272,
                       "https://github.com/pytorch/vision/pull/5935", 83.246, 96.454, 15.46,
                       319.318, """
                These weights were trained from scratch by using TorchVision's `new training recipe
                <https://pytorch.org/blog/how-to-train-state-of-the-art-models-using-torchvision-latest-primitives/>`_.
            """, resize=232)  # noqa: E501
    DEFAULT = IMAGENET1K_V1


class Wide_ResNet50_2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w(_URL + "wide_resnet50_2-95faca4d.pth", 68883240, _RECIPE_WIDE, 78.468,
                       94.086, 11.398, 131.82, _V1_DOCS)
    IMAGENET1K_V2 = _w(_URL + "wide_resnet50_2-9ba9bcbe.pth", 68883240, _RECIPE_FIXRES, 81.602,
                       95.758, 11.398, 263.124, _V2_DOCS, resize=232)
    DEFAULT = IMAGENET1K_V2


class Wide_ResNet101_2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w(_URL + "wide_resnet101_2-32ee1156.pth", 126886696, _RECIPE_WIDE, 78.848,
                       94.284, 22.753, 242.896, _V1_DOCS)
    IMAGENET1K_V2 = _w(_URL + "wide_resnet101_2-d733dc28.pth", 126886696, _RECIPE_NEW, 82.51,
                       96.02, 22.753, 484.747, _V2_DOCS, resize=232)
    DEFAULT = IMAGENET1K_V2


def _builder(name: str, weights_enum: type[WeightsEnum], legacy: str, block, layers,
             **fixed: Any):
    doc_model = {
        "resnet": "ResNet-{} from `Deep Residual Learning for Image Recognition "
                  "<https://arxiv.org/abs/1512.03385>`__.",
        "resnext": "ResNeXt-{} model from `Aggregated Residual Transformation for Deep Neural "
                   "Networks <https://arxiv.org/abs/1611.05431>`_.",
        "wide": "Wide ResNet-{} model from `Wide Residual Networks "
                "<https://arxiv.org/abs/1605.07146>`_.",
    }

    def builder(*, weights: weights_enum | None = None, progress: bool = True,
                **kwargs: Any) -> ResNet:
        weights = weights_enum.verify(weights)
        for k, v in fixed.items():
            _ovewrite_named_param(kwargs, k, v)
        return _resnet(block, layers, weights, progress, **kwargs)

    kind = "wide" if name.startswith("wide") else "resnext" if name.startswith("resnext") \
        else "resnet"
    depth = name.split("_")[0].replace("resnext", "").replace("resnet", "") \
        if kind != "wide" else name.split("_")[1].replace("resnet", "")
    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = doc_model[kind].format(depth) + f"""

    Args:
        weights (:class:`~ember.vision.models.{weights_enum.__name__}`, optional): The
            pretrained weights to use. See :class:`{weights_enum.__name__}` below for more
            details, and possible values. By default, no pre-trained weights are used.
        progress (bool, optional): If True, displays a progress bar of the download to
            stderr. Default is True.
        **kwargs: parameters passed to the ``ember.vision.models.resnet.ResNet`` base class.
    """
    builder.__annotations__["weights"] = weights_enum
    builder.__module__ = __name__
    wrapped = handle_legacy_pretrained(weights_enum, legacy)(builder)
    return _register_model(name)(wrapped)


resnet18 = _builder("resnet18", ResNet18_Weights, "IMAGENET1K_V1", BasicBlock, [2, 2, 2, 2])
resnet34 = _builder("resnet34", ResNet34_Weights, "IMAGENET1K_V1", BasicBlock, [3, 4, 6, 3])
resnet50 = _builder("resnet50", ResNet50_Weights, "IMAGENET1K_V1", Bottleneck, [3, 4, 6, 3])
resnet101 = _builder("resnet101", ResNet101_Weights, "IMAGENET1K_V1", Bottleneck,
                     [3, 4, 23, 3])
resnet152 = _builder("resnet152", ResNet152_Weights, "IMAGENET1K_V1", Bottleneck,
                     [3, 8, 36, 3])
resnext50_32x4d = _builder("resnext50_32x4d", ResNeXt50_32X4D_Weights, "IMAGENET1K_V1",
                           Bottleneck, [3, 4, 6, 3], groups=32, width_per_group=4)
resnext101_32x8d = _builder("resnext101_32x8d", ResNeXt101_32X8D_Weights, "IMAGENET1K_V1",
                            Bottleneck, [3, 4, 23, 3], groups=32, width_per_group=8)
resnext101_64x4d = _builder("resnext101_64x4d", ResNeXt101_64X4D_Weights, "IMAGENET1K_V1",
                            Bottleneck, [3, 4, 23, 3], groups=64, width_per_group=4)
wide_resnet50_2 = _builder("wide_resnet50_2", Wide_ResNet50_2_Weights, "IMAGENET1K_V1",
                           Bottleneck, [3, 4, 6, 3], width_per_group=64 * 2)
wide_resnet101_2 = _builder("wide_resnet101_2", Wide_ResNet101_2_Weights, "IMAGENET1K_V1",
                            Bottleneck, [3, 4, 23, 3], width_per_group=64 * 2)
