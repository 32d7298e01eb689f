"""Pure-Python libraries written for PyTorch run unchanged on ember imported as ``torch``
(einops: rearrange/reduce/repeat/einsum/pack and its nn layers; torchmetrics: accumulated
classification and regression metrics): the same script gives the same numbers under
real torch 2.13 and under ember (tests/torch_alias.py), each run in a subprocess."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "third_party_runner.py"


def run(tmp_path, aliased: bool) -> dict:
    out = tmp_path / ("ember.npz" if aliased else "torch.npz")
    cmd = [sys.executable] + ([str(HERE.parent / "torch_alias.py")] if aliased else []) + \
        [str(RUNNER), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return dict(np.load(out))


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("third_party")
    return run(tmp, aliased=False), run(tmp, aliased=True)


def test_runs_were_torch_and_ember(both):
    assert str(both[0]["framework"]) == "torch" and str(both[1]["framework"]) == "ember"


@pytest.mark.parametrize("key", ["rearrange", "reduce_mean", "repeat", "einsum", "pack",
                                 "unpack", "layers", "accuracy", "f1_macro", "confusion",
                                 "auroc", "mse", "r2", "pearson"])
def test_same_numbers(both, key):
    theirs, ours = both
    assert ours[key].shape == theirs[key].shape
    np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-6, atol=1e-7)
