"""Colour functionals (brightness, contrast, saturation, hue, gamma, sharpness, grayscale,
posterize, solarize, autocontrast, equalize, invert, channel permutation) for tensor and
PIL images and videos. Masks, boxes and key points have no colour: the transforms pass
them through.

The kernels are the v1 kernels of ``ember.vision.transforms.functional``.
"""

from __future__ import annotations

import ember
import numpy as np
from ember import Tensor

from ....ops._utils import xp_of
from ....tv_tensors import Image, Video
from ... import functional as F1
from . import _box_arrays as B
from ._blend import (
    adjust_brightness_image,
    adjust_contrast_image,
    adjust_saturation_image,
    adjust_sharpness_image,
)
from ._misc import _value_bits, to_dtype_image
from ._utils import _dispatch, _register

__all__ = ["rgb_to_grayscale", "rgb_to_grayscale_image", "to_grayscale",
           "grayscale_to_rgb", "grayscale_to_rgb_image", "adjust_brightness",
           "adjust_brightness_image", "adjust_brightness_video", "adjust_saturation",
           "adjust_saturation_image", "adjust_saturation_video", "adjust_contrast",
           "adjust_contrast_image", "adjust_contrast_video", "adjust_sharpness",
           "adjust_sharpness_image", "adjust_sharpness_video", "adjust_hue",
           "adjust_hue_image", "adjust_hue_video", "adjust_gamma", "adjust_gamma_image",
           "adjust_gamma_video", "posterize", "posterize_image", "posterize_video",
           "solarize", "solarize_image", "solarize_video", "autocontrast",
           "autocontrast_image", "autocontrast_video", "equalize", "equalize_image",
           "equalize_video", "invert", "invert_image", "invert_video", "permute_channels",
           "permute_channels_image", "permute_channels_video"]

_IMAGE_TYPES = (Tensor, Image, Video, "PIL")


def rgb_to_grayscale(inpt: Tensor, num_output_channels: int = 1) -> Tensor:
    """Convert an RGB image to grayscale with ``num_output_channels`` (1 or 3) channels
    (ITU-R 601-2 luma: 0.2989 R + 0.587 G + 0.114 B)."""
    return _dispatch(rgb_to_grayscale, inpt, num_output_channels=num_output_channels)


@_register(rgb_to_grayscale, *_IMAGE_TYPES)
def rgb_to_grayscale_image(image: Tensor, num_output_channels: int = 1) -> Tensor:
    """Grayscale of a tensor image (..., 1 or 3, H, W) or PIL image."""
    if num_output_channels not in (1, 3):
        raise ValueError(f"num_output_channels must be 1 or 3, got {num_output_channels}.")
    return F1.rgb_to_grayscale(image, num_output_channels)


to_grayscale = rgb_to_grayscale


def grayscale_to_rgb(inpt: Tensor) -> Tensor:
    """Repeat a one-channel image to three channels (RGB images pass unchanged)."""
    return _dispatch(grayscale_to_rgb, inpt)


@_register(grayscale_to_rgb, Tensor, Image, Video)
def grayscale_to_rgb_image(image: Tensor) -> Tensor:
    """Three-channel version of a grayscale tensor image."""
    if image.shape[-3] >= 3:
        return image
    return image.expand(*image.shape[:-3], 3, *image.shape[-2:]).clone()


@_register(grayscale_to_rgb, "PIL")
def _grayscale_to_rgb_pil(image):
    return image.convert("RGB")


def _make(v1_name: str, doc: str):
    """A functional over the v1 kernel ``v1_name`` and its image kernel."""
    v1 = getattr(F1, v1_name)

    def kernel(image, *args, **kwargs):
        return v1(image, *args, **kwargs)

    kernel.__name__ = f"{v1_name}_image"
    kernel.__qualname__ = kernel.__name__
    kernel.__doc__ = f"{doc} (tensor image kernel)."
    return kernel


