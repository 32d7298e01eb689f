"""``Timer`` and ``Measurement``: PyTorch's benchmark timer over ``timeit``."""

from __future__ import annotations

import enum
import statistics
import timeit

__all__ = ["Language", "Measurement", "Timer"]


class Language(enum.Enum):
    PYTHON = 0
    CPP = 1


def _fmt(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale or unit == "ns":
            return f"{seconds / scale:.2f} {unit}"
    return f"{seconds:.2f} s"  # pragma: no cover


class Measurement:
    """The times of one timed statement: ``times`` (seconds per run, one per block of
    ``number_per_run`` runs), with ``mean``, ``median`` and ``iqr``."""

    def __init__(self, number_per_run: int, raw_times: list, task_spec: dict):
        self.number_per_run = number_per_run
        self.raw_times = list(raw_times)
        self.times = [t / number_per_run for t in raw_times]
        self.task_spec = task_spec
        for k, v in task_spec.items():
            setattr(self, k, v)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def iqr(self) -> float:
        if len(self.times) < 2:
            return 0.0
        q = statistics.quantiles(self.times, n=4)
        return q[2] - q[0]

    @property
    def title(self) -> str:
        return self.label or self.stmt

    def __repr__(self) -> str:
        n = len(self.times)
        lines = [f"<ember.utils.benchmark.Measurement object at {hex(id(self))}>",
                 self.title]
        if self.sub_label or self.description:
            lines.append(": ".join(x for x in (self.sub_label, self.description) if x))
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
        self._timer = timeit.Timer(stmt=stmt, setup=setup, timer=timer,
                                   globals=dict(globals or {}))
        self._spec = {"stmt": stmt, "setup": setup, "label": label, "sub_label": sub_label,
                      "description": description, "env": env, "num_threads": num_threads}

    def _threads(self):
        from ... import get_num_threads, set_num_threads

        class _Guard:
            def __enter__(guard):
                guard.saved = get_num_threads()
                set_num_threads(self._spec["num_threads"])

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
