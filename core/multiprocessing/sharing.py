"""Sharing strategies, as ``torch.multiprocessing.get/set_sharing_strategy``.

ember shares CPU tensors through memfd file descriptors (PyTorch's ``file_descriptor``
strategy) whatever the setting; ``file_system`` is accepted and recorded for compatibility.
"""

from __future__ import annotations

__all__ = ["get_sharing_strategy", "set_sharing_strategy", "get_all_sharing_strategies"]

_ALL = {"file_descriptor", "file_system"}
_current = "file_descriptor"


def get_all_sharing_strategies() -> set:
    """The names of the sharing strategies this platform supports."""
    return set(_ALL)


def get_sharing_strategy() -> str:
    """The current sharing strategy's name."""
    return _current


def set_sharing_strategy(new_strategy: str) -> None:
    """Sets the sharing strategy (one of ``get_all_sharing_strategies()``)."""
    global _current
    if new_strategy not in _ALL:
        raise AssertionError(f"invalid sharing strategy {new_strategy!r}; expected one of "
                             f"{sorted(_ALL)}")
    _current = new_strategy
