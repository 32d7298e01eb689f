"""The region proposal stage: ``RPNHead`` scores anchors, ``RegionProposalNetwork`` turns
the scores into proposals and, when training, into the two RPN losses."""

from __future__ import annotations

import ember
from ember import Tensor, nn
from ember.nn import functional as F

from ...ops import boxes as box_ops
from ...ops.misc import Conv2dNormActivation
from ._utils import BalancedPositiveNegativeSampler, BoxCoder, Matcher
from .anchor_utils import AnchorGenerator  # noqa: F401  (public here too, as in torchvision)

__all__ = ["RPNHead", "RegionProposalNetwork", "concat_box_prediction_layers"]


class RPNHead(nn.Module):
    """``conv_depth`` shared 3x3 conv+ReLU layers, then 1x1 convs giving one objectness
    logit (``cls_logits``) and four deltas (``bbox_pred``) for each of ``num_anchors``."""

    _version = 2

    def __init__(self, in_channels: int, num_anchors: int, conv_depth: int = 1) -> None:
        super().__init__()
        self.conv = nn.Sequential(*(
            Conv2dNormActivation(in_channels, in_channels, kernel_size=3, norm_layer=None)
            for _ in range(conv_depth)))
        self.cls_logits = nn.Conv2d(in_channels, num_anchors, 1)
        self.bbox_pred = nn.Conv2d(in_channels, 4 * num_anchors, 1)
        convs = [m for m in self.modules() if isinstance(m, nn.Conv2d)]
        for c in convs:
            nn.init.normal_(c.weight, std=0.01)
            if c.bias is not None:
                nn.init.constant_(c.bias, 0)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # checkpoints older than version 2 had a bare conv at "conv.*"
        if (local_metadata.get("version") or 0) < 2:
            for suffix in ("weight", "bias"):
                legacy = prefix + "conv." + suffix
                if legacy in state_dict:
                    state_dict[prefix + "conv.0.0." + suffix] = state_dict.pop(legacy)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)

    def forward(self, x):
        scores: list[Tensor] = []
        deltas: list[Tensor] = []
        for level in x:
            hidden = self.conv(level)
            scores.append(self.cls_logits(hidden))
            deltas.append(self.bbox_pred(hidden))
        return scores, deltas


def permute_and_flatten(layer, N, A, C, H, W):
    """(N, A*C, H, W) -> (N, H*W*A, C)."""
    return layer.view(N, -1, C, H, W).permute(0, 3, 4, 1, 2).reshape(N, -1, C)


