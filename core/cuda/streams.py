"""CUDA streams and events (``ember.cuda.Stream``, ``Event``, ``stream``, ...), over CuPy's.

ember's kernels run on CuPy's current stream, so making a ``Stream`` current with
``ember.cuda.stream(s)`` / ``with s:`` sends the work inside to it. Without a GPU the classes
still exist (for annotations and ``is_available()``-guarded code) and constructing one raises
a RuntimeError that says CUDA is missing.
"""

from __future__ import annotations

from .. import _device

__all__ = ["Stream", "Event", "StreamContext", "stream", "current_stream", "default_stream",
           "set_stream"]


def _cupy_cuda(what: str):
    if not _device.cuda_available():
        raise RuntimeError(f"ember.cuda.{what}: CUDA is not available (no GPU, or CuPy is not "
                           "installed)")
    return _device.cupy_module().cuda


class Stream:
    """A CUDA stream: an ordered queue of GPU work (``priority`` as in PyTorch, lower is
    more urgent)."""

    def __init__(self, device=None, priority: int = 0, **kwargs):
        cuda = _cupy_cuda("Stream")
        self._cupy = cuda.Stream(non_blocking=True, priority=priority)
        self.device = _device.device("cuda", cuda.Device().id)

    @classmethod
    def _from_cupy(cls, s) -> Stream:
        out = cls.__new__(cls)
        out._cupy = s
        out.device = _device.device("cuda", _device.cupy_module().cuda.Device().id)
        return out

    @property
    def cuda_stream(self) -> int:
        """The raw ``cudaStream_t`` pointer."""
        return self._cupy.ptr

    def synchronize(self) -> None:
        """Waits until all work queued on the stream has finished."""
        self._cupy.synchronize()

    def query(self) -> bool:
        """True when all queued work has finished."""
        return self._cupy.done

    def wait_stream(self, other: Stream) -> None:
        """Makes later work on this stream wait for the work queued on ``other`` so far."""
        self._cupy.wait_event(other._cupy.record())

    def wait_event(self, event: Event) -> None:
        """Makes later work on this stream wait for ``event``."""
        self._cupy.wait_event(event._cupy)

    def record_event(self, event: Event | None = None) -> Event:
        """Records ``event`` (a new one if None) on this stream."""
        event = event if event is not None else Event()
        event.record(self)
        return event

    def __enter__(self):
        self._cupy.__enter__()
        return self

    def __exit__(self, *exc):
        self._cupy.__exit__(*exc)

    def __eq__(self, other) -> bool:
        return isinstance(other, Stream) and self._cupy.ptr == other._cupy.ptr

    def __hash__(self) -> int:
        return hash(self._cupy.ptr)

    def __repr__(self) -> str:
        return f"<ember.cuda.Stream device={self.device} cuda_stream={self._cupy.ptr:#x}>"


class Event:
    """A CUDA event: a marker in a stream to wait on or time against."""

    def __init__(self, enable_timing: bool = False, blocking: bool = False,
                 interprocess: bool = False):
        cuda = _cupy_cuda("Event")
        self._cupy = cuda.Event(block=blocking, disable_timing=not enable_timing)

    def record(self, stream: Stream | None = None) -> None:
        """Records the event on ``stream`` (the current stream if None)."""
        self._cupy.record(None if stream is None else stream._cupy)

    def wait(self, stream: Stream | None = None) -> None:
        """Makes ``stream`` (the current one if None) wait for this event."""
        (stream or current_stream()).wait_event(self)

    def query(self) -> bool:
        """True when the recorded work has finished."""
        return self._cupy.done

    def synchronize(self) -> None:
        """Waits for the recorded work."""
        self._cupy.synchronize()

    def elapsed_time(self, end_event: Event) -> float:
        """Milliseconds between this event and ``end_event``."""
        return float(_device.cupy_module().cuda.get_elapsed_time(self._cupy, end_event._cupy))


class StreamContext:
    """Context manager that makes ``stream`` current (a no-op for None)."""

    def __init__(self, stream: Stream | None):
        self.stream = stream

    def __enter__(self):
        if self.stream is not None:
            self.stream.__enter__()
        return self.stream

    def __exit__(self, *exc):
        if self.stream is not None:
            self.stream.__exit__(*exc)


def stream(stream: Stream | None) -> StreamContext:
    """``with ember.cuda.stream(s):`` runs the block's GPU work on ``s``."""
    return StreamContext(stream)


def set_stream(stream: Stream) -> None:
    """Makes ``stream`` current."""
    stream._cupy.use()


def current_stream(device=None) -> Stream:
    """The stream GPU work goes to now."""
    return Stream._from_cupy(_cupy_cuda("current_stream").get_current_stream())


def default_stream(device=None) -> Stream:
    """The device's default (null) stream."""
    return Stream._from_cupy(_cupy_cuda("default_stream").Stream.null)
