"""Vision Transformer B/16, B/32, L/16, L/32 and H/14, as
``torchvision.models.vision_transformer``: "An Image is Worth 16x16 Words: Transformers for
Image Recognition at Scale" (https://arxiv.org/abs/2010.11929) with torchvision's module
layout, ``state_dict`` keys and pretrained weights."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import ember
from ember import Tensor, nn

from ..ops.misc import MLP, Conv2dNormActivation
from ._api import WeightsEnum, _ovewrite_named_param
from ._weights_common import _make_builder, _w

__all__ = ["VisionTransformer", "ViT_B_16_Weights", "ViT_B_32_Weights", "ViT_L_16_Weights",
           "ViT_L_32_Weights", "ViT_H_14_Weights", "vit_b_16", "vit_b_32", "vit_l_16",
           "vit_l_32", "vit_h_14"]


_LN = partial(nn.LayerNorm, eps=1e-6)


class ConvStemConfig(NamedTuple):
    """One convolution of an optional convolutional stem ("Early Convolutions Help
    Transformers See Better")."""
    out_channels: int
    kernel_size: int
    stride: int
    norm_layer: Callable[..., nn.Module] = nn.BatchNorm2d
    activation_layer: Callable[..., nn.Module] = nn.ReLU


class MLPBlock(MLP):
    """The transformer's feed-forward part: linear, GELU, dropout, linear, dropout."""

    def __init__(self, in_dim: int, mlp_dim: int, dropout: float) -> None:
        super().__init__(in_dim, [mlp_dim, in_dim], activation_layer=nn.GELU, inplace=None,
                         dropout=dropout)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.normal_(m.bias, std=1e-6)


class EncoderBlock(nn.Module):
    """Pre-norm transformer layer: x + attention(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, num_heads: int, hidden_dim: int, mlp_dim: int, dropout: float,
                 attention_dropout: float,
                 norm_layer: Callable[..., nn.Module] = _LN
                 ) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.ln_1 = norm_layer(hidden_dim)
        self.self_attention = nn.MultiheadAttention(hidden_dim, num_heads,
                                                    dropout=attention_dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = norm_layer(hidden_dim)
        self.mlp = MLPBlock(hidden_dim, mlp_dim, dropout)

    def forward(self, input: Tensor) -> Tensor:
        ember._assert(input.dim() == 3,
                      f"Expected (batch_size, seq_length, hidden_dim) got {input.shape}")
        x = self.ln_1(input)
        x, _ = self.self_attention(x, x, x, need_weights=False)
        x = self.dropout(x) + input
        return x + self.mlp(self.ln_2(x))


class Encoder(nn.Module):
    """Learnt position embedding (added to the tokens), dropout, the encoder layers and a
    final layer norm."""

    def __init__(self, seq_length: int, num_layers: int, num_heads: int, hidden_dim: int,
                 mlp_dim: int, dropout: float, attention_dropout: float,
                 norm_layer: Callable[..., nn.Module] = _LN
                 ) -> None:
        super().__init__()
        self.pos_embedding = nn.Parameter(ember.empty(1, seq_length, hidden_dim))
        nn.init.normal_(self.pos_embedding, std=0.02)
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.Sequential(OrderedDict(
            (f"encoder_layer_{i}", EncoderBlock(num_heads, hidden_dim, mlp_dim, dropout,
                                                attention_dropout, norm_layer))
            for i in range(num_layers)))
        self.ln = norm_layer(hidden_dim)

    def forward(self, input: Tensor) -> Tensor:
        ember._assert(input.dim() == 3,
                      f"Expected (batch_size, seq_length, hidden_dim) got {input.shape}")
        return self.ln(self.layers(self.dropout(input + self.pos_embedding)))


class VisionTransformer(nn.Module):
    """The image cut into ``patch_size`` patches, each linearly embedded (by a strided
    convolution, or a convolutional stem), a class token prepended, a transformer
    encoder, and a head on the class token (optionally through a tanh "pre-logits" layer of
    ``representation_size``)."""

    def __init__(self, image_size: int, patch_size: int, num_layers: int, num_heads: int,
                 hidden_dim: int, mlp_dim: int, dropout: float = 0.0,
                 attention_dropout: float = 0.0, num_classes: int = 1000,
                 representation_size: int | None = None,
                 norm_layer: Callable[..., nn.Module] = _LN,
                 conv_stem_configs: list[ConvStemConfig] | None = None) -> None:
        super().__init__()
        if image_size % patch_size != 0:
            raise ValueError("Input shape indivisible by patch size!")
        self.image_size = image_size
        self.patch_size = patch_size
        self.hidden_dim = hidden_dim
        self.mlp_dim = mlp_dim
        self.attention_dropout = attention_dropout
        self.dropout = dropout
        self.num_classes = num_classes
        self.representation_size = representation_size
        self.norm_layer = norm_layer

        if conv_stem_configs is not None:
            stem = nn.Sequential()
            prev = 3
            for i, cfg in enumerate(conv_stem_configs):
                stem.add_module(f"conv_bn_relu_{i}", Conv2dNormActivation(
                    prev, cfg.out_channels, kernel_size=cfg.kernel_size, stride=cfg.stride,
                    norm_layer=cfg.norm_layer, activation_layer=cfg.activation_layer))
                prev = cfg.out_channels
            stem.add_module("conv_last", nn.Conv2d(prev, hidden_dim, kernel_size=1))
            self.conv_proj: nn.Module = stem
        else:
            self.conv_proj = nn.Conv2d(3, hidden_dim, kernel_size=patch_size,
                                       stride=patch_size)

        seq_length = (image_size // patch_size) ** 2
        self.class_token = nn.Parameter(ember.zeros(1, 1, hidden_dim))
        seq_length += 1
        self.encoder = Encoder(seq_length, num_layers, num_heads, hidden_dim, mlp_dim,
                               dropout, attention_dropout, norm_layer)
        self.seq_length = seq_length

        heads: OrderedDict[str, nn.Module] = OrderedDict()
        if representation_size is None:
            heads["head"] = nn.Linear(hidden_dim, num_classes)
        else:
            heads["pre_logits"] = nn.Linear(hidden_dim, representation_size)
            heads["act"] = nn.Tanh()
            heads["head"] = nn.Linear(representation_size, num_classes)
        self.heads = nn.Sequential(heads)

        if isinstance(self.conv_proj, nn.Conv2d):
            fan_in = self.conv_proj.in_channels * self.conv_proj.kernel_size[0] * \
                self.conv_proj.kernel_size[1]
            nn.init.trunc_normal_(self.conv_proj.weight, std=math.sqrt(1 / fan_in))
            if self.conv_proj.bias is not None:
                nn.init.zeros_(self.conv_proj.bias)
        elif isinstance(getattr(self.conv_proj, "conv_last", None), nn.Conv2d):
            last = self.conv_proj.conv_last
            nn.init.normal_(last.weight, mean=0.0, std=math.sqrt(2.0 / last.out_channels))
            if last.bias is not None:
                nn.init.zeros_(last.bias)
        if "pre_logits" in heads:
            pre = heads["pre_logits"]
            nn.init.trunc_normal_(pre.weight, std=math.sqrt(1 / pre.in_features))
            nn.init.zeros_(pre.bias)
        nn.init.zeros_(heads["head"].weight)
        nn.init.zeros_(heads["head"].bias)

    def _process_input(self, x: Tensor) -> Tensor:
        n, _, h, w = x.shape
        p = self.patch_size
        ember._assert(h == self.image_size,
                      f"Wrong image height! Expected {self.image_size} but got {h}!")
        ember._assert(w == self.image_size,
                      f"Wrong image width! Expected {self.image_size} but got {w}!")
        n_h, n_w = h // p, w // p
        x = self.conv_proj(x)  # (n, hidden_dim, h/p, w/p)
        x = x.reshape(n, self.hidden_dim, n_h * n_w)
        return x.permute(0, 2, 1)  # (n, patches, hidden_dim)

    def forward(self, x: Tensor) -> Tensor:
        x = self._process_input(x)
        n = x.shape[0]
        x = ember.cat([self.class_token.expand(n, -1, -1), x], dim=1)
        x = self.encoder(x)
        return self.heads(x[:, 0])


def _load_vit(model: nn.Module, weights: WeightsEnum | None, progress: bool) -> None:
    """The published checkpoints name the MLP's linear layers ``linear_1``/``linear_2``;
    they are the ``0``/``3`` entries of :class:`MLPBlock` here."""
    if weights is None:
        return
    state_dict = dict(weights.get_state_dict(progress=progress, check_hash=True))
    renamed = {}
    for key, value in state_dict.items():
        key = key.replace(".mlp.linear_1.", ".mlp.0.").replace(".mlp.linear_2.", ".mlp.3.")
        renamed[key] = value
    model.load_state_dict(renamed)


_DOC0 = (
    '\n'
    '                These weights are learnt via transfer learning by end-to-end fine-tuning the original\n'  # noqa: E501
    '                `SWAG <https://arxiv.org/abs/2201.08371>`_ weights on ImageNet-1K data.\n'
    '            '
)
_DOC1 = (
    '\n'
    '                These weights are composed of the original frozen `SWAG <https://arxiv.org/abs/2201.08371>`_ trunk\n'  # noqa: E501
    '                weights and a linear classifier learnt on top of them trained on ImageNet-1K data.\n'  # noqa: E501
    '            '
)
_DOC2 = (
    '\n'
    '                These weights were trained from scratch by using a modified version of `DeIT\n'
    "                <https://arxiv.org/abs/2012.12877>`_'s training recipe.\n"
    '            '
)
_DOC3 = (
    '\n'
    "                These weights were trained from scratch by using a modified version of TorchVision's\n"  # noqa: E501
    '                `new training recipe\n'
    '                <https://pytorch.org/blog/how-to-train-state-of-the-art-models-using-torchvision-latest-primitives/>`_.\n'  # noqa: E501
    '            '
)
_RECIPE0 = 'https://github.com/facebookresearch/SWAG'
_RECIPE1 = 'https://github.com/pytorch/vision/pull/5793'
_RECIPE2 = 'https://github.com/pytorch/vision/tree/main/references/classification#vit_b_16'
_RECIPE3 = 'https://github.com/pytorch/vision/tree/main/references/classification#vit_b_32'
_RECIPE4 = 'https://github.com/pytorch/vision/tree/main/references/classification#vit_l_16'
_RECIPE5 = 'https://github.com/pytorch/vision/tree/main/references/classification#vit_l_32'


class ViT_B_16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('vit_b_16-c867db91.pth', crop=224, resize=256, min_size=(224, 224),
        num_params=86567656, recipe=_RECIPE2,
        metrics={'ImageNet-1K': {'acc@1': 81.072, 'acc@5': 95.318}}, ops=17.564, file_size=330.285,
        docs=_DOC2)
    IMAGENET1K_SWAG_E2E_V1 = _w('vit_b_16_swag-9ac1b537.pth', crop=384, resize=384,
        interp='bicubic', min_size=(384, 384), num_params=86859496, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 85.304, 'acc@5': 97.65}}, ops=55.484, file_size=331.398,
        docs=_DOC0, license='https://github.com/facebookresearch/SWAG/blob/main/LICENSE')
    IMAGENET1K_SWAG_LINEAR_V1 = _w('vit_b_16_lc_swag-4e70ced5.pth', crop=224, resize=224,
        interp='bicubic', min_size=(224, 224), num_params=86567656, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 81.886, 'acc@5': 96.18}}, ops=17.564, file_size=330.285,
        docs=_DOC1, license='https://github.com/facebookresearch/SWAG/blob/main/LICENSE')
    DEFAULT = IMAGENET1K_V1


class ViT_B_32_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('vit_b_32-d86f8d99.pth', crop=224, resize=256, min_size=(224, 224),
        num_params=88224232, recipe=_RECIPE3,
        metrics={'ImageNet-1K': {'acc@1': 75.912, 'acc@5': 92.466}}, ops=4.409, file_size=336.604,
        docs=_DOC2)
    DEFAULT = IMAGENET1K_V1


class ViT_L_16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('vit_l_16-852ce7e3.pth', crop=224, resize=242, min_size=(224, 224),
        num_params=304326632, recipe=_RECIPE4,
        metrics={'ImageNet-1K': {'acc@1': 79.662, 'acc@5': 94.638}}, ops=61.555,
        file_size=1161.023, docs=_DOC3)
    IMAGENET1K_SWAG_E2E_V1 = _w('vit_l_16_swag-4f3808c9.pth', crop=512, resize=512,
        interp='bicubic', min_size=(512, 512), num_params=305174504, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 88.064, 'acc@5': 98.512}}, ops=361.986,
        file_size=1164.258, docs=_DOC0,
        license='https://github.com/facebookresearch/SWAG/blob/main/LICENSE')
    IMAGENET1K_SWAG_LINEAR_V1 = _w('vit_l_16_lc_swag-4d563306.pth', crop=224, resize=224,
        interp='bicubic', min_size=(224, 224), num_params=304326632, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 85.146, 'acc@5': 97.422}}, ops=61.555,
        file_size=1161.023, docs=_DOC1,
        license='https://github.com/facebookresearch/SWAG/blob/main/LICENSE')
    DEFAULT = IMAGENET1K_V1


class ViT_L_32_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('vit_l_32-c7638314.pth', crop=224, resize=256, min_size=(224, 224),
        num_params=306535400, recipe=_RECIPE5,
        metrics={'ImageNet-1K': {'acc@1': 76.972, 'acc@5': 93.07}}, ops=15.378, file_size=1169.449,
        docs=_DOC2)
    DEFAULT = IMAGENET1K_V1


class ViT_H_14_Weights(WeightsEnum):
    IMAGENET1K_SWAG_E2E_V1 = _w('vit_h_14_swag-80465313.pth', crop=518, resize=518,
        interp='bicubic', min_size=(518, 518), num_params=633470440, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 88.552, 'acc@5': 98.694}}, ops=1016.717,
        file_size=2416.643, docs=_DOC0,
        license='https://github.com/facebookresearch/SWAG/blob/main/LICENSE')
    IMAGENET1K_SWAG_LINEAR_V1 = _w('vit_h_14_lc_swag-c1eb923e.pth', crop=224, resize=224,
        interp='bicubic', min_size=(224, 224), num_params=632045800, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 85.708, 'acc@5': 97.73}}, ops=167.295,
        file_size=2411.209, docs=_DOC1,
        license='https://github.com/facebookresearch/SWAG/blob/main/LICENSE')
    DEFAULT = IMAGENET1K_SWAG_E2E_V1


def _vit(patch_size: int, num_layers: int, num_heads: int, hidden_dim: int, mlp_dim: int):
    def construct(weights: WeightsEnum | None, kwargs: dict[str, Any]) -> VisionTransformer:
        if weights is not None:
            _ovewrite_named_param(kwargs, "image_size", weights.meta["min_size"][0])
        image_size = kwargs.pop("image_size", 224)
        return VisionTransformer(image_size=image_size, patch_size=patch_size,
                                 num_layers=num_layers, num_heads=num_heads,
                                 hidden_dim=hidden_dim, mlp_dim=mlp_dim, **kwargs)

    return construct


def _vit_builder(name: str, enum: type[WeightsEnum], *arch: int):
    label = name[4:].replace("_", "/").upper()
    return _make_builder(
        __name__, name, enum, _vit(*arch),
        f"Constructs a vit_{name[4:]} architecture (ViT-{label}) from `An Image is Worth "
        "16x16 Words: Transformers for Image Recognition at Scale "
        "<https://arxiv.org/abs/2010.11929>`_.",
        "ember.vision.models.vision_transformer.VisionTransformer", load=_load_vit)


vit_b_16 = _vit_builder("vit_b_16", ViT_B_16_Weights, 16, 12, 12, 768, 3072)
vit_b_32 = _vit_builder("vit_b_32", ViT_B_32_Weights, 32, 12, 12, 768, 3072)
vit_l_16 = _vit_builder("vit_l_16", ViT_L_16_Weights, 16, 24, 16, 1024, 4096)
vit_l_32 = _vit_builder("vit_l_32", ViT_L_32_Weights, 32, 24, 16, 1024, 4096)
vit_h_14 = _vit_builder("vit_h_14", ViT_H_14_Weights, 14, 32, 16, 1280, 5120)
