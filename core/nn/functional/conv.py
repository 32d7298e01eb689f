"""Linear maps and convolutions of ``ember.nn.functional``: linear, bilinear,
conv1d/2d/3d, conv_transpose1d/2d/3d, unfold, fold."""

from __future__ import annotations

from ..._autocast_state import lower as _amp_lower
from ..._autocast_state import state as _amp
from ..._tensor import Tensor
from ...ops import conv as C
from ...ops.linear import linear
from ...ops.shape import follow_format
from ._utils import _pair, _spatial

__all__ = ["linear", "bilinear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
           "conv_transpose2d", "conv_transpose3d", "unfold", "fold"]


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None
             ) -> Tensor:
    """``y_k = x1^T A_k x2 + b_k`` for weight ``A`` of shape (out, in1, in2)."""
    out, n1, n2 = weight.shape
    if input1.shape[-1] != n1 or input2.shape[-1] != n2:
        raise RuntimeError(f"bilinear(): input sizes {tuple(input1.shape)} and "
                           f"{tuple(input2.shape)} do not match weight {tuple(weight.shape)}")
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, n1)
    x2 = input2.reshape(-1, n2)
    t = x1.matmul(weight.permute(1, 0, 2).reshape(n1, out * n2))  # (B, out*in2)
    y = (t.reshape(-1, out, n2) * x2.unsqueeze(1)).sum(-1)  # (B, out)
    if bias is not None:
        y = y + bias
    return y.reshape(lead + (out,))


def _conv_pads(padding, k, dilation, stride, nd: int, name: str):
    if isinstance(padding, str):
        if padding == "valid":
            return tuple((0, 0) for _ in range(nd))
        if padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = []
            for kk, d in zip(k, dilation):
                total = d * (kk - 1)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise ValueError(f"Invalid padding string '{padding}', should be one of "
                         "{'valid', 'same'}")
    p = _spatial(nd)(padding)
    if any(v < 0 for v in p):
        raise RuntimeError("negative padding is not supported")
    return tuple((v, v) for v in p)


_NAMES = {1: "conv1d", 2: "conv2d", 3: "conv3d"}


def _shape_str(t: Tensor) -> str:
    return "[" + ", ".join(str(s) for s in t.shape) + "]"


