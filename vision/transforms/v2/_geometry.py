"""Geometric v2 transforms: resizing, crops, flips, padding, zoom-out, IoU crop,
rotations, affine, perspective and elastic transforms. Each draws its parameters once
per call and applies them to every image, video, mask, box and key-point input."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import ember
import numpy as np

from ...ops import box_iou
from ...ops._utils import xp_of
from ...tv_tensors import BoundingBoxes, BoundingBoxFormat, Image, KeyPoints, Mask, Video
from ..functional import InterpolationMode
from . import _random as R
from . import functional as F
from ._transform import Transform, _MaybeTransform
from ._utils import (
    _angle_range,
    _fill_for,
    _fill_per_type,
    _number_or_range,
    _size_pair,
    _validate_padding,
    _validate_padding_mode,
    get_bounding_boxes,
    has_any,
    query_size,
)
from .functional._geometry import _interpolation_mode, _parse_padding
from .functional._utils import _plain, is_pure_tensor

__all__ = ["RandomHorizontalFlip", "RandomVerticalFlip", "Resize", "CenterCrop",
           "RandomResizedCrop", "FiveCrop", "TenCrop", "Pad", "RandomZoomOut",
           "RandomRotation", "RandomAffine", "RandomCrop", "RandomPerspective",
           "ElasticTransform", "RandomIoUCrop", "ScaleJitter", "RandomShortestSize",
           "RandomResize"]


def _pil_or_tensor_image(inpt) -> bool:
    from ..._pil import is_pil_image

    return is_pil_image(inpt) or is_pure_tensor(inpt) or isinstance(inpt, (Image, Video))


class RandomHorizontalFlip(_MaybeTransform):
    """Flip the sample left to right with probability ``p``.

    Args:
        p (float): probability of the flip. Default 0.5.
    """

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.horizontal_flip, inpt)


class RandomVerticalFlip(_MaybeTransform):
    """Flip the sample top to bottom with probability ``p``.

    Args:
        p (float): probability of the flip. Default 0.5.
    """

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.vertical_flip, inpt)


def _resize_size(size) -> list[int] | None:
    if isinstance(size, int):
        return [size]
    if isinstance(size, Sequence) and len(size) in (1, 2):
        return list(size)
    if size is None:
        return None
    raise ValueError(f"size can be an integer, a sequence of one or two integers, or None, "
                     f"but got {size} instead.")


class Resize(Transform):
    """Resize the sample to ``size``.

    Args:
        size (int, sequence or None): (h, w); or an int for the shorter edge (the aspect
            ratio is kept); or None with ``max_size`` for the longer edge.
        interpolation (InterpolationMode): default bilinear. Masks use nearest.
        max_size (int, optional): upper bound of the longer edge.
        antialias (bool): antialias when downscaling tensors (bilinear, bicubic). Default
            True.
    """

    def __init__(self, size: int | Sequence[int] | None,
                 interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
                 max_size: int | None = None, antialias: bool | None = True) -> None:
        super().__init__()
        self.size = _resize_size(size)
        self.interpolation = _interpolation_mode(interpolation)
        self.max_size = max_size
        self.antialias = antialias

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.resize, inpt, self.size, interpolation=self.interpolation,
                                      max_size=self.max_size, antialias=self.antialias)


class CenterCrop(Transform):
    """Crop the center window of ``size`` (padded with zeros if the input is smaller).

    Args:
        size (int or sequence): (h, w) or a square side.
    """

    def __init__(self, size: int | Sequence[int]):
        super().__init__()
        self.size = _size_pair(size, "Please provide only two dimensions (h, w) for size.")

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.center_crop, inpt, output_size=list(self.size))


class RandomResizedCrop(Transform):
    """Crop a random window (area fraction drawn from ``scale``, aspect ratio from
    ``ratio`` on a log scale) and resize it to ``size``.

    Args:
        size (int or sequence): output (h, w).
        scale (tuple): range of the window's area fraction. Default (0.08, 1.0).
        ratio (tuple): range of the window's aspect ratio w / h. Default (3/4, 4/3).
        interpolation (InterpolationMode): default bilinear.
        antialias (bool): default True.
    """

    def __init__(self, size: int | Sequence[int], scale: tuple[float, float] = (0.08, 1.0),
                 ratio: tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0),
                 interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
                 antialias: bool | None = True) -> None:
        super().__init__()
        self.size = _size_pair(size, "Please provide only two dimensions (h, w) for size.")
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        self.scale = scale
        self.ratio = ratio
        self.interpolation = _interpolation_mode(interpolation)
        self.antialias = antialias
        self._log_ratio = (math.log(ratio[0]), math.log(ratio[1]))

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        in_h, in_w = query_size(flat_inputs)
        for _ in range(10):
            area = in_h * in_w * R.uniform(self.scale[0], self.scale[1])
            aspect = math.exp(R.uniform(*self._log_ratio))
            crop_w = int(round(math.sqrt(area * aspect)))
            crop_h = int(round(math.sqrt(area / aspect)))
            if 0 < crop_w <= in_w and 0 < crop_h <= in_h:
                top = R.randint(0, in_h - crop_h + 1)
                left = R.randint(0, in_w - crop_w + 1)
                return {"top": top, "left": left, "height": crop_h, "width": crop_w}
        # ten misses: the largest centered window whose aspect ratio is in range
        lo, hi = min(self.ratio), max(self.ratio)
        crop_h, crop_w = in_h, in_w
        if in_w / in_h < lo:
            crop_h = int(round(in_w / lo))
        elif in_w / in_h > hi:
            crop_w = int(round(in_h * hi))
        return {"top": (in_h - crop_h) // 2, "left": (in_w - crop_w) // 2, "height": crop_h,
                "width": crop_w}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.resized_crop, inpt, **params, size=list(self.size),
                                      interpolation=self.interpolation, antialias=self.antialias)


class FiveCrop(Transform):
    """Crop the four corners and the center (each of ``size``): each image becomes a
    tuple of five.

    Args:
        size (int or sequence): (h, w) of the crops.
    """

    def __init__(self, size: int | Sequence[int]) -> None:
        super().__init__()
        self.size = _size_pair(size, "Please provide only two dimensions (h, w) for size.")

    def check_inputs(self, flat_inputs: list[Any]) -> None:
        if has_any(flat_inputs, BoundingBoxes, Mask, KeyPoints):
            raise TypeError(f"BoundingBoxes'es and Mask's are not supported by "
                            f"{type(self).__name__}()")

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.five_crop, inpt, self.size)


class TenCrop(Transform):
    """The five crops of :class:`FiveCrop` and those of the flipped input.

    Args:
        size (int or sequence): (h, w) of the crops.
        vertical_flip (bool): flip vertically instead of horizontally.
    """

    def __init__(self, size: int | Sequence[int], vertical_flip: bool = False) -> None:
        super().__init__()
        self.size = _size_pair(size, "Please provide only two dimensions (h, w) for size.")
        self.vertical_flip = vertical_flip

    def check_inputs(self, flat_inputs: list[Any]) -> None:
        if has_any(flat_inputs, BoundingBoxes, Mask, KeyPoints):
            raise TypeError(f"BoundingBoxes'es and Mask's are not supported by "
                            f"{type(self).__name__}()")

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.ten_crop, inpt, self.size,
                                      vertical_flip=self.vertical_flip)


class Pad(Transform):
    """Pad the borders of the sample.

    Args:
        padding (int or sequence): all borders, (left/right, top/bottom) or (left, top,
            right, bottom).
        fill (number, sequence or dict): constant fill value (per type with a dict).
            Default 0.
        padding_mode (str): constant, edge, reflect or symmetric. Default constant.
    """

    def __init__(self, padding: int | Sequence[int], fill=0,
                 padding_mode: str = "constant") -> None:
        super().__init__()
        _validate_padding(padding)
        _validate_padding_mode(padding_mode)
        if isinstance(padding, Sequence):
            padding = list(padding)
        self.padding = padding
        self.fill = fill
        self._fill = _fill_per_type(fill)
        self.padding_mode = padding_mode

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        fill = _fill_for(self._fill, type(inpt))
        return self._apply_functional(F.pad, inpt, padding=self.padding, fill=fill,
                                      padding_mode=self.padding_mode)


class RandomZoomOut(_MaybeTransform):
    """With probability ``p``, place the sample on a larger canvas (side ratio drawn from
    ``side_range``) at a random position, filled with ``fill`` ("zoom out" of SSD).

    Args:
        fill (number, sequence or dict): canvas fill. Default 0.
        side_range (sequence): range of the canvas-to-input side ratio. Default (1, 4).
        p (float): probability. Default 0.5.
    """

    def __init__(self, fill=0, side_range: Sequence[float] = (1.0, 4.0),
                 p: float = 0.5) -> None:
        super().__init__(p=p)
        self.fill = fill
        self._fill = _fill_per_type(fill)
        if len(side_range) != 2:
            raise ValueError(f"side_range should be a sequence of length 2. Got "
                             f"{len(side_range)}")
        if side_range[0] < 1.0 or side_range[0] > side_range[1]:
            raise ValueError(f"Invalid side range provided {side_range}.")
        self.side_range = side_range

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        in_h, in_w = query_size(flat_inputs)
        lo, hi = self.side_range
        side = lo + R.rand() * (hi - lo)
        extra_w, extra_h = int(in_w * side) - in_w, int(in_h * side) - in_h
        fx, fy = R.rand_pair()  # where the input sits on the canvas
        left, top = int(extra_w * fx), int(extra_h * fy)
        return {"padding": [left, top, extra_w - left, extra_h - top]}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        fill = _fill_for(self._fill, type(inpt))
        return self._apply_functional(F.pad, inpt, **params, fill=fill)


class RandomRotation(Transform):
    """Rotate the sample by an angle drawn uniformly from ``degrees``.

    Args:
        degrees (number or sequence): (min, max) in degrees, or d for (-d, d).
        interpolation (InterpolationMode): default nearest.
        expand (bool): grow the output to hold the whole rotated input. Default False.
        center (sequence, optional): rotation center (x, y); the image center by default.
        fill (number, sequence or dict): fill outside the input. Default 0.
    """

    def __init__(self, degrees, interpolation: InterpolationMode | int = InterpolationMode.NEAREST,
                 expand: bool = False, center: list[float] | None = None, fill=0) -> None:
        super().__init__()
        self.degrees = _angle_range(degrees, name="degrees", req_sizes=(2,))
        self.interpolation = _interpolation_mode(interpolation)
        self.expand = expand
        self.fill = fill
        self._fill = _fill_per_type(fill)
        if center is not None:
            from ._utils import _check_sequence

            _check_sequence(center, "center", req_sizes=(2,))
        self.center = center

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        return {"angle": R.uniform(self.degrees[0], self.degrees[1])}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        fill = _fill_for(self._fill, type(inpt))
        return self._apply_functional(F.rotate, inpt, **params, interpolation=self.interpolation,
                                      expand=self.expand, center=self.center, fill=fill)


class RandomAffine(Transform):
    """A random affine transform keeping the center fixed.

    Args:
        degrees (number or sequence): rotation range (min, max), or d for (-d, d).
        translate (tuple, optional): maximal fractions (a, b) of the width and height for
            the horizontal and vertical shift.
        scale (tuple, optional): scale range.
        shear (number or sequence, optional): x-shear range (min, max) or s for (-s, s),
            or four values for x and y ranges.
        interpolation (InterpolationMode): default nearest.
        fill (number, sequence or dict): fill outside the input. Default 0.
        center (sequence, optional): center (x, y); the image center by default.
    """

    def __init__(self, degrees, translate: Sequence[float] | None = None,
                 scale: Sequence[float] | None = None, shear=None,
                 interpolation: InterpolationMode | int = InterpolationMode.NEAREST, fill=0,
                 center: list[float] | None = None) -> None:
        super().__init__()
        from ._utils import _check_sequence

        self.degrees = _angle_range(degrees, name="degrees", req_sizes=(2,))
        if translate is not None:
            _check_sequence(translate, "translate", req_sizes=(2,))
            if not all(0.0 <= fraction <= 1.0 for fraction in translate):
                raise ValueError("translation values should be between 0 and 1")
        self.translate = translate
        if scale is not None:
            _check_sequence(scale, "scale", req_sizes=(2,))
            if min(scale) <= 0:
                raise ValueError("scale values should be positive")
        self.scale = scale
        self.shear = _angle_range(shear, name="shear", req_sizes=(2, 4)) \
            if shear is not None else None
        self.interpolation = _interpolation_mode(interpolation)
        self.fill = fill
        self._fill = _fill_per_type(fill)
        if center is not None:
            _check_sequence(center, "center", req_sizes=(2,))
        self.center = center

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        in_h, in_w = query_size(flat_inputs)
        angle = R.uniform(self.degrees[0], self.degrees[1])
        translate = (0, 0)
        if self.translate is not None:
            dx = float(self.translate[0] * in_w)
            dy = float(self.translate[1] * in_h)
            translate = (int(round(R.uniform(-dx, dx))), int(round(R.uniform(-dy, dy))))
        scale = 1.0 if self.scale is None else R.uniform(self.scale[0], self.scale[1])
        shear = [0.0, 0.0]
        if self.shear is not None:
            shear[0] = R.uniform(self.shear[0], self.shear[1])
            if len(self.shear) == 4:
                shear[1] = R.uniform(self.shear[2], self.shear[3])
        return {"angle": angle, "translate": translate, "scale": scale, "shear": tuple(shear)}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        fill = _fill_for(self._fill, type(inpt))
        return self._apply_functional(F.affine, inpt, **params, interpolation=self.interpolation,
                                      fill=fill, center=self.center)


class RandomCrop(Transform):
    """Crop a window of ``size`` at a random position, after optional padding.

    Args:
        size (int or sequence): (h, w) of the crop.
        padding (int or sequence, optional): padding applied first (see :class:`Pad`).
        pad_if_needed (bool): pad a side that is smaller than the crop. Default False.
        fill (number, sequence or dict): constant fill. Default 0.
        padding_mode (str): constant, edge, reflect or symmetric. Default constant.
    """

    def __init__(self, size: int | Sequence[int], padding=None, pad_if_needed: bool = False,
                 fill=0, padding_mode: str = "constant") -> None:
        super().__init__()
        self.size = _size_pair(size, "Please provide only two dimensions (h, w) for size.")
        if pad_if_needed or padding is not None:
            if padding is not None:
                _validate_padding(padding)
            _validate_padding_mode(padding_mode)
        self.padding = _parse_padding(padding) if padding is not None else None
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self._fill = _fill_per_type(fill)
        self.padding_mode = padding_mode

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        in_h, in_w = query_size(flat_inputs)
        crop_h, crop_w = self.size
        left, top, right, bottom = self.padding if self.padding is not None else [0] * 4
        if self.pad_if_needed:  # grow a short side on both ends
            extra_h = max(crop_h - (in_h + top + bottom), 0)
            extra_w = max(crop_w - (in_w + left + right), 0)
            top, bottom = top + extra_h, bottom + extra_h
            left, right = left + extra_w, right + extra_w
        padded_h, padded_w = in_h + top + bottom, in_w + left + right
        if padded_h < crop_h or padded_w < crop_w:
            raise ValueError(f"Required crop size {(crop_h, crop_w)} is larger than input "
                             f"image size {(padded_h, padded_w)}.")
        padding = [left, top, right, bottom]
        return {"needs_crop": (padded_h, padded_w) != (crop_h, crop_w),
                "top": R.randint(0, padded_h - crop_h + 1),
                "left": R.randint(0, padded_w - crop_w + 1), "height": crop_h, "width": crop_w,
                "needs_pad": any(padding), "padding": padding}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if params["needs_pad"]:
            fill = _fill_for(self._fill, type(inpt))
            inpt = self._apply_functional(F.pad, inpt, padding=params["padding"], fill=fill,
                                          padding_mode=self.padding_mode)
        if params["needs_crop"]:
            inpt = self._apply_functional(F.crop, inpt, top=params["top"], left=params["left"],
                                          height=params["height"], width=params["width"])
        return inpt


class RandomPerspective(_MaybeTransform):
    """With probability ``p``, a random perspective transform: each corner moves inward by
    up to ``distortion_scale`` times half the side.

    Args:
        distortion_scale (float): in [0, 1]. Default 0.5.
        p (float): probability. Default 0.5.
        interpolation (InterpolationMode): default bilinear.
        fill (number, sequence or dict): fill outside the input. Default 0.
    """

    def __init__(self, distortion_scale: float = 0.5, p: float = 0.5,
                 interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
                 fill=0) -> None:
        super().__init__(p=p)
        if not (0 <= distortion_scale <= 1):
            raise ValueError("Argument distortion_scale value should be between 0 and 1")
        self.distortion_scale = distortion_scale
        self.interpolation = _interpolation_mode(interpolation)
        self.fill = fill
        self._fill = _fill_per_type(fill)

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        in_h, in_w = query_size(flat_inputs)
        dx = int(self.distortion_scale * (in_w // 2))
        dy = int(self.distortion_scale * (in_h // 2))
        right, bottom = in_w - 1, in_h - 1
        # each corner moves inwards by up to (dx, dy), corners in clockwise order
        top_left = [R.randint(0, dx + 1), R.randint(0, dy + 1)]
        top_right = [R.randint(right - dx, in_w), R.randint(0, dy + 1)]
        bottom_right = [R.randint(right - dx, in_w), R.randint(bottom - dy, in_h)]
        bottom_left = [R.randint(0, dx + 1), R.randint(bottom - dy, in_h)]
        startpoints = [[0, 0], [right, 0], [right, bottom], [0, bottom]]
        endpoints = [top_left, top_right, bottom_right, bottom_left]
        from ..functional import _get_perspective_coeffs

        return {"coefficients": _get_perspective_coeffs(startpoints, endpoints)}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        fill = _fill_for(self._fill, type(inpt))
        return self._apply_functional(F.perspective, inpt, startpoints=None, endpoints=None,
                                      fill=fill, interpolation=self.interpolation, **params)


class ElasticTransform(Transform):
    """A random elastic deformation: uniform random displacements in [-1, 1), smoothed by
    a Gaussian of std ``sigma`` (x, y) and scaled by ``alpha`` (in pixels, x and y).

    Args:
        alpha (float or sequence): displacement magnitude (x, y). Default 50.
        sigma (float or sequence): smoothness (x, y). Default 5.
        interpolation (InterpolationMode): default bilinear.
        fill (number, sequence or dict): fill outside the input. Default 0.
    """

    def __init__(self, alpha=50.0, sigma=5.0,
                 interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
                 fill=0) -> None:
        super().__init__()
        self.alpha = _number_or_range(alpha, "alpha")
        self.sigma = _number_or_range(sigma, "sigma")
        self.interpolation = _interpolation_mode(interpolation)
        self.fill = fill
        self._fill = _fill_per_type(fill)

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        in_h, in_w = query_size(flat_inputs)
        parts = []
        for axis, extent in ((0, in_w), (1, in_h)):  # x then y displacements
            d = ember.rand(1, 1, in_h, in_w) * 2 - 1  # (1, 1, H, W) uniform on [-1, 1)
            if self.sigma[axis] > 0.0:
                k = int(8 * self.sigma[axis] + 1)
                k += 1 - k % 2  # odd
                d = F.gaussian_blur(d, [k, k], list(self.sigma))
            parts.append(d * self.alpha[axis] / extent)
        displacement = ember.cat(parts, 1).permute(0, 2, 3, 1)  # (1, H, W, 2)
        return {"displacement": displacement}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        fill = _fill_for(self._fill, type(inpt))
        return self._apply_functional(F.elastic, inpt, **params, fill=fill,
                                      interpolation=self.interpolation)


class RandomIoUCrop(Transform):
    """The random crop of SSD: a window whose IoU with some box reaches a threshold drawn
    from ``sampler_options`` (1.0: no crop); boxes whose center falls outside the window
    are zeroed (remove them with :class:`SanitizeBoundingBoxes`).

    Args:
        min_scale, max_scale (float): range of the window's side fractions. Default 0.3, 1.
        min_aspect_ratio, max_aspect_ratio (float): range of its aspect ratio. Default
            0.5, 2.
        sampler_options (list of floats, optional): IoU thresholds. Default
            [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0].
        trials (int): windows tried per threshold. Default 40.
    """

    def __init__(self, min_scale: float = 0.3, max_scale: float = 1.0,
                 min_aspect_ratio: float = 0.5, max_aspect_ratio: float = 2.0,
                 sampler_options: list[float] | None = None, trials: int = 40):
        super().__init__()
        self.min_scale = min_scale
        self.max_scale = max_scale
        self.min_aspect_ratio = min_aspect_ratio
        self.max_aspect_ratio = max_aspect_ratio
        if sampler_options is None:
            sampler_options = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0]
        self.options = sampler_options
        self.trials = trials

    def check_inputs(self, flat_inputs: list[Any]) -> None:
        if not (has_any(flat_inputs, BoundingBoxes)
                and has_any(flat_inputs, _pil_or_tensor_image)):
            raise TypeError(f"{type(self).__name__}() requires input sample to contain tensor "
                            f"or PIL images and bounding boxes. Sample can also contain masks.")

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        in_h, in_w = query_size(flat_inputs)
        xyxy = F.convert_bounding_box_format(get_bounding_boxes(flat_inputs),
                                             new_format=BoundingBoxFormat.XYXY)
        xyxy = _plain(xyxy).float().cpu()  # the search runs on the CPU
        centers = ((xyxy[:, :2] + xyxy[:, 2:]) * 0.5).numpy()  # (N, 2)
        while True:  # draw an IoU threshold, then try windows until one qualifies
            threshold = self.options[R.randint(0, len(self.options))]
            if threshold >= 1.0:
                return {}  # no crop
            for _ in range(self.trials):
                params = self._try_window(in_h, in_w, xyxy, centers, threshold)
                if params is not None:
                    return params

    def _try_window(self, in_h: int, in_w: int, xyxy, centers, threshold: float):
        """One random window: its params if it is valid and overlaps some box (whose center
        it holds) with an IoU of at least ``threshold``, else None."""
        span = self.max_scale - self.min_scale
        fw, fh = R.rand_pair()
        win_w, win_h = int(in_w * (self.min_scale + span * fw)), int(in_h * (self.min_scale
                                                                            + span * fh))
        if win_h == 0 or not (self.min_aspect_ratio <= win_w / win_h <= self.max_aspect_ratio):
            return None
        fx, fy = R.rand_pair()
        x0, y0 = int((in_w - win_w) * fx), int((in_h - win_h) * fy)
        if win_w == 0:
            return None
        cx, cy = centers[:, 0], centers[:, 1]
        held = (x0 < cx) & (cx < x0 + win_w) & (y0 < cy) & (cy < y0 + win_h)
        if not held.any():
            return None
        window = ember.tensor([[x0, y0, x0 + win_w, y0 + win_h]], dtype=xyxy.dtype)
        if float(box_iou(xyxy[ember.from_numpy(np.nonzero(held)[0])], window).max()) < threshold:
            return None
        return {"top": y0, "left": x0, "height": win_h, "width": win_w,
                "is_within_crop_area": ember.from_numpy(held)}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if not params:
            return inpt
        output = self._apply_functional(F.crop, inpt, top=params["top"], left=params["left"],
                                        height=params["height"], width=params["width"])
        if isinstance(output, BoundingBoxes):
            data = output.detach()._data.copy()
            outside = ~params["is_within_crop_area"].cpu().numpy()
            data[xp_of(data).asarray(outside)] = 0
            output = BoundingBoxes._wrap(ember.Tensor._make(data), **output._metadata())
        return output


class ScaleJitter(Transform):
    """Resize by a random factor (from ``scale_range``) of the scale that fits the input
    in ``target_size`` (Large Scale Jitter of "Simple Copy-Paste").

    Args:
        target_size (tuple): the reference size: the input is scaled by
            ``min(target_size[0] / width, target_size[1] / height)`` times the factor.
        scale_range (tuple): range of the factor. Default (0.1, 2.0).
        interpolation (InterpolationMode): default bilinear.
        antialias (bool): default True.
    """

    def __init__(self, target_size: tuple[int, int],
                 scale_range: tuple[float, float] = (0.1, 2.0),
                 interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
                 antialias: bool | None = True):
        super().__init__()
        self.target_size = target_size
        self.scale_range = scale_range
        self.interpolation = _interpolation_mode(interpolation)
        self.antialias = antialias

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        in_h, in_w = query_size(flat_inputs)
        low, high = self.scale_range
        jitter = low + (high - low) * R.rand()
        # as torchvision: target_size[0] bounds the width and target_size[1] the height
        factor = jitter * min(self.target_size[0] / in_w, self.target_size[1] / in_h)
        return {"size": (int(in_h * factor), int(in_w * factor))}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.resize, inpt, size=list(params["size"]),
                                      interpolation=self.interpolation, antialias=self.antialias)


class RandomShortestSize(Transform):
    """Resize so that the shorter edge is one of ``min_size`` (picked at random), the
    longer edge not exceeding ``max_size``.

    Args:
        min_size (int or sequence): candidate shorter-edge sizes.
        max_size (int, optional): bound of the longer edge.
        interpolation (InterpolationMode): default bilinear.
        antialias (bool): default True.
    """

    def __init__(self, min_size: list[int] | tuple[int] | int, max_size: int | None = None,
                 interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
                 antialias: bool | None = True):
        super().__init__()
        self.min_size = [min_size] if isinstance(min_size, int) else list(min_size)
        self.max_size = max_size
        self.interpolation = _interpolation_mode(interpolation)
        self.antialias = antialias

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        in_h, in_w = query_size(flat_inputs)
        shorter = self.min_size[R.randint(0, len(self.min_size))]
        bounds = [shorter / min(in_h, in_w)]
        if self.max_size is not None:  # the longer edge may not exceed max_size
            bounds.append(self.max_size / max(in_h, in_w))
        factor = min(bounds)
        return {"size": (int(in_h * factor), int(in_w * factor))}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.resize, inpt, size=list(params["size"]),
                                      interpolation=self.interpolation, antialias=self.antialias)


class RandomResize(Transform):
    """Resize the shorter edge to a size drawn uniformly from [min_size, max_size).

    Args:
        min_size (int): smallest size (inclusive).
        max_size (int): largest size (exclusive).
        interpolation (InterpolationMode): default bilinear.
        antialias (bool): default True.
    """

    def __init__(self, min_size: int, max_size: int,
                 interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
                 antialias: bool | None = True) -> None:
        super().__init__()
        self.min_size = min_size
        self.max_size = max_size
        self.interpolation = _interpolation_mode(interpolation)
        self.antialias = antialias

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        return {"size": [R.randint(self.min_size, self.max_size)]}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.resize, inpt, params["size"],
                                      interpolation=self.interpolation, antialias=self.antialias)
