"""``BoundingBoxes`` and ``BoundingBoxFormat``: boxes tagged with their coordinate format
and the (height, width) of the image they belong to."""

from __future__ import annotations

from enum import Enum
from typing import Any

from ._tv_tensor import TVTensor

__all__ = ["BoundingBoxFormat", "BoundingBoxes", "is_rotated_bounding_format"]


class BoundingBoxFormat(Enum):
    """How the coordinates of a box are given.

    ``XYXY``: left, top, right, bottom. ``XYWH``: left, top, width, height. ``CXCYWH``:
    center x, center y, width, height. The rotated formats add an angle in degrees
    (``XYWHR``, ``CXCYWHR``) or list the four corners (``XYXYXYXY``). ember converts between
    the rotated formats but does not transform rotated boxes geometrically yet.
    """

    XYXY = "XYXY"
    XYWH = "XYWH"
    CXCYWH = "CXCYWH"
    XYWHR = "XYWHR"
    CXCYWHR = "CXCYWHR"
    XYXYXYXY = "XYXYXYXY"


_ROTATED = frozenset({BoundingBoxFormat.XYWHR, BoundingBoxFormat.CXCYWHR,
                      BoundingBoxFormat.XYXYXYXY})

_CLAMPING_MODES = (None, "hard", "soft")


def _parse_format(format: Any) -> BoundingBoxFormat:
    if isinstance(format, BoundingBoxFormat):
        return format
    if isinstance(format, str):
        return BoundingBoxFormat[format.upper()]
    raise ValueError(f"format should be str or BoundingBoxFormat, got {type(format)}")


def is_rotated_bounding_format(format: BoundingBoxFormat | str) -> bool:
    """Whether ``format`` describes rotated boxes (``XYWHR``, ``CXCYWHR``, ``XYXYXYXY``)."""
    return _parse_format(format) in _ROTATED


def _check_clamping_mode(clamping_mode) -> None:
    if clamping_mode not in _CLAMPING_MODES:
        raise ValueError(f"clamping_mode must be None, hard or soft, got {clamping_mode}.")


class BoundingBoxes(TVTensor):
    """Boxes (N, K) of one image: K = 4 values per box in ``format`` (rotated formats have
    5 or 8), on a canvas of ``canvas_size`` = (height, width).

    Keep all the boxes of a sample in one ``BoundingBoxes``; geometric transforms move
    them with the image and update ``canvas_size``.

    Args:
        data: the coordinates, as a tensor or anything ``ember.as_tensor`` accepts; one box
            may be given as a 1D row.
        format (BoundingBoxFormat or str): the coordinate format (case-insensitive name).
        canvas_size (tuple): (height, width) of the image the boxes belong to.
        clamping_mode (str or None): how transforms keep boxes inside the canvas: "soft"
            (default) or "hard" clamp them (the two differ only for rotated boxes); None
            leaves them unclamped.
        dtype (ember.dtype, optional): dtype of the result; that of ``data`` by default.
        device (ember.device, optional): device of the result.
        requires_grad (bool, optional): whether autograd records operations.
    """

    format: BoundingBoxFormat
    canvas_size: tuple[int, int]
    clamping_mode: str | None

    def __new__(cls, data: Any, *, format: BoundingBoxFormat | str,
                canvas_size: tuple[int, int], clamping_mode: str | None = "soft",
                dtype=None, device=None, requires_grad: bool | None = None) -> BoundingBoxes:
        coords = cls._as_plain(data, dtype, device, requires_grad)
        if coords.ndim not in (1, 2):
            raise ValueError(f"Expected a 1D or 2D tensor, got {coords.ndim}D")
        _check_clamping_mode(clamping_mode)
        if is_rotated_bounding_format(format) and not coords.is_floating_point():
            raise ValueError(f"Rotated bounding boxes should be floating point tensors, got "
                             f"{coords.dtype}.")
        return cls._wrap(coords, format=format, canvas_size=canvas_size,
                         clamping_mode=clamping_mode)

    def __init__(self, *args, **kwargs) -> None:
        pass

    @classmethod
    def _wrap(cls, tensor, *, format, canvas_size, clamping_mode="soft"):
        """Boxes sharing ``tensor``'s data; one box may be given as a 1D row."""
        rows = tensor[None] if tensor.ndim == 1 else tensor
        return super()._wrap(rows, format=_parse_format(format),
                             canvas_size=tuple(canvas_size), clamping_mode=clamping_mode)

    def _metadata(self) -> dict:
        return {"format": self.format, "canvas_size": self.canvas_size,
                "clamping_mode": self.clamping_mode}

    def _extra_repr(self) -> str:
        return (f"format={self.format}, canvas_size={self.canvas_size}, "
                f"clamping_mode={self.clamping_mode}")
