"""Launching worker processes for ``torch.multiprocessing``: ``spawn`` and
``start_processes`` call ``fn(i, *args)`` for ``i`` in ``range(nprocs)``, each in its
own process.

When a worker raises, it pickles its formatted traceback into a per-worker temporary
file and exits with status 1. ``ProcessContext.join()`` in the parent notices the dead
worker, shuts the remaining ones down and re-raises: ``ProcessRaisedException`` with
the traceback, or ``ProcessExitedException`` for a non-zero exit status or a signal.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
import tempfile
import time
import warnings
from multiprocessing.connection import wait as _wait_any

__all__ = ["ProcessContext", "SpawnContext", "ProcessException", "ProcessRaisedException",
           "ProcessExitedException", "spawn", "start_processes"]


class ProcessException(Exception):
    """Base error for a worker process that did not finish cleanly."""

    def __init__(self, msg: str, error_index: int, error_pid: int) -> None:
        super().__init__(msg)
        self.msg, self.error_index, self.error_pid = msg, error_index, error_pid

    def _fields(self) -> tuple:
        return (self.msg, self.error_index, self.error_pid)

    def __reduce__(self):
        return self.__class__, self._fields()


class ProcessRaisedException(ProcessException):
    """A worker's function raised; ``str(e)`` contains the worker's traceback."""


class ProcessExitedException(ProcessException):
    """A worker ended with a non-zero status or was killed by a signal."""

    def __init__(self, msg: str, error_index: int, error_pid: int, exit_code: int,
                 signal_name: str | None = None) -> None:
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def _fields(self) -> tuple:
        return super()._fields() + (self.exit_code, self.signal_name)


def _child_main(fn, rank, args, report_path):
    """Body of each worker: call ``fn``; on failure leave the traceback for the parent."""
    try:
        fn(rank, *args)
    except KeyboardInterrupt:
        return  # the parent is shutting us down
    except Exception:
        import traceback

        text = traceback.format_exc()
        with open(report_path, "wb") as out:
            pickle.dump(text, out)
        sys.exit(1)


def _signal_label(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"<Unknown signal {-code}>"


class ProcessContext:
    """Handle on the workers made by ``start_processes``; poll them with ``join()``."""

    def __init__(self, processes, error_files) -> None:
        self.processes = processes
        self.error_files = error_files
        # sentinel -> worker index, for the workers not yet reaped
        self.sentinels = {proc.sentinel: rank for rank, proc in enumerate(processes)}

    def pids(self) -> list:
        """Process ids of the workers."""
        return [int(proc.pid) for proc in self.processes]

    def _wait_for_all(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        for proc in self.processes:
            proc.join(max(0.0, deadline - time.monotonic()))

    def _first_failure(self, timeout: float | None) -> int | None:
        """Reaps the workers that ended within ``timeout``; the index of a failed one."""
        for sentinel in _wait_any(list(self.sentinels), timeout=timeout):
            rank = self.sentinels.pop(sentinel)
            proc = self.processes[rank]
            proc.join()
            if proc.exitcode != 0:
                return rank
        return None

    def _shut_down(self, grace_period: float | None) -> None:
        if grace_period is not None:  # let the others finish on their own first
            self._wait_for_all(grace_period)
        for proc in self.processes:
            if proc.is_alive():
                proc.terminate()
        self._wait_for_all(30 if grace_period is None else grace_period)
        for proc in self.processes:
            if proc.is_alive():
                proc.kill()
            proc.join()

    def _collect_report(self, rank: int):
        """The pickled traceback of worker ``rank`` (or None); removes every report file."""
        report = None
        path = self.error_files[rank]
        if os.access(path, os.R_OK):
            with open(path, "rb") as src:
                report = pickle.load(src)
        for leftover in self.error_files:
            if os.path.exists(leftover):
                os.unlink(leftover)
        return report

    def join(self, timeout: float | None = None, grace_period: float | None = None) -> bool:
        """Waits at most ``timeout`` seconds for workers to end.

        Returns True when every worker has ended successfully and False while some are
        still running. When one has failed, the rest are stopped (first given
        ``grace_period`` seconds, if set) and the failure is raised.
        """
        if not self.sentinels:
            return True
        rank = self._first_failure(timeout)
        if rank is None:
            return not self.sentinels
        self._shut_down(grace_period)
        proc = self.processes[rank]
        report = self._collect_report(rank)
        if report is not None:
            raise ProcessRaisedException(
                f"\n\n-- Process {rank:d} terminated with the following error:\n" + report,
                rank, proc.pid)
        code = proc.exitcode
        if code >= 0:
            raise ProcessExitedException(
                f"process {rank:d} terminated with exit code {code:d}",
                error_index=rank, error_pid=proc.pid, exit_code=code)
        label = _signal_label(code)
        raise ProcessExitedException(
            f"process {rank:d} terminated with signal {label}",
            error_index=rank, error_pid=proc.pid, exit_code=code, signal_name=label)


class SpawnContext(ProcessContext):
    """Deprecated alias of ``ProcessContext``."""

    def __init__(self, processes, error_files) -> None:
        warnings.warn("SpawnContext is renamed to ProcessContext since 1.4 release.",
                      stacklevel=2)
        ProcessContext.__init__(self, processes, error_files)


def _fresh_report_path() -> str:
    """A unique path for a worker's error report; the file itself is not left behind."""
    handle, path = tempfile.mkstemp(prefix="ember-errorfile-", suffix=".pickle")
    os.close(handle)
    os.unlink(path)  # created again by the worker only if it fails
    return path


def start_processes(fn, args=(), nprocs: int = 1, join: bool = True, daemon: bool = False,
                    start_method: str = "spawn"):
    """Runs ``fn(i, *args)`` in ``nprocs`` new processes made with ``start_method``
    (``"spawn"``, ``"fork"`` or ``"forkserver"``).

    With ``join=True`` blocks until they are done and returns None; otherwise returns the
    ``ProcessContext`` right away.
    """
    mp_ctx = multiprocessing.get_context(start_method)
    paths = [_fresh_report_path() for _ in range(nprocs)]
    workers = []
    for rank, path in enumerate(paths):
        proc = mp_ctx.Process(target=_child_main, args=(fn, rank, args, path), daemon=daemon)
        proc.start()
        workers.append(proc)
    handle = ProcessContext(workers, paths)
    if join:
        while not handle.join():
            pass
        return None
    return handle


def spawn(fn, args=(), nprocs: int = 1, join: bool = True, daemon: bool = False,
          start_method: str = "spawn"):
    """Runs ``fn(i, *args)`` in ``nprocs`` spawned processes, ``i`` being each one's index.

    ``fn`` is pickled, so it has to be importable (a module-level function). A failure in
    any worker stops the others and is re-raised in the caller with the worker's
    traceback. Only the ``"spawn"`` start method is used; asking for another one gives a
    ``FutureWarning`` (``start_processes`` accepts any method).

    Returns None when ``join`` is true, otherwise the ``ProcessContext``.
    """
    if start_method != "spawn":
        warnings.warn(f"This method only supports start_method=spawn (got: {start_method}).\n"
                      "To use a different start_method use:\n\t\t"
                      " ember.multiprocessing.start_processes(...)", FutureWarning,
                      stacklevel=2)
    return start_processes(fn, args=args, nprocs=nprocs, join=join, daemon=daemon,
                           start_method="spawn")
