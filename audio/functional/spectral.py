"""Spectrograms and what is built on them: ``spectrogram``, ``inverse_spectrogram``,
``griffinlim``, ``phase_vocoder`` and ``spectral_centroid``, as in
``torchaudio.functional``.

Every function packs the leading (batch, channel, ...) dimensions into one, runs one batched
``ember.stft``/``ember.istft`` and unpacks again, so there are no Python loops over signals
or frames; all of them are differentiable where torchaudio's are (griffinlim's iterations
are a loop over ``n_iter``, each one batched).
"""

from __future__ import annotations

import math
import warnings

import ember
from ember import Tensor

__all__ = ["spectrogram", "inverse_spectrogram", "griffinlim", "phase_vocoder",
           "spectral_centroid"]


def _get_spec_norms(normalized: bool | str) -> tuple[bool, bool]:
    """(frame_length_norm, window_norm) for the ``normalized`` argument of the spectrograms."""
    if isinstance(normalized, str):
        if normalized not in ("frame_length", "window"):
            raise ValueError(f"Invalid normalized parameter: {normalized}")
        return normalized == "frame_length", normalized == "window"
    if isinstance(normalized, bool):
        return False, normalized
    raise TypeError("Input type not supported")


def spectrogram(waveform: Tensor, pad: int, window: Tensor, n_fft: int, hop_length: int,
                win_length: int, power: float | None, normalized: bool | str,
                center: bool = True, pad_mode: str = "reflect", onesided: bool = True,
                return_complex: bool | None = None) -> Tensor:
    """Create a spectrogram or a batch of spectrograms from a raw audio signal.

    ``waveform`` is (..., time); the result is (..., freq, n_frames), where freq is
    ``n_fft // 2 + 1`` when ``onesided``. ``power=None`` returns the complex spectrum,
    otherwise ``|X| ** power``. ``normalized=True`` or ``"window"`` divides by the window's L2
    norm, ``"frame_length"`` uses ``stft``'s own (1/sqrt(n_fft)) normalization."""
    if return_complex is not None:
        warnings.warn("`return_complex` argument is now deprecated and is not effective."
                      "`torchaudio.functional.spectrogram(power=None)` always returns a tensor "
                      "with complex dtype. Please remove the argument in the function call.",
                      stacklevel=2)
    if pad > 0:
        waveform = ember.nn.functional.pad(waveform, (pad, pad), "constant")
    frame_length_norm, window_norm = _get_spec_norms(normalized)
    shape = waveform.shape
    waveform = waveform.reshape(-1, shape[-1])  # (B, time)
    spec_f = ember.stft(waveform, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                        window=window, center=center, pad_mode=pad_mode,
                        normalized=frame_length_norm, onesided=onesided, return_complex=True)
    spec_f = spec_f.reshape(tuple(shape[:-1]) + tuple(spec_f.shape[-2:]))  # (..., freq, frames)
    if window_norm:
        spec_f = spec_f / window.pow(2.0).sum().sqrt()
    if power is not None:
        if power == 1.0:
            return spec_f.abs()
        return spec_f.abs().pow(power)
    return spec_f


def inverse_spectrogram(spectrogram: Tensor, length: int | None, pad: int, window: Tensor,
                        n_fft: int, hop_length: int, win_length: int,
                        normalized: bool | str, center: bool = True,
                        pad_mode: str = "reflect", onesided: bool = True) -> Tensor:
    """Create an inverse spectrogram or a batch of inverse spectrograms from the provided
    complex-valued spectrogram (..., freq, n_frames); the result is (..., time)."""
    frame_length_norm, window_norm = _get_spec_norms(normalized)
    if not spectrogram.is_complex():
        raise ValueError("Expected `spectrogram` to be complex dtype.")
    if window_norm:
        spectrogram = spectrogram * window.pow(2.0).sum().sqrt()
    shape = spectrogram.shape
    spectrogram = spectrogram.reshape(-1, shape[-2], shape[-1])  # (B, freq, frames)
    waveform = ember.istft(spectrogram, n_fft=n_fft, hop_length=hop_length,
                           win_length=win_length, window=window, center=center,
                           normalized=frame_length_norm, onesided=onesided,
                           length=length + 2 * pad if length is not None else None,
                           return_complex=False)
    if length is not None and pad > 0:
        waveform = waveform[:, pad:-pad]
    return waveform.reshape(tuple(shape[:-2]) + tuple(waveform.shape[-1:]))


def _complex_dtype(real_dtype):
    if real_dtype == ember.float64:
        return ember.complex128
    if real_dtype == ember.float32:
        return ember.complex64
    raise ValueError(f"Unexpected dtype {real_dtype}")


