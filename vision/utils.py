"""Visualisation helpers, as ``torchvision.utils``: ``make_grid``, ``save_image``,
``draw_bounding_boxes``, ``draw_segmentation_masks`` and ``draw_keypoints``.

Grids and mask blending are whole-array expressions; boxes, labels and keypoints are
drawn by Pillow's ``ImageDraw`` (as torchvision does), so the pixels are Pillow's.
"""

from __future__ import annotations

import math
import os
import warnings
from typing import BinaryIO

import ember
import numpy as np
from ember import Tensor

from ._pil import pil_image

__all__ = ["make_grid", "save_image", "draw_bounding_boxes", "draw_segmentation_masks",
           "draw_keypoints"]


def _arr(t: Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def make_grid(tensor: Tensor | list[Tensor], nrow: int = 8, padding: int = 2,
              normalize: bool = False, value_range: tuple[float, float] | None = None,
              scale_each: bool = False, pad_value: float = 0.0) -> Tensor:
    """Make a grid of images.

    Args:
        tensor (Tensor or list): 4D mini-batch Tensor of shape (B x C x H x W) or a list of
            images all of the same size.
        nrow (int, optional): Number of images displayed in each row of the grid. The final
            grid size is ``(B / nrow, nrow)``. Default: ``8``.
        padding (int, optional): amount of padding. Default: ``2``.
        normalize (bool, optional): If True, shift the image to the range (0, 1), by the min
            and max values specified by ``value_range``. Default: ``False``.
        value_range (tuple, optional): tuple (min, max) where min and max are numbers, then
            these numbers are used to normalize the image. By default, min and max are
            computed from the tensor.
        scale_each (bool, optional): If ``True``, scale each image in the batch of images
            separately rather than the (min, max) over all images. Default: ``False``.
        pad_value (float, optional): Value for the padded pixels. Default: ``0``.

    Returns:
        grid (Tensor): the tensor containing grid of images.
    """
    if isinstance(tensor, list):
        for t in tensor:
            if not isinstance(t, Tensor):
                raise TypeError(f"tensor or list of tensors expected, got a list containing "
                                f"{type(t)}")
        arr = np.stack([_arr(t) for t in tensor], axis=0)
    elif isinstance(tensor, Tensor):
        arr = _arr(tensor)
    else:
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if arr.ndim == 2:  # single image H x W
        arr = arr[None]
    if arr.ndim == 3:  # single image
        if arr.shape[0] == 1:  # if single-channel, convert to 3-channel
            arr = np.concatenate((arr, arr, arr), 0)
        arr = arr[None]
    if arr.ndim == 4 and arr.shape[1] == 1:  # single-channel images
        arr = np.concatenate((arr, arr, arr), 1)
    if normalize is True:
        arr = arr.copy()  # avoid modifying tensor in-place
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and "
                            "max are numbers")

        def norm(img, low, high):
            img = np.clip(img, low, high)
            return ((img - img.dtype.type(low)) / img.dtype.type(max(high - low, 1e-5))
                    ).astype(img.dtype)

        def norm_range(t):
            if value_range is not None:
                return norm(t, value_range[0], value_range[1])
            return norm(t, float(t.min()), float(t.max()))

        if scale_each is True:
            arr = np.stack([norm_range(t) for t in arr])
        else:
            arr = norm_range(arr)
    if arr.shape[0] == 1:
        return ember.from_numpy(np.ascontiguousarray(arr[0]))
    # make the mini-batch of images into a grid
    nmaps = arr.shape[0]
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(arr.shape[2] + padding), int(arr.shape[3] + padding)
    num_channels = arr.shape[1]
    grid = np.full((num_channels, height * ymaps + padding, width * xmaps + padding),
                   pad_value, dtype=arr.dtype)
    # one strided view of the grid cells: (C, ymaps, xmaps, h, w)
    h, w = arr.shape[2:]
    cells = np.zeros((ymaps * xmaps, num_channels, h, w), dtype=arr.dtype)
    cells[:nmaps] = arr
    body = grid[:, padding:, padding:].reshape(num_channels, ymaps, height, xmaps, width)
    mask = np.zeros(ymaps * xmaps, dtype=bool)
    mask[:nmaps] = True
    view = body[:, :, :h, :, :w]  # (C, ymaps, h, xmaps, w)
    placed = cells.reshape(ymaps, xmaps, num_channels, h, w).transpose(2, 0, 3, 1, 4)
    keep = mask.reshape(ymaps, xmaps)[None, :, None, :, None]
    view[...] = np.where(keep, placed, view)
    return ember.from_numpy(grid)


