"""Geometric functionals that keep the pixel grid: flips, crops, padding, resizing,
five/ten crops, for images (tensor and PIL), videos, masks, boxes and key points.

Image kernels reuse the v1 tensor and Pillow kernels of ``ember.vision.transforms``; box
and key-point kernels move coordinates with whole-array expressions.
"""

from __future__ import annotations

import numbers

import ember
import numpy as np
from ember import Tensor

from ....ops._utils import xp_of
from ....tv_tensors import BoundingBoxes, BoundingBoxFormat, Image, KeyPoints, Mask, Video
from ... import _functional_pil as F_pil
from ... import _functional_tensor as F_t
from ... import functional as F1
from ...functional import InterpolationMode
from . import _box_arrays as B
from ._resize_uint8 import resize_uint8
from ._utils import _accepted, _dispatch, _plain, _register

__all__ = [
    "horizontal_flip", "horizontal_flip_image", "horizontal_flip_video",
    "horizontal_flip_mask", "horizontal_flip_bounding_boxes", "horizontal_flip_keypoints",
    "hflip", "vertical_flip", "vertical_flip_image", "vertical_flip_video",
    "vertical_flip_mask", "vertical_flip_bounding_boxes", "vertical_flip_keypoints", "vflip",
    "crop", "crop_image", "crop_video", "crop_mask", "crop_bounding_boxes", "crop_keypoints",
    "center_crop", "center_crop_image", "center_crop_video", "center_crop_mask",
    "center_crop_bounding_boxes", "center_crop_keypoints", "pad", "pad_image", "pad_video",
    "pad_mask", "pad_bounding_boxes", "pad_keypoints", "resize", "resize_image",
    "resize_video", "resize_mask", "resize_bounding_boxes", "resize_keypoints",
    "resized_crop", "resized_crop_image", "resized_crop_video", "resized_crop_mask",
    "resized_crop_bounding_boxes", "resized_crop_keypoints", "five_crop", "five_crop_image",
    "five_crop_video", "ten_crop", "ten_crop_image", "ten_crop_video",
]


# -- shared wrappers for boxes and key points --------------------------------------------


def _boxes_adapter(kernel, changes_canvas: bool):
    """Registers ``kernel`` (plain tensor + metadata) for BoundingBoxes inputs."""

    def adapter(inpt: BoundingBoxes, *args, **kwargs):
        kwargs = _accepted(kernel, {**_box_kwargs(inpt), **kwargs})
        out = kernel(_plain(inpt), *args, **kwargs)
        meta = inpt._metadata()
        if changes_canvas:
            out, meta["canvas_size"] = out
        return BoundingBoxes._wrap(out, **meta)

    return adapter


def _box_kwargs(inpt: BoundingBoxes) -> dict:
    return {"format": inpt.format, "canvas_size": inpt.canvas_size,
            "clamping_mode": inpt.clamping_mode}


def _keypoints_adapter(kernel, changes_canvas: bool):
    """Registers ``kernel`` (plain tensor + canvas size) for KeyPoints inputs."""

    def adapter(inpt: KeyPoints, *args, **kwargs):
        kwargs = _accepted(kernel, {"canvas_size": inpt.canvas_size, **kwargs})
        out = kernel(_plain(inpt), *args, **kwargs)
        canvas = inpt.canvas_size
        if changes_canvas:
            out, canvas = out
        return KeyPoints._wrap(out, canvas_size=canvas)

    return adapter


def _register_boxes(functional, changes_canvas: bool):
    def decorator(kernel):
        _register(functional, BoundingBoxes, wrap=False)(_boxes_adapter(kernel, changes_canvas))
        return kernel
    return decorator


def _register_keypoints(functional, changes_canvas: bool):
    def decorator(kernel):
        _register(functional, KeyPoints, wrap=False)(
            _keypoints_adapter(kernel, changes_canvas))
        return kernel
    return decorator


