"""Second stage of the R-CNN detectors: per-proposal classification and box refinement
(``RoIHeads``) with its training loss (``fastrcnn_loss``), plus the optional mask branch
of Mask R-CNN and keypoint branch of Keypoint R-CNN (their losses and decoding live in
``_roi_mask`` and ``_roi_keypoint`` and are importable from here, as in torchvision)."""

from __future__ import annotations

import ember
from ember import nn
from ember.nn import functional as F

from ...ops import boxes as box_ops
from ._roi_keypoint import (
    heatmaps_to_keypoints,
    keypointrcnn_inference,
    keypointrcnn_loss,
    keypoints_to_heatmap,
)
from ._roi_mask import (
    expand_boxes,
    expand_masks,
    maskrcnn_inference,
    maskrcnn_loss,
    paste_mask_in_image,
    paste_masks_in_image,
    project_masks_on_boxes,
)
from ._utils import BalancedPositiveNegativeSampler, BoxCoder, Matcher

__all__ = ["RoIHeads", "fastrcnn_loss", "maskrcnn_loss", "maskrcnn_inference",
           "project_masks_on_boxes", "paste_masks_in_image", "paste_mask_in_image",
           "expand_boxes", "expand_masks", "keypointrcnn_loss", "keypointrcnn_inference",
           "keypoints_to_heatmap", "heatmaps_to_keypoints"]


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


def _check_target_types(targets, with_keypoints: bool) -> None:
    for t in targets:
        b, lab = t["boxes"], t["labels"]
        if not b.is_floating_point():
            raise TypeError(f"target boxes must of float type, instead got {b.dtype}")
        if lab.dtype != ember.int64:
            raise TypeError(f"target labels must of int64 type, instead got {lab.dtype}")
        if with_keypoints:
            if "keypoints" not in t:
                raise ValueError("Every element of targets should have a keypoints key")
            if t["keypoints"].dtype != ember.float32:
                raise TypeError("target keypoints must of float type, instead got "
                                f"{t['keypoints'].dtype}")


def _positives(proposals, matched_idxs, labels):
    """Per image: the foreground proposals and the gt index each one matched."""
    boxes, owners = [], []
    for props, idx, lab in zip(proposals, matched_idxs, labels):
        fg = ember.where(lab > 0)[0]
        boxes.append(props[fg])
        owners.append(idx[fg])
    return boxes, owners


def _branch_logits(pool, head, predictor, features, rois, image_shapes, training):
    """``predictor(head(pool(...)))`` for the mask or keypoint branch. ember's convolutions
    need a non-empty batch, so without any RoI: None in training (the caller's loss is a
    zero), and in evaluation the outputs for one blank RoI, sliced to none."""
    pooled = pool(features, rois, image_shapes)
    if pooled.shape[0] > 0:
        return predictor(head(pooled))
    if training:
        return None
    blank = ember.zeros((1,) + tuple(pooled.shape[1:]), dtype=pooled.dtype,
                        device=pooled.device)
    return predictor(head(blank))[:0]


def _zero_loss(*modules):
    """A zero loss that still reaches the parameters of ``modules`` (zero gradients), as
    the loss of a branch without positive proposals."""
    total = None
    for m in modules:
        for p in m.parameters():
            total = p.sum() if total is None else total + p.sum()
    return ember.zeros(()) if total is None else total * 0


