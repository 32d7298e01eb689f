"""``ImageList``: images of different sizes padded into one batch tensor."""

from __future__ import annotations

from ember import Tensor

__all__ = ["ImageList"]


class ImageList:
    """A padded (N, C, H, W) batch in ``tensors`` plus, in ``image_sizes``, the
    (height, width) each image had before it was padded."""

    def __init__(self, tensors: Tensor, image_sizes) -> None:
        self.tensors = tensors
        self.image_sizes = image_sizes

    def to(self, device) -> ImageList:
        return ImageList(self.tensors.to(device), self.image_sizes)
