"""``torch.overrides``: the ``__torch_function__`` protocol's helper functions, which
libraries call to check whether an argument overrides torch's functions. ember's functions do
not dispatch on ``__torch_function__`` (Tensor subclasses behave as Tensors), so no argument
counts as overriding: ``has_torch_function*`` answer False and ``handle_torch_function``
refuses, naming the function; a ``TorchFunctionMode`` cannot be entered."""

from __future__ import annotations

import contextlib

from ._tensor import Tensor

__all__ = ["has_torch_function", "has_torch_function_unary", "has_torch_function_variadic",
           "handle_torch_function", "is_tensor_like", "is_tensor_method_or_property",
           "get_ignored_functions", "get_overridable_functions", "get_testing_overrides",
           "TorchFunctionMode", "enable_reentrant_dispatch", "wrap_torch_function",
           "resolve_name"]


def has_torch_function(relevant_args) -> bool:
    """False: no argument's ``__torch_function__`` takes part in ember's dispatch."""
    return False


def has_torch_function_unary(obj) -> bool:
    """False (see ``has_torch_function``)."""
    return False


def has_torch_function_variadic(*args) -> bool:
    """False (see ``has_torch_function``)."""
    return False


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    """Refused: ember has no ``__torch_function__`` dispatch to hand the call to."""
    name = getattr(public_api, "__name__", repr(public_api))
    raise NotImplementedError(f"handle_torch_function({name}): ember does not dispatch on "
                              "__torch_function__; call the function on ember tensors")


def is_tensor_like(inp) -> bool:
    """Whether ``inp`` is a Tensor or defines ``__torch_function__`` (as torch answers)."""
    return type(inp) is Tensor or isinstance(inp, Tensor) or \
        hasattr(inp, "__torch_function__")


def is_tensor_method_or_property(func) -> bool:
    """Whether ``func`` is a method or property of ``ember.Tensor``."""
    name = getattr(func, "__name__", None)
    return name is not None and getattr(Tensor, name, None) is func


def get_ignored_functions() -> set:
    """The functions that cannot be overridden: in ember, all of them."""
    return set()


def get_overridable_functions() -> dict:
    """The functions that ``__torch_function__`` can override: none in ember."""
    return {}


def get_testing_overrides() -> dict:
    """Dummy overrides per overridable function: none in ember."""
    return {}


def resolve_name(f) -> str | None:
    """The dotted name of an ember function (``ember.add``), or None."""
    mod = getattr(f, "__module__", None)
    name = getattr(f, "__qualname__", None)
    return f"{mod}.{name}" if mod and name else None


class TorchFunctionMode:
    """Declared for ``isinstance`` checks and subclassing; entering one raises, since no
    ember function consults ``__torch_function__`` modes."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        raise NotImplementedError

    def __enter__(self):
        raise NotImplementedError("TorchFunctionMode: ember does not dispatch on "
                                  "__torch_function__, so a mode would see no calls")

    def __exit__(self, *exc):
        return False


def enable_reentrant_dispatch():
    """A no-op context (there is no dispatcher to re-enter)."""
    return contextlib.nullcontext()


def wrap_torch_function(dispatcher):
    """A decorator that leaves the function as it is (nothing dispatches on
    ``__torch_function__``)."""
    def decorator(func):
        return func
    return decorator
