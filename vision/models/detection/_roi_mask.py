"""The mask branch of Mask R-CNN outside the modules: training targets and loss
(``project_masks_on_boxes``, ``maskrcnn_loss``), the choice of each detection's class
channel (``maskrcnn_inference``) and the pasting of the small per-box masks into full
images (``paste_masks_in_image``).

Pasting follows He et al. (2017): every (M, M) mask is grown by a one-cell zero border,
its box by the same ratio, then the mask is bilinearly resized to the integer box and
written into a zero image. Here the resize of all masks happens at once: the bilinear
source taps of every image row and column are computed per box (separable weights, as
``F.interpolate(mode="bilinear", align_corners=False)`` places them), then one gather
along x and one along y give all (N, H, W) images, zero outside each box.
"""

from __future__ import annotations

import ember
import numpy as np
from ember import Tensor
from ember.nn import functional as F
from ember.ops.op import xp_of

from ...ops.roi_align import roi_align

__all__ = ["project_masks_on_boxes", "maskrcnn_loss", "maskrcnn_inference", "expand_boxes",
           "expand_masks", "paste_mask_in_image", "paste_masks_in_image"]

_CHUNK_PIXELS = 1 << 22  # image pixels pasted at once by paste_masks_in_image


def project_masks_on_boxes(gt_masks: Tensor, boxes: Tensor, matched_idxs: Tensor,
                           M: int) -> Tensor:
    """Crops each proposal's matched ground-truth mask (``gt_masks``: (G, H, W)) to the
    proposal box and resamples it to (M, M) with RoI Align; returns (P, M, M)."""
    owner = matched_idxs[:, None].to(boxes)  # which gt mask each proposal samples
    rois = ember.cat([owner, boxes], dim=1)  # (P, 5)
    planes = gt_masks[:, None].to(rois)  # (G, 1, H, W)
    return roi_align(planes, rois, (M, M), 1.0)[:, 0]


def maskrcnn_loss(mask_logits, proposals, gt_masks, gt_labels, mask_matched_idxs):
    """Mean binary cross-entropy between the logits of each positive proposal's own
    ground-truth class (``mask_logits``: (P, C, M, M)) and its projected gt mask.

    ``proposals``, ``gt_masks``, ``gt_labels`` and ``mask_matched_idxs`` are per-image
    lists. Without any positive proposal the loss is ``mask_logits.sum() * 0``.
    """
    side = mask_logits.shape[-1]
    classes = [lab[idx] for lab, idx in zip(gt_labels, mask_matched_idxs)]
    targets = [project_masks_on_boxes(gm, props, idx, side)
               for gm, props, idx in zip(gt_masks, proposals, mask_matched_idxs)]
    classes = ember.cat(classes, dim=0)
    targets = ember.cat(targets, dim=0)
    if targets.numel() == 0:
        return mask_logits.sum() * 0
    rows = ember.arange(classes.shape[0], device=classes.device)
    own = mask_logits[rows, classes]  # (P, M, M): the channel of the true class
    return F.binary_cross_entropy_with_logits(own, targets)


def maskrcnn_inference(x: Tensor, labels: list[Tensor]) -> list[Tensor]:
    """Sigmoid of the mask logits ``x`` (N, C, M, M) at each detection's predicted class
    (``labels``: one tensor per image); returns one (n_i, 1, M, M) tensor per image."""
    probs = x.sigmoid()
    counts = [int(lab.shape[0]) for lab in labels]
    chosen = ember.cat(labels)
    rows = ember.arange(x.shape[0], device=chosen.device)
    return probs[rows, chosen][:, None].split(counts, dim=0)


def expand_masks(mask: Tensor, padding: int):
    """Zero-pads the (N, 1, M, M) ``mask`` by ``padding`` cells per side; returns the
    padded masks and the growth factor ``(M + 2 * padding) / M``."""
    side = mask.shape[-1]
    factor = float(side + 2 * padding) / side
    return F.pad(mask, (padding,) * 4), factor


def expand_boxes(boxes: Tensor, scale: float) -> Tensor:
    """Scales xyxy ``boxes`` about their centres by ``scale``."""
    x_mid = (boxes[:, 2] + boxes[:, 0]) * 0.5
    y_mid = (boxes[:, 3] + boxes[:, 1]) * 0.5
    half_w = (boxes[:, 2] - boxes[:, 0]) * 0.5
    half_h = (boxes[:, 3] - boxes[:, 1]) * 0.5
    half_w = half_w * scale
    half_h = half_h * scale
    return ember.stack((x_mid - half_w, y_mid - half_h, x_mid + half_w, y_mid + half_h), dim=1)


