"""Normalization functions of ``ember.nn.functional``: batch_norm, layer_norm, group_norm,
instance_norm, local_response_norm, rms_norm, normalize."""

from __future__ import annotations

import math

import numpy as np

from ... import _dtype
from ..._autocast_state import fp32_op
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...ops import _opmath
from ...ops import norm as N
from ...ops.channel_affine import channel_affine
from ...ops.reduce import norm as _vector_norm
from ...ops.shape import follow_format

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "local_response_norm",
           "rms_norm", "normalize"]


def _channel_shape(x: Tensor) -> tuple:
    return (1, -1) + (1,) * (x.ndim - 2)


def _update_running(running: Tensor | None, value, momentum: float) -> None:
    if running is None:
        return
    with no_grad():
        r = running._data
        if _opmath.is_low(r.dtype):  # in float32, rounded once
            r[...] = ((1 - momentum) * r.astype(np.float32) +
                      momentum * value.astype(np.float32)).astype(r.dtype)
        else:
            r *= (1 - momentum)
            r += (momentum * value).astype(r.dtype, copy=False)
        running._bump()


def _scale_shift(input: Tensor, mean: Tensor, var: Tensor, weight, bias, eps: float):
    """``(x - mean) / sqrt(var + eps) * weight + bias`` as one scale and one shift."""
    inv = (var + eps).rsqrt()
    scale = inv * weight if weight is not None else inv
    shift = -mean * scale
    if bias is not None:
        shift = shift + bias
    return channel_affine(input, scale, shift)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalization over the channel dim (1) of (N, C, *) input.

    In training the batch statistics normalise the input and update ``running_mean`` /
    ``running_var`` (unbiased) by ``momentum``; otherwise the running statistics are used.
    """
    if input.ndim < 2:
        raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")
    c = input.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"running_mean should contain {c} elements not {t.numel()}"
                               if name.startswith("running") else
                               f"{name} should contain {c} elements not {t.numel()}")
    if training:
        count = input.numel() // c
        if count <= 1:
            raise ValueError("Expected more than 1 value per channel when training, got input "
                             f"size {input.shape}")
        stats: list = []
        out = N.batch_norm_train(input, weight, bias, eps, stats)
        mean, var = stats
        _update_running(running_mean, mean, momentum)
        _update_running(running_var, var * (count / (count - 1)), momentum)
        return follow_format(out, input)
    if running_mean is None or running_var is None:
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    y = _opmath.in_float32(lambda x, m, v, w, b: _scale_shift(x, m, v, w, b, eps), input,
                           running_mean, running_var, weight, bias)
    return follow_format(y, input)


@fp32_op("layer_norm")
def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalizes over the trailing ``normalized_shape`` dims, then scales and shifts."""
    ns = normalized_shape
    if type(ns) is not tuple:
        ns = (ns,) if isinstance(ns, int) else tuple(ns)
    nd = len(ns)
    shape = input._data.shape
    if nd == 0 or len(shape) < nd or shape[len(shape) - nd:] != ns:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in ns)}], but got input of size"
                           f"{input.shape}")
    if (weight is not None and weight._data.shape != ns) or \
            (bias is not None and bias._data.shape != ns):
        name, t = ("weight", weight) if weight is not None and weight._data.shape != ns \
            else ("bias", bias)
        raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but "
                           f"got {name} of shape {list(t.shape)} and normalized_shape = "
                           f"{list(ns)}")
    return N.layer_norm(input, nd, weight, bias, eps)


def _affine(y: Tensor, weight, bias) -> Tensor:
    shape = _channel_shape(y)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


@fp32_op("group_norm")
def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalizes each group of ``C / num_groups`` channels over (channels, spatial)."""
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    n, c = input.shape[:2]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {input.shape} and num_groups="
                           f"{num_groups}")
    size = [n * c // num_groups, num_groups, *input.shape[2:]]
    if math.prod(size) // num_groups == 1:  # (also in eval mode, as PyTorch)
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {size}")
    return _opmath.in_float32(  # (float16/bfloat16: in float32, rounded once)
        lambda x, w, b: _affine(N.layer_norm(x.reshape(n, num_groups, -1), 1, None, None,
                                             eps).reshape(x.shape), w, b),
        input, weight, bias)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalizes each (sample, channel) over its spatial dims."""
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when "
                               "use_input_stats is false")
        return _scale_shift(input, running_mean, running_var, weight, bias, eps)
    nd = input.ndim - 2
    count = 1
    for s in input.shape[2:]:
        count *= s
    if count <= 1:
        raise ValueError("Expected more than 1 spatial element when training, got input size "
                         f"{input.shape}")
    if running_mean is not None or running_var is not None:
        x = input._data
        if _opmath.is_low(x.dtype):
            x = x.astype(np.float32)
        axes = tuple(range(2, x.ndim))
        mean = x.mean(axis=axes)
        var = x.var(axis=axes, ddof=1)
        _update_running(running_mean, mean.mean(axis=0), momentum)
        _update_running(running_var, var.mean(axis=0), momentum)
    if _opmath.low_dtype([input]) is not None:
        # float16/bfloat16: as PyTorch, a training batch norm of the (1, N*C, ...) view
        n, c = input.shape[:2]
        view = input.reshape((1, n * c) + tuple(input.shape[2:]))
        w = weight.repeat(n) if weight is not None else None
        b = bias.repeat(n) if bias is not None else None
        return N.batch_norm_train(view, w, b, eps, []).reshape(input.shape)
    y = N.layer_norm(input, nd, None, None, eps)
    return _affine(y, weight, bias)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Normalizes each element by the energy of ``size`` neighbouring channels."""
    from .misc import pad
    from .pooling import avg_pool2d, avg_pool3d

    dim = input.ndim
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    div = input * input
    if dim == 3:
        div = div.unsqueeze(1)
        div = pad(div, (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = input.shape
        div = div.reshape(sizes[0], 1, sizes[1], sizes[2], -1)
        div = pad(div, (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1)
        div = div.reshape(sizes)
    div = (div * alpha + k).pow(beta)
    return input / div


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``x / sqrt(mean(x^2) + eps) * weight`` over the trailing ``normalized_shape`` dims."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    nd = len(tuple(normalized_shape))
    if tuple(input.shape[input.ndim - nd:]) != tuple(normalized_shape):
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input "
                           f"with shape [*, {', '.join(str(s) for s in normalized_shape)}], "
                           f"but got input of size{input.shape}")
    if _opmath.low_dtype([input]) is not None:  # in float32 (eps too), rounded once
        return _opmath.in_float32(lambda x, w: rms_norm(x, normalized_shape, w, eps), input,
                                  weight)
    if eps is None:
        eps = _dtype.finfo(input.dtype).eps
    dims = tuple(range(input.ndim - nd, input.ndim))
    y = input * ((input * input).mean(dim=dims, keepdim=True) + eps).rsqrt()
    return y * weight if weight is not None else y


@fp32_op("normalize")
def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim``."""
    denom = _vector_norm(input, p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    r = input / denom
    if out is not None:
        out.copy_(r)
        return out
    return r