def save_image(tensor: Tensor | list[Tensor], fp: str | os.PathLike | BinaryIO,
               format: str | None = None, **kwargs) -> None:
    """Save a given Tensor into an image file.

    Args:
        tensor (Tensor or list): Image to be saved. If given a mini-batch tensor, saves the
            tensor as a grid of images by calling ``make_grid``.
        fp (string or file object): A filename or a file object
        format(Optional):  If omitted, the format to use is determined from the filename
            extension. If a file object was used instead of a filename, this parameter should
            always be used.
        **kwargs: Other arguments are documented in ``make_grid``.
    """
    grid = _arr(make_grid(tensor, **kwargs))
    # Add 0.5 after unnormalizing to [0, 255] to round to the nearest integer
    ndarr = np.clip(grid * grid.dtype.type(255) + grid.dtype.type(0.5), 0, 255)
    ndarr = ndarr.transpose(1, 2, 0).astype(np.uint8)
    im = pil_image().fromarray(np.ascontiguousarray(ndarr))
    if isinstance(fp, (str, os.PathLike)):
        path = os.fspath(fp)
        fmt = format or os.path.splitext(path)[1][1:].upper().replace("JPG", "JPEG") or None
        tmp = path + ".partial"
        im.save(tmp, format=fmt)
        os.replace(tmp, path)
    else:
        im.save(fp, format=format)


def _generate_color_palette(num_objects: int) -> list[tuple[int, int, int]]:
    palette = np.array([2 ** 25 - 1, 2 ** 15 - 1, 2 ** 21 - 1], dtype=np.int64)
    return [tuple(int(v) for v in (i * palette) % 255) for i in range(num_objects)]


def _parse_colors(colors, *, num_objects: int, floating: bool = False) -> list[tuple]:
    from PIL import ImageColor

    if colors is None:
        colors = _generate_color_palette(num_objects)
    elif isinstance(colors, list):
        if len(colors) < num_objects:
            raise ValueError("Number of colors must be equal or larger than the number of "
                             f"objects, but got {len(colors)} < {num_objects}.")
    elif not isinstance(colors, (tuple, str)):
        raise ValueError(f"colors must be a tuple or a string, or a list thereof, but got "
                         f"{colors}.")
    elif isinstance(colors, tuple) and len(colors) != 3:
        raise ValueError(f"If passed as tuple, colors should be an RGB triplet, but got "
                         f"{colors}.")
    else:  # colors specifies a single color for all objects
        colors = [colors] * num_objects
    colors = [ImageColor.getrgb(c) if isinstance(c, str) else tuple(c) for c in colors]
    if floating:  # [0, 255] -> [0, 1]
        colors = [tuple(v / 255 for v in c) for c in colors]
    return colors


def _check_image(image, what: str, gray_ok: bool) -> None:
    if not isinstance(image, Tensor):
        raise TypeError(f"Tensor expected, got {type(image)}")
    if not (image.dtype == ember.uint8 or image.is_floating_point()):
        raise ValueError(f"The image dtype must be uint8 or float, got {image.dtype}")
    if image.ndim != 3:
        raise ValueError("Pass individual images, not batches")
    if gray_ok and image.shape[0] not in (1, 3):
        raise ValueError("Only grayscale and RGB images are supported")
    if not gray_ok and image.shape[0] != 3:
        raise ValueError("Pass an RGB image. Other Image formats are not supported")


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    """Float [0, 1] images to uint8 as torchvision's ``to_dtype(scale=True)`` does."""
    if arr.dtype == np.uint8:
        return arr
    return (arr * arr.dtype.type(255 + 1.0 - 1e-3)).astype(np.uint8)


def _from_uint8(out: np.ndarray, dtype) -> Tensor:
    if dtype == ember.uint8:
        return ember.from_numpy(np.ascontiguousarray(out))
    return ember.from_numpy(out.astype(dtype.np) * dtype.np.type(1.0 / 255))


