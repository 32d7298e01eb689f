"""Helpers the two-stage detectors share: drawing a balanced sample of anchors, turning
boxes into regression deltas and back, and assigning predictions to ground truth."""

from __future__ import annotations

import math

import ember
from ember import Tensor, nn
from ember.nn import functional as F

from ...ops.misc import FrozenBatchNorm2d

__all__ = ["BalancedPositiveNegativeSampler", "BoxCoder", "BoxLinearCoder", "Matcher",
           "SSDMatcher", "encode_boxes", "overwrite_eps", "retrieve_out_channels"]


def _one_hot_mask(like: Tensor, chosen: Tensor) -> Tensor:
    mask = ember.zeros_like(like, dtype=ember.uint8)
    mask[chosen] = 1
    return mask


def _random_subset(candidates: Tensor, k: int) -> Tensor:
    order = ember.randperm(candidates.numel(), device=candidates.device)
    return candidates[order[:k]]


class BalancedPositiveNegativeSampler:
    """Draws, per image, at most ``batch_size_per_image`` labelled elements of which at
    most a ``positive_fraction`` share are foreground; the rest are background."""

    def __init__(self, batch_size_per_image, positive_fraction):
        self.batch_size_per_image = batch_size_per_image
        self.positive_fraction = positive_fraction

    def __call__(self, matched_idxs):
        """``matched_idxs``: one label tensor per image (-1 skip, 0 background, >0
        foreground). Gives back two lists of uint8 masks: chosen foreground, background."""
        fg_masks: list[Tensor] = []
        bg_masks: list[Tensor] = []
        fg_quota = int(self.batch_size_per_image * self.positive_fraction)
        for labels in matched_idxs:
            fg = ember.where(labels >= 1)[0]
            bg = ember.where(labels == 0)[0]
            n_fg = min(fg.numel(), fg_quota)
            n_bg = min(bg.numel(), self.batch_size_per_image - n_fg)
            fg_pick = _random_subset(fg, n_fg)
            bg_pick = _random_subset(bg, n_bg)
            fg_masks.append(_one_hot_mask(labels, fg_pick))
            bg_masks.append(_one_hot_mask(labels, bg_pick))
        return fg_masks, bg_masks


def _centre_size(b: Tensor, keepdim: bool):
    if keepdim:
        x0, y0, x1, y1 = (b[:, k:k + 1] for k in range(4))
    else:
        x0, y0, x1, y1 = (b[:, k] for k in range(4))
    w = x1 - x0
    h = y1 - y0
    return x0 + 0.5 * w, y0 + 0.5 * h, w, h


def encode_boxes(reference_boxes, proposals, weights):
    """Regression deltas (dx, dy, dw, dh), scaled by ``weights``, that carry each
    ``proposals`` row onto the matching ``reference_boxes`` row (both x1y1x2y2)."""
    acx, acy, aw, ah = _centre_size(proposals, True)
    tcx, tcy, tw, th = _centre_size(reference_boxes, True)
    deltas = (weights[0] * (tcx - acx) / aw,
              weights[1] * (tcy - acy) / ah,
              weights[2] * ember.log(tw / aw),
              weights[3] * ember.log(th / ah))
    return ember.cat(deltas, dim=1)


# deltas larger than this would scale a 16 px box beyond 1000 px
_LOG_1000_OVER_16 = math.log(1000.0 / 16)


