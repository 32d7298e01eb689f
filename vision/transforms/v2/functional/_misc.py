"""Pixel-value functionals: ``normalize``, ``gaussian_blur``, ``gaussian_noise``,
``to_dtype`` / ``convert_image_dtype``, ``erase`` and ``uniform_temporal_subsample``."""

from __future__ import annotations

import ember
import numpy as np
from ember import Tensor

from ....ops._utils import xp_of
from ....tv_tensors import BoundingBoxes, Image, KeyPoints, Mask, Video
from ... import _functional_tensor as F_t
from ... import functional as F1
from . import _box_arrays as B
from ._utils import _dispatch, _plain, _register

__all__ = ["normalize", "normalize_image", "normalize_video", "gaussian_blur",
           "gaussian_blur_image", "gaussian_blur_video", "gaussian_noise",
           "gaussian_noise_image", "gaussian_noise_video", "to_dtype", "to_dtype_image",
           "to_dtype_video", "convert_image_dtype", "erase", "erase_image", "erase_video",
           "uniform_temporal_subsample", "uniform_temporal_subsample_video"]


def normalize(inpt: Tensor, mean: list[float], std: list[float],
              inplace: bool = False) -> Tensor:
    """``(x - mean[c]) / std[c]`` per channel of a float image or video."""
    return _dispatch(normalize, inpt, mean=mean, std=std, inplace=inplace)


@_register(normalize, Tensor, Image, Video)
def normalize_image(image: Tensor, mean: list[float], std: list[float],
                    inplace: bool = False) -> Tensor:
    """Normalize a float tensor image (..., C, H, W)."""
    return F_t.normalize(image, mean=list(mean), std=list(std), inplace=inplace)


normalize_video = normalize_image


def gaussian_blur(inpt: Tensor, kernel_size: list[int],
                  sigma: list[float] | None = None) -> Tensor:
    """Blur with a Gaussian kernel of odd ``kernel_size`` (kx, ky) and std ``sigma``
    (default ``0.3 * ((k - 1) * 0.5 - 1) + 0.8``), reflect-padded at the borders."""
    return _dispatch(gaussian_blur, inpt, kernel_size=kernel_size, sigma=sigma)


@_register(gaussian_blur, Tensor, Image, Video, "PIL")
def gaussian_blur_image(image: Tensor, kernel_size: list[int],
                        sigma: list[float] | None = None) -> Tensor:
    """Gaussian blur of a tensor image (see :func:`gaussian_blur`)."""
    if isinstance(kernel_size, (tuple, list)):
        kernel_size = list(kernel_size)
    if isinstance(sigma, (tuple, list)):
        sigma = [float(s) for s in sigma]
    elif sigma is not None:
        sigma = float(sigma)
    return F1.gaussian_blur(image, kernel_size, sigma)


gaussian_blur_video = gaussian_blur_image


def gaussian_noise(inpt: Tensor, mean: float = 0.0, sigma: float = 0.1,
                   clip: bool = True) -> Tensor:
    """Add Gaussian noise N(mean, sigma) drawn from ember's generator. Float images are
    on the [0, 1] scale; for uint8 images the noise is scaled by 255 and truncated."""
    return _dispatch(gaussian_noise, inpt, mean=mean, sigma=sigma, clip=clip)


@_register(gaussian_noise, Tensor, Image, Video)
def gaussian_noise_image(image: Tensor, mean: float = 0.0, sigma: float = 0.1,
                         clip: bool = True) -> Tensor:
    """Gaussian noise on a float or uint8 tensor image (see :func:`gaussian_noise`)."""
    if sigma < 0:
        raise ValueError(f"sigma shouldn't be negative. Got {sigma}")
    a = B._array(image)
    xp = xp_of(a)
    if a.dtype.kind == "f":
        noise = B._array(ember.randn(*a.shape, device=image.device)).astype(a.dtype)
        out = a + (noise * a.dtype.type(sigma) + a.dtype.type(mean))
        if clip:
            out = xp.clip(out, 0, 1)
        return B._tensor(out.astype(a.dtype))
    if a.dtype != np.uint8:
        raise ValueError(f"Input tensor is expected to be in uint8 or float dtype, got "
                         f"dtype={image.dtype}")
    noise = B._array(ember.randn(*a.shape, device=image.device))
    noise = ((noise * np.float32(sigma) + np.float32(mean)) * np.float32(255)).astype(np.int64)
    out = a.astype(np.int64) + noise
    if clip:
        out = xp.clip(out, 0, 255)
    return B._tensor(out.astype(np.uint8))


