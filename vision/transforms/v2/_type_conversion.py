"""Type-conversion transforms: ``PILToTensor``, ``ToImage``, ``ToPILImage``,
``ToPureTensor`` and the deprecated ``ToTensor``."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..._pil import is_pil_image
from ...tv_tensors import Image, TVTensor
from . import functional as F
from ._transform import Transform
from .functional._utils import _plain, is_pure_tensor

__all__ = ["PILToTensor", "ToImage", "ToPILImage", "ToPureTensor", "ToTensor"]


class PILToTensor(Transform):
    """Convert a PIL image to a plain tensor (C, H, W) of the same dtype (no scaling)."""

    _transformed_types = (is_pil_image,)

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return F.pil_to_tensor(inpt)


class ToImage(Transform):
    """Convert a PIL image, a numpy array (H, W, C) or a plain tensor to a
    :class:`~ember.vision.tv_tensors.Image` (no scaling); other inputs pass through."""

    _transformed_types = (is_pure_tensor, is_pil_image, np.ndarray)

    def transform(self, inpt: Any, params: dict[str, Any]) -> Image:
        return F.to_image(inpt)


class ToPILImage(Transform):
    """Convert a tensor image (C, H, W) or a numpy array (H, W, C) to a PIL image.

    Args:
        mode (str, optional): the PIL mode of the result; inferred from the channels and
            dtype by default.
    """

    _transformed_types = (is_pure_tensor, Image, np.ndarray)

    def __init__(self, mode: str | None = None) -> None:
        super().__init__()
        self.mode = mode

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if isinstance(inpt, Image):
            inpt = _plain(inpt)
        return F.to_pil_image(inpt, mode=self.mode)


class ToPureTensor(Transform):
    """Convert every TVTensor of the sample to a plain ``ember.Tensor`` (no copy)."""

    _transformed_types = (TVTensor,)

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return _plain(inpt)


class ToTensor(Transform):
    """Convert a PIL image or numpy array to a float tensor scaled to [0, 1].

    Deprecated in torchvision: use ``Compose([ToImage(), ToDtype(float32, scale=True)])``.
    """

    _transformed_types = (is_pil_image, np.ndarray)

    def __init__(self) -> None:
        warnings.warn("The transform `ToTensor()` is deprecated and will be removed in a "
                      "future release. Instead, please use `v2.Compose([v2.ToImage(), "
                      "v2.ToDtype(torch.float32, scale=True)])`.Output is equivalent up to "
                      "float precision.", stacklevel=2)
        super().__init__()

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return F.to_tensor(inpt)
