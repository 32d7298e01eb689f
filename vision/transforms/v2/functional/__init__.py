"""ember.vision.transforms.v2.functional: the functionals of torchvision's
``transforms.v2.functional``. Each one dispatches on its input's type (pure tensor,
``tv_tensors.Image``/``Video``/``Mask``/``BoundingBoxes``/``KeyPoints`` or PIL image) to a
kernel (``resize_image``, ``resize_bounding_boxes``...), which can also be called
directly on plain tensors."""

from ...functional import InterpolationMode
from ._affine import *  # noqa: F403
from ._affine import __all__ as _affine_all
from ._color import *  # noqa: F403
from ._color import __all__ as _color_all
from ._geometry import *  # noqa: F403
from ._geometry import __all__ as _geometry_all
from ._jpeg import *  # noqa: F403
from ._jpeg import __all__ as _jpeg_all
from ._meta import *  # noqa: F403
from ._meta import __all__ as _meta_all
from ._misc import *  # noqa: F403
from ._misc import __all__ as _misc_all
from ._type_conversion import *  # noqa: F403
from ._type_conversion import __all__ as _type_conversion_all
from ._utils import is_pure_tensor, register_kernel

__all__ = (["InterpolationMode", "is_pure_tensor", "register_kernel"] + _affine_all
           + _color_all + _geometry_all + _jpeg_all + _meta_all + _misc_all + _type_conversion_all)
