"""``ember.distributed.checkpoint``: distributed (sharded) checkpoints, declared only.

``save``/``load`` and the storage readers and writers raise NotImplementedError; ember
checkpoints are written with ``ember.save`` or safetensors from one process.
"""

from __future__ import annotations

from .._unsupported import Unsupported, unsupported_function
from .default_planner import DefaultLoadPlanner, DefaultSavePlanner
from .hf_storage import HuggingFaceStorageReader, HuggingFaceStorageWriter

__all__ = ["save", "load", "async_save", "FileSystemReader", "FileSystemWriter",
           "DefaultLoadPlanner", "DefaultSavePlanner", "HuggingFaceStorageReader",
           "HuggingFaceStorageWriter"]

_P = "ember.distributed.checkpoint."
save = unsupported_function(_P + "save", "Saves a sharded state dict")
load = unsupported_function(_P + "load", "Loads a sharded state dict in place")
async_save = unsupported_function(_P + "async_save", "Saves a sharded state dict in the "
                                  "background")


class FileSystemReader(Unsupported):
    """Reads a distributed checkpoint from a folder (not supported by ember)."""

    _what = _P + "FileSystemReader"


class FileSystemWriter(Unsupported):
    """Writes a distributed checkpoint to a folder (not supported by ember)."""

    _what = _P + "FileSystemWriter"
