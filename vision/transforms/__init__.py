"""ember.vision.transforms: image transforms (torchvision.transforms v1) on PIL images and
tensor images (..., C, H, W), with the functional forms in ``transforms.functional``."""

from . import functional
from .autoaugment import AugMix, AutoAugment, AutoAugmentPolicy, RandAugment, TrivialAugmentWide
from .transforms import *  # noqa: F403
from .transforms import __all__ as _t_all

__all__ = list(_t_all) + ["AugMix", "AutoAugment", "AutoAugmentPolicy", "RandAugment",
                          "TrivialAugmentWide", "functional"]