def _bilinear_taps(xp, first, last, n_src: int, extent: int, dt):
    """Bilinear sources along one image axis for every box.

    Box ``i`` covers the integer cells ``first[i]..last[i]`` (its resized mask has
    ``max(last - first + 1, 1)`` cells). For each box and each of the ``extent`` image
    positions: the two source indices into the ``n_src``-long mask axis, their weights,
    and whether the position lies inside the box.
    """
    span = xp.maximum(last - first + 1, 1)  # (N,)
    where = xp.arange(extent)[None, :]  # (1, E)
    local = where - first[:, None]  # (N, E) position inside the resized mask
    inside = (local >= 0) & (where <= last[:, None])
    step = (dt.type(n_src) / span.astype(dt))[:, None]
    src = step * (local.astype(dt) + dt.type(0.5)) - dt.type(0.5)
    src = xp.maximum(src, dt.type(0))
    lo = xp.minimum(xp.floor(src).astype(np.int64), n_src - 1)
    frac = xp.clip(src - lo.astype(dt), dt.type(0), dt.type(1))
    hi = lo + (lo < n_src - 1)
    return lo, hi, dt.type(1) - frac, frac, inside


def _paste_all(masks, boxes, height: int, width: int):
    """(N, S, S) masks into (N, height, width) images at integer xyxy ``boxes`` (N, 4)."""
    xp = xp_of(masks)
    dt = masks.dtype
    n, side = masks.shape[0], masks.shape[-1]
    x_lo, x_hi, wx_lo, wx_hi, x_in = _bilinear_taps(xp, boxes[:, 0], boxes[:, 2], side,
                                                    width, dt)
    y_lo, y_hi, wy_lo, wy_hi, y_in = _bilinear_taps(xp, boxes[:, 1], boxes[:, 3], side,
                                                    height, dt)
    box = xp.arange(n)[:, None, None]
    # along x first: (N, S, width), for every mask row
    row = xp.arange(side)[None, :, None]
    cols = masks[box, row, x_lo[:, None, :]] * wx_lo[:, None, :] \
        + masks[box, row, x_hi[:, None, :]] * wx_hi[:, None, :]
    # then along y: (N, height, width)
    col = xp.arange(width)[None, None, :]
    out = cols[box, y_lo[:, :, None], col] * wy_lo[:, :, None] \
        + cols[box, y_hi[:, :, None], col] * wy_hi[:, :, None]
    keep = y_in[:, :, None] & x_in[:, None, :]
    return xp.where(keep, out, dt.type(0))


def paste_masks_in_image(masks, boxes, img_shape, padding=1):
    """Pastes the (N, 1, M, M) mask probabilities into (N, 1, H, W) images of size
    ``img_shape`` (H, W) at ``boxes`` (N, 4, xyxy, in that image's coordinates).

    Each mask gets a ``padding``-cell zero border and its box grows by the same ratio;
    the box is then truncated to integers, the mask bilinearly resized to the box's
    ``x2 - x1 + 1`` by ``y2 - y1 + 1`` cells and written there (clipped to the image);
    everything else is 0. The masks are resized in vectorised passes over a few boxes at
    a time (bounded temporaries). Inference only: the result carries no gradient.
    """
    height, width = (int(v) for v in img_shape)
    padded, factor = expand_masks(masks, padding=padding)
    cells = expand_boxes(boxes, factor).to(dtype=ember.int64).detach()._data
    data = padded.detach()._data[:, 0]
    xp = xp_of(data)
    n = data.shape[0]
    out = xp.zeros((n, 1, height, width), dtype=data.dtype)
    # a few boxes at a time bound the temporaries to about _CHUNK_PIXELS values each
    step = max(1, _CHUNK_PIXELS // max(height * width, 1))
    for s in range(0, n, step):
        out[s:s + step, 0] = _paste_all(data[s:s + step], cells[s:s + step], height, width)
    return Tensor._make(out, False, None, 0)


def paste_mask_in_image(mask, box, im_h, im_w):
    """One (M', M') ``mask`` pasted into an (im_h, im_w) image at the integer ``box``
    (x1, y1, x2, y2), as ``paste_masks_in_image`` does for each of its (padded) masks."""
    data = mask.detach()._data[None]
    cells = box.detach()._data.reshape(1, 4).astype(np.int64)
    return Tensor._make(_paste_all(data, cells, int(im_h), int(im_w))[0], False, None, 0)
