"""``ember.nn.init``: parameter initialisation, as ``torch.nn.init``.

Every function fills its tensor in place without recording a graph and returns it. Random
values come from ember's generator of the tensor's device (or the ``generator`` given), so
``ember.manual_seed`` makes them reproducible; their distributions are PyTorch's.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _random
from .._meta import META_RNG
from .._tensor import Tensor
from ..ops.op import xp_of

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_",
           "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_",
           "uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
           "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse"]


def _rng(tensor: Tensor, generator=None):
    if tensor.is_meta:  # draws of the right shape and no values: the fill is a no-op
        return META_RNG
    return _random.generator_for(tensor.device, generator)


def _draw_dtype(tensor: Tensor):
    """The numpy dtype a fill of ``tensor`` draws at, as PyTorch's in-place fills."""
    dt = tensor._data.dtype
    return dt if dt.kind == "f" or dt.name == "bfloat16" else np.dtype(np.float64)


def _write(tensor: Tensor, values) -> Tensor:
    """Stores ``values`` (an array broadcastable to the tensor) into the tensor's memory."""
    if tensor.is_meta:  # nothing to store
        tensor._bump()
        return tensor
    xp = xp_of(tensor._data)
    xp.copyto(tensor._data, xp.asarray(values).astype(tensor._data.dtype, copy=False),
              casting="unsafe")
    tensor._bump()
    return tensor


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for a nonlinearity: 1 for linear/conv/sigmoid, 5/3 for tanh,
    sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu, 3/4 for selu."""
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor):
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _memory_order(tensor: Tensor):
    """The order PyTorch's kernels fill ``tensor`` in (None: C order; meta: none)."""
    return None if tensor.is_meta else _random.memory_order(tensor._data)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fills with values drawn from U(a, b) (a strided tensor in memory order, as PyTorch)."""
    rng, dt = _rng(tensor, generator), _draw_dtype(tensor)
    return _write(tensor, _random.in_memory_order(
        lambda s: _random.uniform_array(rng, s, a, b, dt), tuple(tensor.shape),
        _memory_order(tensor)))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fills with values drawn from N(mean, std^2) (a strided tensor in memory order, as
    PyTorch)."""
    rng, dt = _rng(tensor, generator), _draw_dtype(tensor)
    contiguous = tensor.is_meta or bool(tensor._data.flags.c_contiguous)
    return _write(tensor, _random.in_memory_order(
        lambda s: _random.normal_array(rng, s, mean, std, dt, contiguous), tuple(tensor.shape),
        _memory_order(tensor)))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None) -> Tensor:
    """Fills with values drawn from N(mean, std^2) truncated to [a, b], by rejection as
    PyTorch 2.13 samples (so a seeded fill gives PyTorch's values): when the interval holds
    more than 0.3 of the mass, normal draws of the whole tensor replace the values outside
    it until none is; otherwise uniform proposals on [a, b] are accepted with the normal
    density's ratio to its peak."""
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)

    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if tensor.is_meta:  # no values to fill
        return tensor
    rng, shape, dt = _rng(tensor, generator), tuple(tensor.shape), _draw_dtype(tensor)
    xp = xp_of(tensor._data)

    def normal():
        return xp.asarray(_random.normal_array(rng, shape, mean, std, dt))

    def uniform(lo, hi):
        return xp.asarray(_random.uniform_array(rng, shape, lo, hi, dt))

    if norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std) > 0.3:
        lo, hi = float(np.asarray(a, dtype=dt)), float(np.asarray(b, dtype=dt))
        result = normal()
        while True:
            outside = (result < lo) | (result > hi)
            if not bool(outside.any()):
                break
            result = xp.where(outside, normal(), result)
        return _write(tensor, result)
    mode = max(a, min(mean, b))
    log_peak = -0.5 * ((mode - mean) / std) ** 2

    def log_ratio(x):  # -0.5 ((x - mean) / std)^2 - log_peak, step by step in the dtype
        x = (x - dt.type(mean)) / dt.type(std)
        return (x * x) * dt.type(-0.5) - dt.type(log_peak)

    result = uniform(a, b)
    pending = xp.log(uniform(0.0, 1.0)) > log_ratio(result)
    while bool(pending.any()):
        candidates = uniform(a, b)
        result = xp.where(pending, candidates, result)
        pending = xp.where(pending, xp.log(uniform(0.0, 1.0)) > log_ratio(candidates), pending)
    return _write(tensor, result)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fills with ``val``."""
    tensor._data[...] = val
    tensor._bump()
    return tensor


def ones_(tensor: Tensor) -> Tensor:
    """Fills with ones."""
    return constant_(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    """Fills with zeros."""
    return constant_(tensor, 0.0)


def eye_(tensor: Tensor) -> Tensor:
    """Fills a 2-D tensor with the identity matrix."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    xp = xp_of(tensor._data)
    return _write(tensor, xp.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fills a 3-, 4- or 5-D tensor with the Dirac delta, so a convolution with it keeps
    its input channels (per group)."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per = sizes[0] // groups
    m = min(per, sizes[1])
    xp = xp_of(tensor._data)
    out = xp.zeros(tuple(sizes), dtype=tensor._data.dtype)
    g = np.repeat(np.arange(groups), m)
    d = np.tile(np.arange(m), groups)
    centre = tuple(np.full(g.shape, k // 2) for k in sizes[2:])
    out[(xp.asarray(g * per + d), xp.asarray(d)) + tuple(xp.asarray(c) for c in centre)] = 1
    return _write(tensor, out)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot uniform: U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot normal: N(0, std^2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He uniform: U(-bound, bound) with ``bound = gain * sqrt(3 / fan_mode)``."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He normal: N(0, std^2) with ``std = gain / sqrt(fan_mode)``."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1, generator=None) -> Tensor:
    """Fills with a (semi-)orthogonal matrix (the Q of a QR decomposition of a Gaussian
    matrix, signs fixed), scaled by ``gain``."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    xp = xp_of(tensor._data)
    flat = _random.normal_array(_rng(tensor, generator), (rows, cols), 0.0, 1.0,
                                _draw_dtype(tensor))
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    q = q * xp.sign(xp.diagonal(r))
    if rows < cols:
        q = q.T
    return _write(tensor, (q * gain).reshape(tuple(tensor.shape)))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """Fills a 2-D tensor with N(0, std^2) values and zeroes a ``sparsity`` fraction of each
    column."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    rng = _rng(tensor, generator)
    vals = rng.normal(0.0, std, size=(rows, cols))
    order = rng.random((rows, cols)).argsort(axis=0)[:num_zeros]
    xp = xp_of(tensor._data)
    vals[order, xp.arange(cols)[None, :]] = 0
    return _write(tensor, vals)


def _deprecated(fn):
    def wrapper(*args, **kwargs):
        warnings.warn(f"`nn.init.{fn.__name__[:-1]}` is now deprecated in favor of "
                      f"`nn.init.{fn.__name__}`.", FutureWarning, stacklevel=2)
        return fn(*args, **kwargs)
    wrapper.__name__ = fn.__name__[:-1]
    wrapper.__doc__ = f"Deprecated alias of ``{fn.__name__}``."
    return wrapper


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