def draw_bounding_boxes(image: Tensor, boxes: Tensor, labels: list[str] | None = None,
                        colors=None, fill: bool | None = False, width: int = 1,
                        font: str | None = None, font_size: int | None = None,
                        label_colors=None, label_background_colors=None,
                        fill_labels: bool = False) -> Tensor:
    """Draws bounding boxes on given RGB image.
    The image values should be uint8 in [0, 255] or float in [0, 1].
    If fill is True, Resulting Tensor should be saved as PNG image.

    Args:
        image (Tensor): Tensor of shape (C, H, W) and dtype uint8 or float.
        boxes (Tensor): Tensor of size (N, 4) containing bounding boxes in (xmin, ymin, xmax,
            ymax) format. Note that the boxes are absolute coordinates with respect to the
            image. In other words: `0 <= xmin < xmax < W` and `0 <= ymin < ymax < H`.
        labels (List[str]): List containing the labels of bounding boxes.
        colors (color or list of colors, optional): List containing the colors of the boxes
            or single color for all boxes. The color can be represented as PIL strings e.g.
            "red" or "#FF00FF", or as RGB tuples e.g. ``(240, 10, 157)``. By default, random
            colors are generated for boxes.
        fill (bool): If `True` fills the bounding box with specified color.
        width (int): Width of bounding box.
        font (str): A filename containing a TrueType font.
        font_size (int): The requested font size in points.
        label_colors (color or list of colors, optional): Colors for the label text.
        label_background_colors (color or list of colors, optional): Colors for the label
            text box fill. Only used when ``fill_labels`` is True.
        fill_labels (bool): If `True` fills the label background.

    Returns:
        img (Tensor[C, H, W]): Image Tensor of dtype uint8 with bounding boxes plotted.
    """
    from PIL import ImageDraw, ImageFont

    _check_image(image, "draw_bounding_boxes", gray_ok=True)
    b = _arr(boxes)
    if b.ndim != 2 or b.shape[-1] != 4:
        raise ValueError(f"boxes must have shape (N, 4), got {list(b.shape)}")
    if ((b[:, 0] > b[:, 2]).any()) or ((b[:, 1] > b[:, 3]).any()):
        raise ValueError("Boxes need to be in (xmin, ymin, xmax, ymax) format. Use "
                         "ember.vision.ops.box_convert to convert them")
    num_boxes = b.shape[0]
    if num_boxes == 0:
        warnings.warn("boxes doesn't contain any box. No box was drawn", stacklevel=2)
        return image
    if labels is None:
        labels = [None] * num_boxes
    elif len(labels) != num_boxes:
        raise ValueError(f"Number of boxes ({num_boxes}) and labels ({len(labels)}) mismatch. "
                         "Please specify labels for each box.")
    colors = _parse_colors(colors, num_objects=num_boxes)
    if label_colors or fill_labels:
        label_colors = _parse_colors(label_colors if label_colors else "black",
                                     num_objects=num_boxes)
    else:
        label_colors = list(colors)
    if fill_labels and label_background_colors:
        label_background_colors = _parse_colors(label_background_colors,
                                                num_objects=num_boxes)
    else:
        label_background_colors = list(colors)
    if font is None:
        if font_size is not None:
            warnings.warn("Argument 'font_size' will be ignored since 'font' is not set.",
                          stacklevel=2)
        txt_font = ImageFont.load_default()
    else:
        txt_font = ImageFont.truetype(font=font, size=font_size or 10)
    arr = _arr(image)
    if arr.shape[0] == 1:  # Handle Grayscale images
        arr = np.tile(arr, (3, 1, 1))
    original_dtype = image.dtype
    img_to_draw = pil_image().fromarray(np.ascontiguousarray(_to_uint8(arr).transpose(1, 2, 0)))
    draw = ImageDraw.Draw(img_to_draw, "RGBA" if fill else None)
    for bbox, color, label, label_color, label_bg in zip(b.astype(np.int64).tolist(), colors,
                                                         labels, label_colors,
                                                         label_background_colors):
        fill_color = color + (100,) if fill else None
        draw.rectangle(bbox, width=width, outline=color, fill=fill_color)
        if label is not None:
            box_margin = 1
            margin = width + box_margin
            if fill_labels:
                left, top, right, bottom = draw.textbbox((bbox[0] + margin, bbox[1] + margin),
                                                         label, font=txt_font)
                draw.rectangle((left - box_margin, top - box_margin, right + box_margin,
                                bottom + box_margin), fill=label_bg)
            draw.text((bbox[0] + margin, bbox[1] + margin), label, fill=label_color,
                      font=txt_font)
    out = np.asarray(img_to_draw).transpose(2, 0, 1)
    return _from_uint8(out, original_dtype)


