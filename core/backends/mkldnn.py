"""``ember.backends.mkldnn``: oneDNN flags PyTorch programs set; ember does not use oneDNN."""

from __future__ import annotations

import contextlib
import types

enabled = True
deterministic = False
allow_tf32 = False
fp32_precision = "none"
# ``mkldnn.matmul/conv/rnn.fp32_precision`` (PyTorch's per-op precision API)
matmul = types.SimpleNamespace(fp32_precision="none")
conv = types.SimpleNamespace(fp32_precision="none")
rnn = types.SimpleNamespace(fp32_precision="none")


def is_available() -> bool:
    """False: ember does not use oneDNN."""
    return False


@contextlib.contextmanager
def flags(enabled=False, deterministic=False, allow_tf32=False, fp32_precision="none"):
    """Accepted for compatibility: sets and restores the stored flags."""
    import sys

    mod = sys.modules[__name__]
    saved = (mod.enabled, mod.deterministic, mod.allow_tf32)
    mod.enabled, mod.deterministic, mod.allow_tf32 = enabled, deterministic, allow_tf32
    try:
        yield
    finally:
        mod.enabled, mod.deterministic, mod.allow_tf32 = saved
