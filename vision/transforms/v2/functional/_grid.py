"""Sampling grids and bilinear sampling of the affine, rotation and perspective image
kernels. The grids are computed in float32 in the order torchvision's batched matrix
product uses (``(x * a + y * b) + c``, no fused multiply-add), and bilinear taps are
accumulated as torch's sampler does: a coordinate or a sum one rounding away from a
pixel boundary or a half level changes a nearest pixel or a uint8 value, so BLAS's
order is not good enough here."""

from __future__ import annotations

import numpy as np
from ember import Tensor

from ....ops._utils import xp_of
from ... import _functional_tensor as F_t
from ... import functional as F1
from . import _box_arrays as B

__all__ = []


def _affine_grid(xp, matrix: list[float], w: int, h: int, ow: int, oh: int, dtype):
    """(1, oh, ow, 2) normalized sampling grid of the inverse affine ``matrix`` (2x3, in
    pixel coordinates centred on the image) for an (oh, ow) output of an (h, w) input."""
    theta = np.array(matrix, dtype=dtype).reshape(2, 3)
    r = (theta.T / np.array([0.5 * w, 0.5 * h], dtype=dtype)).astype(dtype)  # (3, 2)
    xs = (np.arange(ow, dtype=np.float64) - (ow - 1) * 0.5).astype(dtype)  # pixel centres
    ys = (np.arange(oh, dtype=np.float64) - (oh - 1) * 0.5).astype(dtype)
    x, y = np.meshgrid(xs, ys)  # (oh, ow)
    gx = (x * r[0, 0] + y * r[1, 0]) + r[2, 0]
    gy = (x * r[0, 1] + y * r[1, 1]) + r[2, 1]
    return xp.asarray(np.stack([gx, gy], axis=-1)[None].astype(dtype))


def _check(image: Tensor, interpolation: str, fill) -> None:
    F_t._check_grid_args(image, interpolation, fill)


def affine(image: Tensor, angle: float, translate: list[float], scale: float,
           shear: list[float], interpolation: str, fill, center) -> Tensor:
    """Affine transform of a tensor image (..., C, H, W) keeping its size."""
    _check(image, interpolation, fill)
    h, w = image.shape[-2:]
    center_f = [0.0, 0.0]
    if center is not None:  # pixel coordinates -> coordinates centred on the image
        center_f = [float(c) - s * 0.5 for c, s in zip(center, (w, h))]
    matrix = F1._get_inverse_affine_matrix(center_f, angle, [float(t) for t in translate],
                                           scale, shear)
    return _sample(image, matrix, w, h, w, h, interpolation, fill)


