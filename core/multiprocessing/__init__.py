"""``ember.multiprocessing``: Python's ``multiprocessing`` plus PyTorch's additions, as
``torch.multiprocessing``.

Everything from :mod:`multiprocessing` (``Process``, ``Queue``, ``Pool``, ``get_context``,
``set_start_method``, ...) is re-exported, with ``spawn``/``start_processes`` (run
``fn(i, *args)`` in ``nprocs`` processes, re-raising a child's error with its traceback) and
the sharing-strategy functions. Importing it teaches ``multiprocessing``'s pickler to pass
shared tensors (``Tensor.share_memory_()``) as file descriptors, so a ``Queue`` or a
``spawn``-started ``Process`` maps the same memory instead of copying it.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing import *  # noqa: F403

from .._shared_memory import register_reducers
from .sharing import get_all_sharing_strategies, get_sharing_strategy, set_sharing_strategy
from .spawn import (
    ProcessContext,
    ProcessException,
    ProcessExitedException,
    ProcessRaisedException,
    SpawnContext,
    spawn,
    start_processes,
)

__all__ = list(multiprocessing.__all__) + [
    "spawn", "start_processes", "ProcessContext", "SpawnContext", "ProcessException",
    "ProcessRaisedException", "ProcessExitedException", "get_sharing_strategy",
    "set_sharing_strategy", "get_all_sharing_strategies", "init_reductions",
]


def init_reductions() -> None:
    """Registers the pickler reductions that send shared tensors as file descriptors
    (done on import; kept for PyTorch compatibility)."""
    register_reducers()


init_reductions()
