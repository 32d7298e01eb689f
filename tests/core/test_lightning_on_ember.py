"""PyTorch Lightning runs unchanged on ember imported as ``torch``: ``Trainer.fit`` (training
and validation loops, Adam + StepLR, logging, model summary, checkpointing and
``load_from_checkpoint``) gives the same metrics and weights as with real torch 2.13."""

import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "lightning_runner.py"


def run(tmp_path, aliased: bool) -> dict:
    out = tmp_path / ("ember.npz" if aliased else "torch.npz")
    root = tmp_path / ("ember_run" if aliased else "torch_run")
    cmd = [sys.executable] + ([str(HERE.parent / "torch_alias.py")] if aliased else []) + \
        [str(RUNNER), str(out), str(root)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return dict(np.load(out))


def test_trainer_fit_matches_torch(tmp_path):
    theirs, ours = run(tmp_path, aliased=False), run(tmp_path, aliased=True)
    assert str(theirs["framework"]) == "torch" and str(ours["framework"]) == "ember"
    np.testing.assert_allclose(ours["metrics"], theirs["metrics"], rtol=1e-5)
    keys = sorted(k for k in theirs if k.startswith(("w.", "r.")))
    assert keys == sorted(k for k in ours if k.startswith(("w.", "r.")))
    for k in keys:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-5, atol=1e-6, err_msg=k)
    # the checkpoint ember wrote holds the trained weights
    for k in (k for k in keys if k.startswith("w.")):
        np.testing.assert_array_equal(ours["r." + k[2:]], ours[k])
