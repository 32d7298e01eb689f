"""Functional transforms, as ``torchvision.transforms.functional``: each function takes a PIL
image or a tensor image (..., C, H, W) and dispatches to the Pillow or the tensor kernel.

Tensor kernels return new tensors outside the autograd graph (``normalize`` excepted, which
is made of ember ops); torchvision's tensor kernels are differentiable, which is rarely
used for data augmentation.
"""

from __future__ import annotations

import math
import numbers
import sys
import warnings
from enum import Enum

import ember
import numpy as np
from ember import Tensor

from .._pil import is_pil_image, pil_image
from . import _functional_pil as F_pil
from . import _functional_tensor as F_t

__all__ = [
    "InterpolationMode", "get_dimensions", "get_image_size", "get_image_num_channels",
    "to_tensor", "pil_to_tensor", "convert_image_dtype", "to_pil_image", "normalize",
    "resize", "pad", "crop", "center_crop", "resized_crop", "hflip", "vflip", "perspective",
    "five_crop", "ten_crop", "adjust_brightness", "adjust_contrast", "adjust_saturation",
    "adjust_hue", "adjust_gamma", "rotate", "affine", "to_grayscale", "rgb_to_grayscale",
    "erase", "gaussian_blur", "invert", "posterize", "solarize", "adjust_sharpness",
    "autocontrast", "equalize",
]


class InterpolationMode(Enum):
    """Interpolation modes. Available interpolation methods are ``nearest``,
    ``nearest-exact``, ``bilinear``, ``bicubic``, ``box``, ``hamming``, and ``lanczos``.
    """

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    # For PIL compatibility
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


def _interpolation_modes_from_int(i: int) -> InterpolationMode:
    inverse_modes_mapping = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR,
                             3: InterpolationMode.BICUBIC, 4: InterpolationMode.BOX,
                             5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}
    return inverse_modes_mapping[i]


_PIL_MODES = {"nearest": 0, "nearest-exact": 0, "bilinear": 2, "bicubic": 3, "box": 4,
              "hamming": 5, "lanczos": 1}


def _pil_interp(mode: InterpolationMode) -> int:
    return _PIL_MODES[mode.value]


def _check_interp(interpolation) -> InterpolationMode:
    if isinstance(interpolation, int):
        return _interpolation_modes_from_int(interpolation)
    if isinstance(interpolation, str):
        return InterpolationMode(interpolation)
    if not isinstance(interpolation, InterpolationMode):
        raise TypeError("Argument interpolation should be a InterpolationMode or a "
                        "corresponding Pillow integer constant")
    return interpolation


def _is_tensor(img) -> bool:
    return isinstance(img, Tensor)


def _check_img(img) -> None:
    if not (_is_tensor(img) or is_pil_image(img)):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")


def get_dimensions(img) -> list[int]:
    """Returns the dimensions of an image as [channels, height, width]."""
    if _is_tensor(img):
        return F_t.get_dimensions(img)
    return F_pil.get_dimensions(img)


def get_image_size(img) -> list[int]:
    """Returns the size of an image as [width, height]."""
    if _is_tensor(img):
        _, h, w = F_t.get_dimensions(img)
        return [w, h]
    return F_pil.get_image_size(img)


def get_image_num_channels(img) -> int:
    """Returns the number of channels of an image."""
    if _is_tensor(img):
        return F_t.get_dimensions(img)[0]
    return F_pil.get_image_num_channels(img)


def _is_numpy_image(img) -> bool:
    return isinstance(img, np.ndarray) and img.ndim in {2, 3}


def to_tensor(pic) -> Tensor:
    """Convert a ``PIL Image`` or ``numpy.ndarray`` to tensor. This function does not
    support torchscript.

    See :class:`~ember.vision.transforms.ToTensor` for more details.

    Args:
        pic (PIL Image or numpy.ndarray): Image to be converted to tensor.

    Returns:
        Tensor: Converted image.
    """
    if not (is_pil_image(pic) or isinstance(pic, np.ndarray)):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if isinstance(pic, np.ndarray) and not _is_numpy_image(pic):
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    default_float = ember.get_default_dtype().np
    if isinstance(pic, np.ndarray):
        if pic.ndim == 2:
            pic = pic[:, :, None]
        arr = np.ascontiguousarray(pic.transpose((2, 0, 1)))
        if arr.dtype == np.uint8:
            return ember.from_numpy(arr.astype(default_float) / default_float.type(255))
        return ember.from_numpy(arr)
    mode_to_nptype = {"I": np.int32, "I;16" if sys.byteorder == "little" else "I;16B": np.int16,
                      "F": np.float32}
    arr = np.array(pic, mode_to_nptype.get(pic.mode, np.uint8), copy=True)
    if pic.mode == "1":
        arr = 255 * arr
    arr = arr.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    arr = np.ascontiguousarray(arr.transpose((2, 0, 1)))
    if arr.dtype == np.uint8:
        return ember.from_numpy(arr.astype(default_float) / default_float.type(255))
    return ember.from_numpy(arr)


