"""``profile``: ``torch.profiler.profile`` over ember's CPU-time profiler.

Without a ``schedule`` the whole ``with`` block is recorded. With one, ``prof.step()`` marks
iterations: steps the schedule puts in RECORD or RECORD_AND_SAVE are recorded, and at the
end of each active span ``on_trace_ready(prof)`` is called with the span's events (what
``key_averages()`` and ``export_chrome_trace`` then report), as PyTorch does. WARMUP steps are
not recorded (PyTorch records and discards them). Only CPU time is measured: asking for CUDA
activity (the default where a GPU is present) records the same CPU-side events, each op
waiting for its kernels so that its time includes theirs.
"""

from __future__ import annotations

import enum
import os
import socket
import time

from .. import _device
from ..autograd import profiler as _autograd_profiler

__all__ = ["ProfilerAction", "ProfilerActivity", "profile", "schedule", "supported_activities",
           "tensorboard_trace_handler"]


class ProfilerActivity(enum.Enum):
    """The kinds of activity PyTorch can record."""

    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    """What a schedule asks of one step."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


_RECORDING = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)


def supported_activities() -> set:
    """CPU, and CUDA when a GPU is present."""
    acts = {ProfilerActivity.CPU}
    if _device.cuda_available():
        acts.add(ProfilerActivity.CUDA)
    return acts


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0):
    """PyTorch's profiler schedule: after ``skip_first`` steps, cycles of ``wait`` idle,
    ``warmup`` and ``active`` steps (the last one RECORD_AND_SAVE), ``repeat`` times (0:
    forever)."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(f"Invalid profiler schedule arguments. Got wait={wait} (need >= "
                             f"0), warmup={warmup} (need >= 0), active={active} (need > 0), "
                             f"repeat={repeat} (need >= 0), skip_first={skip_first} (need >= "
                             f"0).")
    if warmup == 0:
        import warnings

        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)

    def schedule_fn(step: int) -> ProfilerAction:
        if step < 0:
            raise ValueError(f"Step must be non-negative, got {step}")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:  # the first cycle starts without its wait
            step += wait
        cycle = wait + warmup + active
        if repeat > 0 and step / cycle >= repeat:
            return ProfilerAction.NONE
        pos = step % cycle
        if pos < wait:
            return ProfilerAction.NONE
        if pos < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if pos < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return schedule_fn


def _always_record(step: int) -> ProfilerAction:
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False, use_python_export: bool = False):
    """An ``on_trace_ready`` handler writing each trace as Chrome-trace JSON into
    ``dir_name`` (``<worker>.<time_ns>.pt.trace.json``, as PyTorch names them: nanoseconds,
    so that traces saved in quick succession get files of their own)."""

    def handler_fn(prof) -> None:
        os.makedirs(dir_name, exist_ok=True)
        name = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        path = os.path.join(dir_name, f"{name}.{time.time_ns()}.pt.trace.json")
        if use_gzip:
            import gzip
            import shutil

            prof.export_chrome_trace(path)
            with open(path, "rb") as src, gzip.open(path + ".gz", "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.remove(path)
        else:
            prof.export_chrome_trace(path)

    return handler_fn


class profile:
    """``torch.profiler.profile``: records ops and ``record_function`` regions (CPU time).

    Args:
        activities: accepted (CPU time is what ember measures).
        schedule: a function of the step number giving a ``ProfilerAction`` (see ``schedule``).
        on_trace_ready: called with the profiler at the end of each recorded span.
        record_shapes: keep input shapes (``key_averages(group_by_input_shape=True)``).
        profile_memory, with_stack, with_flops, with_modules: accepted, not recorded.
    """

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_flops: bool = False, with_modules: bool = False,
                 experimental_config=None, execution_trace_observer=None,
                 acc_events: bool = False, use_cuda=None, custom_trace_id_callback=None):
        self.activities = set(activities) if activities else supported_activities()
        self.schedule = schedule or _always_record
        self.on_trace_ready = on_trace_ready
        self.record_shapes = record_shapes
        self.step_num = 0
        self.current_action = self.schedule(self.step_num)
        self._inner = None  # the autograd profiler of the span being recorded
        self.profiler = None  # the last finished span

    # lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        """Begins profiling at step 0."""
        if self.current_action in _RECORDING:
            self._begin()

    def stop(self) -> None:
        """Ends profiling; a span still being recorded is finished and handed over."""
        if self._inner is not None:
            self._finish()

    def step(self) -> None:
        """Marks the end of one iteration and applies the schedule's next action."""
        prev = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        if prev is ProfilerAction.RECORD_AND_SAVE or (
                prev in _RECORDING and self.current_action not in _RECORDING):
            self._finish()
        if self.current_action in _RECORDING and self._inner is None:
            self._begin()

    def _begin(self) -> None:
        self._inner = _autograd_profiler.profile(
            record_shapes=self.record_shapes,
            use_cuda=ProfilerActivity.CUDA in self.activities)  # ops wait for their kernels
        self._inner.__enter__()

    def _finish(self) -> None:
        inner, self._inner = self._inner, None
        inner.__exit__(None, None, None)
        self.profiler = inner
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    # results (of the last finished span) -------------------------------------------------
    def _done(self):
        if self.profiler is None:
            raise RuntimeError("Profiler didn't finish running")
        return self.profiler

    def events(self):
        """The events of the last recorded span."""
        return self._done().events()

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False):
        """Events averaged per name (and input shapes when asked)."""
        return self._done().key_averages(group_by_input_shape, group_by_stack_n)

    def export_chrome_trace(self, path: str, use_python_export: bool = False) -> None:
        """Writes the last span as a Chrome trace (chrome://tracing, Perfetto)."""
        self._done().export_chrome_trace(path)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        """Not available: ember does not record stacks."""
        raise NotImplementedError("ember.profiler does not record stacks (with_stack)")

    def export_memory_timeline(self, path: str, device=None) -> None:
        """Not available: ember does not record memory."""
        raise NotImplementedError("ember.profiler does not record memory (profile_memory)")
