"""The scripting half of ``torch.jit``, for programs that use it as decorations.

ember runs Python: there is nothing to compile, so ``script`` returns its argument unchanged
and ``ignore``/``unused``/``export`` only mark functions (departure from PyTorch, listed in
docs/compatibility.md). ``fork`` runs its function at once and returns a finished future.
"""

from __future__ import annotations

import contextlib
from typing import Final  # noqa: F401 - re-exported as ember.jit.Final

__all__ = ["script", "ignore", "unused", "export", "is_scripting", "annotate", "Final",
           "fork", "wait", "Future", "script_if_tracing", "interface", "isinstance",
           "optimize_for_inference", "freeze", "enable_onednn_fusion", "onednn_fusion_enabled",
           "optimized_execution", "fuser", "set_fusion_strategy"]

_builtin_isinstance = isinstance


def script(obj=None, optimize=None, _frames_up: int = 0, _rcb=None, example_inputs=None):
    """Returns ``obj`` unchanged: ember runs Python and has nothing to compile. Usable as
    ``@ember.jit.script``. Save scripted modules' weights with ``ember.save``."""
    if obj is None:
        return lambda o: o
    return obj


def _marker(name: str):
    def decorate(fn=None, **kwargs):
        if fn is None or not callable(fn):  # @ignore(drop=True) and friends
            return lambda f: decorate(f)
        try:
            setattr(fn, "_ember_jit_" + name, True)
        except (AttributeError, TypeError):
            pass
        return fn
    decorate.__name__ = name
    decorate.__doc__ = (f"``@torch.jit.{name}``: returns the function unchanged (ember has "
                        "no compiler to steer).")
    return decorate


ignore = _marker("ignore")
unused = _marker("unused")
export = _marker("export")
interface = _marker("interface")
script_if_tracing = _marker("script_if_tracing")


def is_scripting() -> bool:
    """False: ember never compiles a program."""
    return False


def annotate(the_type, the_value):
    """Returns ``the_value`` (a type hint for the TorchScript compiler)."""
    return the_value


def isinstance(obj, target_type) -> bool:  # noqa: A001 - torch.jit.isinstance
    """``builtins.isinstance`` for plain classes; for subscripted hints (``List[int]``),
    checks the container type only."""
    origin = getattr(target_type, "__origin__", None)
    return _builtin_isinstance(obj, origin if origin is not None else target_type)


class Future:
    """The result of ``fork``: ``wait()`` returns it (or raises its exception)."""

    def __init__(self, value=None, exc: BaseException | None = None):
        self._value = value
        self._exc = exc

    def wait(self):
        """The forked call's result."""
        if self._exc is not None:
            raise self._exc
        return self._value

    def value(self):
        """The forked call's result."""
        return self.wait()

    def done(self) -> bool:
        """True: the forked call already ran."""
        return True


def fork(func, *args, **kwargs) -> Future:
    """Runs ``func(*args, **kwargs)`` now and returns a finished ``Future`` (ember runs the
    call inline instead of on an inter-op thread pool)."""
    try:
        return Future(func(*args, **kwargs))
    except Exception as exc:  # raised again by wait(), as PyTorch does
        return Future(exc=exc)


def wait(future: Future):
    """``future.wait()``."""
    return future.wait()


def optimize_for_inference(mod, other_methods=None):
    """Returns ``mod`` in eval mode (ember has no graph passes to run)."""
    return mod.eval() if hasattr(mod, "eval") else mod


def freeze(mod, preserved_attrs=None, optimize_numerics: bool = True):
    """Returns ``mod`` in eval mode (ember has no graph passes to run)."""
    return mod.eval() if hasattr(mod, "eval") else mod


def enable_onednn_fusion(enabled: bool) -> None:
    """No effect: ember has no fuser."""


def onednn_fusion_enabled() -> bool:
    """False: ember has no fuser."""
    return False


@contextlib.contextmanager
def optimized_execution(should_optimize: bool):
    """A context manager with no effect: ember has no TorchScript executor to tune."""
    yield


@contextlib.contextmanager
def fuser(name: str):
    """A context manager with no effect: ember has no fuser to choose."""
    yield


_FUSION_STRATEGY = [[("STATIC", 2), ("DYNAMIC", 10)]]


def set_fusion_strategy(strategy: list) -> list:
    """Stores the fusion strategy (no effect: ember has no fuser) and returns the previous
    one, as PyTorch does."""
    prev, _FUSION_STRATEGY[0] = _FUSION_STRATEGY[0], list(strategy)
    return prev
