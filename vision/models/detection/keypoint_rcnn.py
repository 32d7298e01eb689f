"""``KeypointRCNN``: declared so that ``isinstance`` checks and imports of
``torchvision.models.detection.keypoint_rcnn`` work; ember.vision has no keypoint head
yet, so building one raises ``NotImplementedError``."""

from __future__ import annotations

from typing import Any

from .faster_rcnn import FasterRCNN

__all__ = ["KeypointRCNN"]


class KeypointRCNN(FasterRCNN):
    """Keypoint R-CNN (not implemented in ember.vision yet: constructing it raises)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("ember.vision.models.detection.KeypointRCNN is not "
                                  "implemented yet (Faster R-CNN is: fasterrcnn_resnet50_fpn)")
