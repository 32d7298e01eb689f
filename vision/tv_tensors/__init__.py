"""ember.vision.tv_tensors: tensor subclasses that tell the v2 transforms what a tensor
holds (``Image``, ``Video``, ``Mask``, ``BoundingBoxes``, ``KeyPoints``), as
``torchvision.tv_tensors``."""

from __future__ import annotations

from ember import Tensor

from ._bounding_boxes import BoundingBoxes, BoundingBoxFormat, is_rotated_bounding_format
from ._image import Image, Mask, Video
from ._keypoints import KeyPoints
from ._tv_tensor import TVTensor, set_return_type

__all__ = ["TVTensor", "Image", "Video", "Mask", "BoundingBoxes", "BoundingBoxFormat",
           "KeyPoints", "is_rotated_bounding_format", "set_return_type", "wrap"]


def wrap(wrappee: Tensor, *, like: TVTensor, **kwargs) -> TVTensor:
    """``wrappee`` as a TVTensor of the type of ``like``, sharing its data (no copy).

    The metadata (box format, canvas size, clamping mode; key points' canvas size) comes
    from ``like``, except the entries given in ``kwargs``; entries that the type has no
    use for are ignored.

    Args:
        wrappee (Tensor): the tensor to wrap.
        like (TVTensor): the tensor whose type and metadata the result takes.
        kwargs: metadata overriding that of ``like`` ("format", "canvas_size",
            "clamping_mode").
    """
    metadata = like._metadata()
    metadata.update({k: v for k, v in kwargs.items() if k in metadata})
    return type(like)._wrap(wrappee, **metadata)
