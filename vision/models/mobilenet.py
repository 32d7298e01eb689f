"""``torchvision.models.mobilenet``: MobileNet V2 and V3 under one module."""

from .mobilenetv2 import *  # noqa: F403
from .mobilenetv2 import __all__ as _v2_all
from .mobilenetv3 import *  # noqa: F403
from .mobilenetv3 import __all__ as _v3_all

__all__ = list(_v2_all) + list(_v3_all)
