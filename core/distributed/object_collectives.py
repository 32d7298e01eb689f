"""Collectives on picklable Python objects: ``all_gather_object``, ``gather_object``,
``broadcast_object_list``, ``scatter_object_list``, ``send_object_list`` and
``recv_object_list``, as in ``torch.distributed``.

Objects are pickled to byte arrays (sizes travel first, then the padded bytes). As with
PyTorch, unpickling runs code chosen by the sender: use these only between trusted ranks.
"""

from __future__ import annotations

import pickle

import numpy as np

from ._tensors import group_root, resolve_or_warn, to_host, to_impl

__all__ = ["all_gather_object", "gather_object", "broadcast_object_list",
           "scatter_object_list", "send_object_list", "recv_object_list"]


def _blob(obj) -> np.ndarray:
    return np.frombuffer(pickle.dumps(obj), dtype=np.uint8)


def _padded(blob: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, np.uint8)
    out[:blob.size] = blob
    return out


def _load(arr, size: int):
    return pickle.loads(to_host(arr)[:size].tobytes())


def all_gather_object(object_list: list, obj, group=None) -> None:
    """Fills ``object_list[r]`` with ``obj`` of rank ``r``, on every rank."""
    pg = resolve_or_warn(group, "all_gather_object")
    if pg is None:
        return
    impl = pg._impl
    blob = _blob(obj)
    sizes = [int(to_host(s)[0]) for s in impl.all_gather(to_impl(pg, np.array([blob.size],
                                                                               np.int64)))]
    parts = impl.all_gather(to_impl(pg, _padded(blob, max(sizes))))
    for r, (p, n) in enumerate(zip(parts, sizes)):
        object_list[r] = _load(p, n)


def gather_object(obj, object_gather_list=None, dst: int | None = None, group=None,
                  group_dst: int | None = None) -> None:
    """Gathers ``obj`` of every rank into ``object_gather_list`` on rank ``dst``
    (default 0)."""
    pg = resolve_or_warn(group, "gather_object")
    if pg is None:
        return
    if dst is None and group_dst is None:
        dst = pg._ranks[0]
    root = group_root(pg, dst, group_dst, "dst")
    impl = pg._impl
    blob = _blob(obj)
    sizes = [int(to_host(s)[0]) for s in impl.all_gather(to_impl(pg, np.array([blob.size],
                                                                               np.int64)))]
    parts = impl.gather(to_impl(pg, _padded(blob, max(sizes))), root)
    if parts is not None:
        if object_gather_list is None or len(object_gather_list) < pg.size():
            raise ValueError("Argument ``object_gather_list`` must be specified on destination "
                             f"rank with {pg.size()} slots.")
        for r, (p, n) in enumerate(zip(parts, sizes)):
            object_gather_list[r] = _load(p, n)


def broadcast_object_list(object_list: list, src: int | None = None, group=None, device=None,
                          group_src: int | None = None) -> None:
    """Replaces ``object_list``'s items, on every rank, with those of rank ``src``
    (default 0); the lists must have the same length."""
    pg = resolve_or_warn(group, "broadcast_object_list")
    if pg is None:
        return
    if src is None and group_src is None:
        src = pg._ranks[0]
    root = group_root(pg, src, group_src, "src")
    impl = pg._impl
    me = pg.rank() == root
    blobs = [_blob(o) for o in object_list] if me else []
    sizes = np.array([b.size for b in blobs] if me else [0] * len(object_list), np.int64)
    sizes = to_host(impl.broadcast(to_impl(pg, sizes), root))
    data = np.concatenate(blobs) if me and blobs else np.zeros(int(sizes.sum()), np.uint8)
    data = to_host(impl.broadcast(to_impl(pg, data), root))
    if not me:
        off = 0
        for i, n in enumerate(sizes):
            object_list[i] = pickle.loads(data[off:off + int(n)].tobytes())
            off += int(n)


def scatter_object_list(scatter_object_output_list: list, scatter_object_input_list=None,
                        src: int | None = None, group=None,
                        group_src: int | None = None) -> None:
    """Sets ``scatter_object_output_list[0]`` on rank ``r`` to
    ``scatter_object_input_list[r]`` of rank ``src`` (default 0)."""
    pg = resolve_or_warn(group, "scatter_object_list")
    if pg is None:
        return
    if not isinstance(scatter_object_output_list, list) or not scatter_object_output_list:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at "
                         "least 1.")
    if src is None and group_src is None:
        src = pg._ranks[0]
    root = group_root(pg, src, group_src, "src")
    impl = pg._impl
    me = pg.rank() == root
    blobs = [_blob(o) for o in scatter_object_input_list] if me else []
    size_like = np.zeros(1, np.int64)
    size = impl.scatter([to_impl(pg, np.array([b.size], np.int64)) for b in blobs] if me
                        else None, root, to_impl(pg, size_like))
    longest = np.array([max(b.size for b in blobs)] if me else [0], np.int64)
    longest = int(to_host(impl.broadcast(to_impl(pg, longest), root))[0])
    part = impl.scatter([to_impl(pg, _padded(b, longest)) for b in blobs] if me else None,
                        root, to_impl(pg, np.zeros(longest, np.uint8)))
    scatter_object_output_list[0] = _load(part, int(to_host(size)[0]))


def send_object_list(object_list: list, dst: int | None = None, group=None, device=None,
                     group_dst: int | None = None) -> None:
    """Sends the objects of ``object_list`` to rank ``dst``."""
    pg = resolve_or_warn(group, "send_object_list")
    if pg is None:
        return
    peer = group_root(pg, dst, group_dst, "dst")
    blobs = [_blob(o) for o in object_list]
    pg._impl.send(to_impl(pg, np.array([b.size for b in blobs], np.int64)), peer)
    pg._impl.send(to_impl(pg, np.concatenate(blobs) if blobs else np.zeros(0, np.uint8)),
                  peer)


def recv_object_list(object_list: list, src: int | None = None, group=None, device=None,
                     group_src: int | None = None) -> int:
    """Receives objects sent by ``send_object_list`` into ``object_list``; returns the
    sender's global rank."""
    pg = resolve_or_warn(group, "recv_object_list")
    if pg is None:
        return -1
    peer = None if src is None and group_src is None else group_root(pg, src, group_src, "src")
    sizes, r = pg._impl.recv(to_impl(pg, np.zeros(len(object_list), np.int64)), peer)
    sizes = to_host(sizes)
    data, _ = pg._impl.recv(to_impl(pg, np.zeros(int(sizes.sum()), np.uint8)), r)
    data = to_host(data)
    off = 0
    for i, n in enumerate(sizes):
        object_list[i] = pickle.loads(data[off:off + int(n)].tobytes())
        off += int(n)
    return pg._ranks[r]
