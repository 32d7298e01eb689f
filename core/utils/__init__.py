"""``ember.utils``: utilities, as ``torch.utils`` (``ember.utils.data`` holds the data
loading machinery)."""

from . import data

__all__ = ["data"]