def draw_segmentation_masks(image: Tensor, masks: Tensor, alpha: float = 0.8,
                            colors=None) -> Tensor:
    """Draws segmentation masks on given RGB image.
    The image values should be uint8 in [0, 255] or float in [0, 1].

    Args:
        image (Tensor): Tensor of shape (3, H, W) and dtype uint8 or float.
        masks (Tensor): Tensor of shape (num_masks, H, W) or (H, W) and dtype bool.
        alpha (float): Float number between 0 and 1 denoting the transparency of the masks.
            0 means full transparency, 1 means no transparency.
        colors (color or list of colors, optional): List containing the colors of the masks
            or single color for all masks. By default, random colors are generated for each
            mask.

    Returns:
        img (Tensor[C, H, W]): Image Tensor, with segmentation masks drawn on top.

    Where masks overlap, the pixel is drawn black, as in torchvision.
    """
    _check_image(image, "draw_segmentation_masks", gray_ok=False)
    m = _arr(masks)
    if m.ndim == 2:
        m = m[None, :, :]
    if m.ndim != 3:
        raise ValueError("masks must be of shape (H, W) or (batch_size, H, W)")
    if m.dtype != np.bool_:
        raise ValueError(f"The masks must be of dtype bool. Got {masks.dtype}")
    if m.shape[-2:] != tuple(image.shape[-2:]):
        raise ValueError("The image and the masks must have the same height and width")
    num_masks = m.shape[0]
    if num_masks == 0:
        warnings.warn("masks doesn't contain any mask. No mask was drawn", stacklevel=2)
        return image
    img = _arr(image)
    floating = img.dtype.kind == "f"
    cols = np.array(_parse_colors(colors, num_objects=num_masks, floating=floating),
                    dtype=img.dtype)  # (N, 3)
    # the last mask covering a pixel gives its colour; overlaps are black
    covered = m.any(axis=0)
    last = num_masks - 1 - np.argmax(m[::-1], axis=0)  # (H, W)
    to_draw = np.where(covered[None], cols[last].transpose(2, 0, 1), img)
    to_draw = np.where((m.sum(axis=0) > 1)[None], img.dtype.type(0), to_draw)
    work = img.dtype if floating else np.dtype(np.float32)
    out = img.astype(work) * work.type(1 - alpha) + to_draw.astype(work) * work.type(alpha)
    return ember.from_numpy(out.astype(img.dtype))


def draw_keypoints(image: Tensor, keypoints: Tensor,
                   connectivity: list[tuple[int, int]] | None = None, colors=None,
                   radius: int = 2, width: int = 3, visibility: Tensor | None = None) -> Tensor:
    """Draws Keypoints on given RGB image.
    The image values should be uint8 in [0, 255] or float in [0, 1].

    Args:
        image (Tensor): Tensor of shape (3, H, W) and dtype uint8 or float.
        keypoints (Tensor): Tensor of shape (num_instances, K, 2) the K keypoint locations
            for each of the N instances, in the format [x, y].
        connectivity (List[Tuple[int, int]]]): A List of tuple where each tuple contains a
            pair of keypoints to be connected. If at least one of the two connected
            keypoints has a ``visibility`` of False, this specific connection is not drawn.
        colors (str, Tuple): The color can be represented as PIL strings e.g. "red" or
            "#FF00FF", or as RGB tuples e.g. ``(240, 10, 157)``.
        radius (int): Integer denoting radius of keypoint.
        width (int): Integer denoting width of line connecting keypoints.
        visibility (Tensor): Tensor of shape (num_instances, K) specifying the visibility of
            the K keypoints for each of the N instances. Default ``None`` means that all the
            keypoints are visible.

    Returns:
        img (Tensor[C, H, W]): Image Tensor with keypoints drawn.
    """
    from PIL import ImageDraw

    _check_image(image, "draw_keypoints", gray_ok=False)
    kp = _arr(keypoints)
    if kp.ndim != 3:
        raise ValueError("keypoints must be of shape (num_instances, K, 2)")
    vis = np.ones(kp.shape[:-1], dtype=bool) if visibility is None else \
        _arr(visibility).astype(bool)
    if vis.ndim == 3:
        vis = vis.squeeze(-1)
    if vis.ndim != 2:
        raise ValueError(f"visibility must be of shape (num_instances, K). Got ndim={vis.ndim}")
    if vis.shape != kp.shape[:-1]:
        raise ValueError("keypoints and visibility must have the same dimensionality for "
                         f"num_instances and K. Got visibility.shape={vis.shape} and "
                         f"keypoints.shape={kp.shape}")
    original_dtype = image.dtype
    arr = _to_uint8(_arr(image))
    img_to_draw = pil_image().fromarray(np.ascontiguousarray(arr.transpose(1, 2, 0)))
    draw = ImageDraw.Draw(img_to_draw)
    for kpt_inst, vis_inst in zip(kp.astype(np.int64).tolist(), vis.tolist()):
        for (x, y), kp_vis in zip(kpt_inst, vis_inst):
            if kp_vis:
                draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colors,
                             outline=None, width=0)
        for a, b in connectivity or []:
            if vis_inst[a] and vis_inst[b]:
                draw.line(((kpt_inst[a][0], kpt_inst[a][1]), (kpt_inst[b][0], kpt_inst[b][1])),
                          width=width)
    out = np.asarray(img_to_draw).transpose(2, 0, 1)
    return _from_uint8(out, original_dtype)
