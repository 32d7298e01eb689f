"""The building blocks of Ultralytics' YOLOv8 and YOLO11 detectors (no papers; documented at
https://docs.ultralytics.com/models/yolov8/ and https://docs.ultralytics.com/models/yolo11/),
written for ember.

Each block is named after the module name used in Ultralytics' model configurations
(``Conv``, ``C2f``, ``SPPF``, ``Detect``...), and its attributes carry the names that appear
in Ultralytics' ``state_dict`` keys (``cv1``, ``cv2``, ``m``, ``conv``, ``bn``, ``dfl``), so
that checkpoints load as they are.

Shapes: feature maps are ``(N, C, H, W)``; the head's flattened outputs are
``(N, C, A)`` with ``A`` the number of anchor points over all levels.
"""

from __future__ import annotations

import math

import ember
from ember import Tensor, nn

__all__ = ["Conv", "DWConv", "Bottleneck", "C2f", "C3k", "C3k2", "SPPF", "Attention",
           "PSABlock", "C2PSA", "Concat", "DFL", "Detect", "make_anchors", "decode_boxes"]

# BatchNorm settings of every Ultralytics YOLO convolution block
BN_EPS = 1e-3
BN_MOMENTUM = 0.03


class Conv(nn.Module):
    """Convolution (no bias) -> BatchNorm2d (eps 1e-3, momentum 0.03) -> SiLU.

    ``padding`` defaults to ``kernel_size // 2`` ("same" size for odd kernels at stride 1).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1,
                 stride: int = 1, padding: int | None = None, groups: int = 1,
                 act: bool = True) -> None:
        super().__init__()
        pad = kernel_size // 2 if padding is None else padding
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, pad,
                              groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out_channels, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.act = nn.SiLU() if act else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        h = self.bn(self.conv(x))
        return self.act(h)


class DWConv(Conv):
    """Depth-wise ``Conv``: groups = gcd(in_channels, out_channels)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1,
                 stride: int = 1, act: bool = True) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride,
                         groups=math.gcd(in_channels, out_channels), act=act)


class Bottleneck(nn.Module):
    """Two ``Conv`` blocks (kernel sizes ``kernels``, hidden width ``expansion`` times the
    output width), with a residual connection when ``shortcut`` and the widths agree."""

    def __init__(self, in_channels: int, out_channels: int, shortcut: bool = True,
                 groups: int = 1, kernels: tuple[int, int] = (3, 3),
                 expansion: float = 0.5) -> None:
        super().__init__()
        hidden = int(out_channels * expansion)
        self.cv1 = Conv(in_channels, hidden, kernels[0])
        self.cv2 = Conv(hidden, out_channels, kernels[1], groups=groups)
        self.add = bool(shortcut) and in_channels == out_channels

    def forward(self, x: Tensor) -> Tensor:
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    """CSP stage with two convolutions and ``n`` bottlenecks ("C2f" in YOLOv8).

    ``cv1`` maps the input to ``2 * h`` channels (``h = int(out_channels * expansion)``),
    which are split in two halves; the inner blocks are chained on the second half, and
    ``cv2`` fuses both halves and every inner block's output, ``(2 + n) * h`` channels.
    ``inner(h)`` makes an inner block (default: a bottleneck of width ``h``, 3x3 kernels).
    """

    def __init__(self, in_channels: int, out_channels: int, n: int = 1,
                 shortcut: bool = False, groups: int = 1, expansion: float = 0.5,
                 inner=None) -> None:
        super().__init__()
        self.hidden = int(out_channels * expansion)
        self.cv1 = Conv(in_channels, 2 * self.hidden, 1)
        self.cv2 = Conv((2 + n) * self.hidden, out_channels, 1)
        if inner is None:
            def inner(c):
                return Bottleneck(c, c, shortcut, groups, (3, 3), 1.0)
        self.m = nn.ModuleList([inner(self.hidden) for _ in range(n)])

    def forward(self, x: Tensor) -> Tensor:
        parts = list(self.cv1(x).split([self.hidden, self.hidden], 1))
        for block in self.m:
            parts.append(block(parts[-1]))
        return self.cv2(ember.cat(parts, 1))


