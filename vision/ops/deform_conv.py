"""Deformable convolution (DCN v1, and v2 with a modulation mask), as
``torchvision.ops.deform_conv2d``.

Every kernel tap of every output position samples the input at its regular position plus a
learned offset, by bilinear interpolation with zeros outside the image (torchvision's CPU
kernel: a sample at ``y`` reads rows ``floor(y)`` and ``floor(y) + 1``, each only when it lies
inside ``[0, H)``; the same for ``x``). The sampled columns are then multiplied by the weight
as an ordinary convolution's im2col columns are.

The sampling is written as three array ops that close under differentiation, so gradients of
any order come from ember's autograd:

* ``sample(X, A)``: ``S[n, m, g] = sum_q A[n, q, m, g] * X[n, g, rows[n, q, m, g]]`` (the
  four bilinear corners ``q`` of sample ``m`` in offset group ``g``, ``Cg`` channels each);
* ``scatter(S, A)``: its transpose in ``X`` (``S``'s gradient spread back onto the image);
* ``corr(X, S)``: ``A'[n, q, m, g] = <X[n, g, rows[n, q, m, g]], S[n, m, g]>`` (the gradient
  in the corner weights).

The corner weights ``A`` are ember ops of the offsets (and mask), so the offsets' gradient
is torchvision's coordinate weight. Invalid corners (outside the image) point at one extra
all-zero row, so no weight needs masking. The gather is one array ``take`` per corner, the
scatter one sparse-dense product, the convolution one batched ``matmul``.
"""

from __future__ import annotations

import math

import ember
import numpy as np
from ember import Tensor, nn
from ember.nn import init
from ember.ops.op import Op

from ._utils import sparse_module, xp_of

__all__ = ["deform_conv2d", "DeformConv2d"]


def _pair(v, name: str) -> tuple[int, int]:
    """An int or a pair of ints as ``(h, w)``."""
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    v = tuple(int(x) for x in v)
    if len(v) == 1:
        return v[0], v[0]
    if len(v) != 2:
        raise ValueError(f"deform_conv2d: {name} must be an int or a pair of ints, got {v}")
    return v


def _work_dtype(dt):
    """The dtype sparse products run in (no float16 sparse matrices)."""
    return dt if dt.itemsize >= 4 else np.dtype("f4")


def _channels_last(x, g: int):
    """(N, C, H, W) as ``(N*H*W*G + 1, C // G)`` rows, ``(n, y, x, g)`` major, with a final
    all-zero row that invalid corners read."""
    xp = xp_of(x)
    n, c, h, w = x.shape
    cg = c // g
    out = xp.empty((n * h * w * g + 1, cg), dtype=x.dtype)
    out[:-1] = x.reshape(n, g, cg, h * w).transpose(0, 3, 1, 2).reshape(-1, cg)
    out[-1] = 0
    return out


class DeformSample(Op):
    """``S = sample(X, A)`` (see the module docstring). Inputs: X (N, C, H, W) and A
    (N, 4, M, G); output (N, M, G, C // G). Attributes: ``rows`` (N, 4, M, G) integer rows
    of :func:`_channels_last`'s layout, ``x_shape``."""

    _name = "deform_conv2d_sample"
    save_inputs = (0, 1)

    def forward(self, x, a):
        xp = xp_of(x)
        n, m, g = a.shape[0], a.shape[2], a.shape[3]
        cg = x.shape[1] // g
        xl = _channels_last(x, g)
        out = xp.zeros((n * m * g, cg), dtype=x.dtype)
        for q in range(4):  # the four bilinear corners
            v = xp.take(xl, self.rows[:, q].reshape(-1), axis=0)
            v *= a[:, q].reshape(-1, 1)
            out += v
        return out.reshape(n, m, g, cg)

    def backward(self, gs):
        x, a = self.saved_tensor(0), self.saved_tensor(1)
        gx = ga = None
        if self.next_functions[0][0] is not None:
            gx = DeformScatter.apply(gs, a, rows=self.rows, x_shape=self.x_shape)
        if self.next_functions[1][0] is not None:
            ga = DeformCorr.apply(x, gs, rows=self.rows, x_shape=self.x_shape)
        return gx, ga


