"""Box and key-point metadata transforms: ``ConvertBoundingBoxFormat``,
``ClampBoundingBoxes``, ``SetClampingMode`` and ``ClampKeyPoints``."""

from __future__ import annotations

from typing import Any

from ...tv_tensors import BoundingBoxes, BoundingBoxFormat, KeyPoints
from ...tv_tensors._bounding_boxes import _check_clamping_mode
from . import functional as F
from ._transform import Transform

__all__ = ["ConvertBoundingBoxFormat", "ClampBoundingBoxes", "SetClampingMode",
           "ClampKeyPoints"]


class ConvertBoundingBoxFormat(Transform):
    """Convert the boxes of the sample to ``format`` (XYXY, XYWH or CXCYWH).

    Args:
        format (str or BoundingBoxFormat): the new format.
    """

    _transformed_types = (BoundingBoxes,)

    def __init__(self, format: str | BoundingBoxFormat) -> None:
        super().__init__()
        self.format = format

    def transform(self, inpt: BoundingBoxes, params: dict[str, Any]) -> BoundingBoxes:
        return F.convert_bounding_box_format(inpt, new_format=self.format)


class ClampBoundingBoxes(Transform):
    """Clamp the boxes of the sample to their canvas.

    Args:
        clamping_mode (str or None): "auto" (default) uses each box tensor's own mode;
            "soft" or "hard" clamp; None leaves the boxes unchanged.
    """

    _transformed_types = (BoundingBoxes,)

    def __init__(self, clamping_mode: str | None = "auto") -> None:
        super().__init__()
        self.clamping_mode = clamping_mode

    def transform(self, inpt: BoundingBoxes, params: dict[str, Any]) -> BoundingBoxes:
        return F.clamp_bounding_boxes(inpt, clamping_mode=self.clamping_mode)


class SetClampingMode(Transform):
    """Set the ``clamping_mode`` of the boxes of the sample (no other change).

    Args:
        clamping_mode (str or None): "soft", "hard" or None.
    """

    _transformed_types = (BoundingBoxes,)

    def __init__(self, clamping_mode: str | None) -> None:
        super().__init__()
        _check_clamping_mode(clamping_mode)
        self.clamping_mode = clamping_mode

    def transform(self, inpt: BoundingBoxes, params: dict[str, Any]) -> BoundingBoxes:
        meta = inpt._metadata()
        meta["clamping_mode"] = self.clamping_mode
        return BoundingBoxes._wrap(F._utils._plain(inpt), **meta)


class ClampKeyPoints(Transform):
    """Clamp the key points of the sample to [0, W - 1] x [0, H - 1]."""

    _transformed_types = (KeyPoints,)

    def transform(self, inpt: KeyPoints, params: dict[str, Any]) -> KeyPoints:
        return F.clamp_keypoints(inpt)