def _shift(a, format: BoundingBoxFormat, dx, dy):
    """Boxes (any non-rotated format) translated by (dx, dy)."""
    xp = xp_of(a)
    B._check_unrotated(format, "this transform")
    if format == BoundingBoxFormat.XYXY:
        delta = [dx, dy, dx, dy]
    else:
        delta = [dx, dy, 0, 0]
    return a + xp.asarray(np.array(delta), dtype=a.dtype)


# -- flips --------------------------------------------------------------------------------


def horizontal_flip(inpt: Tensor) -> Tensor:
    """Flip the input left to right (images, videos, masks, boxes, key points)."""
    return _dispatch(horizontal_flip, inpt)


@_register(horizontal_flip, Tensor, Image)
def horizontal_flip_image(image: Tensor) -> Tensor:
    """Flip a tensor image (..., C, H, W) left to right."""
    return F_t.hflip(image)


_register(horizontal_flip, "PIL")(F_pil.hflip)


@_register(horizontal_flip, Mask)
def horizontal_flip_mask(mask: Tensor) -> Tensor:
    """Flip a mask (..., H, W) left to right."""
    return F_t.hflip(mask)


@_register(horizontal_flip, Video)
def horizontal_flip_video(video: Tensor) -> Tensor:
    """Flip a video (..., T, C, H, W) left to right."""
    return F_t.hflip(video)


def _flip_boxes(a, format: BoundingBoxFormat, extent: int, axis: int):
    xp = xp_of(a)
    B._check_unrotated(format, "flip")
    out = a.copy()
    if format == BoundingBoxFormat.XYXY:
        out[..., axis] = extent - a[..., axis + 2]
        out[..., axis + 2] = extent - a[..., axis]
    elif format == BoundingBoxFormat.XYWH:
        out[..., axis] = extent - a[..., axis] - a[..., axis + 2]
    else:  # CXCYWH
        out[..., axis] = extent - a[..., axis]
    return xp.asarray(out)


@_register_boxes(horizontal_flip, changes_canvas=False)
def horizontal_flip_bounding_boxes(bounding_boxes: Tensor, format: BoundingBoxFormat,
                                   canvas_size: tuple[int, int]) -> Tensor:
    """Flip boxes left to right within a canvas of ``canvas_size`` (H, W)."""
    return B._tensor(_flip_boxes(B._array(bounding_boxes), format, canvas_size[1], 0))


@_register_keypoints(horizontal_flip, changes_canvas=False)
def horizontal_flip_keypoints(keypoints: Tensor, canvas_size: tuple[int, int]) -> Tensor:
    """Flip key points left to right: x -> W - 1 - x."""
    a = B._array(keypoints).copy()
    a[..., 0] = canvas_size[1] - 1 - a[..., 0]
    return B._tensor(a)


def vertical_flip(inpt: Tensor) -> Tensor:
    """Flip the input top to bottom (images, videos, masks, boxes, key points)."""
    return _dispatch(vertical_flip, inpt)


@_register(vertical_flip, Tensor, Image)
def vertical_flip_image(image: Tensor) -> Tensor:
    """Flip a tensor image (..., C, H, W) top to bottom."""
    return F_t.vflip(image)


_register(vertical_flip, "PIL")(F_pil.vflip)


@_register(vertical_flip, Mask)
def vertical_flip_mask(mask: Tensor) -> Tensor:
    """Flip a mask (..., H, W) top to bottom."""
    return F_t.vflip(mask)


@_register(vertical_flip, Video)
def vertical_flip_video(video: Tensor) -> Tensor:
    """Flip a video (..., T, C, H, W) top to bottom."""
    return F_t.vflip(video)


@_register_boxes(vertical_flip, changes_canvas=False)
def vertical_flip_bounding_boxes(bounding_boxes: Tensor, format: BoundingBoxFormat,
                                 canvas_size: tuple[int, int]) -> Tensor:
    """Flip boxes top to bottom within a canvas of ``canvas_size`` (H, W)."""
    return B._tensor(_flip_boxes(B._array(bounding_boxes), format, canvas_size[0], 1))