class DeformScatter(Op):
    """``X' = scatter(S, A)``: the transpose of :class:`DeformSample` in X. Inputs: S
    (N, M, G, Cg) and A (N, 4, M, G); output (N, C, H, W)."""

    _name = "deform_conv2d_scatter"
    save_inputs = (0, 1)

    def forward(self, s, a):
        xp = xp_of(s)
        sp = sparse_module(s)
        n, c, h, w = self.x_shape
        _, m, g, cg = s.shape
        work = _work_dtype(s.dtype)
        n_src = n * m * g
        src = xp.broadcast_to(xp.arange(n_src, dtype=np.int64).reshape(n, 1, m, g),
                              self.rows.shape)
        val = xp.ascontiguousarray(a.astype(work, copy=False)).reshape(-1)
        mat = sp.coo_matrix((val, (self.rows.reshape(-1), xp.ascontiguousarray(src).reshape(-1))),
                            shape=(n * h * w * g + 1, n_src)).tocsr()
        out = xp.asarray(mat @ s.reshape(n_src, cg).astype(work, copy=False))[:-1]
        out = out.reshape(n, h * w, g, cg).transpose(0, 2, 3, 1).reshape(n, c, h, w)
        return xp.ascontiguousarray(out).astype(s.dtype, copy=False)

    def backward(self, gx):
        s, a = self.saved_tensor(0), self.saved_tensor(1)
        gs = ga = None
        if self.next_functions[0][0] is not None:
            gs = DeformSample.apply(gx, a, rows=self.rows, x_shape=self.x_shape)
        if self.next_functions[1][0] is not None:
            ga = DeformCorr.apply(gx, s, rows=self.rows, x_shape=self.x_shape)
        return gs, ga


class DeformCorr(Op):
    """``A' = corr(X, S)``: the gradient of :class:`DeformSample` in its corner weights.
    Inputs: X (N, C, H, W) and S (N, M, G, Cg); output (N, 4, M, G)."""

    _name = "deform_conv2d_corr"
    save_inputs = (0, 1)

    def forward(self, x, s):
        xp = xp_of(x)
        n, m, g, cg = s.shape
        xl = _channels_last(x, g)
        s2 = s.reshape(-1, cg)
        out = xp.empty((n, 4, m, g), dtype=x.dtype)
        for q in range(4):
            v = xp.take(xl, self.rows[:, q].reshape(-1), axis=0)
            out[:, q] = xp.einsum("rc,rc->r", v, s2).reshape(n, m, g)
        return out

    def backward(self, ga):
        x, s = self.saved_tensor(0), self.saved_tensor(1)
        gx = gs = None
        if self.next_functions[0][0] is not None:
            gx = DeformScatter.apply(s, ga, rows=self.rows, x_shape=self.x_shape)
        if self.next_functions[1][0] is not None:
            gs = DeformSample.apply(x, ga, rows=self.rows, x_shape=self.x_shape)
        return gx, gs


def _out_size(size: int, pad: int, dil: int, k: int, stride: int) -> int:
    """torchvision's output size (C integer division, which truncates towards zero)."""
    num = size + 2 * pad - (dil * (k - 1) + 1)
    return int(num / stride) + 1 if num < 0 else num // stride + 1


