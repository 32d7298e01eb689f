"""``ember.backends.mkldnn``: oneDNN flags PyTorch programs set; ember does not use oneDNN."""

from __future__ import annotations

import contextlib

enabled = True
deterministic = False
allow_tf32 = False


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