@_register_keypoints(vertical_flip, changes_canvas=False)
def vertical_flip_keypoints(keypoints: Tensor, canvas_size: tuple[int, int]) -> Tensor:
    """Flip key points top to bottom: y -> H - 1 - y."""
    a = B._array(keypoints).copy()
    a[..., 1] = canvas_size[0] - 1 - a[..., 1]
    return B._tensor(a)


hflip = horizontal_flip
vflip = vertical_flip


# -- crop ---------------------------------------------------------------------------------


def crop(inpt: Tensor, top: int, left: int, height: int, width: int) -> Tensor:
    """Crop the window (top, left, height, width); parts outside the input are zeros."""
    return _dispatch(crop, inpt, top=top, left=left, height=height, width=width)


@_register(crop, Tensor, Image, Video, Mask)
def crop_image(image: Tensor, top: int, left: int, height: int, width: int) -> Tensor:
    """Crop a tensor image (..., C, H, W); the window may extend past the borders."""
    return F_t.crop(image, int(top), int(left), int(height), int(width))


crop_video = crop_image
crop_mask = crop_image
_register(crop, "PIL")(F_pil.crop)


@_register_boxes(crop, changes_canvas=True)
def crop_bounding_boxes(bounding_boxes: Tensor, format: BoundingBoxFormat, top: int,
                        left: int, height: int, width: int,
                        clamping_mode: str | None = "soft") -> tuple[Tensor, tuple[int, int]]:
    """Boxes in the frame of the crop window: shifted by (-left, -top) and clamped to the
    new canvas (height, width). Returns the boxes and the new canvas size."""
    a = _shift(B._array(bounding_boxes), format, -left, -top)
    canvas = (int(height), int(width))
    return B._tensor(B.clamp(a, format, canvas, clamping_mode)), canvas


def _shift_points(a, dx, dy):
    xp = xp_of(a)
    return a + xp.asarray(np.array([dx, dy]), dtype=a.dtype)


@_register_keypoints(crop, changes_canvas=True)
def crop_keypoints(keypoints: Tensor, top: int, left: int, height: int,
                   width: int) -> tuple[Tensor, tuple[int, int]]:
    """Key points in the frame of the crop window (not clamped)."""
    a = _shift_points(B._array(keypoints), -left, -top)
    return B._tensor(a), (int(height), int(width))


def _center_crop_size(output_size) -> list[int]:
    if isinstance(output_size, numbers.Number):
        s = int(output_size)
        return [s, s]
    if isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        return [output_size[0], output_size[0]]
    return list(output_size)