class BoxCoder:
    """Converts between boxes and the weighted deltas the box regressors predict.
    ``bbox_xform_clip`` caps dw/dh before exponentiation when decoding."""

    def __init__(self, weights, bbox_xform_clip=_LOG_1000_OVER_16):
        self.weights = weights
        self.bbox_xform_clip = bbox_xform_clip

    def encode(self, reference_boxes, proposals):
        counts = [len(r) for r in reference_boxes]
        flat = self.encode_single(ember.cat(reference_boxes, dim=0), ember.cat(proposals, dim=0))
        return flat.split(counts, 0)

    def encode_single(self, reference_boxes, proposals):
        w = ember.as_tensor(self.weights, dtype=reference_boxes.dtype,
                            device=reference_boxes.device)
        return encode_boxes(reference_boxes, proposals, w)

    def decode(self, rel_codes, boxes):
        if not isinstance(boxes, (list, tuple)):
            raise TypeError("This function expects boxes of type list or tuple.")
        if not isinstance(rel_codes, Tensor):
            raise TypeError("This function expects rel_codes of type ember.Tensor.")
        total = sum(int(b.size(0)) for b in boxes)
        if total > 0:
            rel_codes = rel_codes.reshape(total, -1)
        out = self.decode_single(rel_codes, ember.cat(boxes, dim=0))
        return out.reshape(total, -1, 4) if total > 0 else out

    def decode_single(self, rel_codes, boxes):
        """Moves each of the N ``boxes`` by its row of ``rel_codes`` (N x 4k deltas)."""
        cx, cy, w, h = _centre_size(boxes.to(rel_codes.dtype), False)
        w, h, cx, cy = w[:, None], h[:, None], cx[:, None], cy[:, None]
        sx, sy, sw, sh = self.weights
        clip = self.bbox_xform_clip
        new_cx = rel_codes[:, 0::4] / sx * w + cx
        new_cy = rel_codes[:, 1::4] / sy * h + cy
        half_w = 0.5 * (ember.exp(ember.clamp(rel_codes[:, 2::4] / sw, max=clip)) * w)
        half_h = 0.5 * (ember.exp(ember.clamp(rel_codes[:, 3::4] / sh, max=clip)) * h)
        corners = (new_cx - half_w, new_cy - half_h, new_cx + half_w, new_cy + half_h)
        return ember.stack(corners, dim=2).flatten(1)


class Matcher:
    """For every column (prediction) of a ground-truth x prediction quality matrix, picks
    the best row, or marks it ``BELOW_LOW_THRESHOLD`` (-1) or ``BETWEEN_THRESHOLDS`` (-2).
    With ``allow_low_quality_matches`` each ground truth also keeps its best predictions."""

    BELOW_LOW_THRESHOLD = -1
    BETWEEN_THRESHOLDS = -2

    def __init__(self, high_threshold, low_threshold, allow_low_quality_matches=False):
        if low_threshold > high_threshold:
            raise ValueError("low_threshold should be <= high_threshold")
        self.high_threshold = high_threshold
        self.low_threshold = low_threshold
        self.allow_low_quality_matches = allow_low_quality_matches

    def __call__(self, match_quality_matrix):
        q = match_quality_matrix
        if q.numel() == 0:
            what = "ground-truth" if q.shape[0] == 0 else "proposal"
            raise ValueError(f"No {what} boxes available for one of the images during training")
        best, idx = q.max(dim=0)
        before = idx.clone() if self.allow_low_quality_matches else None
        lo, hi = self.low_threshold, self.high_threshold
        idx[best < lo] = self.BELOW_LOW_THRESHOLD
        idx[(best >= lo) & (best < hi)] = self.BETWEEN_THRESHOLDS
        if before is not None:
            self.set_low_quality_matches_(idx, before, q)
        return idx

    def set_low_quality_matches_(self, matches, all_matches, match_quality_matrix):
        """Restores the original match of every prediction that ties some ground truth's
        highest quality."""
        per_gt_best = match_quality_matrix.max(dim=1)[0]
        cols = ember.where(match_quality_matrix == per_gt_best[:, None])[1]
        matches[cols] = all_matches[cols]


def overwrite_eps(model: nn.Module, eps: float) -> None:
    """Gives every FrozenBatchNorm2d inside ``model`` the given ``eps``."""
    for m in model.modules():
        if isinstance(m, FrozenBatchNorm2d):
            m.eps = eps


# ---------------------------------------------------------------- single-stage detectors


