"""Process-wide settings of the ``torch.*`` namespace that programs call at start-up:
matmul precision, determinism, warn-always, anomaly mode, and device/buffer helpers.

ember's float32 products always run in float32 (no TF32 or bfloat16 shortcuts) and its CPU
ops are deterministic, so the precision and determinism settings are recorded and reported
back without changing results.
"""

from __future__ import annotations

import warnings

import numpy as np

from .autograd.anomaly_mode import _Anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled

__all__ = ["set_float32_matmul_precision", "get_float32_matmul_precision",
           "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "set_deterministic_debug_mode",
           "get_deterministic_debug_mode", "set_warn_always", "is_warn_always_enabled",
           "set_flush_denormal", "is_anomaly_enabled", "set_anomaly_enabled",
           "is_anomaly_check_nan_enabled", "get_device", "is_storage", "get_device_module",
           "frombuffer", "from_dlpack", "_standard_gamma", "_sample_dirichlet"]

_STATE = {"precision": "highest", "deterministic": False, "warn_only": False,
          "warn_always": False}
_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_float32_matmul_precision(precision: str) -> None:
    """Records ``"highest"``, ``"high"`` or ``"medium"`` (ember always multiplies float32 in
    float32, which every level permits); another value warns and changes nothing."""
    if precision not in ("highest", "high", "medium"):  # PyTorch warns and ignores it
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "setFloat32MatmulPrecision call has no effect.", stacklevel=2)
        return
    _STATE["precision"] = precision


def get_float32_matmul_precision() -> str:
    """The level last set (``"highest"`` by default)."""
    return _STATE["precision"]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Records the determinism request (ember's ops are deterministic on the CPU)."""
    _STATE["deterministic"] = bool(mode)
    _STATE["warn_only"] = bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _STATE["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _STATE["warn_only"]


def set_deterministic_debug_mode(debug_mode) -> None:
    """``"default"``/0, ``"warn"``/1 or ``"error"``/2, as PyTorch."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, "
                               f"`warn`, `error`, but got {debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    if not _STATE["deterministic"]:
        return 0
    return 1 if _STATE["warn_only"] else 2


def set_warn_always(b: bool) -> None:
    _STATE["warn_always"] = bool(b)


def is_warn_always_enabled() -> bool:
    return _STATE["warn_always"]


def set_flush_denormal(mode: bool) -> bool:
    """False: numpy gives no control of flush-to-zero, so the request is not supported."""
    return False


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Turns anomaly detection on or off for the process (``torch.set_anomaly_enabled``)."""
    _Anomaly.enabled = bool(enabled)
    _Anomaly.check_nan = bool(check_nan)


def get_device(input) -> int:
    """-1 for a CPU tensor, else its CUDA device index."""
    d = input.device
    return -1 if d.type == "cpu" else (d.index or 0)


def is_storage(obj) -> bool:
    """False: ember tensors expose no separate storage objects."""
    return False


def get_device_module(device=None):
    """``ember.cuda`` for a CUDA device (the default when one is present), else ember.cpu."""
    from . import _device as D

    if device is None:
        kind = "cuda" if D.cuda_available() else "cpu"
    else:
        kind = device if isinstance(device, str) else D.device(device).type
        kind = kind.split(":")[0]
    if kind == "cuda":
        from . import cuda

        return cuda
    if kind == "cpu":
        from . import cpu

        return cpu
    raise RuntimeError(f"Device '{kind}' does not have a corresponding module registered as "
                       f"'ember.{kind}'.")


def frombuffer(buffer, *, dtype, count: int = -1, offset: int = 0,
               requires_grad: bool = False):
    """A 1-D tensor sharing ``buffer``'s memory (``torch.frombuffer``)."""
    import warnings

    from ._dtype import to_dtype
    from ._tensor import Tensor

    d = to_dtype(dtype)
    arr = np.frombuffer(buffer, dtype=d.np, count=count, offset=offset)
    if not arr.flags.writeable:
        warnings.warn("The given buffer is not writable, and PyTorch does not support "
                      "non-writable tensors.", UserWarning, stacklevel=2)
    t = Tensor._make(arr)
    return t.requires_grad_(True) if requires_grad else t


def from_dlpack(ext_tensor):
    """A tensor sharing the memory of any DLPack producer (numpy, CuPy, PyTorch...)."""
    from ._tensor import Tensor

    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    if type(ext_tensor).__name__ == "PyCapsule":  # a legacy capsule (to_dlpack): host memory
        ext_tensor = _Capsule(ext_tensor)
    kind = ext_tensor.__dlpack_device__()[0] if hasattr(ext_tensor, "__dlpack_device__") \
        else 1
    if kind == 1:  # kDLCPU
        return Tensor._make(np.from_dlpack(ext_tensor))
    from ._device import cupy_module

    return Tensor._make(cupy_module().from_dlpack(ext_tensor))


class _Capsule:
    """Presents a bare DLPack capsule through the ``__dlpack__`` protocol (host memory)."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)


def _standard_gamma(input, generator=None):
    """Gamma(input, 1) draws, differentiable in ``input`` (``torch._standard_gamma``)."""
    from .distributions._ops import standard_gamma

    return standard_gamma(input, generator)


def _sample_dirichlet(input, generator=None):
    """Dirichlet(input) draws over the last dim (``torch._sample_dirichlet``)."""
    from .distributions._ops import dirichlet

    return dirichlet(input, generator)
