"""Spatial transformer functions of ``ember.nn.functional``: ``affine_grid`` and
``grid_sample`` (4-D input: bilinear, nearest or bicubic sampling; zeros, border or
reflection padding). Composed of ember ops, so input and grid both get gradients."""

from __future__ import annotations

import numpy as np

from ..._tensor import Tensor
from ...ops.op import Op, xp_of

__all__ = ["affine_grid", "grid_sample"]


def _base_coords(n: int, align_corners: bool, dtype) -> np.ndarray:
    """The normalised pixel coordinates along one axis, computed in ``dtype`` as PyTorch
    does (a float64 computation differs by an ulp, which moves points that sit exactly on
    pixel centres and so the grid_sample gradient)."""
    if n <= 1:
        return np.zeros(max(n, 1), dtype.np)
    from ..._creation import linspace

    c = linspace(-1.0, 1.0, n, dtype=dtype, device="cpu")._data  # host coordinates
    if align_corners:
        return c
    return (c * c.dtype.type(n - 1)) / c.dtype.type(n)


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """The sampling grid of the affine maps ``theta`` (N, 2, 3) for an output of ``size``
    (N, C, H, W), or ``theta`` (N, 3, 4) for (N, C, D, H, W)."""
    align = bool(align_corners)
    size = [int(s) for s in size]
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got {tuple(theta.shape)}.")
        n, _, h, w = size
        xs, ys = _base_coords(w, align, theta.dtype), _base_coords(h, align, theta.dtype)
        base = np.stack(np.broadcast_arrays(xs[None, :], ys[:, None], np.ones((h, w), xs.dtype)),
                        -1)
        base = base.reshape(1, h * w, 3)
        out_shape = (n, h, w, 2)
    elif len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got {tuple(theta.shape)}.")
        n, _, d, h, w = size
        zs, ys, xs = (_base_coords(k, align, theta.dtype) for k in (d, h, w))
        base = np.stack(np.broadcast_arrays(xs[None, None, :], ys[None, :, None],
                                            zs[:, None, None], np.ones((d, h, w), xs.dtype)),
                        -1)
        base = base.reshape(1, d * h * w, 4)
        out_shape = (n, d, h, w, 3)
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    if theta.shape[0] != n:
        raise ValueError(f"Expected theta batch size {theta.shape[0]} to match size[0] {n}")
    b = theta.new_tensor(base.astype(theta._data.dtype))
    return b.matmul(theta.transpose(1, 2)).reshape(out_shape)


class _ZeroGradTo(Op):
    """``x`` itself, with ``other`` as a second input whose gradient is zero: nearest
    sampling is piecewise constant in the grid, and PyTorch gives the grid zeros (not None)."""

    _name = "grid_sampler_2d"

    def forward(self, x, other):
        self.other_shape, self.other_dtype = other.shape, other.dtype
        return x

    def backward(self, g):
        zero = xp_of(g._data).zeros(self.other_shape, self.other_dtype)
        return g, Tensor._make(zero)


def _unnormalize(coord: Tensor, n: int, align: bool) -> Tensor:
    if align:
        return (coord + 1) * ((n - 1) / 2)
    return ((coord + 1) * n - 1) / 2


