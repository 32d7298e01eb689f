"""``ember.backends.cpu``: the CPU's vector capability, as PyTorch reports it."""

from __future__ import annotations

__all__ = ["get_cpu_capability"]


def get_cpu_capability() -> str:
    """The widest x86 vector extension the CPU has (``AVX512``, ``AVX2`` or ``DEFAULT``),
    read from /proc/cpuinfo where present."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return "DEFAULT"
    if "avx512f" in flags and "avx512bw" in flags and "avx512vl" in flags:
        return "AVX512"
    if "avx2" in flags:
        return "AVX2"
    return "DEFAULT"
