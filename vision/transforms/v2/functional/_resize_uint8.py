"""Resizing of uint8 tensor images the way torchvision's v2 ``resize`` does it: two
separable passes (width, then height), each with integer weights and rounding back to
uint8 in between, like Pillow's resampler. (Float images, and v1's tensor resize, filter
in floating point instead; on uint8 the two differ by one level in many pixels.)"""

from __future__ import annotations

import numpy as np
from ember import Tensor

from ....ops._utils import xp_of
from ... import _functional_tensor as F_t
from . import _box_arrays as B

__all__ = []


def _fixed_point(weights: np.ndarray) -> tuple[np.ndarray, int]:
    """Weights scaled to integers with the most fraction bits that keep the largest one
    within int16, rounded half away from zero."""
    largest = float(np.abs(weights).max())
    bits = 0
    while bits < 22 and largest * (1 << (bits + 1)) < (1 << 15):
        bits += 1
    scaled = weights * (1 << bits)
    ints = np.where(scaled >= 0, np.floor(scaled + 0.5), np.ceil(scaled - 0.5))
    return ints.astype(np.int64), bits


def _pass(xp, a, weights: np.ndarray, axis: int):
    """One filtering pass along ``axis`` (-1: width, -2: height) of uint8 ``a``."""
    ints, bits = _fixed_point(weights)
    # the integer sums stay far below 2**53, so a float64 (BLAS) product is exact
    w = xp.asarray(ints.astype(np.float64))  # (out, in)
    x = a.astype(np.float64)
    if axis == -1:
        acc = x @ w.T  # (..., H, out_w)
    else:
        acc = w @ x  # (..., out_h, W)
    acc = acc.astype(np.int64)
    out = (acc + (1 << (bits - 1))) >> bits if bits else acc
    return xp.clip(out, 0, 255).astype(np.uint8)


def resize_uint8(image: Tensor, size: list[int], interpolation: str, antialias: bool) -> Tensor:
    """Bilinear or bicubic resize of a uint8 image (..., H, W) to ``size`` (h, w)."""
    a = B._array(image)
    xp = xp_of(a)
    in_h, in_w = a.shape[-2:]
    out_h, out_w = int(size[0]), int(size[1])
    weights = F_t._aa_weights if antialias else F_t._interp_weights
    if out_w != in_w:
        a = _pass(xp, a, weights(in_w, out_w, interpolation), -1)
    if out_h != in_h:
        a = _pass(xp, a, weights(in_h, out_h, interpolation), -2)
    return B._tensor(a)
