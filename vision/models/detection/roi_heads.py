"""Second stage of the R-CNN detectors: per-proposal classification and box refinement
(``RoIHeads``) and its training loss (``fastrcnn_loss``)."""

from __future__ import annotations

import ember
from ember import nn
from ember.nn import functional as F

from ...ops import boxes as box_ops
from ._utils import BalancedPositiveNegativeSampler, BoxCoder, Matcher

__all__ = ["RoIHeads", "fastrcnn_loss"]


def fastrcnn_loss(class_logits, box_regression, labels, regression_targets):
    """Cross-entropy over all sampled proposals plus smooth-L1 (beta 1/9) on the deltas of
    the foreground ones at their true class, summed and divided by the sample count.
    ``labels``/``regression_targets`` are per-image lists; returns (cls, box) losses."""
    y = ember.cat(labels, dim=0)
    t = ember.cat(regression_targets, dim=0)
    cls_loss = F.cross_entropy(class_logits, y)
    fg = ember.where(y > 0)[0]
    per_class = box_regression.reshape(class_logits.shape[0], box_regression.size(-1) // 4, 4)
    reg_loss = F.smooth_l1_loss(per_class[fg, y[fg]], t[fg], beta=1 / 9, reduction="sum")
    return cls_loss, reg_loss / y.numel()


def _check_target_types(targets) -> None:
    for t in targets:
        b, lab = t["boxes"], t["labels"]
        if not b.is_floating_point():
            raise TypeError(f"target boxes must of float type, instead got {b.dtype}")
        if lab.dtype != ember.int64:
            raise TypeError(f"target labels must of int64 type, instead got {lab.dtype}")


class RoIHeads(nn.Module):
    """Pools features for each proposal (``box_roi_pool``), runs ``box_head`` and
    ``box_predictor`` on them; training samples proposals against the targets and gives
    losses, evaluation gives per-image ``boxes``/``labels``/``scores``. Only the box
    branch exists: passing any mask or keypoint module raises NotImplementedError."""

    def __init__(self, box_roi_pool, box_head, box_predictor, fg_iou_thresh, bg_iou_thresh,
                 batch_size_per_image, positive_fraction, bbox_reg_weights, score_thresh,
                 nms_thresh, detections_per_img, mask_roi_pool=None, mask_head=None,
                 mask_predictor=None, keypoint_roi_pool=None, keypoint_head=None,
                 keypoint_predictor=None) -> None:
        super().__init__()
        self.box_similarity = box_ops.box_iou
        self.proposal_matcher = Matcher(fg_iou_thresh, bg_iou_thresh, False)
        self.fg_bg_sampler = BalancedPositiveNegativeSampler(batch_size_per_image,
                                                             positive_fraction)
        self.box_coder = BoxCoder((10.0, 10.0, 5.0, 5.0) if bbox_reg_weights is None
                                  else bbox_reg_weights)
        self.box_roi_pool = box_roi_pool
        self.box_head = box_head
        self.box_predictor = box_predictor
        self.score_thresh = score_thresh
        self.nms_thresh = nms_thresh
        self.detections_per_img = detections_per_img
        extras = (mask_roi_pool, mask_head, mask_predictor,
                  keypoint_roi_pool, keypoint_head, keypoint_predictor)
        if any(e is not None for e in extras):
            raise NotImplementedError("ember.vision's RoIHeads has the box branch only: mask "
                                      "and keypoint heads are not implemented yet")
        for attr in ("mask_roi_pool", "mask_head", "mask_predictor",
                     "keypoint_roi_pool", "keypoint_head", "keypoint_predictor"):
            setattr(self, attr, None)

    def has_mask(self) -> bool:
        return False

    def has_keypoint(self) -> bool:
        return False

    def assign_targets_to_proposals(self, proposals, gt_boxes, gt_labels):
        """Per image: index of the matched ground truth (clamped to >= 0) and the class
        label (0 background, -1 ignored) of every proposal."""
        m = self.proposal_matcher
        idx_out, lab_out = [], []
        for props, gtb, gtl in zip(proposals, gt_boxes, gt_labels):
            n = props.shape[0]
            if gtb.numel() == 0:
                # image without objects: everything is background
                which = ember.zeros((n,), dtype=ember.int64, device=props.device)
                lab = ember.zeros((n,), dtype=ember.int64, device=props.device)
            else:
                raw = m(box_ops.box_iou(gtb, props))
                which = raw.clamp(min=0)
                lab = gtl[which].to(dtype=ember.int64)
                lab[raw == m.BELOW_LOW_THRESHOLD] = 0
                lab[raw == m.BETWEEN_THRESHOLDS] = -1
            idx_out.append(which)
            lab_out.append(lab)
        return idx_out, lab_out

    def subsample(self, labels):
        fg, bg = self.fg_bg_sampler(labels)
        return [ember.where(a | b)[0] for a, b in zip(fg, bg)]

    def add_gt_proposals(self, proposals, gt_boxes):
        return [ember.cat((p, g)) for p, g in zip(proposals, gt_boxes)]

    def check_targets(self, targets) -> None:
        if targets is None:
            raise ValueError("targets should not be None")
        for key in ("boxes", "labels"):
            if any(key not in t for t in targets):
                raise ValueError(f"Every element of targets should have a {key} key")

    def select_training_samples(self, proposals, targets):
        """Adds the ground truth to the proposals, labels and samples them; returns the
        sampled proposals, their matched indices, labels and regression targets."""
        self.check_targets(targets)
        ref = proposals[0]
        boxes = [t["boxes"].to(ref.dtype) for t in targets]
        classes = [t["labels"] for t in targets]
        proposals = self.add_gt_proposals(proposals, boxes)
        matched, labels = self.assign_targets_to_proposals(proposals, boxes, classes)
        keep = self.subsample(labels)
        proposals = [p[k] for p, k in zip(proposals, keep)]
        labels = [lab[k] for lab, k in zip(labels, keep)]
        matched = [mi[k] for mi, k in zip(matched, keep)]
        targets_for = []
        for gtb, mi in zip(boxes, matched):
            if gtb.numel() == 0:
                gtb = ember.zeros((1, 4), dtype=ref.dtype, device=ref.device)
            targets_for.append(gtb[mi])
        return proposals, matched, labels, self.box_coder.encode(targets_for, proposals)

    def postprocess_detections(self, class_logits, box_regression, proposals, image_shapes):
        """Decodes class-specific boxes, drops background, low scores and tiny boxes, runs
        per-class NMS and keeps the top ``detections_per_img`` of each image."""
        counts = [p.shape[0] for p in proposals]
        n_cls = class_logits.shape[-1]
        decoded = self.box_coder.decode(box_regression, proposals).split(counts, 0)
        probs = F.softmax(class_logits, -1).split(counts, 0)
        res_b, res_s, res_l = [], [], []
        for bx, sc, hw in zip(decoded, probs, image_shapes):
            bx = box_ops.clip_boxes_to_image(bx, hw)
            cls_id = ember.arange(n_cls, device=class_logits.device).view(1, -1).expand_as(sc)
            # column 0 is background; every (proposal, class) pair is a candidate
            bx = bx[:, 1:].reshape(-1, 4)
            sc = sc[:, 1:].reshape(-1)
            cls_id = cls_id[:, 1:].reshape(-1)
            confident = ember.where(sc > self.score_thresh)[0]
            bx, sc, cls_id = bx[confident], sc[confident], cls_id[confident]
            big = box_ops.remove_small_boxes(bx, min_size=1e-2)
            bx, sc, cls_id = bx[big], sc[big], cls_id[big]
            top = box_ops.batched_nms(bx, sc, cls_id, self.nms_thresh)[:self.detections_per_img]
            res_b.append(bx[top])
            res_s.append(sc[top])
            res_l.append(cls_id[top])
        return res_b, res_s, res_l

    def forward(self, features, proposals, image_shapes, targets=None):
        if targets is not None:
            _check_target_types(targets)
        labels = reg_targets = None
        if self.training:
            proposals, _, labels, reg_targets = self.select_training_samples(proposals, targets)
        pooled = self.box_head(self.box_roi_pool(features, proposals, image_shapes))
        class_logits, box_regression = self.box_predictor(pooled)
        if self.training:
            if labels is None or reg_targets is None:
                raise ValueError("labels cannot be None")
            cls_loss, reg_loss = fastrcnn_loss(class_logits, box_regression, labels,
                                               reg_targets)
            return [], {"loss_classifier": cls_loss, "loss_box_reg": reg_loss}
        boxes, scores, classes = self.postprocess_detections(class_logits, box_regression,
                                                             proposals, image_shapes)
        dets = [{"boxes": b, "labels": c, "scores": s} for b, c, s in zip(boxes, classes, scores)]
        return dets, {}
