"""Hardware ceilings measured in the same run: numpy float32 matmul and memory bandwidth.

Run as a child (``python -m tools.bench.ceilings``) so that numpy's BLAS sees the same thread
variables as the benchmark children; prints one tagged JSON line.
"""

import json
import time

import numpy as np

from .worker import RESULT_TAG

MATMUL_N = 2048
COPY_BYTES = 128 * 2**20
REPEATS = 3


def _best(fn, repeats=REPEATS):
    fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure():
    """``{"matmul_gflops": ..., "copy_gbs": ...}``: best-of-N float32 matmul and array copy."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((MATMUL_N, MATMUL_N), dtype=np.float32)
    b = rng.standard_normal((MATMUL_N, MATMUL_N), dtype=np.float32)
    c = np.empty_like(a)
    t_mm = _best(lambda: np.matmul(a, b, out=c))
    src = np.ones(COPY_BYTES // 4, dtype=np.float32)
    dst = np.empty_like(src)
    t_copy = _best(lambda: np.copyto(dst, src))
    return {
        "matmul_n": MATMUL_N,
        "matmul_gflops": round(2 * MATMUL_N**3 / t_mm / 1e9, 2),
        "copy_mb": COPY_BYTES // 2**20,
        "copy_gbs": round(2 * COPY_BYTES / t_copy / 1e9, 2),  # read + write
    }


if __name__ == "__main__":
    print(RESULT_TAG + json.dumps(measure()))
