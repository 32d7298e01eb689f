"""Helpers shared by the RoI ops: box-list conversion, argument checks, sparse matrices."""

from __future__ import annotations

import ember
import numpy as np
from ember import Tensor

__all__ = ["convert_boxes_to_roi_format", "check_roi_boxes_shape", "rois_array", "pair",
           "sparse_module", "xp_of"]


def xp_of(arr):
    """numpy or cupy, the array module of ``arr``."""
    from ember.ops.op import xp_of as _xp_of

    return _xp_of(arr)


def sparse_module(arr):
    """``scipy.sparse`` for numpy arrays, ``cupyx.scipy.sparse`` for cupy arrays (lazily)."""
    if isinstance(arr, np.ndarray):
        import scipy.sparse

        return scipy.sparse
    import cupyx.scipy.sparse  # pragma: no cover - cuda

    return cupyx.scipy.sparse


def pair(v, name: str) -> tuple[int, int]:
    """``output_size`` as ``(h, w)``."""
    if isinstance(v, int):
        return v, v
    v = tuple(int(x) for x in v)
    if len(v) == 1:
        return v[0], v[0]
    if len(v) != 2:
        raise ValueError(f"{name}: output_size must be an int or a pair of ints, got {v}")
    return v


def _cat(tensors: list[Tensor], dim: int = 0) -> Tensor:
    """Efficient version of ``ember.cat`` that avoids a copy if there is only one element."""
    if len(tensors) == 1:
        return tensors[0]
    return ember.cat(tensors, dim)


def convert_boxes_to_roi_format(boxes: list[Tensor]) -> Tensor:
    """A list of per-image (L, 4) boxes as one (K, 5) tensor whose first column is the
    image index."""
    concat_boxes = _cat(list(boxes), dim=0)
    temp = []
    for i, b in enumerate(boxes):
        temp.append(ember.full_like(b[:, :1], i))
    ids = _cat(temp, dim=0)
    return ember.cat([ids, concat_boxes], dim=1)


def check_roi_boxes_shape(boxes) -> None:
    """Raises as torchvision does for malformed ``boxes``."""
    if isinstance(boxes, (list, tuple)):
        for _tensor in boxes:
            if _tensor.size(1) != 4:
                raise AssertionError("The shape of the tensor in the boxes list is not correct "
                                     "as List[Tensor[L, 4]]")
    elif isinstance(boxes, Tensor):
        if boxes.ndim != 2 or boxes.size(1) != 5:
            raise AssertionError("The boxes tensor shape is not correct as Tensor[K, 5]")
    else:
        raise AssertionError("boxes is expected to be a Tensor[L, 5] or a List[Tensor[K, 4]]")


def rois_array(input: Tensor, boxes, name: str):
    """``boxes`` (a (K, 5) tensor or a list of (L, 4) tensors) as a (K, 5) array of
    ``input``'s dtype on ``input``'s device."""
    check_roi_boxes_shape(boxes)
    if input.ndim != 4:
        raise RuntimeError(f"{name}: input must be a 4-D (N, C, H, W) tensor, got "
                           f"{list(input.shape)}")
    rois = boxes
    if not isinstance(rois, Tensor):
        rois = convert_boxes_to_roi_format(list(rois))
    if rois.device != input.device:
        raise RuntimeError(f"{name}: Expected all tensors to be on the same device, but found "
                           f"input on {input.device} and rois on {rois.device}")
    if rois.dtype != input.dtype:
        raise RuntimeError(f"{name}: Expected tensor for input to have the same type as tensor "
                           f"for rois; but type {input.dtype} does not equal {rois.dtype}")
    return rois.detach()._data
