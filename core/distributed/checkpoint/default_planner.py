"""``ember.distributed.checkpoint.default_planner`` (declared only; see
``ember.distributed.checkpoint``)."""

from __future__ import annotations

from .._unsupported import Unsupported

__all__ = ["DefaultLoadPlanner", "DefaultSavePlanner"]


class DefaultLoadPlanner(Unsupported):
    """Plans which shards each rank reads (not supported by ember)."""

    _what = "ember.distributed.checkpoint.default_planner.DefaultLoadPlanner"


class DefaultSavePlanner(Unsupported):
    """Plans which shards each rank writes (not supported by ember)."""

    _what = "ember.distributed.checkpoint.default_planner.DefaultSavePlanner"
