"""ember.audio's ``sliding_window_cmn``/``SlidingWindowCmn``, ``loudness``/``Loudness``,
``edit_distance`` and ``InverseMelScale`` against torchaudio.

The MORE_CASES of tools/fixtures/audio_kaldi_recipe.py run on ember with the recipe's seeded
inputs and are compared with the outputs and input gradients that
tools/fixtures/audio_kaldi_golden.py recorded from torchaudio 2.11
(tests/audio/golden/dsp_more.npz). Beside them: a per-frame reference for the CMN windows,
float64 numerical gradients (where torchaudio has none, too) and errors on bad input.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import ember
import ember.audio.functional as F
import ember.audio.transforms as T
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "fixtures"))
sys.path.insert(0, str(ROOT / "tests" / "core"))

from audio_kaldi_recipe import (  # noqa: E402
    EDIT_DISTANCE_CASES,
    MORE_CASES,
    make_inputs,
    weights,
)
from golden_runner import run_case  # noqa: E402
from torch_compare import gradcheck  # noqa: E402

# the golden comparisons run on EMBER_TEST_DEVICE (CUDA in a GPU run)
DEVICE = os.environ.get("EMBER_TEST_DEVICE", "cpu")
if DEVICE.startswith("cuda") and not ember.cuda.is_available():
    pytest.skip("EMBER_TEST_DEVICE=cuda but CUDA is not available", allow_module_level=True)
GOLDEN = np.load(Path(__file__).resolve().parent / "golden" / "dsp_more.npz")
INPUTS = make_inputs()
CASE_IDS = [c[0] for c in MORE_CASES]


def _tol(ref: np.ndarray, grad: bool = False) -> tuple[float, float]:
    """(rtol, atol) relative to the reference's scale: float32 2e-5 (5e-5 for gradients),
    float64 1e-9."""
    scale = max(float(np.abs(ref).max()) if ref.size else 1.0, 1.0)
    if ref.dtype == np.float64:
        return 1e-9, 1e-9 * scale
    r = 5e-5 if grad else 2e-5
    return r, r * scale


@pytest.mark.parametrize("case", MORE_CASES, ids=CASE_IDS)
def test_matches_torchaudio(case):
    """Values, dtypes and shapes equal torchaudio's; so do the stored input gradients."""
    name, _, _, grad = case
    tensors, (out,) = run_case(case, INPUTS, DEVICE)
    ref = GOLDEN[f"{name}/out0"]
    got = out.detach().cpu().numpy()
    assert got.dtype == ref.dtype, f"{name}: dtype {got.dtype} != torchaudio {ref.dtype}"
    assert got.shape == ref.shape, f"{name}: shape {got.shape} != torchaudio {ref.shape}"
    rtol, atol = _tol(ref)
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol, err_msg=name)
    if not grad:
        return
    w = ember.tensor(weights(tuple(out.shape)), dtype=out.dtype, device=out.device)
    gs = ember.autograd.grad((out * w).sum(), [tensors[j] for j in grad])
    for j, g in zip(grad, gs):
        ref = GOLDEN[f"{name}/grad{j}"]
        rtol, atol = _tol(ref, grad=True)
        np.testing.assert_allclose(g.cpu().numpy(), ref, rtol=rtol, atol=atol,
                                   err_msg=f"{name}/grad{j}")


def test_golden_covers_every_case():
    """Every recipe case has its golden output (the fixture was rerun after edits)."""
    for name in CASE_IDS:
        assert f"{name}/out0" in GOLDEN.files, name


# -- sliding_window_cmn ----------------------------------------------------------------------
def _cmn_reference(x: np.ndarray, cmn_window, min_cmn_window, center, norm_vars):
    """Kaldi's per-frame definition, one frame at a time (float64 numpy)."""
    n = x.shape[0]
    out = np.zeros_like(x)
    for t in range(n):
        if center:
            start = t - cmn_window // 2
            end = start + cmn_window
        else:
            start, end = t - cmn_window, t + 1
        if start < 0:
            end, start = end - start, 0
        if not center and end > t:
            end = max(t + 1, min_cmn_window)
        if end > n:
            start, end = max(start - (end - n), 0), n
        win = x[start:end]
        out[t] = x[t] - win.mean(0)
        if norm_vars:
            out[t] = 0.0 if len(win) == 1 else out[t] / np.sqrt(
                (win ** 2).mean(0) - win.mean(0) ** 2)
    return out


@pytest.mark.parametrize("cmn_window,min_cmn_window,center,norm_vars", [
    (600, 100, False, False), (7, 3, False, True), (7, 30, False, False), (6, 3, True, True),
    (5, 1, False, True), (0, 0, False, False), (40, 0, True, False),
])
def test_sliding_window_cmn_matches_per_frame_definition(cmn_window, min_cmn_window, center,
                                                         norm_vars):
    """Every frame is normalized by the statistics of exactly Kaldi's window for it."""
    x = np.random.default_rng(1).normal(size=(25, 4)) + 3.0
    got = F.sliding_window_cmn(ember.tensor(x), cmn_window, min_cmn_window, center, norm_vars)
    ref = _cmn_reference(x, cmn_window, min_cmn_window, center, norm_vars)
    np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("norm_vars,center", [(False, False), (True, False), (True, True)])
