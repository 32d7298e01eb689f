"""Box utilities: format conversion, areas, IoU variants, clipping, NMS.

Boxes are (N, 4) tensors in ``(x1, y1, x2, y2)`` format with ``0 <= x1 < x2`` and
``0 <= y1 < y2`` unless a function says otherwise, as in ``torchvision.ops.boxes``. The IoU
functions are written with ember ops, so they are differentiable; ``nms`` and
``batched_nms`` return indices and are not.
"""

from __future__ import annotations

import math

import ember
import numpy as np
from ember import Tensor

__all__ = ["box_convert", "box_area", "box_iou", "generalized_box_iou", "distance_box_iou",
           "complete_box_iou", "clip_boxes_to_image", "remove_small_boxes", "nms",
           "batched_nms", "masks_to_boxes"]

_FORMATS = ("xyxy", "xywh", "cxcywh")


def _upcast(t: Tensor) -> Tensor:
    """Protects from numerical overflows in multiplications by upcasting to the equivalent
    higher type (float16 -> float32, small ints -> int32)."""
    if t.is_floating_point():
        return t if t.dtype in (ember.float32, ember.float64) else t.float()
    return t if t.dtype in (ember.int32, ember.int64) else t.int()


def _check_boxes(boxes: Tensor, name: str, what: str = "boxes") -> None:
    if not isinstance(boxes, Tensor):
        raise TypeError(f"{name}: expected {what} to be a Tensor, got {type(boxes).__name__}")
    if boxes.ndim < 1 or boxes.shape[-1] != 4:
        raise ValueError(f"{name}: {what} must have shape (..., 4), got {list(boxes.shape)}")


def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    """Converts ``boxes`` from ``in_fmt`` to ``out_fmt``.

    Supported formats: ``'xyxy'`` (corners), ``'xywh'`` (top-left corner, width, height) and
    ``'cxcywh'`` (center, width, height).

    Args:
        boxes (Tensor[N, 4]): boxes which will be converted.
        in_fmt (str): Input format of given boxes.
        out_fmt (str): Output format of given boxes.

    Returns:
        Tensor[N, 4]: Boxes into converted format.
    """
    if in_fmt not in _FORMATS or out_fmt not in _FORMATS:
        raise ValueError(f"Unsupported Bounding Box Conversions for given in_fmt {in_fmt!r} "
                         f"and out_fmt {out_fmt!r}; supported: {', '.join(_FORMATS)}")
    _check_boxes(boxes, "box_convert")
    if in_fmt == out_fmt:
        return boxes.clone()
    a, b, c, d = boxes.unbind(-1)
    if in_fmt == "xywh":
        a, b, c, d = a, b, a + c, b + d
    elif in_fmt == "cxcywh":
        a, b, c, d = a - 0.5 * c, b - 0.5 * d, a + 0.5 * c, b + 0.5 * d
    # now xyxy
    if out_fmt == "xywh":
        a, b, c, d = a, b, c - a, d - b
    elif out_fmt == "cxcywh":
        a, b, c, d = (a + c) / 2, (b + d) / 2, c - a, d - b
    return ember.stack((a, b, c, d), dim=-1)


def box_area(boxes: Tensor) -> Tensor:
    """Computes the area of a set of bounding boxes, which are specified by their
    (x1, y1, x2, y2) coordinates.

    Args:
        boxes (Tensor[N, 4]): boxes for which the area will be computed.

    Returns:
        Tensor[N]: the area for each box
    """
    _check_boxes(boxes, "box_area")
    boxes = _upcast(boxes)
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def _box_inter_union(boxes1: Tensor, boxes2: Tensor) -> tuple[Tensor, Tensor]:
    area1 = box_area(boxes1)
    area2 = box_area(boxes2)
    lt = ember.maximum(boxes1[:, None, :2], boxes2[:, :2])  # (N, M, 2)
    rb = ember.minimum(boxes1[:, None, 2:], boxes2[:, 2:])  # (N, M, 2)
    wh = _upcast(rb - lt).clamp(min=0)
    inter = wh[:, :, 0] * wh[:, :, 1]  # (N, M)
    union = area1[:, None] + area2 - inter
    return inter, union


