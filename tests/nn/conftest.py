"""Fixtures for the ``ember.nn`` tests: the device under test and a fixed seed per test."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for nn_compare


@pytest.fixture
def device():
    """The device the test bodies run on: ``EMBER_TEST_DEVICE`` (default ``cpu``)."""
    dev = os.environ.get("EMBER_TEST_DEVICE", "cpu")
    if dev.startswith("cuda"):
        import ember

        if not ember.cuda.is_available():
            pytest.skip("EMBER_TEST_DEVICE=cuda but CUDA is not available")
    return dev


@pytest.fixture(autouse=True)
def _fresh_state():
    """Every test starts seeded, with grad mode on and float32 as the default dtype."""
    import ember
    import torch

    ember.manual_seed(0)
    torch.manual_seed(0)
    yield
    ember.set_grad_enabled(True)
    ember.set_default_dtype(ember.float32)
