"""Image files to and from uint8 tensors (C, H, W), as ``torchvision.io.image``, through
Pillow: ``read_image``/``decode_image`` with an ``ImageReadMode``, PNG and JPEG encoding and
writing, raw file bytes as a uint8 tensor."""

from __future__ import annotations

import io
import os
from enum import Enum

import ember
import numpy as np
from ember import Tensor

from .._pil import pil_image

__all__ = ["ImageReadMode", "read_file", "write_file", "decode_image", "decode_png",
           "decode_jpeg", "read_image", "encode_png", "write_png", "encode_jpeg",
           "write_jpeg"]


class ImageReadMode(Enum):
    """Allow automatic conversion to RGB, RGBA, etc while decoding.

    - ``ImageReadMode.UNCHANGED``: loads the image as-is
    - ``ImageReadMode.RGB``: converts to RGB
    - ``ImageReadMode.RGBA``: converts to RGB with transparency (also aliased as
      ``RGB_ALPHA``)
    - ``ImageReadMode.GRAY``: converts to grayscale
    - ``ImageReadMode.GRAY_ALPHA``: converts to grayscale with transparency
    """

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA  # Alias for convenience


_MODES = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA", ImageReadMode.RGB: "RGB",
          ImageReadMode.RGB_ALPHA: "RGBA"}


def read_file(path: str | os.PathLike) -> Tensor:
    """Return the bytes contents of a file as a uint8 1D Tensor.

    Args:
        path (str or ``pathlib.Path``): the path to the file to be read

    Returns:
        data (Tensor)
    """
    with open(os.fspath(path), "rb") as f:
        data = f.read()
    return ember.from_numpy(np.frombuffer(data, dtype=np.uint8).copy())


def write_file(filename: str | os.PathLike, data: Tensor) -> None:
    """Write the content of an uint8 1D tensor to a file.

    Args:
        filename (str or ``pathlib.Path``): the path to the file to be written
        data (Tensor): the contents to be written to the output file
    """
    if data.dtype != ember.uint8 or data.ndim != 1:
        raise ValueError(f"write_file expects a 1-D uint8 tensor, got {data.dtype} with shape "
                         f"{list(data.shape)}")
    path = os.fspath(filename)
    tmp = path + ".partial"
    with open(tmp, "wb") as f:
        f.write(data.cpu().numpy().tobytes())
    os.replace(tmp, path)


def _as_bytes(input) -> bytes:
    if isinstance(input, (str, os.PathLike)):
        with open(os.fspath(input), "rb") as f:
            return f.read()
    if isinstance(input, Tensor):
        if input.dtype != ember.uint8 or input.ndim != 1:
            raise RuntimeError(f"Expected a 1-D uint8 tensor of encoded bytes, got "
                               f"{input.dtype} with shape {list(input.shape)}")
        return input.cpu().numpy().tobytes()
    if isinstance(input, (bytes, bytearray)):
        return bytes(input)
    raise TypeError(f"Expected a tensor, bytes or a path, got {type(input).__name__}")


