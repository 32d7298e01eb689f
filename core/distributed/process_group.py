"""Process groups: ``init_process_group``, the default (WORLD) group, ``new_group`` and the
rank queries, as in ``torch.distributed``.

A ``ProcessGroup`` pairs the global ranks of its members with a backend object that runs
the collectives on arrays (``backend_gloo``, ``backend_mpi``, ``backend_nccl``). Every rank
must create groups in the same order, as with PyTorch.
"""

from __future__ import annotations

import os
import warnings
from datetime import timedelta

from .constants import default_pg_nccl_timeout, default_pg_timeout, seconds
from .rendezvous import rendezvous
from .store import HashStore, PrefixStore, Store

__all__ = ["Backend", "ProcessGroup", "GroupMember", "group", "init_process_group",
           "destroy_process_group", "is_initialized", "is_available", "get_rank",
           "get_world_size", "get_backend", "new_group", "get_group_rank", "get_global_rank",
           "get_process_group_ranks", "is_gloo_available", "is_mpi_available",
           "is_nccl_available", "is_backend_available", "is_torchelastic_launched",
           "get_node_local_rank", "get_default_backend_for_device"]


class Backend(str):
    """A backend name: ``Backend("GLOO") == "gloo"``; constants ``GLOO``, ``NCCL``, ``MPI``."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    MPI = "mpi"
    UCC = "ucc"
    backend_list = [UNDEFINED, GLOO, NCCL, UCC, MPI]
    default_device_backend_map = {"cpu": GLOO, "cuda": NCCL}

    def __new__(cls, name: str):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: "
                             f"{type(name)}")
        value = getattr(Backend, name.upper(), Backend.UNDEFINED)
        if value == Backend.UNDEFINED:
            value = name.lower()
        return super().__new__(cls, value)


_SUPPORTED = ("gloo", "mpi", "nccl")


class ProcessGroup:
    """A group of processes that run collectives together.

    ``rank()`` and ``size()`` are this process's rank in the group and the group's size;
    ``group_name`` names it.
    """

    def __init__(self, impl, ranks: list, backend: str, store, timeout: float, name: str):
        self._impl = impl
        self._ranks = list(ranks)
        self._backend = Backend(backend)
        self._store = store
        self._timeout = timeout
        self.group_name = name

    def rank(self) -> int:
        """This process's rank in the group."""
        return self._impl.rank

    def size(self) -> int:
        """The number of processes in the group."""
        return len(self._ranks)

    def name(self) -> str:
        """The backend's name (``"gloo"``)."""
        return str(self._backend)

    @property
    def group_desc(self) -> str:
        return self.group_name

    def _get_backend_name(self) -> str:
        return str(self._backend)

    def __repr__(self) -> str:
        return f"<ember.distributed.ProcessGroup {self.group_name!r} {self._backend} " \
               f"ranks={self._ranks}>"


class _NonMember:
    """The value ``new_group`` returns on processes outside the group."""

    def __repr__(self) -> str:
        return "GroupMember.NON_GROUP_MEMBER"


class _World:
    def __init__(self):
        self.reset()

    def reset(self):
        self.default_pg: ProcessGroup | None = None
        self.groups: list[ProcessGroup] = []
        self.store = None
        self.owned_store = None
        self.init_method = None
        self.group_count = 0


_world = _World()


class _WorldMeta(type):
    @property
    def WORLD(cls):  # noqa: N802
        return _world.default_pg


class GroupMember(metaclass=_WorldMeta):
    """``GroupMember.WORLD`` (the default group, None before initialisation) and
    ``GroupMember.NON_GROUP_MEMBER``."""

    NON_GROUP_MEMBER = _NonMember()


class group(metaclass=_WorldMeta):  # noqa: N801  (PyTorch's name)
    """``group.WORLD``: the default process group."""


def is_available() -> bool:
    """True: the distributed package is available (gloo always; mpi/nccl when installed)."""
    return True


def is_initialized() -> bool:
    """True once ``init_process_group`` has run (and before ``destroy_process_group``)."""
    return _world.default_pg is not None


def is_gloo_available() -> bool:
    """True: the pure-Python gloo backend is always there."""
    return True


