"""``ember.xpu``: Intel GPU queries, as ``torch.xpu`` on a machine without one.

ember has no XPU backend, so ``is_available()`` is False and ``device_count()`` is 0; the
housekeeping calls (``synchronize``, ``empty_cache``, seeding, memory statistics) are no-ops
or zeros, as ``torch.xpu``'s are without a device, and anything that needs a device raises
a RuntimeError saying that none is available.
"""

from __future__ import annotations

__all__ = ["is_available", "device_count", "current_device", "set_device", "synchronize",
           "empty_cache", "manual_seed", "manual_seed_all", "memory_allocated",
           "max_memory_allocated", "memory_reserved", "max_memory_reserved",
           "reset_peak_memory_stats", "is_bf16_supported", "is_current_stream_capturing",
           "get_device_name", "get_device_properties", "get_device_capability", "device",
           "Stream", "Event", "get_rng_state", "set_rng_state", "get_rng_state_all",
           "set_rng_state_all", "seed", "seed_all"]


def _unavailable(what: str):
    return RuntimeError(f"ember.xpu.{what}: no XPU device is available (ember has no XPU "
                        "backend)")


def is_available() -> bool:
    """False: ember has no XPU backend."""
    return False


def device_count() -> int:
    """0: no XPU devices."""
    return 0


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: no XPU devices."""
    return False


def is_current_stream_capturing() -> bool:
    """False: nothing is captured."""
    return False


def synchronize(device=None) -> None:
    """A no-op (no XPU work can be pending)."""


def empty_cache() -> None:
    """A no-op (no XPU memory is held)."""


def manual_seed(seed: int) -> None:
    """A no-op (no XPU generators)."""


def manual_seed_all(seed: int) -> None:
    """A no-op (no XPU generators)."""


def seed() -> None:
    """A no-op (no XPU generators)."""


def seed_all() -> None:
    """A no-op (no XPU generators)."""


def get_rng_state(device="xpu"):
    """Raises: there is no XPU generator."""
    raise _unavailable("get_rng_state")


def set_rng_state(new_state, device="xpu") -> None:
    """Raises: there is no XPU generator."""
    raise _unavailable("set_rng_state")


def get_rng_state_all() -> list:
    """The states of every XPU device's generator: an empty list."""
    return []


def set_rng_state_all(new_states) -> None:
    """Restores every XPU device's generator from ``get_rng_state_all()``'s (empty) list;
    a state for a device raises, there being none."""
    for i, state in enumerate(new_states):
        set_rng_state(state, i)


def memory_allocated(device=None) -> int:
    """0: no XPU memory is held."""
    return 0


max_memory_allocated = memory_reserved = max_memory_reserved = memory_allocated


def reset_peak_memory_stats(device=None) -> None:
    """A no-op."""


def current_device() -> int:
    """Raises: there is no XPU device."""
    raise _unavailable("current_device")


def set_device(device) -> None:
    """Raises: there is no XPU device."""
    raise _unavailable("set_device")


def get_device_name(device=None) -> str:
    """Raises: there is no XPU device."""
    raise _unavailable("get_device_name")


def get_device_properties(device=None):
    """Raises: there is no XPU device."""
    raise _unavailable("get_device_properties")


def get_device_capability(device=None):
    """Raises: there is no XPU device."""
    raise _unavailable("get_device_capability")


class device:  # noqa: N801 - PyTorch's name
    """Context manager selecting an XPU device (raises: there is none)."""

    def __init__(self, device):
        raise _unavailable("device")


class Stream:
    """An XPU stream (raises: there is no XPU device)."""

    def __init__(self, *args, **kwargs):
        raise _unavailable("Stream")


class Event:
    """An XPU event (raises: there is no XPU device)."""

    def __init__(self, *args, **kwargs):
        raise _unavailable("Event")
