"""ember tunes glibc's heap at import so that large array buffers are reused (core/_malloc)."""

import os
import subprocess
import sys

import pytest

REPORT = "import ember._malloc as m; print(sorted(m.malloc_settings().items()))"


def _settings(**env):
    full = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    full.pop("EMBER_MALLOC_TUNING", None)
    full.update(env)
    out = subprocess.run([sys.executable, "-c", REPORT], env=full, capture_output=True,
                         text=True, check=True)
    return out.stdout.strip()


def _glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (ValueError, OSError, AttributeError):
        return False


@pytest.mark.skipif(not _glibc(), reason="mallopt tuning applies to glibc only")
def test_import_sets_both_thresholds_on_glibc():
    from ember._malloc import trim_threshold

    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    trim = trim_threshold()
    assert trim == max(256 << 20, min(4 << 30, total // 8))
    assert _settings() == f"[('mmap_threshold', 33554432), ('trim_threshold', {trim})]"


@pytest.mark.skipif(not _glibc(), reason="mallopt tuning applies to glibc only")
def test_step_sized_frees_are_kept_not_refaulted():
    """Freeing and re-making 400 MiB of 8 MiB buffers (a training step's activations) does
    not fault the pages in again: the heap keeps its freed top."""
    code = """
import resource
import numpy as np
import ember
def step():
    bufs = [np.ones(2 << 20, np.float32) for _ in range(50)]
    del bufs
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
    full = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    full.pop("EMBER_MALLOC_TUNING", None)
    faults = int(subprocess.run([sys.executable, "-c", code], env=full, capture_output=True,
                                text=True, check=True).stdout)
    assert faults < 2000, faults  # 400 MiB refaulted would be ~100,000 per step


def test_opt_out_and_user_settings_win():
    assert _settings(EMBER_MALLOC_TUNING="0") == "[]"
    assert _settings(MALLOC_MMAP_THRESHOLD_="65536") == "[]"
    assert _settings(MALLOC_TRIM_THRESHOLD_="65536") == "[]"
