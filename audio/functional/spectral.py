"""STFT-based functions of ``torchaudio.functional``: ``spectrogram``,
``inverse_spectrogram``, ``griffinlim``, ``phase_vocoder`` and ``spectral_centroid``.

All leading dimensions of the input are flattened into a single batch axis, so each
function makes one batched ``ember.stft``/``ember.istft`` call (Griffin-Lim makes one
per iteration) and restores the leading shape at the end. Gradients flow wherever
torchaudio's versions are differentiable.
"""

from __future__ import annotations

import math
import warnings

import ember
from ember import Tensor

__all__ = ["spectrogram", "inverse_spectrogram", "griffinlim", "phase_vocoder",
           "spectral_centroid"]

_TWO_PI = 2 * math.pi


def _get_spec_norms(normalized: bool | str) -> tuple[bool, bool]:
    """Splits ``normalized`` into (use stft's frame-length normalisation, divide by the
    window's L2 norm)."""
    if isinstance(normalized, bool):
        return False, normalized
    if not isinstance(normalized, str):
        raise TypeError("Input type not supported")
    if normalized == "frame_length":
        return True, False
    if normalized == "window":
        return False, True
    raise ValueError(f"Invalid normalized parameter: {normalized}")


def _fold(x: Tensor, keep: int) -> tuple[Tensor, tuple]:
    """Reshapes ``x`` to (batch, *last ``keep`` dims); also returns the leading shape."""
    lead = tuple(x.shape[:-keep])
    return x.reshape((-1, *x.shape[-keep:])), lead


def _unfold(x: Tensor, lead: tuple, keep: int) -> Tensor:
    """Inverse of ``_fold``: restores the leading shape in front of the last ``keep``
    dims of ``x``."""
    return x.reshape(lead + tuple(x.shape[x.dim() - keep:]))


def _window_l2(window: Tensor) -> Tensor:
    return window.pow(2.0).sum().sqrt()


def spectrogram(waveform: Tensor, pad: int, window: Tensor, n_fft: int, hop_length: int,
                win_length: int, power: float | None, normalized: bool | str,
                center: bool = True, pad_mode: str = "reflect", onesided: bool = True,
                return_complex: bool | None = None) -> Tensor:
    """Short-time Fourier transform of ``waveform`` (..., time) into (..., freq, frames).

    ``power=None`` keeps the complex values; otherwise the magnitude raised to ``power``
    is returned. ``normalized`` may be False, True/``"window"`` (divide by the window's
    L2 norm) or ``"frame_length"`` (stft's 1/sqrt(n_fft) scaling). ``pad`` zeros are
    added on both sides first; with ``onesided`` there are ``n_fft // 2 + 1`` bins."""
    if return_complex is not None:
        warnings.warn("`return_complex` argument is now deprecated and is not effective."
                      "`torchaudio.functional.spectrogram(power=None)` always returns a tensor "
                      "with complex dtype. Please remove the argument in the function call.",
                      stacklevel=2)
    if pad > 0:
        waveform = ember.nn.functional.pad(waveform, (pad, pad), "constant")
    by_length, by_window = _get_spec_norms(normalized)
    flat, lead = _fold(waveform, 1)
    spec = ember.stft(flat, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                      window=window, center=center, pad_mode=pad_mode, normalized=by_length,
                      onesided=onesided, return_complex=True)
    spec = _unfold(spec, lead, 2)
    if by_window:
        spec = spec / _window_l2(window)
    if power is None:
        return spec
    mag = spec.abs()
    return mag if power == 1.0 else mag.pow(power)


def inverse_spectrogram(spectrogram: Tensor, length: int | None, pad: int, window: Tensor,
                        n_fft: int, hop_length: int, win_length: int,
                        normalized: bool | str, center: bool = True,
                        pad_mode: str = "reflect", onesided: bool = True) -> Tensor:
    """Inverse STFT of a complex spectrogram (..., freq, frames) into (..., time); the
    arguments mirror ``spectrogram``. With ``length`` given, ``pad`` samples are cut
    from both ends."""
    by_length, by_window = _get_spec_norms(normalized)
    if not spectrogram.is_complex():
        raise ValueError("Expected `spectrogram` to be complex dtype.")
    spec = spectrogram * _window_l2(window) if by_window else spectrogram
    flat, lead = _fold(spec, 2)
    full_length = None if length is None else length + 2 * pad
    wave = ember.istft(flat, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                       window=window, center=center, normalized=by_length, onesided=onesided,
                       length=full_length, return_complex=False)
    if full_length is not None and pad > 0:
        wave = wave[:, pad:wave.shape[-1] - pad]
    return _unfold(wave, lead, 1)


