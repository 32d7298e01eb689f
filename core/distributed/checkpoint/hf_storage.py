"""``ember.distributed.checkpoint.hf_storage``: safetensors storage for distributed
checkpoints (declared only; see ``ember.distributed.checkpoint``)."""

from __future__ import annotations

from .._unsupported import Unsupported

__all__ = ["HuggingFaceStorageReader", "HuggingFaceStorageWriter"]


class HuggingFaceStorageReader(Unsupported):
    """Reads a distributed checkpoint from safetensors files (not supported by ember)."""

    _what = "ember.distributed.checkpoint.hf_storage.HuggingFaceStorageReader"


class HuggingFaceStorageWriter(Unsupported):
    """Writes a distributed checkpoint as safetensors files (not supported by ember)."""

    _what = "ember.distributed.checkpoint.hf_storage.HuggingFaceStorageWriter"
