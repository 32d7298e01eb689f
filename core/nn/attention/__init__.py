"""``ember.nn.attention``: ``SDPBackend`` and ``sdpa_kernel``, as ``torch.nn.attention``.

ember computes ``scaled_dot_product_attention`` in one math form whatever backend is asked
for (the fused kernels give the same values), so ``sdpa_kernel`` only records the choice.
"""

from __future__ import annotations

import contextlib
import enum

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.IntEnum):
    """The attention kernels PyTorch can choose between."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_ALLOWED: list = [SDPBackend.MATH, SDPBackend.FLASH_ATTENTION,
                  SDPBackend.EFFICIENT_ATTENTION, SDPBackend.CUDNN_ATTENTION]


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority: bool = False):
    """Restricts attention to ``backends`` (one or a list of ``SDPBackend``) for the block."""
    if isinstance(backends, SDPBackend):
        backends = [backends]
    backends = list(backends)
    if not all(isinstance(b, SDPBackend) for b in backends):
        raise AssertionError("Backend must be an instance of SDPBackend")
    saved = list(_ALLOWED)
    _ALLOWED[:] = backends
    try:
        yield
    finally:
        _ALLOWED[:] = saved


def __getattr__(name: str):
    if name == "bias":
        import importlib

        return importlib.import_module(".bias", __name__)
    raise AttributeError(f"module 'ember.nn.attention' has no attribute '{name}'")
