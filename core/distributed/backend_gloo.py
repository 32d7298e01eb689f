"""The ``gloo`` backend: collectives in pure Python over TCP sockets between the ranks.

Every pair of ranks shares one connection (a full mesh, set up through the store: each
rank listens on a free port and publishes its address; the higher rank connects). A reader
thread per connection drains incoming messages into per-channel queues, so a blocking send
never waits for the peer to reach its matching receive, and a receive waits at most the
group's timeout. A peer that dies closes its connection: the ranks waiting on it raise at
once instead of hanging.

Reductions go through rank 0 of the group, which folds the contributions in rank order and
sends the result back, so every rank gets bit-identical values. Arrays travel as raw bytes
behind a small header (channel, dtype, shape). Subgroups (``new_group``) reuse the world's
connections on their own channel.
"""

from __future__ import annotations

import collections
import socket
import struct
import threading
import time

import numpy as np

from . import _wire
from .backend import ArrayBackend
from .errors import DistBackendError
from .reduce_op import ReduceOp, apply_op, finish_avg

__all__ = ["GlooBackend", "Mesh"]

_HELLO = struct.Struct("!4sI")
_MAGIC = b"EMBR"


class _Peer:
    def __init__(self, rank: int, sock: socket.socket, mesh: Mesh):
        self.rank = rank
        self.sock = sock
        self.send_lock = threading.Lock()
        self.error: str | None = None
        threading.Thread(target=self._read, args=(mesh,), daemon=True,
                         name=f"ember-gloo-peer{rank}").start()

    def _read(self, mesh: Mesh) -> None:
        try:
            while True:
                key, dtype, shape, buf = _wire.recv_array(self.sock)
                with mesh.cond:
                    mesh.inbox[(self.rank, key)].append((dtype, shape, buf))
                    mesh.cond.notify_all()
        except (OSError, ValueError, struct.error) as e:
            with mesh.cond:
                self.error = ("closed the connection" if isinstance(e, _wire.PeerClosed)
                              else f"failed: {e}")
                mesh.cond.notify_all()


def _local_address(store) -> str:
    """The address of this host that the store's master reaches (so other ranks can)."""
    s = store
    while hasattr(s, "underlying_store"):
        s = s.underlying_store
    sock = getattr(s, "_sock", None)
    if sock is not None:
        addr = sock.getsockname()[0]
        return addr[7:] if addr.startswith("::ffff:") else addr
    return "127.0.0.1"