def rotate(image: Tensor, angle: float, interpolation: str, expand: bool, center,
           fill) -> Tensor:
    """Rotation of a tensor image by ``angle`` degrees counter-clockwise."""
    _check(image, interpolation, fill)
    h, w = image.shape[-2:]
    center_f = [0.0, 0.0]
    if center is not None:
        center_f = [float(c) - s * 0.5 for c, s in zip(center, (w, h))]
    matrix = F1._get_inverse_affine_matrix(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    ow, oh = F_t._compute_affine_output_size(matrix, w, h) if expand else (w, h)
    return _sample(image, matrix, w, h, ow, oh, interpolation, fill)


def _bilinear(xp, x, gx, gy):
    """Bilinear taps of (B, C, H, W) ``x`` at pixel coordinates (B, oh, ow), zero outside.
    The four weighted taps are accumulated as a chain of fused multiply-adds (float32 ones
    emulated through float64, which holds each product exactly), as torch's sampler does:
    at exact half-levels this decides the rounding of uint8 outputs."""
    b, c, h, w = x.shape
    x0, y0 = xp.floor(gx), xp.floor(gy)
    fx, fy = gx - x0, gy - y0
    one = x.dtype.type(1)
    corners = [((one - fy) * (one - fx), x0, y0), ((one - fy) * fx, x0 + 1, y0),
               (fy * (one - fx), x0, y0 + 1), (fy * fx, x0 + 1, y0 + 1)]
    flat = xp.moveaxis(x, 1, -1)  # (B, H, W, C)
    bi = xp.arange(b)[:, None, None]
    wide = np.float64 if x.dtype == np.float32 else x.dtype
    out = None
    for weight, xs, ys in corners:
        xi, yi = xs.astype(np.int64), ys.astype(np.int64)
        inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        tap = flat[bi, xp.clip(yi, 0, h - 1), xp.clip(xi, 0, w - 1)]
        tap = tap * inside[..., None].astype(x.dtype)
        if out is None:
            out = tap * weight[..., None]
        else:
            out = (tap.astype(wide) * weight[..., None].astype(wide)
                   + out.astype(wide)).astype(x.dtype)
    return xp.ascontiguousarray(xp.moveaxis(out, -1, 1))


def _perspective_grid(xp, coeffs: list[float], ow: int, oh: int, dtype):
    """(1, oh, ow, 2) normalized sampling grid of the output -> input homography
    ``coeffs`` (a, b, c, d, e, f, g, h), evaluated in torchvision's order."""
    a, b, c, d, e, f, g, k = (dtype.type(v) for v in coeffs)
    x, y = np.meshgrid(np.arange(ow, dtype=dtype) + dtype.type(0.5),
                       np.arange(oh, dtype=dtype) + dtype.type(0.5))  # pixel centres
    sx, sy = dtype.type(0.5 * ow), dtype.type(0.5 * oh)
    num_x = (x * (a / sx) + y * (b / sx)) + c / sx
    num_y = (x * (d / sy) + y * (e / sy)) + f / sy
    den = (x * g + y * k) + dtype.type(1)
    grid = np.stack([num_x / den, num_y / den], axis=-1) - dtype.type(1)
    return xp.asarray(grid[None].astype(dtype))


def perspective(image: Tensor, coeffs: list[float], interpolation: str, fill) -> Tensor:
    """Perspective transform of a tensor image (..., C, H, W) keeping its size."""
    _check(image, interpolation, fill)
    h, w = image.shape[-2:]
    a = B._array(image)
    grid = _perspective_grid(xp_of(a), coeffs, w, h, B._work_dtype(a))
    return _sample_grid(image, grid, w, h, interpolation, fill)


def _sample(image: Tensor, matrix, w, h, ow, oh, interpolation: str, fill) -> Tensor:
    """Samples ``image`` on the grid of ``matrix``; outside the input: ``fill`` (or 0)."""
    a = B._array(image)
    grid = _affine_grid(xp_of(a), matrix, w, h, ow, oh, B._work_dtype(a))
    return _sample_grid(image, grid, w, h, interpolation, fill)


def _sample_grid(image: Tensor, grid, w: int, h: int, interpolation: str, fill) -> Tensor:
    """Samples ``image`` at the normalized ``grid``; outside the input: ``fill`` (or 0)."""
    a = B._array(image)
    xp = xp_of(a)
    dtype = B._work_dtype(a)
    if interpolation != "bilinear":
        flat = image.ndim == 2
        src = image.unsqueeze(0) if flat else image
        out = F_t._apply_grid_transform(src, grid, interpolation, fill=fill)
        return out.squeeze(0) if flat else out
    x = a.astype(dtype)
    lead = x.shape[:-3]
    x = x.reshape((-1,) + x.shape[-3:])  # (B, C, H, W)
    if fill is not None:  # a ones channel tells how much of each output is inside
        x = xp.concatenate([x, xp.ones_like(x[:, :1])], axis=1)
    gx = ((grid[..., 0] + 1) * w - 1) / 2  # (1, oh, ow) pixel coordinates
    gy = ((grid[..., 1] + 1) * h - 1) / 2
    out = _bilinear(xp, x, xp.broadcast_to(gx, (x.shape[0],) + gx.shape[1:]),
                    xp.broadcast_to(gy, (x.shape[0],) + gy.shape[1:]))
    if fill is not None:
        mask, out = out[:, -1:], out[:, :-1]
        values = xp.asarray(np.array(fill, dtype=dtype).reshape(1, -1, 1, 1))
        out = out * mask + (dtype.type(1.0) - mask) * values
    out = out.reshape(lead + out.shape[1:])
    if a.dtype.kind != "f":
        out = xp.round(out)
    return B._tensor(out.astype(a.dtype))
