"""Functionals about sizes and box metadata: ``get_dimensions``, ``get_size``,
``get_num_channels``, ``get_num_frames``, ``convert_bounding_box_format``,
``clamp_bounding_boxes``, ``sanitize_bounding_boxes`` and ``clamp_keypoints``."""

from __future__ import annotations

import warnings

import numpy as np
from ember import Tensor

from ....ops._utils import xp_of
from ....tv_tensors import BoundingBoxes, BoundingBoxFormat, Image, KeyPoints, Mask, Video
from ....tv_tensors._bounding_boxes import _check_clamping_mode, _parse_format
from ... import _functional_pil as F_pil
from . import _box_arrays as B
from ._utils import _dispatch, _plain, _register, is_pure_tensor

__all__ = ["get_dimensions", "get_dimensions_image", "get_dimensions_video",
           "get_num_channels", "get_num_channels_image", "get_num_channels_video",
           "get_image_num_channels", "get_size", "get_size_image", "get_size_video",
           "get_size_mask", "get_size_bounding_boxes", "get_size_keypoints",
           "get_image_size", "get_num_frames", "get_num_frames_video",
           "convert_bounding_box_format", "clamp_bounding_boxes", "sanitize_bounding_boxes",
           "clamp_keypoints", "sanitize_keypoints"]


def _image_chw(image: Tensor) -> list[int]:
    if image.ndim < 2:
        raise TypeError(f"Input tensor should have at least two dimensions, but got "
                        f"{image.ndim}")
    c = image.shape[-3] if image.ndim > 2 else 1
    return [c, image.shape[-2], image.shape[-1]]


# -- dimensions ---------------------------------------------------------------------------


def get_dimensions(inpt: Tensor) -> list[int]:
    """[channels, height, width] of an image or video (tensor, ``Image``, ``Video`` or
    PIL image)."""
    return _dispatch(get_dimensions, inpt)


@_register(get_dimensions, Tensor, Image, wrap=False)
def get_dimensions_image(image: Tensor) -> list[int]:
    """[channels, height, width] of a tensor image (..., C, H, W)."""
    return _image_chw(image)


@_register(get_dimensions, Video, wrap=False)
def get_dimensions_video(video: Tensor) -> list[int]:
    """[channels, height, width] of a video (..., T, C, H, W)."""
    return _image_chw(video)


_register(get_dimensions, "PIL")(F_pil.get_dimensions)


def get_num_channels(inpt: Tensor) -> int:
    """The number of channels of an image or video."""
    return _dispatch(get_num_channels, inpt)


@_register(get_num_channels, Tensor, Image, wrap=False)
def get_num_channels_image(image: Tensor) -> int:
    """The number of channels of a tensor image."""
    return _image_chw(image)[0]


@_register(get_num_channels, Video, wrap=False)
def get_num_channels_video(video: Tensor) -> int:
    """The number of channels of a video."""
    return _image_chw(video)[0]


_register(get_num_channels, "PIL")(F_pil.get_image_num_channels)

get_image_num_channels = get_num_channels


def get_size(inpt: Tensor) -> list[int]:
    """[height, width] of an image, video, mask, or the canvas of boxes and key points."""
    return _dispatch(get_size, inpt)


@_register(get_size, Tensor, Image, wrap=False)
def get_size_image(image: Tensor) -> list[int]:
    """[height, width] of a tensor image."""
    return _image_chw(image)[1:]


@_register(get_size, Video, wrap=False)
def get_size_video(video: Tensor) -> list[int]:
    """[height, width] of a video."""
    return _image_chw(video)[1:]


@_register(get_size, Mask, wrap=False)
def get_size_mask(mask: Tensor) -> list[int]:
    """[height, width] of a mask (..., H, W)."""
    return list(mask.shape[-2:])


@_register(get_size, BoundingBoxes, wrap=False)
def get_size_bounding_boxes(bounding_box: BoundingBoxes) -> list[int]:
    """The canvas size [height, width] of boxes."""
    return list(bounding_box.canvas_size)


@_register(get_size, KeyPoints, wrap=False)
def get_size_keypoints(keypoints: KeyPoints) -> list[int]:
    """The canvas size [height, width] of key points."""
    return list(keypoints.canvas_size)


@_register(get_size, "PIL")
def _get_size_pil(image) -> list[int]:
    return [image.height, image.width]


def get_image_size(inpt: Tensor) -> list[int]:
    """[width, height] of an image (the v1 order). Deprecated: use ``get_size``."""
    warnings.warn("The function `get_image_size(...)` is deprecated and will be removed in a "
                  "future release. Instead, please use `get_size(...)` which returns `[h, w]` "
                  "instead of `[w, h]`.", stacklevel=2)
    return list(reversed(get_size(inpt)))


