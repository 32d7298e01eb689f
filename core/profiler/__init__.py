"""``ember.profiler``: PyTorch's ``torch.profiler`` API (``profile`` with ``schedule`` and
``on_trace_ready``, ``record_function``, ``ProfilerActivity``) over ember's CPU-time profiler
(``ember.autograd.profiler``)."""

from ..autograd.profiler import record_function
from ._profile import (
    ProfilerAction,
    ProfilerActivity,
    profile,
    schedule,
    supported_activities,
    tensorboard_trace_handler,
)

__all__ = ["kineto_available", "profile", "record_function", "schedule", "ProfilerAction",
           "ProfilerActivity", "supported_activities", "tensorboard_trace_handler"]


def kineto_available() -> bool:
    """False: ember's profiler records its own events, not through PyTorch's Kineto."""
    return False