def box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Return intersection-over-union (Jaccard index) between two sets of boxes.

    Both sets of boxes are expected to be in ``(x1, y1, x2, y2)`` format with
    ``0 <= x1 < x2`` and ``0 <= y1 < y2``.

    Args:
        boxes1 (Tensor[N, 4]): first set of boxes
        boxes2 (Tensor[M, 4]): second set of boxes

    Returns:
        Tensor[N, M]: the NxM matrix containing the pairwise IoU values for every element in
        boxes1 and boxes2
    """
    _check_boxes(boxes1, "box_iou", "boxes1")
    _check_boxes(boxes2, "box_iou", "boxes2")
    inter, union = _box_inter_union(boxes1, boxes2)
    return inter / union


def generalized_box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Return generalized intersection-over-union (Jaccard index) between two sets of boxes.

    Args:
        boxes1 (Tensor[N, 4]): first set of boxes
        boxes2 (Tensor[M, 4]): second set of boxes

    Returns:
        Tensor[N, M]: the NxM matrix containing the pairwise generalized IoU values for every
        element in boxes1 and boxes2
    """
    _check_boxes(boxes1, "generalized_box_iou", "boxes1")
    _check_boxes(boxes2, "generalized_box_iou", "boxes2")
    inter, union = _box_inter_union(boxes1, boxes2)
    iou = inter / union
    lti = ember.minimum(boxes1[:, None, :2], boxes2[:, :2])
    rbi = ember.maximum(boxes1[:, None, 2:], boxes2[:, 2:])
    whi = _upcast(rbi - lti).clamp(min=0)  # (N, M, 2)
    areai = whi[:, :, 0] * whi[:, :, 1]
    return iou - (areai - union) / areai


def _box_diou_iou(boxes1: Tensor, boxes2: Tensor, eps: float = 1e-7) -> tuple[Tensor, Tensor]:
    iou = box_iou(boxes1, boxes2)
    lti = ember.minimum(boxes1[:, None, :2], boxes2[:, :2])
    rbi = ember.maximum(boxes1[:, None, 2:], boxes2[:, 2:])
    whi = _upcast(rbi - lti).clamp(min=0)  # (N, M, 2)
    diagonal_distance_squared = (whi[:, :, 0] ** 2) + (whi[:, :, 1] ** 2) + eps
    x_p = (boxes1[:, 0] + boxes1[:, 2]) / 2
    y_p = (boxes1[:, 1] + boxes1[:, 3]) / 2
    x_g = (boxes2[:, 0] + boxes2[:, 2]) / 2
    y_g = (boxes2[:, 1] + boxes2[:, 3]) / 2
    centers_distance_squared = (_upcast(x_p[:, None] - x_g[None, :]) ** 2) + \
        (_upcast(y_p[:, None] - y_g[None, :]) ** 2)
    return iou - (centers_distance_squared / diagonal_distance_squared), iou


def distance_box_iou(boxes1: Tensor, boxes2: Tensor, eps: float = 1e-7) -> Tensor:
    """Return distance intersection-over-union (Jaccard index) between two sets of boxes.

    Args:
        boxes1 (Tensor[N, 4]): first set of boxes
        boxes2 (Tensor[M, 4]): second set of boxes
        eps (float, optional): small number to prevent division by zero. Default: 1e-7

    Returns:
        Tensor[N, M]: the NxM matrix containing the pairwise distance IoU values for every
        element in boxes1 and boxes2
    """
    _check_boxes(boxes1, "distance_box_iou", "boxes1")
    _check_boxes(boxes2, "distance_box_iou", "boxes2")
    boxes1 = _upcast(boxes1)
    boxes2 = _upcast(boxes2)
    diou, _ = _box_diou_iou(boxes1, boxes2, eps=eps)
    return diou


def complete_box_iou(boxes1: Tensor, boxes2: Tensor, eps: float = 1e-7) -> Tensor:
    """Return complete intersection-over-union (Jaccard index) between two sets of boxes.

    Args:
        boxes1 (Tensor[N, 4]): first set of boxes
        boxes2 (Tensor[M, 4]): second set of boxes
        eps (float, optional): small number to prevent division by zero. Default: 1e-7

    Returns:
        Tensor[N, M]: the NxM matrix containing the pairwise complete IoU values for every
        element in boxes1 and boxes2
    """
    _check_boxes(boxes1, "complete_box_iou", "boxes1")
    _check_boxes(boxes2, "complete_box_iou", "boxes2")
    boxes1 = _upcast(boxes1)
    boxes2 = _upcast(boxes2)
    diou, iou = _box_diou_iou(boxes1, boxes2, eps)
    w_pred = boxes1[:, None, 2] - boxes1[:, None, 0]
    h_pred = boxes1[:, None, 3] - boxes1[:, None, 1]
    w_gt = boxes2[:, 2] - boxes2[:, 0]
    h_gt = boxes2[:, 3] - boxes2[:, 1]
    v = (4 / (math.pi ** 2)) * ember.pow(ember.atan(w_pred / h_pred) - ember.atan(w_gt / h_gt),
                                         2)
    with ember.no_grad():
        alpha = v / (1 - iou + v + eps)
    return diou - alpha * v