def _reflect(coord: Tensor, n: int, align: bool) -> Tensor:
    """Reflects coordinates into the valid range (piecewise linear: value and slope taken
    from the arrays, so the gradient carries the reflection's sign)."""
    xp = xp_of(coord._data)
    c = coord._data
    if align:
        lo, span = 0.0, 2.0 * (n - 1)
    else:
        lo, span = -0.5, 2.0 * n
    if span <= 0:
        return coord * 0
    half = span / 2
    rel = xp.abs(c - lo)
    flips = xp.floor(rel / half)
    extra = rel - flips * half
    reflected = xp.where(flips % 2 == 0, extra + lo, span / 2 - extra + lo)
    sign = xp.where(c >= lo, 1.0, -1.0) * xp.where(flips % 2 == 0, 1.0, -1.0)
    sign = sign.astype(c.dtype)
    offset = (reflected - c * sign).astype(c.dtype)
    out = coord * Tensor._make(sign) + Tensor._make(offset)
    return out.clamp(0, n - 1)


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """Samples 4-D ``input`` (N, C, H, W) at the normalised locations ``grid``
    (N, H_out, W_out, 2) with x then y in [-1, 1]."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if input.ndim != 4:
        raise NotImplementedError("grid_sample is implemented for 4-D input in ember")
    align = bool(align_corners)
    n, c, h, w = input.shape
    if grid.ndim != 4 or grid.shape[0] != n or grid.shape[-1] != 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size 2 in last dimension and "
                           f"batch {n}, but got grid with sizes {list(grid.shape)}")
    ho, wo = grid.shape[1], grid.shape[2]
    ix = _unnormalize(grid[..., 0], w, align).reshape(n, ho * wo)
    iy = _unnormalize(grid[..., 1], h, align).reshape(n, ho * wo)
    if mode == "bicubic":
        return _bicubic(input, ix, iy, padding_mode, align).reshape(n, c, ho, wo)
    if padding_mode == "border":
        ix, iy = ix.clamp(0, w - 1), iy.clamp(0, h - 1)
    elif padding_mode == "reflection":
        ix, iy = _reflect(ix, w, align), _reflect(iy, h, align)
    xp = xp_of(input._data)
    flat = input.reshape(n, c, h * w)

    def gather(xi, yi):
        valid = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        lin = xp.clip(yi, 0, h - 1) * w + xp.clip(xi, 0, w - 1)
        idx = Tensor._make(xp.broadcast_to(lin[:, None, :], (n, c, lin.shape[1]))
                           .astype(np.int64))
        vals = flat.gather(2, idx)
        return vals, Tensor._make(valid.astype(input._data.dtype))

    if mode == "nearest":
        xi = xp.round(ix._data).astype(np.int64)
        yi = xp.round(iy._data).astype(np.int64)
        vals, valid = gather(xi, yi)
        out = (vals * valid.unsqueeze(1)).reshape(n, c, ho, wo)
        return _ZeroGradTo.apply(out, grid) if grid.requires_grad else out
    x0 = xp.floor(ix._data)
    y0 = xp.floor(iy._data)
    tx1 = Tensor._make((x0 + 1).astype(input._data.dtype))
    ty1 = Tensor._make((y0 + 1).astype(input._data.dtype))
    tx0 = Tensor._make(x0.astype(input._data.dtype))
    ty0 = Tensor._make(y0.astype(input._data.dtype))
    x0i, y0i = x0.astype(np.int64), y0.astype(np.int64)
    corners = [
        (x0i, y0i, (tx1 - ix) * (ty1 - iy)),
        (x0i + 1, y0i, (ix - tx0) * (ty1 - iy)),
        (x0i, y0i + 1, (tx1 - ix) * (iy - ty0)),
        (x0i + 1, y0i + 1, (ix - tx0) * (iy - ty0)),
    ]
    out = None
    for xi, yi, wgt in corners:
        vals, valid = gather(xi, yi)
        term = vals * (wgt * valid).unsqueeze(1)
        out = term if out is None else out + term
    return out.reshape(n, c, ho, wo)


def _tap_coords(xp, coord, n: int, padding_mode: str, align: bool):
    """PyTorch's ``compute_coordinates`` on the integer taps of bicubic sampling: border
    clamps, reflection reflects then clamps, zeros leaves them (out of range reads 0)."""
    c = coord.astype(np.float64)
    if padding_mode == "border":
        c = xp.clip(c, 0, n - 1)
    elif padding_mode == "reflection":
        lo2, hi2 = (0, 2 * (n - 1)) if align else (-1, 2 * n - 1)
        if lo2 == hi2:
            c = xp.zeros_like(c)
        else:
            lo, span = lo2 / 2, (hi2 - lo2) / 2
            a = xp.abs(c - lo)
            extra = xp.fmod(a, span)
            flips = xp.floor(a / span)
            c = xp.where(flips % 2 == 0, extra + lo, span - extra + lo)
        c = xp.clip(c, 0, n - 1)
    return xp.trunc(c).astype(np.int64)


def _cubic_coeffs(t: Tensor):
    """Keys' cubic convolution weights (a = -0.75) of the four taps around ``t`` in [0, 1)."""
    a = -0.75

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)]


def _bicubic(input: Tensor, ix: Tensor, iy: Tensor, padding_mode: str, align: bool) -> Tensor:
    """Bicubic sampling at pixel coordinates ``ix``, ``iy`` (N, P): 16 taps weighted by
    Keys' kernel; gradients reach the input (through the gathers) and the grid (through the
    weights)."""
    xp = xp_of(input._data)
    n, c, h, w = input.shape
    dt = input._data.dtype
    x0 = xp.floor(ix._data)
    y0 = xp.floor(iy._data)
    wx = _cubic_coeffs(ix - Tensor._make(x0.astype(dt)))
    wy = _cubic_coeffs(iy - Tensor._make(y0.astype(dt)))
    flat = input.reshape(n, c, h * w)
    p = ix.shape[1]
    out = None
    for i in range(4):
        yi = _tap_coords(xp, y0 - 1 + i, h, padding_mode, align)
        row = None
        for j in range(4):
            xi = _tap_coords(xp, x0 - 1 + j, w, padding_mode, align)
            valid = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
            lin = xp.clip(yi, 0, h - 1) * w + xp.clip(xi, 0, w - 1)
            idx = Tensor._make(xp.broadcast_to(lin[:, None, :], (n, c, p)))
            vals = flat.gather(2, idx)
            term = vals * (wx[j] * Tensor._make(valid.astype(dt))).unsqueeze(1)
            row = term if row is None else row + term
        term = row * wy[i].unsqueeze(1)
        out = term if out is None else out + term
    return out
