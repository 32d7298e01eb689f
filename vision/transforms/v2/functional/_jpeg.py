"""``jpeg``: a JPEG encode/decode round trip at a given quality, through Pillow (whose
libjpeg gives the same pixels as torchvision's encoder and decoder)."""

from __future__ import annotations

import io

import ember
import numpy as np
from ember import Tensor

from ....tv_tensors import Image, Video
from ... import functional as F1
from . import _box_arrays as B
from ._utils import _dispatch, _register

__all__ = ["jpeg", "jpeg_image", "jpeg_video"]


def jpeg(inpt: Tensor, quality: int) -> Tensor:
    """Compress and decompress as JPEG at ``quality`` (1 to 100): the artifacts of JPEG
    compression as an augmentation. Tensor images must be uint8 with 1 or 3 channels."""
    return _dispatch(jpeg, inpt, quality=quality)


def _roundtrip(pil_image, quality: int):
    buffer = io.BytesIO()
    pil_image.save(buffer, format="JPEG", quality=int(quality))
    buffer.seek(0)
    from PIL import Image as PILImage

    out = PILImage.open(buffer)
    out.load()
    return out


@_register(jpeg, Tensor, Image, Video)
def jpeg_image(image: Tensor, quality: int) -> Tensor:
    """JPEG round trip of a uint8 tensor image (..., 1 or 3, H, W), image by image."""
    if not 1 <= quality <= 100:
        raise ValueError("Image quality should be a positive number between 1 and 100")
    if image.dtype != ember.uint8:
        raise RuntimeError("encode_jpeg: Input tensor dtype should be uint8")
    if image.ndim < 3 or image.shape[-3] not in (1, 3):
        c = image.shape[-3] if image.ndim >= 3 else 1
        raise RuntimeError(f"encode_jpeg: The number of channels should be 1 or 3, got: {c}")
    a = B._array(image)
    flat = a.reshape((-1,) + a.shape[-3:])
    host = flat.get() if hasattr(flat, "get") else flat  # Pillow works on host memory
    outs = []
    for one in host:  # one encode/decode per image: the codec is per image
        pil = F1.to_pil_image(np.ascontiguousarray(one.transpose(1, 2, 0)))
        decoded = np.asarray(_roundtrip(pil, quality))
        outs.append(decoded.reshape(decoded.shape[:2] + (-1,)).transpose(2, 0, 1))
    out = np.stack(outs).reshape(a.shape)
    return ember.from_numpy(np.ascontiguousarray(out)).to(image.device)


jpeg_video = jpeg_image


@_register(jpeg, "PIL")
def _jpeg_pil(image, quality: int):
    if not 1 <= quality <= 100:
        raise ValueError("Image quality should be a positive number between 1 and 100")
    out = _roundtrip(image, quality)
    return out.convert(image.mode) if out.mode != image.mode else out
