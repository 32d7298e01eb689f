"""Thread settings: ``set_num_threads``/``get_num_threads`` control the BLAS thread pool
(through threadpoolctl when installed, else the environment for later-started pools)."""

from __future__ import annotations

import os

__all__ = ["set_num_threads", "get_num_threads", "set_num_interop_threads",
           "get_num_interop_threads"]

_num_threads = None
_default = None  # the count before any set_num_threads, read once (as PyTorch does at start)
_interop = 1


def get_num_threads() -> int:
    """The number of threads used for intra-op parallelism (BLAS)."""
    global _default
    if _num_threads is not None:
        return _num_threads
    if _default is None:  # (every op that may split asks: reading the environment and the
        _default = _default_threads()  # CPU affinity each time cost ~10 us a call)
    return _default


def _default_threads() -> int:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        v = os.environ.get(var)
        if v and v.isdigit():
            return int(v)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        (os.cpu_count() or 1)


def set_num_threads(n: int) -> None:
    """Sets the number of BLAS threads."""
    global _num_threads
    if int(n) < 1:
        raise RuntimeError("set_num_threads expects a positive integer")
    _num_threads = int(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=_num_threads)
    except ImportError:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(_num_threads)


def get_num_interop_threads() -> int:
    """The number of inter-op threads (ember runs ops one after another: 1)."""
    return _interop


def set_num_interop_threads(n: int) -> None:
    """Accepted for compatibility; ember runs ops one after another."""
    global _interop
    _interop = int(n)