class BoxLinearCoder:
    """FCOS's box parameterisation: a box is coded by the distances (left, top, right,
    bottom) from the centre of a reference box to its four sides, divided by the reference
    box's width / height when ``normalize_by_size``."""

    def __init__(self, normalize_by_size: bool = True) -> None:
        self.normalize_by_size = normalize_by_size

    def _centres_and_scale(self, ref: Tensor):
        cx = 0.5 * (ref[..., 0] + ref[..., 2])
        cy = 0.5 * (ref[..., 1] + ref[..., 3])
        if self.normalize_by_size:
            sx = ref[..., 2] - ref[..., 0]
            sy = ref[..., 3] - ref[..., 1]
        else:
            sx = sy = None
        return cx, cy, sx, sy

    def encode(self, reference_boxes: Tensor, proposals: Tensor) -> Tensor:
        """Distances (..., 4) from the centres of ``reference_boxes`` to the sides of
        ``proposals`` (both (..., 4) x1y1x2y2)."""
        cx, cy, sx, sy = self._centres_and_scale(reference_boxes)
        sides = [cx - proposals[..., 0], cy - proposals[..., 1],
                 proposals[..., 2] - cx, proposals[..., 3] - cy]
        if sx is not None:
            sides = [sides[0] / sx, sides[1] / sy, sides[2] / sx, sides[3] / sy]
        return ember.stack(sides, dim=-1)

    def decode(self, rel_codes: Tensor, boxes: Tensor) -> Tensor:
        """Boxes (..., 4) whose sides lie ``rel_codes`` (..., 4) away from the centres of
        the reference ``boxes``; ``rel_codes`` and ``boxes`` have the same leading
        shape."""
        boxes = boxes.to(dtype=rel_codes.dtype)
        cx, cy, sx, sy = self._centres_and_scale(boxes)
        dl, dt, dr, db = rel_codes.unbind(-1)
        if sx is not None:
            dl, dr = dl * sx, dr * sx
            dt, db = dt * sy, db * sy
        return ember.stack([cx - dl, cy - dt, cx + dr, cy + db], dim=-1)


class SSDMatcher(Matcher):
    """SSD's matching: a prediction belongs to the ground truth it overlaps most when the
    IoU reaches ``threshold``; besides, every ground truth claims the prediction it
    overlaps most, whatever the IoU."""

    def __init__(self, threshold: float) -> None:
        super().__init__(threshold, threshold, allow_low_quality_matches=False)

    def __call__(self, match_quality_matrix: Tensor) -> Tensor:
        matches = super().__call__(match_quality_matrix)
        n_gt = match_quality_matrix.shape[0]
        best_pred = match_quality_matrix.argmax(dim=1)  # (G,)
        matches[best_pred] = ember.arange(n_gt, dtype=matches.dtype, device=matches.device)
        return matches


def _box_loss(type: str, box_coder, anchors_per_image: Tensor, matched_gt_boxes_per_image: Tensor,
              bbox_regression_per_image: Tensor, cnf: dict | None = None) -> Tensor:
    """Summed box-regression loss of a set of foreground anchors: ``"l1"`` or
    ``"smooth_l1"`` (``cnf["beta"]``, default 1) on the encoded deltas, or ``"giou"`` /
    ``"diou"`` / ``"ciou"`` (``cnf["eps"]``, default 1e-7) on the decoded boxes."""
    from ...ops.losses import (  # lazy: ops.losses imports nothing from here, but keep
        complete_box_iou_loss,  # this module light for the two-stage detectors
        distance_box_iou_loss,
        generalized_box_iou_loss,
    )

    if type not in ("l1", "smooth_l1", "ciou", "diou", "giou"):
        raise AssertionError(f"Unsupported loss: {type}")
    cnf = {} if cnf is None else cnf
    pred, anchors, gt = bbox_regression_per_image, anchors_per_image, matched_gt_boxes_per_image
    if type in ("l1", "smooth_l1"):
        target = box_coder.encode_single(gt, anchors)
        if type == "l1":
            return F.l1_loss(pred, target, reduction="sum")
        return F.smooth_l1_loss(pred, target, reduction="sum", beta=cnf.get("beta", 1.0))
    boxes = box_coder.decode_single(pred, anchors)
    fn = {"giou": generalized_box_iou_loss, "diou": distance_box_iou_loss,
          "ciou": complete_box_iou_loss}[type]
    return fn(boxes, gt, reduction="sum", eps=cnf.get("eps", 1e-7))


def retrieve_out_channels(model: nn.Module, size: tuple[int, int]) -> list[int]:
    """Channel counts of the feature maps ``model`` returns for a (1, 3, *size) input,
    found by running it once on zeros in eval mode (its mode is restored)."""
    was_training = model.training
    model.eval()
    try:
        with ember.no_grad():
            dev = next(model.parameters()).device
            out = model(ember.zeros((1, 3, size[1], size[0]), device=dev))
            maps = [out] if isinstance(out, Tensor) else list(out.values())
    finally:
        model.train(was_training)
    return [int(m.size(1)) for m in maps]
