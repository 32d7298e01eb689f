"""Devices: ``ember.device`` and the array module (numpy or cupy) behind each one.

cpu arrays are numpy arrays; ``cuda:N`` arrays are cupy arrays. cupy is imported here and
only here, lazily, the first time a CUDA device is used.
"""

from __future__ import annotations

import numpy as np

__all__ = ["device", "to_device", "array_module", "cupy_module", "cuda_available"]


class device:
    """A device, as ``torch.device``: ``device('cpu')``, ``device('cuda', 0)``,
    ``device('cuda:1')``. Every PyTorch device type names a device (``device('mps')``, for
    code that compares against one), but tensors can only be put on cpu, cuda and meta."""

    __slots__ = ("type", "index")

    def __new__(cls, type_or_str=None, index: int | None = None):
        if isinstance(type_or_str, device):
            return type_or_str
        if isinstance(type_or_str, int):  # device(0) means cuda:0, as in PyTorch
            type_or_str, index = "cuda", type_or_str
        text = str(type_or_str)
        if ":" in text:
            if index is not None:
                raise ValueError(f"device(): type (string) must not include an index because "
                                 f"index was passed explicitly: {text}")
            text, idx = text.split(":", 1)
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type_or_str}'")
            index = int(idx)
        if text not in DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(DEVICE_TYPES)} device type at start "
                               f"of device string: {text}")
        key = (text, index)
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        self = object.__new__(cls)
        object.__setattr__(self, "type", text)
        object.__setattr__(self, "index", index)
        _CACHE[key] = self
        return self

    def __setattr__(self, name, value):
        raise AttributeError("ember.device is immutable")

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            return False  # PyTorch's devices never equal a string, even "cpu"
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __enter__(self):
        """``with ember.device("cuda"):`` makes it the factory functions' default device."""
        _DEFAULT_STACK.append(_default_device)
        set_default_device(self)
        return self

    def __exit__(self, *exc):
        set_default_device(_DEFAULT_STACK.pop())
        return False


# the device types ``device()`` accepts, as PyTorch's; tensors live on cpu, cuda and meta only
DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                "privateuseone")
_CACHE: dict = {}
CPU = device("cpu")
META = device("meta")

_cupy = None
_cupy_error: Exception | None = None


def cupy_module():
    """The cupy module, imported on first use; raises RuntimeError naming the fix if absent."""
    global _cupy, _cupy_error
    if _cupy is not None:
        return _cupy
    if _cupy_error is None:
        try:
            import cupy

            cupy.cuda.runtime.getDeviceCount()
            _cupy = cupy
            return cupy
        except Exception as exc:  # ImportError, or a CUDA driver error
            _cupy_error = exc
    raise RuntimeError(
        "ember: CUDA is not available: "
        f"{type(_cupy_error).__name__}: {_cupy_error}. Install CuPy for your CUDA version "
        "(pip install 'ember[cuda12]' or 'ember[cuda13]') on a machine with an NVIDIA GPU.")


def cuda_available() -> bool:
    """True when cupy imports and sees at least one GPU."""
    try:
        return cupy_module().cuda.runtime.getDeviceCount() > 0
    except RuntimeError:
        return False


def to_device(d) -> device:
    """Normalises a device argument (None means the default device)."""
    if d is None:
        return _default_device
    if isinstance(d, device):
        dev = d
    else:
        dev = device(d)
    if dev.type == "cuda":
        cupy_module()
        if dev.index is None:
            dev = device("cuda", cupy_module().cuda.runtime.getDevice())
    elif dev.type == "meta" and dev.index is not None:
        dev = META  # PyTorch's meta device has no index either
    elif dev.type != "cpu" and dev.type != "meta":
        raise NotImplementedError(f"ember has no {dev.type} backend: tensors live on the cpu, "
                                  "cuda and meta devices")
    return dev


def array_module(dev: device):
    """numpy for cpu, cupy for cuda, numpy with meta results (``ember._meta.META_XP``) for
    meta."""
    if dev.type == "cpu":
        return np
    if dev.type == "meta":
        from ._meta import META_XP

        return META_XP
    return cupy_module()


def device_of_array(arr) -> device:
    """The device an array lives on."""
    if type(arr) is np.ndarray:
        return CPU
    if isinstance(arr, _MetaArray):
        return META
    if isinstance(arr, np.ndarray):
        return CPU
    dev = getattr(arr, "device", None)
    if _cupy is not None and isinstance(arr, _cupy.ndarray):
        return device("cuda", dev.id)
    return CPU


from ._meta import MetaArray as _MetaArray  # noqa: E402 - after device, which it doesn't need

_default_device = CPU
_DEFAULT_STACK: list = []  # defaults saved by ``with device(...)`` blocks


def set_default_device(d) -> None:
    """Sets the device on which factory functions allocate tensors by default."""
    global _default_device
    _default_device = CPU if d is None else to_device(d)


def get_default_device() -> device:
    """The current default device."""
    return _default_device


def default_device() -> device:
    return _default_device
