"""``torch.futures``: a ``Future`` holding the result of an asynchronous computation, with
``collect_all`` and ``wait_all``.

ember computes eagerly (``ember.jit.fork`` runs its call inline), so futures here are mostly
created already completed; an empty ``Future()`` completed later by ``set_result`` (from any
thread) works as in PyTorch, callbacks (``then``, ``add_done_callback``) included.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Future", "collect_all", "wait_all"]

T = TypeVar("T")
S = TypeVar("S")


class Future(Generic[T]):
    """A value (or an exception) that becomes available once the future is completed by
    ``set_result`` / ``set_exception``; ``wait()`` blocks until then."""

    def __init__(self, *, devices=None):
        self._cond = threading.Condition()
        self._done = False
        self._value = None
        self._exc: BaseException | None = None
        self._callbacks: list[Callable[[Future], None]] = []

    def done(self) -> bool:
        """True once the future holds a value or an exception."""
        return self._done

    def wait(self) -> T:
        """Blocks until the future is completed; returns its value (raises its exception)."""
        with self._cond:
            while not self._done:
                self._cond.wait()
        return self.value()

    def value(self) -> T:
        """The value of a completed future (raises its exception); call it after ``wait()``
        or inside a callback."""
        if not self._done:
            raise RuntimeError("Future.value() was called on a Future that is not completed "
                               "yet: wait() for it, or read it inside a then() callback")
        if self._exc is not None:
            raise self._exc
        return self._value

    def _complete(self, value, exc: BaseException | None) -> None:
        with self._cond:
            if self._done:
                raise RuntimeError("Attempting to mark a completed Future as complete again. "
                                   "Note that a Future can only be marked completed once.")
            self._value, self._exc, self._done = value, exc, True
            callbacks, self._callbacks = self._callbacks, []
            self._cond.notify_all()
        for callback in callbacks:
            callback(self)

    def set_result(self, result: T) -> None:
        """Completes the future with ``result`` and runs its callbacks."""
        self._complete(result, None)

    def set_exception(self, result: BaseException) -> None:
        """Completes the future with the exception ``result`` (raised by ``wait``/``value``)."""
        if not isinstance(result, BaseException):
            raise TypeError(f"{result!r} is of type {type(result)}, not an Exception.")
        self._complete(None, result)

    def _on_done(self, callback: Callable[[Future], None]) -> None:
        with self._cond:
            if not self._done:
                self._callbacks.append(callback)
                return
        callback(self)

    def then(self, callback: Callable[[Future[T]], S]) -> Future[S]:
        """A new future completed with ``callback(self)`` once this one completes (with the
        exception, wrapped in a RuntimeError, when the callback raises)."""
        child: Future = Future()

        def run(fut):
            try:
                result = callback(fut)
            except Exception as exc:
                err = RuntimeError("Got the following error when running the callback: "
                                   f"{type(exc).__name__}: {exc}")
                err.__cause__ = exc
                child.set_exception(err)
            else:
                child.set_result(result)

        self._on_done(run)
        return child

    def add_done_callback(self, callback: Callable[[Future[T]], None]) -> None:
        """Runs ``callback(self)`` once the future completes (now, when it already has); an
        exception the callback raises is reported on stderr, not propagated."""
        def run(fut):
            try:
                callback(fut)
            except Exception as exc:
                print("Got the following error when running the callback: "
                      f"{type(exc).__name__}: {exc}", file=sys.stderr)

        self._on_done(run)

    def __repr__(self) -> str:
        return f"ember.Future(done={self._done})"


def collect_all(futures: list[Future]) -> Future[list[Future]]:
    """A future completed once every one of ``futures`` is, whose value is the list of
    ``futures`` (or the first exception among them)."""
    futures = list(futures)
    combined: Future = Future()
    remaining = [len(futures)]
    lock = threading.Lock()

    def one_done(_fut):
        with lock:
            remaining[0] -= 1
            last = remaining[0] == 0
        if last:
            err = next((f._exc for f in futures if f._exc is not None), None)
            if err is not None:
                combined.set_exception(err)
            else:
                combined.set_result(futures)

    if not futures:
        combined.set_result([])
    for fut in futures:
        fut._on_done(one_done)
    return combined


def wait_all(futures: list[Future]) -> list[Any]:
    """Waits for every one of ``futures`` and returns their values (raises the first
    exception among them)."""
    return [fut.value() for fut in collect_all(futures).wait()]