def get_num_frames(inpt: Tensor) -> int:
    """The number of frames T of a video (..., T, C, H, W)."""
    return _dispatch(get_num_frames, inpt)


@_register(get_num_frames, Tensor, Video, wrap=False)
def get_num_frames_video(video: Tensor) -> int:
    """The number of frames T of a video (..., T, C, H, W)."""
    return video.shape[-4]


# -- box metadata -------------------------------------------------------------------------


def convert_bounding_box_format(inpt: Tensor, old_format: BoundingBoxFormat | None = None,
                                new_format: BoundingBoxFormat | None = None,
                                inplace: bool = False) -> Tensor:
    """Convert boxes between the XYXY, XYWH and CXCYWH formats.

    For a :class:`~ember.vision.tv_tensors.BoundingBoxes` input the current format is
    known and ``old_format`` must not be given; a plain tensor needs ``old_format``.
    ``inplace`` writes the result into ``inpt``.
    """
    if new_format is None:
        raise TypeError("convert_bounding_box_format() missing 1 required argument: "
                        "'new_format'")
    new_format = _parse_format(new_format)
    if is_pure_tensor(inpt):
        if old_format is None:
            raise ValueError("For pure tensor inputs, `old_format` has to be passed.")
        out = B.convert_format(B._array(inpt), _parse_format(old_format), new_format)
        return _write(inpt, out, inplace)
    if isinstance(inpt, BoundingBoxes):
        if old_format is not None:
            raise ValueError("For bounding box tv_tensor inputs, `old_format` must not be "
                             "passed.")
        out = B.convert_format(B._array(inpt), inpt.format, new_format)
        out = _write(_plain(inpt), out, inplace)
        if inplace:
            inpt.format = new_format
            return inpt
        return BoundingBoxes._wrap(out, format=new_format, canvas_size=inpt.canvas_size,
                                   clamping_mode=inpt.clamping_mode)
    raise TypeError(f"Input can either be a plain tensor or a bounding box tv_tensor, but got "
                    f"{type(inpt)} instead.")


def _write(t: Tensor, out, inplace: bool) -> Tensor:
    if inplace:
        t._data[...] = out
        return t
    return B._tensor(out)


def clamp_bounding_boxes(inpt: Tensor, format: BoundingBoxFormat | None = None,
                         canvas_size: tuple[int, int] | None = None,
                         clamping_mode: str | None = "auto") -> Tensor:
    """Clamp boxes to their canvas: coordinates are clipped to [0, W] x [0, H].

    ``clamping_mode="auto"`` uses the boxes' own ``clamping_mode``; ``None`` leaves them
    as they are. A plain tensor needs ``format``, ``canvas_size`` and an explicit
    ``clamping_mode``.
    """
    if clamping_mode is not None and clamping_mode != "auto":
        _check_clamping_mode(clamping_mode)
    if is_pure_tensor(inpt):
        if format is None or canvas_size is None or clamping_mode == "auto":
            raise ValueError("For pure tensor inputs, `format`, `canvas_size` and "
                             "`clamping_mode` have to be passed.")
        fmt = _parse_format(format)
        return B._tensor(B.clamp(B._array(inpt), fmt, tuple(canvas_size), clamping_mode))
    if isinstance(inpt, BoundingBoxes):
        if format is not None or canvas_size is not None:
            raise ValueError("For bounding box tv_tensor inputs, `format` and `canvas_size` "
                             "must not be passed.")
        mode = inpt.clamping_mode if clamping_mode == "auto" else clamping_mode
        out = B.clamp(B._array(inpt), inpt.format, inpt.canvas_size, mode)
        return BoundingBoxes._wrap(B._tensor(out), **inpt._metadata())
    raise TypeError(f"Input can either be a plain tensor or a bounding box tv_tensor, but got "
                    f"{type(inpt)} instead.")