gaussian_noise_video = gaussian_noise_image

_VALUE_BITS = {np.dtype(np.uint8): 8, np.dtype(np.int8): 7, np.dtype(np.int16): 15,
               np.dtype(np.uint16): 16, np.dtype(np.int32): 31, np.dtype(np.int64): 63}


def _value_bits(dtype, ember_dtype) -> int:
    if dtype not in _VALUE_BITS:
        raise TypeError(f"Number of value bits is only defined for integer dtypes, but got "
                        f"{ember_dtype}.")
    return _VALUE_BITS[dtype]


def to_dtype(inpt: Tensor, dtype=ember.float32, scale: bool = False) -> Tensor:
    """Convert to ``dtype``; with ``scale=True`` images and videos have their values
    rescaled to the range of the new dtype ([0, 1] for floats, [0, max] for integers).
    Masks, boxes and key points are only cast."""
    return _dispatch(to_dtype, inpt, dtype=dtype, scale=scale)


@_register(to_dtype, Tensor, Image, Video)
def to_dtype_image(image: Tensor, dtype=ember.float32, scale: bool = False) -> Tensor:
    """Convert a tensor image to ``dtype``, rescaling values with ``scale=True``."""
    if image.dtype == dtype:
        return _plain(image)
    if not scale:
        return _plain(image).to(dtype)
    a = B._array(image)
    xp = xp_of(a)
    dst = np.dtype(dtype.np) if hasattr(dtype, "np") else np.dtype(dtype)
    if a.dtype.kind == "f":
        if dst.kind == "f":
            return B._tensor(a.astype(dst))
        eps = 1e-3
        max_value = float(2 ** _value_bits(dst, dtype) - 1)
        return B._tensor((a * a.dtype.type(max_value + 1.0 - eps)).astype(dst))
    in_bits = _value_bits(a.dtype, image.dtype)
    if dst.kind == "f":
        return B._tensor(a.astype(dst) / dst.type(2 ** in_bits - 1))
    out_bits = _value_bits(dst, dtype)
    if in_bits > out_bits:
        return B._tensor(xp.right_shift(a, in_bits - out_bits).astype(dst))
    return B._tensor(xp.left_shift(a.astype(dst), out_bits - in_bits))


to_dtype_video = to_dtype_image


@_register(to_dtype, Mask)
def _to_dtype_mask(mask: Tensor, dtype=ember.float32, scale: bool = False) -> Tensor:
    return mask.to(dtype)


@_register(to_dtype, BoundingBoxes, KeyPoints, wrap=False)
def _to_dtype_with_metadata(inpt: Tensor, dtype=ember.float32, scale: bool = False):
    return type(inpt)._wrap(_plain(inpt).to(dtype), **inpt._metadata())


def convert_image_dtype(image: Tensor, dtype=ember.float32) -> Tensor:
    """``to_dtype(image, dtype, scale=True)`` (torchvision's v1 name)."""
    return to_dtype(image, dtype=dtype, scale=True)


def erase(inpt: Tensor, i: int, j: int, h: int, w: int, v: Tensor,
          inplace: bool = False) -> Tensor:
    """Overwrite the window (i, j, h, w) with ``v`` (broadcast to the window)."""
    return _dispatch(erase, inpt, i=i, j=j, h=h, w=w, v=v, inplace=inplace)


@_register(erase, Tensor, Image, Video)
def erase_image(image: Tensor, i: int, j: int, h: int, w: int, v: Tensor,
                inplace: bool = False) -> Tensor:
    """Erase a window of a tensor image (see :func:`erase`)."""
    return F_t.erase(image, i, j, h, w, v, inplace=inplace)


erase_video = erase_image


@_register(erase, "PIL")
def _erase_pil(image, i, j, h, w, v, inplace=False):
    out = erase_image(F1.pil_to_tensor(image), i, j, h, w, v)
    return F1.to_pil_image(out, mode=image.mode)


def uniform_temporal_subsample(inpt: Tensor, num_samples: int) -> Tensor:
    """``num_samples`` frames evenly spaced over the T axis (-4) of a video."""
    return _dispatch(uniform_temporal_subsample, inpt, num_samples=num_samples)


@_register(uniform_temporal_subsample, Tensor, Video)
def uniform_temporal_subsample_video(video: Tensor, num_samples: int) -> Tensor:
    """Evenly spaced frames of a video (..., T, C, H, W)."""
    t = video.shape[-4]
    index = np.linspace(0, t - 1, num_samples).astype(np.int64)
    a = B._array(video)
    return B._tensor(a[..., xp_of(a).asarray(index), :, :, :])