def adjust_brightness(inpt: Tensor, brightness_factor: float) -> Tensor:
    """Scale the brightness by ``brightness_factor`` (0: black, 1: unchanged)."""
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    return _dispatch(adjust_brightness, inpt, brightness_factor)


def adjust_saturation(inpt: Tensor, saturation_factor: float) -> Tensor:
    """Blend with the grayscale image by ``saturation_factor`` (0: gray, 1: unchanged)."""
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    return _dispatch(adjust_saturation, inpt, saturation_factor)


def adjust_contrast(inpt: Tensor, contrast_factor: float) -> Tensor:
    """Blend with the mean gray level by ``contrast_factor`` (0: flat gray, 1: unchanged)."""
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    return _dispatch(adjust_contrast, inpt, contrast_factor)


def adjust_sharpness(inpt: Tensor, sharpness_factor: float) -> Tensor:
    """Blend with a smoothed image by ``sharpness_factor`` (0: blurred, 1: unchanged, 2:
    sharper)."""
    if sharpness_factor < 0:
        raise ValueError(f"sharpness_factor ({sharpness_factor}) is not non-negative.")
    return _dispatch(adjust_sharpness, inpt, sharpness_factor)


def adjust_hue(inpt: Tensor, hue_factor: float) -> Tensor:
    """Shift the hue by ``hue_factor`` turns, in [-0.5, 0.5]."""
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    return _dispatch(adjust_hue, inpt, hue_factor)


def adjust_gamma(inpt: Tensor, gamma: float, gain: float = 1) -> Tensor:
    """Gamma correction: ``gain * I ** gamma`` on the [0, 1] intensity scale."""
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    return _dispatch(adjust_gamma, inpt, gamma, gain)


def posterize(inpt: Tensor, bits: int) -> Tensor:
    """Keep the ``bits`` most significant bits of each (uint8) channel value."""
    return _dispatch(posterize, inpt, bits)


def solarize(inpt: Tensor, threshold: float) -> Tensor:
    """Invert the values at or above ``threshold``."""
    return _dispatch(solarize, inpt, threshold)


def autocontrast(inpt: Tensor) -> Tensor:
    """Stretch each channel to the full value range."""
    return _dispatch(autocontrast, inpt)


def equalize(inpt: Tensor) -> Tensor:
    """Equalize the histogram of each (uint8) channel."""
    return _dispatch(equalize, inpt)


def invert(inpt: Tensor) -> Tensor:
    """Invert the values: ``max - value``."""
    return _dispatch(invert, inpt)


adjust_hue_image = _make("adjust_hue", "Hue")
adjust_gamma_image = _make("adjust_gamma", "Gamma")


def posterize_image(image: Tensor, bits: int) -> Tensor:
    """Posterize a tensor image: integer images keep the ``bits`` highest of their value
    bits; float images are quantized to ``2 ** bits`` levels, ``floor(x * 2**bits) /
    2**bits``."""
    if not 0 <= bits <= 8:
        raise ValueError(f"bits must be a positive integer in the range [0, 8], got {bits} "
                         f"instead.")
    a = B._array(image)
    xp = xp_of(a)
    if a.dtype.kind == "f":
        levels = 1 << bits
        out = xp.clip(xp.floor(a * a.dtype.type(levels)), 0, levels - 1)
        return B._tensor((out * a.dtype.type(1.0 / levels)).astype(a.dtype))
    value_bits = _value_bits(a.dtype, image.dtype)
    if bits >= value_bits:
        return image
    # clear the low bits: ``x - x % 2**k`` keeps the sign bit of signed types untouched
    step = a.dtype.type(1 << (value_bits - bits))
    return B._tensor(a - a % step)


def solarize_image(image: Tensor, threshold: float) -> Tensor:
    """Solarize a tensor image: values at or above ``threshold`` are inverted."""
    bound = 1.0 if image.is_floating_point() else float(np.iinfo(B._array(image).dtype).max)
    if threshold > bound:
        raise TypeError(f"Threshold should be less or equal the maximum value of the dtype, "
                        f"but got {threshold}")
    return F1.solarize(image, threshold)