def _center_crop_window(canvas_size, output_size,
                        pad_floor: bool = False) -> tuple[int, int, int, int]:
    """(top, left, h, w) of the center window. A window larger than the canvas starts at
    -round(excess / 2) for boxes and key points, as torchvision's do, and at
    -floor(excess / 2) for images (``pad_floor``: the smaller half of the padding goes
    left/top)."""
    h, w = canvas_size
    ch, cw = _center_crop_size(output_size)
    top = int(round((h - ch) / 2.0))
    left = int(round((w - cw) / 2.0))
    if pad_floor:
        top = top if ch <= h else -((ch - h) // 2)
        left = left if cw <= w else -((cw - w) // 2)
    return top, left, ch, cw


def center_crop(inpt: Tensor, output_size: list[int]) -> Tensor:
    """Crop the center window of ``output_size`` (h, w) or (s, s); padded with zeros when
    the input is smaller."""
    return _dispatch(center_crop, inpt, output_size=output_size)


@_register(center_crop, Tensor, Image, Video, Mask)
def center_crop_image(image: Tensor, output_size: list[int]) -> Tensor:
    """Center crop of a tensor image (..., C, H, W)."""
    top, left, ch, cw = _center_crop_window(image.shape[-2:], output_size, pad_floor=True)
    return F_t.crop(image, top, left, ch, cw)


center_crop_video = center_crop_image
center_crop_mask = center_crop_image


@_register(center_crop, "PIL")
def _center_crop_pil(image, output_size: list[int]):
    return F1.center_crop(image, _center_crop_size(output_size))


@_register_boxes(center_crop, changes_canvas=True)
def center_crop_bounding_boxes(bounding_boxes: Tensor, format: BoundingBoxFormat,
                               canvas_size: tuple[int, int], output_size: list[int],
                               clamping_mode: str | None = "soft"
                               ) -> tuple[Tensor, tuple[int, int]]:
    """Boxes after a center crop of ``output_size``; returns the boxes and new canvas."""
    top, left, ch, cw = _center_crop_window(canvas_size, output_size)
    return crop_bounding_boxes(bounding_boxes, format, top, left, ch, cw,
                               clamping_mode=clamping_mode)


@_register_keypoints(center_crop, changes_canvas=True)
def center_crop_keypoints(keypoints: Tensor, canvas_size: tuple[int, int],
                          output_size: list[int]) -> tuple[Tensor, tuple[int, int]]:
    """Key points after a center crop of ``output_size``."""
    top, left, ch, cw = _center_crop_window(canvas_size, output_size)
    return crop_keypoints(keypoints, top, left, ch, cw)


# -- pad ----------------------------------------------------------------------------------


def _parse_padding(padding) -> list[int]:
    """[left, top, right, bottom] from an int or a sequence of 1, 2 or 4 ints."""
    if isinstance(padding, int):
        return [padding] * 4
    if isinstance(padding, (tuple, list)):
        if len(padding) == 1:
            return [padding[0]] * 4
        if len(padding) == 2:
            return [padding[0], padding[1], padding[0], padding[1]]
        if len(padding) == 4:
            return list(padding)
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element of tuple or list, "
                         f"got {len(padding)} elements")
    raise TypeError(f"`padding` should be an integer or tuple or list of integers, but got "
                    f"{padding}")


def pad(inpt: Tensor, padding: list[int], fill: int | float | list[float] | None = None,
        padding_mode: str = "constant") -> Tensor:
    """Pad the borders by ``padding`` (int, [lr, tb] or [left, top, right, bottom]) with
    ``fill`` (0 when None) or the ``edge``/``reflect``/``symmetric`` mode."""
    return _dispatch(pad, inpt, padding=padding, fill=fill, padding_mode=padding_mode)


@_register(pad, Tensor, Image, Video, Mask)
def pad_image(image: Tensor, padding: list[int], fill: int | float | list[float] | None = None,
              padding_mode: str = "constant") -> Tensor:
    """Pad a tensor image (..., C, H, W); ``fill`` may be one value per channel."""
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError(f"`padding_mode` should be either `'constant'`, `'edge'`, "
                         f"`'reflect'` or `'symmetric'`, but got `'{padding_mode}'`.")
    left, top, right, bottom = _parse_padding(padding)
    p = [left, top, right, bottom]
    if isinstance(fill, (list, tuple)) and len(fill) > 1 and padding_mode == "constant":
        return _pad_per_channel(image, p, fill)
    if isinstance(fill, (list, tuple)):
        fill = fill[0]
    return F_t.pad(image, p, fill=0 if fill is None else fill, padding_mode=padding_mode)


def _pad_per_channel(image: Tensor, p: list[int], fill) -> Tensor:
    a = B._array(image)
    xp = xp_of(a)
    left, top, right, bottom = p
    h, w = a.shape[-2:]
    out_shape = a.shape[:-2] + (h + top + bottom, w + left + right)
    values = xp.asarray(np.array(fill, dtype=np.float64)).astype(a.dtype)
    out = xp.empty(out_shape, dtype=a.dtype)
    out[...] = values.reshape((-1, 1, 1))
    out[..., top:top + h, left:left + w] = a
    return B._tensor(out)


pad_video = pad_image
pad_mask = pad_image


@_register(pad, "PIL")
def _pad_pil(image, padding, fill=None, padding_mode: str = "constant"):
    if isinstance(fill, list):
        fill = tuple(fill)
    return F_pil.pad(image, padding=_parse_padding(padding), fill=0 if fill is None else fill,
                     padding_mode=padding_mode)


@_register_boxes(pad, changes_canvas=True)
def pad_bounding_boxes(bounding_boxes: Tensor, format: BoundingBoxFormat,
                       canvas_size: tuple[int, int], padding: list[int],
                       padding_mode: str = "constant", clamping_mode: str | None = "soft"
                       ) -> tuple[Tensor, tuple[int, int]]:
    """Boxes after padding: shifted by (left, top) in a canvas grown by the padding."""
    if padding_mode not in ("constant",):
        raise ValueError(f"Padding mode '{padding_mode}' is not supported with bounding "
                         f"boxes")
    left, top, right, bottom = _parse_padding(padding)
    canvas = (canvas_size[0] + top + bottom, canvas_size[1] + left + right)
    a = _shift(B._array(bounding_boxes), format, left, top)
    return B._tensor(B.clamp(a, format, canvas, clamping_mode)), canvas


@_register_keypoints(pad, changes_canvas=True)
def pad_keypoints(keypoints: Tensor, canvas_size: tuple[int, int], padding: list[int],
                  padding_mode: str = "constant") -> tuple[Tensor, tuple[int, int]]:
    """Key points after padding: shifted by (left, top)."""
    if padding_mode not in ("constant",):
        raise ValueError(f"Padding mode '{padding_mode}' is not supported with keypoints")
    left, top, right, bottom = _parse_padding(padding)
    canvas = (canvas_size[0] + top + bottom, canvas_size[1] + left + right)
    return B._tensor(_shift_points(B._array(keypoints), left, top)), canvas


# -- resize -------------------------------------------------------------------------------


def _interpolation_mode(interpolation) -> InterpolationMode:
    if isinstance(interpolation, InterpolationMode):
        return interpolation
    if isinstance(interpolation, str):
        return InterpolationMode(interpolation)
    if isinstance(interpolation, int):
        return F1._interpolation_modes_from_int(interpolation)
    raise ValueError(f"interpolation should be an InterpolationMode, a str or an int, got "
                     f"{type(interpolation)}")


def _output_size(canvas_size, size, max_size) -> list[int]:
    """The (h, w) of a resize of ``canvas_size`` to ``size`` (int: shorter edge; pair:
    exact; None: longer edge to ``max_size``). Edges are truncated to ints, as torchvision
    does."""
    h, w = canvas_size
    if isinstance(size, int):
        size = [size]
    if size is not None and len(size) >= 2:
        if max_size is not None:
            raise ValueError("max_size should only be passed if size is None or specifies the "
                             "length of the smaller edge, i.e. size should be an int or a "
                             "sequence of length 1 in torchscript mode.")
        return [int(size[0]), int(size[1])]
    portrait = w <= h  # the width is the shorter edge
    edges = (w, h) if portrait else (h, w)  # (shorter, longer)
    if size is None:
        if not isinstance(max_size, int):
            raise ValueError(f"max_size must be an integer when size is None, but got "
                             f"{max_size} instead.")
        target = (int(max_size * edges[0] / edges[1]), max_size)
    else:
        wanted = int(size[0])
        target = (wanted, int(wanted * edges[1] / edges[0]))
        if max_size is not None:
            if max_size <= wanted:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the "
                                 f"requested size for the smaller edge size = {size}")
            if target[1] > max_size:  # cap the longer edge, shrink the shorter one with it
                target = (int(max_size * target[0] / target[1]), max_size)
    return [target[1], target[0]] if portrait else [target[0], target[1]]


