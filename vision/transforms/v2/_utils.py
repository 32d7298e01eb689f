"""Helpers of the v2 transforms: argument checks and parsing, and queries over the flat
list of a sample's inputs (``query_size``, ``query_chw``, ``has_any``...)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from ..._pil import is_pil_image
from ...tv_tensors import BoundingBoxes, Image, KeyPoints, Mask, Video
from .functional import get_dimensions, get_size, is_pure_tensor

__all__ = ["check_type", "has_any", "has_all", "query_size", "query_chw",
           "get_bounding_boxes", "get_keypoints"]


def _matches(obj: Any, kind) -> bool:
    return isinstance(obj, kind) if isinstance(kind, type) else bool(kind(obj))


def check_type(obj: Any, types_or_checks: tuple) -> bool:
    """Whether ``obj`` is an instance of one of the types or passes one of the checks
    (callables) in ``types_or_checks``."""
    return any(_matches(obj, kind) for kind in types_or_checks)


def has_any(flat_inputs: list[Any], *types_or_checks) -> bool:
    """Whether some input matches one of ``types_or_checks``."""
    return any(check_type(leaf, types_or_checks) for leaf in flat_inputs)


def has_all(flat_inputs: list[Any], *types_or_checks) -> bool:
    """Whether each of ``types_or_checks`` is matched by some input."""
    return all(has_any(flat_inputs, kind) for kind in types_or_checks)


def _single(found: set, what: str, none_error: str):
    """The one value in ``found``; several distinct ones, or none, raise."""
    if len(found) == 1:
        return next(iter(found))
    if not found:
        raise TypeError(none_error)
    listed = ", ".join(f"'{value}'" for value in sorted(found))
    raise ValueError(f"Found multiple {what} dimensions in the sample: {listed}")


def query_chw(flat_inputs: list[Any]) -> tuple[int, int, int]:
    """The (C, H, W) shared by the images and videos of a sample."""
    kinds = (is_pure_tensor, Image, is_pil_image, Video)
    found = set()
    for leaf in flat_inputs:
        if check_type(leaf, kinds):
            found.add(tuple(get_dimensions(leaf)))
    return _single(found, "CxHxW", "No image or video was found in the sample")


def query_size(flat_inputs: list[Any]) -> tuple[int, int]:
    """The (H, W) shared by the images, videos, masks, boxes and key points of a sample."""
    kinds = (is_pure_tensor, Image, is_pil_image, Video, Mask, BoundingBoxes, KeyPoints)
    found = set()
    for leaf in flat_inputs:
        if check_type(leaf, kinds):
            found.add(tuple(get_size(leaf)))
    return _single(found, "HxW",
                   "No image, video, mask, bounding box of keypoint was found in the sample")


def get_bounding_boxes(flat_inputs: list[Any]) -> BoundingBoxes:
    """The (first) BoundingBoxes of a sample."""
    for inpt in flat_inputs:
        if isinstance(inpt, BoundingBoxes):
            return inpt
    raise ValueError("No bounding boxes were found in the sample")


def get_keypoints(flat_inputs: list[Any]) -> KeyPoints:
    """The (first) KeyPoints of a sample."""
    for inpt in flat_inputs:
        if isinstance(inpt, KeyPoints):
            return inpt
    raise ValueError("No keypoints were found in the sample")


# -- argument parsing ---------------------------------------------------------------------

_NUMBER = (int, float)


def _lengths_text(allowed: Sequence[int]) -> str:
    return " or ".join(str(n) for n in allowed)


def _check_sequence(x, name: str, req_sizes: Sequence[int]) -> None:
    """Raise unless ``x`` is a sequence whose length is one of ``req_sizes``."""
    problem = None
    if not isinstance(x, Sequence):
        problem = TypeError
    elif len(x) not in req_sizes:
        problem = ValueError
    if problem is not None:
        raise problem(f"{name} should be a sequence of length {_lengths_text(req_sizes)}.")


def _number_or_range(arg, name: str) -> list[float]:
    """[lo, hi] from one number (used for both ends) or a sequence of one or two."""
    if isinstance(arg, _NUMBER):
        return [float(arg)] * 2
    if not isinstance(arg, Sequence):
        raise TypeError(f"{name} should be a number or a sequence of numbers. Got {type(arg)}")
    if len(arg) not in (1, 2):
        raise ValueError(f"If {name} is a sequence its length should be 1 or 2. Got {len(arg)}")
    bad = [v for v in arg if not isinstance(v, _NUMBER)]
    if bad:
        raise ValueError(f"{name} should be a sequence of numbers. Got {type(bad[0])}")
    return [float(arg[0]), float(arg[-1])]


def _size_pair(size, error_msg: str) -> Sequence[int]:
    """(h, w) from one int (a square) or a sequence of one or two (kept as given)."""
    if isinstance(size, numbers.Number):
        side = int(size)
        return side, side
    count = len(size)
    if count == 1 and isinstance(size, Sequence):
        return size[0], size[0]
    if count == 2:
        return size
    raise ValueError(error_msg)


def _angle_range(x, name: str, req_sizes=(2,)) -> list[float]:
    """[lo, hi] angles (or more values, e.g. two shear ranges) from d (for [-d, d]) or a
    sequence of an allowed length."""
    if not isinstance(x, numbers.Number):
        _check_sequence(x, name, req_sizes)
        return [float(v) for v in x]
    if x < 0:
        raise ValueError(f"If {name} is a single number, it must be positive.")
    return [-float(x), float(x)]


def _validate_fill(fill) -> None:
    values = fill.values() if isinstance(fill, dict) else [fill]
    if any(v is not None and not isinstance(v, (numbers.Number, tuple, list))
           for v in values):
        raise TypeError("Got inappropriate fill arg, only Numbers, tuples, lists and dicts "
                        "are allowed.")


def _fill_value(fill):
    return [float(v) for v in fill] if isinstance(fill, (tuple, list)) else fill


def _fill_per_type(fill) -> dict:
    """``fill`` as a mapping from input type to fill value (one value for all types unless
    a dict was given)."""
    _validate_fill(fill)
    if isinstance(fill, dict):
        return {k: _fill_value(v) for k, v in fill.items()}
    return {"__all__": _fill_value(fill)}


def _fill_for(fill_per_type: dict, inpt_type: type):
    """The fill of inputs of ``inpt_type``: the all-types value, or that of the nearest
    class in its MRO, or the "others" entry, or None."""
    if "__all__" in fill_per_type:
        return fill_per_type["__all__"]
    keys = [cls for cls in inpt_type.__mro__ if cls in fill_per_type] + ["others"]
    return fill_per_type.get(keys[0])


def _validate_padding(padding) -> None:
    if isinstance(padding, numbers.Number):
        return
    if not isinstance(padding, (tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a "
                         f"{len(padding)} element tuple")


def _validate_padding_mode(padding_mode: str) -> None:
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
