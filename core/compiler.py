"""``ember.compiler``: ``torch.compiler``'s user-facing switches. ember compiles nothing
(``ember.compile`` returns the model), so the decorators return their function and the
queries answer False."""

from __future__ import annotations

from ._compile import compile

__all__ = ["compile", "disable", "is_compiling", "is_dynamo_compiling", "is_exporting",
           "reset", "allow_in_graph", "assume_constant_result", "list_backends",
           "cudagraph_mark_step_begin", "set_stance"]


def disable(fn=None, recursive: bool = True, *, reason=None):
    """Returns ``fn`` (usable as ``@disable`` or ``@disable(...)``)."""
    if fn is None:
        return lambda f: f
    return fn


def allow_in_graph(fn):
    """Returns ``fn``."""
    return fn


def assume_constant_result(fn):
    """Returns ``fn``."""
    return fn


def is_compiling() -> bool:
    """False: ember never runs code under a compiler."""
    return False


is_dynamo_compiling = is_compiling


def is_exporting() -> bool:
    """False outside ``ember.export``'s tracing."""
    from .jit import is_tracing

    return is_tracing()


def reset() -> None:
    """A no-op: there is no compilation cache."""


def list_backends(exclude_tags=("debug", "experimental")) -> list:
    """The backend names ``compile`` accepts (all run the model as it is)."""
    from ._dynamo import list_backends as names

    return names(exclude_tags)


def cudagraph_mark_step_begin() -> None:
    """A no-op: ember records no CUDA graphs."""


def set_stance(stance: str = "default", *, skip_guard_eval_unsafe: bool = False,
               force_backend=None):
    """Accepted for compatibility (usable as a context manager)."""
    import contextlib

    return contextlib.nullcontext()
