"""The errors ``ember.distributed`` raises, as ``torch.distributed.DistError`` and kin.

All are ``RuntimeError`` subclasses, so code catching ``RuntimeError`` keeps working.
"""

from __future__ import annotations

__all__ = ["DistError", "DistBackendError", "DistNetworkError", "DistStoreError"]


class DistError(RuntimeError):
    """An error in the distributed library."""


class DistBackendError(DistError):
    """A backend (collective communication) failed: a timeout, a peer that went away."""


class DistStoreError(DistError):
    """A store operation failed or timed out."""


class DistNetworkError(DistError):
    """A network error: a connection could not be made or was lost."""
