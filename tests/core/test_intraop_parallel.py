"""``ember.ops._parallel.run_parts``: the split (parts taken by whichever thread is free,
bounds independent of the thread count), errors raised in any part, nested calls run
serially in a worker, and a forked child gets its own workers."""

import os
import signal
import threading

import numpy as np
import pytest
from ember.ops import _parallel


@pytest.fixture
def threads(monkeypatch):
    def set_threads(n, min_part=1, min_part_macs=1000):
        monkeypatch.setattr(_parallel, "get_num_threads", lambda: n)
        monkeypatch.setattr(_parallel, "MIN_PART", min_part)
        monkeypatch.setattr(_parallel, "MIN_PART_MACS", min_part_macs)
    return set_threads


def test_parts_cover_the_range_once(threads):
    threads(4)
    seen = []
    lock = threading.Lock()

    def fn(lo, hi):
        with lock:
            seen.append((lo, hi, threading.current_thread().name))

    _parallel.run_parts(fn, 10)  # four parts a thread: 16 parts of 1 for 10 items
    assert sorted((lo, hi) for lo, hi, _ in seen) == [(i, i + 1) for i in range(10)]
    names = {name for _, _, name in seen}
    assert all(n.startswith("ember-intraop-") or n == threading.current_thread().name
               for n in names)
    seen.clear()
    _parallel.run_parts(fn, 100, per_thread=1)  # one part a thread
    assert sorted((lo, hi) for lo, hi, _ in seen) == [(0, 25), (25, 50), (50, 75), (75, 100)]


def test_chunk_bounds_do_not_depend_on_the_thread_count(threads):
    spans = []
    for n_threads in (1, 2, 3):
        threads(n_threads)
        seen: list = []
        _parallel.run_parts(lambda lo, hi, seen=seen: seen.append((lo, hi)), 50, unit=10,
                            chunk=70)
        spans.append(sorted(seen))
    assert spans[0] == spans[1] == spans[2] == [(i, min(50, i + 7)) for i in range(0, 50, 7)]


def test_a_slow_thread_takes_fewer_parts(threads):
    """A worker slowed down (as by a BLAS thread spinning on its core) leaves the remaining
    parts to the caller instead of holding it up."""
    import time

    threads(2)
    main = threading.current_thread().name
    by_main = []

    def fn(lo, hi):
        if threading.current_thread().name == main:
            by_main.append(lo)
            time.sleep(0.002)
        else:
            time.sleep(0.2)

    start = time.perf_counter()
    _parallel.run_parts(fn, 40)  # 8 parts of 5
    assert len(by_main) >= 6
    assert time.perf_counter() - start < 0.35  # the slow worker's one part, not 4 of them


def test_small_work_and_one_thread_run_in_the_caller(threads):
    calls = []
    threads(4, min_part=1000)
    _parallel.run_parts(lambda lo, hi: calls.append((lo, hi)), 1999)  # under 2 parts' worth
    threads(1)
    _parallel.run_parts(lambda lo, hi: calls.append((lo, hi)), 50)
    assert calls == [(0, 1999), (0, 50)]
    assert _parallel.parts_for(10, unit=300) == 1  # 3000 elements: 1 thread


@pytest.mark.parametrize("failing", [0, 2])
def test_an_error_in_any_part_is_raised_after_running_parts_end(threads, failing):
    threads(3)
    done = []
    bad = [0, 3, 6][failing]

    def fn(lo, hi):
        if lo == bad:
            raise ValueError(f"part {lo}")
        done.append(lo)

    with pytest.raises(ValueError, match=f"part {bad}"):
        _parallel.run_parts(fn, 9, per_thread=1)  # parts [0, 3), [3, 6), [6, 9)
    assert bad not in done  # parts not yet started when it failed are skipped
    out = np.zeros(9)  # the pool still works afterwards
    _parallel.run_parts(lambda lo, hi: out.__setitem__(slice(lo, hi), 1), 9)
    assert out.sum() == 9


