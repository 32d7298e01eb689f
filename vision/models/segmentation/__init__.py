"""ember.vision.models.segmentation: semantic segmentation models with torchvision's
structure, ``state_dict`` keys and pretrained weights: FCN, DeepLabV3 and Lite R-ASPP on
dilated ResNet / MobileNetV3-Large backbones. Every model returns an OrderedDict of
per-class scores at the input's resolution ("out", plus "aux" for an auxiliary head)."""

from . import deeplabv3, fcn, lraspp
from .deeplabv3 import *  # noqa: F403
from .deeplabv3 import ASPP, ASPPConv, ASPPPooling, DeepLabHead
from .fcn import *  # noqa: F403
from .fcn import FCNHead
from .lraspp import *  # noqa: F403
from .lraspp import LRASPPHead

__all__ = fcn.__all__ + deeplabv3.__all__ + lraspp.__all__
__all__ += ["FCNHead", "DeepLabHead", "ASPP", "ASPPConv", "ASPPPooling", "LRASPPHead"]
