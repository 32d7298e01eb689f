"""ember.audio.functional beyond the golden values: float64 numerical gradients (first and
second order), IIR accuracy on long resonant signals, SpecAugment mask structure, and the
errors raised on bad input."""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path

import ember
import ember.audio.functional as F
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from torch_compare import gradcheck, gradgradcheck  # noqa: E402


def _x(*shape, seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    return ember.tensor(rng.uniform(-scale, scale, size=shape), dtype=ember.float64,
                        requires_grad=True)


def _hann(n):
    return ember.hann_window(n, dtype=ember.float64)


# -- gradients ------------------------------------------------------------------------------
GRAD_CASES = {
    "spectrogram": (lambda x: F.spectrogram(x, 2, _hann(16), 16, 4, 16, 2.0, True), (1, 40)),
    "spectrogram_complex": (lambda x: ember.view_as_real(F.spectrogram(
        x, 0, _hann(12), 16, 4, 12, None, "frame_length")), (1, 40)),
    "inverse_spectrogram": (lambda x: F.inverse_spectrogram(
        ember.stft(x, 16, 4, window=_hann(16), return_complex=True), 36, 2, _hann(16), 16,
        4, 16, False), (1, 40)),
    "griffinlim": (lambda x: F.griffinlim(x * x + 0.1, _hann(16), 16, 4, 16, 1.0, 2, 0.5,
                                          None, False), (9, 6)),
    "phase_vocoder": (lambda x: ember.view_as_real(F.phase_vocoder(
        ember.stft(x, 16, 4, window=_hann(16), return_complex=True), 1.4,
        ember.linspace(0, math.pi * 4, 9, dtype=ember.float64)[..., None])), (1, 40)),
    "spectral_centroid": (lambda x: F.spectral_centroid(x, 8000, 0, _hann(16), 16, 4, 16),
                          (1, 40)),
    "amplitude_to_DB": (lambda x: F.amplitude_to_DB(x * x + 0.01, 10.0, 1e-10, 0.0, 12.0),
                        (2, 3, 4)),
    "DB_to_amplitude": (lambda x: F.DB_to_amplitude(x * 10, 1.5, 0.5), (2, 5)),
    "mu_law_decoding": (lambda x: F.mu_law_decoding(x * 100 + 120, 256), (2, 5)),
    "resample_hann": (lambda x: F.resample(x, 3, 2, lowpass_filter_width=3), (2, 20)),
    "resample_kaiser": (lambda x: F.resample(x, 2, 5, resampling_method="sinc_interp_kaiser"),
                        (1, 12)),
    "compute_deltas": (lambda x: F.compute_deltas(x), (2, 3, 8)),
    "preemphasis": (lambda x: F.preemphasis(x, 0.8), (2, 10)),
    "deemphasis": (lambda x: F.deemphasis(x * 0.2, 0.5), (2, 10)),
    "lowpass_biquad": (lambda x: F.lowpass_biquad(x * 0.2, 8000, 1000.0), (2, 16)),
    "mel_fbank_matmul": (lambda x: ember.matmul(
        x.transpose(-1, -2), F.melscale_fbanks(9, 0.0, 4000.0, 4, 8000).double()), (9, 3)),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradcheck(name):
    """float64 analytical gradients equal central finite differences."""
    fn, shape = GRAD_CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gradcheck(fn, [_x(*shape)])


def test_convolutions_gradcheck_both_inputs():
    """convolve and fftconvolve are differentiable in both operands (with broadcasting)."""
    for fn in (F.convolve, F.fftconvolve):
        for mode in ("full", "valid", "same"):
            gradcheck(lambda x, y, f=fn, m=mode: f(x, y, m), [_x(2, 9), _x(1, 4, seed=1)])


def test_add_noise_gradcheck():
    """add_noise is differentiable in waveform, noise and snr."""
    gradcheck(lambda w, n, s: F.add_noise(w, n, s, ember.tensor([6, 4])),
              [_x(2, 6), _x(2, 6, seed=1), _x(2, seed=2)])


def test_lfilter_gradcheck_waveform_and_coefficients():
    """lfilter (the doubling scan) is differentiable in the waveform and both coefficient
    tensors, and twice differentiable."""
    a = ember.tensor([[1.0, -0.5, 0.2], [1.3, 0.4, 0.1]], dtype=ember.float64,
                     requires_grad=True)
    b = ember.tensor([[0.3, 0.2, 0.1], [0.5, -0.2, 0.3]], dtype=ember.float64,
                     requires_grad=True)

    def fn(x, a, b):
        return F.lfilter(x, a, b, clamp=False)

    gradcheck(fn, [_x(2, 2, 11), a, b])
    gradgradcheck(fn, [_x(2, 2, 7), a, b])


def test_spectrogram_gradgradcheck():
    """Second derivatives of the power spectrogram."""
    gradgradcheck(lambda x: F.spectrogram(x, 0, _hann(8), 8, 2, 8, 2.0, False), [_x(1, 20)])


# -- IIR accuracy -------------------------------------------------------------------------
def _sequential(x, a, b):
    """The difference equation, sample by sample, in float64."""
    y = np.zeros_like(x)
    for n in range(x.shape[-1]):
        acc = sum(b[k] * x[..., n - k] for k in range(len(b)) if n - k >= 0)
        acc = acc - sum(a[k] * y[..., n - k] for k in range(1, len(a)) if n - k >= 0)
        y[..., n] = acc / a[0]
    return y


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lfilter_long_resonant_signal(dtype):
    """A 4000-sample signal through a filter with poles at radius 0.9995: the scan stays
    within float32 rounding of the exact recursion (torchaudio's float32 loop is further)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-0.1, 0.1, size=(2, 4000))
    a = np.array([1.0, -1.999, 0.9995])
    b = np.array([0.1, 0.2, 0.1])
    ref = _sequential(x, a, b)
    out = F.lfilter(ember.tensor(x, dtype=getattr(ember, dtype)),
                    ember.tensor(a, dtype=getattr(ember, dtype)),
                    ember.tensor(b, dtype=getattr(ember, dtype)), clamp=False)
    assert out.dtype == getattr(ember, dtype)
    if dtype == "float32":  # the reference uses the float32-rounded coefficients
        ref = _sequential(x.astype(np.float32).astype(np.float64),
                          a.astype(np.float32).astype(np.float64),
                          b.astype(np.float32).astype(np.float64))
    tol = 1e-5 if dtype == "float32" else 1e-9
    np.testing.assert_allclose(np.asarray(out), ref, atol=tol * np.abs(ref).max())


def test_lfilter_clamps_by_default():
    """The default ``clamp=True`` clips the output to [-1, 1]."""
    x = ember.ones(1, 30)
    out = F.lfilter(x, ember.tensor([1.0, -0.9]), ember.tensor([1.0, 0.0]))
    assert float(out.max()) == 1.0
    assert float(F.lfilter(x, ember.tensor([1.0, -0.9]), ember.tensor([1.0, 0.0]),
                           clamp=False).max()) > 5.0


# -- masks --------------------------------------------------------------------------------
def _band(masked: np.ndarray, axis: int) -> np.ndarray:
    """Which positions along ``axis`` are masked (all-zero) in a positive input."""
    other = tuple(i for i in range(masked.ndim) if i != axis % masked.ndim)
    return (masked == 0).all(axis=other)


def test_mask_along_axis_is_one_contiguous_band_shared_by_the_batch():
    """mask_along_axis zeroes one contiguous band, narrower than mask_param, in every
    example alike."""
    ember.manual_seed(3)
    spec = ember.rand(2, 3, 20, 30) + 1.0
    for axis, param in ((2, 8), (3, 12)):
        for _ in range(10):
            out = np.asarray(F.mask_along_axis(spec, param, 0.0, axis))
            band = _band(out, axis)
            idx = np.flatnonzero(band)
            assert len(idx) < param
            if len(idx):
                assert idx[-1] - idx[0] + 1 == len(idx)
            assert ((out == 0) == np.broadcast_to(
                band.reshape([-1 if i == axis else 1 for i in range(4)]), out.shape)).all()


def test_mask_along_axis_iid_differs_per_example():
    """mask_along_axis_iid draws one band per (batch, channel) and fills ``mask_value``."""
    ember.manual_seed(0)
    spec = ember.rand(8, 2, 10, 40) + 1.0
    out = np.asarray(F.mask_along_axis_iid(spec, 30, -5.0, 3))
    widths = (out == -5.0).all(axis=2).sum(-1)  # (8, 2): masked frames per example
    assert (widths < 30).all()
    assert len(np.unique(widths)) > 1
    assert ((out == -5.0) | (out >= 1.0)).all()


def test_mask_value_tensor_gets_gradient():
    """A Tensor mask_value (SpecAugment's mean) receives the masked positions' gradient."""
    ember.manual_seed(1)
    spec = ember.rand(4, 1, 6, 50) + 1.0
    value = ember.tensor(0.5, requires_grad=True)
    out = F.mask_along_axis_iid(spec, 40, value, 3)
    out.sum().backward()
    assert float(value.grad) == float((np.asarray(out.detach()) == 0.5).sum())


def test_mask_p_zero_is_identity():
    """``p=0`` caps the width at zero: the input comes back unchanged."""
    spec = ember.rand(2, 5, 7)
    assert F.mask_along_axis(spec, 4, 0.0, 2, p=0.0) is spec
    assert F.mask_along_axis_iid(spec, 4, 0.0, 2, p=0.0) is spec


# -- bad input ----------------------------------------------------------------------------
ERRORS = [
    (lambda: F.spectrogram(ember.rand(100), 0, ember.hann_window(16), 16, 4, 16, 2.0, "x"),
     ValueError, "Invalid normalized parameter"),
    (lambda: F.spectrogram(ember.rand(100), 0, ember.hann_window(16), 16, 4, 16, 2.0, 1),
     TypeError, "Input type not supported"),
    (lambda: F.inverse_spectrogram(ember.rand(9, 5), None, 0, ember.hann_window(16), 16, 4,
                                   16, False), ValueError, "complex"),
    (lambda: F.griffinlim(ember.rand(9, 5), ember.hann_window(16), 16, 4, 16, 2.0, 1, 1.0,
                          None, False), ValueError, "momentum"),
    (lambda: F.melscale_fbanks(10, 0.0, 100.0, 4, 200, norm="x"), ValueError, "norm"),
    (lambda: F.melscale_fbanks(10, 0.0, 100.0, 4, 200, mel_scale="x"), ValueError,
     "mel_scale"),
    (lambda: F.create_dct(4, 8, "x"), ValueError, "ortho"),
    (lambda: F.resample(ember.rand(100), 44100, 5512.5), Exception, "integer"),
    (lambda: F.resample(ember.rand(100), 2, 3, resampling_method="x"), ValueError,
     "Invalid resampling method"),
    (lambda: F.resample(ember.rand(100), -2, 3), ValueError, "positive"),
    (lambda: F.resample(ember.rand(100), 2, 3, lowpass_filter_width=0), ValueError,
     "Low pass filter width"),
    (lambda: F.resample(ember.ones(100, dtype=ember.int64), 2, 3), TypeError,
     "floating point"),
    (lambda: F.mask_along_axis(ember.rand(5), 2, 0.0, 0), ValueError, "two dimensions"),
    (lambda: F.mask_along_axis(ember.rand(3, 5, 6), 2, 0.0, 0), ValueError,
     "Only Frequency and Time"),
    (lambda: F.mask_along_axis_iid(ember.rand(5, 6), 2, 0.0, 1), ValueError,
     "three dimensions"),
    (lambda: F.mask_along_axis_iid(ember.rand(2, 5, 6), 2, 0.0, 2, p=1.5), ValueError,
     "p must be between"),
    (lambda: F.compute_deltas(ember.rand(3, 10), 2), ValueError, "Window length"),
    (lambda: F.convolve(ember.rand(2, 10), ember.rand(2, 3), "x"), ValueError,
     "Unrecognized mode"),
    (lambda: F.fftconvolve(ember.rand(2, 10), ember.rand(3), "full"), ValueError,
     "same dimension"),
    (lambda: F.convolve(ember.rand(2, 10), ember.rand(3, 3)), ValueError, "broadcastable"),
    (lambda: F.add_noise(ember.rand(2, 10), ember.rand(2, 9), ember.rand(2)), ValueError,
     "Length dimensions"),
    (lambda: F.add_noise(ember.rand(2, 10), ember.rand(2, 10), ember.rand(2, 1)), ValueError,
     "leading dimensions"),
    (lambda: F.lfilter(ember.rand(2, 10), ember.rand(3), ember.rand(2)), ValueError,
     "same size"),
    (lambda: F.lfilter(ember.rand(3, 10), ember.rand(2, 3), ember.rand(2, 3)), ValueError,
     "number of batches"),
    (lambda: F.deemph_biquad(ember.rand(10), 16000), ValueError, "44100"),
    (lambda: F.riaa_biquad(ember.rand(10), 16000), ValueError, "Sample rate"),
    (lambda: F.contrast(ember.rand(10), 120.0), ValueError, "0-100"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_bad_input_raises(i):
    """Bad arguments raise torchaudio's exception type with its message."""
    fn, exc, frag = ERRORS[i]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc, match=frag):
            fn()


def test_deprecated_arguments_warn():
    """torchaudio's deprecation warnings: spectrogram's return_complex and the old
    resampling method names (which still work)."""
    with pytest.warns(UserWarning, match="return_complex"):
        F.spectrogram(ember.rand(64), 0, ember.hann_window(16), 16, 4, 16, 2.0, False,
                      return_complex=True)
    with pytest.warns(UserWarning, match="sinc_interp_kaiser"):
        a = F.resample(ember.rand(64), 2, 3, resampling_method="kaiser_window")
    b = F.resample(ember.rand(64), 2, 3, resampling_method="sinc_interp_kaiser")
    assert a.shape == b.shape


def test_mu_law_roundtrip_and_int_input_warning():
    """Encoding then decoding is close to the identity; integer input to the encoder warns
    and is treated as float."""
    x = ember.linspace(-1, 1, 101)
    y = F.mu_law_decoding(F.mu_law_encoding(x, 256), 256)
    assert float((y - x).abs().max()) < 0.04
    with pytest.warns(UserWarning, match="floating type"):
        out = F.mu_law_encoding(ember.tensor([0, 1]), 256)
    assert out.dtype == ember.int64
