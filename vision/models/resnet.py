"""ResNet, ResNeXt and Wide ResNet (torchvision's ``models.resnet`` API): module names and
``state_dict`` keys follow torchvision, so its published ``.pth`` checkpoints load directly
(``ember.load`` reads them without torch).
"""

from __future__ import annotations

import functools
from typing import Any

import ember
from ember import Tensor, nn

from ..transforms import _presets
from . import _meta
from ._api import Weights, WeightsEnum, _ovewrite_named_param, handle_legacy_pretrained
from ._api import register_model as _register_model

__all__ = [
    "ResNet", "ResNet18_Weights", "ResNet34_Weights", "ResNet50_Weights", "ResNet101_Weights",
    "ResNet152_Weights", "ResNeXt50_32X4D_Weights", "ResNeXt101_32X8D_Weights",
    "ResNeXt101_64X4D_Weights", "Wide_ResNet50_2_Weights", "Wide_ResNet101_2_Weights",
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
    "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2",
]


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1) -> nn.Conv2d:
    """Bias-free 3x3 convolution, padded by ``dilation`` so stride 1 keeps the size."""
    return nn.Conv2d(in_planes, out_planes, 3, stride=stride, padding=dilation, groups=groups,
                     bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1) -> nn.Conv2d:
    """Bias-free pointwise convolution."""
    return nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False)


def _shortcut(block_out, x, downsample):
    return block_out + (x if downsample is None else downsample(x))


class BasicBlock(nn.Module):
    """Two 3x3 conv-norm layers plus the shortcut (ResNet-18/34). ``stride`` is applied by
    ``conv1``; ``downsample`` (if any) must match it on the shortcut."""

    expansion: int = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None) -> None:
        super().__init__()
        norm = nn.BatchNorm2d if norm_layer is None else norm_layer
        if (groups, base_width) != (1, 64):
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        h = self.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return self.relu(_shortcut(h, x, self.downsample))


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (grouped, possibly dilated), 1x1 expand by ``expansion`` = 4, plus
    the shortcut. As in torchvision ("ResNet v1.5") the stride sits on the 3x3 conv
    ``conv2`` rather than on the first 1x1 as in He et al. (arXiv:1512.03385)."""

    expansion: int = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None) -> None:
        super().__init__()
        norm = nn.BatchNorm2d if norm_layer is None else norm_layer
        inner = int(planes * (base_width / 64.0)) * groups
        outer = planes * self.expansion
        self.conv1 = conv1x1(inplanes, inner)
        self.bn1 = norm(inner)
        self.conv2 = conv3x3(inner, inner, stride, groups, dilation)
        self.bn2 = norm(inner)
        self.conv3 = conv1x1(inner, outer)
        self.bn3 = norm(outer)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        h = self.relu(self.bn1(self.conv1(x)))
        h = self.relu(self.bn2(self.conv2(h)))
        h = self.bn3(self.conv3(h))
        return self.relu(_shortcut(h, x, self.downsample))


class ResNet(nn.Module):
    """Residual network (He et al., arXiv:1512.03385): a 7x7/2 stem with 3x3/2 max-pool,
    four stages of ``block`` with ``layers[i]`` blocks each (64, 128, 256, 512 planes),
    global average pooling and a linear classifier.

    ``groups``/``width_per_group`` give ResNeXt and wide variants;
    ``replace_stride_with_dilation`` (3 flags, stages 2-4) trades a stage's stride for
    dilation; ``zero_init_residual`` starts each block's last norm at zero scale.
    """

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1,
                 width_per_group=64, replace_stride_with_dilation=None,
                 norm_layer=None) -> None:
        super().__init__()
        self._norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer
        self.inplanes = 64
        self.dilation = 1
        dilate = [False] * 3 if replace_stride_with_dilation is None \
            else replace_stride_with_dilation
        if len(dilate) != 3:
            raise ValueError("replace_stride_with_dilation should be None or a 3-element tuple, "
                             f"got {dilate}")
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = self._norm_layer(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2, dilate=dilate[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2, dilate=dilate[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2, dilate=dilate[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        self._init_weights(zero_init_residual)

    def _init_weights(self, zero_init_residual: bool) -> None:
        mods = list(self.modules())
        for mod in mods:
            if isinstance(mod, nn.Conv2d):
                nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(mod, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(mod.weight, 1)
                nn.init.constant_(mod.bias, 0)
        if not zero_init_residual:
            return
        # every block then starts as an identity map (Goyal et al., arXiv:1706.02677)
        for mod in mods:
            last = mod.bn3 if isinstance(mod, Bottleneck) else \
                mod.bn2 if isinstance(mod, BasicBlock) else None
            if last is not None and last.weight is not None:
                nn.init.constant_(last.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False) -> nn.Sequential:
        """One stage of ``blocks`` blocks; only its first block changes resolution/width."""
        norm = self._norm_layer
        first_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        width_out = planes * block.expansion
        shortcut = None
        if stride != 1 or self.inplanes != width_out:
            shortcut = nn.Sequential(conv1x1(self.inplanes, width_out, stride), norm(width_out))
        stage = [block(self.inplanes, planes, stride, shortcut, self.groups, self.base_width,
                       first_dilation, norm)]
        self.inplanes = width_out
        stage += [block(width_out, planes, groups=self.groups, base_width=self.base_width,
                        dilation=self.dilation, norm_layer=norm) for _ in range(blocks - 1)]
        return nn.Sequential(*stage)

    def _forward_impl(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # stride 4
        for stage in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = stage(x)  # down to stride 32 (unless dilated)
        return self.fc(ember.flatten(self.avgpool(x), 1))

    def forward(self, x: Tensor) -> Tensor:
        return self._forward_impl(x)


def _resnet(block, layers, weights, progress, **kwargs) -> ResNet:
    if weights is not None:
        _ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))
    net = ResNet(block, layers, **kwargs)
    if weights is not None:
        net.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return net


_COMMON_META = {
    "min_size": (1, 1),
    "categories": _meta._IMAGENET_CATEGORIES,
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
    extra = {} if resize is None else {"resize_size": resize}
    tr = functools.partial(_presets.ImageClassification, crop_size=224, **extra)
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