_COMPLEX_OF = {ember.float32: ember.complex64, ember.float64: ember.complex128}


def griffinlim(specgram: Tensor, window: Tensor, n_fft: int, hop_length: int, win_length: int,
               power: float, n_iter: int, momentum: float, length: int | None,
               rand_init: bool) -> Tensor:
    """Reconstructs a waveform (..., time) from the magnitude spectrogram
    ``specgram`` (..., freq, frames), given as ``|X| ** power``, by ``n_iter`` rounds of
    the fast Griffin-Lim phase estimation (Perraudin et al., 2013) with ``momentum``."""
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in range [0, 1). Found: {momentum}")
    accel = momentum / (1 + momentum)
    mags, lead = _fold(specgram, 2)
    mags = mags.pow(1 / power)
    if mags.dtype not in _COMPLEX_OF:
        raise ValueError(f"Unexpected dtype {mags.dtype}")
    opts = {"dtype": mags.dtype, "device": mags.device}
    if rand_init:
        real = ember.rand(mags.shape, **opts)
        imag = ember.rand(mags.shape, **opts)
        phase = ember.complex(real, imag)
    else:
        phase = ember.full(mags.shape, 1, dtype=_COMPLEX_OF[mags.dtype], device=mags.device)
    stft_args = {"n_fft": n_fft, "hop_length": hop_length, "win_length": win_length,
                 "window": window}
    previous = ember.tensor(0.0, **opts)
    for _ in range(n_iter):
        estimate = ember.istft(mags * phase, length=length, **stft_args)
        projected = ember.stft(estimate, center=True, pad_mode="reflect", normalized=False,
                               onesided=True, return_complex=True, **stft_args)
        phase = projected - previous * accel if accel else projected
        phase = phase / (phase.abs() + 1e-16)
        previous = projected
    wave = ember.istft(mags * phase, length=length, **stft_args)
    return _unfold(wave, lead, 1)


def phase_vocoder(complex_specgrams: Tensor, rate: float, phase_advance: Tensor) -> Tensor:
    """Time-stretches a complex STFT (..., freq, frames) by ``rate`` without changing its
    pitch, giving ``ceil(frames / rate)`` frames. ``phase_advance`` (freq, 1) is the
    nominal phase increment per hop of each bin."""
    if rate == 1.0:
        return complex_specgrams
    spec, lead = _fold(complex_specgrams, 2)
    positions = ember.arange(0, spec.shape[-1], rate, device=spec.device,
                             dtype=ember.real(spec).dtype)
    frac = positions % 1.0
    start_phase = spec[..., :1].angle()
    padded = ember.nn.functional.pad(spec, [0, 2])  # room for the frame after the last
    left = padded.index_select(-1, positions.long())
    right = padded.index_select(-1, (positions + 1).long())
    # phase increment between neighbouring frames, wrapped around the nominal advance
    delta = right.angle() - left.angle() - phase_advance
    delta = delta - _TWO_PI * ember.round(delta / _TWO_PI) + phase_advance
    increments = ember.cat([start_phase, delta[..., :-1]], dim=-1)
    magnitude = frac * right.abs() + (1 - frac) * left.abs()
    out = ember.polar(magnitude, ember.cumsum(increments, -1))
    return _unfold(out, lead, 2)


def spectral_centroid(waveform: Tensor, sample_rate: int, pad: int, window: Tensor,
                      n_fft: int, hop_length: int, win_length: int) -> Tensor:
    """Magnitude-weighted mean frequency of every frame: (..., time) -> (..., frames)."""
    mag = spectrogram(waveform, pad=pad, window=window, n_fft=n_fft, hop_length=hop_length,
                      win_length=win_length, power=1.0, normalized=False)
    bins = ember.linspace(0, sample_rate // 2, steps=1 + n_fft // 2, device=mag.device)
    weighted = (bins.reshape((-1, 1)) * mag).sum(dim=-2)
    return weighted / mag.sum(dim=-2)