def test_nested_parts_run_serially_in_a_worker(threads):
    threads(2)
    inner = []
    lock = threading.Lock()
    main = threading.current_thread().name

    def outer(lo, hi):
        def record(a, b):
            with lock:
                inner.append((lo, a, b, threading.current_thread().name))
        _parallel.run_parts(record, 8, per_thread=1)

    _parallel.run_parts(outer, 2, per_thread=1)
    for lo in (0, 1):  # each outer part's inner range covered once
        spans = sorted((a, b) for o, a, b, _ in inner if o == lo)
        assert spans in ([(0, 8)], [(0, 4), (4, 8)])
    # an outer part run by a worker runs its inner parts itself, in one call
    for lo in (0, 1):
        names = {n for o, _, _, n in inner if o == lo}
        if main not in names and len(names) == 1 and names.pop() != main:
            assert sorted((a, b) for o, a, b, _ in inner if o == lo) == [(0, 8)]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_starts_its_own_workers(threads):
    threads(2)
    _parallel.run_parts(lambda lo, hi: None, 4)  # workers running in the parent
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        signal.alarm(60)  # a hang ends the child (and fails the test) instead of the run
        code = 1
        try:
            out = np.zeros(100)
            _parallel.run_parts(lambda lo, hi: out.__setitem__(slice(lo, hi), lo + 1), 100,
                                per_thread=1)
            code = 0 if set(out) == {1, 51} else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize("shapes", [((300, 40), (40, 50)),  # rows
                                    ((20, 40), (40, 500)),  # columns
                                    ((6, 30, 40), (6, 40, 20)),  # first batch dim
                                    ((1, 6, 30, 40), (1, 6, 40, 20)),  # second batch dim
                                    ((5, 30, 40), (40, 20))])  # broadcast: np.matmul as is
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_splits_agree_with_numpy(threads, shapes, dtype):
    threads(2)
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shapes[0]).astype(dtype)
    b = rng.standard_normal(shapes[1][::-1]).astype(dtype).T if len(shapes[1]) == 2 else \
        rng.standard_normal(shapes[1]).astype(dtype)  # a transposed (strided) operand too
    got = _parallel.matmul(a, b)
    bias = rng.standard_normal(got.shape[-1]).astype(dtype)
    got_b = _parallel.matmul(a, b, bias)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, np.matmul(a, b), rtol=tol, atol=tol)
    np.testing.assert_allclose(got_b, np.matmul(a, b) + bias, rtol=tol, atol=tol)
    assert got.dtype == dtype


def test_matmul_other_cases_are_numpy(threads):
    threads(2)
    a = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(_parallel.matmul(a, a.T), a @ a.T)  # integers
    c = (np.ones((2, 3)) + 1j).astype(np.complex64)
    np.testing.assert_array_equal(_parallel.matmul(c, c.T), c @ c.T)
    z = np.zeros((0, 5), np.float32)
    assert _parallel.matmul(z, np.ones((5, 7), np.float32)).shape == (0, 7)


def test_matmul_restores_the_blas_thread_count(threads):
    threads(2)
    libs = _parallel._blas_controllers()
    before = [lib.get_num_threads() for lib in libs]
    seen = []

    def part(lo, hi):
        seen.append([lib.get_num_threads() for lib in libs])

    with _parallel._one_blas_thread():
        _parallel.run_parts(part, 2)
    assert all(n == 1 for s in seen for n in s)
    assert [lib.get_num_threads() for lib in libs] == before


def test_chunked_parts_cover_the_range_in_steps(threads):
    threads(2)
    calls = []
    lock = threading.Lock()

    def fn(lo, hi):
        with lock:
            calls.append((lo, hi))

    _parallel.run_parts(fn, 10, unit=3, chunk=9)  # 3 items a part
    assert sorted(calls) == [(0, 3), (3, 6), (6, 9), (9, 10)]
    calls.clear()
    _parallel.run_parts(fn, 4, unit=3, chunk=100)  # under one chunk: four parts a thread
    assert sorted(calls) == [(0, 1), (1, 2), (2, 3), (3, 4)]


def test_matmul_off_the_main_thread_is_numpy_as_is(threads, monkeypatch):
    threads(2)
    libs = _parallel._blas_controllers()
    before = [lib.get_num_threads() for lib in libs]
    calls = []
    monkeypatch.setattr(_parallel, "run_parts", lambda *a, **k: calls.append(a))
    a = np.ones((300, 40), np.float32)
    out = []
    t = threading.Thread(target=lambda: out.append(_parallel.matmul(a, a.T)))
    t.start()
    t.join(10)
    np.testing.assert_array_equal(out[0], a @ a.T)
    assert calls == []  # not split (OpenBLAS ignores thread counts set off the main thread)
    assert [lib.get_num_threads() for lib in libs] == before


def test_default_thread_count_is_read_once_from_the_environment():
    """As PyTorch: OMP_NUM_THREADS (else the CPU affinity) at the first ask, then kept."""
    import subprocess
    import sys

    code = ("import os, ember; a = ember.get_num_threads(); "
            "os.environ['OMP_NUM_THREADS'] = '5'; print(a, ember.get_num_threads())")
    env = {**os.environ, "OMP_NUM_THREADS": "3"}
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    assert out[-2:] == ["3", "3"]
