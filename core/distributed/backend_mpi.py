"""The ``mpi`` backend: collectives through ``mpi4py`` (rank and world size come from the MPI
launcher, ``mpirun -n N python train.py``). Arrays are numpy arrays (CUDA values go through
host memory)."""

from __future__ import annotations

import numpy as np

from .backend import ArrayBackend
from .reduce_op import ReduceOp, finish_avg

__all__ = ["MPIBackend", "mpi_module"]


def mpi_module():
    """``mpi4py.MPI``, or a RuntimeError naming the install command."""
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise RuntimeError("Distributed package doesn't have MPI built in: the 'mpi' backend "
                           "of ember.distributed needs mpi4py (pip install mpi4py) and an MPI "
                           "library") from e
    return MPI


def _op(MPI, op):
    table = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
             ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND,
             ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}
    return table[op]


class MPIBackend(ArrayBackend):
    """Collectives of one MPI communicator (group ranks are the communicator's ranks)."""

    name = "mpi"
    host_only = True
    device = "cpu"

    def __init__(self, comm):
        self.MPI = mpi_module()
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()

    @classmethod
    def create(cls) -> MPIBackend:
        """The backend of ``MPI.COMM_WORLD``."""
        return cls(mpi_module().COMM_WORLD)

    def subgroup(self, ranks: list, tag: str):
        grp = self.comm.Get_group().Incl(list(ranks))
        comm = self.comm.Create_group(grp)
        if comm == self.MPI.COMM_NULL:
            return None
        return MPIBackend(comm)

    def all_reduce(self, arr, op):
        out = np.ascontiguousarray(arr).copy()
        self.comm.Allreduce(self.MPI.IN_PLACE, out, op=_op(self.MPI, op))
        return finish_avg(op, out, self.size)

    def reduce(self, arr, root, op):
        src = np.ascontiguousarray(arr)
        out = np.empty_like(src) if self.rank == root else None
        self.comm.Reduce(src, out, op=_op(self.MPI, op), root=root)
        return finish_avg(op, out, self.size) if out is not None else None

    def broadcast(self, arr, root):
        out = np.ascontiguousarray(arr).copy()
        self.comm.Bcast(out, root=root)
        return out

    def all_gather(self, arr):
        src = np.ascontiguousarray(arr)
        out = np.empty((self.size,) + src.shape, src.dtype)
        self.comm.Allgather(src, out)
        return list(out)

    def gather(self, arr, root):
        src = np.ascontiguousarray(arr)
        out = np.empty((self.size,) + src.shape, src.dtype) if self.rank == root else None
        self.comm.Gather(src, out, root=root)
        return list(out) if out is not None else None

    def scatter(self, arrs, root, like):
        src = np.ascontiguousarray(np.stack(arrs)) if self.rank == root else None
        out = np.empty(like.shape, like.dtype)
        self.comm.Scatter(src, out, root=root)
        return out

    def reduce_scatter(self, arrs, op):
        total = self.all_reduce(np.stack(arrs), op)
        return total[self.rank]

    def all_to_all(self, arrs, likes):
        out = [np.empty(x.shape, x.dtype) for x in likes]
        reqs = []
        for r in range(self.size):
            reqs.append(self.comm.Isend(np.ascontiguousarray(arrs[r]), dest=r, tag=7))
            reqs.append(self.comm.Irecv(out[r], source=r, tag=7))
        self.MPI.Request.Waitall(reqs)
        return out

    def barrier(self):
        self.comm.Barrier()

    def send(self, arr, dst, tag=0):
        self.comm.Send(np.ascontiguousarray(arr), dest=dst, tag=tag)

    def recv(self, like, src, tag=0):
        out = np.empty(like.shape, like.dtype)
        status = self.MPI.Status()
        self.comm.Recv(out, source=self.MPI.ANY_SOURCE if src is None else src, tag=tag,
                       status=status)
        return out, status.Get_source()

    def close(self):
        pass