def _check(input, offset, weight, bias, mask, stride, padding, dilation):
    """Raises as torchvision's deform_conv2d does for bad arguments; returns the geometry."""
    for name, t in (("input", input), ("offset", offset), ("weight", weight), ("mask", mask)):
        if t is not None and t.ndim != 4:
            raise RuntimeError(f"deform_conv2d: expected {name} to be a 4-D tensor, got shape "
                               f"{list(t.shape)}")
    for name, t in (("offset", offset), ("weight", weight), ("bias", bias), ("mask", mask)):
        if t is None:
            continue
        if t.dtype != input.dtype:
            raise RuntimeError(f"deform_conv2d: expected {name} to have the same dtype as input "
                               f"({input.dtype}), got {t.dtype}")
        if t.device != input.device:
            raise RuntimeError(f"deform_conv2d: expected all tensors to be on the same device, "
                               f"but found input on {input.device} and {name} on {t.device}")
    if not input.is_floating_point():
        raise RuntimeError(f"deform_conv2d: expected a floating-point input, got {input.dtype}")
    n, c_in, h, w = input.shape
    c_out, c_in_g, kh, kw = weight.shape
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    n_off = offset.shape[1] // (2 * kh * kw) if kh * kw else 0
    if n_off == 0:
        raise RuntimeError(
            "the shape of the offset tensor at dimension 1 is not valid. It should be a multiple "
            "of 2 * weight.size[2] * weight.size[3].\n"
            f"Got offset.shape[1]={offset.shape[1]}, while 2 * weight.size[2] * "
            f"weight.size[3]={2 * kh * kw}")
    if c_in_g == 0:
        raise RuntimeError(f"deform_conv2d: weight.shape[1] must be positive, got weight of "
                           f"shape {list(weight.shape)}")
    groups = c_in // c_in_g
    if sh <= 0 or sw <= 0:
        raise RuntimeError(f"stride_h: {sh} stride_w: {sw}")
    if ph < 0 or pw < 0:
        raise RuntimeError(f"pad_h: {ph} pad_w: {pw}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError(f"dilation_h: {dh} dilation_w: {dw}")
    if c_in_g * groups != c_in:
        raise RuntimeError(f"deform_conv2d: input channels ({c_in}) must be a multiple of "
                           f"weight.shape[1] ({c_in_g}); got input {list(input.shape)} and "
                           f"weight {list(weight.shape)}")
    if c_out % groups != 0:
        raise RuntimeError(f"deform_conv2d: out channels ({c_out}) must be divisible by groups "
                           f"({groups}); got weight {list(weight.shape)}")
    if offset.shape[1] != n_off * 2 * kh * kw:
        raise RuntimeError(f"offset.shape[1] is not valid: got: {offset.shape[1]} expected: "
                           f"{n_off * 2 * kh * kw}")
    if mask is not None and mask.shape[1] != n_off * kh * kw:
        raise RuntimeError(f"mask.shape[1] is not valid: got: {mask.shape[1]} expected: "
                           f"{n_off * kh * kw}")
    if c_in % n_off != 0:
        raise RuntimeError(f"deform_conv2d: input channels ({c_in}) must be divisible by the "
                           f"offset groups ({n_off})")
    ho, wo = _out_size(h, ph, dh, kh, sh), _out_size(w, pw, dw, kw, sw)
    if offset.shape[0] != n:
        raise RuntimeError("invalid batch size of offset")
    if tuple(offset.shape[2:]) != (ho, wo):
        raise RuntimeError(f"offset output dims: ({offset.shape[2]}, {offset.shape[3]}) - "
                           f"computed output dims: ({ho}, {wo})")
    if mask is not None:
        if mask.shape[0] != n:
            raise RuntimeError("invalid batch size of mask")
        if tuple(mask.shape[2:]) != (ho, wo):
            raise RuntimeError(f"mask output dims: ({mask.shape[2]}, {mask.shape[3]}) - "
                               f"computed output dims: ({ho}, {wo})")
    if ho <= 0 or wo <= 0:
        raise RuntimeError(f"Calculated output size too small - out_h: {ho} out_w: {wo}")
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise RuntimeError(f"deform_conv2d: expected bias of shape [{c_out}], got "
                           f"{list(bias.shape)}")
    return groups, n_off, ho, wo


def _corner_weights(offset: Tensor, mask, in_hw, kernel, stride, padding, dilation, n_off,
                    out_hw):
    """The bilinear corner weights A (N, 4, M, G) as ember ops of ``offset`` (and ``mask``),
    and the rows (N, 4, M, G) they read (:func:`_channels_last`'s layout). Sample
    ``m = (oy * Wo + ox) * K + (i * kw + j)``."""
    xp = xp_of(offset._data)
    dt = offset._data.dtype
    n = offset.shape[0]
    h, w = in_hw
    kh, kw = kernel
    ho, wo = out_hw
    k = kh * kw
    m = ho * wo * k
    g = n_off
    oy = xp.arange(ho).reshape(ho, 1, 1, 1) * stride[0] - padding[0]
    ox = xp.arange(wo).reshape(1, wo, 1, 1) * stride[1] - padding[1]
    ki = xp.arange(kh).reshape(1, 1, kh, 1) * dilation[0]
    kj = xp.arange(kw).reshape(1, 1, 1, kw) * dilation[1]
    base_y = xp.broadcast_to(oy + ki, (ho, wo, kh, kw)).reshape(1, m, 1).astype(dt)
    base_x = xp.broadcast_to(ox + kj, (ho, wo, kh, kw)).reshape(1, m, 1).astype(dt)
    # (N, G*K*2, Ho, Wo) -> (N, Ho, Wo, K, 2, G) -> (N, M, 2, G)
    off = offset.reshape(n, g, k, 2, ho, wo).permute(0, 4, 5, 2, 3, 1).reshape(n, m, 2, g)
    y = off[:, :, 0] + Tensor._make(base_y, False, None, 0)  # (N, M, G)
    x = off[:, :, 1] + Tensor._make(base_x, False, None, 0)
    y0 = xp.floor(y._data)
    x0 = xp.floor(x._data)
    ly = y - Tensor._make(y0, False, None, 0)
    lx = x - Tensor._make(x0, False, None, 0)
    hy, hx = 1 - ly, 1 - lx
    if mask is not None:  # (N, G*K, Ho, Wo) -> (N, Ho, Wo, K, G) -> (N, M, G)
        mod = mask.reshape(n, g, k, ho, wo).permute(0, 3, 4, 2, 1).reshape(n, m, g)
        hy, ly = hy * mod, ly * mod
    a = ember.stack([hy * hx, hy * lx, ly * hx, ly * lx], 1)  # (N, 4, M, G)
    # rows of the four corners; out-of-image corners read the zero row n*h*w*g
    with np.errstate(invalid="ignore"):
        fy = xp.where(xp.isfinite(y0), y0, -2).astype(np.int64)
        fx = xp.where(xp.isfinite(x0), x0, -2).astype(np.int64)
    nn_ = xp.arange(n, dtype=np.int64).reshape(n, 1, 1)
    gg = xp.arange(g, dtype=np.int64).reshape(1, 1, g)
    zero_row = n * h * w * g
    rows = xp.empty((n, 4, m, g), dtype=np.int64)
    for q, (dy, dx) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        yy, xx = fy + dy, fx + dx
        ok = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        r = ((nn_ * h + yy) * w + xx) * g + gg
        rows[:, q] = xp.where(ok, r, zero_row)
    return a, rows


def deform_conv2d(input: Tensor, offset: Tensor, weight: Tensor, bias: Tensor | None = None,
                  stride=(1, 1), padding=(0, 0), dilation=(1, 1),
                  mask: Tensor | None = None) -> Tensor:
    r"""Performs Deformable Convolution v2, described in `Deformable ConvNets v2: More
    Deformable, Better Results <https://arxiv.org/abs/1811.11168>`__ if :attr:`mask` is not
    ``None`` and Performs Deformable Convolution, described in `Deformable Convolutional
    Networks <https://arxiv.org/abs/1703.06211>`__ if :attr:`mask` is ``None``.

    Args:
        input (Tensor[batch_size, in_channels, in_height, in_width]): input tensor
        offset (Tensor[batch_size, 2 * offset_groups * kernel_height * kernel_width,
            out_height, out_width]): offsets to be applied for each position in the
            convolution kernel.
        weight (Tensor[out_channels, in_channels // groups, kernel_height, kernel_width]):
            convolution weights, split into groups of size (in_channels // groups)
        bias (Tensor[out_channels]): optional bias of shape (out_channels,). Default: None
        stride (int or Tuple[int, int]): distance between convolution centers. Default: 1
        padding (int or Tuple[int, int]): height/width of padding of zeroes around
            each image. Default: 0
        dilation (int or Tuple[int, int]): the spacing between kernel elements. Default: 1
        mask (Tensor[batch_size, offset_groups * kernel_height * kernel_width,
            out_height, out_width]): masks to be applied for each position in the
            convolution kernel. Default: None

    Returns:
        Tensor[batch_sz, out_channels, out_h, out_w]: result of convolution

    Channel ``2 * (g * kh * kw + i * kw + j)`` of ``offset`` is the vertical offset of tap
    ``(i, j)`` for offset group ``g`` (the next channel the horizontal one); the groups split
    the input channels evenly. Differentiable in ``input``, ``offset``, ``mask``,
    ``weight`` and ``bias``, to any order.
    """
    stride = _pair(stride, "stride")
    padding = _pair(padding, "padding")
    dilation = _pair(dilation, "dilation")
    groups, n_off, ho, wo = _check(input, offset, weight, bias, mask, stride, padding, dilation)
    n, c_in, h, w = input.shape
    c_out, c_in_g, kh, kw = weight.shape
    k = kh * kw
    a, rows = _corner_weights(offset, mask, (h, w), (kh, kw), stride, padding, dilation, n_off,
                              (ho, wo))
    cols = DeformSample.apply(input, a, rows=rows, x_shape=(n, c_in, h, w))  # (N, M, G, Cg)
    cg = c_out // groups
    if groups == 1:
        cols = cols.reshape(n, ho * wo, k * c_in)  # (N, L, K*C), tap-major
        w2 = weight.permute(2, 3, 1, 0).reshape(k * c_in, c_out)
        out = cols.matmul(w2)  # (N, L, C_out)
    else:
        cols = cols.reshape(n, ho * wo, k, groups, c_in_g).permute(0, 3, 1, 2, 4)
        cols = cols.reshape(n, groups, ho * wo, k * c_in_g)
        w2 = weight.reshape(groups, cg, c_in_g, kh, kw).permute(0, 3, 4, 2, 1)
        out = cols.matmul(w2.reshape(groups, k * c_in_g, cg))  # (N, groups, L, C_out/groups)
        out = out.permute(0, 2, 1, 3).reshape(n, ho * wo, c_out)
    if bias is not None:
        out = out + bias
    return out.permute(0, 2, 1).reshape(n, c_out, ho, wo)


class DeformConv2d(nn.Module):
    """See :func:`deform_conv2d`."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True) -> None:
        super().__init__()
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.padding = _pair(padding, "padding")
        self.dilation = _pair(dilation, "dilation")
        self.groups = groups
        self.weight = nn.Parameter(ember.empty((out_channels, in_channels // groups)
                                          + self.kernel_size))
        if bias:
            self.bias = nn.Parameter(ember.empty((out_channels,)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Kaiming-uniform weight (``a = sqrt(5)``) and a uniform bias in
        ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``, as ``nn.Conv2d``."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor, offset: Tensor, mask: Tensor | None = None) -> Tensor:
        """
        Args:
            input (Tensor[batch_size, in_channels, in_height, in_width]): input tensor
            offset (Tensor[batch_size, 2 * offset_groups * kernel_height * kernel_width,
                out_height, out_width]): offsets to be applied for each position in the
                convolution kernel.
            mask (Tensor[batch_size, offset_groups * kernel_height * kernel_width,
                out_height, out_width]): masks to be applied for each position in the
                convolution kernel.
        """
        return deform_conv2d(input, offset, self.weight, self.bias, stride=self.stride,
                             padding=self.padding, dilation=self.dilation, mask=mask)

    def __repr__(self) -> str:
        s = (f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
             f"kernel_size={self.kernel_size}, stride={self.stride}")
        s += f", padding={self.padding}" if self.padding != (0, 0) else ""
        s += f", dilation={self.dilation}" if self.dilation != (1, 1) else ""
        s += f", groups={self.groups}" if self.groups != 1 else ""
        s += ", bias=False" if self.bias is None else ""
        return s + ")"
