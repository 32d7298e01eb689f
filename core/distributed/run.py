"""``python -m ember.distributed.run``: a ``torchrun``-style launcher for one node (or
several, with a fixed master).

Starts ``--nproc_per_node`` copies of a training script with the environment
``init_process_group()`` reads (``MASTER_ADDR``, ``MASTER_PORT``, ``RANK``, ``LOCAL_RANK``,
``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``, ``GROUP_RANK``, ``TORCHELASTIC_RUN_ID``)::

    python -m ember.distributed.run --nproc_per_node 2 train.py --epochs 3

If a worker fails, the others are terminated and the launcher exits with the failed
worker's code. Elastic membership (``--rdzv_*``, restarts) is not supported: those flags are
accepted and ignored, and ``--max_restarts`` must be 0.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

__all__ = ["main", "parse_args"]


def parse_args(argv=None) -> argparse.Namespace:
    """The launcher's command line (torchrun's names, ``-`` and ``_`` spellings)."""
    p = argparse.ArgumentParser(prog="python -m ember.distributed.run",
                                description="Runs a script in several processes.")
    p.add_argument("--nnodes", type=str, default="1")
    p.add_argument("--nproc_per_node", "--nproc-per-node", type=str, default="1")
    p.add_argument("--node_rank", "--node-rank", type=int, default=0)
    p.add_argument("--master_addr", "--master-addr", type=str, default="127.0.0.1")
    p.add_argument("--master_port", "--master-port", type=int, default=None)
    p.add_argument("--standalone", action="store_true")
    p.add_argument("--max_restarts", "--max-restarts", type=int, default=0)
    for flag in ("--rdzv_backend", "--rdzv_endpoint", "--rdzv_id", "--rdzv_conf",
                 "--monitor_interval", "--start_method", "--log_dir", "--redirects",
                 "--tee", "--local_addr", "--role"):
        p.add_argument(*dict.fromkeys((flag, flag.replace("_", "-"))), type=str, default=None)
    p.add_argument("-m", "--module", action="store_true",
                   help="run the script as a module (python -m)")
    p.add_argument("--no_python", "--no-python", action="store_true")
    p.add_argument("training_script", type=str)
    p.add_argument("training_script_args", nargs=argparse.REMAINDER)
    return p.parse_args(argv)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def _nproc(value: str) -> int:
    if value in ("auto", "cpu"):
        return os.cpu_count() or 1
    if value == "gpu":
        from ... import cuda

        return max(cuda.device_count(), 1)
    return int(value)


def main(argv=None) -> int:
    """Runs the workers; returns the exit code (0 when all succeed)."""
    args = parse_args(argv)
    if args.max_restarts:
        raise SystemExit("ember.distributed.run: --max_restarts is not supported")
    nnodes = int(args.nnodes.split(":")[-1])
    nproc = _nproc(args.nproc_per_node)
    port = args.master_port or (_free_port() if nnodes == 1 else 29500)
    world = nnodes * nproc
    run_id = args.rdzv_id or uuid.uuid4().hex
    if args.no_python:
        cmd = [args.training_script]
    elif args.module:
        cmd = [sys.executable, "-u", "-m", args.training_script]
    else:
        cmd = [sys.executable, "-u", args.training_script]
    cmd += args.training_script_args
    procs = []
    for local in range(nproc):
        rank = args.node_rank * nproc + local
        env = dict(os.environ, MASTER_ADDR=args.master_addr, MASTER_PORT=str(port),
                   RANK=str(rank), LOCAL_RANK=str(local), WORLD_SIZE=str(world),
                   LOCAL_WORLD_SIZE=str(nproc), GROUP_RANK=str(args.node_rank),
                   ROLE_RANK=str(rank), ROLE_WORLD_SIZE=str(world),
                   TORCHELASTIC_RUN_ID=run_id)
        if nproc > 1:  # as torchrun: one thread per worker unless told otherwise
            env.setdefault("OMP_NUM_THREADS", "1")
        procs.append(subprocess.Popen(cmd, env=env))
    code = 0
    try:
        while procs:
            for p in list(procs):
                rc = p.poll()
                if rc is None:
                    continue
                procs.remove(p)
                if rc != 0:
                    code = rc
                    raise ChildProcessError
            time.sleep(0.05)
    except (ChildProcessError, KeyboardInterrupt):
        for p in procs:
            p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for p in procs:
            try:
                p.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if code == 0:
            code = 130
    return code


if __name__ == "__main__":
    sys.exit(main())
