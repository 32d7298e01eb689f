"""Conversions between PIL images, numpy arrays, tensors and ``tv_tensors.Image``."""

from __future__ import annotations

import ember
import numpy as np
from ember import Tensor

from ...._pil import is_pil_image
from ....tv_tensors import Image
from ... import functional as F1

__all__ = ["to_image", "pil_to_tensor", "to_pil_image", "to_tensor"]


def to_image(inpt) -> Image:
    """An :class:`~ember.vision.tv_tensors.Image` from a tensor (..., C, H, W), a numpy
    array (H, W) or (H, W, C), or a PIL image; values and dtype are kept."""
    if is_pil_image(inpt):
        return Image(F1.pil_to_tensor(inpt))
    if isinstance(inpt, Tensor):
        return Image(inpt)
    if isinstance(inpt, np.ndarray):
        hwc = inpt[:, :, None] if inpt.ndim == 2 else inpt
        chw = np.ascontiguousarray(np.moveaxis(hwc, -1, -3))  # (..., H, W, C) -> (..., C, H, W)
        return Image(ember.from_numpy(chw))
    raise TypeError(f"Input can either be a pure Tensor, a numpy array, or a PIL image, but "
                    f"got {type(inpt)} instead.")


pil_to_tensor = F1.pil_to_tensor
to_pil_image = F1.to_pil_image
to_tensor = F1.to_tensor
