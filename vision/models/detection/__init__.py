"""ember.vision.models.detection: object detectors with torchvision's structure and
``state_dict`` keys - Faster R-CNN, Mask R-CNN and Keypoint R-CNN with ResNet-50-FPN
backbones (v1 and the improved v2 recipe) - plus their building blocks (anchors, RPN, RoI
heads, the R-CNN transform); and Ultralytics' YOLOv8 and YOLO11 (``yolo``)."""

from . import faster_rcnn, keypoint_rcnn, mask_rcnn
from .faster_rcnn import *  # noqa: F403
from .faster_rcnn import __all__ as _frcnn_all
from .keypoint_rcnn import *  # noqa: F403
from .keypoint_rcnn import __all__ as _kprcnn_all
from .mask_rcnn import *  # noqa: F403
from .mask_rcnn import __all__ as _mrcnn_all

__all__ = (list(_frcnn_all) + list(_mrcnn_all) + list(_kprcnn_all)
           + ["faster_rcnn", "mask_rcnn", "keypoint_rcnn"])

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

# single-stage detectors: RetinaNet, FCOS, SSD300 and SSDlite
from . import fcos, retinanet, ssd, ssdlite  # noqa: E402
from .anchor_utils import AnchorGenerator, DefaultBoxGenerator  # noqa: E402
from .fcos import *  # noqa: E402,F403
from .retinanet import *  # noqa: E402,F403
from .ssd import *  # noqa: E402,F403
from .ssdlite import *  # noqa: E402,F403

__all__ += (list(retinanet.__all__) + list(fcos.__all__) + list(ssd.__all__)
            + list(ssdlite.__all__) + ["retinanet", "fcos", "ssd", "ssdlite",
                                       "AnchorGenerator", "DefaultBoxGenerator"])
