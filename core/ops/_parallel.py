"""Intra-op parallelism: long elementwise and row-wise passes, and matrix products.

numpy runs every ufunc on one core but releases the GIL inside its loops, so the parts of an
array can be worked on by several Python threads at once: ``run_parts(fn, n)`` calls
``fn(lo, hi)`` over consecutive parts of ``range(n)`` on up to ``ember.get_num_threads()``
threads (the caller takes parts too, and waits until all are done; each thread takes the
next part when it finishes one). Each part writes only its own slice, so results are
bitwise the same for any number of threads.

``matmul(a, b)`` splits a product over rows (or columns, or the leading batch dims) the same
way, each part a single-threaded BLAS call. BLAS's own pool is then never woken by ember's
products, which matters because an OpenBLAS worker spins for a long while (~0.1 s) after
each product it took part in: on a small machine that spinning thread takes the core that the
elementwise parts that follow would run on.

The worker threads are daemons, started on first use, and dropped in a forked child (whose
copies of them do not run). A part that itself calls ``run_parts`` runs it serially, so
nothing waits on a busy worker.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
from contextlib import contextmanager
from queue import SimpleQueue

import numpy as np

from .._threads import get_num_threads
from . import _onednn

__all__ = ["run_parts", "parts_for", "matmul", "flat_map", "MIN_PART", "MIN_PART_MACS",
           "CHUNK"]

MIN_PART = 1 << 17  # elements: smaller work is not split (a hand-off costs tens of us)
MIN_PART_MACS = 1 << 25  # multiply-adds: a part of a split product takes ~1 ms at least
CHUNK = 1 << 18  # elements: one cache-sized step of a chain of passes (run_parts(chunk=))
_GEMM_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

_MAIN = threading.main_thread()
_jobs: SimpleQueue | None = None
_workers = 0
_start_lock = threading.Lock()
_local = threading.local()


class _Pieces:
    """Consecutive pieces of ``range(n)`` handed out one at a time to whichever thread asks
    next (``next`` on an ``itertools.count`` is atomic under the GIL); ``done`` is set once
    every piece has run."""

    __slots__ = ("fn", "n", "step", "count", "next", "finished", "done", "error")

    def __init__(self, fn, n, step):
        self.fn, self.n, self.step, self.error = fn, n, step, None
        self.count = -(-n // step)
        self.next = itertools.count()
        self.finished = itertools.count(1)
        self.done = threading.Event()

    def run(self):
        while True:
            i = next(self.next)
            if i >= self.count:
                return
            try:
                if self.error is None:
                    self.fn(i * self.step, min(self.n, (i + 1) * self.step))
            except BaseException as e:  # noqa: BLE001 - handed to the waiting caller
                if self.error is None:
                    self.error = e
            if next(self.finished) == self.count:
                self.done.set()


def _serve(jobs: SimpleQueue) -> None:
    _local.worker = True
    while True:
        jobs.get().run()


def _pool(n: int) -> SimpleQueue:
    """The job queue, with at least ``n`` worker threads serving it."""
    global _jobs, _workers
    with _start_lock:
        if _jobs is None:
            _jobs, _workers = SimpleQueue(), 0
        while _workers < n:
            threading.Thread(target=_serve, args=(_jobs,), daemon=True,
                             name=f"ember-intraop-{_workers}").start()
            _workers += 1
        return _jobs


def _after_fork_in_child() -> None:
    global _jobs, _workers, _start_lock, _blas_users
    _jobs, _workers, _start_lock = None, 0, threading.Lock()
    if _blas_users:  # forked inside a block: the child's BLAS gets its thread count back
        _blas_users = 0
        for lib, n in zip(_blas or [], _blas_before):
            lib.set_num_threads(n)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def parts_for(n: int, unit: int = 1, min_part: int | None = None) -> int:
    """How many parts ``run_parts`` splits ``n`` items of ``unit`` elements each into (parts
    of at least ``min_part`` elements, default ``MIN_PART``)."""
    k = min(get_num_threads(), (n * unit) // (MIN_PART if min_part is None else min_part), n)
    if k <= 1 or getattr(_local, "worker", False):
        return 1
    return k


def run_parts(fn, n: int, unit: int = 1, min_part: int | None = None,
              chunk: int | None = None, per_thread: int = 4) -> None:
    """Calls ``fn(lo, hi)`` for consecutive parts ``[lo, hi)`` covering ``range(n)``, in
    parallel when the ``n * unit`` elements are many enough; re-raises a part's error.

    With ``chunk`` (elements, e.g. ``CHUNK``) the parts are about that many elements each,
    so that a sequence of passes over a part runs on data still in cache (for a chain of
    ufuncs this is up to ~2x faster than whole-array passes, which are bound by memory
    bandwidth), their bounds set by ``n``, ``unit`` and ``chunk`` alone; without, about
    ``per_thread`` parts a thread. The threads take the parts one at a time as they finish
    the last, so a thread slowed by another process (or by a BLAS worker still spinning
    after a product, which on a 2-core machine takes the second core for ~0.1 s) does fewer
    parts instead of holding up the others."""
    k = parts_for(n, unit, min_part)
    if chunk is not None and n * unit > chunk:
        step = max(1, chunk // max(1, unit))
    elif k == 1:
        fn(0, n)
        return
    else:
        step = -(-n // (per_thread * k))
    pieces = _Pieces(fn, n, step)
    if k > 1 and pieces.count > 1:
        jobs = _pool(k - 1)
        for _ in range(min(k, pieces.count) - 1):
            jobs.put(pieces)
        pieces.run()
        pieces.done.wait()
    else:
        pieces.run()
    if pieces.error is not None:
        raise pieces.error


def flat_map(fn, out, *arrays) -> bool:
    """Calls ``fn(*parts, out=part)`` over consecutive parts of the flattened ``arrays`` and
    ``out`` (numpy arrays of one shape, all C-contiguous, each either ``out`` itself or not
    overlapping it), a cache-sized chunk at a time and in parallel when large; False
    (nothing done) when the arrays don't qualify."""
    if not out.flags.c_contiguous or any(
            type(a) is not np.ndarray or a.shape != out.shape or not a.flags.c_contiguous or
            (a.ctypes.data != out.ctypes.data and np.may_share_memory(a, out))
            for a in arrays):
        return False  # (a partly overlapping input needs numpy's own buffering)
    o = out.reshape(-1)
    flats = [a.reshape(-1) for a in arrays]

    def part(lo, hi):
        fn(*[f[lo:hi] for f in flats], out=o[lo:hi])

    run_parts(part, o.size, chunk=CHUNK)
    return True