def is_mpi_available() -> bool:
    """True if mpi4py can be imported."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def is_nccl_available() -> bool:
    """True if CuPy with NCCL can be imported."""
    try:
        from .backend_nccl import nccl_module

        nccl_module()
    except Exception:
        return False
    return True


def is_backend_available(backend: str) -> bool:
    """True if ``backend`` can be used here."""
    b = Backend(backend)
    return {"gloo": is_gloo_available, "mpi": is_mpi_available,
            "nccl": is_nccl_available}.get(b, lambda: False)()


def is_torchelastic_launched() -> bool:
    """True if this process was started by ``torchrun`` (torchelastic)."""
    return os.getenv("TORCHELASTIC_RUN_ID") is not None


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """``LOCAL_RANK`` from the environment, else ``fallback_rank``."""
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError("LOCAL_RANK is not in the environment. Consider passing fallback_rank "
                       "to allow `get_node_local_rank` to work, assuming you are not running "
                       "in a multi-device context and want the code to run locally instead.")


def get_default_backend_for_device(device) -> str:
    """``"gloo"`` for CPU, ``"nccl"`` for CUDA."""
    kind = str(device).split(":")[0]
    if kind not in Backend.default_device_backend_map:
        raise ValueError(f"Default backend not registered for device : {device}")
    return Backend.default_device_backend_map[kind]


def _get_default_group() -> ProcessGroup:
    if _world.default_pg is None:
        raise ValueError("Default process group has not been initialized, please make sure to "
                         "call init_process_group.")
    return _world.default_pg


def _resolve(grp) -> ProcessGroup | None:
    """The group to run on (the default one for None); None for a non-member."""
    default = _get_default_group()
    if grp is None or grp is default:
        return default
    if grp is GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(grp, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup, got {type(grp).__name__}")
    return grp


def _backend_name(backend, device_id) -> str:
    if backend is None or str(backend).lower() == "undefined":
        dev = str(device_id) if device_id is not None else "cpu"
        return "nccl" if dev.startswith("cuda") else "gloo"
    name = str(backend).lower()
    if "," in name or ":" in name:  # "cpu:gloo,cuda:nccl": ember uses the CPU entry
        pairs = dict(p.split(":", 1) for p in name.split(",") if ":" in p)
        name = pairs.get("cpu", next(iter(pairs.values()), name))
    name = Backend(name)
    if name not in _SUPPORTED:
        raise ValueError(f"Unknown backend type {backend}; ember.distributed supports "
                         f"{', '.join(repr(b) for b in _SUPPORTED)}")
    return str(name)


def _create_impl(name: str, store, rank: int, size: int, timeout: float):
    if name == "gloo":
        from .backend_gloo import GlooBackend

        return GlooBackend.create(store, rank, size, timeout)
    if name == "nccl":
        from .backend_nccl import NCCLBackend, nccl_module

        nccl_module()
        return NCCLBackend.create(store, rank, size, timeout)
    from .backend_mpi import MPIBackend

    return MPIBackend.create()


def init_process_group(backend=None, init_method: str | None = None,
                       timeout: timedelta | None = None, world_size: int = -1,
                       rank: int = -1, store: Store | None = None, group_name: str = "",
                       pg_options=None, device_id=None) -> None:
    """Initialises the default process group (blocks until all ``world_size`` ranks join).

    Args:
        backend: ``"gloo"`` (pure-Python TCP, CPU; CUDA tensors go through host memory),
            ``"mpi"`` (mpi4py) or ``"nccl"`` (CuPy's NCCL, CUDA tensors). Default: gloo,
            or nccl when ``device_id`` is a CUDA device.
        init_method: ``"env://"`` (default: ``MASTER_ADDR``, ``MASTER_PORT``, ``RANK``,
            ``WORLD_SIZE``), ``"tcp://host:port"`` or ``"file:///path"``. Exclusive with
            ``store``.
        timeout: how long rendezvous and collectives wait before raising (default 30 min).
        world_size, rank: the number of processes and this one's rank (from the
            environment or URL when -1).
        store: a ``Store`` all ranks share (then ``rank`` and ``world_size`` are required).
        group_name, pg_options, device_id: accepted for compatibility.
    """
    if _world.default_pg is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if store is not None and init_method is not None:
        raise ValueError("Cannot specify both init_method and store.")
    if store is not None:
        if world_size <= 0:
            raise ValueError("world_size must be positive if using store")
        if rank < 0:
            raise ValueError("rank must be non-negative if using store")
    elif init_method is None:
        init_method = "env://"
    name = _backend_name(backend, device_id)
    if timeout is None:
        timeout = default_pg_nccl_timeout if name == "nccl" else default_pg_timeout
    secs = seconds(timeout)
    owned = None
    if name == "mpi":
        from .backend_mpi import mpi_module

        mpi_module()
        if world_size != -1 or rank != -1:
            warnings.warn(f"For MPI backend, world_size ({world_size}) and rank ({rank}) are "
                          "ignored since they are assigned by the MPI runtime.", stacklevel=2)
        store = HashStore()
        impl = _create_impl(name, store, 0, 1, secs)
        world_size = impl.size
    else:
        if name == "nccl":
            from .backend_nccl import nccl_module

            nccl_module()  # fail before the rendezvous if CuPy/NCCL is missing
        if store is None:
            store, rank, world_size = next(rendezvous(init_method, rank, world_size,
                                                      timeout=timeout))
            store.set_timeout(timeout)
            owned = store
        store = PrefixStore("default_pg", store)
        try:
            impl = _create_impl(name, store, rank, world_size, secs)
        except BaseException:
            if owned is not None:
                owned.close()
            raise
    pg = ProcessGroup(impl, list(range(world_size)), name, store, secs, group_name or "0")
    _world.default_pg = pg
    _world.groups = [pg]
    _world.store = store
    _world.owned_store = owned
    _world.init_method = init_method


def destroy_process_group(group=None) -> None:
    """Destroys ``group`` (by default all groups, ending the distributed state)."""
    if group is GroupMember.NON_GROUP_MEMBER:
        return
    default = _get_default_group()
    if group is None or group is default:
        for g in reversed(_world.groups):
            try:
                g._impl.close()
            except Exception:  # pragma: no cover - best effort
                pass
        if _world.owned_store is not None:
            _world.owned_store.close()
        _world.reset()
        return
    if group not in _world.groups:
        raise ValueError("Invalid process group specified")
    _world.groups.remove(group)
    group._impl.close()


def get_rank(group=None) -> int:
    """This process's rank in ``group`` (default: the world); -1 outside the group."""
    g = _resolve(group)
    return -1 if g is None else g.rank()


