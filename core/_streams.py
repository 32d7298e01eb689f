"""``ember.Stream`` and ``ember.Event``: PyTorch's device-generic stream and event.

A stream or event is made for a device (the current accelerator's when none is given, the
CPU without one). On the CPU work runs synchronously and in order: a CPU stream is always
idle and an event always complete, and, as in PyTorch, recording an event there raises
(the CPU backend has no events). On CUDA they wrap ``ember.cuda.Stream`` and
``ember.cuda.Event``.
"""

from __future__ import annotations

from . import _device

__all__ = ["Stream", "Event"]


_DEVICE_TYPE_CODES = {"cpu": 0, "cuda": 1}


def _stream_device(device) -> _device.device:
    if device is None:
        from . import accelerator

        device = accelerator.current_accelerator() or "cpu"
    return _device.device(device)


class Stream:
    """``torch.Stream(device=None, *, priority=0)``: an ordered queue of work on a device."""

    def __init__(self, device=None, *, priority: int = 0):
        self.device = _stream_device(device)
        self.priority = priority
        self._cuda = None
        if self.device.type == "cuda":
            from . import cuda

            if self.device.index is None:  # the current device's
                self._cuda = cuda.Stream(priority=priority)
            else:
                with cuda.device(self.device):
                    self._cuda = cuda.Stream(priority=priority)
            self.device = self._cuda.device

    @property
    def device_type(self) -> int:
        """The device type's number, as PyTorch's ``DeviceType`` (0 CPU, 1 CUDA)."""
        return _DEVICE_TYPE_CODES.get(self.device.type, -1)

    @property
    def device_index(self) -> int:
        return -1 if self.device.index is None else self.device.index

    @property
    def stream_id(self) -> int:
        return 0 if self._cuda is None else self._cuda.cuda_stream

    def query(self) -> bool:
        """True when all work queued on the stream has finished."""
        return True if self._cuda is None else self._cuda.query()

    def synchronize(self) -> None:
        """Waits until all work queued on the stream has finished."""
        if self._cuda is not None:
            self._cuda.synchronize()

    def wait_event(self, event: Event) -> None:
        """Makes later work on this stream wait for ``event``."""
        if self._cuda is not None and event._cuda is not None:
            self._cuda.wait_event(event._cuda)

    def wait_stream(self, stream: Stream) -> None:
        """Makes later work on this stream wait for the work queued on ``stream`` so far."""
        self.wait_event(stream.record_event())

    def record_event(self, event: Event | None = None) -> Event:
        """Records ``event`` (a new one for this stream's device if None) on this stream."""
        event = event if event is not None else Event(self.device)
        event.record(self)
        return event

    def __enter__(self):
        if self._cuda is not None:
            self._cuda.__enter__()
        return self

    def __exit__(self, *exc):
        if self._cuda is not None:
            self._cuda.__exit__(*exc)

    def __eq__(self, other) -> bool:
        return (isinstance(other, Stream) and self.device == other.device
                and self.stream_id == other.stream_id)

    def __hash__(self) -> int:
        return hash((str(self.device), self.stream_id))

    def __repr__(self) -> str:
        return (f"torch.Stream device_type={self.device.type}, "
                f"device_index={self.device_index}, stream_id={self.stream_id}")


class Event:
    """``torch.Event(device=None, *, enable_timing=False, blocking=False,
    interprocess=False)``: a marker in a stream, to wait on or time against."""

    def __init__(self, device=None, *, enable_timing: bool = False, blocking: bool = False,
                 interprocess: bool = False):
        self.device = _stream_device(device)
        self._timing = enable_timing
        self._cuda = None
        if self.device.type == "cuda":
            from . import cuda

            self._cuda = cuda.Event(enable_timing=enable_timing, blocking=blocking,
                                    interprocess=interprocess)

    @property
    def event_id(self) -> int:
        return 0 if self._cuda is None else id(self._cuda)

    def record(self, stream: Stream | None = None) -> None:
        """Records the event on ``stream`` (the device's current stream if None)."""
        if self._cuda is None:
            raise RuntimeError(f"{self.device.type} backend doesn't support events.")
        self._cuda.record(None if stream is None else stream._cuda)

    def wait(self, stream: Stream | None = None) -> None:
        """Makes ``stream`` (the device's current stream if None) wait for this event."""
        if self._cuda is not None:
            self._cuda.wait(None if stream is None else stream._cuda)

    def query(self) -> bool:
        """True when the work recorded before the event has finished."""
        return True if self._cuda is None else self._cuda.query()

    def synchronize(self) -> None:
        """Waits for the work recorded before the event."""
        if self._cuda is not None:
            self._cuda.synchronize()

    def elapsed_time(self, end_event: Event) -> float:
        """Milliseconds between this event and ``end_event`` (CUDA events with timing)."""
        if not (self._timing and end_event._timing):
            raise ValueError("Both events must be created with argument 'enable_timing=True'.")
        if self._cuda is None:
            raise RuntimeError(f"{self.device.type} backend doesn't support events.")
        return self._cuda.elapsed_time(end_event._cuda)

    def __repr__(self) -> str:
        index = -1 if self.device.index is None else self.device.index
        return (f"torch.Event device_type={self.device.type}, device_index={index}, "
                f"event_id={self.event_id}")
