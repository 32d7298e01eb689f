"""Glue between tensors and the array-level backends: argument checks, moving CUDA values
through host memory for the CPU backends, writing results back in place, root ranks."""

from __future__ import annotations

import warnings

import numpy as np

from .._tensor import Tensor
from .process_group import _resolve
from .work import Work

__all__ = ["check_tensor", "check_tensor_list", "array_of", "write", "to_impl", "to_host",
           "group_root", "resolve_or_warn", "finish"]


def check_tensor(t, name: str) -> None:
    """TypeError unless ``t`` is a Tensor (PyTorch's message)."""
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"torch.Tensor\n             but got {type(t)} instead.")


def check_tensor_list(ts, name: str) -> None:
    """TypeError unless ``ts`` is a list of Tensors."""
    if not isinstance(ts, (list, tuple)) or not all(isinstance(t, Tensor) for t in ts):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"List[torch.Tensor]\n             but got {type(ts)} instead.")


def to_impl(pg, arr):
    """``arr`` in the memory the group's backend works on (host for gloo/mpi, CUDA for
    nccl)."""
    if pg._impl.host_only:
        return arr if isinstance(arr, np.ndarray) else arr.get()
    if isinstance(arr, np.ndarray):
        import cupy

        return cupy.asarray(arr)
    return arr


def to_host(arr):
    """A numpy array with ``arr``'s values."""
    return arr if isinstance(arr, np.ndarray) else arr.get()


def array_of(pg, t: Tensor):
    """The values of ``t`` for the group's backend (a CPU tensor on nccl is an error)."""
    a = t._data
    if not pg._impl.host_only and isinstance(a, np.ndarray):
        raise RuntimeError(f"No backend type associated with device type cpu: the "
                           f"{pg._backend} backend needs CUDA tensors (use backend='gloo' "
                           "for CPU tensors)")
    return to_impl(pg, a)


def write(t: Tensor, values) -> None:
    """Writes ``values`` into ``t`` in place (bringing them to ``t``'s device)."""
    a = t._data
    if values is a:
        return
    if isinstance(a, np.ndarray):
        a[...] = to_host(values).reshape(a.shape)
    else:
        import cupy

        a[...] = cupy.asarray(values).reshape(a.shape)
    t._bump()


def group_root(pg, global_rank, group_rank, what: str = "src") -> int:
    """The group rank named by a global rank or a group rank (exactly one of them)."""
    if global_rank is not None and group_rank is not None:
        raise ValueError(f"Can not specify both {what} and group_{what}")
    if group_rank is not None:
        r = int(group_rank)
        if not 0 <= r < pg.size():
            raise ValueError(f"Group rank {r} is not part of group {pg}")
        return r
    if global_rank is None:
        raise ValueError(f"Either {what} or group_{what} must be set")
    if int(global_rank) not in pg._ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {pg}")
    return pg._ranks.index(int(global_rank))


def resolve_or_warn(group, op: str):
    """The process group to run ``op`` on, or None (with a warning) for a non-member."""
    pg = _resolve(group)
    if pg is None:
        warnings.warn(f"Running {op} on global rank that does not belong to the given group.",
                      stacklevel=3)
    return pg


def finish(async_op: bool, tensors=()):
    """What a collective returns: a completed ``Work`` for ``async_op``, else None."""
    return Work(list(tensors)) if async_op else None