class Mesh:
    """The connections of one rank to every other rank of the world."""

    def __init__(self, store, rank: int, size: int, timeout: float):
        self.rank = rank
        self.size = size
        self.timeout = timeout
        self.cond = threading.Condition()
        self.inbox: dict = collections.defaultdict(collections.deque)
        self.peers: dict[int, _Peer] = {}
        if size > 1:
            self._connect(store)

    def _connect(self, store) -> None:
        host = _local_address(store)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.bind((host, 0))
        listener.listen(self.size)
        listener.settimeout(self.timeout)
        port = listener.getsockname()[1]
        store.set(f"gloo/addr/{self.rank}", f"{host}|{port}")
        socks = {}
        try:
            for r in range(self.rank):  # connect to the lower ranks
                h, p = store.get(f"gloo/addr/{r}").decode().rsplit("|", 1)
                s = _wire.connect(h, int(p), self.timeout)
                s.sendall(_HELLO.pack(_MAGIC, self.rank))
                socks[r] = s
            deadline = time.monotonic() + self.timeout
            while len(socks) < self.size - 1:  # accept the higher ranks
                listener.settimeout(max(deadline - time.monotonic(), 0.01))
                try:
                    s, _ = listener.accept()
                except TimeoutError as e:
                    missing = sorted(set(range(self.rank + 1, self.size)) - set(socks))
                    raise DistBackendError(
                        f"[rank {self.rank}] gloo: timed out after {self.timeout:g}s waiting "
                        f"for ranks {missing} to connect") from e
                s.settimeout(self.timeout)
                magic, r = _HELLO.unpack(_wire.recv_exact(s, _HELLO.size))
                s.settimeout(None)
                if magic != _MAGIC or not self.rank < r < self.size or r in socks:
                    s.close()
                    continue
                _wire.set_nodelay(s)
                socks[r] = s
        except BaseException:
            for s in socks.values():
                s.close()
            raise
        finally:
            listener.close()
        tv = struct.pack("ll", int(self.timeout), int((self.timeout % 1) * 1e6))
        for r, s in socks.items():
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)
            except OSError:  # pragma: no cover
                pass
            self.peers[r] = _Peer(r, s, self)

    def send(self, peer: int, key: str, arr) -> None:
        """Sends ``arr`` to world rank ``peer`` on channel ``key``."""
        p = self.peers[peer]
        try:
            with p.send_lock:
                _wire.send_array(p.sock, key, arr)
        except OSError as e:
            raise DistBackendError(f"[rank {self.rank}] gloo: sending to rank {peer} failed "
                                   f"({e}); did that rank exit or time out?") from e

    def recv(self, peers, key: str, timeout: float):
        """The next message on channel ``key`` from one of ``peers``: (peer, dtype, shape,
        buffer). Raises on timeout or when a peer has gone away."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for r in peers:
                    q = self.inbox.get((r, key))
                    if q:
                        return (r,) + q.popleft()
                for r in peers:
                    if self.peers[r].error:
                        raise DistBackendError(
                            f"[rank {self.rank}] gloo: connection to rank {r} "
                            f"{self.peers[r].error} (that rank exited or failed)")
                left = deadline - time.monotonic()
                if left <= 0:
                    who = peers[0] if len(peers) == 1 else "any of " + str(list(peers))
                    raise DistBackendError(
                        f"[rank {self.rank}] gloo: timed out after {timeout:g}s waiting for "
                        f"data from rank {who}; are all ranks calling the same collectives?")
                self.cond.wait(min(left, 5.0))

    def close(self) -> None:
        """Closes the connections (the peers' pending receives fail at once)."""
        for p in self.peers.values():
            try:
                p.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            p.sock.close()
        self.peers = {}


def _check(what: str, got_dtype: str, got_shape, like, src: int, exact_shape: bool) -> None:
    want = like.dtype.str
    ok_shape = tuple(got_shape) == tuple(like.shape) if exact_shape else \
        int(np.prod(got_shape)) == like.size
    if got_dtype != want or not ok_shape:
        raise RuntimeError(
            f"ember.distributed.{what}: rank {src} sent a tensor of dtype {np.dtype(got_dtype)} "
            f"and shape {list(got_shape)}, but this rank's tensor has dtype {like.dtype} and "
            f"shape {list(like.shape)}; all ranks must pass matching tensors")


class GlooBackend(ArrayBackend):
    """Collectives of one group over the world's ``Mesh``. Ranks here are group ranks;
    arrays are numpy arrays (the caller brings CUDA values through host memory)."""

    name = "gloo"
    host_only = True
    device = "cpu"

    def __init__(self, mesh: Mesh, ranks: list, tag: str):
        self.mesh = mesh
        self.ranks = list(ranks)
        self.rank = self.ranks.index(mesh.rank)
        self.size = len(self.ranks)
        self.tag = tag
        self.timeout = mesh.timeout

    @classmethod
    def create(cls, store, rank: int, size: int, timeout: float) -> GlooBackend:
        """Connects the world (blocking until every rank has joined or ``timeout``)."""
        return cls(Mesh(store, rank, size, timeout), list(range(size)), "w")

    def subgroup(self, ranks: list, tag: str):
        """The backend of a subgroup of world ranks ``ranks`` (None if not a member)."""
        if self.mesh.rank not in ranks:
            return None
        return GlooBackend(self.mesh, ranks, tag)

    # -- messages ----------------------------------------------------------------------
    def _send(self, r: int, arr, key: str | None = None) -> None:
        self.mesh.send(self.ranks[r], key or self.tag, arr)

    def _recv(self, r: int, like, what: str, exact_shape: bool = True, key: str | None = None):
        _, dtype, shape, buf = self.mesh.recv([self.ranks[r]], key or self.tag, self.timeout)
        _check(what, dtype, shape, like, r, exact_shape)
        return buf.view(like.dtype).reshape(like.shape)

    # -- collectives -------------------------------------------------------------------
    def all_reduce(self, arr, op):
        if self.rank == 0:
            acc = self.reduce(arr, 0, op)
            for r in range(1, self.size):
                self._send(r, acc)
            return acc
        self._send(0, arr)
        return self._recv(0, arr, "all_reduce")

    def reduce(self, arr, root: int, op):
        if self.rank != root:
            self._send(root, arr)
            return None
        parts = [arr if r == root else self._recv(r, arr, "reduce") for r in range(self.size)]
        acc = np.array(parts[0], copy=True)
        for x in parts[1:]:
            apply_op(op, acc, x)
        return finish_avg(op, acc, self.size)

    def broadcast(self, arr, root: int):
        if self.rank == root:
            for r in range(self.size):
                if r != root:
                    self._send(r, arr)
            return arr
        return self._recv(root, arr, "broadcast", exact_shape=False)

    def all_gather(self, arr) -> list:
        for r in range(self.size):
            if r != self.rank:
                self._send(r, arr)
        return [arr if r == self.rank else self._recv(r, arr, "all_gather")
                for r in range(self.size)]

    def gather(self, arr, root: int):
        if self.rank != root:
            self._send(root, arr)
            return None
        return [arr if r == root else self._recv(r, arr, "gather") for r in range(self.size)]

    def scatter(self, arrs, root: int, like):
        if self.rank == root:
            for r in range(self.size):
                if r != root:
                    self._send(r, arrs[r])
            return arrs[root]
        return self._recv(root, like, "scatter")

    def reduce_scatter(self, arrs: list, op):
        for r in range(self.size):
            if r != self.rank:
                self._send(r, arrs[r])
        mine = arrs[self.rank]
        parts = [mine if r == self.rank else self._recv(r, mine, "reduce_scatter")
                 for r in range(self.size)]
        acc = np.array(parts[0], copy=True)
        for x in parts[1:]:
            apply_op(op, acc, x)
        return finish_avg(op, acc, self.size)

    def all_to_all(self, arrs: list, likes: list) -> list:
        for r in range(self.size):
            if r != self.rank:
                self._send(r, arrs[r])
        return [arrs[r] if r == self.rank else self._recv(r, likes[r], "all_to_all")
                for r in range(self.size)]

    def barrier(self) -> None:
        self.all_reduce(np.zeros(1, np.uint8), ReduceOp.SUM)

    # -- point to point ----------------------------------------------------------------
    def send(self, arr, dst: int, tag: int = 0) -> None:
        self._send(dst, arr, key=f"{self.tag}/p2p/{tag}")

    def recv(self, like, src: int | None, tag: int = 0):
        """Receives into a new array shaped like ``like``; returns (array, source rank)."""
        key = f"{self.tag}/p2p/{tag}"
        peers = [self.ranks[src]] if src is not None else \
            [g for g in self.ranks if g != self.mesh.rank]
        g, dtype, shape, buf = self.mesh.recv(peers, key, self.timeout)
        r = self.ranks.index(g)
        _check("recv", dtype, shape, like, r, exact_shape=False)
        return buf.view(like.dtype).reshape(like.shape), r

    def close(self) -> None:
        if self.tag == "w":
            self.mesh.close()
