"""Fixtures for the ember.vision tests: golden files made by
tools/fixtures/make_vision_golden.py (with torchvision) and the shared seeded recipe."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "fixtures"))  # vision_recipe
sys.path.insert(0, str(ROOT / "tests"))  # http_server

sys.path.insert(0, str(Path(__file__).resolve().parent))  # vision_helpers
from vision_helpers import load_golden  # noqa: E402


@pytest.fixture(scope="session")
def diffusers():
    """Hugging Face diffusers (with PyTorch, the reference), or a skip."""
    pytest.importorskip("torch")
    df = pytest.importorskip("diffusers")
    df.utils.logging.set_verbosity_error()
    df.utils.logging.disable_progress_bar()
    return df


@pytest.fixture(scope="session")
def kornia():
    """kornia (with PyTorch, the reference), or a skip."""
    pytest.importorskip("torch")
    return pytest.importorskip("kornia")


@pytest.fixture(scope="session")
def ops_golden():
    return load_golden("ops.npz")


@pytest.fixture(scope="session")
def models_golden():
    return load_golden("models.npz")


@pytest.fixture(scope="session")
def transforms_golden():
    return load_golden("transforms.npz")


@pytest.fixture(autouse=True)
def _restore_state():
    """Every test starts with grad mode on and float32 as the default dtype."""
    import ember

    yield
    ember.set_grad_enabled(True)
    ember.set_default_dtype(ember.float32)


@pytest.fixture
def server(monkeypatch, tmp_path):
    """A running local file server, with EMBER_HOME under tmp_path."""
    from http_server import isolate_environment, running_server

    isolate_environment(monkeypatch, tmp_path)
    with running_server() as srv:
        yield srv
