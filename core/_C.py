"""``torch._C``: the few names of PyTorch's C extension module that libraries reach for
directly (timm, transformers: feature probes such as ``hasattr(torch._C,
'_CudaDeviceProperties')``, API-usage logging, tracing state). ember has no C extension; the
names here behave as PyTorch's do on a CPU-only build, and any other name is missing
(``AttributeError``, so ``getattr(torch._C, name, None)`` probes see None)."""

from __future__ import annotations

from ._random import Generator
from ._tensor import Tensor as TensorBase

_TensorMeta = type(TensorBase)  # the metaclass of Tensor (plain ``type`` in ember)

__all__ = ["Generator", "TensorBase", "_TensorMeta", "_log_api_usage_once", "_get_tracing_state",
           "_are_functorch_transforms_active", "_cuda_getDeviceCount", "_get_cudnn_enabled",
           "_set_grad_enabled", "_is_torch_function_enabled", "_has_torch_function"]


def _log_api_usage_once(event: str) -> None:
    """PyTorch logs library API use here; ember logs nothing."""


def _get_tracing_state():
    """None: no TorchScript tracer is active (ember.jit.trace keeps its own state)."""
    return None


def _are_functorch_transforms_active() -> bool:
    return False


def _cuda_getDeviceCount() -> int:
    from . import cuda

    return cuda.device_count()


def _get_cudnn_enabled() -> bool:
    from .backends import cudnn

    return bool(cudnn.enabled)


def _set_grad_enabled(mode: bool) -> None:
    from .autograd.grad_mode import _State

    _State.enabled = bool(mode)


def _is_torch_function_enabled() -> bool:
    return True


def _has_torch_function(args) -> bool:
    return False


class _nn:  # noqa: N801 - torch._C._nn
    """``torch._C._nn``: the argument parser of ``Tensor.to``/``Module.to``."""

    @staticmethod
    def _parse_to(*args, **kwargs):
        """``(device, dtype, non_blocking, memory_format)`` from ``to()``'s arguments
        (``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``, keywords)."""
        from . import _device, _dtype

        dev = kwargs.get("device")
        dt = kwargs.get("dtype")
        non_blocking = bool(kwargs.get("non_blocking", False))
        memory_format = kwargs.get("memory_format")
        for a in args:
            if isinstance(a, TensorBase):
                dev, dt = a.device, a.dtype
            elif isinstance(a, _dtype.dtype):
                dt = a
            elif isinstance(a, bool):
                non_blocking = a
            elif isinstance(a, (str, int, _device.device)):
                dev = a
        if dev is not None:
            dev = _device.device(dev) if not isinstance(dev, _device.device) else dev
        if dt is not None:
            dt = _dtype.to_dtype(dt)
        return dev, dt, non_blocking, memory_format
