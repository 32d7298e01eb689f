"""Spectral transforms, as in ``torchaudio.transforms``: ``Spectrogram``,
``InverseSpectrogram``, ``GriffinLim``, ``MelScale``, ``MelSpectrogram``, ``MFCC``,
``LFCC``, ``SpectralCentroid`` and ``TimeStretch``.

Thin modules over ``ember.audio.functional``: the window, filter banks and DCT matrix are
buffers with torchaudio's names, so ``state_dict`` keys match (``MelSpectrogram`` holds
``spectrogram.window`` and ``mel_scale.fb``; ``MFCC`` holds ``dct_mat`` and
``MelSpectrogram.*``; ``LFCC`` holds ``filter_mat``, ``dct_mat`` and ``Spectrogram.window``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import ember
from ember import Tensor, nn

from .. import functional as F
from .amplitude import AmplitudeToDB

__all__ = ["Spectrogram", "InverseSpectrogram", "GriffinLim", "MelScale", "MelSpectrogram",
           "MFCC", "LFCC", "SpectralCentroid", "TimeStretch"]


def _make_window(window_fn, win_length: int, wkwargs: dict | None) -> Tensor:
    return window_fn(win_length) if wkwargs is None else window_fn(win_length, **wkwargs)


class Spectrogram(nn.Module):
    """Create a spectrogram from an audio signal: (..., time) -> (..., freq, frames), with
    freq = ``n_fft // 2 + 1``. ``power=None`` gives the complex spectrum. The window
    (``window_fn(win_length, **wkwargs)``) is the buffer ``window``."""

    def __init__(self, n_fft: int = 400, win_length: int | None = None,
                 hop_length: int | None = None, pad: int = 0,
                 window_fn: Callable[..., Tensor] = ember.hann_window,
                 power: float | None = 2.0, normalized: bool | str = False,
                 wkwargs: dict | None = None, center: bool = True, pad_mode: str = "reflect",
                 onesided: bool = True, return_complex: bool | None = None) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.register_buffer("window", _make_window(window_fn, self.win_length, wkwargs))
        self.pad = pad
        self.power = power
        self.normalized = normalized
        self.center = center
        self.pad_mode = pad_mode
        self.onesided = onesided
        if return_complex is not None:
            warnings.warn("`return_complex` argument is now deprecated and is not effective."
                          "`torchaudio.transforms.Spectrogram(power=None)` always returns a "
                          "tensor with complex dtype. Please remove the argument in the "
                          "function call.", stacklevel=2)

    def forward(self, waveform: Tensor) -> Tensor:
        """(..., time) -> (..., freq, frames)."""
        return F.spectrogram(waveform, self.pad, self.window, self.n_fft, self.hop_length,
                             self.win_length, self.power, self.normalized, self.center,
                             self.pad_mode, self.onesided)


class InverseSpectrogram(nn.Module):
    """Create a signal from a complex spectrogram: (..., freq, frames) -> (..., time); the
    optional ``length`` of ``forward`` fixes the output length."""

    def __init__(self, n_fft: int = 400, win_length: int | None = None,
                 hop_length: int | None = None, pad: int = 0,
                 window_fn: Callable[..., Tensor] = ember.hann_window,
                 normalized: bool | str = False, wkwargs: dict | None = None,
                 center: bool = True, pad_mode: str = "reflect", onesided: bool = True) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.register_buffer("window", _make_window(window_fn, self.win_length, wkwargs))
        self.pad = pad
        self.normalized = normalized
        self.center = center
        self.pad_mode = pad_mode
        self.onesided = onesided

    def forward(self, spectrogram: Tensor, length: int | None = None) -> Tensor:
        """(..., freq, frames) complex -> (..., time)."""
        return F.inverse_spectrogram(spectrogram, length, self.pad, self.window, self.n_fft,
                                     self.hop_length, self.win_length, self.normalized,
                                     self.center, self.pad_mode, self.onesided)


class GriffinLim(nn.Module):
    """Compute waveform from a linear scale magnitude spectrogram using the Griffin-Lim
    transformation: (..., freq, frames) -> (..., time)."""

    def __init__(self, n_fft: int = 400, n_iter: int = 32, win_length: int | None = None,
                 hop_length: int | None = None,
                 window_fn: Callable[..., Tensor] = ember.hann_window, power: float = 2.0,
                 wkwargs: dict | None = None, momentum: float = 0.99,
                 length: int | None = None, rand_init: bool = True) -> None:
        super().__init__()
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in the range [0, 1). Found: {momentum}")
        self.n_fft = n_fft
        self.n_iter = n_iter
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.register_buffer("window", _make_window(window_fn, self.win_length, wkwargs))
        self.length = length
        self.power = power
        self.momentum = momentum
        self.rand_init = rand_init

    def forward(self, specgram: Tensor) -> Tensor:
        """(..., freq, frames) magnitude -> (..., time)."""
        return F.griffinlim(specgram, self.window, self.n_fft, self.hop_length,
                            self.win_length, self.power, self.n_iter, self.momentum,
                            self.length, self.rand_init)


class MelScale(nn.Module):
    """Turn a normal STFT into a mel frequency STFT with triangular filter banks:
    (..., n_stft, time) -> (..., n_mels, time). The (n_stft, n_mels) bank is the buffer
    ``fb``."""

    def __init__(self, n_mels: int = 128, sample_rate: int = 16000, f_min: float = 0.0,
                 f_max: float | None = None, n_stft: int = 201, norm: str | None = None,
                 mel_scale: str = "htk") -> None:
        super().__init__()
        self.n_mels = n_mels
        self.sample_rate = sample_rate
        self.f_max = f_max if f_max is not None else float(sample_rate // 2)
        self.f_min = f_min
        self.n_stft = n_stft
        self.norm = norm
        self.mel_scale = mel_scale
        if f_min > self.f_max:
            raise ValueError(f"Require f_min: {f_min} <= f_max: {self.f_max}")
        self.register_buffer("fb", F.melscale_fbanks(n_stft, self.f_min, self.f_max, n_mels,
                                                     sample_rate, norm, mel_scale))

    def forward(self, specgram: Tensor) -> Tensor:
        """(..., n_stft, time) -> (..., n_mels, time)."""
        return ember.matmul(specgram.transpose(-1, -2), self.fb).transpose(-1, -2)


class MelSpectrogram(nn.Module):
    """Create a mel spectrogram for a raw audio signal: ``Spectrogram`` then ``MelScale``,
    (..., time) -> (..., n_mels, frames)."""

    def __init__(self, sample_rate: int = 16000, n_fft: int = 400,
                 win_length: int | None = None, hop_length: int | None = None,
                 f_min: float = 0.0, f_max: float | None = None, pad: int = 0,
                 n_mels: int = 128, window_fn: Callable[..., Tensor] = ember.hann_window,
                 power: float = 2.0, normalized: bool = False, wkwargs: dict | None = None,
                 center: bool = True, pad_mode: str = "reflect", onesided: bool | None = None,
                 norm: str | None = None, mel_scale: str = "htk") -> None:
        super().__init__()
        if onesided is not None:
            warnings.warn("Argument 'onesided' has been deprecated and has no influence on the "
                          "behavior of this module.", stacklevel=2)
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.pad = pad
        self.power = power
        self.normalized = normalized
        self.n_mels = n_mels
        self.f_max = f_max
        self.f_min = f_min
        self.spectrogram = Spectrogram(n_fft=n_fft, win_length=self.win_length,
                                       hop_length=self.hop_length, pad=pad,
                                       window_fn=window_fn, power=power,
                                       normalized=normalized, wkwargs=wkwargs, center=center,
                                       pad_mode=pad_mode, onesided=True)
        self.mel_scale = MelScale(n_mels, sample_rate, f_min, f_max, n_fft // 2 + 1, norm,
                                  mel_scale)

    def forward(self, waveform: Tensor) -> Tensor:
        """(..., time) -> (..., n_mels, frames)."""
        return self.mel_scale(self.spectrogram(waveform))


class MFCC(nn.Module):
    """Create the Mel-frequency cepstrum coefficients from an audio signal:
    ``MelSpectrogram``, then dB (``AmplitudeToDB("power", 80)``) or ``log(x + 1e-6)`` when
    ``log_mels``, then the DCT-II; (..., time) -> (..., n_mfcc, frames)."""

    def __init__(self, sample_rate: int = 16000, n_mfcc: int = 40, dct_type: int = 2,
                 norm: str = "ortho", log_mels: bool = False,
                 melkwargs: dict | None = None) -> None:
        super().__init__()
        if dct_type != 2:
            raise ValueError(f"DCT type not supported: {dct_type}")
        self.sample_rate = sample_rate
        self.n_mfcc = n_mfcc
        self.dct_type = dct_type
        self.norm = norm
        self.top_db = 80.0
        self.amplitude_to_DB = AmplitudeToDB("power", self.top_db)
        self.MelSpectrogram = MelSpectrogram(sample_rate=sample_rate, **(melkwargs or {}))
        if n_mfcc > self.MelSpectrogram.n_mels:
            raise ValueError("Cannot select more MFCC coefficients than # mel bins")
        self.register_buffer("dct_mat", F.create_dct(n_mfcc, self.MelSpectrogram.n_mels, norm))
        self.log_mels = log_mels

    def forward(self, waveform: Tensor) -> Tensor:
        """(..., time) -> (..., n_mfcc, frames)."""
        mel_specgram = self.MelSpectrogram(waveform)
        if self.log_mels:
            mel_specgram = ember.log(mel_specgram + 1e-6)
        else:
            mel_specgram = self.amplitude_to_DB(mel_specgram)
        return ember.matmul(mel_specgram.transpose(-1, -2), self.dct_mat).transpose(-1, -2)


class LFCC(nn.Module):
    """Create the linear-frequency cepstrum coefficients from an audio signal:
    ``Spectrogram``, a linear triangular filter bank, dB (or log when ``log_lf``), then the
    DCT-II; (..., time) -> (..., n_lfcc, frames)."""

    def __init__(self, sample_rate: int = 16000, n_filter: int = 128, f_min: float = 0.0,
                 f_max: float | None = None, n_lfcc: int = 40, dct_type: int = 2,
                 norm: str = "ortho", log_lf: bool = False,
                 speckwargs: dict | None = None) -> None:
        super().__init__()
        if dct_type != 2:
            raise ValueError(f"DCT type not supported: {dct_type}")
        self.sample_rate = sample_rate
        self.f_min = f_min
        self.f_max = f_max if f_max is not None else float(sample_rate // 2)
        self.n_filter = n_filter
        self.n_lfcc = n_lfcc
        self.dct_type = dct_type
        self.norm = norm
        self.top_db = 80.0
        self.amplitude_to_DB = AmplitudeToDB("power", self.top_db)
        self.Spectrogram = Spectrogram(**(speckwargs or {}))
        if n_lfcc > self.Spectrogram.n_fft:
            raise ValueError("Cannot select more LFCC coefficients than # fft bins")
        self.register_buffer("filter_mat", F.linear_fbanks(
            n_freqs=self.Spectrogram.n_fft // 2 + 1, f_min=self.f_min, f_max=self.f_max,
            n_filter=n_filter, sample_rate=sample_rate))
        self.register_buffer("dct_mat", F.create_dct(n_lfcc, n_filter, norm))
        self.log_lf = log_lf

    def forward(self, waveform: Tensor) -> Tensor:
        """(..., time) -> (..., n_lfcc, frames)."""
        specgram = self.Spectrogram(waveform)
        specgram = ember.matmul(specgram.transpose(-1, -2), self.filter_mat).transpose(-1, -2)
        if self.log_lf:
            specgram = ember.log(specgram + 1e-6)
        else:
            specgram = self.amplitude_to_DB(specgram)
        return ember.matmul(specgram.transpose(-1, -2), self.dct_mat).transpose(-1, -2)


class SpectralCentroid(nn.Module):
    """Compute the spectral centroid for each channel along the time axis:
    (..., time) -> (..., frames)."""

    def __init__(self, sample_rate: int, n_fft: int = 400, win_length: int | None = None,
                 hop_length: int | None = None, pad: int = 0,
                 window_fn: Callable[..., Tensor] = ember.hann_window,
                 wkwargs: dict | None = None) -> None:
        super().__init__()
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.register_buffer("window", _make_window(window_fn, self.win_length, wkwargs))
        self.pad = pad

    def forward(self, waveform: Tensor) -> Tensor:
        """(..., time) -> (..., frames)."""
        return F.spectral_centroid(waveform, self.sample_rate, self.pad, self.window,
                                   self.n_fft, self.hop_length, self.win_length)


class TimeStretch(nn.Module):
    """Stretch an STFT in time without modifying pitch for a given rate (phase vocoder):
    (..., freq, frames) complex -> (..., freq, ceil(frames / rate)). The expected phase
    advance per hop is the buffer ``phase_advance`` (n_freq, 1)."""

    def __init__(self, hop_length: int | None = None, n_freq: int = 201,
                 fixed_rate: float | None = None) -> None:
        super().__init__()
        self.fixed_rate = fixed_rate
        n_fft = (n_freq - 1) * 2
        hop_length = hop_length if hop_length is not None else n_fft // 2
        self.register_buffer("phase_advance",
                             ember.linspace(0, math.pi * hop_length, n_freq)[..., None])

    def forward(self, complex_specgrams: Tensor, overriding_rate: float | None = None) -> Tensor:
        """Stretch by ``overriding_rate`` if given, else by ``fixed_rate``."""
        if not complex_specgrams.is_complex():
            warnings.warn("The input to TimeStretch must be complex type. "
                          "Providing non-complex tensor produces invalid results.",
                          stacklevel=4)
        if overriding_rate is None:
            if self.fixed_rate is None:
                raise ValueError("If no fixed_rate is specified, must pass a valid rate to the "
                                 "forward method.")
            rate = self.fixed_rate
        else:
            rate = overriding_rate
        return F.phase_vocoder(complex_specgrams, rate, self.phase_advance)
