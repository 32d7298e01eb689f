"""PyTorch's pre-1.6 checkpoint format (``torch.save(..., _use_new_zipfile_serialization=
False)``): one stream of pickles.

    pickle(MAGIC_NUMBER) pickle(PROTOCOL_VERSION) pickle(sys_info)
    pickle(obj)            # storages as ('storage', type, key, location, numel, view)
    pickle(sorted keys)
    for each key: int64 element count, then the storage's raw bytes

The stream carries no checksums: truncation and malformed records are detected, flipped
data bytes cannot be.
"""

from __future__ import annotations

import io

import numpy as np

from ._pickle_allowlist import SafeUnpickler, UnpicklingError
from ._storage import CheckpointError, LoadContext, LoadedStorage, StorageType

__all__ = ["MAGIC_NUMBER", "PROTOCOL_VERSION", "write_legacy", "read_legacy"]

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
_SYS_INFO = {"protocol_version": PROTOCOL_VERSION, "little_endian": True,
             "type_sizes": {"short": 2, "int": 4, "long": 4}}


def write_legacy(fileobj, pickled: bytes, refs) -> None:
    """Writes the legacy stream: header pickles, ``pickled`` (made with 6-tuple storage
    ids) and the storages ``refs``."""
    import pickle
    import sys

    info = dict(_SYS_INFO, little_endian=sys.byteorder == "little")
    for value in (MAGIC_NUMBER, PROTOCOL_VERSION, info):
        fileobj.write(pickle.dumps(value, protocol=2))
    fileobj.write(pickled)
    keys = sorted(ref.key for ref in refs)
    fileobj.write(pickle.dumps(keys, protocol=2))
    by_key = {ref.key: ref for ref in refs}
    for key in keys:
        ref = by_key[key]
        fileobj.write(int(ref.numel).to_bytes(8, sys.byteorder, signed=True))
        fileobj.write(memoryview(ref.array))


def _no_storage(pid):
    raise UnpicklingError("unexpected storage reference in a checkpoint header")


def _header(f, what: str):
    try:
        return SafeUnpickler(f, _no_storage).load()
    except EOFError:
        raise CheckpointError(f"the file ends before its {what}") from None


def read_legacy(f: io.BufferedIOBase, unpickler_cls, device_for):
    """Loads a legacy checkpoint from the binary stream ``f`` (positioned at its start)."""
    magic = _header(f, "magic number")
    if magic != MAGIC_NUMBER:
        raise CheckpointError("invalid magic number: not a PyTorch checkpoint, or corrupted")
    protocol = _header(f, "protocol version")
    if protocol != PROTOCOL_VERSION:
        raise CheckpointError(f"invalid protocol version {protocol!r}")
    sys_info = _header(f, "system information")
    little = not isinstance(sys_info, dict) or sys_info.get("little_endian", True)
    storages: dict = {}

    def load_storage(pid):
        if len(pid) != 6:
            raise CheckpointError(f"malformed storage reference {pid!r}")
        _, stype, key, location, numel, view = pid
        if not isinstance(stype, StorageType) or not isinstance(numel, int) or numel < 0:
            raise CheckpointError(f"malformed storage reference {pid!r}")
        key = _ascii(key)
        root = storages.get(key)
        if root is None:
            root = storages[key] = LoadedStorage(key, np.empty(numel, stype.np),
                                                 _ascii(location))
            root.device = device_for(root, root.location)
        if view is None:
            return root
        view_key, offset, size = view
        view_key = _ascii(view_key)
        if view_key not in storages:
            if offset < 0 or size < 0 or offset + size > root.array.size:
                raise CheckpointError(f"storage view {view!r} is outside its storage")
            v = LoadedStorage(view_key, root.array[offset:offset + size], root.location)
            v.device = root.device
            storages[view_key] = v
        return storages[view_key]

    with LoadContext() as ctx:
        result = unpickler_cls(f, load_storage).load()
        keys = _header(f, "storage keys")
        if not isinstance(keys, list):
            raise CheckpointError("malformed storage key list")
        _read_storages(f, [_ascii(k) for k in keys], storages, little)
    ctx.finish()
    return result


def _read_storages(f, keys, storages, little: bool) -> None:
    done = set()
    for key in keys:
        s = storages.get(key)
        if s is None:
            raise CheckpointError(f"the storage list names {key!r}, which no tensor uses")
        head = f.read(8)
        if len(head) != 8:
            raise CheckpointError(f"the file ends before storage {key}")
        numel = int.from_bytes(head, "little" if little else "big", signed=True)
        if numel != s.array.size:
            raise CheckpointError(f"storage {key} holds {numel} elements; its tensors need "
                                  f"{s.array.size}")
        buf = memoryview(s.array.view(np.uint8))
        got = f.readinto(buf)
        if got != buf.nbytes:
            raise CheckpointError(f"the file ends inside storage {key} ({got} of "
                                  f"{buf.nbytes} bytes)")
        if not little and s.array.itemsize > 1:
            s.array.byteswap(inplace=True)
        done.add(key)
    roots = {k for k, s in storages.items() if s.array.base is None}
    missing = roots - done
    if missing:
        raise CheckpointError(f"storages {sorted(missing)} have no data in the file")


def _ascii(x) -> str:
    return x.decode("ascii") if isinstance(x, bytes) else str(x)
