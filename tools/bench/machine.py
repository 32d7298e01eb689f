"""What the machine is doing: this process's memory, and CPU used by everyone else.

Linux-specific (``/proc``); every reading degrades to ``None`` elsewhere.
"""

import os
import time

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def status_mb(field):
    """A memory field of /proc/self/status (``VmRSS``, ``VmHWM``) in MiB, or ``None``."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        pass
    return None


def reset_peak_rss():
    """Restart the kernel's peak-RSS counter (``VmHWM``); ``True`` when that worked."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _cpu_seconds():
    """(busy seconds of all CPUs, stolen seconds) from /proc/stat, or ``None``."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    busy = v[0] + v[1] + v[2] + v[5] + v[6]  # user nice system irq softirq
    return busy / _TICK, (v[7] if len(v) > 7 else 0) / _TICK


class CpuMeter:
    """Measures, between ``start()`` and ``stop()``, how many CPUs other processes kept busy
    (``others``) and how many the hypervisor took (``steal``), averaged over the interval."""

    def start(self):
        self._t, self._sys, self._own = time.perf_counter(), _cpu_seconds(), _own_seconds()
        return self

    def stop(self):
        """``{"others": cpus, "steal": cpus}`` (``None`` values without /proc/stat)."""
        wall = time.perf_counter() - self._t
        now = _cpu_seconds()
        if now is None or self._sys is None or wall <= 0:
            return {"others": None, "steal": None}
        others = (now[0] - self._sys[0]) - (_own_seconds() - self._own)
        return {"others": round(max(others, 0.0) / wall, 2),
                "steal": round((now[1] - self._sys[1]) / wall, 2)}


def _own_seconds():
    t = os.times()
    return t.user + t.system
