"""``MaskRCNN``: declared so that ``isinstance`` checks and imports of
``torchvision.models.detection.mask_rcnn`` work; ember.vision has no mask head yet, so
building one raises ``NotImplementedError``."""

from __future__ import annotations

from typing import Any

from .faster_rcnn import FasterRCNN

__all__ = ["MaskRCNN"]


class MaskRCNN(FasterRCNN):
    """Mask R-CNN (not implemented in ember.vision yet: constructing it raises)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("ember.vision.models.detection.MaskRCNN is not implemented "
                                  "yet (Faster R-CNN is: fasterrcnn_resnet50_fpn)")