def concat_box_prediction_layers(box_cls, box_regression):
    """Joins the per-level head outputs into scores (total, C) and deltas (total, 4),
    rows ordered image by image, level by level, matching the anchors."""
    flat_scores, flat_deltas = [], []
    for s, d in zip(box_cls, box_regression):
        n, a_times_c, h, w = s.shape
        a = d.shape[1] // 4
        flat_scores.append(permute_and_flatten(s, n, a, a_times_c // a, h, w))
        flat_deltas.append(permute_and_flatten(d, n, a, 4, h, w))
    return (ember.cat(flat_scores, dim=1).flatten(0, -2),
            ember.cat(flat_deltas, dim=1).reshape(-1, 4))


class RegionProposalNetwork(nn.Module):
    """Proposes object boxes from anchors.

    Anchors with IoU >= ``fg_iou_thresh`` to a ground truth are foreground, below
    ``bg_iou_thresh`` background; ``batch_size_per_image`` anchors with a
    ``positive_fraction`` share of foreground feed the losses. ``pre_nms_top_n`` /
    ``post_nms_top_n`` are dicts with ``training`` and ``testing`` counts kept per level
    before NMS (at ``nms_thresh``) and per image after it; proposals scoring below
    ``score_thresh`` are dropped.
    """

    _version = 2

    def __init__(self, anchor_generator, head, fg_iou_thresh, bg_iou_thresh,
                 batch_size_per_image, positive_fraction, pre_nms_top_n, post_nms_top_n,
                 nms_thresh, score_thresh=0.0) -> None:
        super().__init__()
        self.anchor_generator = anchor_generator
        self.head = head
        self.box_coder = BoxCoder((1.0,) * 4)
        self.box_similarity = box_ops.box_iou
        self.proposal_matcher = Matcher(fg_iou_thresh, bg_iou_thresh, True)
        self.fg_bg_sampler = BalancedPositiveNegativeSampler(
            batch_size_per_image, positive_fraction)
        self._pre_nms_top_n = pre_nms_top_n
        self._post_nms_top_n = post_nms_top_n
        self.nms_thresh = nms_thresh
        self.score_thresh = score_thresh
        self.min_size = 1e-3

    def _phase(self) -> str:
        return "training" if self.training else "testing"

    def pre_nms_top_n(self):
        return self._pre_nms_top_n[self._phase()]

    def post_nms_top_n(self):
        return self._post_nms_top_n[self._phase()]

    def assign_targets_to_anchors(self, anchors, targets):
        """Per image: anchor labels (1 fg, 0 bg, -1 ignored) and the matched gt boxes."""
        m = self.proposal_matcher
        all_labels, all_gt = [], []
        for anc, tgt in zip(anchors, targets):
            gt = tgt["boxes"]
            if gt.numel() == 0:
                gt_for_anchor = ember.zeros(anc.shape, dtype=ember.float32, device=anc.device)
                lab = ember.zeros((anc.shape[0],), dtype=ember.float32, device=anc.device)
            else:
                idx = m(self.box_similarity(gt, anc))
                gt_for_anchor = gt[idx.clamp(min=0)]
                lab = (idx >= 0).to(dtype=ember.float32)
                lab[idx == m.BELOW_LOW_THRESHOLD] = 0.0
                lab[idx == m.BETWEEN_THRESHOLDS] = -1.0
            all_labels.append(lab)
            all_gt.append(gt_for_anchor)
        return all_labels, all_gt

    def _get_top_n_idx(self, objectness, num_anchors_per_level):
        picked, start = [], 0
        for chunk in objectness.split(num_anchors_per_level, 1):
            count = chunk.shape[1]
            k = min(self.pre_nms_top_n(), count)
            picked.append(chunk.topk(k, dim=1)[1] + start)
            start += count
        return ember.cat(picked, dim=1)

    def filter_proposals(self, proposals, objectness, image_shapes, num_anchors_per_level):
        """Best-scoring proposals per level, clipped, de-duplicated by per-level NMS."""
        n_img = proposals.shape[0]
        dev = proposals.device
        logits = objectness.detach().reshape(n_img, -1)
        level_id = ember.cat([ember.full((cnt,), lvl, dtype=ember.int64, device=dev)
                              for lvl, cnt in enumerate(num_anchors_per_level)], 0)
        level_id = level_id.reshape(1, -1).expand_as(logits)
        top = self._get_top_n_idx(logits, num_anchors_per_level)
        rows = ember.arange(n_img, device=dev)[:, None]
        probs = ember.sigmoid(logits[rows, top])
        level_id = level_id[rows, top]
        proposals = proposals[rows, top]
        out_boxes, out_scores = [], []
        for bx, sc, lv, hw in zip(proposals, probs, level_id, image_shapes):
            bx = box_ops.clip_boxes_to_image(bx, hw)
            ok = box_ops.remove_small_boxes(bx, self.min_size)
            bx, sc, lv = bx[ok], sc[ok], lv[ok]
            ok = ember.where(sc >= self.score_thresh)[0]
            bx, sc, lv = bx[ok], sc[ok], lv[ok]
            kept = box_ops.batched_nms(bx, sc, lv, self.nms_thresh)[:self.post_nms_top_n()]
            out_boxes.append(bx[kept])
            out_scores.append(sc[kept])
        return out_boxes, out_scores

    def compute_loss(self, objectness, pred_bbox_deltas, labels, regression_targets):
        """Binary cross-entropy on sampled anchors and smooth-L1 (beta 1/9) on the
        sampled foreground ones, the latter summed and divided by the sample size."""
        fg_masks, bg_masks = self.fg_bg_sampler(labels)
        fg = ember.where(ember.cat(fg_masks, dim=0))[0]
        bg = ember.where(ember.cat(bg_masks, dim=0))[0]
        chosen = ember.cat([fg, bg], dim=0)
        all_labels = ember.cat(labels, dim=0)
        all_targets = ember.cat(regression_targets, dim=0)
        reg = F.smooth_l1_loss(pred_bbox_deltas[fg], all_targets[fg], beta=1 / 9,
                               reduction="sum") / chosen.numel()
        cls = F.binary_cross_entropy_with_logits(objectness.flatten()[chosen],
                                                 all_labels[chosen])
        return cls, reg

    def forward(self, images, features, targets=None):
        maps = list(features.values())
        scores, deltas = self.head(maps)
        anchors = self.anchor_generator(images, maps)
        per_level = [int(s[0].shape[0] * s[0].shape[1] * s[0].shape[2]) for s in scores]
        scores, deltas = concat_box_prediction_layers(scores, deltas)
        # proposals are treated as constants: no gradient flows through the decoding
        props = self.box_coder.decode(deltas.detach(), anchors).view(len(anchors), -1, 4)
        boxes, box_scores = self.filter_proposals(props, scores, images.image_sizes, per_level)
        losses: dict[str, Tensor] = {}
        if self.training:
            if targets is None:
                raise ValueError("targets should not be None")
            labels, gt = self.assign_targets_to_anchors(anchors, targets)
            reg_targets = self.box_coder.encode(gt, anchors)
            obj_loss, box_loss = self.compute_loss(scores, deltas, labels, reg_targets)
            losses = {"loss_objectness": obj_loss, "loss_rpn_box_reg": box_loss}
        return boxes, losses
