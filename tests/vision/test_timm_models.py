"""timm (the PyTorch image-model library) runs unchanged on ember imported as ``torch``:
models built by ``timm.create_model`` give the same float64 logits (eval and train mode)
and the same gradient norms as with real torch on the same seeded weights, and timm's
optimizers, scheduler, Mixup, loss and EMA follow torch's float64 trajectory (golden file
made by tools/fixtures/timm_golden.py with torch 2.14.1 and timm 1.0.31)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tools" / "fixtures"))
from timm_recipe import MODELS, OPTIMIZERS  # noqa: E402

# the float64 models compute their rotary / positional tables in float32 (timm makes them
# in the default dtype before .double()), where numpy's and torch's sin/cos may differ by
# an ulp: 1e-7 relative covers that and nothing larger
TOL = {"eva02_tiny_patch14_224": 1e-7, "edgenext_xx_small": 1e-7}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """All models run in one subprocess with ``torch`` aliased to ember."""
    out = tmp_path_factory.mktemp("timm") / "ember.npz"
    proc = subprocess.run(
        [sys.executable, str(HERE.parent / "torch_alias.py"), str(HERE / "timm_runner.py"),
         str(out), *MODELS, "--optimizers"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return np.load(out)


@pytest.fixture(scope="module")
def golden():
    return np.load(HERE / "golden" / "timm.npz")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_timm_model_matches_torch(results, golden, name):
    for key in ("eval", "train"):
        np.testing.assert_allclose(results[f"{name}/{key}"], golden[f"{name}/{key}"],
                                   rtol=TOL.get(name, 1e-9), atol=1e-9, err_msg=f"{name} {key}")
    assert list(results[f"{name}/grad_names"]) == list(golden[f"{name}/grad_names"])
    np.testing.assert_allclose(results[f"{name}/grad_norms"], golden[f"{name}/grad_norms"],
                               rtol=TOL.get(name, 1e-9), atol=1e-12,
                               err_msg=f"{name} gradients")


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_timm_optimizer_trajectory_matches_torch(results, golden, name):
    key = f"optim/{name}"
    np.testing.assert_allclose(results[f"{key}/lrs"], golden[f"{key}/lrs"], rtol=1e-12)
    np.testing.assert_allclose(results[f"{key}/losses"], golden[f"{key}/losses"], rtol=1e-9)
    # adaptive steps divide by each gradient's own size: where a gradient is ~0, rounding
    # decides the step, so the weights agree to ~1e-9, not to float64's last bits
    for part in ("norms", "ema_norms"):
        np.testing.assert_allclose(results[f"{key}/{part}"], golden[f"{key}/{part}"],
                                   rtol=1e-7, err_msg=f"{name} {part}")
