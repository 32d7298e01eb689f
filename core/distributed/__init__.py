"""``ember.distributed``: multi-process communication, as ``torch.distributed``.

``init_process_group`` joins the processes of a job (``env://`` as ``torchrun`` sets it,
``tcp://host:port``, ``file://``, or an explicit ``store``); collectives (``all_reduce``,
``broadcast``, ``all_gather``, ...) then combine tensors across them in place. Backends:

- ``gloo``: pure Python over TCP sockets between the ranks (CPU tensors; CUDA tensors go
  through host memory). Always available.
- ``mpi``: through mpi4py (``pip install mpi4py``).
- ``nccl``: through CuPy's NCCL bindings, on CUDA tensors.

Every blocking wait (rendezvous, receive) is bounded by the group's ``timeout`` and raises
``DistBackendError``/``DistStoreError`` (``RuntimeError`` subclasses) instead of hanging; a
rank that exits makes its peers' pending operations fail at once.
"""

from __future__ import annotations

from .collectives import (
    _all_gather_base,
    _reduce_scatter_base,
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    all_reduce_coalesced,
    all_to_all,
    all_to_all_single,
    barrier,
    broadcast,
    gather,
    monitored_barrier,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
)
from .constants import default_pg_timeout
from .errors import DistBackendError, DistError, DistNetworkError, DistStoreError
from .file_store import FileStore
from .object_collectives import (
    all_gather_object,
    broadcast_object_list,
    gather_object,
    recv_object_list,
    scatter_object_list,
    send_object_list,
)
from .p2p import P2POp, batch_isend_irecv, irecv, isend, recv, send
from .process_group import (
    Backend,
    GroupMember,
    ProcessGroup,
    destroy_process_group,
    get_backend,
    get_default_backend_for_device,
    get_global_rank,
    get_group_rank,
    get_node_local_rank,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_backend_available,
    is_gloo_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
    is_torchelastic_launched,
    new_group,
)
from .reduce_op import ReduceOp, reduce_op
from .rendezvous import register_rendezvous_handler, rendezvous
from .store import HashStore, PrefixStore, Store
from .tcp_store import TCPStore
from .work import Work

__all__ = [
    "Backend", "DistBackendError", "DistError", "DistNetworkError", "DistStoreError",
    "FileStore", "GroupMember", "HashStore", "P2POp", "PrefixStore", "ProcessGroup",
    "ReduceOp", "Store", "TCPStore", "Work", "all_gather", "all_gather_into_tensor",
    "all_gather_object", "all_reduce", "all_reduce_coalesced", "all_to_all",
    "all_to_all_single", "barrier", "batch_isend_irecv", "broadcast", "broadcast_object_list",
    "default_pg_timeout", "destroy_process_group", "gather", "gather_object", "get_backend",
    "get_default_backend_for_device", "get_global_rank", "get_group_rank",
    "get_node_local_rank", "get_process_group_ranks", "get_rank", "get_world_size", "group",
    "init_process_group", "irecv", "is_available", "is_backend_available",
    "is_gloo_available", "is_initialized", "is_mpi_available", "is_nccl_available",
    "is_torchelastic_launched", "isend", "monitored_barrier", "new_group", "recv",
    "recv_object_list", "reduce", "reduce_op", "reduce_scatter", "reduce_scatter_tensor",
    "register_rendezvous_handler", "rendezvous", "scatter", "scatter_object_list", "send",
    "send_object_list", "_all_gather_base", "_reduce_scatter_base",
]

_LAZY = ("tensor", "device_mesh", "fsdp", "checkpoint", "_functional_collectives",
         "_composable", "algorithms")


def __getattr__(name: str):
    # the declared-only sharding packages (DTensor, FSDP, ...) load on first use
    if name in _LAZY:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'ember.distributed' has no attribute '{name}'")
