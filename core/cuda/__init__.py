"""``ember.cuda``: CUDA device queries, backed by CuPy (imported lazily)."""

from __future__ import annotations

from .. import _device, _random
from .graphs import (
    CUDAGraph,
    graph,
    graph_pool_handle,
    is_current_stream_capturing,
    make_graphed_callables,
)
from .streams import (
    Event,
    Stream,
    StreamContext,
    current_stream,
    default_stream,
    set_stream,
    stream,
)

__all__ = ["is_available", "device_count", "current_device", "set_device", "synchronize",
           "manual_seed", "manual_seed_all", "get_device_name", "empty_cache", "device",
           "is_bf16_supported", "max_memory_allocated", "memory_allocated",
           "reset_peak_memory_stats", "memory_reserved", "get_device_capability",
           "Stream", "Event", "StreamContext", "stream", "current_stream", "default_stream",
           "set_stream", "CUDAGraph", "graph", "graph_pool_handle",
           "is_current_stream_capturing", "make_graphed_callables", "is_initialized"]


def is_available() -> bool:
    """True when CuPy is installed and sees a GPU."""
    return _device.cuda_available()


def is_initialized() -> bool:
    """Whether ember's CUDA state is set up: CuPy loaded and a GPU seen (False until CUDA
    is first used, and always without CUDA)."""
    return _device._cupy is not None


def device_count() -> int:
    """The number of visible GPUs (0 without CuPy)."""
    if not is_available():
        return 0
    return _device.cupy_module().cuda.runtime.getDeviceCount()


def current_device() -> int:
    """The index of the current CUDA device."""
    return _device.cupy_module().cuda.runtime.getDevice()


def set_device(d) -> None:
    """Makes ``d`` the current CUDA device."""
    idx = d if isinstance(d, int) else _device.device(d).index or 0
    _device.cupy_module().cuda.Device(idx).use()


def synchronize(device=None) -> None:
    """Waits for all kernels on the device to finish (a no-op without CUDA)."""
    if is_available():
        _device.cupy_module().cuda.Device().synchronize()


def manual_seed(seed: int) -> None:
    """Seeds the current CUDA device's generator."""
    _random.cuda_manual_seed_all(seed)


def manual_seed_all(seed: int) -> None:
    """Seeds every CUDA device's generator (a no-op without CUDA)."""
    _random.cuda_manual_seed_all(seed)


def get_device_name(d=None) -> str:
    """The name of a CUDA device."""
    cp = _device.cupy_module()
    idx = 0 if d is None else (d if isinstance(d, int) else _device.device(d).index or 0)
    props = cp.cuda.runtime.getDeviceProperties(idx)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else name


def empty_cache() -> None:
    """Releases cached GPU memory held by CuPy's pool (a no-op without CUDA)."""
    if is_available():
        _device.cupy_module().get_default_memory_pool().free_all_blocks()


def memory_allocated(device=None) -> int:
    """Bytes currently in use by CuPy's memory pool (0 without CUDA)."""
    if not is_available():
        return 0
    return int(_device.cupy_module().get_default_memory_pool().used_bytes())


def max_memory_allocated(device=None) -> int:
    """Bytes held by CuPy's memory pool (an upper bound of the peak; 0 without CUDA)."""
    if not is_available():
        return 0
    return int(_device.cupy_module().get_default_memory_pool().total_bytes())


def memory_reserved(device=None) -> int:
    """Bytes held by CuPy's memory pool (0 without CUDA)."""
    return max_memory_allocated(device)


def get_device_capability(d=None) -> tuple:
    """``(major, minor)`` compute capability of a CUDA device."""
    cp = _device.cupy_module()
    idx = 0 if d is None else (d if isinstance(d, int) else _device.device(d).index or 0)
    props = cp.cuda.runtime.getDeviceProperties(idx)
    return int(props["major"]), int(props["minor"])


def reset_peak_memory_stats(device=None) -> None:
    """Accepted for compatibility."""


def is_bf16_supported() -> bool:
    """False: ember computes bfloat16 through float32 on the GPU."""
    return False


class device:
    """Context manager that makes a CUDA device current."""

    def __init__(self, d):
        self.idx = d if isinstance(d, int) else _device.device(d).index or 0

    def __enter__(self):
        self._ctx = _device.cupy_module().cuda.Device(self.idx)
        self._ctx.__enter__()

    def __exit__(self, *exc):
        self._ctx.__exit__(*exc)


def __getattr__(name: str):
    # ``ember.cuda.amp`` imports ember.amp, which needs the rest of ember: load it on first use
    if name == "amp":
        import importlib

        return importlib.import_module(".amp", __name__)
    from .._legacy_types import CUDA_LEGACY_TYPES  # ember.cuda.FloatTensor, ...

    if name in CUDA_LEGACY_TYPES:
        return CUDA_LEGACY_TYPES[name]
    raise AttributeError(f"module 'ember.cuda' has no attribute '{name}'")


def _generator(device=None) -> _random.Generator:
    """The default generator of a CUDA device (made on first use, as ``generator_for``)."""
    if not is_available():
        raise RuntimeError("the CUDA generators need CUDA, which is not available")
    dev = _device.to_device("cuda" if device is None else device)
    if isinstance(device, int):
        dev = _device.device("cuda", device)
    _random.generator_for(dev)
    return _random._cuda_generators[dev.index]


def get_rng_state(device="cuda"):
    """The state of a CUDA device's default generator."""
    return _generator(device).get_state()


def set_rng_state(new_state, device="cuda") -> None:
    """Restores a CUDA device's default generator."""
    _generator(device).set_state(new_state)


def get_rng_state_all() -> list:
    """The states of every CUDA device's generator (an empty list without CUDA)."""
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state_all(new_states) -> None:
    """Restores every CUDA device's generator from ``get_rng_state_all()``'s list."""
    for i, state in enumerate(new_states):
        set_rng_state(state, i)


def seed() -> None:
    """Seeds the CUDA generators non-deterministically (a no-op without CUDA)."""
    if is_available():
        import secrets

        _random.cuda_manual_seed_all(secrets.randbits(63))


def seed_all() -> None:
    """As ``seed``: every CUDA device's generator."""
    seed()
