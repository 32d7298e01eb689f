"""Helpers of the ember.vision tests (a uniquely named module: tests/*/conftest.py files
share the module name ``conftest``, so tests import helpers from here)."""

import contextlib
from pathlib import Path

import numpy as np

GOLDEN = Path(__file__).resolve().parent / "golden"


def load_golden(name: str) -> dict:
    """The arrays of ``tests/vision/golden/<name>`` (made by
    tools/fixtures/make_vision_golden.py)."""
    with np.load(GOLDEN / name) as f:
        return {k: f[k] for k in f.files}


def assert_close(actual, expected, rtol=1e-4, atol=1e-5, scaled=False):
    """``actual`` (Tensor or array) against ``expected`` (array), with shape. ``scaled``
    multiplies ``atol`` by the largest magnitude of ``expected`` (for gradients that grow
    large through batch norm over few values)."""
    a = actual.detach().cpu().numpy() if hasattr(actual, "detach") else np.asarray(actual)
    assert a.shape == expected.shape, (a.shape, expected.shape)
    if scaled:
        atol = atol * max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(a, expected, rtol=rtol, atol=atol)


@contextlib.contextmanager
def skip_init():
    """Builds modules without drawing their random initial weights (the tests overwrite
    them with seeded ones, or only look at the structure): a test-time speed-up."""
    from ember.nn import init

    names = ["kaiming_uniform_", "kaiming_normal_", "uniform_", "normal_"]
    saved = {n: getattr(init, n) for n in names}
    try:
        for n in names:
            setattr(init, n, lambda tensor, *a, **k: tensor)
        yield
    finally:
        for n, f in saved.items():
            setattr(init, n, f)


def device_under_test() -> str:
    """``EMBER_TEST_DEVICE`` (default ``cpu``); skips the calling test module when it names
    CUDA and none is available."""
    import os

    import ember
    import pytest

    dev = os.environ.get("EMBER_TEST_DEVICE", "cpu")
    if dev.startswith("cuda") and not ember.cuda.is_available():
        pytest.skip("EMBER_TEST_DEVICE=cuda but CUDA is not available",
                    allow_module_level=True)
    return dev
