"""Fixtures for the ember.datasets tests: a local HTTP server and an isolated cache."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests/http_server.py
from http_server import isolate_environment, running_server  # noqa: E402


@pytest.fixture
def server(monkeypatch, tmp_path):
    """A running local file server, with EMBER_HOME under tmp_path."""
    isolate_environment(monkeypatch, tmp_path)
    with running_server() as srv:
        yield srv
