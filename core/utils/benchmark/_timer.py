"""``Timer`` and ``Measurement``: PyTorch's benchmark timer over ``timeit``."""

from __future__ import annotations

import enum
import math
import statistics
import textwrap
import timeit

__all__ = ["Language", "Measurement", "TaskSpec", "Timer"]


class Language(enum.Enum):
    PYTHON = 0
    CPP = 1


def _fmt(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale or unit == "ns":
            return f"{seconds / scale:.2f} {unit}"
    return f"{seconds:.2f} s"  # pragma: no cover


class TaskSpec:
    """What a ``Timer`` times (everything but its globals): ``stmt``, ``setup``, the labels,
    ``env`` and ``num_threads``, as ``torch.utils.benchmark``'s ``TaskSpec``. Hashable, so
    ``Measurement.merge`` can group replicates by it."""

    _FIELDS = ("stmt", "setup", "global_setup", "label", "sub_label", "description", "env",
               "num_threads")

    def __init__(self, stmt: str, setup: str, global_setup: str = "", label=None,
                 sub_label=None, description=None, env=None, num_threads: int = 1):
        for k, v in zip(self._FIELDS, (stmt, setup, global_setup, label, sub_label,
                                       description, env, num_threads)):
            object.__setattr__(self, k, v)

    def __setattr__(self, name, value):
        raise AttributeError(f"cannot assign to field '{name}'")  # frozen, as PyTorch's

    def _key(self) -> tuple:
        return tuple(getattr(self, k) for k in self._FIELDS)

    def __eq__(self, other) -> bool:
        return isinstance(other, TaskSpec) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def title(self) -> str:
        """The label (else the one-line statement), with the sub_label after a colon."""
        sub = f": {self.sub_label}" if self.sub_label else ""
        if self.label is not None:
            return self.label + sub
        if "\n" not in self.stmt:
            return self.stmt + sub
        return (f"stmt:{f' ({self.sub_label})' if self.sub_label else ''}\n"
                f"{textwrap.indent(self.stmt, '  ')}")

    def setup_str(self) -> str:
        """``setup: ...`` for reprs (empty for ``pass``)."""
        if self.setup == "pass" or not self.setup:
            return ""
        if "\n" in self.setup:
            return f"setup:\n{textwrap.indent(self.setup, '  ')}"
        return f"setup: {self.setup}"

    def summarize(self) -> str:
        """The title, description and setup, one per line."""
        parts = [self.title, self.description or "", self.setup_str()]
        return "\n".join(f"{p}\n" if "\n" in p else p for p in parts if p)


def _quantile(sorted_times: list, q: float) -> float:
    """Linear interpolation between the closest ranks (``torch.quantile``'s default)."""
    pos = (len(sorted_times) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_times) - 1)
    return sorted_times[lo] + (sorted_times[hi] - sorted_times[lo]) * (pos - lo)


