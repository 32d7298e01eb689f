"""Rendezvous: turning ``init_method`` into a store, a rank and a world size, as
``torch.distributed.rendezvous``.

``env://`` reads ``MASTER_ADDR``, ``MASTER_PORT``, ``RANK`` and ``WORLD_SIZE`` (as
``torchrun`` sets them); ``tcp://host:port`` names the master directly; ``file:///path`` uses
a ``FileStore``. ``rank`` and ``world_size`` given to ``init_process_group`` take precedence
over the environment; a URL may carry them as ``?rank=0&world_size=2``. Rank 0 hosts the
``TCPStore``.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlparse

from .tcp_store import TCPStore

__all__ = ["rendezvous", "register_rendezvous_handler"]

_handlers: dict = {}


def register_rendezvous_handler(scheme: str, handler) -> None:
    """Registers ``handler(url, rank, world_size, timeout) -> (store, rank, world_size)``
    for URLs of ``scheme``."""
    if scheme in _handlers:
        raise RuntimeError(f"Rendezvous handler for {scheme}:// already registered")
    _handlers[scheme] = handler


def _error(msg: str) -> ValueError:
    return ValueError("Error initializing torch.distributed using " + msg)


def _query(url) -> dict:
    return {k: v[-1] for k, v in parse_qs(url.query).items()}


def _rank_and_size(scheme, q, rank, world_size, env: bool):
    if rank == -1 or rank is None:
        if "rank" in q:
            rank = int(q["rank"])
        elif env and os.environ.get("RANK"):
            rank = int(os.environ["RANK"])
        else:
            raise _error(f"{scheme}:// rendezvous: " + (
                "environment variable RANK expected, but not set" if env
                else "rank parameter missing"))
    if world_size == -1 or world_size is None:
        if "world_size" in q:
            world_size = int(q["world_size"])
        elif env and os.environ.get("WORLD_SIZE"):
            world_size = int(os.environ["WORLD_SIZE"])
        else:
            raise _error(f"{scheme}:// rendezvous: " + (
                "environment variable WORLD_SIZE expected, but not set" if env
                else "world size parameter missing"))
    return int(rank), int(world_size)


def _store(host: str, port: int, rank: int, world_size: int, timeout):
    return TCPStore(host, port, world_size, is_master=rank == 0, timeout=timeout,
                    multi_tenant=True)


def _env_handler(url: str, rank: int, world_size: int, timeout):
    q = _query(urlparse(url))
    rank, world_size = _rank_and_size("env", q, rank, world_size, env=True)
    for var in ("MASTER_ADDR", "MASTER_PORT"):
        if not os.environ.get(var):
            raise _error(f"env:// rendezvous: environment variable {var} expected, but not set")
    store = _store(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), rank,
                   world_size, timeout)
    return store, rank, world_size


def _tcp_handler(url: str, rank: int, world_size: int, timeout):
    u = urlparse(url)
    if u.port is None:
        raise _error("tcp:// rendezvous: port number missing")
    rank, world_size = _rank_and_size("tcp", _query(u), rank, world_size, env=False)
    return _store(u.hostname, u.port, rank, world_size, timeout), rank, world_size


def _file_handler(url: str, rank: int, world_size: int, timeout):
    from .file_store import FileStore

    u = urlparse(url)
    if not u.path:
        raise _error("file:// rendezvous: path missing")
    rank, world_size = _rank_and_size("file", _query(u), rank, world_size, env=False)
    store = FileStore(u.path, world_size)
    store.set_timeout(timeout)
    return store, rank, world_size


register_rendezvous_handler("env", _env_handler)
register_rendezvous_handler("tcp", _tcp_handler)
register_rendezvous_handler("file", _file_handler)


def rendezvous(url: str, rank: int = -1, world_size: int = -1, timeout=None):
    """Connects to the rendezvous at ``url``; returns an iterator yielding
    ``(store, rank, world_size)`` once (as PyTorch's)."""
    if not isinstance(url, str):
        raise RuntimeError(f"`url` must be a string. {type(url)}: {url}")
    scheme = urlparse(url).scheme
    if scheme not in _handlers:
        raise RuntimeError(f"No rendezvous handler for {scheme}://")
    store, rank, world_size = _handlers[scheme](url, rank, world_size, timeout)
    if not 0 <= rank < world_size:
        raise ValueError(f"Invalid rank {rank} for world size {world_size}")
    return iter([(store, rank, world_size)])