def resize(inpt: Tensor, size: list[int] | None,
           interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
           max_size: int | None = None, antialias: bool | None = True) -> Tensor:
    """Resize to ``size``: (h, w), or an int for the shorter edge (keeping the aspect
    ratio, the longer edge capped at ``max_size``), or None with ``max_size`` for the
    longer edge. Masks always use nearest interpolation; boxes and key points are scaled."""
    return _dispatch(resize, inpt, size=size, interpolation=interpolation, max_size=max_size,
                     antialias=antialias)


@_register(resize, Tensor, Image, Video)
def resize_image(image: Tensor, size: list[int] | None,
                 interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
                 max_size: int | None = None, antialias: bool | None = True) -> Tensor:
    """Resize a tensor image (..., C, H, W) (see :func:`resize`)."""
    interpolation = _interpolation_mode(interpolation)
    out_size = _output_size(image.shape[-2:], size, max_size)
    if list(image.shape[-2:]) == out_size:
        return _plain(image)
    if image.dtype == ember.uint8 and interpolation in (InterpolationMode.BILINEAR,
                                                        InterpolationMode.BICUBIC):
        return resize_uint8(image, out_size, interpolation.value, bool(antialias))
    return F_t.resize(image, out_size, interpolation=interpolation.value, antialias=antialias)


