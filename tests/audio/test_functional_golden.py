"""ember.audio.functional and ember.audio.transforms against torchaudio's numbers.

Every case of tools/fixtures/audio_dsp_recipe.py runs on ember with the recipe's seeded
inputs and is compared with the golden outputs and input gradients that
tools/fixtures/audio_dsp_golden.py recorded from torchaudio 2.11 (tests/audio/golden/dsp.npz).
"""

from __future__ import annotations

import sys
from pathlib import Path

import ember
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "fixtures"))

from audio_dsp_recipe import CASES, make_inputs, weights  # noqa: E402
from golden_runner import run_case  # noqa: E402

GOLDEN = np.load(Path(__file__).resolve().parent / "golden" / "dsp.npz")
INPUTS = make_inputs()
CASE_IDS = [c[0] for c in CASES]


def _tol(ref: np.ndarray, grad: bool = False) -> tuple[float, float]:
    """(rtol, atol) for a reference array: float32 ~1e-5 relative to its scale, float64
    tighter. Gradients get a little more room (longer chains of rounding)."""
    scale = float(np.abs(ref).max()) if ref.size else 1.0
    scale = max(scale, 1.0)
    if ref.dtype == np.float64:
        return 1e-9, 1e-9 * scale
    return (5e-5, 5e-5 * scale) if grad else (2e-5, 2e-5 * scale)


def _to_np(t) -> np.ndarray:
    t = t.detach()
    if t.is_complex():
        t = ember.view_as_real(t)
    return np.asarray(t)


def _run(case, device="cpu"):
    return run_case(case, INPUTS, device, seed=0)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_torchaudio(case):
    """Forward values, dtypes and shapes equal torchaudio's; so do the stored gradients."""
    name, _, _, grad = case
    tensors, outs = _run(case)
    for i, o in enumerate(outs):
        key = f"{name}/out{i}"
        if o is None:
            assert key not in GOLDEN.files
            continue
        ref = GOLDEN[key]
        got = _to_np(o)
        assert got.dtype == ref.dtype, f"{key}: dtype {got.dtype} != torchaudio {ref.dtype}"
        assert got.shape == ref.shape, f"{key}: shape {got.shape} != torchaudio {ref.shape}"
        if ref.dtype.kind in "biu":
            np.testing.assert_array_equal(got, ref, err_msg=key)
        else:
            rtol, atol = _tol(ref)
            np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol, err_msg=key)
    if not grad:
        return
    o = outs[0]
    o = ember.view_as_real(o) if o.is_complex() else o
    w = ember.tensor(weights(tuple(o.shape)), dtype=o.dtype)
    gs = ember.autograd.grad((o * w).sum(), [tensors[j] for j in grad])
    for j, g in zip(grad, gs):
        key = f"{name}/grad{j}"
        ref = GOLDEN[key]
        assert g is not None, f"{key}: no gradient"
        rtol, atol = _tol(ref, grad=True)
        np.testing.assert_allclose(np.asarray(g), ref, rtol=rtol, atol=atol, err_msg=key)


def test_golden_covers_every_case():
    """Every recipe case has its golden output (the fixture was rerun after edits)."""
    for name in CASE_IDS:
        assert f"{name}/out0" in GOLDEN.files, name
