"""Blending kernels of the v2 colour functionals (brightness, contrast, saturation,
sharpness), with torchvision v2's float32 rounding: ``ratio * image + (1 - ratio) *
other`` is evaluated as a product then a fused multiply-add (one rounding), and the
sharpness blend as the fused ``image + (1 - ratio) * (smoothed - image)``. On uint8
images the results are truncated, so these roundings decide some output levels."""

from __future__ import annotations

import numpy as np
from ember import Tensor

from ....ops._utils import xp_of
from ... import _functional_tensor as F_t
from . import _box_arrays as B

__all__ = ["adjust_brightness_image", "adjust_contrast_image", "adjust_saturation_image",
           "adjust_sharpness_image"]


def _bound(a) -> float:
    return 1.0 if a.dtype.kind == "f" else float(np.iinfo(a.dtype).max)


def _finish(xp, out, a) -> Tensor:
    return B._tensor(xp.clip(out, 0, _bound(a)).astype(a.dtype))


def _blend_fma(xp, a, other, ratio: float) -> Tensor:
    """``ratio * a + (1 - ratio) * other``: the first product rounded to the working
    float type, the second product and the sum rounded once (as a fused multiply-add)."""
    work = B._work_dtype(a)
    scaled = a.astype(work) * work.type(ratio)
    if work == np.float64:  # no wider type: plain float64 arithmetic
        return _finish(xp, scaled + work.type(1.0 - ratio) * other, a)
    # float32: float64 holds the exact product, so one rounding at the end emulates FMA
    out = scaled.astype(np.float64) + np.float64(work.type(1.0 - ratio)) * other.astype(
        np.float64)
    return _finish(xp, out.astype(work), a)


def _check(image: Tensor, channels: tuple[int, ...]) -> None:
    if image.ndim < 3 or image.shape[-3] not in channels:
        c = image.shape[-3] if image.ndim >= 3 else 1
        raise TypeError(f"Input image tensor permitted channel values are {list(channels)}, "
                        f"but found {c}")


def adjust_brightness_image(image: Tensor, brightness_factor: float) -> Tensor:
    """Brightness of a tensor image: ``factor * image``, clamped to the value range."""
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    a = B._array(image)
    xp = xp_of(a)
    return _blend_fma(xp, a, xp.zeros_like(a), brightness_factor)


def adjust_contrast_image(image: Tensor, contrast_factor: float) -> Tensor:
    """Contrast of a tensor image (..., 1 or 3, H, W): blend with the mean gray level."""
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    _check(image, (1, 3))
    a = B._array(image)
    xp = xp_of(a)
    gray = F_t._gray(xp, a) if a.shape[-3] == 3 else a
    mean = gray.astype(B._work_dtype(a)).mean(axis=(-3, -2, -1), keepdims=True)
    return _blend_fma(xp, a, mean, contrast_factor)


def adjust_saturation_image(image: Tensor, saturation_factor: float) -> Tensor:
    """Saturation of a tensor image (..., 1 or 3, H, W): blend with its grayscale."""
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    _check(image, (1, 3))
    if image.shape[-3] == 1:
        return image
    a = B._array(image)
    xp = xp_of(a)
    return _blend_fma(xp, a, F_t._gray(xp, a), saturation_factor)


def adjust_sharpness_image(image: Tensor, sharpness_factor: float) -> Tensor:
    """Sharpness of a tensor image: blend with a 3x3 smoothed copy (borders kept)."""
    if sharpness_factor < 0:
        raise ValueError(f"sharpness_factor ({sharpness_factor}) is not non-negative.")
    _check(image, (1, 3))
    if image.shape[-1] <= 2 or image.shape[-2] <= 2:
        return image
    a = B._array(image)
    xp = xp_of(a)
    work = B._work_dtype(a)
    x = a.astype(work)
    diff = F_t._blurred_degenerate_image(xp, a).astype(work) - x
    weight = work.type(1.0 - sharpness_factor)
    if work == np.float64:
        return _finish(xp, x + weight * diff, a)
    # image + (1 - factor) * (smoothed - image), as one fused multiply-add
    out = np.float64(weight) * diff.astype(np.float64) + x.astype(np.float64)
    return _finish(xp, out.astype(work), a)
