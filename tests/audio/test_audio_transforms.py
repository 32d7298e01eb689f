"""ember.audio.transforms as modules: torchaudio's buffer names and state_dict keys, random
augmentations, dtype moves and constructor errors. (Their numbers are checked against
torchaudio's in test_functional_golden.py.)"""

from __future__ import annotations

import warnings

import ember
import ember.audio.transforms as T
import numpy as np
import pytest

# torchaudio 2.11's state_dict keys and buffer shapes for these constructions
STATE_KEYS = [
    (lambda: T.Spectrogram(), {"window": (400,)}),
    (lambda: T.InverseSpectrogram(n_fft=64), {"window": (64,)}),
    (lambda: T.GriffinLim(n_fft=64), {"window": (64,)}),
    (lambda: T.MelScale(n_mels=40, n_stft=201), {"fb": (201, 40)}),
    (lambda: T.MelSpectrogram(), {"spectrogram.window": (400,), "mel_scale.fb": (201, 128)}),
    (lambda: T.MFCC(n_mfcc=13), {"MelSpectrogram.spectrogram.window": (400,),
                                 "MelSpectrogram.mel_scale.fb": (201, 128),
                                 "dct_mat": (128, 13)}),
    (lambda: T.LFCC(), {"Spectrogram.window": (400,), "filter_mat": (201, 128),
                        "dct_mat": (128, 40)}),
    (lambda: T.SpectralCentroid(16000), {"window": (400,)}),
    (lambda: T.TimeStretch(n_freq=201), {"phase_advance": (201, 1)}),
    (lambda: T.Resample(16000, 8000), {"kernel": (1, 1, 28)}),
    (lambda: T.Resample(16000, 16000), {}),
    (lambda: T.AmplitudeToDB(), {}),
    (lambda: T.SpeedPerturbation(16000, [0.9, 1.1]), {"speeders.0.resampler.kernel":
                                                      (10, 1, 23),
                                                      "speeders.1.resampler.kernel":
                                                      (10, 1, 25)}),
]


@pytest.mark.parametrize("i", range(len(STATE_KEYS)))
def test_state_dict_keys_match_torchaudio(i):
    """state_dict keys and buffer shapes are torchaudio's, and a state_dict loads back."""
    make, want = STATE_KEYS[i]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = make()
    sd = m.state_dict()
    assert {k: tuple(v.shape) for k, v in sd.items()} == want
    m.load_state_dict({k: v.clone() for k, v in sd.items()})


def test_modules_move_buffers_with_to_double():
    """``.double()`` converts the window and filter bank, and float64 input stays float64."""
    m = T.MelSpectrogram(8000, n_fft=64, n_mels=10).double()
    assert m.spectrogram.window.dtype == ember.float64
    assert m.mel_scale.fb.dtype == ember.float64
    out = m(ember.rand(2, 300, dtype=ember.float64))
    assert out.dtype == ember.float64 and tuple(out.shape) == (2, 10, 10)


def test_transforms_run_under_no_grad_and_with_grad():
    """A transform's output requires grad exactly when its input does."""
    m = T.MFCC(8000, n_mfcc=8, melkwargs={"n_fft": 64, "n_mels": 16})
    x = ember.rand(1, 256, requires_grad=True)
    assert m(x).requires_grad
    with ember.no_grad():
        assert not m(x).requires_grad


def test_frequency_and_time_masking():
    """FrequencyMasking / TimeMasking mask one band of the right axis; iid_masks draws one
    per example of a 4-D batch."""
    ember.manual_seed(0)
    spec = ember.rand(3, 2, 16, 40) + 1.0
    f = np.asarray(T.FrequencyMasking(10)(spec))
    assert ((f == 0).all(axis=-1) | (f != 0).all(axis=-1)).all()  # whole rows masked
    t = np.asarray(T.TimeMasking(20, p=0.5)(spec))
    assert ((t == 0).all(axis=-2) | (t != 0).all(axis=-2)).all()  # whole columns masked
    assert (t == 0).all(axis=(0, 1, 2)).sum() <= 20
    iid = np.asarray(T.TimeMasking(35, iid_masks=True)(spec, 7.0))
    widths = (iid == 7.0).all(axis=2).sum(-1)
    assert widths.shape == (3, 2) and len(np.unique(widths)) > 1


