"""``torch.signal``: window functions for signal processing (``ember.signal.windows``)."""

from . import windows

__all__ = ["windows"]
