"""Declared-but-unsupported distributed features (DTensor, FSDP2, device meshes,
distributed checkpointing).

ember's distributed package does process groups and collectives; the sharded-tensor
machinery built on them in PyTorch is not implemented. Its names exist so that code which
imports them, annotates with them or tests ``isinstance(x, DTensor)`` runs; constructing or
calling one raises ``NotImplementedError`` naming the feature, never a silent wrong answer.
"""

from __future__ import annotations

__all__ = ["unsupported", "Unsupported", "unsupported_function"]


def unsupported(what: str) -> NotImplementedError:
    """The error raised when ``what`` is used."""
    return NotImplementedError(f"{what} is not supported by ember (ember.distributed provides "
                               "process groups and collectives, not sharded tensors, FSDP, "
                               "device meshes or distributed checkpoints)")


class Unsupported:
    """Base of the declared-only classes: constructing one raises ``NotImplementedError``."""

    _what = "this class"

    def __init__(self, *args, **kwargs):
        raise unsupported(self._what)


def unsupported_function(qualname: str, doc: str):
    """A function named ``qualname`` that raises ``NotImplementedError`` when called."""
    def fn(*args, **kwargs):
        raise unsupported(qualname)

    fn.__name__ = fn.__qualname__ = qualname.rsplit(".", 1)[-1]
    fn.__doc__ = doc + " (not supported by ember: raises NotImplementedError)"
    return fn
