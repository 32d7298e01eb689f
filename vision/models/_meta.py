"""Meta data shared by the weights declarations: the 1000 ImageNet-1K category names
(read from ``_imagenet_categories.txt``, one per line, in class-index order)."""

from __future__ import annotations

import os

__all__ = ["_IMAGENET_CATEGORIES"]


def _read_categories(name: str) -> list[str]:
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


_IMAGENET_CATEGORIES = _read_categories("_imagenet_categories.txt")
