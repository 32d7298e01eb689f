"""``ember.autograd.profiler``: ``profile`` and ``record_function``, as
``torch.autograd.profiler``.

``profile`` records timed events while active: regions marked with ``record_function``, and
ops when the op mechanism reports them through ``record_op`` (one check of ``_ACTIVE`` per
op while no profiler runs). On exit, events are nested by time containment, so each has a
total time and a self time (total minus its children's), and ``key_averages().table()``
prints PyTorch's table::

    with profile() as prof:
        with record_function("forward"):
            model(x)
    print(prof.key_averages().table(sort_by="self_cpu_time_total"))

ember measures CPU wall time only: the device columns, memory, FLOPs and stacks of
PyTorch's profiler are not recorded (their arguments are accepted). With ``use_cuda=True``
(or ``use_device="cuda"``; ``torch.profiler.profile`` asks for it with CUDA among its
activities) each op waits for the GPU before its end is taken, so an op's time includes its
kernels' (launches are otherwise asynchronous and an op would show its launch cost only).
"""

from __future__ import annotations

import functools
import json
import threading
import time

__all__ = ["profile", "record_function", "record_op", "emit_nvtx", "FunctionEvent",
           "FunctionEventAvg", "EventList", "is_profiler_enabled"]

_ACTIVE: list = []  # profilers recording now, innermost last
_SYNC_DEVICE = [0]  # how many of them want each op to wait for the GPU (use_cuda)


def is_profiler_enabled() -> bool:
    """True while a ``profile`` context is recording."""
    return bool(_ACTIVE)


def _now_us() -> float:
    return time.perf_counter_ns() / 1000.0


def _format_time(time_us: float) -> str:
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


def _format_time_share(time_us: float, total_us: float) -> str:
    if total_us == 0:
        return "NaN"
    return f"{time_us * 100.0 / total_us:.2f}%"


class FunctionEvent:
    """One timed event: an op call or a ``record_function`` region (times in us)."""

    def __init__(self, id: int, name: str, thread: int, start_us: float, end_us: float,
                 input_shapes=None, is_user_annotation: bool = False):
        self.id = id
        self.name = name
        self.thread = thread
        self.start_us = start_us
        self.end_us = end_us
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.is_user_annotation = is_user_annotation
        self.cpu_children: list = []
        self.cpu_parent = None
        self.count = 1
        self.is_async = False

    @property
    def key(self) -> str:
        return self.name

    @property
    def cpu_time_total(self) -> float:
        return self.end_us - self.start_us

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total

    cpu_time_total_str = property(lambda self: _format_time(self.cpu_time_total))
    self_cpu_time_total_str = property(lambda self: _format_time(self.self_cpu_time_total))
    cpu_time_str = property(lambda self: _format_time(self.cpu_time))

    def __repr__(self) -> str:
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time="
                f"{self.cpu_time_total_str} self_cpu_time={self.self_cpu_time_total_str} "
                f"input_shapes={self.input_shapes}>")


class FunctionEventAvg:
    """Events of one key (name, optionally input shapes) summed: count and times."""

    def __init__(self) -> None:
        self.key = None
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.input_shapes = None
        self.is_user_annotation = False
        self.cpu_parent = None
        self.is_async = False

    def add(self, other) -> FunctionEventAvg:
        if self.key is None:
            self.key = other.key
            self.input_shapes = other.input_shapes
            self.is_user_annotation = other.is_user_annotation
        self.count += other.count
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        return self

    __iadd__ = add

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count if self.count else 0.0

    @property
    def self_cpu_time(self) -> float:
        return self.self_cpu_time_total / self.count if self.count else 0.0

    cpu_time_total_str = property(lambda self: _format_time(self.cpu_time_total))
    self_cpu_time_total_str = property(lambda self: _format_time(self.self_cpu_time_total))
    cpu_time_str = property(lambda self: _format_time(self.cpu_time))

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str}"
                f" cpu_time={self.cpu_time_total_str} input_shapes={self.input_shapes}>")


