"""``ember.backends.cuda``: CUDA backend flags PyTorch programs set (``matmul.allow_tf32``,
the scaled-dot-product-attention kernel switches). ember computes attention in one math form
and leaves TF32 to CuPy's defaults; the flags are accepted and stored so such programs run."""

from __future__ import annotations

import contextlib

from .. import _device

__all__ = ["is_built", "matmul", "flash_sdp_enabled", "enable_flash_sdp",
           "mem_efficient_sdp_enabled", "enable_mem_efficient_sdp", "math_sdp_enabled",
           "enable_math_sdp", "cudnn_sdp_enabled", "enable_cudnn_sdp", "sdp_kernel",
           "preferred_linalg_library", "preferred_blas_library"]


class _MatmulFlags:
    """``ember.backends.cuda.matmul``: ``allow_tf32`` and the reduced-precision flags."""

    def __init__(self):
        self._precision = "none"  # PyTorch's fp32_precision: "none" until a flag is set
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True

    @property
    def allow_tf32(self) -> bool:
        """Whether float32 matmuls may use TF32 (stored; CuPy's defaults decide)."""
        return self._precision == "tf32"

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        self._precision = "tf32" if value else "ieee"

    @property
    def fp32_precision(self) -> str:
        """PyTorch's newer spelling of ``allow_tf32``: ``"none"`` until set, then
        ``"tf32"`` or ``"ieee"``; each of the two spellings sets the other."""
        return self._precision

    @fp32_precision.setter
    def fp32_precision(self, value: str) -> None:
        self._precision = value


matmul = _MatmulFlags()
_SDP = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def is_built() -> bool:
    """True when ember can run on CUDA (CuPy importable)."""
    return _device.cuda_available()


def flash_sdp_enabled() -> bool:
    return _SDP["flash"]


def enable_flash_sdp(enabled: bool) -> None:
    _SDP["flash"] = bool(enabled)


def mem_efficient_sdp_enabled() -> bool:
    return _SDP["mem_efficient"]


def enable_mem_efficient_sdp(enabled: bool) -> None:
    _SDP["mem_efficient"] = bool(enabled)


def math_sdp_enabled() -> bool:
    return _SDP["math"]


def enable_math_sdp(enabled: bool) -> None:
    _SDP["math"] = bool(enabled)


def cudnn_sdp_enabled() -> bool:
    return _SDP["cudnn"]


def enable_cudnn_sdp(enabled: bool) -> None:
    _SDP["cudnn"] = bool(enabled)


@contextlib.contextmanager
def sdp_kernel(enable_flash: bool = True, enable_math: bool = True,
               enable_mem_efficient: bool = True, enable_cudnn: bool = True):
    """Sets the attention-kernel switches for the block (ember always computes the math
    form, whose values the fused kernels reproduce)."""
    saved = dict(_SDP)
    _SDP.update(flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient,
                cudnn=enable_cudnn)
    try:
        yield
    finally:
        _SDP.update(saved)


def preferred_linalg_library(backend=None):
    """Accepted for compatibility; returns the backend name (``default``)."""
    return backend or "default"


def preferred_blas_library(backend=None):
    """Accepted for compatibility; returns the backend name (``default``)."""
    return backend or "default"


def __getattr__(name: str):
    if name == "SDPBackend":
        from ..nn.attention import SDPBackend

        return SDPBackend
    raise AttributeError(f"module 'ember.backends.cuda' has no attribute '{name}'")
