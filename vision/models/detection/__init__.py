"""ember.vision.models.detection: object detectors with torchvision's structure and
``state_dict`` keys (Faster R-CNN with a ResNet-50-FPN backbone), plus their building
blocks (anchors, RPN, RoI heads, the R-CNN transform). ``MaskRCNN`` and ``KeypointRCNN``
are declared (for imports and ``isinstance``) but not implemented yet. Ultralytics YOLOv8
and YOLO11 (``yolo``)."""

from . import keypoint_rcnn, mask_rcnn
from .faster_rcnn import *  # noqa: F403
from .faster_rcnn import __all__ as _frcnn_all
from .keypoint_rcnn import KeypointRCNN
from .mask_rcnn import MaskRCNN

__all__ = list(_frcnn_all) + ["MaskRCNN", "KeypointRCNN", "mask_rcnn", "keypoint_rcnn"]

# Ultralytics YOLOv8 and YOLO11 (checkpoints read without torch), pre-/post-processing
from . import yolo  # noqa: E402
from .yolo import *  # noqa: E402,F403
from .yolo_checkpoint import load_ultralytics_checkpoint  # noqa: E402
from .yolo_utils import (  # noqa: E402
    LetterboxInfo,
    YOLOPreprocess,
    detections_to_dicts,
    letterbox,
    non_max_suppression,
    scale_boxes,
)

__all__ += list(yolo.__all__) + [
    "yolo", "load_ultralytics_checkpoint", "LetterboxInfo", "YOLOPreprocess",
    "detections_to_dicts", "letterbox", "non_max_suppression", "scale_boxes"]