class EventList(list):
    """A list of events with PyTorch's summaries: ``key_averages``, ``table``,
    ``total_average``, ``export_chrome_trace``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args)

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shape: bool = False,
                     group_by_stack_n: int = 0) -> EventList:
        """Events averaged per name (and per input shapes when asked)."""
        stats: dict = {}
        for e in self:
            key = (e.key, str(e.input_shapes)) if group_by_input_shape else e.key
            stats.setdefault(key, FunctionEventAvg()).add(e)
        return EventList(stats.values())

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg()
        for e in self:
            total.add(e)
        total.key = "Total"
        return total

    def table(self, sort_by: str | None = None, row_limit: int = 100,
              max_src_column_width: int = 75, max_name_column_width: int = 55,
              max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False) -> str:
        """The events as PyTorch's profiler table."""
        return _build_table(self, sort_by, row_limit, max_name_column_width,
                            max_shapes_column_width, header, top_level_events_only)

    def export_chrome_trace(self, path: str) -> None:
        """Writes the events in Chrome's trace format (``chrome://tracing``, Perfetto)."""
        events = [{"name": e.name, "ph": "X", "ts": e.start_us, "dur": e.cpu_time_total,
                   "tid": e.thread, "pid": "CPU functions",
                   "args": {"Input Dims": e.input_shapes} if e.input_shapes else {}}
                  for e in self if isinstance(e, FunctionEvent)]
        with open(path, "w") as f:
            json.dump({"traceEvents": events}, f)


def _build_table(events, sort_by, row_limit, max_name_column_width, max_shapes_column_width,
                 header, top_level_events_only) -> str:
    events = list(events)
    if not events:
        return ""
    if sort_by is not None:
        events = sorted(events, key=lambda e: getattr(e, sort_by.replace("cuda", "device"), 0),
                        reverse=True)
    has_shapes = any(e.input_shapes for e in events)
    name_width = max(len(e.key) for e in events) + 4
    if max_name_column_width is not None:
        name_width = min(name_width, max_name_column_width)
    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
               "# of Calls"]
    widths = [name_width] + [12] * (len(headers) - 1)
    if has_shapes:
        headers.append("Input Shapes")
        sw = max(len(str(e.input_shapes)) for e in events) + 4
        widths.append(min(sw, max_shapes_column_width) if max_shapes_column_width else sw)
    row_format = "".join("{: >" + str(w) + "}  " for w in widths)
    header_sep = "".join("-" * w + "  " for w in widths)
    line_length = sum(w + 2 for w in widths) - 2
    total_self = sum(e.self_cpu_time_total for e in events)
    out = []
    if header is not None:
        out += ["=" * line_length, header]
    if top_level_events_only:
        out += ["=" * line_length, "This report only display top-level ops statistics"]
    out += [header_sep, row_format.format(*headers), header_sep]
    shown = 0
    for e in events:
        if shown == row_limit:
            break
        if top_level_events_only and e.cpu_parent is not None:
            continue
        shown += 1
        name = e.key
        if max_name_column_width is not None and len(name) >= max_name_column_width - 3:
            name = name[:max_name_column_width - 3] + "..."
        row = [name, _format_time_share(e.self_cpu_time_total, total_self),
               e.self_cpu_time_total_str, _format_time_share(e.cpu_time_total, total_self),
               e.cpu_time_total_str, e.cpu_time_str, e.count]
        if has_shapes:
            row.append(str(e.input_shapes)[:widths[-1]])
        out.append(row_format.format(*row))
    out.append(header_sep)
    out.append(f"Self CPU time total: {_format_time(total_self)}")
    return "\n".join(out) + "\n"