def clip_boxes_to_image(boxes: Tensor, size: tuple[int, int]) -> Tensor:
    """Clip boxes so that they lie inside an image of size ``size``.

    Args:
        boxes (Tensor[N, 4]): boxes in ``(x1, y1, x2, y2)`` format
        size (Tuple[height, width]): size of the image

    Returns:
        Tensor[N, 4]: clipped boxes
    """
    dim = boxes.dim()
    boxes_x = boxes[..., 0::2]
    boxes_y = boxes[..., 1::2]
    height, width = size
    boxes_x = boxes_x.clamp(min=0, max=width)
    boxes_y = boxes_y.clamp(min=0, max=height)
    clipped_boxes = ember.stack((boxes_x, boxes_y), dim=dim)
    return clipped_boxes.reshape(boxes.shape)


def remove_small_boxes(boxes: Tensor, min_size: float) -> Tensor:
    """Remove every box from ``boxes`` which contains at least one side length that is smaller
    than ``min_size``.

    Args:
        boxes (Tensor[N, 4]): boxes in ``(x1, y1, x2, y2)`` format
        min_size (float): minimum size

    Returns:
        Tensor[K]: indices of the boxes that have both sides larger than ``min_size``
    """
    ws, hs = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    keep = (ws >= min_size) & (hs >= min_size)
    return ember.where(keep)[0]


# ---------------------------------------------------------------------------------------------
# non-maximum suppression

_NMS_BLOCK = 2048  # rows of the IoU matrix computed at once: memory is _NMS_BLOCK * N


