"""``Work``: the handle an ``async_op=True`` collective returns, as ``torch.distributed.Work``.

Collectives of the gloo and mpi backends run to completion before returning (all ranks
issue them in the same order, so nothing is gained by deferring them); their ``Work`` is
already complete. A receive (``irecv``) runs on a thread, so a rank can post it before its
own send; ``wait()`` joins it and re-raises its error.
"""

from __future__ import annotations

import threading

__all__ = ["Work", "Future"]


class Future:
    """A minimal ``torch.futures.Future``: ``wait()``, ``value()``, ``done()``, ``then()``."""

    def __init__(self, work: Work):
        self._work = work

    def wait(self):
        """Waits for the work and returns its value."""
        self._work.wait()
        return self._work.result()

    def value(self):
        """The value (the work's output tensors); raises the work's error."""
        return self.wait()

    def done(self) -> bool:
        """True once the work has finished."""
        return self._work.is_completed()

    def then(self, callback):
        """A future whose value is ``callback(self)``, run once this one is done."""
        self.wait()
        return _ValueFuture(callback(self))


class _ValueFuture(Future):
    def __init__(self, value):
        self._value = value

    def wait(self):
        return self._value

    def done(self) -> bool:
        return True


class Work:
    """An issued communication: ``wait()`` blocks until it is done (raising its error)."""

    def __init__(self, result=None, fn=None, source_rank: int | None = None):
        self._result = result if result is not None else []
        self._error: BaseException | None = None
        self._source = source_rank
        self._thread = None
        if fn is not None:
            self._thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
            self._thread.start()

    def _run(self, fn) -> None:
        try:
            out = fn()
            if isinstance(out, tuple):
                self._result, self._source = out
            elif out is not None:
                self._result = out
        except BaseException as e:  # re-raised by wait()
            self._error = e

    def wait(self, timeout=None) -> bool:
        """Blocks until the operation is done; True on success (raises its error)."""
        if self._thread is not None:
            secs = timeout.total_seconds() if hasattr(timeout, "total_seconds") else timeout
            self._thread.join(secs)
            if self._thread.is_alive():
                raise RuntimeError("Work.wait timed out")
        if self._error is not None:
            raise self._error
        return True

    def is_completed(self) -> bool:
        """True once the operation has finished (successfully or not)."""
        return self._thread is None or not self._thread.is_alive()

    def is_success(self) -> bool:
        """True if the operation finished without error."""
        return self.is_completed() and self._error is None

    def exception(self):
        """The operation's error, or None."""
        return self._error

    def synchronize(self) -> None:
        """Same as ``wait()`` on the CPU backends."""
        self.wait()

    def result(self) -> list:
        """The output tensors."""
        return list(self._result)

    def source_rank(self) -> int:
        """The rank a receive from any source got its message from."""
        self.wait()
        if self._source is None:
            raise RuntimeError("source_rank() is only available for receives")
        return self._source

    def get_future(self) -> Future:
        """A future completed with ``result()``."""
        return Future(self)