class profile:
    """Context manager that records timed events (``record_function`` regions and, once the
    op mechanism reports them, ops) and summarises them as PyTorch's profiler does."""

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device=None,
                 record_shapes: bool = False, with_flops: bool = False,
                 profile_memory: bool = False, with_stack: bool = False,
                 with_modules: bool = False, use_kineto: bool = True, use_cpu: bool = True,
                 experimental_config=None, acc_events: bool = False,
                 custom_trace_id_callback=None) -> None:
        self.enabled = enabled
        self.record_shapes = record_shapes
        self.sync_device = bool(use_cuda) or str(use_device or "").startswith("cuda")
        self.function_events = None
        self.entered = False
        self._raw: list = []
        self._lock = threading.Lock()
        self._next_id = 0

    def __enter__(self) -> profile:
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        self._raw = []
        self._t0 = _now_us()
        _ACTIVE.append(self)
        _SYNC_DEVICE[0] += self.sync_device
        return self

    def __exit__(self, *exc) -> None:
        if not self.enabled:
            return
        if self in _ACTIVE:
            _ACTIVE.remove(self)
            _SYNC_DEVICE[0] -= self.sync_device
        end = _now_us()
        for ev in self._raw:  # regions left open (an exception inside): close them now
            if ev.end_us is None:
                ev.end_us = end
        self.function_events = EventList(_nest(self._raw))
        self.entered = False

    # -- recording (used by record_function and record_op) -----------------------------------
    def _new_event(self, name: str, start_us: float, end_us, shapes, user: bool):
        with self._lock:
            ev = FunctionEvent(self._next_id, name, threading.get_ident(), start_us - self._t0,
                               None if end_us is None else end_us - self._t0,
                               shapes if self.record_shapes else None, user)
            self._next_id += 1
            self._raw.append(ev)
        return ev

    def _close(self, ev: FunctionEvent, end_us: float) -> None:
        ev.end_us = end_us - self._t0

    # -- results ----------------------------------------------------------------------------
    def _check_finished(self) -> None:
        if self.function_events is None:
            raise RuntimeError("Profiler didn't finish running")

    def events(self) -> EventList:
        self._check_finished()
        return self.function_events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """Events averaged per name (and per input shapes when asked)."""
        self._check_finished()
        return self.function_events.key_averages(group_by_input_shape, group_by_stack_n)

    def table(self, sort_by: str | None = None, row_limit: int = 100,
              max_src_column_width: int = 75, max_name_column_width: int = 55,
              max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False) -> str:
        self._check_finished()
        return self.function_events.table(sort_by, row_limit, max_src_column_width,
                                          max_name_column_width, max_shapes_column_width,
                                          header, top_level_events_only)

    def total_average(self) -> FunctionEventAvg:
        self._check_finished()
        return self.function_events.total_average()

    def export_chrome_trace(self, path: str) -> None:
        self._check_finished()
        self.function_events.export_chrome_trace(path)

    @property
    def self_cpu_time_total(self) -> float:
        self._check_finished()
        return self.function_events.self_cpu_time_total

    def __str__(self) -> str:
        return self.table() if self.function_events is not None else "<unfinished profile>"


def _nest(raw: list) -> list:
    """Sets parents and children by time containment (per thread); returns the events in
    start order."""
    events = sorted(raw, key=lambda e: (e.thread, e.start_us, -e.end_us))
    stacks: dict = {}
    for ev in events:
        ev.cpu_children = []
        ev.cpu_parent = None
        stack = stacks.setdefault(ev.thread, [])
        while stack and not (stack[-1].start_us <= ev.start_us and
                             ev.end_us <= stack[-1].end_us):
            stack.pop()
        if stack:
            ev.cpu_parent = stack[-1]
            stack[-1].cpu_children.append(ev)
        stack.append(ev)
    return sorted(events, key=lambda e: (e.start_us, e.id))


class record_function:
    """Context manager (and decorator) that marks a named region in the active profilers'
    records; a no-op when none is active."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name
        self.args = args
        self._events: list = []

    def __enter__(self) -> record_function:
        t = _now_us()
        self._events.append([(p, p._new_event(self.name, t, None, None, True))
                             for p in _ACTIVE])
        return self

    def __exit__(self, *exc) -> None:
        t = _now_us()
        for p, ev in self._events.pop():
            p._close(ev, t)

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with record_function(self.name, self.args):
                return func(*args, **kwargs)
        return wrapper


def wait_for_device() -> None:
    """Waits for the current GPU's queued kernels when a recording profiler asked for it
    (``use_cuda``) and CUDA is in use; called by the op mechanism at the end of each op."""
    if _SYNC_DEVICE[0]:
        from .. import _device

        if _device._cupy is not None:  # pragma: no cover - cuda
            _device._cupy.cuda.Device().synchronize()


def record_op(name: str, start_ns: int, end_ns: int, input_shapes=None) -> None:
    """Reports one op call (``time.perf_counter_ns()`` before and after) to the active
    profilers, as ``aten::<name>``; the op mechanism calls it while ``_ACTIVE`` is not
    empty."""
    for p in _ACTIVE:
        p._new_event("aten::" + name, start_ns / 1000.0, end_ns / 1000.0, input_shapes, False)


class emit_nvtx:
    """``torch.autograd.profiler.emit_nvtx``: NVTX ranges for NVIDIA's profilers. ember's ops
    emit none; entering it raises where CUDA is unavailable (as there is nothing to mark)
    and is a no-op block otherwise."""

    def __init__(self, enabled: bool = True, record_shapes: bool = False) -> None:
        self.enabled = enabled
        self.record_shapes = record_shapes

    def __enter__(self):
        from .. import cuda

        if self.enabled and not cuda.is_available():
            raise RuntimeError("emit_nvtx: NVTX ranges need CUDA, which is not available")
        return self

    def __exit__(self, *exc):
        return False
