"""ember.audio.compliance.kaldi against torchaudio.compliance.kaldi.

Every case of tools/fixtures/audio_kaldi_recipe.py (KALDI_CASES) runs on ember with the
recipe's seeded inputs and is compared with the outputs and waveform gradients that
tools/fixtures/audio_kaldi_golden.py recorded from torchaudio 2.11
(tests/audio/golden/kaldi.npz). Beside them: float64 numerical gradients, dither, the
min_duration path, and the errors raised on bad options.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import ember
import ember.audio as eaudio
import numpy as np
import pytest
from ember.audio.compliance import kaldi

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "fixtures"))
sys.path.insert(0, str(ROOT / "tests" / "core"))

from audio_kaldi_recipe import KALDI_CASES, make_inputs, weights  # noqa: E402
from golden_runner import run_case  # noqa: E402
from torch_compare import gradcheck  # noqa: E402

# the golden comparisons run on EMBER_TEST_DEVICE (CUDA in a GPU run)
DEVICE = os.environ.get("EMBER_TEST_DEVICE", "cpu")
if DEVICE.startswith("cuda") and not ember.cuda.is_available():
    pytest.skip("EMBER_TEST_DEVICE=cuda but CUDA is not available", allow_module_level=True)
GOLDEN = np.load(Path(__file__).resolve().parent / "golden" / "kaldi.npz")
INPUTS = make_inputs()
CASE_IDS = [c[0] for c in KALDI_CASES]


def _tol(ref: np.ndarray, grad: bool = False) -> tuple[float, float]:
    """(rtol, atol) for a reference array, relative to its scale: float32 1e-4 (log features
    sum hundreds of rounded products, the FFTs differ), gradients 2e-4. float64 gets 2e-5:
    torchaudio builds the mel banks, DCT and lifter in float32 for every input dtype, and
    float32 ``log``/``cos`` differ by an ulp between torch and numpy, which the bank slopes
    amplify to ~1e-6 relative."""
    scale = max(float(np.abs(ref).max()) if ref.size else 1.0, 1.0)
    if ref.dtype == np.float64:
        return 2e-5, 2e-5 * scale
    r = 2e-4 if grad else 1e-4
    return r, r * scale


def _np(t) -> np.ndarray:
    return t.detach().cpu().numpy()


def _run(case, device=DEVICE):
    return run_case(case, INPUTS, device)


@pytest.mark.parametrize("case", KALDI_CASES, ids=CASE_IDS)
def test_matches_torchaudio(case):
    """Values, dtypes and shapes equal torchaudio's; so do the stored waveform gradients."""
    name, _, _, grad = case
    tensors, outs = _run(case)
    for i, o in enumerate(outs):
        key = f"{name}/out{i}"
        ref = GOLDEN[key]
        got = _np(o)
        assert got.dtype == ref.dtype, f"{key}: dtype {got.dtype} != torchaudio {ref.dtype}"
        assert got.shape == ref.shape, f"{key}: shape {got.shape} != torchaudio {ref.shape}"
        rtol, atol = _tol(ref)
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol, err_msg=key)
    if not grad:
        return
    o = outs[0]
    w = ember.tensor(weights(tuple(o.shape)), dtype=o.dtype, device=o.device)
    gs = ember.autograd.grad((o * w).sum(), [tensors[j] for j in grad])
    for j, g in zip(grad, gs):
        key = f"{name}/grad{j}"
        ref = GOLDEN[key]
        assert g is not None, f"{key}: no gradient"
        rtol, atol = _tol(ref, grad=True)
        np.testing.assert_allclose(_np(g), ref, rtol=rtol, atol=atol, err_msg=key)


def test_golden_covers_every_case():
    """Every recipe case has its golden output (the fixture was rerun after edits)."""
    for name in CASE_IDS:
        assert f"{name}/out0" in GOLDEN.files, name


