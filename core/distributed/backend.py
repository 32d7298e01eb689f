"""``ArrayBackend``: what a backend (gloo, mpi, nccl) implements for a process group.

Backends work on arrays, not tensors, with ranks counted within the group: the collective
layer (``collectives``, ``p2p``, ``object_collectives``) checks arguments, brings values to
the backend's memory (host for ``host_only`` backends) and writes results back in place.
Every method returns new arrays or ones it received; inputs are not modified.
"""

from __future__ import annotations

__all__ = ["ArrayBackend"]


class ArrayBackend:
    """The interface of a group's backend (subclasses implement every method)."""

    name = "undefined"
    #: True if the backend needs host (numpy) arrays: CUDA values are copied through host
    host_only = True
    #: the device type of the arrays the backend works on
    device = "cpu"
    rank = 0
    size = 1

    def subgroup(self, ranks: list, tag: str):
        """The backend of the subgroup of this group's ``ranks`` (None on non-members)."""
        raise NotImplementedError

    def all_reduce(self, arr, op):
        """``arr`` of every rank combined with ``op``, on every rank."""
        raise NotImplementedError

    def reduce(self, arr, root: int, op):
        """``arr`` of every rank combined with ``op`` on rank ``root`` (None elsewhere)."""
        raise NotImplementedError

    def broadcast(self, arr, root: int):
        """Rank ``root``'s ``arr``, on every rank (shaped like the local ``arr``)."""
        raise NotImplementedError

    def all_gather(self, arr) -> list:
        """The list of every rank's ``arr``, on every rank."""
        raise NotImplementedError

    def gather(self, arr, root: int):
        """The list of every rank's ``arr`` on rank ``root`` (None elsewhere)."""
        raise NotImplementedError

    def scatter(self, arrs, root: int, like):
        """Rank ``root``'s ``arrs[r]`` on rank ``r`` (``like`` gives shape and dtype)."""
        raise NotImplementedError

    def reduce_scatter(self, arrs: list, op):
        """On rank ``r``: every rank's ``arrs[r]`` combined with ``op``."""
        raise NotImplementedError

    def all_to_all(self, arrs: list, likes: list) -> list:
        """On rank ``r``: the list of every rank's ``arrs[r]`` (``likes[s]`` gives the shape
        and dtype of what rank ``s`` sends)."""
        raise NotImplementedError

    def barrier(self) -> None:
        """Returns once every rank of the group has called it."""
        raise NotImplementedError

    def send(self, arr, dst: int, tag: int = 0) -> None:
        """Sends ``arr`` to rank ``dst`` (returns once handed to the transport)."""
        raise NotImplementedError

    def recv(self, like, src: int | None, tag: int = 0):
        """Receives an array shaped like ``like`` from ``src`` (any rank if None); returns
        ``(array, source rank)``."""
        raise NotImplementedError

    def close(self) -> None:
        """Releases the backend's connections."""
        raise NotImplementedError
