"""Fixtures for the distributed tests: a launcher for worker processes on localhost, and a
clean distributed state around every test."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for _launch


@pytest.fixture(autouse=True)
def _no_process_group_left():
    """Every test starts and ends without a default process group in this process."""
    import ember.distributed as dist

    yield
    if dist.is_initialized():
        dist.destroy_process_group()
