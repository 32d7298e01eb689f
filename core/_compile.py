"""``ember.compile``: returns the model unchanged.

ember has no graph compiler; ``compile`` exists so that programs calling ``torch.compile``
run as they are (see docs/compatibility.md)."""

from __future__ import annotations

__all__ = ["compile"]


def compile(model=None, *, fullgraph: bool = False, dynamic=None, backend="inductor",
            mode=None, options=None, disable: bool = False):
    """Returns ``model`` unchanged (usable as a decorator too, with or without arguments)."""
    if model is None:
        return lambda m: m
    return model
