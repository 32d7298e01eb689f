"""``ember.cpu``: the CPU device module (``torch.cpu``): queries that mirror ``ember.cuda``'s
and the deprecated ``ember.cpu.amp``."""

from __future__ import annotations

__all__ = ["is_available", "device_count", "current_device", "synchronize", "set_device",
           "current_stream", "StreamContext", "stream", "Stream", "Event"]


def is_available() -> bool:
    """Always True."""
    return True


def device_count() -> int:
    """1: the CPU is one device."""
    return 1


def current_device() -> str:
    """``"cpu"``."""
    return "cpu"


def set_device(device) -> None:
    """Accepted for compatibility: there is one CPU device."""


def synchronize(device=None) -> None:
    """A no-op: CPU work is synchronous."""


class Stream:
    """A no-op stream: CPU work runs in order."""

    def __init__(self, priority: int = -1):
        self.priority = priority

    def wait_stream(self, stream) -> None:
        """A no-op."""

    def synchronize(self) -> None:
        """A no-op."""

    def query(self) -> bool:
        return True


class Event:
    """A no-op event: CPU work runs in order."""

    def query(self) -> bool:
        return True

    def record(self, stream=None) -> None:
        """A no-op."""

    def synchronize(self) -> None:
        """A no-op."""

    def wait(self, stream=None) -> None:
        """A no-op."""


_DEFAULT = Stream()


def current_stream(device=None) -> Stream:
    """The (only) CPU stream."""
    return _DEFAULT


class StreamContext:
    """A no-op stream context."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self.stream

    def __exit__(self, *exc):
        return False


def stream(stream) -> StreamContext:
    """A no-op stream context."""
    return StreamContext(stream)


def __getattr__(name: str):
    if name == "amp":  # imported on first use, as ember.cuda.amp
        import importlib

        return importlib.import_module(".amp", __name__)
    raise AttributeError(f"module 'ember.cpu' has no attribute '{name}'")
