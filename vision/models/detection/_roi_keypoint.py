"""The keypoint branch of Keypoint R-CNN outside the modules: training targets and loss
(``keypoints_to_heatmap``, ``keypointrcnn_loss``) and the decoding of the predicted
heatmaps into image coordinates (``heatmaps_to_keypoints``, ``keypointrcnn_inference``).

Each keypoint is a one-hot target on its box's (S, S) heatmap, trained with a softmax
cross-entropy over the S*S cells (He et al., 2017). At inference each box's heatmaps are
bicubically resized to the box's size in pixels (rounded up) and the keypoint is the
centre of the best cell. The resize of many boxes at once pads them to the largest box
of a chunk: per box, the bicubic weights of ``F.interpolate(mode="bicubic",
align_corners=False)`` form one (rows x 56) and one (columns x 56) matrix, two batched
matrix products give all resized maps, and cells outside a box's own size are masked
before the argmax. Chunks of boxes of similar size bound the memory and the padding.
"""

from __future__ import annotations

import ember
import numpy as np
from ember import Tensor
from ember.nn import functional as F
from ember.ops.op import xp_of

__all__ = ["keypoints_to_heatmap", "keypointrcnn_loss", "heatmaps_to_keypoints",
           "keypointrcnn_inference"]

_CUBIC_A = -0.75  # the cubic convolution parameter of PyTorch's bicubic resize
_CHUNK_ELEMENTS = 1 << 23  # resized heatmap cells held at once by heatmaps_to_keypoints


def keypoints_to_heatmap(keypoints, rois, heatmap_size):
    """Cell of each keypoint (``keypoints``: (P, K, 3) x, y, visibility) on its roi's
    ``heatmap_size`` x ``heatmap_size`` grid (``rois``: (P, 4) xyxy).

    Returns the flat cell index ``y * heatmap_size + x`` (0 where invalid) and the validity
    (visible and inside the roi; a keypoint on the roi's right or bottom edge belongs to the
    last cell), both (P, K) int64.
    """
    left, top = rois[:, 0][:, None], rois[:, 1][:, None]
    right, bottom = rois[:, 2][:, None], rois[:, 3][:, None]
    per_x = heatmap_size / (right - left)
    per_y = heatmap_size / (bottom - top)
    kx, ky = keypoints[..., 0], keypoints[..., 1]
    on_right = kx == right
    on_bottom = ky == bottom
    cx = ((kx - left) * per_x).floor().long()
    cy = ((ky - top) * per_y).floor().long()
    last = heatmap_size - 1
    cx = ember.where(on_right, ember.full_like(cx, last), cx)
    cy = ember.where(on_bottom, ember.full_like(cy, last), cy)
    inside = (cx >= 0) & (cy >= 0) & (cx < heatmap_size) & (cy < heatmap_size)
    valid = (inside & (keypoints[..., 2] > 0)).long()
    return (cy * heatmap_size + cx) * valid, valid


def keypointrcnn_loss(keypoint_logits, proposals, gt_keypoints, keypoint_matched_idxs):
    """Softmax cross-entropy over the (S*S) heatmap cells of every valid keypoint of
    every positive proposal (``keypoint_logits``: (P, K, S, S)); the per-image lists give
    the proposals, the images' gt keypoints and each proposal's matched gt index. Without
    any valid keypoint the loss is ``keypoint_logits.sum() * 0``."""
    n, k, h, w = keypoint_logits.shape
    if h != w:
        raise ValueError("keypoint_logits height and width (last two elements of shape) "
                         f"should be equal. Instead got H = {h} and W = {w}")
    cells, valid = [], []
    for props, kps, idx in zip(proposals, gt_keypoints, keypoint_matched_idxs):
        c, v = keypoints_to_heatmap(kps[idx], props, h)
        cells.append(c.reshape(-1))
        valid.append(v.reshape(-1))
    cells = ember.cat(cells, dim=0)
    used = ember.where(ember.cat(valid, dim=0))[0]
    if cells.numel() == 0 or used.numel() == 0:
        return keypoint_logits.sum() * 0
    flat = keypoint_logits.reshape(n * k, h * w)
    return F.cross_entropy(flat[used], cells[used])


def _cubic_weights(t, dt):
    """The four cubic-convolution weights for fractional offsets ``t`` (..., ) -> (..., 4),
    for the taps at floor - 1, floor, floor + 1 and floor + 2."""
    a = dt.type(_CUBIC_A)
    one = dt.type(1)

    def near(x):  # |x| <= 1
        return ((a + dt.type(2)) * x - (a + dt.type(3))) * x * x + one

    def far(x):  # 1 < |x| < 2
        return ((a * x - dt.type(5) * a) * x + dt.type(8) * a) * x - dt.type(4) * a

    rest = one - t
    return (far(t + one), near(t), near(rest), far(rest + one))


def _cubic_matrix(xp, sizes, n_src: int, extent: int, dt):
    """(N, extent, n_src) matrices resizing an ``n_src``-long axis to ``sizes[i]`` cells
    with PyTorch's bicubic weights (align_corners=False: source position
    ``(i + 0.5) * n_src / size - 0.5``, four taps from floor - 1, clamped to the border, so
    border taps may add up). Rows past a box's own size are filled too; the caller masks
    the cells they produce."""
    step = (dt.type(n_src) / sizes.astype(dt))[:, None]
    src = step * (xp.arange(extent, dtype=dt)[None, :] + dt.type(0.5)) - dt.type(0.5)
    base = xp.floor(src)
    frac = src - base
    base = base.astype(np.int64)
    grid = xp.arange(n_src)[None, None, :]
    mat = xp.zeros(sizes.shape + (extent, n_src), dtype=dt)
    for j, wt in enumerate(_cubic_weights(frac, dt)):
        tap = xp.clip(base + j - 1, 0, n_src - 1)
        mat += (tap[..., None] == grid) * wt[..., None]
    return mat