_blas = None  # the threadpoolctl controllers of the loaded BLAS libraries, found on first use


def _blas_controllers() -> list:
    global _blas
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController

            _blas = list(ThreadpoolController().select(user_api="blas").lib_controllers)
        except Exception:  # noqa: BLE001 - no threadpoolctl, or it cannot read a library
            _blas = []
    return _blas


_blas_users = 0  # nesting depth of _one_blas_thread (main thread only)
_blas_before: list = []  # the libraries' thread counts when the outermost block entered


@contextmanager
def _one_blas_thread():
    """BLAS calls in the block run on their calling thread: each BLAS library is set to one
    thread, and set back when the outermost block leaves. Main thread only: OpenBLAS ignores
    ``openblas_set_num_threads`` from other threads once its pool runs."""
    global _blas_users, _blas_before
    libs = _blas_controllers()
    if _blas_users == 0:
        _blas_before = [lib.get_num_threads() for lib in libs]
        for lib in libs:
            lib.set_num_threads(1)
    _blas_users += 1
    try:
        yield
    finally:
        _blas_users -= 1
        if _blas_users == 0:
            for lib, n in zip(libs, _blas_before):
                lib.set_num_threads(n)


def matmul(a, b, bias=None):
    """``a @ b`` (+ ``bias``, added in place) for numpy arrays, as ``np.matmul``, with the
    product split over the threads: over the rows of ``a`` (or the columns of ``b`` when
    ``a`` has few rows) for 2-D operands, over the first batch dim (or the second) when both
    have the same batch dims. Other cases, other dtypes, small products and calls from
    threads other than the main one go to ``np.matmul`` unchanged."""
    if a.ndim >= 2 and a.size == a.shape[-1]:
        # a single row (a decoding step's GEMV): BLAS's own threads stream the matrix fastest
        # (measured: GPT-2's 49 per token, 19.6 ms; split over ember's threads, 30 ms)
        return _plain(a, b, bias)
    y = _onednn.matmul(a, b, bias)  # float32 on x86-64 Linux: oneDNN's kernels
    if y is not None:
        return y
    if a.dtype not in _GEMM_DTYPES or b.dtype != a.dtype or a.ndim < 2 or b.ndim != a.ndim \
            or a.shape[:-2] != b.shape[:-2]:
        return _plain(a, b, bias)
    m, k = a.shape[-2:]
    n = b.shape[-1]
    macs = math.prod(a.shape[:-2]) * m * n * k
    if macs < 2 * MIN_PART_MACS or k != b.shape[-2] or get_num_threads() == 1 or \
            threading.current_thread() is not _MAIN:  # see _one_blas_thread
        return _plain(a, b, bias)
    out = np.empty(a.shape[:-2] + (m, n), a.dtype)
    if a.ndim == 2:
        if m >= 4 * n or m >= 256:
            axis, span = 0, m  # rows

            def part(lo, hi):
                np.matmul(a[lo:hi], b, out=out[lo:hi])
                if bias is not None:
                    out[lo:hi] += bias
        else:
            axis, span = 1, n  # columns

            def part(lo, hi):
                o = out[:, lo:hi]
                np.matmul(a, b[:, lo:hi], out=o)
                if bias is not None:
                    o += bias[..., lo:hi]
    else:
        axis = 0 if a.shape[0] > 1 or a.ndim == 3 else 1
        span = a.shape[axis]

        def part(lo, hi):
            ix = (slice(None),) * axis + (slice(lo, hi),)
            o = out[ix]
            np.matmul(a[ix], b[ix], out=o)
            if bias is not None:
                o += bias
    unit = macs // span
    if parts_for(span, unit, MIN_PART_MACS) == 1:
        return _plain(a, b, bias)
    with _one_blas_thread():
        run_parts(part, span, unit, MIN_PART_MACS, per_thread=1)
    return out


def _plain(a, b, bias):
    y = np.matmul(a, b)
    if bias is not None:
        y += bias
    return y
