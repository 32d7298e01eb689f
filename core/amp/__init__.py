"""``ember.amp``: automatic mixed precision, as ``torch.amp``: ``autocast`` regions and the
``GradScaler`` for float16 gradients."""

from .autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available
from .grad_scaler import GradScaler

__all__ = ["autocast", "custom_bwd", "custom_fwd", "is_autocast_available", "GradScaler"]