def equalize_image(image: Tensor) -> Tensor:
    """Equalize the histogram of each channel of a tensor image; non-uint8 images are
    equalized on their uint8 version and converted back (as torchvision does)."""
    if image.dtype == ember.uint8:
        return F1.equalize(image)
    as_u8 = to_dtype_image(image, ember.uint8, scale=True)
    return to_dtype_image(F1.equalize(as_u8), image.dtype, scale=True)


def autocontrast_image(image: Tensor) -> Tensor:
    """Autocontrast of a tensor image (..., 1 or 3, H, W): each channel is mapped
    linearly from [min, max] to the full range (channels with min == max unchanged).
    Values are divided by ``(max - min) / bound`` in float32, as torchvision's v2 kernel
    does (v1 multiplies by the reciprocal, which rounds differently)."""
    if image.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found "
                        f"{image.ndim}")
    if image.shape[-3] not in (1, 3):
        raise TypeError(f"Input image tensor permitted channel values are [1, 3], but found "
                        f"{image.shape[-3]}")
    a = B._array(image)
    xp = xp_of(a)
    work = B._work_dtype(a)
    bound = work.type(1.0 if a.dtype.kind == "f" else np.iinfo(a.dtype).max)
    x = a.astype(work)
    minimum = x.min(axis=(-2, -1), keepdims=True)
    maximum = x.max(axis=(-2, -1), keepdims=True)
    flat = maximum == minimum
    inv_scale = (maximum - minimum) * (work.type(1.0) / bound)
    minimum = xp.where(flat, work.type(0), minimum)
    inv_scale = xp.where(flat, work.type(1), inv_scale)
    return B._tensor(xp.clip((x - minimum) / inv_scale, 0, bound).astype(a.dtype))

invert_image = _make("invert", "Invert")

for _functional, _kernel in [(adjust_hue, adjust_hue_image), (adjust_gamma, adjust_gamma_image),
                             (invert, invert_image)]:
    _register(_functional, *_IMAGE_TYPES)(_kernel)
# v2's own tensor kernels (torchvision v2 rounds differently from v1), v1's for PIL
for _functional, _kernel in [(adjust_brightness, adjust_brightness_image),
                             (adjust_saturation, adjust_saturation_image),
                             (adjust_contrast, adjust_contrast_image),
                             (adjust_sharpness, adjust_sharpness_image),
                             (autocontrast, autocontrast_image), (posterize, posterize_image),
                             (solarize, solarize_image), (equalize, equalize_image)]:
    _register(_functional, Tensor, Image, Video)(_kernel)
    _register(_functional, "PIL")(getattr(F1, _functional.__name__))
del _functional, _kernel

adjust_brightness_video = adjust_brightness_image
adjust_saturation_video = adjust_saturation_image
adjust_contrast_video = adjust_contrast_image
adjust_sharpness_video = adjust_sharpness_image
adjust_hue_video = adjust_hue_image
adjust_gamma_video = adjust_gamma_image
posterize_video = posterize_image
solarize_video = solarize_image
autocontrast_video = autocontrast_image
equalize_video = equalize_image
invert_video = invert_image


def permute_channels(inpt: Tensor, permutation: list[int]) -> Tensor:
    """Reorder the channels: output channel i is input channel ``permutation[i]``."""
    return _dispatch(permute_channels, inpt, permutation=permutation)


@_register(permute_channels, Tensor, Image, Video)
def permute_channels_image(image: Tensor, permutation: list[int]) -> Tensor:
    """Channel permutation of a tensor image (..., C, H, W)."""
    return image[..., list(permutation), :, :].contiguous()


permute_channels_video = permute_channels_image


@_register(permute_channels, "PIL")
def _permute_channels_pil(image, permutation):
    from ... import functional as F_v1

    out = permute_channels_image(F_v1.pil_to_tensor(image), permutation)
    return F_v1.to_pil_image(out, mode=image.mode)