# -- properties beyond the golden values -----------------------------------------------------
def _wave64(n=400, seed=0):
    rng = np.random.default_rng(seed)
    return ember.tensor(rng.uniform(-0.5, 0.5, size=(1, n)), dtype=ember.float64,
                        requires_grad=True)


KW = {"sample_frequency": 8000.0, "frame_length": 16.0, "frame_shift": 10.0}


@pytest.mark.parametrize("fn", [
    lambda w: kaldi.spectrogram(w, **KW),
    lambda w: kaldi.fbank(w, num_mel_bins=6, use_energy=True, **KW),
    lambda w: kaldi.fbank(w, num_mel_bins=6, use_log_fbank=False, use_power=False,
                          snip_edges=False, **KW),
    lambda w: kaldi.mfcc(w, num_mel_bins=8, num_ceps=5, htk_compat=True, **KW),
    lambda w: kaldi.mfcc(w, num_mel_bins=8, num_ceps=5, vtln_warp=1.1, subtract_mean=True,
                         window_type="hamming", **KW),
], ids=["spectrogram", "fbank_energy", "fbank_linear_nosnip", "mfcc_htk", "mfcc_vtln_cms"])
def test_float64_numerical_gradient(fn):
    """The analytic waveform gradient equals central differences in float64."""
    gradcheck(fn, (_wave64(),), eps=1e-6, atol=1e-5, rtol=1e-4)


def test_dither_adds_gaussian_noise_of_given_scale():
    """dither != 0 perturbs each frame with N(0, dither^2) noise drawn from ember's generator:
    the same seed repeats the result, and the linear spectrum moves by about the dither's
    energy."""
    w = ember.zeros(1, 1600)
    ember.manual_seed(3)
    a = kaldi.fbank(w, dither=1.0, use_log_fbank=False, remove_dc_offset=False,
                    preemphasis_coefficient=0.0, window_type="rectangular",
                    round_to_power_of_two=False)
    ember.manual_seed(3)
    b = kaldi.fbank(w, dither=1.0, use_log_fbank=False, remove_dc_offset=False,
                    preemphasis_coefficient=0.0, window_type="rectangular",
                    round_to_power_of_two=False)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # power spectrum of white noise: E|X_k|^2 = N sigma^2 per bin
    per_bin = float(a.mean()) / float(kaldi.get_mel_banks(
        23, 400, 16000.0, 20.0, 0.0, 100.0, -500.0, 1.0)[0].sum(1).mean())
    assert 0.7 * 400 < per_bin < 1.3 * 400
    zero = kaldi.fbank(w, dither=0.0, use_log_fbank=False)
    assert float(zero.abs().max()) == 0.0


def test_min_duration_gives_empty():
    """A signal shorter than min_duration gives an empty tensor of its dtype."""
    w = ember.ones(1, 800, dtype=ember.float64)
    for fn in (kaldi.spectrogram, kaldi.fbank, kaldi.mfcc):
        out = fn(w, min_duration=0.1)
        assert tuple(out.shape) == (0,) and out.dtype == ember.float64


def test_default_channel_takes_first_and_frame_count():
    """channel=-1 reads channel 0; snip_edges gives 1 + (n - len) // shift frames, otherwise
    (n + shift // 2) // shift."""
    w = ember.tensor(INPUTS["wave16k"])
    np.testing.assert_array_equal(np.asarray(kaldi.fbank(w)), np.asarray(kaldi.fbank(w[:1])))
    assert kaldi.fbank(w).shape[0] == 1 + (1600 - 400) // 160
    assert kaldi.fbank(w, snip_edges=False).shape[0] == (1600 + 80) // 160


