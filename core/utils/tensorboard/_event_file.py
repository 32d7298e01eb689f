"""Writing ``Event`` records to a TensorBoard event file."""

from __future__ import annotations

import itertools
import os
import socket
import threading
import time
import weakref

from . import _wire as w
from ._record import frame_record

_file_counter = itertools.count()  # makes event file names unique within a process
_WRITER_NAME = "ember.utils.tensorboard"


def event(
    summary: bytes | None = None,
    step: int | None = None,
    wall_time: float | None = None,
    file_version: str | None = None,
    session_log_status: int | None = None,
    source_writer: str | None = None,
) -> bytes:
    """Encode a ``tensorboard.Event`` message."""
    parts = [w.double(1, time.time() if wall_time is None else wall_time)]
    if step is not None:
        parts.append(w.uint(2, int(step)))
    if file_version is not None:
        parts.append(w.string(3, file_version, keep=True))
    if summary is not None:
        parts.append(w.message(5, summary))
    if session_log_status is not None:
        parts.append(w.message(7, w.uint(1, session_log_status)))
    if source_writer is not None:
        parts.append(w.message(10, w.string(1, source_writer)))
    return b"".join(parts)


def _close_file(fh, lock, pending):
    with lock:
        if pending:
            fh.write(b"".join(pending))
            pending.clear()
        if not fh.closed:
            fh.close()


class EventFileWriter:
    """Appends TFRecord-framed events to ``events.out.tfevents.<time>.<host>.<pid>.<n>``.

    Events are queued in memory and written out when ``max_queue`` are pending, when
    ``flush_secs`` have passed since the last write (checked on every ``add_event``), on
    :meth:`flush` and on :meth:`close`. The file is opened in append-binary mode.
    """

    def __init__(
        self, log_dir: str, max_queue: int = 10, flush_secs: float = 120, filename_suffix: str = ""
    ):
        os.makedirs(log_dir, exist_ok=True)
        stamp, host, pid = int(time.time()), socket.gethostname(), os.getpid()
        name = f"events.out.tfevents.{stamp:010d}.{host}.{pid}.{next(_file_counter)}"
        name += filename_suffix
        self.log_dir = str(log_dir)
        self.path = os.path.join(self.log_dir, name)
        self._max_queue = max(int(max_queue), 1)
        self._flush_secs = float(flush_secs)
        self._lock = threading.Lock()
        self._pending: list[bytes] = []
        self._fh = open(self.path, "ab")  # noqa: SIM115 - closed by close()/finalizer
        self._last_flush = time.monotonic()
        self._closed = False
        self._finalizer = weakref.finalize(self, _close_file, self._fh, self._lock, self._pending)
        self.add_event(event(file_version="brain.Event:2", source_writer=_WRITER_NAME))
        self.flush()

    def get_logdir(self) -> str:
        """The directory this writer's event file lives in."""
        return self.log_dir

    def add_event(self, encoded_event: bytes) -> None:
        """Queue one encoded Event; write the queue out if it is full or stale."""
        if self._closed:
            raise RuntimeError(f"the event file writer for {self.log_dir!r} is closed")
        with self._lock:
            self._pending.append(frame_record(encoded_event))
            due = (
                len(self._pending) >= self._max_queue
                or time.monotonic() - self._last_flush >= self._flush_secs
            )
        if due:
            self.flush()

    def flush(self) -> None:
        """Write every queued event to disk."""
        with self._lock:
            if self._fh.closed:
                return
            if self._pending:
                self._fh.write(b"".join(self._pending))
                self._pending.clear()
            self._fh.flush()
            self._last_flush = time.monotonic()

    def close(self) -> None:
        """Flush and close the file; further events raise."""
        if self._closed:
            return
        self.flush()
        self._closed = True
        self._finalizer()