def _convnd(nd, input, weight, bias, stride, padding, dilation, groups):
    name = _NAMES[nd]
    if _amp.on:
        input, weight, bias = _amp_lower(name, input, weight, bias)
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{name}(): argument 'input' and 'weight' must be Tensors")
    if weight.ndim != nd + 2:
        raise RuntimeError("weight should have at least three dimensions" if nd == 1 else
                           f"Expected {nd + 2}-dimensional weight for {nd + 2}-dimensional "
                           f"input, but got {weight.ndim}-dimensional weight of size "
                           f"{_shape_str(weight)}")
    unbatched = input.ndim == nd + 1
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {_shape_str(input)}")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"Input type ({input.dtype}) and weight type ({weight.dtype}) "
                           "should be the same")
    if unbatched:
        input = input.unsqueeze(0)
    stride = _spatial(nd)(stride)
    dilation = _spatial(nd)(dilation)
    k = tuple(weight.shape[2:])
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    c = input.shape[1]
    if c != weight.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {_shape_str(weight)}, "
                           f"expected input{_shape_str(input)} to have "
                           f"{weight.shape[1] * groups} channels, but got {c} channels instead")
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size "
                           f"{_shape_str(weight)} instead")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    pads = _conv_pads(padding, k, dilation, stride, nd, name)
    for n, kk, d, (lo, hi) in zip(input.shape[2:], k, dilation, pads):
        if n + lo + hi < d * (kk - 1) + 1:
            ps = " x ".join(str(n + lo + hi) for n, (lo, hi) in zip(input.shape[2:], pads))
            ks = " x ".join(str(d * (kk - 1) + 1) for kk, d in zip(k, dilation))
            raise RuntimeError(f"Calculated padded input size per channel: ({ps}). Kernel "
                               f"size: ({ks}). Kernel size can't be greater than actual input "
                               "size")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != weight.shape[0]):
        raise RuntimeError(f"Given weight of size {_shape_str(weight)}, expected bias to be "
                           f"1-dimensional with {weight.shape[0]} elements, but got bias of "
                           f"size {_shape_str(bias)} instead")
    out = follow_format(C.conv(input, weight, bias, stride, pads, dilation, groups), input,
                        weight)
    return out.squeeze(0) if unbatched else out


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """1-D convolution over (N, C, L) (or unbatched (C, L)) input."""
    return _convnd(1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-D convolution over (N, C, H, W) (or unbatched (C, H, W)) input."""
    return _convnd(2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """3-D convolution over (N, C, D, H, W) (or unbatched) input."""
    return _convnd(3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(nd, input, weight, bias, stride, padding, output_padding, groups,
                      dilation):
    name = f"conv_transpose{nd}d"
    if _amp.on:
        input, weight, bias = _amp_lower(name, input, weight, bias)
    unbatched = input.ndim == nd + 1
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {_shape_str(input)}")
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{name}: expected {nd + 2}-dimensional weight, got "
                           f"{weight.ndim}-dimensional weight")
    if unbatched:
        input = input.unsqueeze(0)
    if input.shape[1] != weight.shape[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {_shape_str(weight)}, expected "
                           f"input{_shape_str(input)} to have {weight.shape[0]} channels, but "
                           f"got {input.shape[1]} channels instead")
    stride = _spatial(nd)(stride)
    dilation = _spatial(nd)(dilation)
    output_padding = _spatial(nd)(output_padding)
    padding = _spatial(nd)(padding)
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise RuntimeError("output padding must be smaller than either stride or dilation,"
                               f" but got output_padding={output_padding}, stride={stride}, "
                               f"dilation={dilation}")
    pads = tuple((p, p) for p in padding)
    out = follow_format(C.conv_transpose(input, weight, bias, stride, pads, output_padding,
                                         groups, dilation), input, weight)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """1-D transposed convolution ("deconvolution")."""
    return _conv_transposend(1, input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """2-D transposed convolution ("deconvolution")."""
    return _conv_transposend(2, input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """3-D transposed convolution ("deconvolution")."""
    return _conv_transposend(3, input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extracts sliding local blocks: (N, C, H, W) -> (N, C*kh*kw, L)."""
    unbatched = input.ndim == 3
    if input.ndim not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported (got "
                                  f"{input.ndim}D)")
    x = input.unsqueeze(0) if unbatched else input
    k, d, p, s = _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride)
    if min(k + d + s) > 0:
        blocks = tuple((n + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1
                       for i, n in enumerate(x.shape[2:]))
        if min(blocks) < 1:
            raise RuntimeError(f"Given input with spatial size {tuple(x.shape[2:])}, "
                               f"kernel_size={k}, dilation={d}, padding={p}, calculated shape "
                               f"of the array of sliding blocks as {blocks}, but its "
                               "components must be at least one.")
    pads = tuple((v, v) for v in p)
    out = C.unfold(x, k, d, pads, s)
    return out.squeeze(0) if unbatched else out


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Combines sliding local blocks into a tensor: (N, C*kh*kw, L) -> (N, C, *output_size),
    summing overlapping values."""
    unbatched = input.ndim == 2
    if input.ndim not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input "
                                  f"Tensors are supported (got {input.ndim}D)")
    x = input.unsqueeze(0) if unbatched else input
    k = _pair(kernel_size)
    if x.shape[1] % (k[0] * k[1]):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={x.shape[1]} and "
                           f"kernel_size={k}")
    pads = tuple((p, p) for p in _pair(padding))
    out = C.fold(x, _pair(output_size), k, _pair(dilation), pads, _pair(stride))
    return out.squeeze(0) if unbatched else out
