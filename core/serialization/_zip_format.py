"""PyTorch's zip checkpoint layout (``torch.save``'s default since 1.6).

The archive holds, under one top folder (``archive/``): ``data.pkl`` (the pickle, whose
tensors refer to storages by key), ``data/<key>`` (each storage's raw little-endian
bytes, 64-byte aligned), ``byteorder``, ``version``, ``.format_version``,
``.storage_alignment`` and ``.data/serialization_id``. Records are stored uncompressed
with CRC-32s, which the reader checks.
"""

from __future__ import annotations

import io
import mmap as _mmap
import os
import struct
import sys
import zipfile

import numpy as np

from ._storage import CheckpointError, LoadContext, LoadedStorage, StorageType

__all__ = ["write_zip", "read_zip"]

ALIGNMENT = 64
_CHUNK = 16 << 20
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")


def _record(zf: zipfile.ZipFile, name: str, data) -> None:
    """Writes one stored record whose data starts on an ``ALIGNMENT``-byte boundary."""
    view = memoryview(data).cast("B") if not isinstance(data, bytes) else memoryview(data)
    size = view.nbytes
    zinfo = zipfile.ZipInfo(f"archive/{name}", date_time=(1980, 1, 1, 0, 0, 0))
    zinfo.compress_type = zipfile.ZIP_STORED
    zinfo.file_size = size
    zip64 = size * 1.05 > zipfile.ZIP64_LIMIT
    header = _LOCAL_HEADER.size + len(zinfo.filename.encode()) + 4 + (20 if zip64 else 0)
    pad = -(zf.fp.tell() + header) % ALIGNMENT
    zinfo.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
    with zf.open(zinfo, "w", force_zip64=zip64) as w:
        for start in range(0, size, _CHUNK):
            w.write(view[start:start + _CHUNK])


def write_zip(fileobj, pickled: bytes, refs) -> None:
    """Writes a checkpoint: the pickle and the storages ``refs`` (``StorageRef``\\ s)."""
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED,
                         allowZip64=True) as zf:
        _record(zf, "data.pkl", pickled)
        _record(zf, ".format_version", b"1")
        _record(zf, ".storage_alignment", str(ALIGNMENT).encode())
        _record(zf, "byteorder", sys.byteorder.encode())
        for ref in refs:
            write_storage(zf, ref)
        _record(zf, "version", b"3\n")
        _record(zf, ".data/serialization_id",
                str(int.from_bytes(os.urandom(16), "little")).zfill(40).encode())


def write_storage(zf: zipfile.ZipFile, ref) -> None:
    """Writes storage ``ref`` as record ``data/<key>``."""
    _record(zf, f"data/{ref.key}", ref.array)


_TORCHSCRIPT = ("this is a TorchScript archive (torch.jit.save), which ember.load does not "
                "read (torch.load hands it to torch.jit.load); save the model's state_dict "
                "with torch.save instead")


def _prefix(zf: zipfile.ZipFile) -> str:
    names = zf.namelist()
    tops = [n[:-len("data.pkl")] for n in names
            if n.endswith("/data.pkl") and n.count("/") == 1]
    if not tops:
        if any(n.endswith("constants.pkl") for n in names):
            raise CheckpointError(_TORCHSCRIPT)
        raise CheckpointError("zip archive without a data.pkl record: not a PyTorch "
                              "checkpoint")
    if tops[0] + "constants.pkl" in zf.NameToInfo:  # PyTorch's own TorchScript test
        raise CheckpointError(_TORCHSCRIPT)
    return tops[0]


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, out: np.ndarray) -> None:
    buf = memoryview(out.reshape(-1).view(np.uint8))
    total, pos = buf.nbytes, 0
    with zf.open(info) as r:
        while pos < total:
            n = r.readinto(buf[pos:pos + _CHUNK])
            if not n:
                raise CheckpointError(f"record {info.filename} is truncated")
            pos += n
        r.read()  # reaching the end checks the CRC-32


def _mapped_member(fh, mm, info: zipfile.ZipInfo, dtype, numel: int):
    """The record's data as an array over the (copy-on-write) memory map, or None."""
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    fh.seek(info.header_offset)
    head = fh.read(_LOCAL_HEADER.size)
    if len(head) != _LOCAL_HEADER.size or head[:4] != b"PK\x03\x04":
        raise CheckpointError(f"bad local header for record {info.filename}")
    fields = _LOCAL_HEADER.unpack(head)
    start = info.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1]
    if start + numel * dtype.itemsize > len(mm):
        raise CheckpointError(f"record {info.filename} is truncated")
    return np.frombuffer(mm, dtype=dtype, count=numel, offset=start)


def read_zip(fileobj, unpickler_cls, device_for, mmap_file=None):
    """Loads the checkpoint in zip archive ``fileobj``.

    ``device_for(storage, location)`` picks each storage's device; ``mmap_file``, an open
    file, maps the storages from it instead of reading them."""
    try:
        zf = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as e:
        raise CheckpointError(f"not a readable zip archive (truncated or corrupted?): "
                              f"{e}") from None
    with zf:
        prefix = _prefix(zf)
        order = "little"
        if prefix + "byteorder" in zf.NameToInfo:
            order = zf.read(prefix + "byteorder").decode("ascii", "replace")
            if order not in ("little", "big"):
                raise CheckpointError(f"unknown byte order {order!r}")
        pickled = zf.read(prefix + "data.pkl")
        mm = None
        if mmap_file is not None:
            mm = _mmap.mmap(mmap_file.fileno(), 0, access=_mmap.ACCESS_COPY)
        storages: dict = {}

        def load_storage(pid):
            if len(pid) != 5:
                raise CheckpointError(f"malformed storage reference {pid!r}")
            _, stype, key, location, numel = pid
            if not isinstance(stype, StorageType) or not isinstance(key, str) or \
                    not isinstance(numel, int) or numel < 0:
                raise CheckpointError(f"malformed storage reference {pid!r}")
            s = storages.get(key)
            if s is not None:
                return s
            name = f"{prefix}data/{key}"
            info = zf.NameToInfo.get(name)
            if info is None:
                raise CheckpointError(f"record {name} is missing")
            nbytes = numel * stype.np.itemsize
            if info.file_size != nbytes:
                raise CheckpointError(f"record {name} holds {info.file_size} bytes; its "
                                      f"storage needs {nbytes}")
            arr = _mapped_member(mmap_file, mm, info, stype.np, numel) if mm else None
            if arr is None:
                arr = np.empty(numel, dtype=stype.np)
                _read_member(zf, info, arr)
            if order != sys.byteorder and arr.itemsize > 1:
                arr.byteswap(inplace=True)
            s = storages[key] = LoadedStorage(key, arr, _ascii(location))
            s.device = device_for(s, s.location)
            return s

        with LoadContext() as ctx:
            result = unpickler_cls(io.BytesIO(pickled), load_storage).load()
        ctx.finish()
        return result


def _ascii(x) -> str:
    return x.decode("ascii") if isinstance(x, bytes) else str(x)