def _pil_to_chw(img, mode: ImageReadMode) -> Tensor:
    Image = pil_image()
    if mode == ImageReadMode.UNCHANGED:
        if img.mode == "P":
            img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        elif img.mode == "1":
            img = img.convert("L")
        elif img.mode in ("CMYK", "YCbCr", "HSV", "LAB"):
            img = img.convert("RGB")
        elif img.mode == "PA":
            img = img.convert("RGBA")
    else:
        target = _MODES[mode]
        if img.mode != target:
            if img.mode.startswith("I") and target in ("L", "LA"):
                arr = np.asarray(img, dtype=np.uint16) >> 8
                img = Image.fromarray(arr.astype(np.uint8))
            img = img.convert(target)
    if img.mode in ("I;16", "I;16B", "I;16L"):
        arr = np.asarray(img).astype(np.uint16)
    elif img.mode == "I":
        arr = np.asarray(img).astype(np.int32)
    else:
        arr = np.asarray(img, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return ember.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def decode_image(input, mode: ImageReadMode = ImageReadMode.UNCHANGED,
                 apply_exif_orientation: bool = False) -> Tensor:
    """Detect whether an image is a JPEG, PNG, WEBP, GIF (or any format Pillow reads) and
    performs the appropriate operation to decode the image into a Tensor.

    The values of the output tensor are in uint8 in [0, 255] for most cases. 16-bit PNGs
    give uint16 tensors.

    Args:
        input (Tensor or str or ``pathlib.Path``): The image to decode. If a tensor is
            passed, it must be one dimensional uint8 tensor containing the raw bytes of the
            image. Otherwise, this must be a path to the image file.
        mode (str or ImageReadMode): The mode to convert the image to, e.g. "RGB". Default
            is "UNCHANGED".
        apply_exif_orientation (bool): apply EXIF orientation transformation to the output
            tensor. Default: False.

    Returns:
        output (Tensor[image_channels, image_height, image_width])
    """
    Image = pil_image()
    if isinstance(mode, str):
        mode = ImageReadMode[mode.upper()]
    data = _as_bytes(input)
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except Exception as e:  # noqa: BLE001 - Pillow raises many types
        raise RuntimeError(f"decode_image: could not decode the image ({e})") from e
    if apply_exif_orientation:
        from PIL import ImageOps

        img = ImageOps.exif_transpose(img)
    return _pil_to_chw(img, mode)


def decode_png(input: Tensor, mode: ImageReadMode = ImageReadMode.UNCHANGED,
               apply_exif_orientation: bool = False) -> Tensor:
    """Decodes a PNG image into a 3 dimensional uint8 (or uint16) tensor."""
    return decode_image(input, mode, apply_exif_orientation)


def decode_jpeg(input, mode: ImageReadMode = ImageReadMode.UNCHANGED, device="cpu",
                apply_exif_orientation: bool = False):
    """Decode JPEG image(s) into 3 dimensional uint8 tensors (a list in, a list out)."""
    if isinstance(input, (list, tuple)):
        return [decode_image(i, mode, apply_exif_orientation).to(device) for i in input]
    return decode_image(input, mode, apply_exif_orientation).to(device)


def read_image(path: str | os.PathLike, mode: ImageReadMode = ImageReadMode.UNCHANGED,
               apply_exif_orientation: bool = False) -> Tensor:
    """Reads a JPEG, PNG, WEBP or GIF image into a 3 dimensional RGB or grayscale Tensor.

    The values of the output tensor are in uint8 in [0, 255] for most cases.

    Args:
        path (str or ``pathlib.Path``): path of the image.
        mode (ImageReadMode): The mode to convert the image to, e.g. ``ImageReadMode.RGB``.
            Default is ``ImageReadMode.UNCHANGED``.
        apply_exif_orientation (bool): apply EXIF orientation transformation to the output
            tensor. Default: False.

    Returns:
        output (Tensor[image_channels, image_height, image_width])
    """
    return decode_image(path, mode, apply_exif_orientation)


def _to_pil(input: Tensor, what: str):
    Image = pil_image()
    if not isinstance(input, Tensor):
        raise TypeError(f"{what}: expected a tensor, got {type(input).__name__}")
    if input.dtype != ember.uint8:
        raise RuntimeError(f"{what}: Input tensor dtype should be uint8, got {input.dtype}")
    if input.ndim != 3:
        raise RuntimeError(f"{what}: Input tensor dimensions should be 3, got {input.ndim}")
    c = input.shape[0]
    if c not in (1, 2, 3, 4) or (what == "encode_jpeg" and c not in (1, 3)):
        raise RuntimeError(f"{what}: The number of channels should be 1 or 3"
                           f"{'' if what == 'encode_jpeg' else ' (or 2, 4)'}, got {c}")
    arr = np.ascontiguousarray(input.cpu().numpy().transpose(1, 2, 0))
    return Image.fromarray(arr[:, :, 0] if c == 1 else arr)


def encode_png(input: Tensor, compression_level: int = 6) -> Tensor:
    """Takes a (C, H, W) uint8 image and returns its PNG encoding as a 1-D uint8 tensor.

    Args:
        input (Tensor[channels, image_height, image_width]): uint8 image tensor of ``c``
            channels, where ``c`` must 3 or 1.
        compression_level (int): Compression factor for the resulting file, it must be a
            number between 0 and 9. Default: 6

    Returns:
        Tensor[1]: A one dimensional int8 tensor that contains the raw bytes of the PNG file.
    """
    if not 0 <= compression_level <= 9:
        raise RuntimeError("Compression level should be between 0 and 9")
    buf = io.BytesIO()
    _to_pil(input, "encode_png").save(buf, format="PNG", compress_level=compression_level)
    return ember.from_numpy(np.frombuffer(buf.getvalue(), dtype=np.uint8).copy())


def write_png(input: Tensor, filename: str | os.PathLike, compression_level: int = 6) -> None:
    """Takes a (C, H, W) uint8 image and saves it in a PNG file."""
    write_file(filename, encode_png(input, compression_level))


def encode_jpeg(input, quality: int = 75):
    """Encode RGB (or grayscale) uint8 tensor(s) of shape (C, H, W) into JPEG bytes.

    Args:
        input (Tensor[channels, image_height, image_width] or List[Tensor]): (list of)
            uint8 image tensor(s) of ``c`` channels, where ``c`` must be 1 or 3
        quality (int): Quality of the resulting JPEG file(s). Must be a number between 1
            and 100. Default: 75

    Returns:
        output (Tensor[1] or list[Tensor[1]]): A (list of) one dimensional uint8 tensor(s)
        that contain the raw bytes of the JPEG file.
    """
    if quality < 1 or quality > 100:
        raise ValueError("Image quality should be a positive number between 1 and 100")
    if isinstance(input, (list, tuple)):
        if not input:
            raise ValueError("encode_jpeg requires at least one input tensor when a list is "
                             "passed")
        return [encode_jpeg(i, quality) for i in input]
    buf = io.BytesIO()
    _to_pil(input, "encode_jpeg").save(buf, format="JPEG", quality=quality)
    return ember.from_numpy(np.frombuffer(buf.getvalue(), dtype=np.uint8).copy())


def write_jpeg(input: Tensor, filename: str | os.PathLike, quality: int = 75) -> None:
    """Takes a (C, H, W) uint8 image and saves it in a JPEG file."""
    write_file(filename, encode_jpeg(input, quality))