def test_mel_scale_scalars_match_tensors():
    """The scalar mel helpers agree with the tensor ones and invert each other."""
    assert kaldi.mel_scale_scalar(700.0) == pytest.approx(1127.0 * math.log(2.0))
    assert kaldi.inverse_mel_scale_scalar(kaldi.mel_scale_scalar(1234.5)) == pytest.approx(
        1234.5)
    f = ember.tensor([0.0, 440.0, 4000.0], dtype=ember.float64)
    np.testing.assert_allclose(np.asarray(kaldi.mel_scale(f)),
                               [kaldi.mel_scale_scalar(x) for x in (0.0, 440.0, 4000.0)])


def test_resample_waveform_accepts_old_method_names():
    """``resample_waveform`` maps torchaudio 0.x's method names onto today's."""
    w = ember.tensor(INPUTS["wave8k"])
    a = kaldi.resample_waveform(w, 8000, 6000, resampling_method="sinc_interpolation")
    b = eaudio.functional.resample(w, 8000, 6000)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    a = kaldi.resample_waveform(w, 8000, 6000, resampling_method="kaiser_window")
    b = eaudio.functional.resample(w, 8000, 6000, resampling_method="sinc_interp_kaiser")
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


# -- errors ----------------------------------------------------------------------------------
W = ember.tensor(INPUTS["wave16k"])

ERRORS = [
    (lambda: kaldi.fbank(W, channel=2), AssertionError, "Invalid channel 2 for size 2"),
    (lambda: kaldi.fbank(W, frame_length=200.0), AssertionError,
     r"choose a window size 3200 that is \[2, 1600\]"),
    (lambda: kaldi.fbank(W, frame_length=0.1), AssertionError, "choose a window size 1"),
    (lambda: kaldi.spectrogram(W, frame_shift=0.01), AssertionError,
     "`window_shift` must be greater than 0"),
    (lambda: kaldi.fbank(W, frame_length=25.0625, round_to_power_of_two=False),
     AssertionError, "must be divisible by two"),
    (lambda: kaldi.mfcc(W, preemphasis_coefficient=1.5), AssertionError,
     r"`preemphasis_coefficient` must be between \[0,1\]"),
    (lambda: kaldi.fbank(W, window_type="kaiser"), ValueError, "Invalid window type kaiser"),
    (lambda: kaldi.fbank(W, num_mel_bins=3), AssertionError, "Must have at least 3 mel bins"),
    (lambda: kaldi.fbank(W, high_freq=9000.0), AssertionError,
     "Bad values in options: low-freq 20.0 and high-freq 9000.0 vs. nyquist 8000.0"),
    (lambda: kaldi.fbank(W, vtln_warp=1.1, vtln_low=10.0), AssertionError,
     "Bad values in options: vtln-low 10.0 and vtln-high 7500.0"),
    (lambda: kaldi.mfcc(W, num_ceps=30), AssertionError,
     "num_ceps cannot be larger than num_mel_bins: 30 vs 23"),
    (lambda: kaldi.vtln_warp_freq(10.0, 7000.0, 20.0, 7800.0, 1.1, ember.zeros(3)),
     AssertionError, "be sure to set the vtln_low option higher than low_freq"),
    (lambda: kaldi.vtln_warp_freq(100.0, 8000.0, 20.0, 7800.0, 1.1, ember.zeros(3)),
     AssertionError, "be sure to set the vtln_high option lower than high_freq"),
    (lambda: kaldi.fbank(W[0]), IndexError, r"shape \(channels, samples\).*unsqueeze"),
    (lambda: kaldi.fbank(W[None]), ValueError, r"shape \(channels, samples\)"),
    (lambda: kaldi.fbank(ember.zeros(1, 800, dtype=ember.int64)), TypeError,
     "floating-point waveform"),
]


@pytest.mark.parametrize("fn,exc,match", ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_bad_options_raise(fn, exc, match):
    """Bad options raise torchaudio's message; option errors are both ValueError and
    AssertionError (torchaudio asserts)."""
    with pytest.raises(exc, match=match) as info:
        fn()
    if exc in (AssertionError, ValueError):
        assert isinstance(info.value, ValueError) and isinstance(info.value, AssertionError)
