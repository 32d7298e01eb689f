"""Pre- and post-processing of the YOLO detectors, with Ultralytics' semantics.

- :func:`letterbox`: resize keeping the aspect ratio, then pad (value 114) to the target
  shape, or only to a multiple of the stride (``auto=True``, as Ultralytics' predictor does
  for a single image);
- :class:`YOLOPreprocess`: letterbox to a square, to a float ``(3, H, W)`` tensor in [0, 1]
  (the ``transforms`` of the YOLO weights);
- :func:`non_max_suppression`: confidence filter and class-aware NMS of the raw
  ``(N, 4 + nc, A)`` output, per image an ``(n, 6)`` tensor ``[x1, y1, x2, y2, conf, cls]``;
- :func:`scale_boxes`: boxes from the letterboxed image back to the original one (clipped);
- :func:`detections_to_dicts`: torchvision-style ``{"boxes", "scores", "labels"}`` dicts.

Images are RGB, as ember.vision reads them (Ultralytics reads BGR with OpenCV and flips;
the result is the same array). ``numpy`` ``(H, W, 3)`` uint8 arrays and ``ember`` ``(3, H, W)``
uint8 tensors are both accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

import ember
import numpy as np
from ember import Tensor

from ...ops.boxes import batched_nms

__all__ = ["letterbox", "LetterboxInfo", "YOLOPreprocess", "non_max_suppression",
           "scale_boxes", "detections_to_dicts", "PAD_VALUE"]

PAD_VALUE = 114  # the grey Ultralytics pads letterboxed images with
_MAX_NMS = 30000  # at most this many candidates enter NMS, per image (highest scores)


@dataclass(frozen=True)
class LetterboxInfo:
    """How :func:`letterbox` changed an image: ``ratio`` the ``(height, width)`` resize
    factors actually applied (resized side / original side; equal up to the rounding of the
    resized sides), ``pad`` the ``(left, top)`` padding in pixels, ``shape`` the output
    ``(height, width)``."""

    ratio: tuple[float, float]
    pad: tuple[int, int]
    shape: tuple[int, int]


def _as_hwc(image) -> tuple[np.ndarray, bool]:
    if isinstance(image, Tensor):
        if image.ndim != 3:
            raise ValueError(f"letterbox: expected a (C, H, W) tensor, got shape "
                             f"{list(image.shape)}")
        return np.ascontiguousarray(image.detach().cpu().numpy().transpose(1, 2, 0)), True
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ValueError(f"letterbox: expected an (H, W, C) array, got shape {arr.shape}")
    return arr, False


def _bilinear_resize(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """``img`` (H, W, C) resized with bilinear interpolation on pixel centres (no
    antialiasing; OpenCV's ``INTER_LINEAR`` convention). Integer images are rounded."""
    in_h, in_w = img.shape[:2]

    def taps(n_in, n_out):
        pos = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
        pos = np.clip(pos, 0.0, n_in - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, (pos - lo)

    y0, y1, wy = taps(in_h, out_h)
    x0, x1, wx = taps(in_w, out_w)
    src = img.astype(np.float64)
    wx = wx[None, :, None]
    rows0 = src[y0][:, x0] * (1 - wx) + src[y0][:, x1] * wx  # (out_h, out_w, C)
    rows1 = src[y1][:, x0] * (1 - wx) + src[y1][:, x1] * wx
    out = rows0 * (1 - wy)[:, None, None] + rows1 * wy[:, None, None]
    if np.issubdtype(img.dtype, np.integer):
        info = np.iinfo(img.dtype)
        return np.clip(np.floor(out + 0.5), info.min, info.max).astype(img.dtype)
    return out.astype(img.dtype)


def letterbox(image, new_shape: int | tuple[int, int] = 640, stride: int = 32,
              auto: bool = False, scaleup: bool = True, center: bool = True,
              pad_value: int = PAD_VALUE):
    """Resizes ``image`` to fit ``new_shape`` keeping its aspect ratio, then pads it.

    Args:
        image: an ``(H, W, C)`` numpy array or a ``(C, H, W)`` ember tensor (uint8 usually).
        new_shape: the target ``(height, width)`` (an int for a square).
        stride: with ``auto``, the padded sides are the resized sides rounded up to a
            multiple of ``stride`` (within ``new_shape``), not ``new_shape`` itself.
        auto: pad only to a multiple of ``stride`` (Ultralytics' predictor for one image).
        scaleup: allow enlarging the image (False only shrinks, as for validation).
        center: split the padding between both sides (else pad bottom/right only).
        pad_value: the value of the padding (114 in Ultralytics).

    Returns:
        ``(padded, info)``: the image in the input's layout and type, and a
        :class:`LetterboxInfo` (for :func:`scale_boxes`' ``ratio_pad``).

    The resize is bilinear on pixel centres without antialiasing; uint8 results can differ
    from OpenCV's fixed-point ``INTER_LINEAR`` by one grey level.
    """
    arr, is_tensor = _as_hwc(image)
    h, w = arr.shape[:2]
    nh, nw = (new_shape, new_shape) if isinstance(new_shape, int) else tuple(new_shape)
    ratio = min(nh / h, nw / w)
    if not scaleup:
        ratio = min(ratio, 1.0)
    rw, rh = max(1, int(round(w * ratio))), max(1, int(round(h * ratio)))
    dw, dh = nw - rw, nh - rh
    if auto:
        dw, dh = dw % stride, dh % stride
    if center:
        dw, dh = dw / 2, dh / 2
    if (rh, rw) != (h, w):
        arr = _bilinear_resize(arr, rh, rw)
    top = int(round(dh - 0.1)) if center else 0
    left = int(round(dw - 0.1)) if center else 0
    bottom, right = int(round(dh + 0.1)), int(round(dw + 0.1))
    out = np.full((rh + top + bottom, rw + left + right, arr.shape[2]), pad_value,
                  dtype=arr.dtype)
    out[top:top + rh, left:left + rw] = arr
    info = LetterboxInfo((rh / h, rw / w), (left, top), out.shape[:2])
    if is_tensor:
        return ember.from_numpy(np.ascontiguousarray(out.transpose(2, 0, 1))), info
    return out, info


class YOLOPreprocess:
    """The preprocessing of the YOLO weights: letterbox to ``size`` x ``size`` (pad 114),
    then a float32 ``(3, H, W)`` tensor in [0, 1]. Accepts ``(H, W, 3)`` uint8 arrays,
    ``(3, H, W)`` uint8 tensors and PIL images (RGB)."""

    def __init__(self, size: int = 640, stride: int = 32, auto: bool = False) -> None:
        self.size, self.stride, self.auto = size, stride, auto

    def __call__(self, image) -> Tensor:
        if hasattr(image, "convert") and hasattr(image, "size"):  # a PIL image
            image = np.asarray(image.convert("RGB"))
        padded, _ = letterbox(image, self.size, self.stride, auto=self.auto)
        if isinstance(padded, Tensor):
            padded = padded.numpy()
        else:
            padded = padded.transpose(2, 0, 1)
        return ember.from_numpy(np.ascontiguousarray(padded, dtype=np.float32) / 255.0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, stride={self.stride})"

    def describe(self) -> str:
        """What the preset does, for the weights' documentation."""
        return (f"Letterboxes images to {self.size}x{self.size} (aspect kept, padding value "
                f"{PAD_VALUE}) and rescales them to float [0.0, 1.0]; RGB channel order.")


def _xywh_to_xyxy(b: Tensor) -> Tensor:
    centre, half = b[:, :2], b[:, 2:] / 2
    return ember.cat([centre - half, centre + half], 1)


def non_max_suppression(prediction, conf_thres: float = 0.25, iou_thres: float = 0.45,
                        classes=None, agnostic: bool = False, multi_label: bool = False,
                        max_det: int = 300, nc: int = 0,
                        max_nms: int = _MAX_NMS) -> list[Tensor]:
    """Confidence filtering and non-maximum suppression of YOLO outputs, with the
    semantics of Ultralytics' ``non_max_suppression``.

    Args:
        prediction: the eval output ``(N, 4 + nc, A)`` (xywh boxes, class scores), or the
            ``(y, maps)`` pair the model returns (its first element is used).
        conf_thres: keep boxes whose class score is above this (strictly).
        iou_thres: NMS IoU threshold. 0.45 is this function's default; Ultralytics'
            predictor and validator pass 0.7.
        classes: keep only these class indices (None: all).
        agnostic: NMS across classes (default: boxes of different classes never suppress
            each other).
        multi_label: a box may be kept once per class whose score is above ``conf_thres``
            (default: only its best class).
        max_det: at most this many detections per image (highest scores first).
        nc: number of classes (0: ``prediction.shape[1] - 4``); further channels are
            ignored.
        max_nms: at most this many candidates (highest scores) enter NMS per image.

    Returns:
        one ``(n, 6)`` tensor per image: ``[x1, y1, x2, y2, conf, cls]``, by decreasing
        confidence.
    """
    if isinstance(prediction, (list, tuple)):
        prediction = prediction[0]
    if not isinstance(prediction, Tensor) or prediction.ndim != 3:
        raise ValueError("non_max_suppression: expected an (N, 4 + nc, A) tensor, got "
                         f"{getattr(prediction, 'shape', type(prediction).__name__)}")
    if not 0 <= conf_thres <= 1:
        raise ValueError(f"Invalid Confidence threshold {conf_thres}, valid values are "
                         "between 0.0 and 1.0")
    if not 0 <= iou_thres <= 1:
        raise ValueError(f"Invalid IoU {iou_thres}, valid values are between 0.0 and 1.0")
    nc = nc or prediction.shape[1] - 4
    wanted = None if classes is None else ember.tensor(list(classes), dtype=ember.int64,
                                                       device=prediction.device)
    out = []
    with ember.no_grad():
        for pred in prediction.detach().float().transpose(1, 2):  # (A, 4 + nc + extra)
            out.append(_nms_one(pred, nc, conf_thres, iou_thres, wanted, agnostic,
                                multi_label, max_det, max_nms))
    return out


def _nms_one(pred, nc, conf_thres, iou_thres, wanted, agnostic, multi_label, max_det,
             max_nms) -> Tensor:
    scores = pred[:, 4:4 + nc]  # (A, nc)
    if multi_label:
        rows, cls = (scores > conf_thres).nonzero().unbind(1)
        conf = scores[rows, cls]
    else:
        conf, cls = scores.max(1)
        rows = (conf > conf_thres).nonzero().view(-1)
        conf, cls = conf[rows], cls[rows]
    if wanted is not None:
        keep = ember.isin(cls, wanted).nonzero().view(-1)
        rows, conf, cls = rows[keep], conf[keep], cls[keep]
    if conf.shape[0] > max_nms:
        top = conf.argsort(descending=True)[:max_nms]
        rows, conf, cls = rows[top], conf[top], cls[top]
    boxes = _xywh_to_xyxy(pred[rows, :4])
    groups = ember.zeros_like(cls) if agnostic else cls
    keep = batched_nms(boxes, conf, groups, iou_thres)[:max_det]
    return ember.cat([boxes[keep], conf[keep, None], cls[keep, None].to(boxes.dtype)], 1)


def scale_boxes(img1_shape, boxes, img0_shape, ratio_pad=None, padding: bool = True):
    """Boxes ``(n, 4)`` xyxy on a letterboxed image of shape ``img1_shape`` (height, width)
    mapped back to the original image of shape ``img0_shape``, clipped to it (Ultralytics'
    ``scale_boxes``). Returns a new tensor (or array, for an array input).

    By default the letterbox geometry is recomputed from the shapes, as :func:`letterbox`
    with centred padding makes it: the resize factor ``g = min(h1 / h0, w1 / w0)``, the
    resized sides ``round(h0 * g)``, ``round(w0 * g)`` (whose ratios to the original sides
    are the per-axis factors undone here) and the padding before them. ``ratio_pad`` gives
    them instead: ``((ratio_h, ratio_w), (pad_w, pad_h))``, or the :class:`LetterboxInfo` of
    :func:`letterbox`. ``padding=False`` skips the padding (a plain resize).
    """
    h1, w1 = (int(s) for s in tuple(img1_shape)[:2])
    h0, w0 = (int(s) for s in tuple(img0_shape)[:2])
    if isinstance(ratio_pad, LetterboxInfo):
        ratio_pad = (ratio_pad.ratio, ratio_pad.pad)
    if ratio_pad is None:
        g = min(h1 / h0, w1 / w0)
        rh, rw = round(h0 * g), round(w0 * g)
        gain_h, gain_w = rh / h0, rw / w0
        pad_w = round((w1 - rw) / 2 - 0.1)
        pad_h = round((h1 - rh) / 2 - 0.1)
    else:
        ratio = ratio_pad[0]
        gain_h, gain_w = (ratio, ratio) if not isinstance(ratio, (tuple, list)) else ratio
        pad_w, pad_h = ratio_pad[1]
    if not padding:
        pad_w = pad_h = 0
    is_array = not isinstance(boxes, Tensor)
    b = ember.from_numpy(np.array(boxes, dtype=np.float32)) if is_array else boxes
    kw = {"dtype": b.dtype, "device": b.device}
    shift = ember.tensor([pad_w, pad_h, pad_w, pad_h], **kw)
    gain = ember.tensor([gain_w, gain_h, gain_w, gain_h], **kw)
    b = (b[..., :4] - shift) / gain
    b = ember.minimum(ember.maximum(b, ember.zeros(4, **kw)), ember.tensor([w0, h0, w0, h0],
                                                                           **kw))
    return b.numpy() if is_array else b


def detections_to_dicts(detections: list[Tensor]) -> list[dict[str, Tensor]]:
    """:func:`non_max_suppression`'s ``(n, 6)`` tensors as torchvision-style dicts:
    ``boxes`` (float, ``(n, 4)`` xyxy), ``scores`` (float, ``(n,)``) and ``labels``
    (int64, ``(n,)``, the 0-based class index)."""
    return [{"boxes": d[:, :4], "scores": d[:, 4], "labels": d[:, 5].long()}
            for d in detections]
