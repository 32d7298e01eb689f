"""Framing on TCP sockets: lists of byte strings (the store protocol) and arrays (the gloo
backend: a small header naming the channel, dtype and shape, then the raw bytes)."""

from __future__ import annotations

import socket
import struct
import time

import numpy as np

from .errors import DistNetworkError

__all__ = ["recv_exact", "recv_into", "send_parts", "recv_parts", "send_array",
           "recv_array", "connect", "set_nodelay"]

_COUNT = struct.Struct("!I")
_LEN = struct.Struct("!Q")
_ARRAY = struct.Struct("!HHBQ")  # key length, dtype length, ndim, nbytes


class PeerClosed(ConnectionError):
    """The other end closed the connection."""


def recv_into(sock: socket.socket, view: memoryview) -> None:
    """Fills ``view`` from ``sock``; raises ``PeerClosed`` on end of stream."""
    got = 0
    n = len(view)
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            raise PeerClosed("connection closed by peer")
        got += k


def recv_exact(sock: socket.socket, n: int) -> bytes:
    """Exactly ``n`` bytes from ``sock``."""
    buf = bytearray(n)
    recv_into(sock, memoryview(buf))
    return bytes(buf)


def send_parts(sock: socket.socket, parts) -> None:
    """Sends a list of byte strings as one frame."""
    out = [_COUNT.pack(len(parts))]
    for p in parts:
        out.append(_LEN.pack(len(p)))
        out.append(p)
    sock.sendall(b"".join(out))


def recv_parts(sock: socket.socket) -> list:
    """Receives one frame sent by ``send_parts``."""
    (count,) = _COUNT.unpack(recv_exact(sock, _COUNT.size))
    parts = []
    for _ in range(count):
        (n,) = _LEN.unpack(recv_exact(sock, _LEN.size))
        parts.append(recv_exact(sock, n))
    return parts


def _raw(arr: np.ndarray) -> memoryview:
    arr = np.ascontiguousarray(arr)
    return memoryview(arr.reshape(-1).view(np.uint8))


def send_array(sock: socket.socket, key: str, arr: np.ndarray) -> None:
    """Sends ``arr`` (any dtype, any layout) on channel ``key``."""
    k = key.encode()
    d = arr.dtype.str.encode()
    head = _ARRAY.pack(len(k), len(d), arr.ndim, arr.nbytes) + k + d + \
        struct.pack(f"!{arr.ndim}Q", *arr.shape)
    sock.sendall(head)
    if arr.nbytes:
        sock.sendall(_raw(arr))


def recv_array(sock: socket.socket):
    """Receives one array frame: ``(key, dtype_str, shape, uint8 buffer)``."""
    klen, dlen, ndim, nbytes = _ARRAY.unpack(recv_exact(sock, _ARRAY.size))
    rest = recv_exact(sock, klen + dlen + 8 * ndim)
    key = rest[:klen].decode()
    dtype = rest[klen:klen + dlen].decode()
    shape = struct.unpack(f"!{ndim}Q", rest[klen + dlen:])
    buf = np.empty(nbytes, dtype=np.uint8)
    if nbytes:
        recv_into(sock, memoryview(buf))
    return key, dtype, shape, buf


def set_nodelay(sock: socket.socket) -> None:
    """Turns off Nagle's algorithm (small messages go out at once)."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:  # pragma: no cover - not a TCP socket
        pass


def connect(host: str, port: int, timeout: float) -> socket.socket:
    """Connects to ``host:port``, retrying until ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    last = None
    while True:
        left = deadline - time.monotonic()
        try:
            sock = socket.create_connection((host, port), timeout=max(min(left, 10.0), 0.1))
            sock.settimeout(None)
            set_nodelay(sock)
            return sock
        except OSError as e:
            last = e
        if time.monotonic() + delay > deadline:
            raise DistNetworkError(
                f"The client socket has timed out after {timeout:g}s while trying to connect "
                f"to ({host}, {port}): {last}")
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
