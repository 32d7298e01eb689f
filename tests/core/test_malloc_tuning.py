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
    assert _settings() == "[('mmap_threshold', 33554432), ('trim_threshold', 268435456)]"


def test_opt_out_and_user_settings_win():
    assert _settings(EMBER_MALLOC_TUNING="0") == "[]"
    assert _settings(MALLOC_MMAP_THRESHOLD_="65536") == "[]"
    assert _settings(MALLOC_TRIM_THRESHOLD_="65536") == "[]"
