"""``ember.backends.cudnn``: flags PyTorch programs set. ember does not use cuDNN; the flags
are accepted and stored so such programs run unchanged."""

from __future__ import annotations

import contextlib
import sys
import types

enabled = True
benchmark = False
benchmark_limit = None  # as PyTorch reports it without cuDNN
deterministic = False
allow_tf32 = True
fp32_precision = "none"
# ``cudnn.conv.fp32_precision`` / ``cudnn.rnn.fp32_precision`` (PyTorch's per-op TF32 API)
conv = types.SimpleNamespace(fp32_precision="tf32")
rnn = types.SimpleNamespace(fp32_precision="tf32")


def is_available() -> bool:
    """False: ember does not use cuDNN."""
    return False


def version():
    """None: ember does not use cuDNN."""
    return None


def is_acceptable(tensor) -> bool:
    """False: ember never hands a tensor to cuDNN."""
    return False


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True, fp32_precision="none", depthwise_kernel="auto"):
    """Sets the stored flags for the block and restores them after (as PyTorch's
    ``cudnn.flags``; ember does not use cuDNN, so they have no effect)."""
    mod = sys.modules[__name__]
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32",
             "fp32_precision")
    saved = {n: getattr(mod, n) for n in names}
    mod.enabled, mod.benchmark, mod.benchmark_limit = enabled, benchmark, benchmark_limit
    mod.deterministic, mod.allow_tf32, mod.fp32_precision = (deterministic, allow_tf32,
                                                             fp32_precision)
    try:
        yield
    finally:
        for n, v in saved.items():
            setattr(mod, n, v)