class RoIHeads(nn.Module):
    """Pools features for each proposal (``box_roi_pool``), runs ``box_head`` and
    ``box_predictor`` on them; training samples proposals against the targets and gives
    losses, evaluation gives per-image ``boxes``/``labels``/``scores``.

    With all three ``mask_*`` modules, the foreground proposals (training) or the final
    detections (evaluation) also go through ``mask_roi_pool``, ``mask_head`` and
    ``mask_predictor``: the ``loss_mask`` loss, or per-detection ``masks`` (n, 1, M, M
    probabilities of the predicted class, pasted into the image by the transform). The
    three ``keypoint_*`` modules do the same for ``loss_keypoint``, or ``keypoints``
    (n, K, 3) and ``keypoints_scores`` (n, K).
    """

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
        self.mask_roi_pool = mask_roi_pool
        self.mask_head = mask_head
        self.mask_predictor = mask_predictor
        self.keypoint_roi_pool = keypoint_roi_pool
        self.keypoint_head = keypoint_head
        self.keypoint_predictor = keypoint_predictor

    def has_mask(self) -> bool:
        """Whether the mask branch is complete (pooler, head and predictor all set)."""
        parts = (self.mask_roi_pool, self.mask_head, self.mask_predictor)
        return all(p is not None for p in parts)

    def has_keypoint(self) -> bool:
        """Whether the keypoint branch is complete (pooler, head and predictor all set)."""
        parts = (self.keypoint_roi_pool, self.keypoint_head, self.keypoint_predictor)
        return all(p is not None for p in parts)

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
        for key in ("boxes", "labels") + (("masks",) if self.has_mask() else ()):
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

    def _mask_branch(self, features, image_shapes, targets, result, positives):
        """``loss_mask`` (training: ``positives`` are the foreground proposals and their
        gt indices) or the ``masks`` of every detection in ``result`` (evaluation)."""
        if self.training:
            rois, owners = positives
        else:
            rois = [r["boxes"] for r in result]
        logits = _branch_logits(self.mask_roi_pool, self.mask_head, self.mask_predictor,
                                features, rois, image_shapes, self.training)
        if logits is None:  # training without any positive proposal
            return {"loss_mask": _zero_loss(self.mask_head, self.mask_predictor)}
        if self.training:
            loss = maskrcnn_loss(logits, rois, [t["masks"] for t in targets],
                                 [t["labels"] for t in targets], owners)
            return {"loss_mask": loss}
        probs = maskrcnn_inference(logits, [r["labels"] for r in result])
        for r, p in zip(result, probs):
            r["masks"] = p
        return {}

    def _keypoint_branch(self, features, image_shapes, targets, result, positives):
        """``loss_keypoint`` (training) or each detection's ``keypoints`` and
        ``keypoints_scores`` (evaluation), as ``_mask_branch``."""
        if self.training:
            rois, owners = positives
        else:
            rois = [r["boxes"] for r in result]
        logits = _branch_logits(self.keypoint_roi_pool, self.keypoint_head,
                                self.keypoint_predictor, features, rois, image_shapes,
                                self.training)
        if logits is None:
            return {"loss_keypoint": _zero_loss(self.keypoint_head, self.keypoint_predictor)}
        if self.training:
            loss = keypointrcnn_loss(logits, rois, [t["keypoints"] for t in targets], owners)
            return {"loss_keypoint": loss}
        points, scores = keypointrcnn_inference(logits, rois)
        for r, p, s in zip(result, points, scores):
            r["keypoints"] = p
            r["keypoints_scores"] = s
        return {}

    def forward(self, features, proposals, image_shapes, targets=None):
        """Training: the dict of losses (``loss_classifier``, ``loss_box_reg``, and
        ``loss_mask`` / ``loss_keypoint`` for the branches present) and an empty list.
        Evaluation: one dict of detections per image and an empty dict."""
        if targets is not None:
            _check_target_types(targets, self.has_keypoint())
        labels = reg_targets = matched = None
        if self.training:
            proposals, matched, labels, reg_targets = self.select_training_samples(
                proposals, targets)
        pooled = self.box_head(self.box_roi_pool(features, proposals, image_shapes))
        class_logits, box_regression = self.box_predictor(pooled)
        result: list[dict] = []
        losses: dict = {}
        positives = None
        if self.training:
            if labels is None or reg_targets is None:
                raise ValueError("labels cannot be None")
            cls_loss, reg_loss = fastrcnn_loss(class_logits, box_regression, labels,
                                               reg_targets)
            losses = {"loss_classifier": cls_loss, "loss_box_reg": reg_loss}
            if self.has_mask() or self.has_keypoint():
                positives = _positives(proposals, matched, labels)
        else:
            boxes, scores, classes = self.postprocess_detections(
                class_logits, box_regression, proposals, image_shapes)
            result = [{"boxes": b, "labels": c, "scores": s}
                      for b, c, s in zip(boxes, classes, scores)]
        if self.has_mask():
            losses.update(self._mask_branch(features, image_shapes, targets, result, positives))
        if self.has_keypoint():
            losses.update(self._keypoint_branch(features, image_shapes, targets, result,
                                                positives))
        return result, losses
