"""Merging sharded safetensors checkpoints (declared only; see
``ember.distributed.checkpoint``)."""

from __future__ import annotations

from .._unsupported import unsupported_function

__all__ = ["consolidate_safetensors_files"]

consolidate_safetensors_files = unsupported_function(
    "ember.distributed.checkpoint._consolidate_hf_safetensors.consolidate_safetensors_files",
    "Merges the shards of a distributed safetensors checkpoint")
