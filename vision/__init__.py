"""ember.vision: torchvision's API on ember.

Submodules (imported on first use): ``ops`` (boxes, nms, roi_align, FPN, layers),
``models`` (ResNet family with torchvision's weights), ``transforms``, ``io`` (Pillow),
``datasets``, ``utils`` (grids, drawing) and ``tv_tensors`` (the tensor types of
``transforms.v2``). Pillow is an optional dependency
(``pip install ember[vision]``), imported only by the parts that need it.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = {"ops", "models", "transforms", "io", "datasets", "utils", "tv_tensors"}

__all__ = sorted(_SUBMODULES)


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'ember.vision' has no attribute '{name}'")


def get_image_backend() -> str:
    """The image backend used to load files: always ``'PIL'`` in ember."""
    return "PIL"


def set_image_backend(backend: str) -> None:
    """Only ``'PIL'`` is supported (torchvision's ``accimage`` is not)."""
    if backend != "PIL":
        raise ValueError(f"Invalid backend '{backend}'. ember.vision supports only 'PIL'")
