"""ember.vision.models.detection: object detectors with torchvision's structure and
``state_dict`` keys (Faster R-CNN with a ResNet-50-FPN backbone), plus their building
blocks (anchors, RPN, RoI heads, the R-CNN transform). ``MaskRCNN`` and ``KeypointRCNN``
are declared (for imports and ``isinstance``) but not implemented yet."""

from . import keypoint_rcnn, mask_rcnn
from .faster_rcnn import *  # noqa: F403
from .faster_rcnn import __all__ as _frcnn_all
from .keypoint_rcnn import KeypointRCNN
from .mask_rcnn import MaskRCNN

__all__ = list(_frcnn_all) + ["MaskRCNN", "KeypointRCNN", "mask_rcnn", "keypoint_rcnn"]
