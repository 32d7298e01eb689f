"""``FileStore``: a key-value store in a file shared by the ranks (a shared file system),
as ``torch.distributed.FileStore``.

The file holds appended records (key, value) under an exclusive ``flock``; the last record
of a key wins. The last of ``world_size`` users to close the store deletes the file.
"""

from __future__ import annotations

import fcntl
import os
import struct
import time

from .store import Store, _as_bytes, _timeout_error

__all__ = ["FileStore"]

_REC = struct.Struct("!IQ")
_DELETED = 2 ** 64 - 1
_USERS = "__ember_filestore_users__"
_OPENED = "__ember_filestore_opened__"


class FileStore(Store):
    """A store backed by the file ``file_name`` (``world_size`` users; -1 if unknown)."""

    def __init__(self, file_name: str, world_size: int = -1):
        super().__init__()
        self.path = file_name
        self.world_size = world_size
        self._closed = False
        self.add(_USERS, 1)
        self.add(_OPENED, 1)

    def _locked(self, fn, write: bool):
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with os.fdopen(os.dup(fd), "r+b") as f:
                data = self._parse(f.read())
                out = fn(data)
                if write and out is not None and out[1]:
                    f.seek(0, os.SEEK_END)
                    for k, v in out[1]:
                        kb = k.encode()
                        f.write(_REC.pack(len(kb), _DELETED if v is None else len(v)) + kb +
                                (v or b""))
                    f.flush()
                return out[0] if write else out
        finally:
            os.close(fd)

    @staticmethod
    def _parse(raw: bytes) -> dict:
        data, i = {}, 0
        while i + _REC.size <= len(raw):
            kl, vl = _REC.unpack_from(raw, i)
            i += _REC.size
            k = raw[i:i + kl].decode()
            i += kl
            if vl == _DELETED:
                data.pop(k, None)
            else:
                data[k] = raw[i:i + vl]
                i += vl
        return data

    def set(self, key, value):
        self._locked(lambda d: (None, [(key, _as_bytes(value))]), True)

    def _poll(self, keys, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            d = self._locked(lambda d: d, False)
            if all(k in d for k in keys):
                return d
            if time.monotonic() > deadline:
                raise _timeout_error(keys, timeout)
            time.sleep(0.01)

    def get(self, key):
        return self._poll([key], self._timeout)[key]

    def add(self, key, amount):
        def fn(d):
            v = int(d.get(key, b"0")) + int(amount)
            return v, [(key, str(v).encode())]
        return self._locked(fn, True)

    def compare_set(self, key, expected_value, desired_value):
        exp, des = _as_bytes(expected_value), _as_bytes(desired_value)

        def fn(d):
            cur = d.get(key)
            if (cur is None and not exp) or cur == exp:
                return des, [(key, des)]
            return (exp if cur is None else cur), []
        return self._locked(fn, True)

    def append(self, key, value):
        v = _as_bytes(value)
        self._locked(lambda d: (None, [(key, d.get(key, b"") + v)]), True)

    def wait(self, keys, timeout=None):
        from .constants import seconds

        self._poll(list(keys), self._timeout if timeout is None else seconds(timeout))

    def check(self, keys):
        d = self._locked(lambda d: d, False)
        return all(k in d for k in keys)

    def delete_key(self, key):
        return self._locked(lambda d: (key in d, [(key, None)] if key in d else []), True)

    def num_keys(self):
        d = self._locked(lambda d: d, False)
        return len([k for k in d if not k.startswith("__ember_filestore")])

    def close(self) -> None:
        """Leaves the store; the last of ``world_size`` users deletes the file."""
        if self._closed:
            return
        self._closed = True
        left = self.add(_USERS, -1)
        opened = int(self._locked(lambda d: d, False).get(_OPENED, b"0"))
        if left == 0 and (self.world_size < 0 or opened >= self.world_size):
            try:
                os.unlink(self.path)
            except OSError:
                pass
