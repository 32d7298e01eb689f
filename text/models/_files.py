"""Atomic file writes for ``save_pretrained`` (a temporary file, then a rename)."""

from __future__ import annotations

import os
import tempfile

__all__ = ["atomic_write_text", "atomic_path"]


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` so that ``path`` never holds a partial file."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)


class atomic_path:
    """Context manager giving a temporary path beside ``path``; renamed onto ``path`` on a
    clean exit, deleted on an error."""

    def __init__(self, path: str) -> None:
        self.path = os.fspath(path)

    def __enter__(self) -> str:
        folder = os.path.dirname(os.path.abspath(self.path))
        fd, self.tmp = tempfile.mkstemp(prefix=os.path.basename(self.path) + ".",
                                        suffix=".tmp", dir=folder)
        os.close(fd)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            os.replace(self.tmp, self.path)
        elif os.path.exists(self.tmp):
            os.remove(self.tmp)
