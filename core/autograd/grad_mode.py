"""Grad mode: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

Each works as a context manager and as a decorator, as in PyTorch.
"""

from __future__ import annotations

import functools

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _State:
    """Process-wide grad mode (read on every op, so kept as a plain class attribute)."""

    enabled = True
    inference = False


def is_grad_enabled() -> bool:
    """True when operations record the autograd graph."""
    return _State.enabled


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()``."""
    return _State.inference


class _DecoratorContextManager:
    """Base for grad-mode contexts that also decorate functions and generators."""

    def __call__(self, func):
        import inspect

        if inspect.isclass(func):
            raise TypeError("grad-mode decorators apply to functions, not classes")
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def gen_wrapper(*args, **kwargs):
                gen = func(*args, **kwargs)
                try:
                    with self.clone():
                        item = next(gen)
                    while True:
                        try:
                            sent = yield item
                        except GeneratorExit:
                            gen.close()
                            raise
                        with self.clone():
                            item = gen.send(sent)
                except StopIteration as stop:
                    return stop.value
            return gen_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_DecoratorContextManager):
    """Context manager (and decorator) that disables gradient recording."""

    def __init__(self, orig_func=None):
        self._orig_func = orig_func

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)  # used bare as a decorator: @no_grad

    def __enter__(self):
        self.prev = _State.enabled
        _State.enabled = False

    def __exit__(self, *exc):
        _State.enabled = self.prev
        return False


class enable_grad(_DecoratorContextManager):
    """Context manager (and decorator) that enables gradient recording."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)

    def __enter__(self):
        self.prev = _State.enabled
        _State.enabled = True

    def __exit__(self, *exc):
        _State.enabled = self.prev
        return False


class set_grad_enabled(_DecoratorContextManager):
    """Sets gradient recording on or off; takes effect at once (as a function call) and is
    restored on exit when used as a context manager."""

    def __init__(self, mode: bool):
        self.prev = _State.enabled
        self.mode = bool(mode)
        _State.enabled = self.mode

    def __call__(self, func):
        # used as a decorator, the mode applies inside the function only
        _State.enabled = self.prev
        return super().__call__(func)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _State.enabled = self.prev
        return False

    def clone(self):
        return self.__class__(self.mode)


class inference_mode(_DecoratorContextManager):
    """Like ``no_grad``: no graph is recorded, and tensors created inside report
    ``is_inference()``; ``inference_mode(False)`` turns both off again (grad enabled).

    Departure from PyTorch: inference tensors carry only the flag; using them outside
    inference mode (in-place updates, ``requires_grad_``) is not refused."""

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):
            return cls(True)(mode)
        return super().__new__(cls)

    def __enter__(self):
        self.prev = (_State.enabled, _State.inference)
        _State.enabled = not self.mode
        _State.inference = self.mode
        if self.mode != self.prev[1]:
            _mark_inference_tensors(self.mode)

    def __exit__(self, *exc):
        _State.enabled, _State.inference = self.prev
        if self.mode != self.prev[1]:
            _mark_inference_tensors(self.prev[1])
        return False

    def clone(self):
        return self.__class__(self.mode)


_PLAIN = {}  # Tensor's own _make/_init while inference tensors are being marked


def _mark_inference_tensors(on: bool) -> None:
    """Swaps in (or out) constructors that flag new tensors as inference tensors, so that
    outside ``inference_mode`` tensor creation costs nothing extra."""
    from .._tensor import Tensor

    if on and not _PLAIN:
        make = Tensor.__dict__["_make"].__func__
        init = Tensor.__dict__["_init"]
        _PLAIN["_make"] = Tensor.__dict__["_make"]
        _PLAIN["_init"] = init

        def _make(cls, data, requires_grad=False, grad_fn=None, out_nr=0):
            t = make(cls, data, requires_grad, grad_fn, out_nr)
            t._inference = True
            return t

        def _init(self, *args, **kwargs):
            init(self, *args, **kwargs)
            self._inference = True

        Tensor._make = classmethod(_make)
        Tensor._init = _init
    elif not on and _PLAIN:
        Tensor._make = _PLAIN.pop("_make")
        Tensor._init = _PLAIN.pop("_init")