def pil_to_tensor(pic) -> Tensor:
    """Convert a ``PIL Image`` to a tensor of the same type (uint8 for most modes).

    Args:
        pic (PIL Image): Image to be converted to tensor.

    Returns:
        Tensor: Converted image, (C, H, W).
    """
    if not is_pil_image(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    arr = np.array(pic, copy=True)
    arr = arr.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    return ember.from_numpy(np.ascontiguousarray(arr.transpose((2, 0, 1))))


def convert_image_dtype(image: Tensor, dtype=ember.float32) -> Tensor:
    """Convert a tensor image to the given ``dtype`` and scale the values accordingly.

    Args:
        image (ember.Tensor): Image to be converted
        dtype (ember.dtype): Desired data type of the output

    Returns:
        Tensor: Converted image

    .. note::
        When converting from a smaller to a larger integer ``dtype`` the maximum values are
        **not** mapped exactly. If converted back and forth, this mismatch has no effect.

    Raises:
        RuntimeError: When trying to cast :class:`ember.float32` to :class:`ember.int32` or
            :class:`ember.int64` as well as for trying to cast :class:`ember.float64` to
            :class:`ember.int64`. These conversions might lead to overflow errors since the
            floating point ``dtype`` cannot store consecutive integers over the whole range
            of the integer ``dtype``.
    """
    if not isinstance(image, Tensor):
        raise TypeError("Input img should be Tensor Image")
    return F_t.convert_image_dtype(image, dtype)


def to_pil_image(pic, mode: str | None = None):
    """Convert a tensor or an ndarray to PIL Image.

    Args:
        pic (Tensor or numpy.ndarray): Image to be converted to PIL Image, (C, H, W) for a
            tensor, (H, W, C) for an array.
        mode (`PIL.Image mode`_): color space and pixel depth of input data (optional).

    Returns:
        PIL Image: Image converted to PIL Image.
    """
    Image = pil_image()
    if isinstance(pic, Tensor):
        arr = pic.detach().cpu().numpy()
        if arr.ndim == 3:
            arr = arr.transpose((1, 2, 0))
        pic = arr
    elif not isinstance(pic, np.ndarray):
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if pic.ndim == 2:
        pic = np.expand_dims(pic, 2)
    if pic.ndim != 3:
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    if pic.shape[-1] > 4:
        raise ValueError(f"pic should not have > 4 channels. Got {pic.shape[-1]} channels.")
    npimg = pic
    if np.issubdtype(npimg.dtype, np.floating) and mode != "F":
        npimg = (npimg * 255).astype(np.uint8)
    if npimg.shape[2] == 1:
        expected_mode = None
        npimg = npimg[:, :, 0]
        if npimg.dtype == np.uint8:
            expected_mode = "L"
        elif npimg.dtype == np.int16:
            expected_mode = "I;16" if sys.byteorder == "little" else "I;16B"
        elif npimg.dtype == np.int32:
            expected_mode = "I"
        elif npimg.dtype == np.float32:
            expected_mode = "F"
        if mode is not None and mode != expected_mode:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {npimg.dtype}. "
                             f"Should be {expected_mode}")
        mode = expected_mode
    elif npimg.shape[2] == 2:
        if mode is not None and mode not in ["LA"]:
            raise ValueError("Only modes ['LA'] are supported for 2D inputs")
        if mode is None and npimg.dtype == np.uint8:
            mode = "LA"
    elif npimg.shape[2] == 4:
        if mode is not None and mode not in ["RGBA", "CMYK", "RGBX"]:
            raise ValueError("Only modes ['RGBA', 'CMYK', 'RGBX'] are supported for 4D inputs")
        if mode is None and npimg.dtype == np.uint8:
            mode = "RGBA"
    else:
        if mode is not None and mode not in ["RGB", "YCbCr", "HSV"]:
            raise ValueError("Only modes ['RGB', 'YCbCr', 'HSV'] are supported for 3D inputs")
        if mode is None and npimg.dtype == np.uint8:
            mode = "RGB"
    if mode is None:
        raise TypeError(f"Input type {npimg.dtype} is not supported")
    if mode in ("L", "LA", "RGB", "RGBA", "F", "I") or mode.startswith("I;16"):
        img = Image.fromarray(np.ascontiguousarray(npimg))
        if img.mode != mode:
            img = img.convert(mode) if mode not in ("I;16", "I;16B") else img
        return img
    return Image.frombuffer(mode, (npimg.shape[1], npimg.shape[0]),
                            np.ascontiguousarray(npimg).tobytes(), "raw", mode, 0, 1)


