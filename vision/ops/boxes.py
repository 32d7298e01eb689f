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
#
# torchvision's CPU kernel sorts the scores in decreasing order with a stable sort and walks
# the boxes in that order: a box not yet suppressed is kept, and suppresses every later box
# whose IoU with it, ``inter / (area_i + area_j - inter)`` computed in the boxes' dtype, is
# greater than the threshold (a double). Here the sorted boxes are resolved a block at a time
# with the same float operations: one array expression (tiled to stay in cache) suppresses the
# block's boxes that overlap a box kept so far, then the block's remaining boxes are resolved
# among themselves from their (m, m) overlap matrix, on the host, by one pass over the few rows
# that overlap anything; never a Python loop over pairs of boxes.

_NMS_BLOCK = 256  # sorted boxes resolved at once, to start with
_NMS_MAX_BLOCK = 2048  # blocks grow while few of their boxes outlive the kept ones
_NMS_TILE = 1 << 16  # elements of one pairwise temporary (about a cache's worth)


def _to_host(a):
    """``a`` as a numpy array (a copy from the device for cupy arrays)."""
    return a.get() if hasattr(a, "get") else a


def _iou_threshold(dtype, iou_threshold: float):
    """The value ``t`` of ``dtype`` such that ``x > t`` exactly when ``float(x) >
    iou_threshold`` for every ``x`` of ``dtype``: torchvision compares the IoU (in the boxes'
    dtype) with the threshold as a double, which a plain ``iou > threshold`` on float32 arrays
    would round to float32 first."""
    with np.errstate(over="ignore"):
        t = dtype.type(iou_threshold)  # beyond the dtype's range: +-inf, which compares the same
    if float(t) > iou_threshold:  # rounded up: the largest value below it compares the same
        t = np.nextafter(t, dtype.type(-np.inf))
    return t


def _overlaps(xp, rows, cols, t):
    """``IoU > t`` for every pair of ``rows`` (array (5, R): x1, y1, x2, y2, area) and
    ``cols`` (array (5, C)), as an (R, C) boolean array, with torchvision's float operations
    (all symmetric in the two boxes)."""
    rx1, ry1, rx2, ry2, ra = (v[:, None] for v in rows)
    cx1, cy1, cx2, cy2, ca = (v[None, :] for v in cols)
    w = xp.minimum(rx2, cx2)
    w -= xp.maximum(rx1, cx1)
    h = xp.minimum(ry2, cy2)
    h -= xp.maximum(ry1, cy1)
    if t >= 0:
        # torchvision clamps w and h at 0; a pair with w <= 0 or h <= 0 then has IoU 0 (or
        # NaN), never above t: masking those pairs out is the same, and cheaper
        keep = w > 0
        keep &= h > 0
    else:
        zero = xp.zeros_like(w)
        xp.maximum(w, zero, out=w)
        xp.maximum(h, zero, out=h)
    w *= h  # intersection
    xp.add(ra, ca, out=h)
    h -= w  # union
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w /= h
    over = w > t
    if t >= 0:
        over &= keep
    return over