class C3k(nn.Module):
    """CSP bottleneck with three convolutions (YOLO11's "C3k"): ``cv1`` and ``cv2`` project
    the input to ``h = int(out_channels * expansion)`` channels each; ``n`` chained
    ``kernel_size`` bottlenecks (width ``h``) run on the first, and ``cv3`` fuses both."""

    def __init__(self, in_channels: int, out_channels: int, n: int = 2,
                 shortcut: bool = True, groups: int = 1, expansion: float = 0.5,
                 kernel_size: int = 3) -> None:
        super().__init__()
        hidden = int(out_channels * expansion)
        self.cv1 = Conv(in_channels, hidden, 1)
        self.cv2 = Conv(in_channels, hidden, 1)
        self.cv3 = Conv(2 * hidden, out_channels, 1)
        self.m = nn.Sequential(*[
            Bottleneck(hidden, hidden, shortcut, groups, (kernel_size, kernel_size), 1.0)
            for _ in range(n)])

    def forward(self, x: Tensor) -> Tensor:
        return self.cv3(ember.cat([self.m(self.cv1(x)), self.cv2(x)], 1))


class C3k2(C2f):
    """YOLO11's CSP stage: ``C2f``'s split-and-fuse layout whose ``n`` inner blocks are
    ``C3k`` (two bottlenecks each) when ``c3k``, else plain bottlenecks (hidden width
    halved)."""

    def __init__(self, in_channels: int, out_channels: int, n: int = 1, c3k: bool = False,
                 expansion: float = 0.5, groups: int = 1, shortcut: bool = True) -> None:
        def inner(c):
            if c3k:
                return C3k(c, c, 2, shortcut, groups)
            return Bottleneck(c, c, shortcut, groups)

        super().__init__(in_channels, out_channels, n, shortcut, groups, expansion, inner)