def normalize(tensor: Tensor, mean: list[float], std: list[float],
              inplace: bool = False) -> Tensor:
    """Normalize a float tensor image with mean and standard deviation.
    This transform does not support PIL Image.

    Args:
        tensor (Tensor): Float tensor image of size (C, H, W) or (B, C, H, W) to be
            normalized.
        mean (sequence): Sequence of means for each channel.
        std (sequence): Sequence of standard deviations for each channel.
        inplace(bool,optional): Bool to make this operation inplace.

    Returns:
        Tensor: Normalized Tensor image.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    return F_t.normalize(tensor, mean=mean, std=std, inplace=inplace)


def _compute_resized_output_size(image_size: tuple[int, int], size: list[int] | None,
                                 max_size: int | None = None) -> list[int]:
    h, w = image_size
    short, long = (w, h) if w <= h else (h, w)
    if size is None:
        raise ValueError("size must not be None")
    if len(size) == 1:  # specified size only for the smallest edge
        requested_new_short = size if isinstance(size, int) else size[0]
        new_short, new_long = requested_new_short, int(requested_new_short * long / short)
        if max_size is not None:
            if max_size <= requested_new_short:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the "
                                 f"requested size for the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    else:  # specified both h and w
        new_w, new_h = size[1], size[0]
    return [new_h, new_w]


def resize(img, size: list[int], interpolation=InterpolationMode.BILINEAR,
           max_size: int | None = None, antialias: bool | None = True):
    """Resize the input image to the given size.

    If the image is a tensor, it is expected to have [..., H, W] shape, where ... means at
    most 2 leading dimensions (any number in ember).

    Args:
        img (PIL Image or Tensor): Image to be resized.
        size (sequence or int): Desired output size. If size is a sequence like (h, w), the
            output size will be matched to this. If size is an int, the smaller edge of the
            image will be matched to this number maintaining the aspect ratio. i.e, if
            height > width, then image will be rescaled to
            :math:`\\left(\\text{size} \\times \\frac{\\text{height}}{\\text{width}},
            \\text{size}\\right)`.
        interpolation (InterpolationMode): Desired interpolation enum. Default is
            ``InterpolationMode.BILINEAR``. If input is Tensor, only
            ``InterpolationMode.NEAREST``, ``InterpolationMode.NEAREST_EXACT``,
            ``InterpolationMode.BILINEAR`` and ``InterpolationMode.BICUBIC`` are supported.
            The corresponding Pillow integer constants, e.g. ``PIL.Image.BILINEAR`` are
            accepted as well.
        max_size (int, optional): The maximum allowed for the longer edge of the resized
            image. If the longer edge of the image is greater than ``max_size`` after being
            resized according to ``size``, ``size`` will be overruled so that the longer
            edge is equal to ``max_size``. This is only supported if ``size`` is an int (or
            a sequence of length 1 in torchscript mode).
        antialias (bool, optional): Whether to apply antialiasing. It only affects
            **tensors** with bilinear or bicubic modes and it is ignored otherwise: on PIL
            images, antialiasing is always applied on bilinear or bicubic modes; on other
            modes (for PIL images and tensors), antialiasing makes no sense and this
            parameter is ignored. Default: True.

    Returns:
        PIL Image or Tensor: Resized image.
    """
    interpolation = _check_interp(interpolation)
    if isinstance(size, (list, tuple)):
        if len(size) not in [1, 2]:
            raise ValueError("Size must be an int or a 1 or 2 element tuple/list, not a "
                             f"{len(size)} element tuple/list")
        if max_size is not None and len(size) != 1:
            raise ValueError("max_size should only be passed if size specifies the length of "
                             "the smaller edge, i.e. size should be an int or a sequence of "
                             "length 1 in torchscript mode.")
    _, image_height, image_width = get_dimensions(img)
    if isinstance(size, int):
        size = [size]
    output_size = _compute_resized_output_size((image_height, image_width), list(size),
                                               max_size)
    if [image_height, image_width] == output_size:
        return img
    if not _is_tensor(img):
        if antialias is False:
            warnings.warn("Anti-alias option is always applied for PIL Image input. Argument "
                          "antialias is ignored.", stacklevel=2)
        return F_pil.resize(img, size=output_size, interpolation=_pil_interp(interpolation))
    return F_t.resize(img, size=output_size, interpolation=interpolation.value,
                      antialias=antialias)


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    """Pad the given image on all sides with the given "pad" value.

    Args:
        img (PIL Image or Tensor): Image to be padded.
        padding (int or sequence): Padding on each border. If a single int is provided this
            is used to pad all borders. If sequence of length 2 is provided this is the
            padding on left/right and top/bottom respectively. If a sequence of length 4 is
            provided this is the padding for the left, top, right and bottom borders
            respectively.
        fill (number or tuple): Pixel fill value for constant fill. Default is 0.
        padding_mode (str): Type of padding. Should be: constant, edge, reflect or
            symmetric. Default is constant.

    Returns:
        PIL Image or Tensor: Padded image.
    """
    if not _is_tensor(img):
        return F_pil.pad(img, padding=padding, fill=fill, padding_mode=padding_mode)
    return F_t.pad(img, padding=padding, fill=fill, padding_mode=padding_mode)


def crop(img, top: int, left: int, height: int, width: int):
    """Crop the given image at specified location and output size. If image size is smaller
    than output size along any edge, image is padded with 0 and then cropped.

    Args:
        img (PIL Image or Tensor): Image to be cropped. (0,0) denotes the top left corner.
        top (int): Vertical component of the top left corner of the crop box.
        left (int): Horizontal component of the top left corner of the crop box.
        height (int): Height of the crop box.
        width (int): Width of the crop box.

    Returns:
        PIL Image or Tensor: Cropped image.
    """
    if not _is_tensor(img):
        return F_pil.crop(img, top, left, height, width)
    return F_t.crop(img, top, left, height, width)


def center_crop(img, output_size: list[int]):
    """Crops the given image at the center. If image size is smaller than output size along
    any edge, image is padded with 0 and then center cropped.

    Args:
        img (PIL Image or Tensor): Image to be cropped.
        output_size (sequence or int): (height, width) of the crop box. If int or sequence
            with single int, it is used for both directions.

    Returns:
        PIL Image or Tensor: Cropped image.
    """
    if isinstance(output_size, numbers.Number):
        output_size = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    _, image_height, image_width = get_dimensions(img)
    crop_height, crop_width = output_size
    if crop_width > image_width or crop_height > image_height:
        padding_ltrb = [
            (crop_width - image_width) // 2 if crop_width > image_width else 0,
            (crop_height - image_height) // 2 if crop_height > image_height else 0,
            (crop_width - image_width + 1) // 2 if crop_width > image_width else 0,
            (crop_height - image_height + 1) // 2 if crop_height > image_height else 0,
        ]
        img = pad(img, padding_ltrb, fill=0)  # PIL uses fill value 0
        _, image_height, image_width = get_dimensions(img)
        if crop_width == image_width and crop_height == image_height:
            return img
    crop_top = int(round((image_height - crop_height) / 2.0))
    crop_left = int(round((image_width - crop_width) / 2.0))
    return crop(img, crop_top, crop_left, crop_height, crop_width)


def resized_crop(img, top: int, left: int, height: int, width: int, size: list[int],
                 interpolation=InterpolationMode.BILINEAR, antialias: bool | None = True):
    """Crop the given image and resize it to desired size.

    Notably used in :class:`~ember.vision.transforms.RandomResizedCrop`.

    Args:
        img (PIL Image or Tensor): Image to be cropped. (0,0) denotes the top left corner.
        top (int): Vertical component of the top left corner of the crop box.
        left (int): Horizontal component of the top left corner of the crop box.
        height (int): Height of the crop box.
        width (int): Width of the crop box.
        size (sequence or int): Desired output size. Same semantics as ``resize``.
        interpolation (InterpolationMode): Desired interpolation enum. Default is
            ``InterpolationMode.BILINEAR``.
        antialias (bool, optional): Whether to apply antialiasing (see :func:`resize`).

    Returns:
        PIL Image or Tensor: Cropped image.
    """
    img = crop(img, top, left, height, width)
    return resize(img, size, interpolation, antialias=antialias)


def hflip(img):
    """Horizontally flip the given image."""
    if not _is_tensor(img):
        return F_pil.hflip(img)
    return F_t.hflip(img)


def vflip(img):
    """Vertically flip the given image."""
    if not _is_tensor(img):
        return F_pil.vflip(img)
    return F_t.vflip(img)


def _get_perspective_coeffs(startpoints, endpoints) -> list[float]:
    """Helper function to get the coefficients (a, b, c, d, e, f, g, h) for the perspective
    transforms.

    In Perspective Transform each pixel (x, y) in the original image gets transformed as,
     (x, y) -> ( (ax + by + c) / (gx + hy + 1), (dx + ey + f) / (gx + hy + 1) )
    """
    if len(startpoints) != 4 or len(endpoints) != 4:
        raise ValueError(f"Please provide exactly four corners, got {len(startpoints)} "
                         f"startpoints and {len(endpoints)} endpoints.")
    a_matrix = np.zeros((2 * len(startpoints), 8), dtype=np.float64)
    for i, (p1, p2) in enumerate(zip(endpoints, startpoints)):
        a_matrix[2 * i, :] = [p1[0], p1[1], 1, 0, 0, 0, -p2[0] * p1[0], -p2[0] * p1[1]]
        a_matrix[2 * i + 1, :] = [0, 0, 0, p1[0], p1[1], 1, -p2[1] * p1[0], -p2[1] * p1[1]]
    b_matrix = np.array(startpoints, dtype=np.float64).reshape(8)
    res = np.linalg.lstsq(a_matrix, b_matrix, rcond=None)[0].astype(np.float32)
    return [float(v) for v in res]


def perspective(img, startpoints: list[list[int]], endpoints: list[list[int]],
                interpolation=InterpolationMode.BILINEAR, fill: list[float] | None = None):
    """Perform perspective transform of the given image.

    Args:
        img (PIL Image or Tensor): Image to be transformed.
        startpoints (list of list of ints): List containing four lists of two integers
            corresponding to four corners ``[top-left, top-right, bottom-right,
            bottom-left]`` of the original image.
        endpoints (list of list of ints): List containing four lists of two integers
            corresponding to four corners ``[top-left, top-right, bottom-right,
            bottom-left]`` of the transformed image.
        interpolation (InterpolationMode): Desired interpolation enum. Default is
            ``InterpolationMode.BILINEAR``. If input is Tensor, only
            ``InterpolationMode.NEAREST``, ``InterpolationMode.BILINEAR`` are supported.
        fill (sequence or number, optional): Pixel fill value for the area outside the
            transformed image. If given a number, the value is used for all bands
            respectively.

    Returns:
        PIL Image or Tensor: transformed Image.
    """
    coeffs = _get_perspective_coeffs(startpoints, endpoints)
    interpolation = _check_interp(interpolation)
    if not _is_tensor(img):
        return F_pil.perspective(img, coeffs, interpolation=_pil_interp(interpolation),
                                 fill=fill)
    return F_t.perspective(img, perspective_coeffs=coeffs, interpolation=interpolation.value,
                           fill=fill)


def five_crop(img, size: list[int]):
    """Crop the given image into four corners and the central crop.

    Args:
        img (PIL Image or Tensor): Image to be cropped.
        size (sequence or int): Desired output size of the crop. If size is an int instead
            of sequence like (h, w), a square crop (size, size) is made. If provided a
            sequence of length 1, it will be interpreted as (size[0], size[0]).

    Returns:
        tuple: tuple (tl, tr, bl, br, center) Corresponding top left, top right, bottom
        left, bottom right and center crop.
    """
    if isinstance(size, numbers.Number):
        size = (int(size), int(size))
    elif isinstance(size, (tuple, list)) and len(size) == 1:
        size = (size[0], size[0])
    if len(size) != 2:
        raise ValueError("Please provide only two dimensions (h, w) for size.")
    _, image_height, image_width = get_dimensions(img)
    crop_height, crop_width = size
    if crop_width > image_width or crop_height > image_height:
        msg = "Requested crop size {} is bigger than input size {}"
        raise ValueError(msg.format(size, (image_height, image_width)))
    tl = crop(img, 0, 0, crop_height, crop_width)
    tr = crop(img, 0, image_width - crop_width, crop_height, crop_width)
    bl = crop(img, image_height - crop_height, 0, crop_height, crop_width)
    br = crop(img, image_height - crop_height, image_width - crop_width, crop_height,
              crop_width)
    center = center_crop(img, [crop_height, crop_width])
    return tl, tr, bl, br, center


def ten_crop(img, size: list[int], vertical_flip: bool = False):
    """Generate ten cropped images from the given image: the four corners and the central
    crop plus the flipped version of these (horizontal flipping is used by default).

    Args:
        img (PIL Image or Tensor): Image to be cropped.
        size (sequence or int): Desired output size of the crop.
        vertical_flip (bool): Use vertical flipping instead of horizontal

    Returns:
        tuple: tuple (tl, tr, bl, br, center, tl_flip, tr_flip, bl_flip, br_flip,
        center_flip) Corresponding top left, top right, bottom left, bottom right and center
        crop and same for the flipped image.
    """
    if isinstance(size, numbers.Number):
        size = (int(size), int(size))
    elif isinstance(size, (tuple, list)) and len(size) == 1:
        size = (size[0], size[0])
    if len(size) != 2:
        raise ValueError("Please provide only two dimensions (h, w) for size.")
    first_five = five_crop(img, size)
    img = vflip(img) if vertical_flip else hflip(img)
    second_five = five_crop(img, size)
    return first_five + second_five


def _dispatch(name: str, img, *args):
    _check_img(img)
    mod = F_t if _is_tensor(img) else F_pil
    return getattr(mod, name)(img, *args)


def adjust_brightness(img, brightness_factor: float):
    """Adjust brightness of an image.

    Args:
        img (PIL Image or Tensor): Image to be adjusted.
        brightness_factor (float): How much to adjust the brightness. Can be any
            non-negative number. 0 gives a black image, 1 gives the original image while 2
            increases the brightness by a factor of 2.

    Returns:
        PIL Image or Tensor: Brightness adjusted image.
    """
    return _dispatch("adjust_brightness", img, brightness_factor)


def adjust_contrast(img, contrast_factor: float):
    """Adjust contrast of an image.

    Args:
        img (PIL Image or Tensor): Image to be adjusted.
        contrast_factor (float): How much to adjust the contrast. Can be any non-negative
            number. 0 gives a solid gray image, 1 gives the original image while 2 increases
            the contrast by a factor of 2.

    Returns:
        PIL Image or Tensor: Contrast adjusted image.
    """
    return _dispatch("adjust_contrast", img, contrast_factor)


def adjust_saturation(img, saturation_factor: float):
    """Adjust color saturation of an image.

    Args:
        img (PIL Image or Tensor): Image to be adjusted.
        saturation_factor (float): How much to adjust the saturation. 0 will give a black
            and white image, 1 will give the original image while 2 will enhance the
            saturation by a factor of 2.

    Returns:
        PIL Image or Tensor: Saturation adjusted image.
    """
    return _dispatch("adjust_saturation", img, saturation_factor)


def adjust_hue(img, hue_factor: float):
    """Adjust hue of an image.

    The image hue is adjusted by converting the image to HSV and cyclically shifting the
    intensities in the hue channel (H). The image is then converted back to original image
    mode.

    Args:
        img (PIL Image or Tensor): Image to be adjusted.
        hue_factor (float): How much to shift the hue channel. Should be in [-0.5, 0.5].

    Returns:
        PIL Image or Tensor: Hue adjusted image.
    """
    return _dispatch("adjust_hue", img, hue_factor)


def adjust_gamma(img, gamma: float, gain: float = 1):
    """Perform gamma correction on an image, ``I_out = 255 * gain * (I_in / 255) ** gamma``.

    Args:
        img (PIL Image or Tensor): PIL Image to be adjusted.
        gamma (float): Non negative real number, same as :math:`\\gamma` in the equation.
            gamma larger than 1 make the shadows darker, while gamma smaller than 1 make
            dark regions lighter.
        gain (float): The constant multiplier.

    Returns:
        PIL Image or Tensor: Gamma correction adjusted image.
    """
    return _dispatch("adjust_gamma", img, gamma, gain)


def _get_inverse_affine_matrix(center: list[float], angle: float, translate: list[float],
                               scale: float, shear: list[float],
                               inverted: bool = True) -> list[float]:
    # Helper method to compute inverse matrix for affine transformation
    #
    # Pillow requires inverse affine transformation matrix:
    # Affine matrix is : M = T * C * RotateScaleShear * C^-1
    # where T is translation matrix: [1, 0, tx | 0, 1, ty | 0, 0, 1]
    #       C is translation matrix to keep center: [1, 0, cx | 0, 1, cy | 0, 0, 1]
    #       RotateScaleShear is rotation with scale and shear matrix
    rot = math.radians(angle)
    sx = math.radians(shear[0])
    sy = math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    # RSS without scaling
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    if inverted:
        # Inverted rotation matrix with scale and shear
        # det([[a, b], [c, d]]) == 1, since det(rotation) = 1 and det(shear) = 1
        matrix = [d, -b, 0.0, -c, a, 0.0]
        matrix = [x / scale for x in matrix]
        # Apply inverse of translation and of center translation: RSS^-1 * C^-1 * T^-1
        matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty)
        matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty)
        # Apply center translation: C * RSS^-1 * C^-1 * T^-1
        matrix[2] += cx
        matrix[5] += cy
    else:
        matrix = [a, b, 0.0, c, d, 0.0]
        matrix = [x * scale for x in matrix]
        # Apply inverse of center translation: RSS * C^-1
        matrix[2] += matrix[0] * (-cx) + matrix[1] * (-cy)
        matrix[5] += matrix[3] * (-cx) + matrix[4] * (-cy)
        # Apply translation and center : T * C * RSS * C^-1
        matrix[2] += cx + tx
        matrix[5] += cy + ty
    return matrix


def rotate(img, angle: float, interpolation=InterpolationMode.NEAREST, expand: bool = False,
           center: list[int] | None = None, fill: list[float] | None = None):
    """Rotate the image by angle.

    Args:
        img (PIL Image or Tensor): image to be rotated.
        angle (number): rotation angle value in degrees, counter-clockwise.
        interpolation (InterpolationMode): Desired interpolation enum. Default is
            ``InterpolationMode.NEAREST``. If input is Tensor, only
            ``InterpolationMode.NEAREST``, ``InterpolationMode.BILINEAR`` are supported.
        expand (bool, optional): Optional expansion flag. If true, expands the output image
            to make it large enough to hold the entire rotated image. If false or omitted,
            make the output image the same size as the input image.
        center (sequence, optional): Optional center of rotation. Origin is the upper left
            corner. Default is the center of the image.
        fill (sequence or number, optional): Pixel fill value for the area outside the
            transformed image. If given a number, the value is used for all bands
            respectively.

    Returns:
        PIL Image or Tensor: Rotated image.
    """
    interpolation = _check_interp(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    if not _is_tensor(img):
        return F_pil.rotate(img, angle=angle, interpolation=_pil_interp(interpolation),
                            expand=expand, center=center, fill=fill)
    center_f = [0.0, 0.0]
    if center is not None:
        _, height, width = get_dimensions(img)
        # Center values should be in pixel coordinates but translated such that (0, 0)
        # corresponds to image center.
        center_f = [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]
    # due to current incoherence of rotation angle direction between affine and rotate
    # implementations we need to set -angle.
    matrix = _get_inverse_affine_matrix(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    return F_t.rotate(img, matrix=matrix, interpolation=interpolation.value, expand=expand,
                      fill=fill)


def affine(img, angle: float, translate: list[int], scale: float, shear: list[float],
           interpolation=InterpolationMode.NEAREST, fill: list[float] | None = None,
           center: list[int] | None = None):
    """Apply affine transformation on the image keeping image center invariant.

    Args:
        img (PIL Image or Tensor): image to transform.
        angle (number): rotation angle in degrees between -180 and 180, clockwise direction.
        translate (sequence of integers): horizontal and vertical translations
            (post-rotation translation)
        scale (float): overall scale
        shear (float or sequence): shear angle value in degrees between -180 to 180,
            clockwise direction. If a sequence is specified, the first value corresponds to
            a shear parallel to the x-axis, while the second value corresponds to a shear
            parallel to the y-axis.
        interpolation (InterpolationMode): Desired interpolation enum. Default is
            ``InterpolationMode.NEAREST``.
        fill (sequence or number, optional): Pixel fill value for the area outside the
            transformed image.
        center (sequence, optional): Optional center of rotation. Origin is the upper left
            corner. Default is the center of the image.

    Returns:
        PIL Image or Tensor: Transformed image.
    """
    interpolation = _check_interp(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise TypeError("Argument translate should be a sequence")
    if len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    if not isinstance(shear, (numbers.Number, list, tuple)):
        raise TypeError("Shear should be either a single value or a sequence of two values")
    if isinstance(angle, int):
        angle = float(angle)
    if isinstance(translate, tuple):
        translate = list(translate)
    if isinstance(shear, numbers.Number):
        shear = [shear, 0.0]
    if isinstance(shear, tuple):
        shear = list(shear)
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    if len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    _, height, width = get_dimensions(img)
    if not _is_tensor(img):
        # center = (img_size[0] * 0.5 + 0.5, img_size[1] * 0.5 + 0.5)
        # it is visually better to estimate the center without 0.5 offset
        # otherwise image rotated by 90 degrees is shifted vs output image of torch.rot90
        if center is None:
            center = [width * 0.5, height * 0.5]
        matrix = _get_inverse_affine_matrix(center, angle, translate, scale, shear)
        return F_pil.affine(img, matrix=matrix, interpolation=_pil_interp(interpolation),
                            fill=fill)
    center_f = [0.0, 0.0]
    if center is not None:
        # Center values should be in pixel coordinates but translated such that (0, 0)
        # corresponds to image center.
        center_f = [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]
    translate_f = [1.0 * t for t in translate]
    matrix = _get_inverse_affine_matrix(center_f, angle, translate_f, scale, shear)
    return F_t.affine(img, matrix=matrix, interpolation=interpolation.value, fill=fill)


def to_grayscale(img, num_output_channels: int = 1):
    """Convert PIL image of any mode (RGB, HSV, LAB, etc) to grayscale version of image.
    This transform does not support torch Tensor.

    Args:
        img (PIL Image): PIL Image to be converted to grayscale.
        num_output_channels (int): number of channels of the output image. Value can be 1 or
            3. Default is 1.

    Returns:
        PIL Image: Grayscale version of the image.
    """
    if is_pil_image(img):
        return F_pil.to_grayscale(img, num_output_channels)
    raise TypeError("Input should be PIL Image")


def rgb_to_grayscale(img, num_output_channels: int = 1):
    """Convert RGB image to grayscale version of image.

    Note:
        Please, note that this method supports only RGB images as input. For inputs in other
        color spaces, please, consider using :meth:`~ember.vision.transforms.functional.
        to_grayscale` with PIL Image.

    Args:
        img (PIL Image or Tensor): RGB Image to be converted to grayscale.
        num_output_channels (int): number of channels of the output image. Value can be 1 or
            3. Default, 1.

    Returns:
        PIL Image or Tensor: Grayscale version of the image.
    """
    if not _is_tensor(img):
        return F_pil.to_grayscale(img, num_output_channels)
    return F_t.rgb_to_grayscale(img, num_output_channels)


def erase(img: Tensor, i: int, j: int, h: int, w: int, v: Tensor,
          inplace: bool = False) -> Tensor:
    """Erase the input Tensor Image with given value.
    This transform does not support PIL Image.

    Args:
        img (Tensor Image): Tensor image of size (C, H, W) to be erased
        i (int): i in (i,j) i.e coordinates of the upper left corner.
        j (int): j in (i,j) i.e coordinates of the upper left corner.
        h (int): Height of the erased region.
        w (int): Width of the erased region.
        v: Erasing value.
        inplace(bool, optional): For in-place operations. By default, is set False.

    Returns:
        Tensor Image: Erased image.
    """
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    return F_t.erase(img, i, j, h, w, v, inplace=inplace)


def gaussian_blur(img, kernel_size: list[int], sigma: list[float] | None = None):
    """Performs Gaussian blurring on the image by given kernel.

    The convolution will be using reflection padding corresponding to the kernel size, to
    maintain the input shape.

    Args:
        img (PIL Image or Tensor): Image to be blurred
        kernel_size (sequence of ints or int): Gaussian kernel size. Can be a sequence of
            integers like ``(kx, ky)`` or a single integer for square kernels.
        sigma (sequence of floats or float, optional): Gaussian kernel standard deviation.
            Can be a sequence of floats like ``(sigma_x, sigma_y)`` or a single float to
            define the same sigma in both X/Y directions. If None, then it is computed using
            ``kernel_size`` as ``sigma = 0.3 * ((kernel_size - 1) * 0.5 - 1) + 0.8``.

    Returns:
        PIL Image or Tensor: Gaussian Blurred version of the image.
    """
    if not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError("kernel_size should be int or a sequence of integers. Got "
                        f"{type(kernel_size)}")
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    if len(kernel_size) != 2:
        raise ValueError("If kernel_size is a sequence its length should be 2. Got "
                         f"{len(kernel_size)}")
    for ksize in kernel_size:
        if ksize % 2 == 0 or ksize < 0:
            raise ValueError(f"kernel_size should have odd and positive integers. Got "
                             f"{kernel_size}")
    if sigma is None:
        sigma = [ksize * 0.15 + 0.35 for ksize in kernel_size]
    if not isinstance(sigma, (int, float, list, tuple)):
        raise TypeError(f"sigma should be either float or sequence of floats. Got "
                        f"{type(sigma)}")
    if isinstance(sigma, (int, float)):
        sigma = [float(sigma), float(sigma)]
    if isinstance(sigma, (list, tuple)) and len(sigma) == 1:
        sigma = [sigma[0], sigma[0]]
    if len(sigma) != 2:
        raise ValueError(f"If sigma is a sequence, its length should be 2. Got {len(sigma)}")
    for s in sigma:
        if s <= 0.0:
            raise ValueError(f"sigma should have positive values. Got {sigma}")
    t_img = img
    if not _is_tensor(img):
        if not is_pil_image(img):
            raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
        t_img = pil_to_tensor(img)
    output = F_t.gaussian_blur(t_img, list(kernel_size), list(sigma))
    if not _is_tensor(img):
        output = to_pil_image(output, mode=img.mode)
    return output


def invert(img):
    """Invert the colors of an RGB/grayscale image."""
    return _dispatch("invert", img)


def posterize(img, bits: int):
    """Posterize an image by reducing the number of bits for each color channel.

    Args:
        img (PIL Image or Tensor): Image to have its colors posterized. If img is Tensor,
            it should be of type ember.uint8.
        bits (int): The number of bits to keep for each channel (0-8).
    """
    if not (0 <= bits <= 8):
        raise ValueError(f"The number if bits should be between 0 and 8. Got {bits}")
    return _dispatch("posterize", img, bits)


def solarize(img, threshold: float):
    """Solarize an RGB/grayscale image by inverting all pixel values above a threshold."""
    return _dispatch("solarize", img, threshold)


def adjust_sharpness(img, sharpness_factor: float):
    """Adjust the sharpness of an image.

    Args:
        img (PIL Image or Tensor): Image to be adjusted.
        sharpness_factor (float): How much to adjust the sharpness. Can be any non-negative
            number. 0 gives a blurred image, 1 gives the original image while 2 increases
            the sharpness by a factor of 2.
    """
    return _dispatch("adjust_sharpness", img, sharpness_factor)


def autocontrast(img):
    """Maximize contrast of an image by remapping its pixels per channel so that the lowest
    becomes black and the lightest becomes white."""
    return _dispatch("autocontrast", img)


def equalize(img):
    """Equalize the histogram of an image by applying a non-linear mapping to the input in
    order to create a uniform distribution of grayscale values in the output."""
    return _dispatch("equalize", img)

