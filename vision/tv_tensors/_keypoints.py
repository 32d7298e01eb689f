"""``KeyPoints``: points (x, y) tagged with the (height, width) of their image."""

from __future__ import annotations

from typing import Any

from ._tv_tensor import TVTensor

__all__ = ["KeyPoints"]


class KeyPoints(TVTensor):
    """Points (..., 2) given as (x, y) pixel coordinates on a canvas of ``canvas_size`` =
    (height, width): geometric transforms move them with the image. A 1D input is read as
    one row.

    Args:
        data: the coordinates, as a tensor or anything ``ember.as_tensor`` accepts.
        canvas_size (tuple): (height, width) of the image the points belong to.
        dtype (ember.dtype, optional): dtype of the result; that of ``data`` by default.
        device (ember.device, optional): device of the result.
        requires_grad (bool, optional): whether autograd records operations.
    """

    canvas_size: tuple[int, int]

    def __new__(cls, data: Any, *, canvas_size: tuple[int, int], dtype=None, device=None,
                requires_grad: bool | None = None) -> KeyPoints:
        return cls._wrap(cls._as_plain(data, dtype, device, requires_grad),
                         canvas_size=canvas_size)

    def __init__(self, *args, **kwargs) -> None:
        pass

    @classmethod
    def _wrap(cls, tensor, *, canvas_size):
        """Key points sharing ``tensor``'s data; one point row may be given as 1D."""
        rows = tensor[None] if tensor.ndim == 1 else tensor
        return super()._wrap(rows, canvas_size=tuple(canvas_size))

    def _metadata(self) -> dict:
        return {"canvas_size": self.canvas_size}

    def _extra_repr(self) -> str:
        return f"canvas_size={self.canvas_size}"
