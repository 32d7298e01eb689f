"""PIL kernels of ``ember.vision.transforms.functional`` (torchvision's
``_functional_pil``): thin calls into Pillow's own operations, so results are Pillow's."""

from __future__ import annotations

import numbers

import numpy as np

from .._pil import is_pil_image, pil_image

__all__ = []


def _check(img) -> None:
    if not is_pil_image(img):
        raise TypeError(f"img should be PIL Image. Got {type(img)}")


def _modules():
    Image = pil_image()
    from PIL import ImageEnhance, ImageOps

    return Image, ImageEnhance, ImageOps


def get_dimensions(img) -> list[int]:
    if is_pil_image(img):
        channels = len(img.getbands())
        width, height = img.size
        return [channels, height, width]
    raise TypeError(f"Unexpected type {type(img)}")


def get_image_size(img) -> list[int]:
    if is_pil_image(img):
        return list(img.size)
    raise TypeError(f"Unexpected type {type(img)}")


def get_image_num_channels(img) -> int:
    if is_pil_image(img):
        return len(img.getbands())
    raise TypeError(f"Unexpected type {type(img)}")


def hflip(img):
    _check(img)
    return img.transpose(_modules()[0].Transpose.FLIP_LEFT_RIGHT)


def vflip(img):
    _check(img)
    return img.transpose(_modules()[0].Transpose.FLIP_TOP_BOTTOM)


def adjust_brightness(img, brightness_factor: float):
    _check(img)
    return _modules()[1].Brightness(img).enhance(brightness_factor)


def adjust_contrast(img, contrast_factor: float):
    _check(img)
    return _modules()[1].Contrast(img).enhance(contrast_factor)


def adjust_saturation(img, saturation_factor: float):
    _check(img)
    return _modules()[1].Color(img).enhance(saturation_factor)


def adjust_hue(img, hue_factor: float):
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    _check(img)
    Image = _modules()[0]
    input_mode = img.mode
    if input_mode in {"L", "1", "I", "F"}:
        return img
    h, s, v = img.convert("HSV").split()
    np_h = np.array(h, dtype=np.uint8)
    # uint8 addition take cares of rotation across boundaries
    np_h += np.int32(hue_factor * 255).astype(np.uint8)
    h = Image.fromarray(np_h, "L") if not hasattr(Image, "_fromarray_mode") else \
        Image.fromarray(np_h)
    return Image.merge("HSV", (h, s, v)).convert(input_mode)


def adjust_gamma(img, gamma: float, gain: float = 1.0):
    _check(img)
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    input_mode = img.mode
    img = img.convert("RGB")
    gamma_map = [int((255 + 1 - 1e-3) * gain * pow(ele / 255.0, gamma))
                 for ele in range(256)] * 3
    img = img.point(gamma_map)  # use PIL's point-function to accelerate this part
    return img.convert(input_mode)