def sanitize_bounding_boxes(bounding_boxes: Tensor, format: BoundingBoxFormat | None = None,
                            canvas_size: tuple[int, int] | None = None,
                            min_size: float = 1.0, min_area: float = 1.0
                            ) -> tuple[Tensor, Tensor]:
    """Drop invalid boxes; returns the kept boxes and the boolean mask of kept boxes.

    A box is kept when its width and height are at least ``min_size``, its area at least
    ``min_area`` (so degenerate boxes, e.g. X2 <= X1, go by default) and all its corners
    lie inside the canvas. Use the mask to select the labels (or other per-box tensors).
    Clamping the boxes first avoids dropping those that only stick out of the image.
    """
    if is_pure_tensor(bounding_boxes):
        if format is None or canvas_size is None:
            raise ValueError("For pure tensor inputs, `format` and `canvas_size` have to be "
                             "passed.")
        fmt, size = _parse_format(format), tuple(canvas_size)
    elif isinstance(bounding_boxes, BoundingBoxes):
        if format is not None or canvas_size is not None:
            raise ValueError("For bounding box tv_tensor inputs, `format` and `canvas_size` "
                             "must not be passed.")
        fmt, size = bounding_boxes.format, bounding_boxes.canvas_size
    else:
        raise TypeError(f"Input can either be a plain tensor or a bounding box tv_tensor, "
                        f"but got {type(bounding_boxes)} instead.")
    valid = _valid_boxes(B._array(bounding_boxes), fmt, size, min_size, min_area)
    kept = B._tensor(B._array(bounding_boxes)[valid])
    if isinstance(bounding_boxes, BoundingBoxes):
        kept = BoundingBoxes._wrap(kept, **bounding_boxes._metadata())
    return kept, B._tensor(valid)


def _valid_boxes(a, format: BoundingBoxFormat, canvas_size: tuple[int, int],
                 min_size: float, min_area: float):
    xp = xp_of(a)
    xyxy = B.to_xyxy(a, format).astype(np.float32) if a.dtype.kind != "f" else \
        B.to_xyxy(a, format)
    ws = xyxy[..., 2] - xyxy[..., 0]
    hs = xyxy[..., 3] - xyxy[..., 1]
    h, w = canvas_size
    valid = (ws >= min_size) & (hs >= min_size) & (ws * hs >= min_area)
    valid &= (xyxy[..., 0] >= 0) & (xyxy[..., 1] >= 0)
    valid &= (xyxy[..., 2] <= w) & (xyxy[..., 3] <= h)
    return xp.asarray(valid, dtype=bool)


def clamp_keypoints(inpt: Tensor, canvas_size: tuple[int, int] | None = None) -> Tensor:
    """Clip key points (..., 2) to [0, W - 1] x [0, H - 1]."""
    if is_pure_tensor(inpt):
        if canvas_size is None:
            raise ValueError("For pure tensor inputs, `canvas_size` has to be passed.")
        return B._tensor(_clamp_points(B._array(inpt), tuple(canvas_size)))
    if isinstance(inpt, KeyPoints):
        if canvas_size is not None:
            raise ValueError("For keypoints tv_tensor inputs, `canvas_size` must not be "
                             "passed.")
        out = _clamp_points(B._array(inpt), inpt.canvas_size)
        return KeyPoints._wrap(B._tensor(out), canvas_size=inpt.canvas_size)
    raise TypeError(f"Input can either be a plain tensor or a keypoints tv_tensor, but got "
                    f"{type(inpt)} instead.")


def _clamp_points(a, canvas_size: tuple[int, int]):
    xp = xp_of(a)
    h, w = canvas_size
    hi = xp.asarray(np.array([w - 1, h - 1]), dtype=a.dtype)
    return xp.minimum(xp.maximum(a, xp.zeros_like(hi)), hi)


def sanitize_keypoints(key_points: Tensor, canvas_size: tuple[int, int] | None = None
                       ) -> tuple[Tensor, Tensor]:
    """Drop key points outside the canvas; returns the kept points and the boolean mask
    over the first axis. A point is kept when 0 <= x < W and 0 <= y < H; for groups of
    points (N, ..., 2) a group is kept only when all its points are."""
    if is_pure_tensor(key_points):
        if canvas_size is None:
            raise ValueError("For pure tensor inputs, `canvas_size` has to be passed.")
        size = tuple(canvas_size)
    elif isinstance(key_points, KeyPoints):
        if canvas_size is not None:
            raise ValueError("For keypoints tv_tensor inputs, `canvas_size` must not be "
                             "passed.")
        size = key_points.canvas_size
    else:
        raise TypeError(f"Input can either be a plain tensor or a keypoints tv_tensor, but got "
                        f"{type(key_points)} instead.")
    a = B._array(key_points)
    valid = _valid_points(a, size)
    kept = B._tensor(a[valid])
    if isinstance(key_points, KeyPoints):
        kept = KeyPoints._wrap(kept, canvas_size=size)
    return kept, B._tensor(valid)


def _valid_points(a, canvas_size: tuple[int, int]):
    h, w = canvas_size
    inside = (a[..., 0] >= 0) & (a[..., 0] < w) & (a[..., 1] >= 0) & (a[..., 1] < h)
    return inside.reshape(a.shape[0], -1).all(axis=1)