class Measurement:
    """The times of one timed statement: ``times`` (seconds per run, one per block of
    ``number_per_run`` runs), with ``mean``, ``median`` and ``iqr`` (quartiles by linear
    interpolation, as PyTorch); the task's fields (``stmt``, ``label``, ...) read through."""

    def __init__(self, number_per_run: int, raw_times: list, task_spec, metadata=None):
        if isinstance(task_spec, dict):
            task_spec = TaskSpec(**task_spec)
        self.number_per_run = number_per_run
        self.raw_times = list(raw_times)
        self.task_spec = task_spec
        self.metadata = metadata

    def __getattr__(self, name: str):
        if name in TaskSpec._FIELDS:
            return getattr(self.task_spec, name)
        raise AttributeError(f"'Measurement' object has no attribute '{name}'")

    @property
    def times(self) -> list:
        """Seconds per run of each block."""
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.times)

    @property
    def median(self) -> float:
        return _quantile(sorted(self.times), 0.5)

    @property
    def iqr(self) -> float:
        ts = sorted(self.times)
        return _quantile(ts, 0.75) - _quantile(ts, 0.25)

    def meets_confidence(self, threshold: float = 0.1) -> bool:
        """Whether the IQR is under ``threshold`` times the median."""
        return self.iqr / self.median < threshold

    @property
    def has_warnings(self) -> bool:
        """Whether the IQR exceeds 10% of the median."""
        return bool(self.times) and not self.meets_confidence(0.1)

    @property
    def significant_figures(self) -> int:
        """A rough count of trustworthy digits, from the interquartile points' spread
        (between 1 and 6, as PyTorch estimates it)."""
        ts = sorted(self.times)
        n = len(ts)
        mid = ts[n // 4:math.ceil(3 * n / 4)]
        std = statistics.pstdev(mid) if len(mid) > 1 else 0.0
        ci = max(1.645 * std / math.sqrt(len(mid)), 1e-9)
        return min(max(int(math.floor(math.log10(self.median / ci))), 1), 6)

    @property
    def title(self) -> str:
        return self.task_spec.title

    @property
    def as_row_name(self) -> str:
        return self.sub_label or self.stmt or "[Unknown]"

    @staticmethod
    def merge(measurements) -> list:
        """Pools the per-run times of measurements with equal task specs (one merged
        ``Measurement`` each, ``number_per_run=1``, no metadata)."""
        groups: dict = {}
        for m in measurements:
            groups.setdefault(m.task_spec, []).extend(m.times)
        return [Measurement(1, times, spec) for spec, times in groups.items()]

    def __repr__(self) -> str:
        n = len(self.times)
        lines = [f"<ember.utils.benchmark.Measurement object at {hex(id(self))}>",
                 self.task_spec.summarize()]
        if n > 1:
            lines.append(f"  Median: {_fmt(self.median)}")
            lines.append(f"  IQR:    {_fmt(self.iqr)} ({self.times and min(self.times):.2e} "
                         f"to {max(self.times):.2e})")
        else:
            lines.append(f"  {_fmt(self.median)}")
        lines.append(f"  {n} measurement{'s' if n != 1 else ''}, {self.number_per_run} runs "
                     f"{'per measurement' if n > 1 else ''}, {self.num_threads} thread"
                     f"{'s' if self.num_threads != 1 else ''}")
        return "\n".join(lines)


def _dedent(code: str) -> str:
    code = textwrap.dedent(code)
    return (code[1:] if code and code[0] == "\n" else code).rstrip()


class Timer:
    """Times a Python statement (``stmt`` after ``setup``, names from ``globals``) with the
    given number of intra-op threads, as ``torch.utils.benchmark.Timer``."""

    def __init__(self, stmt: str = "pass", setup: str = "pass", global_setup: str = "",
                 timer=timeit.default_timer, globals: dict | None = None,
                 label: str | None = None, sub_label: str | None = None,
                 description: str | None = None, env: str | None = None,
                 num_threads: int = 1, language=Language.PYTHON):
        if language not in (Language.PYTHON, "py", "python"):
            raise ValueError("ember.utils.benchmark.Timer times Python statements only")
        if global_setup:
            raise ValueError(f"global_setup is C++ only, got `{global_setup}`. Most likely "
                             "this code can simply be moved to `setup`.")
        import ember

        globals = dict(globals or {})
        globals.setdefault("torch", ember)  # as PyTorch's Timer provides ``torch``
        # indented block strings (a statement written inside a function) are dedented
        stmt, setup = (_dedent(c) for c in (stmt, setup))
        self._timer = timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=globals)
        self._spec = TaskSpec(stmt=stmt, setup=setup, label=label, sub_label=sub_label,
                              description=description, env=env, num_threads=num_threads)

    def _threads(self):
        from ... import get_num_threads, set_num_threads

        class _Guard:
            def __enter__(guard):
                guard.saved = get_num_threads()
                set_num_threads(self._spec.num_threads)

            def __exit__(guard, *exc):
                set_num_threads(guard.saved)

        return _Guard()

    def timeit(self, number: int = 1000000) -> Measurement:
        """Runs the statement ``number`` times once (after one warm-up run)."""
        with self._threads():
            self._timer.timeit(number=max(number // 100, 2))
            return Measurement(number, [self._timer.timeit(number=number)], self._spec)

    def repeat(self, repeat: int = -1, number: int = -1):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback=None):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _block_size(self, min_block: float = 0.025) -> int:
        number = 1
        while True:
            if self._timer.timeit(number=number) >= min_block or number >= 1 << 30:
                return number
            number *= 10

    def blocked_autorange(self, callback=None, min_run_time: float = 0.2) -> Measurement:
        """Blocks of runs (each at least ~25 ms) until ``min_run_time`` seconds are spent."""
        with self._threads():
            number = self._block_size()
            times, total = [], 0.0
            while total < min_run_time or not times:
                t = self._timer.timeit(number=number)
                if callback is not None:
                    callback(number, t)
                times.append(t)
                total += t
            return Measurement(number, times, self._spec)

    def adaptive_autorange(self, threshold: float = 0.1, *, min_run_time: float = 0.01,
                           max_run_time: float = 10.0, callback=None) -> Measurement:
        """Blocks until the IQR/median falls under ``threshold`` (or ``max_run_time``)."""
        with self._threads():
            number = self._block_size(min_block=min_run_time / 10)
            times, total = [], 0.0
            while total < max_run_time:
                t = self._timer.timeit(number=number)
                if callback is not None:
                    callback(number, t)
                times.append(t)
                total += t
                m = Measurement(number, times, self._spec)
                if len(times) > 3 and total >= min_run_time and \
                        m.iqr / max(m.median, 1e-30) < threshold:
                    break
            return Measurement(number, times, self._spec)