class SPPF(nn.Module):
    """Spatial pyramid pooling, fast: a 1x1 ``Conv`` halving the width, three chained
    ``kernel_size`` max-pools (stride 1, same size), and a 1x1 ``Conv`` over the four maps
    concatenated."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 5) -> None:
        super().__init__()
        hidden = in_channels // 2
        self.cv1 = Conv(in_channels, hidden, 1)
        self.cv2 = Conv(hidden * 4, out_channels, 1)
        self.m = nn.MaxPool2d(kernel_size, 1, kernel_size // 2)

    def forward(self, x: Tensor) -> Tensor:
        maps = [self.cv1(x)]
        while len(maps) < 4:
            maps.append(self.m(maps[-1]))
        return self.cv2(ember.cat(maps, 1))


class Attention(nn.Module):
    """Multi-head self-attention over the positions of a feature map, with a depth-wise 3x3
    positional term on the values (YOLO11's ``Attention``).

    ``qkv`` (a 1x1 ``Conv`` without activation) gives, per head, ``key_dim`` query and
    ``key_dim`` key channels followed by ``head_dim`` value channels
    (``head_dim = dim // num_heads``, ``key_dim = int(head_dim * attn_ratio)``). The output is
    ``proj(attention(values) + pe(values))``.
    """

    def __init__(self, dim: int, num_heads: int = 8, attn_ratio: float = 0.5) -> None:
        super().__init__()
        if num_heads < 1 or dim % num_heads:
            raise ValueError(f"Attention: {dim} channels cannot be split in {num_heads} heads")
        self.num_heads = int(num_heads)
        per_head = dim // num_heads
        self.head_dim, self.key_dim = per_head, int(per_head * attn_ratio)
        self.scale = self.key_dim ** -0.5
        self.qkv = Conv(dim, dim + 2 * self.key_dim * self.num_heads, 1, act=False)
        self.proj = Conv(dim, dim, kernel_size=1, act=False)
        self.pe = Conv(dim, dim, kernel_size=3, groups=dim, act=False)

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        kd, hd = self.key_dim, self.head_dim
        heads = self.qkv(x).view(n, self.num_heads, 2 * kd + hd, h * w)
        q, k, v = heads.split([kd, kd, hd], 2)  # (n, heads, d, positions)
        scores = (q.transpose(-2, -1) @ k) * self.scale  # (n, heads, query, key)
        mixed = v @ scores.softmax(-1).transpose(-2, -1)  # (n, heads, hd, query)
        values = v.reshape(n, c, h, w)
        return self.proj(mixed.reshape(n, c, h, w) + self.pe(values))


class PSABlock(nn.Module):
    """Position-sensitive attention block: ``x + attn(x)``, then ``x + ffn(x)`` with a
    two-layer 1x1 ``Conv`` feed-forward of hidden width ``2 * c``."""

    def __init__(self, c: int, attn_ratio: float = 0.5, num_heads: int = 4,
                 shortcut: bool = True) -> None:
        super().__init__()
        self.attn = Attention(c, num_heads, attn_ratio)
        self.ffn = nn.Sequential(Conv(c, 2 * c, 1), Conv(2 * c, c, 1, act=False))
        self.add = bool(shortcut)

    def forward(self, x: Tensor) -> Tensor:
        if not self.add:
            return self.ffn(self.attn(x))
        x = x + self.attn(x)
        return x + self.ffn(x)


class C2PSA(nn.Module):
    r"""YOLO11's attention stage: ``cv1`` splits the input into two halves of
    ``c = int(channels * expansion)``, ``n`` ``PSABlock``\ s (``c // 64`` heads) run on the
    second, and ``cv2`` fuses both. Input and output widths are equal."""

    def __init__(self, in_channels: int, out_channels: int, n: int = 1,
                 expansion: float = 0.5) -> None:
        super().__init__()
        if in_channels != out_channels:
            raise ValueError(f"C2PSA: in_channels ({in_channels}) must equal out_channels "
                             f"({out_channels})")
        self.c = int(in_channels * expansion)
        self.cv1 = Conv(in_channels, 2 * self.c, 1)
        self.cv2 = Conv(2 * self.c, in_channels, 1)
        self.m = nn.Sequential(*[PSABlock(self.c, 0.5, self.c // 64) for _ in range(n)])

    def forward(self, x: Tensor) -> Tensor:
        kept, attended = self.cv1(x).split([self.c, self.c], 1)
        return self.cv2(ember.cat([kept, self.m(attended)], 1))


class Concat(nn.Module):
    """Concatenates a list of tensors along ``dim`` (channels by default)."""

    def __init__(self, dim: int = 1) -> None:
        super().__init__()
        self.d = dim

    def forward(self, xs: list[Tensor]) -> Tensor:
        return ember.cat(list(xs), self.d)


class DFL(nn.Module):
    """Distribution focal loss decoding (Li et al., 2020, arXiv:2006.04388): each box side is
    predicted as ``reg_max`` logits over the distances 0..reg_max-1; the decoded distance is
    the expectation under their softmax.

    The bin values live in ``conv.weight`` (a frozen 1x1 convolution weight of shape
    ``(1, reg_max, 1, 1)`` holding 0..reg_max-1), as in Ultralytics' checkpoints.
    Input ``(N, 4 * reg_max, A)``, output ``(N, 4, A)``.
    """

    def __init__(self, reg_max: int = 16, *, frozen: bool = True) -> None:
        super().__init__()
        self.reg_max = int(reg_max)
        self.conv = nn.Conv2d(reg_max, 1, 1, bias=False)
        self.conv.weight.requires_grad_(not frozen)
        with ember.no_grad():
            self.conv.weight.copy_(ember.arange(reg_max, dtype=ember.float32)
                                   .view(1, reg_max, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        n, _, a = x.shape
        probs = x.view(n, 4, self.reg_max, a).softmax(2)  # (N, 4, R, A)
        bins = self.conv.weight.view(1, 1, self.reg_max, 1).to(probs.dtype)
        return (probs * bins).sum(2)  # (N, 4, A)


def make_anchors(maps: list[Tensor], strides: tuple[float, ...],
                 offset: float = 0.5) -> tuple[Tensor, Tensor]:
    """Anchor points of the feature maps ``maps`` (cell centres, in each level's grid units)
    and the stride of each: ``(A, 2)`` x/y points and ``(A, 1)`` strides, levels in order,
    cells in row-major order (the order of ``map.flatten(2)``)."""
    points, scales = [], []
    for fmap, stride in zip(maps, strides):
        h, w = fmap.shape[-2:]
        kw = {"dtype": fmap.dtype, "device": fmap.device}
        xs = ember.arange(w, **kw) + offset
        ys = ember.arange(h, **kw) + offset
        gy, gx = ember.meshgrid(ys, xs, indexing="ij")
        points.append(ember.stack([gx.reshape(-1), gy.reshape(-1)], 1))  # (h*w, 2)
        scales.append(ember.full((h * w, 1), float(stride), **kw))
    return ember.cat(points, 0), ember.cat(scales, 0)


def decode_boxes(distances: Tensor, anchors: Tensor, xywh: bool = True) -> Tensor:
    """Boxes from (left, top, right, bottom) ``distances`` ``(N, 4, A)`` to the ``anchors``
    ``(1, 2, A)``: ``(N, 4, A)`` centre-size boxes (``xywh``) or corner boxes."""
    near, far = distances[:, :2], distances[:, 2:]
    top_left = anchors - near
    bottom_right = anchors + far
    if not xywh:
        return ember.cat([top_left, bottom_right], 1)
    return ember.cat([(top_left + bottom_right) / 2, bottom_right - top_left], 1)


class Detect(nn.Module):
    """The decoupled, anchor-free detection head of YOLOv8 and YOLO11.

    For each input level ``i`` (channels ``in_channels[i]``, stride ``strides[i]``):
    ``cv2[i]`` predicts ``4 * reg_max`` box-side logits and ``cv3[i]`` ``num_classes``
    class logits, each through two 3x3 ``Conv`` blocks and a 1x1 convolution with bias
    (``legacy``, YOLOv8); YOLO11's class branch (``legacy=False``) uses two depth-wise 3x3
    plus point-wise 1x1 pairs instead.

    In training mode the call returns the per-level raw maps, a list of
    ``(N, 4 * reg_max + num_classes, H_i, W_i)`` tensors. In eval mode it returns
    ``(y, maps)``: ``y`` of shape ``(N, 4 + num_classes, A)`` holds the decoded boxes
    (centre x, centre y, width, height, in input pixels) and the class probabilities
    (sigmoid), ``maps`` the raw maps.
    """

    def __init__(self, num_classes: int = 80, in_channels: tuple[int, ...] = (),
                 strides: tuple[float, ...] = (8.0, 16.0, 32.0), reg_max: int = 16,
                 legacy: bool = True) -> None:
        super().__init__()
        if len(in_channels) != len(strides):
            raise ValueError(f"Detect: {len(in_channels)} input levels but {len(strides)} "
                             "strides")
        self.nc = num_classes
        self.nl = len(in_channels)
        self.reg_max = reg_max
        self.no = num_classes + 4 * reg_max
        self.strides = tuple(float(s) for s in strides)
        box_width = max(16, in_channels[0] // 4, 4 * reg_max)
        cls_width = max(in_channels[0], min(num_classes, 100))
        self.legacy = legacy
        self.cv2 = nn.ModuleList(self._branch(c, box_width, 4 * reg_max) for c in in_channels)
        cls_branch = self._branch if legacy else self._light_branch
        self.cv3 = nn.ModuleList(cls_branch(c, cls_width, num_classes) for c in in_channels)
        self.dfl = DFL(reg_max) if reg_max > 1 else nn.Identity()

    @staticmethod
    def _branch(in_channels: int, width: int, out_channels: int) -> nn.Sequential:
        return nn.Sequential(Conv(in_channels, width, 3), Conv(width, width, 3),
                             nn.Conv2d(width, out_channels, 1))

    @staticmethod
    def _light_branch(in_channels: int, width: int, out_channels: int) -> nn.Sequential:
        # YOLO11's class branch: depth-wise 3x3 + point-wise 1x1, twice
        return nn.Sequential(
            nn.Sequential(DWConv(in_channels, in_channels, 3), Conv(in_channels, width, 1)),
            nn.Sequential(DWConv(width, width, 3), Conv(width, width, 1)),
            nn.Conv2d(width, out_channels, 1))

    def reset_bias(self, image_size: int = 640) -> None:
        """The prior-probability bias initialisation of the last convolutions: box logits
        1.0, class logits ``log(5 / num_classes / (image_size / stride) ** 2)`` (about five
        objects per image a priori)."""
        with ember.no_grad():
            for box, cls, stride in zip(self.cv2, self.cv3, self.strides):
                box[-1].bias.fill_(1.0)
                cls[-1].bias.fill_(math.log(5 / self.nc / (image_size / stride) ** 2))

    def raw_maps(self, feats: list[Tensor]) -> list[Tensor]:
        """The per-level head outputs ``(N, 4 * reg_max + nc, H_i, W_i)``."""
        if len(feats) != self.nl:
            raise ValueError(f"Detect: expected {self.nl} feature maps, got {len(feats)}")
        return [ember.cat([box(f), cls(f)], 1) for f, box, cls in zip(feats, self.cv2,
                                                                      self.cv3)]

    def decode(self, maps: list[Tensor]) -> Tensor:
        """``(N, 4 + nc, A)``: decoded xywh boxes in input pixels and class probabilities."""
        n = maps[0].shape[0]
        flat = ember.cat([m.reshape(n, self.no, -1) for m in maps], 2)  # (N, no, A)
        box_logits, cls_logits = flat.split([4 * self.reg_max, self.nc], 1)
        anchors, strides = make_anchors(maps, self.strides)
        boxes = decode_boxes(self.dfl(box_logits), anchors.t().unsqueeze(0))
        return ember.cat([boxes * strides.t(), cls_logits.sigmoid()], 1)

    def forward(self, feats: list[Tensor]):
        maps = self.raw_maps(feats)
        if self.training:
            return maps
        return self.decode(maps), maps
