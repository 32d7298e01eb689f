"""``TCPStore``: a key-value store served over TCP by one process (the master) to all
ranks, as ``torch.distributed.TCPStore``.

The master runs the server on background threads (one per client connection); every
instance, the master's included, talks to it as a client. The protocol is a private one of
framed byte strings (no pickle), so a stray connection cannot run code.
"""

from __future__ import annotations

import socket
import threading
from datetime import timedelta

from . import _wire
from .constants import seconds
from .errors import DistNetworkError, DistStoreError
from .store import Store, _as_bytes, _Table, _timeout_error

__all__ = ["TCPStore"]

_WORKERS_KEY = "__ember_tcpstore_workers__"


class _Server:
    """The master's server: a ``_Table`` answered on a listening socket."""

    def __init__(self, port: int):
        if socket.has_dualstack_ipv6():
            self.sock = socket.create_server(("", port), family=socket.AF_INET6,
                                             dualstack_ipv6=True, backlog=128)
        else:
            self.sock = socket.create_server(("", port), backlog=128)
        self.port = self.sock.getsockname()[1]
        self.table = _Table()
        self.users = 0
        self.closed = False
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True,
                         name=f"ember-tcpstore-{self.port}").start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            _wire.set_nodelay(conn)
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            while True:
                parts = _wire.recv_parts(conn)
                _wire.send_parts(conn, self._answer(parts))
        except (OSError, ValueError):
            pass
        finally:
            conn.close()

    def _answer(self, parts: list) -> list:
        t = self.table
        cmd = parts[0]
        args = [p.decode() if i == 0 else p for i, p in enumerate(parts[1:])]
        if cmd == b"set":
            t.set(args[0], parts[2])
            return [b"ok"]
        if cmd == b"get":
            v = t.get(args[0], float(parts[2]))
            return [b"timeout"] if v is None else [b"ok", v]
        if cmd == b"add":
            return [b"ok", str(t.add(args[0], int(parts[2]))).encode()]
        if cmd == b"cas":
            return [b"ok", t.compare_set(args[0], parts[2], parts[3])]
        if cmd == b"append":
            t.append(args[0], parts[2])
            return [b"ok"]
        keys = [p.decode() for p in parts[2:]]
        if cmd == b"wait":
            return [b"ok" if t.wait(keys, float(parts[1])) else b"timeout"]
        if cmd == b"check":
            return [b"ok", b"1" if t.check(keys) else b"0"]
        if cmd == b"delete":
            return [b"ok", b"1" if t.delete(args[0]) else b"0"]
        if cmd == b"numkeys":
            return [b"ok", str(len(t)).encode()]
        return [b"error", b"unknown command " + cmd]

    def close(self) -> None:
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:  # pragma: no cover
            pass
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


_servers: dict[int, _Server] = {}
_servers_lock = threading.Lock()


class TCPStore(Store):
    """A TCP-based key-value store; the ``is_master`` instance hosts the server.

    Args:
        host_name: the master's host name or address.
        port: the master's port (0 on the master picks a free one; read ``.port``).
        world_size: the number of store users; with ``wait_for_workers`` the master waits
            until that many have connected.
        is_master: whether this instance runs the server.
        timeout: how long connecting and blocking reads wait (default 300 s).
        wait_for_workers: see ``world_size``.
        multi_tenant: accepted; masters in one process share a server per port anyway.
    """

    def __init__(self, host_name: str, port: int, world_size: int | None = None,
                 is_master: bool = False, timeout=timedelta(seconds=300),
                 wait_for_workers: bool = True, multi_tenant: bool = False,
                 master_listen_fd=None, use_libuv: bool = True):
        super().__init__(timeout)
        if not 0 <= int(port) < 2 ** 16:
            raise ValueError(f"port must have value from 0 to 65535 but was {port}.")
        self.host = host_name
        self.world_size = world_size
        self._server = None
        if is_master:
            with _servers_lock:
                srv = _servers.get(int(port)) if port else None
                if srv is None or srv.closed:
                    try:
                        srv = _Server(int(port))
                    except OSError as e:
                        raise DistNetworkError(
                            f"The server socket has failed to listen on any local network "
                            f"address. port: {port}, useIpv6: False, code: {e.errno}, name: "
                            f"{e.strerror}, message: address already in use"
                            if e.errno == 98 else f"TCPStore: cannot listen on port {port}: "
                            f"{e}") from e
                    _servers[srv.port] = srv
                srv.users += 1
            self._server = srv
            port = srv.port
        self.port = int(port)
        self._lock = threading.Lock()
        self._sock = _wire.connect(host_name, self.port, self._timeout)
        self.libuvBackend = False
        if world_size is not None:
            self.add(_WORKERS_KEY, 1)
            if is_master and wait_for_workers:
                self._wait_workers(int(world_size))

    def _wait_workers(self, n: int) -> None:
        import time

        deadline = time.monotonic() + self._timeout
        while int(self._call([b"get", _WORKERS_KEY.encode(), b"0"])[0] or b"0") < n:
            if time.monotonic() > deadline:
                raise DistStoreError(
                    f"Timed out after {self._timeout:g}s waiting for {n} clients to join the "
                    f"TCPStore on port {self.port}")
            time.sleep(0.01)

    # -- protocol ----------------------------------------------------------------------
    def _call(self, parts: list) -> list:
        with self._lock:
            if self._sock is None:
                raise DistStoreError("the TCPStore is closed")
            try:
                _wire.send_parts(self._sock, parts)
                reply = _wire.recv_parts(self._sock)
            except OSError as e:
                raise DistNetworkError(f"TCPStore connection to ({self.host}, {self.port}) "
                                       f"failed: {e}") from e
        status = reply[0]
        if status == b"timeout":
            return [None]
        if status != b"ok":
            raise DistStoreError(b" ".join(reply[1:]).decode())
        return reply[1:] or [b""]

    def set(self, key, value):
        self._call([b"set", key.encode(), _as_bytes(value)])

    def get(self, key):
        v = self._call([b"get", key.encode(), str(self._timeout).encode()])[0]
        if v is None:
            raise _timeout_error([key], self._timeout)
        return v

    def add(self, key, amount):
        return int(self._call([b"add", key.encode(), str(int(amount)).encode()])[0])

    def compare_set(self, key, expected_value, desired_value):
        return self._call([b"cas", key.encode(), _as_bytes(expected_value),
                           _as_bytes(desired_value)])[0]

    def append(self, key, value):
        self._call([b"append", key.encode(), _as_bytes(value)])

    def wait(self, keys, timeout=None):
        t = self._timeout if timeout is None else seconds(timeout)
        r = self._call([b"wait", str(t).encode()] + [k.encode() for k in keys])
        if r[0] is None:
            raise _timeout_error(keys, t)

    def check(self, keys):
        return self._call([b"check", b""] + [k.encode() for k in keys])[0] == b"1"

    def delete_key(self, key):
        return self._call([b"delete", key.encode()])[0] == b"1"

    def num_keys(self):
        return int(self._call([b"numkeys"])[0])

    def close(self) -> None:
        """Closes this client; the master's server stops when its last user closes."""
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None
        srv, self._server = self._server, None
        if srv is not None:
            with _servers_lock:
                srv.users -= 1
                if srv.users <= 0:
                    srv.close()
                    _servers.pop(srv.port, None)

    def __del__(self):
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass
