"""``ember.distributed.tensor._utils``: DTensor layout helpers (declared only)."""

from __future__ import annotations

from .._unsupported import unsupported_function

__all__ = ["compute_local_shape_and_global_offset"]

compute_local_shape_and_global_offset = unsupported_function(
    "ember.distributed.tensor._utils.compute_local_shape_and_global_offset",
    "The shape and global offset of this rank's shard of a DTensor")
