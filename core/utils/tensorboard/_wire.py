"""A minimal protocol-buffer wire-format encoder.

Only encoding is needed to write TensorBoard event files, and only a handful of field
kinds: varints (ints, enums, bools), 64-bit doubles, 32-bit floats, length-delimited bytes
(strings, nested messages, packed repeated numbers). Every helper returns the encoded
``bytes`` of one field; a message is the concatenation of its fields' encodings.

Scalar fields at their default value (0, empty) are left out, as proto3 does, unless
``keep=True`` (needed for members of a ``oneof``, whose presence carries meaning).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

import numpy as np

_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5


def varint(n: int) -> bytes:
    """Encode a non-negative or int64 value as a base-128 varint."""
    n = int(n)
    if n < 0:
        n += 1 << 64  # two's complement, 10 bytes, as int64 fields require
    out = bytearray()
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _tag(field: int, wire_type: int) -> bytes:
    return varint((field << 3) | wire_type)


def uint(field: int, value: int, keep: bool = False) -> bytes:
    """A varint field (int32/int64/uint32/uint64/enum)."""
    value = int(value)
    if not value and not keep:
        return b""
    return _tag(field, _VARINT) + varint(value)


def boolean(field: int, value: bool, keep: bool = False) -> bytes:
    """A bool field."""
    return uint(field, 1 if value else 0, keep)


def double(field: int, value: float, keep: bool = False) -> bytes:
    """A 64-bit floating point field (``double``)."""
    value = float(value)
    if value == 0.0 and not keep and not np.signbit(value):
        return b""
    return _tag(field, _FIXED64) + struct.pack("<d", value)


def float32(field: int, value: float, keep: bool = False) -> bytes:
    """A 32-bit floating point field (``float``)."""
    value = float(value)
    if value == 0.0 and not keep and not np.signbit(value):
        return b""
    return _tag(field, _FIXED32) + struct.pack("<f", value)


def blob(field: int, data: bytes, keep: bool = False) -> bytes:
    """A length-delimited field: bytes, or an already encoded nested message."""
    data = bytes(data)
    if not data and not keep:
        return b""
    return _tag(field, _LEN) + varint(len(data)) + data


def string(field: int, text: str, keep: bool = False) -> bytes:
    """A UTF-8 ``string`` field."""
    return blob(field, text.encode("utf-8"), keep)


def message(field: int, *parts: bytes) -> bytes:
    """A nested message field whose encoded fields are ``parts`` (written even if empty)."""
    return blob(field, b"".join(parts), keep=True)


def packed_doubles(field: int, values: Iterable[float]) -> bytes:
    """A packed ``repeated double`` field."""
    arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, "<f8")
    return blob(field, arr.tobytes())


def packed_floats(field: int, values: Iterable[float]) -> bytes:
    """A packed ``repeated float`` field."""
    arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, "<f4")
    return blob(field, arr.tobytes())


def repeated_blobs(field: int, items: Iterable[bytes]) -> bytes:
    """A ``repeated bytes``/``repeated string`` field (one entry per item, empty ones kept)."""
    return b"".join(blob(field, item, keep=True) for item in items)
