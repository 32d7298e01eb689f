"""Module versions of the STFT-based ``torchaudio.transforms``: ``Spectrogram``,
``InverseSpectrogram``, ``GriffinLim``, ``MelScale``, ``InverseMelScale``, ``MelSpectrogram``,
``MFCC``,
``LFCC``, ``SpectralCentroid`` and ``TimeStretch``.

Each module stores its configuration and calls into ``ember.audio.functional``. Windows,
filter banks and DCT matrices are registered as buffers under torchaudio's names, so the
``state_dict`` keys agree with torchaudio's (for instance ``spectrogram.window`` and
``mel_scale.fb`` in ``MelSpectrogram``; ``MFCC`` nests its ``MelSpectrogram`` under that
very attribute name; ``LFCC`` has ``Spectrogram.window``, ``filter_mat`` and ``dct_mat``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import ember
from ember import Tensor, nn

from .. import functional as F
from .amplitude import AmplitudeToDB

__all__ = ["Spectrogram", "InverseSpectrogram", "GriffinLim", "MelScale", "InverseMelScale",
           "MelSpectrogram",
           "MFCC", "LFCC", "SpectralCentroid", "TimeStretch"]

_LOG_OFFSET = 1e-6
_TOP_DB = 80.0


def _apply_on_freq(specgram: Tensor, matrix: Tensor) -> Tensor:
    """Multiplies the frequency axis (-2) of ``specgram`` by ``matrix`` (freq_in, freq_out)."""
    return ember.matmul(specgram.transpose(-1, -2), matrix).transpose(-1, -2)


class _Framed(nn.Module):
    """Shared set-up of the transforms that frame a signal with a window."""

    def _init_frames(self, n_fft: int, win_length: int | None, hop_length: int | None,
                     window_fn: Callable[..., Tensor] | None = None,
                     wkwargs: dict | None = None) -> None:
        self.n_fft = n_fft
        self.win_length = n_fft if win_length is None else win_length
        self.hop_length = self.win_length // 2 if hop_length is None else hop_length
        if window_fn is not None:
            window = window_fn(self.win_length, **(wkwargs or {}))
            self.register_buffer("window", window)


class Spectrogram(_Framed):
    """STFT of a waveform: (..., time) -> (..., n_fft // 2 + 1, frames).

    The magnitude is raised to ``power`` (None keeps complex values). The buffer ``window``
    holds ``window_fn(win_length, **wkwargs)``; see ``functional.spectrogram`` for the
    other arguments."""

    def __init__(self, n_fft: int = 400, win_length: int | None = None,
                 hop_length: int | None = None, pad: int = 0,
                 window_fn: Callable[..., Tensor] = ember.hann_window,
                 power: float | None = 2.0, normalized: bool | str = False,
                 wkwargs: dict | None = None, center: bool = True, pad_mode: str = "reflect",
                 onesided: bool = True, return_complex: bool | None = None) -> None:
        super().__init__()
        self._init_frames(n_fft, win_length, hop_length, window_fn, wkwargs)
        self.pad, self.power, self.normalized = pad, power, normalized
        self.center, self.pad_mode, self.onesided = center, pad_mode, onesided
        if return_complex is not None:
            warnings.warn("`return_complex` argument is now deprecated and is not effective."
                          "`torchaudio.transforms.Spectrogram(power=None)` always returns a "
                          "tensor with complex dtype. Please remove the argument in the "
                          "function call.", stacklevel=2)

    def forward(self, waveform: Tensor) -> Tensor:
        """Spectrogram of ``waveform`` (..., time)."""
        return F.spectrogram(waveform, self.pad, self.window, self.n_fft, self.hop_length,
                             self.win_length, self.power, self.normalized, self.center,
                             self.pad_mode, self.onesided)


class InverseSpectrogram(_Framed):
    """Inverse STFT: complex (..., freq, frames) -> (..., time); ``forward`` takes an
    optional target ``length``."""

    def __init__(self, n_fft: int = 400, win_length: int | None = None,
                 hop_length: int | None = None, pad: int = 0,
                 window_fn: Callable[..., Tensor] = ember.hann_window,
                 normalized: bool | str = False, wkwargs: dict | None = None,
                 center: bool = True, pad_mode: str = "reflect", onesided: bool = True) -> None:
        super().__init__()
        self._init_frames(n_fft, win_length, hop_length, window_fn, wkwargs)
        self.pad, self.normalized = pad, normalized
        self.center, self.pad_mode, self.onesided = center, pad_mode, onesided

    def forward(self, spectrogram: Tensor, length: int | None = None) -> Tensor:
        """Waveform reconstructed from the complex ``spectrogram``."""
        return F.inverse_spectrogram(spectrogram, length, self.pad, self.window, self.n_fft,
                                     self.hop_length, self.win_length, self.normalized,
                                     self.center, self.pad_mode, self.onesided)


class GriffinLim(_Framed):
    """Waveform from a magnitude spectrogram by Griffin-Lim phase recovery:
    (..., freq, frames) -> (..., time)."""

    def __init__(self, n_fft: int = 400, n_iter: int = 32, win_length: int | None = None,
                 hop_length: int | None = None,
                 window_fn: Callable[..., Tensor] = ember.hann_window, power: float = 2.0,
                 wkwargs: dict | None = None, momentum: float = 0.99,
                 length: int | None = None, rand_init: bool = True) -> None:
        super().__init__()
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in the range [0, 1). Found: {momentum}")
        self.n_iter = n_iter
        self._init_frames(n_fft, win_length, hop_length, window_fn, wkwargs)
        self.length, self.power = length, power
        self.momentum, self.rand_init = momentum, rand_init

    def forward(self, specgram: Tensor) -> Tensor:
        """Waveform whose spectrogram magnitude approximates ``specgram``."""
        return F.griffinlim(specgram, self.window, self.n_fft, self.hop_length,
                            self.win_length, self.power, self.n_iter, self.momentum,
                            self.length, self.rand_init)


class MelScale(nn.Module):
    """Projects a linear-frequency spectrogram onto triangular mel filters:
    (..., n_stft, time) -> (..., n_mels, time). The buffer ``fb`` is (n_stft, n_mels)."""

    def __init__(self, n_mels: int = 128, sample_rate: int = 16000, f_min: float = 0.0,
                 f_max: float | None = None, n_stft: int = 201, norm: str | None = None,
                 mel_scale: str = "htk") -> None:
        super().__init__()
        top = float(sample_rate // 2) if f_max is None else f_max
        if f_min > top:
            raise ValueError(f"Require f_min: {f_min} <= f_max: {top}")
        self.n_mels, self.sample_rate, self.n_stft = n_mels, sample_rate, n_stft
        self.f_min, self.f_max = f_min, top
        self.norm, self.mel_scale = norm, mel_scale
        bank = F.melscale_fbanks(n_stft, f_min, top, n_mels, sample_rate, norm, mel_scale)
        self.register_buffer("fb", bank)

    def forward(self, specgram: Tensor) -> Tensor:
        """Mel-scaled version of ``specgram``."""
        return _apply_on_freq(specgram, self.fb)


_LSTSQ_DRIVERS = ["gels", "gelsy", "gelsd", "gelss"]


class InverseMelScale(nn.Module):
    """Estimate a linear-frequency spectrogram from a mel spectrogram:
    (..., n_mels, time) -> (..., n_stft, time).

    It minimizes the euclidean norm between the input mel spectrogram and the product of the
    estimated spectrogram with the filter banks (``ember.linalg.lstsq``, the minimum-norm
    solution where the system is underdetermined), clamped at zero. The buffer ``fb`` is
    (n_stft, n_mels), as in ``MelScale``.

    Args:
        n_stft: number of bins in the STFT (``n_fft // 2 + 1``).
        n_mels: number of mel filter banks.
        sample_rate: sample rate of the audio signal.
        f_min, f_max: frequency range (``f_max`` defaults to ``sample_rate // 2``).
        norm: ``"slaney"`` divides the triangular mel weights by the width of the mel band.
        mel_scale: ``"htk"`` or ``"slaney"``.
        driver: LAPACK driver name of ``lstsq``: ``"gels"``, ``"gelsy"``, ``"gelsd"`` or
            ``"gelss"`` (CUDA supports ``"gels"`` only).
    """

    def __init__(self, n_stft: int, n_mels: int = 128, sample_rate: int = 16000,
                 f_min: float = 0.0, f_max: float | None = None, norm: str | None = None,
                 mel_scale: str = "htk", driver: str = "gels") -> None:
        super().__init__()
        self.n_stft, self.n_mels, self.sample_rate = n_stft, n_mels, sample_rate
        self.f_max = f_max or float(sample_rate // 2)
        self.f_min, self.norm, self.mel_scale, self.driver = f_min, norm, mel_scale, driver
        if f_min > self.f_max:
            raise ValueError(f"Require f_min: {f_min} <= f_max: {self.f_max}")
        if driver not in _LSTSQ_DRIVERS:
            raise ValueError(f"driver must be one of {_LSTSQ_DRIVERS}. Found {driver}.")
        bank = F.melscale_fbanks(n_stft, f_min, self.f_max, n_mels, sample_rate, norm,
                                 mel_scale)
        self.register_buffer("fb", bank)

    def forward(self, melspec: Tensor) -> Tensor:
        """Linear-scale spectrogram (..., n_stft, time) of ``melspec`` (..., n_mels, time)."""
        shape = tuple(melspec.shape)
        if melspec.dim() < 2:
            raise ValueError("InverseMelScale: expected an input of dimension "
                             f"(..., n_mels, time), got shape {shape}")
        n_mels, time = shape[-2:]
        if self.n_mels != n_mels:
            raise ValueError(f"Expected an input with {self.n_mels} mel bins. Found: {n_mels}")
        flat = melspec.reshape(-1, n_mels, time)  # (B, n_mels, time)
        solution = ember.linalg.lstsq(self.fb.transpose(-1, -2).unsqueeze(0), flat,
                                      driver=self.driver).solution  # (B, n_stft, time)
        return ember.relu(solution).reshape(shape[:-2] + (self.fb.shape[0], time))


class MelSpectrogram(_Framed):
    """``Spectrogram`` followed by ``MelScale``: (..., time) -> (..., n_mels, frames)."""

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
        self._init_frames(n_fft, win_length, hop_length)
        self.pad, self.power, self.normalized = pad, power, normalized
        self.n_mels, self.f_min, self.f_max = n_mels, f_min, f_max
        self.spectrogram = Spectrogram(
            n_fft=n_fft, win_length=self.win_length, hop_length=self.hop_length, pad=pad,
            window_fn=window_fn, power=power, normalized=normalized, wkwargs=wkwargs,
            center=center, pad_mode=pad_mode, onesided=True)
        self.mel_scale = MelScale(n_mels, sample_rate, f_min, f_max, n_fft // 2 + 1, norm,
                                  mel_scale)

    def forward(self, waveform: Tensor) -> Tensor:
        """Mel spectrogram of ``waveform``."""
        return self.mel_scale(self.spectrogram(waveform))


def _check_dct_type(dct_type: int) -> None:
    if dct_type != 2:
        raise ValueError(f"DCT type not supported: {dct_type}")


class _Cepstral(nn.Module):
    """Common part of MFCC and LFCC: log compression and the DCT."""

    def _init_cepstrum(self, sample_rate: int, dct_type: int, norm: str) -> None:
        _check_dct_type(dct_type)
        self.sample_rate, self.dct_type, self.norm = sample_rate, dct_type, norm
        self.top_db = _TOP_DB
        self.amplitude_to_DB = AmplitudeToDB("power", self.top_db)

    def _cepstrum(self, energies: Tensor, natural_log: bool) -> Tensor:
        if natural_log:
            compressed = ember.log(energies + _LOG_OFFSET)
        else:
            compressed = self.amplitude_to_DB(energies)
        return _apply_on_freq(compressed, self.dct_mat)


class MFCC(_Cepstral):
    """Mel-frequency cepstral coefficients: ``MelSpectrogram``, then decibels (top_db 80)
    or, with ``log_mels``, ``log(x + 1e-6)``, then an orthonormal DCT-II;
    (..., time) -> (..., n_mfcc, frames). ``melkwargs`` configure the mel spectrogram."""

    def __init__(self, sample_rate: int = 16000, n_mfcc: int = 40, dct_type: int = 2,
                 norm: str = "ortho", log_mels: bool = False,
                 melkwargs: dict | None = None) -> None:
        super().__init__()
        self._init_cepstrum(sample_rate, dct_type, norm)
        self.n_mfcc = n_mfcc
        self.MelSpectrogram = MelSpectrogram(sample_rate=sample_rate, **(melkwargs or {}))
        n_mels = self.MelSpectrogram.n_mels
        if n_mfcc > n_mels:
            raise ValueError("Cannot select more MFCC coefficients than # mel bins")
        self.register_buffer("dct_mat", F.create_dct(n_mfcc, n_mels, norm))
        self.log_mels = log_mels

    def forward(self, waveform: Tensor) -> Tensor:
        """MFCCs of ``waveform``."""
        return self._cepstrum(self.MelSpectrogram(waveform), self.log_mels)


class LFCC(_Cepstral):
    """Linear-frequency cepstral coefficients: ``Spectrogram``, ``n_filter`` linearly
    spaced triangular filters, decibels (or ``log(x + 1e-6)`` with ``log_lf``), then the
    DCT-II; (..., time) -> (..., n_lfcc, frames). ``speckwargs`` configure the
    spectrogram."""

    def __init__(self, sample_rate: int = 16000, n_filter: int = 128, f_min: float = 0.0,
                 f_max: float | None = None, n_lfcc: int = 40, dct_type: int = 2,
                 norm: str = "ortho", log_lf: bool = False,
                 speckwargs: dict | None = None) -> None:
        super().__init__()
        self._init_cepstrum(sample_rate, dct_type, norm)
        self.f_min = f_min
        self.f_max = float(sample_rate // 2) if f_max is None else f_max
        self.n_filter, self.n_lfcc = n_filter, n_lfcc
        self.Spectrogram = Spectrogram(**(speckwargs or {}))
        n_fft = self.Spectrogram.n_fft
        if n_lfcc > n_fft:
            raise ValueError("Cannot select more LFCC coefficients than # fft bins")
        self.register_buffer("filter_mat", F.linear_fbanks(
            n_freqs=n_fft // 2 + 1, f_min=self.f_min, f_max=self.f_max, n_filter=n_filter,
            sample_rate=sample_rate))
        self.register_buffer("dct_mat", F.create_dct(n_lfcc, n_filter, norm))
        self.log_lf = log_lf

    def forward(self, waveform: Tensor) -> Tensor:
        """LFCCs of ``waveform``."""
        energies = _apply_on_freq(self.Spectrogram(waveform), self.filter_mat)
        return self._cepstrum(energies, self.log_lf)


class SpectralCentroid(_Framed):
    """Per-frame spectral centroid: (..., time) -> (..., frames)."""

    def __init__(self, sample_rate: int, n_fft: int = 400, win_length: int | None = None,
                 hop_length: int | None = None, pad: int = 0,
                 window_fn: Callable[..., Tensor] = ember.hann_window,
                 wkwargs: dict | None = None) -> None:
        super().__init__()
        self.sample_rate = sample_rate
        self._init_frames(n_fft, win_length, hop_length, window_fn, wkwargs)
        self.pad = pad

    def forward(self, waveform: Tensor) -> Tensor:
        """Centroid frequency (Hz) of every frame of ``waveform``."""
        return F.spectral_centroid(waveform, self.sample_rate, self.pad, self.window,
                                   self.n_fft, self.hop_length, self.win_length)


class TimeStretch(nn.Module):
    """Phase-vocoder time stretching of a complex STFT, pitch unchanged:
    (..., freq, frames) -> (..., freq, ceil(frames / rate)). The buffer ``phase_advance``
    (n_freq, 1) is each bin's expected phase increase per hop."""

    def __init__(self, hop_length: int | None = None, n_freq: int = 201,
                 fixed_rate: float | None = None) -> None:
        super().__init__()
        self.fixed_rate = fixed_rate
        hop = (n_freq - 1) if hop_length is None else hop_length  # default: n_fft // 2
        advance = ember.linspace(0, math.pi * hop, n_freq)
        self.register_buffer("phase_advance", advance.unsqueeze(-1))

    def forward(self, complex_specgrams: Tensor, overriding_rate: float | None = None) -> Tensor:
        """Stretches by ``overriding_rate`` when given, otherwise by ``fixed_rate``."""
        if not complex_specgrams.is_complex():
            warnings.warn("The input to TimeStretch must be complex type. "
                          "Providing non-complex tensor produces invalid results.",
                          stacklevel=4)
        rate = self.fixed_rate if overriding_rate is None else overriding_rate
        if rate is None:
            raise ValueError("If no fixed_rate is specified, must pass a valid rate to the "
                             "forward method.")
        return F.phase_vocoder(complex_specgrams, rate, self.phase_advance)