resize_video = resize_image


@_register(resize, "PIL")
def _resize_pil(image, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
                antialias=True):
    interpolation = _interpolation_mode(interpolation)
    out_size = _output_size((image.height, image.width), size, max_size)
    return F_pil.resize(image, out_size, interpolation=F1._pil_interp(interpolation))


@_register(resize, Mask)
def resize_mask(mask: Tensor, size: list[int] | None,
                interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
                max_size: int | None = None) -> Tensor:
    """Resize a mask (..., H, W) with nearest interpolation (``interpolation`` is
    ignored)."""
    out_size = _output_size(mask.shape[-2:], size, max_size)
    if list(mask.shape[-2:]) == out_size:
        return _plain(mask)
    return F_t.resize(mask, out_size, interpolation="nearest")


def _scale(a, ratio_w: float, ratio_h: float):
    xp = xp_of(a)
    f = a.astype(B._work_dtype(a))
    scale = xp.asarray(np.array([ratio_w, ratio_h, ratio_w, ratio_h]), dtype=f.dtype)
    return (f * scale).astype(a.dtype)


@_register_boxes(resize, changes_canvas=True)
def resize_bounding_boxes(bounding_boxes: Tensor, canvas_size: tuple[int, int],
                          size: list[int] | None, max_size: int | None = None,
                          format: BoundingBoxFormat = BoundingBoxFormat.XYXY,
                          clamping_mode: str | None = "soft"
                          ) -> tuple[Tensor, tuple[int, int]]:
    """Boxes scaled to the resized canvas; returns the boxes and the new canvas size."""
    B._check_unrotated(format, "resize")
    new_h, new_w = _output_size(canvas_size, size, max_size)
    out = _scale(B._array(bounding_boxes), new_w / canvas_size[1], new_h / canvas_size[0])
    return B._tensor(out), (new_h, new_w)


@_register_keypoints(resize, changes_canvas=True)
def resize_keypoints(keypoints: Tensor, canvas_size: tuple[int, int], size: list[int] | None,
                     max_size: int | None = None) -> tuple[Tensor, tuple[int, int]]:
    """Key points scaled to the resized canvas."""
    new_h, new_w = _output_size(canvas_size, size, max_size)
    a = B._array(keypoints)
    xp = xp_of(a)
    f = a.astype(B._work_dtype(a))
    scale = xp.asarray(np.array([new_w / canvas_size[1], new_h / canvas_size[0]]),
                       dtype=f.dtype)
    return B._tensor((f * scale).astype(a.dtype)), (new_h, new_w)


def resized_crop(inpt: Tensor, top: int, left: int, height: int, width: int, size: list[int],
                 interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
                 antialias: bool | None = True) -> Tensor:
    """Crop the window (top, left, height, width), then resize it to ``size``."""
    return _dispatch(resized_crop, inpt, top=top, left=left, height=height, width=width,
                     size=size, interpolation=interpolation, antialias=antialias)


@_register(resized_crop, Tensor, Image, Video)
def resized_crop_image(image: Tensor, top: int, left: int, height: int, width: int,
                       size: list[int],
                       interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
                       antialias: bool | None = True) -> Tensor:
    """Crop then resize a tensor image."""
    image = crop_image(image, top, left, height, width)
    return resize_image(image, size, interpolation=interpolation, antialias=antialias)


