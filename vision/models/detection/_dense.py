"""Pieces the single-stage (dense) detectors share - RetinaNet, FCOS and SSD: checking the
inputs of a forward pass, running transform and backbone, flattening per-level head maps,
picking the best-scoring candidates of a level and the final per-class NMS."""

from __future__ import annotations

from collections import OrderedDict

import ember
from ember import Tensor

from ...ops import boxes as box_ops
from .generalized_rcnn import _check_target_boxes, _reject_empty_boxes

__all__: list[str] = []


def flatten_level(x: Tensor, columns: int) -> Tensor:
    """A head map (N, A*columns, H, W) as rows (N, H*W*A, columns), ordered cell by cell
    and, within a cell, anchor by anchor (the order the anchor generators use)."""
    n, _, h, w = x.shape
    return x.view(n, -1, columns, h, w).permute(0, 3, 4, 1, 2).reshape(n, -1, columns)


def prepare_inputs(model, images, targets):
    """Validates a forward call's inputs; returns the original (h, w) of every image, the
    transformed ``ImageList``, the transformed targets and the backbone's feature maps (a
    list, level by level)."""
    if model.training:
        if targets is None:
            raise ValueError("targets should not be none when in training mode")
        _check_target_boxes(targets)
    original_sizes: list[tuple[int, int]] = []
    for img in images:
        hw = img.shape[-2:]
        if len(hw) != 2:
            raise ValueError("expecting the last two dimensions of the Tensor to be H and W "
                             f"instead got {img.shape[-2:]}")
        original_sizes.append((int(hw[0]), int(hw[1])))
    batch, targets = model.transform(images, targets)
    if targets is not None:
        _reject_empty_boxes(targets)
    feats = model.backbone(batch.tensors)
    if isinstance(feats, Tensor):
        feats = OrderedDict([("0", feats)])
    return original_sizes, batch, targets, list(feats.values())


def top_candidates(scores: Tensor, score_thresh: float, topk: int):
    """Indices into the flat ``scores`` of the entries above ``score_thresh``, at most the
    ``topk`` best, best first; and their scores."""
    keep = ember.where(scores > score_thresh)[0]
    kept = scores[keep]
    k = min(topk, int(kept.numel()))
    best, order = kept.topk(k)
    return keep[order], best


def level_detections(scores: Tensor, regression: Tensor, anchors: Tensor, decode, hw,
                     n_classes: int, score_thresh: float, topk: int):
    """One level's candidates of one image: the ``topk`` best of the flat anchor-major
    class ``scores`` above ``score_thresh``, their boxes (``decode(regression_rows,
    anchor_rows)`` clipped to ``hw``), scores and labels."""
    picked, best = top_candidates(scores, score_thresh, topk)
    rows = ember.div(picked, n_classes, rounding_mode="floor")
    boxes = box_ops.clip_boxes_to_image(decode(regression[rows], anchors[rows]), hw)
    return boxes, best, picked % n_classes


def merge_detections(boxes, scores, labels, nms_thresh: float, detections_per_img: int):
    """Concatenates an image's per-level candidates and keeps the
    ``detections_per_img`` best survivors of a per-class NMS at ``nms_thresh``."""
    boxes, scores, labels = ember.cat(boxes), ember.cat(scores), ember.cat(labels)
    kept = box_ops.batched_nms(boxes, scores, labels, nms_thresh)[:detections_per_img]
    return {"boxes": boxes[kept], "scores": scores[kept], "labels": labels[kept]}


def split_per_level(tensors: dict, counts: list[int], dim: int = 1) -> dict:
    """Splits every tensor of ``tensors`` along ``dim`` into pieces of ``counts``."""
    return {k: list(v.split(counts, dim)) for k, v in tensors.items()}
