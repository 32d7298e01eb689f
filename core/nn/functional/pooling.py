"""Pooling functions of ``ember.nn.functional``: max/avg pooling (1-3 D), adaptive
average/max pooling, max unpooling and power-average (LP) pooling."""

from __future__ import annotations

import math

import numpy as np

from ..._tensor import Tensor
from ...ops import pool as P
from ...ops.shape import follow_format
from ._utils import _spatial

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
           "max_pool2d_with_indices", "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d",
           "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "max_unpool1d", "max_unpool2d", "max_unpool3d",
           "lp_pool1d", "lp_pool2d", "lp_pool3d", "fractional_max_pool2d",
           "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d_with_indices"]


def _batched(input: Tensor, nd: int, name: str):
    if input.ndim == nd + 1:
        return input.unsqueeze(0), True
    if input.ndim == nd + 2:
        return input, False
    raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor for input, "
                       f"but got: {list(input.shape)}")


def _max_pool(nd, input, kernel_size, stride, padding, dilation, ceil_mode, name,
              return_indices=True):
    x, unbatched = _batched(input, nd, name)
    k = _spatial(nd)(kernel_size)
    s = _spatial(nd)(stride) if stride is not None and stride != [] and stride != () else k
    res = P.max_pool(x, k, s, _spatial(nd)(padding), _spatial(nd)(dilation), ceil_mode,
                     return_indices)
    if not return_indices:
        res = follow_format(res, x)
        return res.squeeze(0) if unbatched else res
    out, idx = res
    out, idx = follow_format(out, x), follow_format(idx, x)
    if unbatched:
        out, idx = out.squeeze(0), idx.squeeze(0)
    return out, idx


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """1-D max pooling returning (values, indices)."""
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool1d")


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """2-D max pooling returning (values, indices)."""
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """3-D max pooling returning (values, indices)."""
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool3d")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling over (N, C, L); indices too with ``return_indices``."""
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     "max_pool1d", return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over (N, C, H, W); indices too with ``return_indices``."""
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     "max_pool2d", return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """3-D max pooling over (N, C, D, H, W); indices too with ``return_indices``."""
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode,
                     "max_pool3d", return_indices)


def _avg_pool(nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, name):
    x, unbatched = _batched(input, nd, name)
    k = _spatial(nd)(kernel_size)
    s = _spatial(nd)(stride) if stride is not None and stride != [] and stride != () else k
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    if nd == 3 and any(n < kd for n, kd in zip(x.shape[2:], k)):
        # PyTorch's 3-D check, on the input before padding
        t, h, w = x.shape[2:]
        raise RuntimeError(f"input image (T: {t} H: {h} W: {w}) smaller than kernel size "
                           f"(kT: {k[0]} kH: {k[1]} kW: {k[2]})")
    out = P.avg_pool(x, k, s, _spatial(nd)(padding), ceil_mode, count_include_pad,
                     divisor_override)
    return out.squeeze(0) if unbatched else out


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling over (N, C, L)."""
    return _avg_pool(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     None, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling over (N, C, H, W)."""
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, "avg_pool2d")


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """3-D average pooling over (N, C, D, H, W)."""
    return _avg_pool(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, "avg_pool3d")


def _adaptive_sizes(x: Tensor, nd: int, output_size, name: str):
    out = _spatial(nd)(output_size)
    if len(out) != nd:
        raise RuntimeError(f"{name}: output_size must be {nd}")
    return tuple(x.shape[-nd + i] if o is None else int(o) for i, o in enumerate(out))


def _empty_pool(x: Tensor, sizes) -> Tensor:
    """The empty output of pooling ``x`` to ``sizes`` (which hold a 0), in the graph."""
    return x.flatten(2)[:, :, :0].reshape(tuple(x.shape[:2]) + tuple(sizes))


def _avg_matrix(n: int, out: int, like: Tensor) -> Tensor:
    start, end = P.adaptive_ranges(n, out)
    cols = np.arange(n)
    m = ((cols[None, :] >= start[:, None]) & (cols[None, :] < end[:, None])).astype(np.float64)
    m /= (end - start)[:, None]
    return like.new_tensor(m.astype(like._data.dtype))


def _adaptive_avg(nd, input, output_size, name):
    x, unbatched = _batched(input, nd, name)
    sizes = _adaptive_sizes(x, nd, output_size, name)
    in_sp = tuple(x.shape[2:])
    if any(n == 0 for n in in_sp):
        raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch "
                           "dimensions")
    if 0 in sizes:
        out = _empty_pool(x, sizes)
    elif all(o == 1 for o in sizes):
        out = x.mean(dim=tuple(range(2, x.ndim)), keepdim=True)
    elif all(n % o == 0 for n, o in zip(in_sp, sizes)):
        k = tuple(n // o for n, o in zip(in_sp, sizes))
        out = P.avg_pool(x, k, k, (0,) * nd, False, True, None)
    else:
        out = x
        for i, (n, o) in enumerate(zip(in_sp, sizes)):
            if n == o:
                continue
            m = _avg_matrix(n, o, x)  # (out, in)
            dim = 2 + i
            if dim == out.ndim - 1:
                out = out.matmul(m.t())
            else:
                out = out.movedim(dim, -1).matmul(m.t()).movedim(-1, dim)
    return out.squeeze(0) if unbatched else out


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """1-D average pooling to a fixed output length."""
    return _adaptive_avg(1, input, output_size, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """2-D average pooling to a fixed output size (None keeps the input's size)."""
    return _adaptive_avg(2, input, output_size, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """3-D average pooling to a fixed output size."""
    return _adaptive_avg(3, input, output_size, "adaptive_avg_pool3d")


def _adaptive_max(nd, input, output_size, name):
    x, unbatched = _batched(input, nd, name)
    sizes = _adaptive_sizes(x, nd, output_size, name)
    in_sp = tuple(x.shape[2:])
    if 0 in sizes:
        out = _empty_pool(x, sizes)
        idx = Tensor._make(_xp(x).zeros(tuple(out.shape), dtype=np.int64))
    elif all(n % o == 0 for n, o in zip(in_sp, sizes)):
        k = tuple(n // o for n, o in zip(in_sp, sizes))
        out, idx = P.max_pool(x, k, k, (0,) * nd, (1,) * nd, False, True)
    else:
        out, idx = _adaptive_max_gather(x, in_sp, sizes)
    if unbatched:
        out, idx = out.squeeze(0), idx.squeeze(0)
    return out, idx


def _adaptive_max_gather(x: Tensor, in_sp, sizes):
    """Adaptive max pooling with windows of varying length: gather every window (padded
    to the longest by repeating its last element), take the argmax, then pick the values
    with ``gather`` (whose backward scatters the gradient)."""
    xp = _xp(x)
    nd = len(in_sp)
    flat = None
    kshape = []
    for dim, (n, o) in enumerate(zip(in_sp, sizes)):
        start, end = P.adaptive_ranges(n, o)
        kmax = int((end - start).max())
        idx = np.minimum(start[:, None] + np.arange(kmax)[None, :], end[:, None] - 1)
        # broadcast shape: (o_0, k_0, o_1, k_1, ...)
        shape = [1] * (2 * nd)
        shape[2 * dim], shape[2 * dim + 1] = o, kmax
        idx = idx.reshape(shape)
        flat = idx if flat is None else flat * n + idx
        kshape.append(kmax)
    # flat: (o0, k0, o1, k1, ...) -> (o0, o1, ..., k0*k1*...)
    perm = [2 * i for i in range(nd)] + [2 * i + 1 for i in range(nd)]
    flat = np.broadcast_to(flat, tuple(v for pair in zip(sizes, kshape) for v in pair))
    flat = np.ascontiguousarray(flat.transpose(perm)).reshape(tuple(sizes) + (-1,))
    n_, c_ = x.shape[:2]
    xf = x._data.reshape(n_, c_, -1)
    cand = xp.asarray(flat)
    vals = xf[:, :, cand]  # (N, C, *out, K)
    pick = vals.argmax(axis=-1)[..., None]
    best = xp.take_along_axis(xp.broadcast_to(cand, vals.shape), pick, axis=-1)[..., 0]
    idx = Tensor._make(xp.ascontiguousarray(best).astype(np.int64))
    out = x.flatten(2).gather(2, idx.flatten(2)).reshape(idx.shape)
    return out, idx


def _xp(t: Tensor):
    from ...ops.op import xp_of

    return xp_of(t._data)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """1-D adaptive max pooling returning (values, indices)."""
    return _adaptive_max(1, input, output_size, "adaptive_max_pool1d")


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """2-D adaptive max pooling returning (values, indices)."""
    return _adaptive_max(2, input, output_size, "adaptive_max_pool2d")


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """3-D adaptive max pooling returning (values, indices)."""
    return _adaptive_max(3, input, output_size, "adaptive_max_pool3d")


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """1-D max pooling to a fixed output length."""
    out, idx = _adaptive_max(1, input, output_size, "adaptive_max_pool1d")
    return (out, idx) if return_indices else out


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """2-D max pooling to a fixed output size."""
    out, idx = _adaptive_max(2, input, output_size, "adaptive_max_pool2d")
    return (out, idx) if return_indices else out


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """3-D max pooling to a fixed output size."""
    out, idx = _adaptive_max(3, input, output_size, "adaptive_max_pool3d")
    return (out, idx) if return_indices else out


def _unpool_output_size(x: Tensor, k, s, p, output_size, nd: int):
    default = tuple((x.shape[-nd + i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(nd))
    if output_size is None:
        return default
    output_size = tuple(output_size)
    if len(output_size) == nd + 2:
        output_size = output_size[2:]
    elif len(output_size) == nd + 1:
        output_size = output_size[1:]
    if len(output_size) != nd:
        raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} "
                         f"elements, but it has a length of '{len(output_size)}'")
    for i in range(nd):
        lo = default[i] - s[i]
        hi = default[i] + s[i]
        if not lo < output_size[i] < hi:
            raise ValueError(f'invalid output_size "{output_size}" (dim {i} must be between '
                             f"{lo} and {hi})")
    return output_size


def _max_unpool(nd, input, indices, kernel_size, stride, padding, output_size):
    k = _spatial(nd)(kernel_size)
    s = _spatial(nd)(stride) if stride is not None else k
    p = _spatial(nd)(padding)
    unbatched = input.ndim == nd + 1
    x = input.unsqueeze(0) if unbatched else input
    idx = indices.unsqueeze(0) if unbatched else indices
    out_sp = _unpool_output_size(x, k, s, p, output_size, nd)
    n, c = x.shape[:2]
    total = 1
    for v in out_sp:
        total *= v
    flat_idx = idx.reshape(n, c, -1)
    if total == 0:  # an empty output: nothing to scatter (nor to check, as PyTorch)
        out = x.reshape(n, c, -1)[:, :, :0].reshape((n, c) + tuple(out_sp))
        return out.squeeze(0) if unbatched else out
    if flat_idx.numel() and (int(flat_idx.max().item()) >= total or
                             int(flat_idx.min().item()) < 0):
        raise RuntimeError(f"Found an invalid max index: {int(flat_idx.max().item())} (output "
                           f"volumes are of size {'x'.join(str(v) for v in out_sp)}")
    out = x.new_zeros((n, c, total)).scatter(2, flat_idx, x.reshape(n, c, -1))
    out = out.reshape((n, c) + tuple(out_sp))
    return out.squeeze(0) if unbatched else out


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool1d``: values put back at their indices, zeros
    elsewhere."""
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool2d``."""
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool3d``."""
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)


def _lp_pool(nd, input, norm_type, kernel_size, stride, ceil_mode):
    k = _spatial(nd)(kernel_size)
    if isinstance(norm_type, (int, float)) and abs(norm_type) == float("inf"):
        # the limit p -> +-inf: the largest (smallest) magnitude per window, as PyTorch
        maxpool = {1: max_pool1d, 2: max_pool2d, 3: max_pool3d}[nd]
        if norm_type > 0:
            return maxpool(input.abs(), k, stride, 0, 1, ceil_mode)
        return -maxpool(-input.abs(), k, stride, 0, 1, ceil_mode)
    kprod = 1
    for v in k:
        kprod *= v
    pool = {1: avg_pool1d, 2: avg_pool2d, 3: avg_pool3d}[nd]
    if stride is not None:
        out = pool(input.pow(norm_type), k, stride, 0, ceil_mode)
    else:
        out = pool(input.pow(norm_type), k, padding=0, ceil_mode=ceil_mode)
    return (out.sign() * out.abs().relu()).mul(kprod).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: ``(sum x^p)^(1/p)`` over each window (``norm_type`` inf:
    the largest magnitude)."""
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-D power-average pooling."""
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3-D power-average pooling."""
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


def _fractional_intervals(xp, sample, n_in: int, n_out: int, pool: int):
    """PyTorch's pseudo-random window starts (N, C, n_out), computed in the samples' dtype
    (as PyTorch does, so the windows are the same)."""
    dt = sample.dtype
    seq = xp.empty(sample.shape + (n_out,), dtype=np.int64)
    if n_out > 1:
        alpha = dt.type(n_in - pool) / dt.type(n_out - 1)
        i = xp.arange(n_out - 1).astype(dt)
        a = ((i + sample[..., None]) * alpha).astype(np.int64)
        b = (sample * alpha).astype(np.int64)[..., None]
        seq[..., :-1] = a - b
    if n_out > 0:
        seq[..., -1] = n_in - pool
    return seq


def _fractional_max_pool(nd, input, kernel_size, output_size, output_ratio, _random_samples,
                         name):
    from ..._creation import rand

    k = _spatial(nd)(kernel_size)
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an "
                         "output_ratio")
    if output_size is None:
        ratio = _spatial(nd)(output_ratio)
        if len(ratio) != nd:
            raise ValueError(f"{name} requires output_ratio to either be a single Int or tuple "
                             "of Ints.")
        output_size = [int(input.shape[-nd + i] * ratio[i]) for i in range(nd)]
    out_sp = tuple(int(o) for o in _spatial(nd)(output_size))
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}: expected {nd + 1}D or {nd + 2}D input, but got "
                           f"{input.ndim}D")
    x = input.unsqueeze(0) if input.ndim == nd + 1 else input
    n, c = x.shape[:2]
    in_sp = tuple(x.shape[2:])
    # PyTorch's 3-D check is strict: a window must leave at least one step of slack
    slack = 1 if nd == 3 else 0
    for d in range(nd):
        if out_sp[d] + k[d] - 1 + slack > in_sp[d]:
            raise RuntimeError(f"{name}(): pool size {k[d]} too large relative to input size "
                               f"{in_sp[d]} and output size {out_sp[d]} at dim {d}")
    if _random_samples is None:
        _random_samples = rand(n, c, nd, dtype=input.dtype, device=input.device)
    samples = _random_samples._data
    if tuple(samples.shape) != (n, c, nd):
        raise RuntimeError(f"{name}(): expected _random_samples of shape {[n, c, nd]}, got "
                           f"{list(samples.shape)}")
    xp = _xp(x)
    # 2-D: sample 0 drives the width, 1 the height; 3-D: 0, 1, 2 drive T, H, W
    order = [1, 0] if nd == 2 else list(range(nd))
    flat = None
    for d in range(nd):
        seq = _fractional_intervals(xp, samples[..., order[d]], in_sp[d], out_sp[d], k[d])
        idx = seq[..., :, None] + xp.arange(k[d])  # (N, C, o_d, k_d)
        shape = [n, c] + [1] * (2 * nd)
        shape[2 + 2 * d], shape[3 + 2 * d] = out_sp[d], k[d]
        idx = idx.reshape(shape)
        flat = idx if flat is None else flat * in_sp[d] + idx
    full = tuple([n, c] + [v for pair in zip(out_sp, k) for v in pair])
    flat = xp.broadcast_to(flat, full)
    perm = [0, 1] + [2 + 2 * i for i in range(nd)] + [3 + 2 * i for i in range(nd)]
    cand = xp.ascontiguousarray(flat.transpose(perm)).reshape((n, c) + out_sp +
                                                              (math.prod(k),))
    xf = x._data.reshape(n, c, -1)
    vals = xp.take_along_axis(xf, cand.reshape(n, c, -1), axis=2).reshape(cand.shape)
    pick = vals.argmax(axis=-1)[..., None]
    best = xp.take_along_axis(cand, pick, axis=-1)[..., 0].astype(np.int64)
    idx = Tensor._make(xp.ascontiguousarray(best))
    out = x.flatten(2).gather(2, idx.flatten(2)).reshape(idx.shape)
    if input.ndim == nd + 1:
        out, idx = out.squeeze(0), idx.squeeze(0)
    return out, idx


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None,
                                       output_ratio=None, return_indices=False,
                                       _random_samples=None):
    """2-D fractional max pooling (Graham), returning (values, indices)."""
    return _fractional_max_pool(2, input, kernel_size, output_size, output_ratio,
                                _random_samples, "fractional_max_pool2d")


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """2-D fractional max pooling: windows of ``kernel_size`` at pseudo-random steps chosen
    so that the output has ``output_size`` (or ``output_ratio`` times the input size);
    ``_random_samples`` (N, C, 2) in [0, 1) fixes the steps."""
    out, idx = fractional_max_pool2d_with_indices(input, kernel_size, output_size,
                                                  output_ratio, True, _random_samples)
    return (out, idx) if return_indices else out


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None,
                                       output_ratio=None, return_indices=False,
                                       _random_samples=None):
    """3-D fractional max pooling, returning (values, indices)."""
    return _fractional_max_pool(3, input, kernel_size, output_size, output_ratio,
                                _random_samples, "fractional_max_pool3d")


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """3-D fractional max pooling (see ``fractional_max_pool2d``); ``_random_samples`` is
    (N, C, 3)."""
    out, idx = fractional_max_pool3d_with_indices(input, kernel_size, output_size,
                                                  output_ratio, True, _random_samples)
    return (out, idx) if return_indices else out
