"""``ember.accelerator``: the device-agnostic accelerator API (``torch.accelerator``).

ember's one accelerator is CUDA (through CuPy); on a machine without it every query answers
as PyTorch's does when no accelerator is present.
"""

from __future__ import annotations

from . import _device, cuda

__all__ = ["current_accelerator", "current_device_idx", "current_device_index",
           "device_count", "device_index", "is_available", "set_device_idx",
           "set_device_index", "synchronize", "empty_cache", "memory_allocated",
           "max_memory_allocated", "reset_peak_memory_stats"]


def is_available() -> bool:
    """True when an accelerator (a CUDA GPU through CuPy) is present."""
    return cuda.is_available()


def current_accelerator(check_available: bool = False):
    """The accelerator's device type as a ``device`` (``cuda``), or None when there is none.

    As in PyTorch, ember has CUDA compiled in, so without ``check_available`` the answer
    is ``device('cuda')`` even when no GPU is visible only if CuPy is importable; ember
    returns None when CuPy is missing, because then it cannot run on CUDA at all.
    """
    if is_available():
        return _device.device("cuda")
    return None


def device_count() -> int:
    """The number of accelerator devices (0 without one)."""
    return cuda.device_count()


def current_device_index() -> int:
    """The index of the current accelerator device (-1 without one, as PyTorch)."""
    if not is_available():
        return -1
    return cuda.current_device()


current_device_idx = current_device_index


def set_device_index(device) -> None:
    """Makes ``device`` (an index or device) the current accelerator device."""
    if not is_available():
        raise RuntimeError("ember.accelerator.set_device_index: no accelerator is available")
    cuda.set_device(device)


set_device_idx = set_device_index


def synchronize(device=None) -> None:
    """Waits for the accelerator's queued work (a no-op without one)."""
    cuda.synchronize(device)


def empty_cache() -> None:
    """Releases the accelerator's cached memory (a no-op without one)."""
    cuda.empty_cache()


def memory_allocated(device=None) -> int:
    """Bytes in use on the accelerator (0 without one)."""
    return cuda.memory_allocated(device)


def max_memory_allocated(device=None) -> int:
    """Peak bytes held on the accelerator (0 without one)."""
    return cuda.max_memory_allocated(device)


def reset_peak_memory_stats(device=None) -> None:
    """Accepted for compatibility."""
    cuda.reset_peak_memory_stats(device)


class device_index:
    """Context manager that makes an accelerator device current; ``None`` does nothing."""

    def __init__(self, device):
        self.idx = device
        self._ctx = None

    def __enter__(self):
        if self.idx is not None:
            self._ctx = cuda.device(self.idx)
            self._ctx.__enter__()
        return self

    def __exit__(self, *exc):
        if self._ctx is not None:
            self._ctx.__exit__(*exc)
        return False
