"""Point-to-point messages: ``send``, ``recv``, ``isend``, ``irecv``, ``P2POp`` and
``batch_isend_irecv``, as in ``torch.distributed``.

Sends return once the data is handed to the network (the receiver buffers it), so a send
never waits for the matching receive; ``irecv`` receives on a thread, and its ``Work``'s
``wait()`` completes it. ``dst``/``src`` are global ranks; ``src=None`` receives from any rank.
"""

from __future__ import annotations

from ._tensors import array_of, check_tensor, group_root, resolve_or_warn, write
from .work import Work

__all__ = ["send", "recv", "isend", "irecv", "P2POp", "batch_isend_irecv"]


def _peer(pg, rank, group_rank, what: str) -> int:
    r = group_root(pg, rank, group_rank, what)
    if r == pg.rank():
        kind = "destination" if what == "dst" else "source"
        raise ValueError(f"Invalid {kind} rank: should not be the same as the rank of the "
                         "current process.")
    return r


def send(tensor, dst: int | None = None, group=None, tag: int = 0,
         group_dst: int | None = None) -> None:
    """Sends ``tensor`` to rank ``dst``."""
    check_tensor(tensor, "tensor")
    pg = resolve_or_warn(group, "send")
    if pg is None:
        return
    pg._impl.send(array_of(pg, tensor), _peer(pg, dst, group_dst, "dst"), tag)


def _recv_into(pg, tensor, src_group_rank, tag):
    arr, r = pg._impl.recv(array_of(pg, tensor), src_group_rank, tag)
    write(tensor, arr)
    return [tensor], pg._ranks[r]


def recv(tensor, src: int | None = None, group=None, tag: int = 0,
         group_src: int | None = None) -> int:
    """Receives into ``tensor`` from rank ``src`` (any rank if None); returns the sender's
    global rank (-1 outside the group)."""
    check_tensor(tensor, "tensor")
    pg = resolve_or_warn(group, "recv")
    if pg is None:
        return -1
    r = None if src is None and group_src is None else _peer(pg, src, group_src, "src")
    return _recv_into(pg, tensor, r, tag)[1]


def isend(tensor, dst: int | None = None, group=None, tag: int = 0,
          group_dst: int | None = None) -> Work | None:
    """``send`` returning a ``Work``."""
    pg = resolve_or_warn(group, "isend")
    if pg is None:
        return None
    send(tensor, dst, group, tag, group_dst)
    return Work([tensor])


def irecv(tensor, src: int | None = None, group=None, tag: int = 0,
          group_src: int | None = None) -> Work | None:
    """Starts receiving into ``tensor``; ``wait()`` on the returned ``Work`` completes it
    (``source_rank()`` names the sender)."""
    check_tensor(tensor, "tensor")
    pg = resolve_or_warn(group, "irecv")
    if pg is None:
        return None
    r = None if src is None and group_src is None else _peer(pg, src, group_src, "src")
    return Work(fn=lambda: _recv_into(pg, tensor, r, tag))


class P2POp:
    """One operation of ``batch_isend_irecv``: ``P2POp(dist.isend, tensor, peer)``."""

    def __init__(self, op, tensor, peer: int | None = None, group=None, tag: int = 0,
                 group_peer: int | None = None):
        if op not in (isend, irecv, send, recv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type "
                             "``torch.distributed.isend`` or ``torch.distributed.irecv``.")
        self.op = op
        self.tensor = tensor
        self.peer = peer
        self.group = group
        self.tag = tag
        self.group_peer = group_peer


def batch_isend_irecv(p2p_op_list) -> list:
    """Runs the receives and sends of ``p2p_op_list``; returns their ``Work`` objects."""
    if not p2p_op_list or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to to be of type "
                         "``torch.distributed.P2POp``.")
    works = [None] * len(p2p_op_list)
    for i, p in enumerate(p2p_op_list):  # post receives first: they run on threads
        if p.op in (irecv, recv):
            works[i] = irecv(p.tensor, p.peer, p.group, p.tag, p.group_peer)
    for i, p in enumerate(p2p_op_list):
        if p.op in (isend, send):
            works[i] = isend(p.tensor, p.peer, p.group, p.tag, p.group_peer)
    return works