def _best_cells(maps, heights, widths):
    """Bicubic resize of each box's (K, S, S) ``maps`` to (heights[i], widths[i]) and the
    first maximum of each keypoint's map: returns (y, x, value), each (N, K)."""
    xp = xp_of(maps)
    dt = maps.dtype
    n, k, side_y, side_x = maps.shape
    h_max, w_max = int(heights.max()), int(widths.max())
    rows = _cubic_matrix(xp, heights, side_y, h_max, dt)  # (N, h_max, Sy)
    cols = _cubic_matrix(xp, widths, side_x, w_max, dt).transpose(0, 2, 1)  # (N, Sx, w_max)
    # contiguous 3-D operands keep both products on BLAS
    across = xp.matmul(maps.reshape(n, k * side_y, side_x), xp.ascontiguousarray(cols))
    across = xp.ascontiguousarray(across.reshape(n, k, side_y, w_max).transpose(0, 2, 1, 3))
    # (N, Sy, K, w_max) -> resized (N, h_max, K, w_max)
    full = xp.matmul(rows, across.reshape(n, side_y, k * w_max))
    full = full.reshape(n, h_max, k, w_max)
    # cells past a box's own width or height never win
    past_w = xp.arange(w_max)[None, :] >= widths[:, None]  # (N, w_max)
    full += xp.where(past_w, dt.type(-np.inf), dt.type(0))[:, None, None, :]
    row_best = full.max(axis=3)  # (N, h_max, K)
    past_h = xp.arange(h_max)[None, :] >= heights[:, None]  # (N, h_max)
    row_best[past_h] = -np.inf
    # the first maximum in row-major (y, x) order: the first row holding the maximum, then
    # the first column of that row
    y = row_best.argmax(axis=1)  # (N, K)
    line = full[xp.arange(n)[:, None], y, xp.arange(k)[None, :]]  # (N, K, w_max)
    x = line.argmax(axis=2)
    value = xp.take_along_axis(line, x[..., None], axis=2)[..., 0]
    return y, x, value


def _chunks(xp, heights, widths, per_cell: int):
    """Groups of box indices, largest boxes first, each padded to its own largest box and
    holding about ``_CHUNK_ELEMENTS`` resized values (at least one box)."""
    order = xp.argsort(-(heights * widths), kind="stable")
    order_host = order.tolist() if not isinstance(order, np.ndarray) else order
    h_host = np.asarray(heights.tolist())
    w_host = np.asarray(widths.tolist())
    groups, start, n = [], 0, len(order_host)
    while start < n:
        first = order_host[start]
        count = max(1, _CHUNK_ELEMENTS // max(per_cell * int(h_host[first])
                                              * int(w_host[first]), 1))
        groups.append(order[start:start + count])
        start += count
    return groups


def heatmaps_to_keypoints(maps, rois):
    """Decodes keypoint heatmaps ``maps`` (N, K, S, S) predicted for boxes ``rois``
    (N, 4, xyxy) into keypoints (N, K, 3: x, y, 1) and their scores (N, K).

    Each box's maps are resized (bicubic) to its width and height rounded up (at least 1);
    a keypoint is the centre of its map's best cell, scaled back by the rounding and
    shifted to the box; its score is that cell's value. Boxes are processed in a few
    vectorised chunks of similar size. Inference only: the results carry no gradient.
    """
    data = maps.detach()._data
    boxes = rois.detach()._data
    xp = xp_of(data)
    n, k = int(data.shape[0]), int(data.shape[1])
    dt = data.dtype
    left, top = boxes[:, 0], boxes[:, 1]
    box_w = xp.maximum(boxes[:, 2] - boxes[:, 0], dt.type(1))
    box_h = xp.maximum(boxes[:, 3] - boxes[:, 1], dt.type(1))
    cells_w, cells_h = xp.ceil(box_w), xp.ceil(box_h)
    fix_w, fix_h = box_w / cells_w, box_h / cells_h  # cell size in pixels
    cells_w, cells_h = cells_w.astype(np.int64), cells_h.astype(np.int64)
    points = xp.zeros((n, k, 3), dtype=np.float32)
    scores = xp.zeros((n, k), dtype=np.float32)
    for part in (_chunks(xp, cells_h, cells_w, k) if n else []):
        y, x, best = _best_cells(data[part], cells_h[part], cells_w[part])
        scores[part] = best
        points[part, :, 0] = (x.astype(np.float32) + np.float32(0.5)) \
            * fix_w[part, None] + left[part, None]
        points[part, :, 1] = (y.astype(np.float32) + np.float32(0.5)) \
            * fix_h[part, None] + top[part, None]
    points[..., 2] = 1
    return Tensor._make(points, False, None, 0), Tensor._make(scores, False, None, 0)


def keypointrcnn_inference(x, boxes):
    """Per image: the keypoints (n_i, K, 3) and scores (n_i, K) decoded from the
    heatmaps ``x`` of all images' detections ``boxes`` (one (n_i, 4) tensor per image)."""
    counts = [int(b.shape[0]) for b in boxes]
    points, scores = [], []
    for maps, bx in zip(x.split(counts, dim=0), boxes):
        p, s = heatmaps_to_keypoints(maps, bx)
        points.append(p)
        scores.append(s)
    return points, scores