def test_sliding_window_cmn_float64_numerical_gradient(norm_vars, center):
    """Gradients equal central differences, norm_vars included (torchaudio's in-place
    running sums make that path non-differentiable there)."""
    x = ember.tensor(np.random.default_rng(2).normal(size=(2, 9, 3)), dtype=ember.float64,
                     requires_grad=True)
    gradcheck(lambda v: F.sliding_window_cmn(v, 4, 2, center, norm_vars), (x,))


def test_sliding_window_cmn_module_and_errors():
    """SlidingWindowCmn keeps its options and calls the function; a 1-D input raises."""
    m = T.SlidingWindowCmn(cmn_window=5, center=True)
    x = ember.tensor(INPUTS["feats"])
    np.testing.assert_array_equal(np.asarray(m(x)),
                                  np.asarray(F.sliding_window_cmn(x, 5, 100, True, False)))
    assert (m.cmn_window, m.min_cmn_window, m.center, m.norm_vars) == (5, 100, True, False)
    with pytest.raises(ValueError, match=r"sliding_window_cmn: expected .*\(..., time, freq\)"):
        F.sliding_window_cmn(ember.zeros(5))


# -- loudness --------------------------------------------------------------------------------
def test_loudness_of_full_scale_997hz_sine():
    """BS.1770's calibration signal, a 0 dBFS 997 Hz sine in one channel, should read
    -3.01 LKFS; torchaudio's biquad approximation of the K-weighting filters reads -3.2804
    (torchaudio 2.11, float64), and so does ember."""
    sr = 48000
    t = np.arange(sr) / sr
    wave = ember.tensor(np.sin(2 * np.pi * 997.0 * t)[None], dtype=ember.float64)
    assert float(F.loudness(wave, sr)) == pytest.approx(-3.2804, abs=1e-4)


def test_loudness_float64_directional_derivatives_and_errors():
    """loudness is differentiable: along random directions the gradient's projection equals
    central differences; more than 5 channels or a signal shorter than one block raise."""
    rng = np.random.default_rng(3)
    x = ember.tensor(rng.normal(size=(2, 2000)) * 0.3, dtype=ember.float64,
                     requires_grad=True)
    (g,) = ember.autograd.grad(F.loudness(x, 4000), [x])
    for _ in range(3):
        v = rng.normal(size=(2, 2000))
        step = ember.tensor(v * 1e-6, dtype=ember.float64)
        with ember.no_grad():
            num = float(F.loudness(x + step, 4000) - F.loudness(x - step, 4000)) / 2e-6
        assert num == pytest.approx(float((np.asarray(g) * v).sum()), rel=1e-5, abs=1e-7)
    with pytest.raises(ValueError, match="Only up to 5 channels are supported."):
        F.loudness(ember.zeros(6, 4000), 4000)
    with pytest.raises(RuntimeError, match="shorter than one 0.4 s gating block"):
        T.Loudness(4000)(ember.zeros(2, 1000))


# -- edit_distance ---------------------------------------------------------------------------
@pytest.mark.parametrize("i", range(len(EDIT_DISTANCE_CASES)))
def test_edit_distance_matches_torchaudio(i):
    """Strings, word lists and integer lists give torchaudio's distance, as a Python int;
    1-D tensors give the same as their lists."""
    a, b = EDIT_DISTANCE_CASES[i]
    d = F.edit_distance(a, b)
    assert type(d) is int and d == int(GOLDEN[f"edit_distance/{i}"])
    assert F.edit_distance(b, a) == d
    if a and isinstance(a[0], int):
        assert F.edit_distance(ember.tensor(a), ember.tensor(b)) == d


# -- InverseMelScale -------------------------------------------------------------------------
def test_inverse_mel_scale_recovers_spectrogram_in_filter_span():
    """A spectrogram that MelScale maps to mel is mapped back to a non-negative spectrogram
    with the same mel projection; the buffer is ``fb`` as in torchaudio."""
    inv = T.InverseMelScale(33, n_mels=12, sample_rate=8000)
    assert list(inv.state_dict()) == ["fb"]
    spec = ember.tensor(np.random.default_rng(4).uniform(0.5, 1.0, size=(33, 6)),
                        dtype=ember.float32)
    mel = T.MelScale(12, 8000, n_stft=33)(spec)
    back = inv(mel)
    assert tuple(back.shape) == (33, 6) and float(back.min()) >= 0.0
    np.testing.assert_allclose(np.asarray(T.MelScale(12, 8000, n_stft=33)(back)),
                               np.asarray(mel), rtol=1e-3, atol=1e-4)


def test_inverse_mel_scale_errors():
    """Bad options and a wrong number of mel bins raise torchaudio's messages."""
    with pytest.raises(ValueError, match="Require f_min: 5000.0 <= f_max: 4000.0"):
        T.InverseMelScale(33, 16, 8000, f_min=5000.0)
    with pytest.raises(ValueError, match="driver must be one of"):
        T.InverseMelScale(33, 16, 8000, driver="svd")
    with pytest.raises(ValueError, match="Expected an input with 16 mel bins. Found: 12"):
        T.InverseMelScale(33, 16, 8000)(ember.ones(12, 4))