def _suppressed_by(xp, rows, kept, t):
    """Host boolean mask of the boxes ``rows`` (array (5, R)) whose IoU with any of ``kept``
    (array (5, K)) is greater than ``t``."""
    r = rows.shape[1]
    sup = xp.zeros(r, dtype=bool)
    rstep = min(r, 4096)
    kstep = max(1, _NMS_TILE // rstep)
    for r0 in range(0, r, rstep):  # the block's boxes along the fast axis
        part = sup[r0:r0 + rstep]
        for k0 in range(0, kept.shape[1], kstep):
            part |= _overlaps(xp, kept[:, k0:k0 + kstep], rows[:, r0:r0 + rstep], t).any(axis=0)
    return _to_host(sup)


def _block_overlaps(xp, cc, t, groups=None):
    """Host (m, m) boolean matrix of ``IoU > t`` between the boxes ``cc`` (array (5, m)),
    filled on and above the diagonal of each group's square (``groups``: sorted host array,
    or None for one group), False elsewhere."""
    m = cc.shape[1]
    ov = np.zeros((m, m), dtype=bool)
    cuts = [0, m] if groups is None else [0, *(np.flatnonzero(np.diff(groups)) + 1), m]
    for a, b in zip(cuts[:-1], cuts[1:]):
        step = max(1, min(b - a, _NMS_TILE // (b - a)))
        for r0 in range(a, b - 1, step):  # row tiles, each against the columns from its first
            r1 = min(b, r0 + step)
            ov[r0:r1, r0:b] = _to_host(_overlaps(xp, cc[:, r0:r1], cc[:, r0:b], t))
    return ov


def _resolve_block(ov):
    """Keep mask of greedy NMS among ``m`` score-sorted boxes from their host (m, m) boolean
    overlap matrix, of which only the part above the diagonal counts (below it, an entry
    (i, j) is either False or ``ov[j, i]``: a kept ``j`` has removed ``i`` before ``i`` could
    remove ``j``). Only the rows that overlap some box are visited."""
    np.fill_diagonal(ov, False)
    removed = np.zeros(ov.shape[0], dtype=bool)
    for i in np.flatnonzero(ov.any(axis=1)).tolist():
        if not removed[i]:
            np.logical_or(removed, ov[i], out=removed)
    return ~removed


def _greedy_nms(xp, b, iou_threshold: float, groups=None):
    """Positions (host int64 array, increasing) of the boxes kept by greedy NMS of the
    score-sorted boxes ``b`` (array (N, 4)). ``groups`` (host array, sorted, so each group is
    contiguous) keeps boxes of different groups from suppressing each other."""
    n = b.shape[0]
    t = _iou_threshold(b.dtype, iou_threshold)
    x1, y1, x2, y2 = (b[:, i] for i in range(4))
    coords = xp.stack([x1, y1, x2, y2, (x2 - x1) * (y2 - y1)])  # (5, N)
    kept_coords = xp.empty_like(coords)  # (5, N), the first nk columns used
    kept = np.empty(n, dtype=np.int64)
    nk = 0
    lo, block = 0, _NMS_BLOCK
    while lo < n:
        hi = min(n, lo + block)
        alive = np.ones(hi - lo, dtype=bool)
        # 1. suppression by the boxes kept so far (of the block's first group: the kept boxes
        #    all come before the block, so no other group of the block has any)
        k0, r = 0, hi - lo
        if groups is not None and nk:
            g0 = groups[lo]
            k0 = int(np.searchsorted(groups[kept[:nk]], g0, side="left"))
            r = int(np.searchsorted(groups[lo:hi], g0, side="right"))
        if nk > k0:
            alive[:r] = ~_suppressed_by(xp, coords[:, lo:lo + r], kept_coords[:, k0:nk], t)
        cand = np.flatnonzero(alive) + lo
        m = cand.size
        # the next block: about _NMS_BLOCK boxes left to resolve among themselves
        block = min(_NMS_MAX_BLOCK, max(_NMS_BLOCK, (hi - lo) * _NMS_BLOCK // max(m, 1)))
        lo = hi
        if m == 0:
            continue
        # 2. the block's survivors among themselves
        if m > 1:
            ov = _block_overlaps(xp, coords[:, xp.asarray(cand)], t,
                                 None if groups is None else groups[cand])
            cand = cand[_resolve_block(ov)]
            m = cand.size
        kept[nk:nk + m] = cand
        kept_coords[:, nk:nk + m] = coords[:, xp.asarray(cand)]
        nk += m
    return kept[:nk]


def _check_nms_args(boxes: Tensor, scores: Tensor) -> None:
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


def _nms_impl(boxes: Tensor, scores: Tensor, iou_threshold: float, idxs=None) -> Tensor:
    _check_nms_args(boxes, scores)
    if boxes.shape[0] == 0:
        return ember.zeros(0, dtype=ember.int64, device=boxes.device)
    b = boxes.detach()._data
    s = scores.detach()._data
    xp = _xp(b)
    order = xp.argsort(-s, kind="stable")  # decreasing scores, ties by index
    groups = None
    if idxs is not None:  # each category contiguous, by decreasing score inside it
        g = idxs.detach()._data
        order = order[xp.argsort(g[order], kind="stable")]
        groups = _to_host(g[order])
    pos = _greedy_nms(xp, b[order], float(iou_threshold), groups)
    kept = order[xp.asarray(pos)]
    if idxs is not None:  # as torchvision: the kept indices, increasing, by decreasing score
        kept = xp.sort(kept)
        kept = kept[xp.argsort(-s[kept], kind="stable")]
    return Tensor._make(kept.astype(np.int64), False, None, 0)


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

    Equal scores are ordered by index (a stable sort), as torchvision's CPU kernel does.
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

    As torchvision does, up to 1,000 boxes (25,000 on CUDA) go through one NMS after shifting
    each category's boxes by ``idx * (boxes.max() + 1)`` (the coordinate trick, whose rounding
    can nudge an IoU), more boxes through an exact NMS per category (all categories in one
    pass here, not one call per category). In that second case, kept boxes of equal scores
    are ordered by index; torchvision leaves their order to its unstable sort.
    """
    if idxs.ndim != 1 or idxs.shape[0] != boxes.shape[0]:
        raise RuntimeError(f"batched_nms: idxs must have shape [{boxes.shape[0]}], got "
                           f"{list(idxs.shape)}")
    if boxes.numel() > (4000 if boxes.device.type == "cpu" else 100_000):
        return _nms_impl(boxes, scores, iou_threshold, idxs)
    _check_nms_args(boxes, scores)
    if boxes.numel() == 0:
        return ember.zeros(0, dtype=ember.int64, device=boxes.device)
    b = boxes.detach()._data
    offsets = idxs.detach()._data.astype(b.dtype) * (b.max() + b.dtype.type(1))
    return _nms_impl(Tensor._make(b + offsets[:, None], False, None, 0), scores, iou_threshold)


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