def test_spec_augment():
    """SpecAugment keeps the shape; zero_masking fills with zeros, else with the mean."""
    ember.manual_seed(2)
    spec = ember.rand(2, 1, 20, 50) + 1.0
    out = T.SpecAugment(2, 10, 2, 5, zero_masking=True)(spec)
    assert out.shape == spec.shape and bool((out == 0).any())
    mean = float(spec.mean())
    out = np.asarray(T.SpecAugment(2, 10, 2, 5, iid_masks=False)(spec))
    assert np.isclose(out, mean).any()


def test_speed_perturbation_picks_one_factor():
    """SpeedPerturbation returns the output of one of its Speed modules, lengths scaled."""
    ember.manual_seed(0)
    sp = T.SpeedPerturbation(8000, [0.9, 1.0, 1.25])
    x = ember.rand(2, 800)
    seen = set()
    for _ in range(12):
        y, lengths = sp(x, ember.tensor([800, 500]))
        seen.add(y.shape[-1])
        assert lengths.dtype == ember.int64
        assert int(lengths[0]) == y.shape[-1]
    assert seen <= {889, 800, 640} and len(seen) > 1
    y, lengths = sp(x)
    assert lengths is None


def test_griffinlim_random_init():
    """GriffinLim with its default random phase init gives a waveform of the right length."""
    ember.manual_seed(0)
    spec = T.Spectrogram(n_fft=64)(ember.rand(1, 400))
    y = T.GriffinLim(n_fft=64, n_iter=4, length=400)(spec)
    assert tuple(y.shape) == (1, 400) and bool(ember.isfinite(y).all())


def test_resample_identity_and_dtype_kwarg():
    """Equal rates return the input itself; ``dtype=`` sets the kernel's dtype."""
    x = ember.rand(2, 100)
    assert T.Resample(8000, 8000)(x) is x
    r = T.Resample(8000, 6000, dtype=ember.float64)
    assert r.kernel.dtype == ember.float64
    assert r(x.double()).shape[-1] == 75


def test_time_stretch_rates():
    """TimeStretch uses fixed_rate, or the forward's overriding_rate; neither raises."""
    spec = ember.stft(ember.rand(400), 64, 16, window=ember.hann_window(64),
                      return_complex=True)
    ts = T.TimeStretch(hop_length=16, n_freq=33, fixed_rate=2.0)
    assert ts(spec).shape[-1] == (spec.shape[-1] + 1) // 2
    assert ts(spec, 0.5).shape[-1] == 2 * spec.shape[-1]
    with pytest.raises(ValueError, match="fixed_rate"):
        T.TimeStretch(n_freq=33)(spec)


CTOR_ERRORS = [
    (lambda: T.GriffinLim(momentum=1.5), "momentum"),
    (lambda: T.AmplitudeToDB(top_db=-1.0), "top_db"),
    (lambda: T.MelScale(f_min=9000.0, sample_rate=16000), "f_min"),
    (lambda: T.MFCC(n_mfcc=200), "MFCC coefficients"),
    (lambda: T.MFCC(dct_type=3), "DCT type"),
    (lambda: T.LFCC(n_lfcc=500), "LFCC coefficients"),
    (lambda: T.Vol(-1.0), "gain must be positive"),
    (lambda: T.TimeMasking(4, p=2.0), "p must be between"),
    (lambda: T.Convolve("x"), "Unrecognized mode"),
    (lambda: T.FFTConvolve("x"), "Unrecognized mode"),
]


@pytest.mark.parametrize("i", range(len(CTOR_ERRORS)))
def test_constructor_errors(i):
    """Bad constructor arguments raise ValueError with torchaudio's message."""
    make, frag = CTOR_ERRORS[i]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=frag):
            make()
