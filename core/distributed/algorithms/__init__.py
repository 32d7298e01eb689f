"""``ember.distributed.algorithms``, as ``torch.distributed.algorithms``: the ``Join``
context manager for training on uneven inputs across ranks."""

from .join import Join, Joinable, JoinHook

__all__ = ["Join", "Joinable", "JoinHook"]