resized_crop_video = resized_crop_image


@_register(resized_crop, "PIL")
def _resized_crop_pil(image, top, left, height, width, size,
                      interpolation=InterpolationMode.BILINEAR, antialias=True):
    image = F_pil.crop(image, top, left, height, width)
    return _resize_pil(image, size, interpolation=interpolation)


@_register(resized_crop, Mask)
def resized_crop_mask(mask: Tensor, top: int, left: int, height: int, width: int,
                      size: list[int]) -> Tensor:
    """Crop then resize a mask (nearest interpolation)."""
    return resize_mask(crop_image(mask, top, left, height, width), size)


@_register_boxes(resized_crop, changes_canvas=True)
def resized_crop_bounding_boxes(bounding_boxes: Tensor, format: BoundingBoxFormat, top: int,
                                left: int, height: int, width: int, size: list[int],
                                clamping_mode: str | None = "soft"
                                ) -> tuple[Tensor, tuple[int, int]]:
    """Boxes after a crop then a resize; returns the boxes and the new canvas size."""
    boxes, canvas = crop_bounding_boxes(bounding_boxes, format, top, left, height, width,
                                        clamping_mode=clamping_mode)
    return resize_bounding_boxes(boxes, canvas, size, format=format,
                                 clamping_mode=clamping_mode)


@_register_keypoints(resized_crop, changes_canvas=True)
def resized_crop_keypoints(keypoints: Tensor, top: int, left: int, height: int, width: int,
                           size: list[int]) -> tuple[Tensor, tuple[int, int]]:
    """Key points after a crop then a resize."""
    points, canvas = crop_keypoints(keypoints, top, left, height, width)
    return resize_keypoints(points, canvas, size)


# -- five / ten crop ----------------------------------------------------------------------


def _crop_size(size) -> tuple[int, int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, (tuple, list)) and len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError("Please provide only two dimensions (h, w) for size.")
    return size[0], size[1]


def five_crop(inpt: Tensor, size: list[int]):
    """The four corner crops and the center crop of ``size``: (tl, tr, bl, br, center)."""
    return _dispatch(five_crop, inpt, size=size)


@_register(five_crop, Tensor, Image, Video)
def five_crop_image(image: Tensor, size: list[int]):
    """Five crops of a tensor image (see :func:`five_crop`)."""
    ch, cw = _crop_size(size)
    h, w = image.shape[-2:]
    if ch > h or cw > w:
        raise ValueError(f"Requested crop size {(ch, cw)} is bigger than input size "
                         f"{(h, w)}")
    return (crop_image(image, 0, 0, ch, cw), crop_image(image, 0, w - cw, ch, cw),
            crop_image(image, h - ch, 0, ch, cw), crop_image(image, h - ch, w - cw, ch, cw),
            center_crop_image(image, [ch, cw]))


five_crop_video = five_crop_image


@_register(five_crop, "PIL")
def _five_crop_pil(image, size):
    return F1.five_crop(image, list(_crop_size(size)))


def ten_crop(inpt: Tensor, size: list[int], vertical_flip: bool = False):
    """The five crops of ``size`` and the five crops of the flipped input (horizontal
    flip, or vertical with ``vertical_flip``)."""
    return _dispatch(ten_crop, inpt, size=size, vertical_flip=vertical_flip)


@_register(ten_crop, Tensor, Image, Video)
def ten_crop_image(image: Tensor, size: list[int], vertical_flip: bool = False):
    """Ten crops of a tensor image (see :func:`ten_crop`)."""
    flipped = F_t.vflip(image) if vertical_flip else F_t.hflip(image)
    return five_crop_image(image, size) + five_crop_image(flipped, size)


ten_crop_video = ten_crop_image


@_register(ten_crop, "PIL")
def _ten_crop_pil(image, size, vertical_flip=False):
    return F1.ten_crop(image, list(_crop_size(size)), vertical_flip)
