"""Default timeouts, as ``torch.distributed.constants``."""

from __future__ import annotations

from datetime import timedelta

__all__ = ["default_pg_timeout", "default_pg_nccl_timeout"]

#: How long collectives and rendezvous wait before raising (PyTorch's default: 30 minutes).
default_pg_timeout: timedelta = timedelta(minutes=30)
default_pg_nccl_timeout: timedelta = timedelta(minutes=10)


def seconds(timeout) -> float:
    """A timeout (``timedelta``, seconds, or None for the default) in seconds."""
    if timeout is None:
        return default_pg_timeout.total_seconds()
    if isinstance(timeout, timedelta):
        return timeout.total_seconds()
    return float(timeout)