def get_world_size(group=None) -> int:
    """The number of processes in ``group`` (default: the world); -1 outside the group."""
    g = _resolve(group)
    return -1 if g is None else g.size()


def get_backend(group=None) -> Backend:
    """The backend of ``group`` (default: the world)."""
    g = _resolve(group)
    if g is None:
        raise ValueError("Invalid process group specified")
    return g._backend


def get_process_group_ranks(group) -> list:
    """The global ranks of ``group``'s members."""
    g = _resolve(group)
    return list(g._ranks) if g is not None else []


def get_group_rank(group, global_rank: int) -> int:
    """The rank in ``group`` of global rank ``global_rank``."""
    g = _resolve(group)
    if g is None or global_rank not in g._ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {group}")
    return g._ranks.index(global_rank)


def get_global_rank(group, group_rank: int) -> int:
    """The global rank of rank ``group_rank`` of ``group``."""
    g = _resolve(group)
    if g is None or not 0 <= group_rank < len(g._ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {group}")
    return g._ranks[group_rank]


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization: bool = False, group_desc: str | None = None,
              device_id=None):
    """Creates a group of the global ``ranks`` (default: all). Every process must call it,
    members or not, in the same order; non-members get ``GroupMember.NON_GROUP_MEMBER``."""
    default = _get_default_group()
    _world.group_count += 1
    tag = f"g{_world.group_count}"
    world_size = default.size()
    ranks = sorted(range(world_size) if ranks is None else {int(r) for r in ranks})
    for r in ranks:
        if not 0 <= r < world_size:
            raise ValueError(f"The new group's rank should be within the world_size set by "
                             f"init_process_group, got rank {r} for world size {world_size}")
    name = default._backend if backend is None else _backend_name(backend, device_id)
    secs = default._timeout if timeout is None else seconds(timeout)
    base = default._impl
    if name != default._backend:
        base = _create_impl(name, PrefixStore(tag, default._store), default.rank(),
                            world_size, secs)
    impl = base.subgroup(ranks, tag)
    if impl is None:
        return GroupMember.NON_GROUP_MEMBER
    if hasattr(impl, "timeout"):
        impl.timeout = secs
    pg = ProcessGroup(impl, ranks, name, default._store, secs, group_desc or tag)
    _world.groups.append(pg)
    return pg
