"""Swin Transformer V1 (tiny/small/base) and V2 (tiny/small/base), as
``torchvision.models.swin_transformer``: "Swin Transformer: Hierarchical Vision Transformer
using Shifted Windows" (https://arxiv.org/abs/2103.14030) and "Swin Transformer V2: Scaling
Up Capacity and Resolution" (https://arxiv.org/abs/2111.09883), with torchvision's module
layout, ``state_dict`` keys and pretrained weights."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import ember
import numpy as np
from ember import Tensor, nn
from ember.nn import functional as F

from ..ops.misc import MLP, Permute
from ..ops.stochastic_depth import StochasticDepth
from ._api import WeightsEnum
from ._weights_common import _make_builder, _w

# traced as single nodes (their shape arithmetic cannot run on fx proxies), as torchvision does
ember.fx.wrap("_patch_merging_pad")
ember.fx.wrap("_get_relative_position_bias")
ember.fx.wrap("shifted_window_attention")

__all__ = [
    "SwinTransformer", "Swin_T_Weights", "Swin_S_Weights", "Swin_B_Weights",
    "Swin_V2_T_Weights", "Swin_V2_S_Weights", "Swin_V2_B_Weights", "swin_t", "swin_s",
    "swin_b", "swin_v2_t", "swin_v2_s", "swin_v2_b",
]


def _patch_merging_pad(x: Tensor) -> Tensor:
    """Pads ``(..., H, W, C)`` to even H and W, then stacks the four pixels of each 2x2 patch
    on the channels: ``(..., H/2, W/2, 4C)``."""
    H, W = x.shape[-3:-1]
    x = F.pad(x, (0, 0, 0, W % 2, 0, H % 2))
    return ember.cat([x[..., 0::2, 0::2, :], x[..., 1::2, 0::2, :], x[..., 0::2, 1::2, :],
                      x[..., 1::2, 1::2, :]], -1)


class PatchMerging(nn.Module):
    """Halves the resolution and doubles the width: 2x2 patches stacked, norm, linear."""

    def __init__(self, dim: int, norm_layer: Callable[..., nn.Module] = nn.LayerNorm) -> None:
        super().__init__()
        self.dim = dim
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = norm_layer(4 * dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.reduction(self.norm(_patch_merging_pad(x)))


class PatchMergingV2(nn.Module):
    """Swin V2's patch merging: the norm comes after the linear reduction."""

    def __init__(self, dim: int, norm_layer: Callable[..., nn.Module] = nn.LayerNorm) -> None:
        super().__init__()
        self.dim = dim
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = norm_layer(2 * dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(self.reduction(_patch_merging_pad(x)))


def _window_labels(size: int, window: int, shift: int) -> np.ndarray:
    """Region label of each row (or column) of the padded, rolled map: the last window is
    split where the roll wrapped content around."""
    labels = np.zeros(size, dtype=np.int64)
    labels[size - window:size - shift] = 1
    labels[size - shift:] = 2
    return labels


def _shift_mask(pH: int, pW: int, window_size: list[int], shift_size: list[int]
                ) -> np.ndarray:
    """(num_windows, N, N) additive mask: -100 between tokens of one window that come from
    different regions of the rolled map, 0 elsewhere."""
    rows = _window_labels(pH, window_size[0], shift_size[0])
    cols = _window_labels(pW, window_size[1], shift_size[1])
    region = rows[:, None] * 3 + cols[None, :]
    region = region.reshape(pH // window_size[0], window_size[0], pW // window_size[1],
                            window_size[1]).transpose(0, 2, 1, 3)
    region = region.reshape(-1, window_size[0] * window_size[1])
    diff = region[:, None, :] - region[:, :, None]
    return np.where(diff != 0, -100.0, 0.0)


def shifted_window_attention(input: Tensor, qkv_weight: Tensor, proj_weight: Tensor,
                             relative_position_bias: Tensor, window_size: list[int],
                             num_heads: int, shift_size: list[int],
                             attention_dropout: float = 0.0, dropout: float = 0.0,
                             qkv_bias: Tensor | None = None, proj_bias: Tensor | None = None,
                             logit_scale: Tensor | None = None, training: bool = True
                             ) -> Tensor:
    """Window based multi-head self attention with relative position bias, on a
    ``(B, H, W, C)`` map padded to whole windows and, for shifted windows, rolled back by
    the shift first (masking attention across the wrapped regions). With ``logit_scale``
    (Swin V2) it is scaled cosine attention and the key bias is dropped."""
    B, H, W, C = input.shape
    pad_r = (window_size[1] - W % window_size[1]) % window_size[1]
    pad_b = (window_size[0] - H % window_size[0]) % window_size[0]
    x = F.pad(input, (0, 0, 0, pad_r, 0, pad_b))
    _, pH, pW, _ = x.shape

    shift_size = list(shift_size)
    if window_size[0] >= pH:
        shift_size[0] = 0
    if window_size[1] >= pW:
        shift_size[1] = 0
    shifted = sum(shift_size) > 0
    if shifted:
        x = ember.roll(x, shifts=(-shift_size[0], -shift_size[1]), dims=(1, 2))

    nh, nw = pH // window_size[0], pW // window_size[1]
    num_windows = nh * nw
    n = window_size[0] * window_size[1]
    x = x.reshape(B, nh, window_size[0], nw, window_size[1], C).permute(0, 1, 3, 2, 4, 5)
    x = x.reshape(B * num_windows, n, C)

    if logit_scale is not None and qkv_bias is not None:
        length = qkv_bias.numel() // 3
        qkv_bias = ember.cat([qkv_bias[:length], ember.zeros_like(qkv_bias[length:2 * length]),
                              qkv_bias[2 * length:]])
    qkv = F.linear(x, qkv_weight, qkv_bias)
    qkv = qkv.reshape(x.shape[0], n, 3, num_heads, C // num_heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    if logit_scale is not None:
        attn = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)
        attn = attn * ember.clamp(logit_scale, max=math.log(100.0)).exp()
    else:
        attn = (q * (C // num_heads) ** -0.5) @ k.transpose(-2, -1)
    attn = attn + relative_position_bias

    if shifted:
        mask = ember.from_numpy(_shift_mask(pH, pW, window_size, shift_size)).to(attn.dtype)
        attn = attn.reshape(B, num_windows, num_heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
        attn = attn.reshape(-1, num_heads, n, n)

    attn = F.dropout(F.softmax(attn, dim=-1), p=attention_dropout, training=training)
    x = (attn @ v).transpose(1, 2).reshape(x.shape[0], n, C)
    x = F.dropout(F.linear(x, proj_weight, proj_bias), p=dropout, training=training)

    x = x.reshape(B, nh, nw, window_size[0], window_size[1], C).permute(0, 1, 3, 2, 4, 5)
    x = x.reshape(B, pH, pW, C)
    if shifted:
        x = ember.roll(x, shifts=(shift_size[0], shift_size[1]), dims=(1, 2))
    return x[:, :H, :W, :].contiguous()


def _relative_position_index(window_size: list[int]) -> np.ndarray:
    """For every (query, key) pair of a window, the row of the bias table for their
    relative offset, flattened: ``(Wh * Ww) ** 2`` entries."""
    wh, ww = window_size
    coords = np.stack(np.meshgrid(np.arange(wh), np.arange(ww), indexing="ij")).reshape(2, -1)
    rel = (coords[:, :, None] - coords[:, None, :]).transpose(1, 2, 0)
    return ((rel[..., 0] + wh - 1) * (2 * ww - 1) + rel[..., 1] + ww - 1).reshape(-1)


def _get_relative_position_bias(relative_position_bias_table: Tensor,
                                relative_position_index: Tensor,
                                window_size: list[int]) -> Tensor:
    n = window_size[0] * window_size[1]
    bias = relative_position_bias_table[relative_position_index].reshape(n, n, -1)
    return bias.permute(2, 0, 1).contiguous().unsqueeze(0)


class ShiftedWindowAttention(nn.Module):
    """Swin V1 window attention with a learnt relative position bias table."""

    def __init__(self, dim: int, window_size: list[int], shift_size: list[int],
                 num_heads: int, qkv_bias: bool = True, proj_bias: bool = True,
                 attention_dropout: float = 0.0, dropout: float = 0.0) -> None:
        super().__init__()
        if len(window_size) != 2 or len(shift_size) != 2:
            raise ValueError("window_size and shift_size must be of length 2")
        self.window_size = window_size
        self.shift_size = shift_size
        self.num_heads = num_heads
        self.attention_dropout = attention_dropout
        self.dropout = dropout
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim, bias=proj_bias)
        self.define_relative_position_bias_table()
        self.define_relative_position_index()

    def define_relative_position_bias_table(self) -> None:
        wh, ww = self.window_size
        self.relative_position_bias_table = nn.Parameter(
            ember.zeros((2 * wh - 1) * (2 * ww - 1), self.num_heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def define_relative_position_index(self) -> None:
        self.register_buffer("relative_position_index",
                             ember.from_numpy(_relative_position_index(self.window_size)))

    def get_relative_position_bias(self) -> Tensor:
        return _get_relative_position_bias(self.relative_position_bias_table,
                                           self.relative_position_index, self.window_size)

    def forward(self, x: Tensor) -> Tensor:
        relative_position_bias = self.get_relative_position_bias()
        return shifted_window_attention(
            x, self.qkv.weight, self.proj.weight, relative_position_bias,
            self.window_size, self.num_heads, shift_size=self.shift_size,
            attention_dropout=self.attention_dropout, dropout=self.dropout,
            qkv_bias=self.qkv.bias, proj_bias=self.proj.bias, training=self.training)


class ShiftedWindowAttentionV2(ShiftedWindowAttention):
    """Swin V2 window attention: scaled cosine attention with a learnt per-head logit scale
    and a continuous position bias (a small MLP over log-spaced relative coordinates)."""

    def __init__(self, dim: int, window_size: list[int], shift_size: list[int],
                 num_heads: int, qkv_bias: bool = True, proj_bias: bool = True,
                 attention_dropout: float = 0.0, dropout: float = 0.0) -> None:
        super().__init__(dim, window_size, shift_size, num_heads, qkv_bias=qkv_bias,
                         proj_bias=proj_bias, attention_dropout=attention_dropout,
                         dropout=dropout)
        self.logit_scale = nn.Parameter(ember.log(10 * ember.ones(num_heads, 1, 1)))
        if qkv_bias:
            length = self.qkv.bias.numel() // 3
            with ember.no_grad():
                self.qkv.bias[length:2 * length] = 0.0

    def define_relative_position_bias_table(self) -> None:
        self.cpb_mlp = nn.Sequential(nn.Linear(2, 512, bias=True), nn.ReLU(inplace=True),
                                     nn.Linear(512, self.num_heads, bias=False))
        wh, ww = self.window_size
        h = np.arange(-(wh - 1), wh, dtype=np.float32) / max(wh - 1, 1)
        w = np.arange(-(ww - 1), ww, dtype=np.float32) / max(ww - 1, 1)
        table = np.stack(np.meshgrid(h, w, indexing="ij"), axis=-1)[None] * 8
        table = np.sign(table) * np.log2(np.abs(table) + 1.0) / 3.0
        self.register_buffer("relative_coords_table",
                             ember.from_numpy(table.astype(np.float32)))

    def get_relative_position_bias(self) -> Tensor:
        table = self.cpb_mlp(self.relative_coords_table).reshape(-1, self.num_heads)
        bias = _get_relative_position_bias(table, self.relative_position_index,
                                           self.window_size)
        return 16 * ember.sigmoid(bias)

    def forward(self, x: Tensor) -> Tensor:
        relative_position_bias = self.get_relative_position_bias()
        return shifted_window_attention(
            x, self.qkv.weight, self.proj.weight, relative_position_bias,
            self.window_size, self.num_heads, shift_size=self.shift_size,
            attention_dropout=self.attention_dropout, dropout=self.dropout,
            qkv_bias=self.qkv.bias, proj_bias=self.proj.bias, logit_scale=self.logit_scale,
            training=self.training)


class SwinTransformerBlock(nn.Module):
    """Pre-norm block: ``x + sd(attn(norm1(x)))``, then ``x + sd(mlp(norm2(x)))``."""

    def __init__(self, dim: int, num_heads: int, window_size: list[int],
                 shift_size: list[int], mlp_ratio: float = 4.0, dropout: float = 0.0,
                 attention_dropout: float = 0.0, stochastic_depth_prob: float = 0.0,
                 norm_layer: Callable[..., nn.Module] = nn.LayerNorm,
                 attn_layer: Callable[..., nn.Module] = ShiftedWindowAttention) -> None:
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = attn_layer(dim, window_size, shift_size, num_heads,
                               attention_dropout=attention_dropout, dropout=dropout)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.norm2 = norm_layer(dim)
        self.mlp = MLP(dim, [int(dim * mlp_ratio), dim], activation_layer=nn.GELU,
                       inplace=None, dropout=dropout)
        for m in self.mlp.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.normal_(m.bias, std=1e-6)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.stochastic_depth(self.attn(self.norm1(x)))
        return x + self.stochastic_depth(self.mlp(self.norm2(x)))


class SwinTransformerBlockV2(SwinTransformerBlock):
    """Swin V2's residual post-norm block: ``x + sd(norm1(attn(x)))``, then
    ``x + sd(norm2(mlp(x)))``."""

    def __init__(self, dim: int, num_heads: int, window_size: list[int],
                 shift_size: list[int], mlp_ratio: float = 4.0, dropout: float = 0.0,
                 attention_dropout: float = 0.0, stochastic_depth_prob: float = 0.0,
                 norm_layer: Callable[..., nn.Module] = nn.LayerNorm,
                 attn_layer: Callable[..., nn.Module] = ShiftedWindowAttentionV2) -> None:
        super().__init__(dim, num_heads, window_size, shift_size, mlp_ratio=mlp_ratio,
                         dropout=dropout, attention_dropout=attention_dropout,
                         stochastic_depth_prob=stochastic_depth_prob, norm_layer=norm_layer,
                         attn_layer=attn_layer)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.stochastic_depth(self.norm1(self.attn(x)))
        return x + self.stochastic_depth(self.norm2(self.mlp(x)))


class SwinTransformer(nn.Module):
    """Swin Transformer (V1, or V2 with the V2 block and patch merging).

    Args:
        patch_size (List[int]): Patch size
        embed_dim (int): Patch embedding dimension
        depths (List[int]): Depth of each Swin Transformer stage
        num_heads (List[int]): Number of attention heads in each stage
        window_size (List[int]): Window size
        mlp_ratio (float): Ratio of the MLP hidden dim to the embedding dim. Default: 4.0
        dropout (float): Dropout rate. Default: 0.0
        attention_dropout (float): Attention dropout rate. Default: 0.0
        stochastic_depth_prob (float): Stochastic depth rate, growing linearly over the
            blocks up to this value. Default: 0.1
        num_classes (int): Number of classes for classification head. Default: 1000
        norm_layer (nn.Module, optional): Normalization layer. Default: None
        block (nn.Module, optional): SwinTransformer block. Default: None
        downsample_layer (nn.Module): Downsample layer (patch merging). Default: PatchMerging
    """

    def __init__(self, patch_size: list[int], embed_dim: int, depths: list[int],
                 num_heads: list[int], window_size: list[int], mlp_ratio: float = 4.0,
                 dropout: float = 0.0, attention_dropout: float = 0.0,
                 stochastic_depth_prob: float = 0.1, num_classes: int = 1000,
                 norm_layer: Callable[..., nn.Module] | None = None,
                 block: Callable[..., nn.Module] | None = None,
                 downsample_layer: Callable[..., nn.Module] = PatchMerging) -> None:
        super().__init__()
        self.num_classes = num_classes
        block = block or SwinTransformerBlock
        norm_layer = norm_layer or partial(nn.LayerNorm, eps=1e-5)

        layers: list[nn.Module] = [nn.Sequential(
            nn.Conv2d(3, embed_dim, kernel_size=(patch_size[0], patch_size[1]),
                      stride=(patch_size[0], patch_size[1])),
            Permute([0, 2, 3, 1]),
            norm_layer(embed_dim),
        )]
        total = sum(depths)
        index = 0
        for i_stage, depth in enumerate(depths):
            dim = embed_dim * 2 ** i_stage
            stage: list[nn.Module] = []
            for i_layer in range(depth):
                sd_prob = stochastic_depth_prob * float(index) / (total - 1)
                shift = [0 if i_layer % 2 == 0 else w // 2 for w in window_size]
                stage.append(block(dim, num_heads[i_stage], window_size=window_size,
                                   shift_size=shift, mlp_ratio=mlp_ratio, dropout=dropout,
                                   attention_dropout=attention_dropout,
                                   stochastic_depth_prob=sd_prob, norm_layer=norm_layer))
                index += 1
            layers.append(nn.Sequential(*stage))
            if i_stage < len(depths) - 1:
                layers.append(downsample_layer(dim, norm_layer))
        self.features = nn.Sequential(*layers)

        num_features = embed_dim * 2 ** (len(depths) - 1)
        self.norm = norm_layer(num_features)
        self.permute = Permute([0, 3, 1, 2])
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.head = nn.Linear(num_features, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = self.permute(self.norm(self.features(x)))
        return self.head(self.flatten(self.avgpool(x)))


_RECIPE0 = 'https://github.com/pytorch/vision/tree/main/references/classification#swintransformer'
_DOC0 = 'These weights reproduce closely the results of the paper using a similar training recipe.'
_RECIPE1 = (
    'https://github.com/pytorch/vision/tree/main/references/classification#swintransformer-v2'
)


class Swin_T_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('swin_t-704ceda3.pth', crop=224, resize=232, interp='bicubic',
        min_size=(224, 224), num_params=28288354, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 81.474, 'acc@5': 95.776}}, ops=4.491, file_size=108.19,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class Swin_S_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('swin_s-5e29d889.pth', crop=224, resize=246, interp='bicubic',
        min_size=(224, 224), num_params=49606258, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 83.196, 'acc@5': 96.36}}, ops=8.741, file_size=189.786,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class Swin_B_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('swin_b-68c6b09e.pth', crop=224, resize=238, interp='bicubic',
        min_size=(224, 224), num_params=87768224, recipe=_RECIPE0,
        metrics={'ImageNet-1K': {'acc@1': 83.582, 'acc@5': 96.64}}, ops=15.431, file_size=335.364,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class Swin_V2_T_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('swin_v2_t-b137f0e2.pth', crop=256, resize=260, interp='bicubic',
        min_size=(256, 256), num_params=28351570, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 82.072, 'acc@5': 96.132}}, ops=5.94, file_size=108.626,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class Swin_V2_S_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('swin_v2_s-637d8ceb.pth', crop=256, resize=260, interp='bicubic',
        min_size=(256, 256), num_params=49737442, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 83.712, 'acc@5': 96.816}}, ops=11.546, file_size=190.675,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1


class Swin_V2_B_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('swin_v2_b-781e5279.pth', crop=256, resize=272, interp='bicubic',
        min_size=(256, 256), num_params=87930848, recipe=_RECIPE1,
        metrics={'ImageNet-1K': {'acc@1': 84.112, 'acc@5': 96.864}}, ops=20.325, file_size=336.372,
        docs=_DOC0)
    DEFAULT = IMAGENET1K_V1




def _swin(embed_dim: int, depths: list[int], num_heads: list[int], window_size: list[int],
          stochastic_depth_prob: float, v2: bool):
    def construct(weights: WeightsEnum | None, kwargs: dict[str, Any]) -> SwinTransformer:
        if v2:
            kwargs.setdefault("block", SwinTransformerBlockV2)
            kwargs.setdefault("downsample_layer", PatchMergingV2)
        sdp = kwargs.pop("stochastic_depth_prob", stochastic_depth_prob)
        return SwinTransformer(patch_size=[4, 4], embed_dim=embed_dim, depths=depths,
                               num_heads=num_heads, window_size=window_size,
                               stochastic_depth_prob=sdp, **kwargs)

    return construct


_V1_DOC = ("Constructs a swin_{} architecture from `Swin Transformer: Hierarchical Vision "
           "Transformer using Shifted Windows <https://arxiv.org/abs/2103.14030>`_.")
_V2_DOC = ("Constructs a swin_v2_{} architecture from `Swin Transformer V2: Scaling Up "
           "Capacity and Resolution <https://arxiv.org/abs/2111.09883>`_.")
_BASE = "ember.vision.models.swin_transformer.SwinTransformer"
_SMALL = ([2, 2, 6, 2], [3, 6, 12, 24])
_MID = ([2, 2, 18, 2], [3, 6, 12, 24])
_BIG = ([2, 2, 18, 2], [4, 8, 16, 32])


def _builder(size: str, enum: type[WeightsEnum], embed_dim: int, config, sdp: float,
             v2: bool):
    name = f"swin_v2_{size}" if v2 else f"swin_{size}"
    window = [8, 8] if v2 else [7, 7]
    return _make_builder(__name__, name, enum, _swin(embed_dim, *config, window, sdp, v2),
                         (_V2_DOC if v2 else _V1_DOC).format(size), _BASE)


swin_t = _builder("t", Swin_T_Weights, 96, _SMALL, 0.2, False)
swin_s = _builder("s", Swin_S_Weights, 96, _MID, 0.3, False)
swin_b = _builder("b", Swin_B_Weights, 128, _BIG, 0.5, False)
swin_v2_t = _builder("t", Swin_V2_T_Weights, 96, _SMALL, 0.2, True)
swin_v2_s = _builder("s", Swin_V2_S_Weights, 96, _MID, 0.3, True)
swin_v2_b = _builder("b", Swin_V2_B_Weights, 128, _BIG, 0.5, True)
