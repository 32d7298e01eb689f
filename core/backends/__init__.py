"""``ember.backends``: backend flags accepted for compatibility with PyTorch programs."""

from . import cudnn, mps

__all__ = ["cudnn", "mps"]
