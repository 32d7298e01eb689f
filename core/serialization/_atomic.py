"""Atomic file writes: data goes to a temporary file beside the target, which replaces the
target (``os.replace``) only once it is complete and flushed to disk. A failure at any
point leaves the old file, if any, as it was, and no temporary file behind."""

from __future__ import annotations

import contextlib
import os
import stat

__all__ = ["atomic_path", "atomic_open"]


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path in ``path``'s folder; on success, moves it over ``path``.

    The temporary file is created empty, with the mode of the file it replaces (else 0o666
    less the umask, as ``open`` would). A symbolic link at ``path`` is followed: its target
    is replaced."""
    path = os.path.realpath(os.fspath(path))
    folder = os.path.dirname(path)
    import uuid  # loaded on first save: keeps `import ember` light

    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)


@contextlib.contextmanager
def atomic_open(path):
    """Yields a binary file open for writing; it becomes ``path`` only if the block ends
    without an exception."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        yield fh
        fh.flush()
