"""The dispatch machinery of ``v2.functional``: every functional (``resize``, ``hflip``...)
looks up the kernel registered for the type of its input (pure tensor, PIL image or a
TVTensor class) and calls it.

Registered kernels of the built-in TVTensor types take the plain tensor and the metadata
and return plain tensors; the functional unwraps the input and wraps the output again, so
the result has the input's type. Kernels registered by users with ``register_kernel`` get
the TVTensor itself, as in torchvision.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from ember import Tensor

from .... import _pil
from ....tv_tensors import TVTensor
from ....tv_tensors._tv_tensor import _plain_view

__all__ = ["register_kernel", "is_pure_tensor"]

_KERNELS: dict[Callable, dict[type, Callable]] = {}


def is_pure_tensor(inpt: Any) -> bool:
    """Whether ``inpt`` is an ``ember.Tensor`` that is not a TVTensor."""
    return isinstance(inpt, Tensor) and not isinstance(inpt, TVTensor)


def _plain(t: Tensor) -> Tensor:
    """``t`` as a plain tensor (no copy)."""
    return t if type(t) is Tensor else _plain_view(t)


def _add(functional: Callable, input_type: type, kernel: Callable) -> None:
    _KERNELS.setdefault(functional, {})[input_type] = kernel


@functools.cache
def _parameters(kernel: Callable) -> frozenset | None:
    params = inspect.signature(kernel).parameters.values()
    if any(p.kind == p.VAR_KEYWORD for p in params):
        return None
    return frozenset(p.name for p in params)


def _accepted(kernel: Callable, kwargs: dict) -> dict:
    """The keyword arguments that ``kernel`` takes (dispatchers pass all the options of the
    functional; a mask or box kernel takes fewer, e.g. no ``interpolation``)."""
    names = _parameters(kernel)
    if names is None:
        return kwargs
    return {k: v for k, v in kwargs.items() if k in names}


def _on_plain(kernel: Callable, tv_type: type) -> Callable:
    """An adapter calling ``kernel`` on the plain tensor and wrapping its result(s) back
    into ``tv_type`` (for the metadata-free Image, Video and Mask)."""

    @functools.wraps(kernel)
    def adapter(inpt, *args, **kwargs):
        out = kernel(_plain(inpt), *args, **_accepted(kernel, kwargs))
        if isinstance(out, (tuple, list)):
            return type(out)(tv_type._wrap(o) for o in out)
        return tv_type._wrap(out)

    return adapter


def _register(functional: Callable, *input_types, wrap: bool = True):
    """Registers a kernel for ``functional`` and each of ``input_types``: ``Tensor`` (pure
    tensors, called as they are), ``"PIL"`` and TVTensor classes (called on the plain
    tensor and wrapped again when ``wrap``, else called with the TVTensor itself)."""

    def decorator(kernel: Callable) -> Callable:
        for input_type in input_types:
            if input_type == "PIL":
                _add(functional, _pil.pil_image().Image, kernel)
            elif input_type is Tensor or not wrap:
                _add(functional, input_type, kernel)
            else:
                _add(functional, input_type, _on_plain(kernel, input_type))
        return kernel

    return decorator


def register_kernel(functional: Callable, tv_tensor_cls: type):
    """A decorator that makes ``kernel`` the implementation of ``functional`` (e.g.
    ``F.resize``) for inputs of the TVTensor subclass ``tv_tensor_cls``; the v2 transforms
    that call ``functional`` then transform such inputs with it.

    The kernel is called with the TVTensor itself and the functional's arguments, and
    returns the result (wrap it, e.g. with :func:`~ember.vision.tv_tensors.wrap`, to keep
    the type).
    """
    if not (isinstance(tv_tensor_cls, type) and issubclass(tv_tensor_cls, TVTensor)):
        raise ValueError(f"Kernels can only be registered for subclasses of "
                         f"ember.vision.tv_tensors.TVTensor, but got {tv_tensor_cls}.")
    if functional not in _KERNELS and not callable(functional):
        raise ValueError(f"Kernels can only be registered on dispatchers, but got "
                         f"{functional}.")

    def decorator(kernel: Callable) -> Callable:
        _add(functional, tv_tensor_cls, kernel)
        return kernel

    return decorator


def _find_kernel(functional: Callable, input_type: type) -> Callable | None:
    table = _KERNELS.get(functional, {})
    if input_type is Tensor or (issubclass(input_type, Tensor)
                                and not issubclass(input_type, TVTensor)):
        return table.get(Tensor)
    for cls in input_type.__mro__:
        if cls in table and cls is not Tensor:
            return table[cls]
        if cls is TVTensor:
            break
    return None


def _dispatch(functional: Callable, inpt, *args, **kwargs):
    """Calls ``functional``'s kernel for ``type(inpt)``; an input type without a kernel
    raises ``TypeError`` (the transforms pass such TVTensors through instead)."""
    kernel = _find_kernel(functional, type(inpt))
    if kernel is None:
        names = ", ".join(str(t) for t in _KERNELS.get(functional, {}))
        raise TypeError(f"Functional F.{functional.__name__} supports inputs of type "
                        f"dict_keys([{names}]), but got {type(inpt)} instead.")
    return kernel(inpt, *args, **kwargs)

