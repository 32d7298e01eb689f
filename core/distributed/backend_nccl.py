"""The ``nccl`` backend: collectives on CUDA tensors through ``cupy.cuda.nccl``.

Rank 0 makes the NCCL unique id and shares it through the store; each rank's communicator
is bound to the CUDA device current when the group is made (call
``ember.cuda.set_device(local_rank)`` first, as with PyTorch). Operations are queued on the
current CUDA stream; the arrays are cupy arrays.
"""

from __future__ import annotations

import json

from .backend import ArrayBackend
from .reduce_op import ReduceOp, finish_avg

__all__ = ["NCCLBackend", "nccl_module"]


def nccl_module():
    """``cupy.cuda.nccl``, or a RuntimeError saying what is missing."""
    try:
        import cupy  # noqa: F401
        from cupy.cuda import nccl
    except ImportError as e:
        raise RuntimeError("Distributed package doesn't have NCCL built in: the 'nccl' backend "
                           "of ember.distributed needs CuPy with NCCL support (pip install "
                           "cupy-cuda12x, plus the NCCL library: pip install "
                           "nvidia-nccl-cu12); use backend='gloo' on CPU") from e
    if not getattr(nccl, "available", True):
        raise RuntimeError("Distributed package doesn't have NCCL built in: CuPy was built "
                           "without NCCL (pip install nvidia-nccl-cu12)")
    return nccl


def _dtype(nccl, dt):
    import numpy as np

    table = {np.dtype(np.float16): "NCCL_FLOAT16", np.dtype(np.float32): "NCCL_FLOAT32",
             np.dtype(np.float64): "NCCL_FLOAT64", np.dtype(np.int8): "NCCL_INT8",
             np.dtype(np.uint8): "NCCL_UINT8", np.dtype(np.bool_): "NCCL_UINT8",
             np.dtype(np.int32): "NCCL_INT32", np.dtype(np.uint32): "NCCL_UINT32",
             np.dtype(np.int64): "NCCL_INT64", np.dtype(np.uint64): "NCCL_UINT64"}
    name = table.get(np.dtype(dt))
    if name is None and str(dt) == "bfloat16":
        name = "NCCL_BFLOAT16"
    if name is None or not hasattr(nccl, name):
        raise RuntimeError(f"the nccl backend does not support dtype {dt}")
    return getattr(nccl, name)


def _op(nccl, op):
    table = {ReduceOp.SUM: "NCCL_SUM", ReduceOp.AVG: "NCCL_SUM", ReduceOp.PRODUCT: "NCCL_PROD",
             ReduceOp.MIN: "NCCL_MIN", ReduceOp.MAX: "NCCL_MAX"}
    if op not in table:
        raise RuntimeError(f"the nccl backend does not support ReduceOp.{op.name}")
    return getattr(nccl, table[op])


class NCCLBackend(ArrayBackend):
    """Collectives of one NCCL communicator over cupy arrays."""

    name = "nccl"
    host_only = False
    device = "cuda"

    def __init__(self, store, rank: int, size: int, key: str = "nccl/uid"):
        import cupy

        self.cp = cupy
        self.nccl = nccl_module()
        self.rank = rank
        self.size = size
        self.store = store
        if rank == 0:
            uid = self.nccl.get_unique_id()
            store.set(key, json.dumps(list(uid)))
        else:
            uid = tuple(json.loads(store.get(key).decode()))
        self.comm = self.nccl.NcclCommunicator(size, uid, rank)

    @classmethod
    def create(cls, store, rank: int, size: int, timeout: float) -> NCCLBackend:
        """The world's communicator (the NCCL id travels through ``store``)."""
        return cls(store, rank, size)

    def subgroup(self, ranks: list, tag: str):
        if self.rank not in ranks:
            return None
        return NCCLBackend(self.store, ranks.index(self.rank), len(ranks),
                           key=f"nccl/uid/{tag}")

    def _stream(self) -> int:
        return self.cp.cuda.get_current_stream().ptr

    def _c(self, arr):
        return self.cp.ascontiguousarray(arr)

    def all_reduce(self, arr, op):
        src = self._c(arr)
        out = self.cp.empty_like(src)
        self.comm.allReduce(src.data.ptr, out.data.ptr, src.size, _dtype(self.nccl, src.dtype),
                            _op(self.nccl, op), self._stream())
        return finish_avg(op, out, self.size)

    def reduce(self, arr, root, op):
        src = self._c(arr)
        out = self.cp.empty_like(src)
        self.comm.reduce(src.data.ptr, out.data.ptr, src.size, _dtype(self.nccl, src.dtype),
                         _op(self.nccl, op), root, self._stream())
        return finish_avg(op, out, self.size) if self.rank == root else None

    def broadcast(self, arr, root):
        out = self._c(arr).copy()
        self.comm.bcast(out.data.ptr, out.size, _dtype(self.nccl, out.dtype), root,
                        self._stream())
        return out

    def all_gather(self, arr):
        src = self._c(arr)
        out = self.cp.empty((self.size,) + src.shape, src.dtype)
        self.comm.allGather(src.data.ptr, out.data.ptr, src.size,
                            _dtype(self.nccl, src.dtype), self._stream())
        return list(out)

    def _p2p(self, sends, recvs):
        self.nccl.groupStart()
        try:
            for arr, peer in sends:
                self.comm.send(arr.data.ptr, arr.size, _dtype(self.nccl, arr.dtype), peer,
                               self._stream())
            for arr, peer in recvs:
                self.comm.recv(arr.data.ptr, arr.size, _dtype(self.nccl, arr.dtype), peer,
                               self._stream())
        finally:
            self.nccl.groupEnd()

    def gather(self, arr, root):
        src = self._c(arr)
        if self.rank != root:
            self._p2p([(src, root)], [])
            return None
        out = [src if r == root else self.cp.empty_like(src) for r in range(self.size)]
        self._p2p([], [(out[r], r) for r in range(self.size) if r != root])
        return out

    def scatter(self, arrs, root, like):
        if self.rank == root:
            self._p2p([(self._c(arrs[r]), r) for r in range(self.size) if r != root], [])
            return arrs[root]
        out = self.cp.empty(like.shape, like.dtype)
        self._p2p([], [(out, root)])
        return out

    def reduce_scatter(self, arrs, op):
        src = self._c(self.cp.stack(arrs))
        out = self.cp.empty_like(src[0])
        self.comm.reduceScatter(src.data.ptr, out.data.ptr, out.size,
                                _dtype(self.nccl, out.dtype), _op(self.nccl, op),
                                self._stream())
        return finish_avg(op, out, self.size)

    def all_to_all(self, arrs, likes):
        out = [self.cp.empty(x.shape, x.dtype) for x in likes]
        self._p2p([(self._c(arrs[r]), r) for r in range(self.size) if r != self.rank],
                  [(out[r], r) for r in range(self.size) if r != self.rank])
        out[self.rank] = self._c(arrs[self.rank]).copy()
        return out

    def barrier(self):
        self.all_reduce(self.cp.zeros(1, self.cp.float32), ReduceOp.SUM)
        self.cp.cuda.get_current_stream().synchronize()

    def send(self, arr, dst, tag=0):
        self._p2p([(self._c(arr), dst)], [])

    def recv(self, like, src, tag=0):
        if src is None:
            raise RuntimeError("the nccl backend cannot receive from any source; pass src")
        out = self.cp.empty(like.shape, like.dtype)
        self._p2p([], [(out, src)])
        return out, src

    def close(self):
        try:
            self.comm.destroy()
        except Exception:  # pragma: no cover
            pass
