"""``torch.PyTorchFileReader``: the records of a checkpoint zip (``torch.save``'s format)
read by name, as libraries that unpickle checkpoints lazily (Lightning) use it. Record
names are those inside the archive's top folder (``data.pkl``, ``data/0``, ...)."""

from __future__ import annotations

import os
import zipfile

import numpy as np

from .. import _dtype
from .._tensor import Tensor

__all__ = ["PyTorchFileReader"]


class PyTorchFileReader:
    """Reads the records of a checkpoint zip given as a path or a binary file object."""

    def __init__(self, file) -> None:
        if isinstance(file, (str, os.PathLike)):
            file = os.fspath(file)
        try:
            self._zip = zipfile.ZipFile(file)
        except (zipfile.BadZipFile, OSError) as exc:
            raise RuntimeError(f"PyTorchFileReader failed reading zip archive: {exc}") from None
        names = self._zip.namelist()
        self._prefix = names[0].split("/", 1)[0] + "/" if names and "/" in names[0] else ""

    def get_all_records(self) -> list[str]:
        """The record names, without the archive's top folder."""
        n = len(self._prefix)
        return [name[n:] for name in self._zip.namelist() if name.startswith(self._prefix)]

    def has_record(self, name: str) -> bool:
        try:
            self._zip.getinfo(self._prefix + name)
        except KeyError:
            return False
        return True

    def get_record(self, name: str) -> bytes:
        """The bytes of record ``name``."""
        try:
            return self._zip.read(self._prefix + name)
        except KeyError:
            raise RuntimeError(f"PyTorchFileReader: no record named {name!r}") from None

    def get_record_size(self, name: str) -> int:
        return self._zip.getinfo(self._prefix + name).file_size

    def get_storage_from_record(self, name: str, numel: int, dtype) -> Tensor:
        """The first ``numel`` elements of record ``name`` as a 1-D tensor of ``dtype``."""
        d = _dtype.to_dtype(dtype)
        arr = np.frombuffer(self.get_record(name), dtype=d.np, count=int(numel)).copy()
        return Tensor._make(arr)
