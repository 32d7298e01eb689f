"""Pillow, imported lazily with an error that names the install command."""

from __future__ import annotations


def pil_image():
    """The ``PIL.Image`` module, or an ImportError telling how to install Pillow."""
    try:
        from PIL import Image
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("ember.vision needs Pillow for images: pip install 'ember[vision]' "
                          "(or pip install pillow)") from e
    return Image


def is_pil_image(img) -> bool:
    """True if ``img`` is a ``PIL.Image.Image`` (False when Pillow is not installed)."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover
        return False
    return isinstance(img, Image.Image)
