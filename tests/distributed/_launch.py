"""Runs a worker function in ``world`` processes on 127.0.0.1, with a deadline.

``launch(fn, world, *args)`` calls ``fn(rank, world, port, *args)`` in each process (``fork``
by default: fast, and ``fn`` need not be picklable). A worker's exception fails the test with
its traceback; past the deadline the workers are killed and the test fails. No process is
left behind either way.
"""

import socket
import time

from ember.multiprocessing import start_processes


def free_port() -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def init(rank: int, world: int, port: int, backend: str = "gloo", timeout: float = 20.0):
    """``init_process_group`` over ``tcp://127.0.0.1:port`` with a short timeout."""
    from datetime import timedelta

    import ember.distributed as dist

    dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world, timeout=timedelta(seconds=timeout))


def launch(fn, world: int, *args, timeout: float = 30.0, start_method: str = "fork"):
    """Runs ``fn(rank, world, port, *args)`` in ``world`` processes and waits for them."""
    ctx = start_processes(fn, args=(world, free_port()) + args, nprocs=world, join=False,
                          start_method=start_method)
    deadline = time.monotonic() + timeout
    try:
        while not ctx.join(timeout=max(deadline - time.monotonic(), 0.0), grace_period=2.0):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"workers still running after {timeout:g}s")
    finally:
        for p in ctx.processes:
            if p.is_alive():
                p.kill()
            p.join()
