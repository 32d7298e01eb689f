"""Key-value stores for rendezvous: ``Store`` (the interface), ``HashStore`` (in process)
and ``PrefixStore``, as in ``torch.distributed``. ``TCPStore`` lives in ``tcp_store``.

Keys are strings; values are bytes (a ``str`` value is stored UTF-8 encoded). ``get`` and
``wait`` block until the keys exist or the store's timeout passes, then raise
``DistStoreError``.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from .constants import seconds
from .errors import DistStoreError

__all__ = ["Store", "HashStore", "PrefixStore"]


def _as_bytes(value) -> bytes:
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (list, tuple)):  # PyTorch's bindings accept lists of ints
        return bytes(value)
    raise TypeError(f"store values must be str or bytes, got {type(value).__name__}")


class Store:
    """Base class of the key-value stores (subclasses implement the methods)."""

    def __init__(self, timeout=timedelta(seconds=300)):
        self._timeout = seconds(timeout)

    @property
    def timeout(self) -> timedelta:
        """How long ``get``/``wait`` block before raising."""
        return timedelta(seconds=self._timeout)

    def set_timeout(self, timeout) -> None:
        """Sets the blocking timeout (a ``timedelta`` or seconds)."""
        self._timeout = seconds(timeout)

    def set(self, key: str, value) -> None:
        """Stores ``value`` under ``key``, replacing any older value."""
        raise NotImplementedError

    def get(self, key: str) -> bytes:
        """The value of ``key``, waiting for it to be set."""
        raise NotImplementedError

    def add(self, key: str, amount: int) -> int:
        """Adds ``amount`` to the integer stored under ``key`` (0 if absent); returns it."""
        raise NotImplementedError

    def compare_set(self, key: str, expected_value, desired_value) -> bytes:
        """Sets ``key`` to ``desired_value`` if its value is ``expected_value`` (or if it is
        absent and ``expected_value`` is empty); returns the value now stored."""
        raise NotImplementedError

    def append(self, key: str, value) -> None:
        """Appends ``value`` to the bytes stored under ``key``."""
        raise NotImplementedError

    def wait(self, keys, timeout=None) -> None:
        """Waits until all ``keys`` are set."""
        raise NotImplementedError

    def check(self, keys) -> bool:
        """True if all ``keys`` are set (does not wait)."""
        raise NotImplementedError

    def delete_key(self, key: str) -> bool:
        """Deletes ``key``; True if it existed."""
        raise NotImplementedError

    def num_keys(self) -> int:
        """The number of keys stored."""
        raise NotImplementedError

    def multi_get(self, keys) -> list:
        """The values of ``keys`` (waiting for each)."""
        return [self.get(k) for k in keys]

    def multi_set(self, keys, values) -> None:
        """Sets each of ``keys`` to the matching value."""
        for k, v in zip(keys, values):
            self.set(k, v)

    def has_extended_api(self) -> bool:
        """True: ``append``, ``multi_get`` and ``multi_set`` are available."""
        return True

    def close(self) -> None:
        """Releases the store's connections (no-op by default)."""


class _Table:
    """A thread-safe dictionary with blocking reads: the state of a ``HashStore`` and of a
    ``TCPStore`` server."""

    def __init__(self):
        self.data: dict[str, bytes] = {}
        self.cond = threading.Condition()

    def set(self, key: str, value: bytes) -> None:
        with self.cond:
            self.data[key] = value
            self.cond.notify_all()

    def wait(self, keys, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not all(k in self.data for k in keys):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 1.0))
        return True

    def get(self, key: str, timeout: float) -> bytes | None:
        if not self.wait([key], timeout):
            return None
        with self.cond:
            return self.data[key]

    def add(self, key: str, amount: int) -> int:
        with self.cond:
            value = int(self.data.get(key, b"0")) + int(amount)
            self.data[key] = str(value).encode()
            self.cond.notify_all()
            return value

    def compare_set(self, key: str, expected: bytes, desired: bytes) -> bytes:
        with self.cond:
            cur = self.data.get(key)
            if (cur is None and not expected) or cur == expected:
                self.data[key] = desired
                self.cond.notify_all()
                return desired
            return expected if cur is None else cur

    def append(self, key: str, value: bytes) -> None:
        with self.cond:
            self.data[key] = self.data.get(key, b"") + value
            self.cond.notify_all()

    def check(self, keys) -> bool:
        with self.cond:
            return all(k in self.data for k in keys)

    def delete(self, key: str) -> bool:
        with self.cond:
            return self.data.pop(key, None) is not None

    def __len__(self) -> int:
        with self.cond:
            return len(self.data)


def _timeout_error(keys, timeout: float) -> DistStoreError:
    return DistStoreError(f"Timeout ({timeout:g}s) waiting for key(s) {list(keys)!r} in the "
                          "store; are all ranks running and calling the same operations?")


class HashStore(Store):
    """A store inside one process (for threads, or a world of size 1)."""

    def __init__(self):
        super().__init__()
        self._table = _Table()

    def set(self, key, value):
        self._table.set(key, _as_bytes(value))

    def get(self, key):
        value = self._table.get(key, self._timeout)
        if value is None:
            raise _timeout_error([key], self._timeout)
        return value

    def add(self, key, amount):
        return self._table.add(key, amount)

    def compare_set(self, key, expected_value, desired_value):
        return self._table.compare_set(key, _as_bytes(expected_value),
                                       _as_bytes(desired_value))

    def append(self, key, value):
        self._table.append(key, _as_bytes(value))

    def wait(self, keys, timeout=None):
        t = self._timeout if timeout is None else seconds(timeout)
        if not self._table.wait(list(keys), t):
            raise _timeout_error(keys, t)

    def check(self, keys):
        return self._table.check(list(keys))

    def delete_key(self, key):
        return self._table.delete(key)

    def num_keys(self):
        return len(self._table)


class PrefixStore(Store):
    """Wraps ``store``, prefixing every key with ``prefix + '/'``."""

    def __init__(self, prefix: str, store: Store):
        self.prefix = prefix
        self.underlying_store = store

    def _k(self, key: str) -> str:
        return f"{self.prefix}/{key}"

    @property
    def timeout(self) -> timedelta:
        return self.underlying_store.timeout

    def set_timeout(self, timeout) -> None:
        self.underlying_store.set_timeout(timeout)

    def set(self, key, value):
        self.underlying_store.set(self._k(key), value)

    def get(self, key):
        return self.underlying_store.get(self._k(key))

    def add(self, key, amount):
        return self.underlying_store.add(self._k(key), amount)

    def compare_set(self, key, expected_value, desired_value):
        return self.underlying_store.compare_set(self._k(key), expected_value, desired_value)

    def append(self, key, value):
        self.underlying_store.append(self._k(key), value)

    def wait(self, keys, timeout=None):
        self.underlying_store.wait([self._k(k) for k in keys], timeout)

    def check(self, keys):
        return self.underlying_store.check([self._k(k) for k in keys])

    def delete_key(self, key):
        return self.underlying_store.delete_key(self._k(key))

    def num_keys(self):
        return self.underlying_store.num_keys()

    def close(self) -> None:
        self.underlying_store.close()
