"""``ember.utils.hooks``: ``RemovableHandle``, as ``torch.utils.hooks``."""

from ..nn.modules._hooks import RemovableHandle

__all__ = ["RemovableHandle"]
