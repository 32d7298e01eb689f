"""``GeneralizedRCNN``: the skeleton every two-stage detector here shares."""

from __future__ import annotations

from collections import OrderedDict

import ember
from ember import Tensor, nn

__all__ = ["GeneralizedRCNN"]


def _check_target_boxes(targets) -> None:
    for t in targets:
        b = t["boxes"]
        if not isinstance(b, Tensor):
            raise TypeError(f"Expected target boxes to be of type Tensor, got {type(b)}.")
        if b.dim() != 2 or b.shape[-1] != 4:
            raise ValueError(f"Expected target boxes to be a tensor of shape [N, 4], got "
                             f"{b.shape}.")


def _reject_empty_boxes(targets) -> None:
    for i, t in enumerate(targets):
        b = t["boxes"]
        flat = (b[:, 2:] <= b[:, :2]).any(dim=1)
        if bool(flat.any()):
            first = int(ember.where(flat)[0][0])
            raise ValueError("All bounding boxes should have positive height and width. Found "
                             f"invalid box {b[first].tolist()} for target at index {i}.")


class GeneralizedRCNN(nn.Module):
    """Runs ``transform`` (resize + normalise + batch), ``backbone`` (features), ``rpn``
    (proposals) and ``roi_heads`` (final boxes), then maps boxes back to input size.

    Training mode returns the dict of losses; eval mode one dict per image with
    ``boxes``, ``labels``, ``scores`` (and whatever extra the heads add).
    """

    def __init__(self, backbone, rpn, roi_heads, transform) -> None:
        super().__init__()
        # registration order fixes the state_dict / parameter order
        self.transform = transform
        self.backbone = backbone
        self.rpn = rpn
        self.roi_heads = roi_heads
        self._has_warned = False

    def eager_outputs(self, losses, detections):
        return losses if self.training else detections

    def forward(self, images, targets=None):
        """``images``: list of (C, H, W) tensors; ``targets`` (training only): list of
        dicts with ``boxes`` (N, 4) in x1y1x2y2 and ``labels`` (N,)."""
        if self.training:
            if targets is None:
                raise ValueError("In training mode, targets should be passed")
            _check_target_boxes(targets)
        sizes_in: list[tuple[int, int]] = []
        for im in images:
            hw = im.shape[-2:]
            if len(hw) != 2:
                raise ValueError("expecting the last two dimensions of the Tensor to be H and "
                                 f"W instead got {im.shape[-2:]}")
            sizes_in.append((int(hw[0]), int(hw[1])))
        batch, targets = self.transform(images, targets)
        if targets is not None:
            _reject_empty_boxes(targets)
        feats = self.backbone(batch.tensors)
        if isinstance(feats, Tensor):
            feats = OrderedDict((("0", feats),))
        proposals, rpn_losses = self.rpn(batch, feats, targets)
        dets, head_losses = self.roi_heads(feats, proposals, batch.image_sizes, targets)
        dets = self.transform.postprocess(dets, batch.image_sizes, sizes_in)
        losses = {**head_losses, **rpn_losses}
        return self.eager_outputs(losses, dets)
