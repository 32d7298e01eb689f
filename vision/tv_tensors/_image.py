"""``Image``, ``Video`` and ``Mask``: TVTensors without metadata."""

from __future__ import annotations

from typing import Any

from .._pil import is_pil_image
from ._tv_tensor import TVTensor

__all__ = ["Image", "Video", "Mask"]


def _from_pil(data: Any):
    if is_pil_image(data):
        from ..transforms.functional import pil_to_tensor

        return pil_to_tensor(data)
    return data


class Image(TVTensor):
    """An image, or a batch of images, of shape (..., C, H, W).

    The v2 transforms treat an ``Image`` like a plain tensor image, except that a plain
    tensor is only taken as the image when the sample holds no ``Image`` (see
    :class:`~ember.vision.transforms.v2.Transform`).

    Args:
        data: the pixels: a tensor, anything ``ember.as_tensor`` accepts, or a PIL image
            (read as (C, H, W) in its own dtype). A 2D input gets a channel axis.
        dtype (ember.dtype, optional): dtype of the result; that of ``data`` by default.
        device (ember.device, optional): device of the result; that of a tensor ``data``
            (else the CPU) by default.
        requires_grad (bool, optional): whether autograd records operations; taken from a
            tensor ``data`` (else False) by default.
    """

    def __new__(cls, data: Any, *, dtype=None, device=None,
                requires_grad: bool | None = None) -> Image:
        pixels = cls._as_plain(_from_pil(data), dtype, device, requires_grad)
        rank = pixels.ndim
        if rank < 2:
            raise ValueError(f"Tensor must be 2D or higher, got {rank}D tensor.")
        return cls._wrap(pixels[None] if rank == 2 else pixels)  # (H, W) -> (1, H, W)

    def __init__(self, *args, **kwargs) -> None:
        pass  # everything happens in __new__

    def _extra_repr(self) -> str:
        return ""


class Video(TVTensor):
    """A video, or a batch of videos, of shape (..., T, C, H, W): the transforms apply
    the same operation to every frame.

    Args:
        data: the frames, as a tensor or anything ``ember.as_tensor`` accepts (4D or more).
        dtype (ember.dtype, optional): dtype of the result; that of ``data`` by default.
        device (ember.device, optional): device of the result.
        requires_grad (bool, optional): whether autograd records operations.
    """

    def __new__(cls, data: Any, *, dtype=None, device=None,
                requires_grad: bool | None = None) -> Video:
        frames = cls._as_plain(data, dtype, device, requires_grad)
        if frames.ndim < 4:
            raise ValueError(f"Video must be 4D or higher ([..., T, C, H, W]), got "
                             f"{frames.ndim}D tensor.")
        return cls._wrap(frames)

    def __init__(self, *args, **kwargs) -> None:
        pass

    def _extra_repr(self) -> str:
        return ""


class Mask(TVTensor):
    """A segmentation mask (H, W) or a stack of masks (..., N, H, W): geometric transforms
    move it with the image (nearest-neighbour resampling), colour transforms leave it alone.

    Args:
        data: the mask values, as a tensor, anything ``ember.as_tensor`` accepts, or a PIL
            image.
        dtype (ember.dtype, optional): dtype of the result; that of ``data`` by default.
        device (ember.device, optional): device of the result.
        requires_grad (bool, optional): whether autograd records operations.
    """

    def __new__(cls, data: Any, *, dtype=None, device=None,
                requires_grad: bool | None = None) -> Mask:
        return cls._wrap(cls._as_plain(_from_pil(data), dtype, device, requires_grad))

    def __init__(self, *args, **kwargs) -> None:
        pass