def griffinlim(specgram: Tensor, window: Tensor, n_fft: int, hop_length: int, win_length: int,
               power: float, n_iter: int, momentum: float, length: int | None,
               rand_init: bool) -> Tensor:
    """Compute waveform from a linear scale magnitude spectrogram using the Griffin-Lim
    transformation (fast Griffin-Lim with ``momentum``, Perraudin et al. 2013).

    ``specgram`` is (..., freq, frames) of ``|X| ** power``; the result is (..., time)."""
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in range [0, 1). Found: {momentum}")
    momentum = momentum / (1 + momentum)
    shape = specgram.shape
    specgram = specgram.reshape([-1] + list(shape[-2:]))  # (B, freq, frames)
    specgram = specgram.pow(1 / power)
    cdtype = _complex_dtype(specgram.dtype)
    if rand_init:
        angles = ember.complex(ember.rand(specgram.shape, dtype=specgram.dtype,
                                          device=specgram.device),
                               ember.rand(specgram.shape, dtype=specgram.dtype,
                                          device=specgram.device))
    else:
        angles = ember.full(specgram.shape, 1, dtype=cdtype, device=specgram.device)
    tprev = ember.tensor(0.0, dtype=specgram.dtype, device=specgram.device)
    for _ in range(n_iter):
        inverse = ember.istft(specgram * angles, n_fft=n_fft, hop_length=hop_length,
                              win_length=win_length, window=window, length=length)
        rebuilt = ember.stft(inverse, n_fft=n_fft, hop_length=hop_length,
                             win_length=win_length, window=window, center=True,
                             pad_mode="reflect", normalized=False, onesided=True,
                             return_complex=True)
        angles = rebuilt
        if momentum:
            angles = angles - tprev * momentum
        angles = angles / (angles.abs() + 1e-16)
        tprev = rebuilt
    waveform = ember.istft(specgram * angles, n_fft=n_fft, hop_length=hop_length,
                           win_length=win_length, window=window, length=length)
    return waveform.reshape(tuple(shape[:-2]) + tuple(waveform.shape[-1:]))


def phase_vocoder(complex_specgrams: Tensor, rate: float, phase_advance: Tensor) -> Tensor:
    """Given a STFT tensor, speed up in time without modifying pitch by a factor of ``rate``.

    ``complex_specgrams`` is (..., freq, num_frame) complex, ``phase_advance`` (freq, 1) the
    expected phase advance per hop in each bin; the result is
    (..., freq, ceil(num_frame / rate))."""
    if rate == 1.0:
        return complex_specgrams
    shape = complex_specgrams.shape
    complex_specgrams = complex_specgrams.reshape([-1] + list(shape[-2:]))  # (B, freq, T)
    real_dtype = ember.real(complex_specgrams).dtype
    time_steps = ember.arange(0, complex_specgrams.shape[-1], rate,
                              device=complex_specgrams.device, dtype=real_dtype)
    alphas = time_steps % 1.0
    phase_0 = complex_specgrams[..., :1].angle()
    complex_specgrams = ember.nn.functional.pad(complex_specgrams, [0, 2])
    complex_specgrams_0 = complex_specgrams.index_select(-1, time_steps.long())
    complex_specgrams_1 = complex_specgrams.index_select(-1, (time_steps + 1).long())
    angle_0 = complex_specgrams_0.angle()
    angle_1 = complex_specgrams_1.angle()
    norm_0 = complex_specgrams_0.abs()
    norm_1 = complex_specgrams_1.abs()
    phase = angle_1 - angle_0 - phase_advance
    phase = phase - 2 * math.pi * ember.round(phase / (2 * math.pi))
    phase = phase + phase_advance
    phase = ember.cat([phase_0, phase[..., :-1]], dim=-1)
    phase_acc = ember.cumsum(phase, -1)
    mag = alphas * norm_1 + (1 - alphas) * norm_0
    stretched = ember.polar(mag, phase_acc)  # (B, freq, new_T)
    return stretched.reshape(tuple(shape[:-2]) + tuple(stretched.shape[1:]))


def spectral_centroid(waveform: Tensor, sample_rate: int, pad: int, window: Tensor,
                      n_fft: int, hop_length: int, win_length: int) -> Tensor:
    """Compute the spectral centroid for each channel along the time axis: the
    magnitude-weighted mean frequency of each frame. (..., time) -> (..., n_frames)."""
    specgram = spectrogram(waveform, pad=pad, window=window, n_fft=n_fft,
                           hop_length=hop_length, win_length=win_length, power=1.0,
                           normalized=False)
    freqs = ember.linspace(0, sample_rate // 2, steps=1 + n_fft // 2,
                           device=specgram.device).reshape((-1, 1))
    freq_dim = -2
    return (freqs * specgram).sum(dim=freq_dim) / specgram.sum(dim=freq_dim)
