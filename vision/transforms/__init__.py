"""ember.vision.transforms: image transforms (torchvision.transforms v1) on PIL images and
tensor images (..., C, H, W), with the functional forms in ``transforms.functional``. The
v2 transforms (nested samples of images, boxes, masks...) are in ``transforms.v2``."""

from . import functional
from .autoaugment import AugMix, AutoAugment, AutoAugmentPolicy, RandAugment, TrivialAugmentWide
from .transforms import *  # noqa: F403
from .transforms import __all__ as _t_all

__all__ = list(_t_all) + ["AugMix", "AutoAugment", "AutoAugmentPolicy", "RandAugment",
                          "TrivialAugmentWide", "functional"]


def __getattr__(name: str):
    if name == "v2":  # the v2 transforms, imported on first use
        import importlib

        return importlib.import_module(".v2", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
