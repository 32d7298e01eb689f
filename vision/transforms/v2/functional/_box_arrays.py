"""Array-level helpers of the box and key-point kernels: format conversion through XYXY,
clamping to the canvas and the transform of box corners by a point map.

Boxes are (..., 4) arrays of the tensor's array module. Integer boxes are computed in
float32 and truncated back to their dtype (as torchvision does), float boxes keep their
dtype.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from ember import Tensor

from ....ops._utils import xp_of
from ....tv_tensors import BoundingBoxFormat, is_rotated_bounding_format

__all__ = []


def _array(t: Tensor):
    return t.detach()._data


def _tensor(a) -> Tensor:
    if isinstance(a, np.generic):
        a = np.asarray(a)
    return Tensor._make(a)


def _work_dtype(a):
    return a.dtype if a.dtype.kind == "f" else np.dtype(np.float32)


def _check_unrotated(format: BoundingBoxFormat, what: str) -> None:
    if is_rotated_bounding_format(format):
        raise NotImplementedError(f"ember.vision: {what} does not support rotated bounding "
                                  f"boxes (format {format.value})")


def to_xyxy(a, format: BoundingBoxFormat):
    """(..., 4) boxes in ``format`` -> XYXY, in the working float dtype for CXCYWH input."""
    xp = xp_of(a)
    if format == BoundingBoxFormat.XYXY:
        return a
    if format == BoundingBoxFormat.XYWH:
        lo = a[..., :2]
        return xp.concatenate([lo, lo + a[..., 2:]], axis=-1)
    if format == BoundingBoxFormat.CXCYWH:
        f = a.astype(_work_dtype(a))
        lo = f[..., :2] - f[..., 2:] / 2
        out = xp.concatenate([lo, lo + f[..., 2:]], axis=-1)
        return out.astype(a.dtype)
    _check_unrotated(format, "box format conversion")
    raise ValueError(f"Unknown bounding box format {format}")


def from_xyxy(a, format: BoundingBoxFormat):
    """(..., 4) XYXY boxes -> ``format``."""
    xp = xp_of(a)
    if format == BoundingBoxFormat.XYXY:
        return a
    size = a[..., 2:] - a[..., :2]
    if format == BoundingBoxFormat.XYWH:
        return xp.concatenate([a[..., :2], size], axis=-1)
    if format == BoundingBoxFormat.CXCYWH:
        f = a.astype(_work_dtype(a))
        center = (f[..., :2] + f[..., 2:]) / 2
        return xp.concatenate([center.astype(a.dtype), size], axis=-1)
    _check_unrotated(format, "box format conversion")
    raise ValueError(f"Unknown bounding box format {format}")


def convert_format(a, old: BoundingBoxFormat, new: BoundingBoxFormat):
    """Boxes from ``old`` to ``new`` format (through XYXY, or XYWHR for rotated boxes)."""
    if old == new:
        return a
    rotated = is_rotated_bounding_format(old)
    if rotated != is_rotated_bounding_format(new):
        raise ValueError("Cannot convert between rotated and unrotated bounding boxes.")
    if rotated:
        return _from_xywhr(_to_xywhr(a, old), new)
    return from_xyxy(to_xyxy(a, old), new)


def _to_xywhr(a, format: BoundingBoxFormat):
    """Rotated boxes -> XYWHR: first corner, width, height, angle (degrees,
    counter-clockwise on screen, i.e. the width edge goes along (cos r, -sin r))."""
    xp = xp_of(a)
    if format == BoundingBoxFormat.XYWHR:
        return a
    if format == BoundingBoxFormat.CXCYWHR:
        cx, cy, w, h, r = (a[..., k] for k in range(5))
        cos, sin = xp.cos(xp.deg2rad(r)), xp.sin(xp.deg2rad(r))
        x1 = cx - (w * cos + h * sin) / 2
        y1 = cy - (h * cos - w * sin) / 2
        return xp.stack([x1, y1, w, h, r], axis=-1)
    # XYXYXYXY: corners clockwise from the first one
    x1, y1, x2, y2, x4, y4 = (a[..., k] for k in (0, 1, 2, 3, 6, 7))
    w = xp.hypot(x2 - x1, y2 - y1)
    h = xp.hypot(x4 - x1, y4 - y1)
    r = xp.rad2deg(xp.arctan2(y1 - y2, x2 - x1))
    return xp.stack([x1, y1, w, h, r], axis=-1).astype(a.dtype)


def _from_xywhr(a, format: BoundingBoxFormat):
    """XYWHR boxes -> another rotated format."""
    xp = xp_of(a)
    if format == BoundingBoxFormat.XYWHR:
        return a
    x1, y1, w, h, r = (a[..., k] for k in range(5))
    cos, sin = xp.cos(xp.deg2rad(r)), xp.sin(xp.deg2rad(r))
    if format == BoundingBoxFormat.CXCYWHR:
        cx = x1 + (w * cos + h * sin) / 2
        cy = y1 + (h * cos - w * sin) / 2
        return xp.stack([cx, cy, w, h, r], axis=-1)
    x2, y2 = x1 + w * cos, y1 - w * sin  # along the width edge
    x4, y4 = x1 + h * sin, y1 + h * cos  # along the height edge
    x3, y3 = x2 + h * sin, y2 + h * cos
    return xp.stack([x1, y1, x2, y2, x3, y3, x4, y4], axis=-1)


def clamp_xyxy(a, canvas_size: tuple[int, int]):
    """XYXY boxes clipped to [0, W] x [0, H]."""
    xp = xp_of(a)
    h, w = canvas_size
    hi = xp.asarray(np.array([w, h, w, h]), dtype=a.dtype)
    return xp.minimum(xp.maximum(a, xp.zeros_like(hi)), hi)


def clamp(a, format: BoundingBoxFormat, canvas_size: tuple[int, int],
          clamping_mode: str | None):
    """Boxes of ``format`` clamped to the canvas, unless ``clamping_mode`` is None."""
    if clamping_mode is None:
        return a
    _check_unrotated(format, "clamping")
    return from_xyxy(clamp_xyxy(to_xyxy(a, format), canvas_size), format)


def map_boxes(a, format: BoundingBoxFormat, canvas_size: tuple[int, int],
              point_map: Callable, clamping_mode: str | None = "soft"):
    """Boxes through a point map ``(n, 2) float array -> (n, 2)``: the four corners of each
    box are mapped and the result is their enclosing axis-aligned box (clamped to
    ``canvas_size`` unless ``clamping_mode`` is None)."""
    xp = xp_of(a)
    lead = a.shape[:-1]
    xyxy = to_xyxy(a, format).reshape(-1, 4).astype(_work_dtype(a))
    x1, y1, x2, y2 = xyxy[:, 0], xyxy[:, 1], xyxy[:, 2], xyxy[:, 3]
    corners = xp.stack([xp.stack([x1, y1], -1), xp.stack([x2, y1], -1),
                        xp.stack([x1, y2], -1), xp.stack([x2, y2], -1)], axis=1)  # (N, 4, 2)
    mapped = point_map(corners.reshape(-1, 2)).reshape(-1, 4, 2).astype(xyxy.dtype)
    out = xp.concatenate([mapped.min(axis=1), mapped.max(axis=1)], axis=-1)  # (N, 4)
    if clamping_mode is not None:
        out = clamp_xyxy(out, canvas_size)
    out = out.astype(a.dtype).reshape(lead + (4,))
    return from_xyxy(out, format)