def _parse_fill(fill, img, name: str = "fillcolor") -> dict:
    num_channels = get_image_num_channels(img)
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and num_channels > 1:
        fill = tuple([fill] * num_channels)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = fill * num_channels
        elif len(fill) != num_channels:
            raise ValueError("The number of elements in 'fill' does not match the number of "
                             f"channels of the image ({len(fill)} != {num_channels})")
        fill = tuple(fill)
    if img.mode != "F":
        if isinstance(fill, (list, tuple)):
            fill = tuple(int(x) for x in fill)
        else:
            fill = int(fill)
    return {name: fill}


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    _check(img)
    Image, _, ImageOps = _modules()
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if fill is not None and not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if isinstance(padding, list):
        padding = tuple(padding)
    if isinstance(padding, tuple) and len(padding) not in [1, 2, 4]:
        raise ValueError("Padding must be an int or a 1, 2, or 4 element tuple, not a "
                         f"{len(padding)} element tuple")
    if isinstance(padding, tuple) and len(padding) == 1:
        padding = padding[0]
    if padding_mode not in ["constant", "edge", "reflect", "symmetric"]:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    if padding_mode == "constant":
        opts = _parse_fill(fill, img, name="fill")
        if img.mode == "P":
            palette = img.getpalette()
            image = ImageOps.expand(img, border=padding, **opts)
            image.putpalette(palette)
            return image
        return ImageOps.expand(img, border=padding, **opts)
    if isinstance(padding, int):
        pad_left = pad_right = pad_top = pad_bottom = padding
    elif len(padding) == 2:
        pad_left = pad_right = padding[0]
        pad_top = pad_bottom = padding[1]
    else:
        pad_left, pad_top, pad_right, pad_bottom = padding
    p = [pad_left, pad_top, pad_right, pad_bottom]
    cropping = -np.minimum(p, 0)
    if cropping.any():
        crop_left, crop_top, crop_right, crop_bottom = cropping
        img = img.crop((crop_left, crop_top, img.width - crop_right, img.height - crop_bottom))
    pad_left, pad_top, pad_right, pad_bottom = np.maximum(p, 0)
    palette = img.getpalette() if img.mode == "P" else None
    arr = np.asarray(img)
    widths = ((pad_top, pad_bottom), (pad_left, pad_right)) + (((0, 0),) if arr.ndim == 3
                                                               else ())
    out = Image.fromarray(np.pad(arr, widths, mode=padding_mode))
    if palette is not None:
        out.putpalette(palette)
    return out


def crop(img, top: int, left: int, height: int, width: int):
    _check(img)
    return img.crop((left, top, left + width, top + height))


def resize(img, size: list[int], interpolation: int):
    _check(img)
    if not (isinstance(size, list) and len(size) == 2):
        raise TypeError(f"Got inappropriate size arg: {size}")
    return img.resize(tuple(size[::-1]), interpolation)


def affine(img, matrix: list[float], interpolation: int, fill=None):
    _check(img)
    Image = _modules()[0]
    opts = _parse_fill(fill, img)
    return img.transform(img.size, Image.Transform.AFFINE, matrix, interpolation, **opts)


def rotate(img, angle: float, interpolation: int, expand: bool = False, center=None,
           fill=None):
    _check(img)
    opts = _parse_fill(fill, img)
    return img.rotate(angle, interpolation, expand, center, **opts)


def perspective(img, perspective_coeffs: list[float], interpolation: int, fill=None):
    _check(img)
    Image = _modules()[0]
    opts = _parse_fill(fill, img)
    return img.transform(img.size, Image.Transform.PERSPECTIVE, perspective_coeffs,
                         interpolation, **opts)


def to_grayscale(img, num_output_channels: int):
    _check(img)
    Image = _modules()[0]
    if num_output_channels == 1:
        return img.convert("L")
    if num_output_channels == 3:
        np_img = np.array(img.convert("L"), dtype=np.uint8)
        return Image.fromarray(np.dstack([np_img, np_img, np_img]))
    raise ValueError("num_output_channels should be either 1 or 3")


def invert(img):
    _check(img)
    return _modules()[2].invert(img)


def posterize(img, bits: int):
    _check(img)
    return _modules()[2].posterize(img, bits)


def solarize(img, threshold: int):
    _check(img)
    return _modules()[2].solarize(img, threshold)


def adjust_sharpness(img, sharpness_factor: float):
    _check(img)
    return _modules()[1].Sharpness(img).enhance(sharpness_factor)


def autocontrast(img):
    _check(img)
    return _modules()[2].autocontrast(img)


def equalize(img):
    _check(img)
    return _modules()[2].equalize(img)


def gaussian_blur(img, kernel_size: list[int], sigma: list[float]):
    """Not in torchvision's PIL kernels: torchvision converts to a tensor and back; done by
    the dispatcher in ``functional``."""
    raise NotImplementedError