def _iou_rows(xp, b, lo, hi):
    """IoU of boxes ``b[lo:hi]`` against ``b[lo:]`` (arrays), as torchvision's kernel does."""
    rows, cols = b[lo:hi], b[lo:]
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    xx1 = xp.maximum(rows[:, None, 0], cols[None, :, 0])
    yy1 = xp.maximum(rows[:, None, 1], cols[None, :, 1])
    xx2 = xp.minimum(rows[:, None, 2], cols[None, :, 2])
    yy2 = xp.minimum(rows[:, None, 3], cols[None, :, 3])
    zero = b.dtype.type(0)
    inter = xp.maximum(zero, xx2 - xx1) * xp.maximum(zero, yy2 - yy1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return inter / (area[lo:hi, None] + area[None, lo:] - inter)


def _greedy_nms(xp, b, iou_threshold, groups=None):
    """Greedy suppression of score-sorted boxes ``b`` (array (N, 4)); returns a keep mask.

    The IoU matrix is computed blockwise (``_NMS_BLOCK`` rows at a time), each block as one
    vectorised array expression; the greedy pass then walks the rows of the precomputed
    suppression matrix, skipping rows already suppressed.
    """
    n = b.shape[0]
    removed = np.zeros(n, dtype=bool)
    for lo in range(0, n, _NMS_BLOCK):
        hi = min(n, lo + _NMS_BLOCK)
        over = _iou_rows(xp, b, lo, hi) > iou_threshold  # (hi - lo, n - lo)
        if groups is not None:
            over &= groups[lo:hi, None] == groups[None, lo:]
        over = np.asarray(over.get() if hasattr(over, "get") else over)
        tail = removed[lo:]
        for i in range(hi - lo):
            if not tail[i]:
                row = over[i]
                row[: i + 1] = False
                tail |= row
    return ~removed


def _nms_impl(boxes: Tensor, scores: Tensor, iou_threshold: float, idxs=None) -> Tensor:
    if boxes.ndim != 2 or boxes.shape[-1] != 4:
        raise RuntimeError(f"boxes should be a 2d tensor of shape (N, 4), got "
                           f"{list(boxes.shape)}")
    if scores.ndim != 1 or scores.shape[0] != boxes.shape[0]:
        raise RuntimeError(f"boxes and scores should have the same number of elements in "
                           f"dimension 0, got {boxes.shape[0]} and "
                           f"{scores.shape[0] if scores.ndim else scores.shape}")
    if boxes.dtype != scores.dtype:
        raise RuntimeError(f"boxes and scores must have the same dtype, got {boxes.dtype} and "
                           f"{scores.dtype}")
    dev = boxes.device
    if boxes.shape[0] == 0:
        return ember.zeros(0, dtype=ember.int64, device=dev)
    b = boxes.detach()._data
    s = scores.detach()._data
    xp = np if isinstance(b, np.ndarray) else _xp(b)
    order = xp.argsort(-s, kind="stable")
    bs = b[order]
    groups = None if idxs is None else idxs.detach()._data[order]
    keep = _greedy_nms(xp, bs, float(iou_threshold), groups)
    kept = order[xp.asarray(keep)].astype(np.int64)
    return Tensor._make(kept, False, None, 0)


def _xp(arr):
    from ember.ops.op import xp_of

    return xp_of(arr)


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Performs non-maximum suppression (NMS) on the boxes according to their
    intersection-over-union (IoU).

    NMS iteratively removes lower scoring boxes which have an IoU greater than
    ``iou_threshold`` with another (higher scoring) box.

    Args:
        boxes (Tensor[N, 4]): boxes to perform NMS on. They are expected to be in
            ``(x1, y1, x2, y2)`` format with ``0 <= x1 < x2`` and ``0 <= y1 < y2``.
        scores (Tensor[N]): scores for each one of the boxes
        iou_threshold (float): discards all overlapping boxes with IoU > iou_threshold

    Returns:
        Tensor: int64 tensor with the indices of the elements that have been kept by NMS,
        sorted in decreasing order of scores

    Equal scores are ordered by index (a stable sort); torchvision leaves their order to
    its unstable sort.
    """
    return _nms_impl(boxes, scores, iou_threshold)


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    """Performs non-maximum suppression in a batched fashion.

    Each index value correspond to a category, and NMS will not be applied between elements
    of different categories.

    Args:
        boxes (Tensor[N, 4]): boxes where NMS will be performed. They are expected to be in
            ``(x1, y1, x2, y2)`` format with ``0 <= x1 < x2`` and ``0 <= y1 < y2``.
        scores (Tensor[N]): scores for each one of the boxes
        idxs (Tensor[N]): indices of the categories for each one of the boxes.
        iou_threshold (float): discards all overlapping boxes with IoU > iou_threshold

    Returns:
        Tensor: int64 tensor with the indices of the elements that have been kept by NMS,
        sorted in decreasing order of scores

    Boxes of different categories never suppress each other: the suppression matrix is
    masked by category (exact, unlike the coordinate-offset trick, which can round).
    """
    if idxs.ndim != 1 or idxs.shape[0] != boxes.shape[0]:
        raise RuntimeError(f"batched_nms: idxs must have shape [{boxes.shape[0]}], got "
                           f"{list(idxs.shape)}")
    return _nms_impl(boxes, scores, iou_threshold, idxs)


def masks_to_boxes(masks: Tensor) -> Tensor:
    """Compute the bounding boxes around the provided masks.

    Returns a [N, 4] tensor containing bounding boxes. The boxes are in ``(x1, y1, x2, y2)``
    format with ``0 <= x1 <= x2`` and ``0 <= y1 <= y2``.

    Args:
        masks (Tensor[N, H, W]): masks to transform where N is the number of masks and (H, W)
            are the spatial dimensions.

    Returns:
        Tensor[N, 4]: bounding boxes
    """
    if masks.numel() == 0:
        return ember.zeros((0, 4), dtype=ember.float32, device=masks.device)
    m = masks.detach()._data != 0  # (N, H, W)
    xp = np if isinstance(m, np.ndarray) else _xp(m)
    if not bool(m.any(axis=(1, 2)).all()):
        raise ValueError("masks_to_boxes: every mask must have at least one nonzero pixel")
    rows = m.any(axis=2)  # (N, H)
    cols = m.any(axis=1)  # (N, W)
    h, w = m.shape[1:]
    y1 = rows.argmax(axis=1)
    y2 = h - 1 - rows[:, ::-1].argmax(axis=1)
    x1 = cols.argmax(axis=1)
    x2 = w - 1 - cols[:, ::-1].argmax(axis=1)
    out = xp.stack([x1, y1, x2, y2], axis=1).astype(np.float32)
    return Tensor._make(out, False, None, 0)
