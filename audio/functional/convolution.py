"""Convolutions along time and the effects built from them: ``convolve``, ``fftconvolve``,
``compute_deltas``, ``preemphasis`` and ``add_noise``, as in ``torchaudio.functional``."""

from __future__ import annotations

import ember
from ember import Tensor

__all__ = ["convolve", "fftconvolve", "compute_deltas", "preemphasis", "add_noise"]

_MODES = ["full", "valid", "same"]


def _check_shape_compatible(x: Tensor, y: Tensor) -> None:
    if x.ndim != y.ndim:
        raise ValueError(f"The operands must be the same dimension (got {x.ndim} and {y.ndim}).")
    for i in range(x.ndim - 1):
        xi, yi = x.shape[i], y.shape[i]
        if xi == yi or xi == 1 or yi == 1:
            continue
        raise ValueError("Leading dimensions of x and y are not broadcastable (got "
                         f"{x.shape} and {y.shape}).")


def _check_convolve_mode(mode: str) -> None:
    if mode not in _MODES:
        raise ValueError(f"Unrecognized mode value '{mode}'. Please specify one of {_MODES}.")


def _apply_convolve_mode(result: Tensor, x_length: int, y_length: int, mode: str) -> Tensor:
    if mode == "full":
        return result
    if mode == "valid":
        target_length = max(x_length, y_length) - min(x_length, y_length) + 1
        start = (result.shape[-1] - target_length) // 2
        return result[..., start:start + target_length]
    if mode == "same":
        start = (result.shape[-1] - x_length) // 2
        return result[..., start:start + x_length]
    raise ValueError(f"Unrecognized mode value '{mode}'. Please specify one of {_MODES}.")


def fftconvolve(x: Tensor, y: Tensor, mode: str = "full") -> Tensor:
    """Convolve ``x`` (..., N) and ``y`` (..., M) along their last dimension using FFT; the
    leading dimensions broadcast. ``mode`` is ``"full"`` (N + M - 1 samples), ``"valid"``
    (max(N, M) - min(N, M) + 1) or ``"same"`` (N). Faster than ``convolve`` for long
    inputs."""
    _check_shape_compatible(x, y)
    _check_convolve_mode(mode)
    n = x.shape[-1] + y.shape[-1] - 1
    fresult = ember.fft.rfft(x, n=n) * ember.fft.rfft(y, n=n)
    result = ember.fft.irfft(fresult, n=n)
    return _apply_convolve_mode(result, x.shape[-1], y.shape[-1], mode)


def convolve(x: Tensor, y: Tensor, mode: str = "full") -> Tensor:
    """Convolve ``x`` (..., N) and ``y`` (..., M) along their last dimension directly (one
    grouped ``conv1d``); the leading dimensions broadcast. ``mode`` as in
    ``fftconvolve``."""
    _check_shape_compatible(x, y)
    _check_convolve_mode(mode)
    x_size, y_size = x.shape[-1], y.shape[-1]
    if x.shape[-1] < y.shape[-1]:
        x, y = y, x
    if tuple(x.shape[:-1]) != tuple(y.shape[:-1]):
        new_shape = [max(i, j) for i, j in zip(x.shape[:-1], y.shape[:-1])]
        x = x.broadcast_to(new_shape + [x.shape[-1]])
        y = y.broadcast_to(new_shape + [y.shape[-1]])
    num_signals = 1
    for s in x.shape[:-1]:
        num_signals *= s
    reshaped_x = x.reshape(num_signals, x.shape[-1])  # (S, N)
    reshaped_y = y.reshape(num_signals, y.shape[-1])  # (S, M)
    output = ember.nn.functional.conv1d(reshaped_x, reshaped_y.flip(-1).unsqueeze(1), stride=1,
                                        groups=reshaped_x.shape[0],
                                        padding=reshaped_y.shape[-1] - 1)
    result = output.reshape(tuple(x.shape[:-1]) + (-1,))
    return _apply_convolve_mode(result, x_size, y_size, mode)


def compute_deltas(specgram: Tensor, win_length: int = 5, mode: str = "replicate") -> Tensor:
    """Compute delta coefficients of a tensor, usually a spectrogram (..., freq, time):

    ``d_t = sum_{n=1}^{N} n (c_{t+n} - c_{t-n}) / (2 sum_{n=1}^{N} n^2)``, with
    ``N = (win_length - 1) // 2`` and the edges padded with ``mode``."""
    device, dtype = specgram.device, specgram.dtype
    shape = specgram.shape
    specgram = specgram.reshape(1, -1, shape[-1])  # (1, rows, time)
    if win_length < 3:
        raise ValueError("Window length should be greater than or equal to 3. Found win_length "
                         f"{win_length}")
    n = (win_length - 1) // 2
    denom = n * (n + 1) * (2 * n + 1) / 3
    specgram = ember.nn.functional.pad(specgram, (n, n), mode=mode)
    kernel = ember.arange(-n, n + 1, 1, device=device, dtype=dtype).repeat(
        specgram.shape[1], 1, 1)  # (rows, 1, win)
    output = ember.nn.functional.conv1d(specgram, kernel, groups=specgram.shape[1]) / denom
    return output.reshape(shape)


def preemphasis(waveform: Tensor, coeff: float = 0.97) -> Tensor:
    """Pre-emphasize a waveform along its last dimension:
    ``y[i] = x[i] - coeff * x[i - 1]`` (``y[0] = x[0]``)."""
    head = waveform[..., :1]
    tail = waveform[..., 1:] - coeff * waveform[..., :-1]
    return ember.cat([head, tail], dim=-1)


def add_noise(waveform: Tensor, noise: Tensor, snr: Tensor,
              lengths: Tensor | None = None) -> Tensor:
    """Scale and add noise to waveforms per signal-to-noise ratio.

    ``waveform`` and ``noise`` are (..., L), ``snr`` (in dB) and ``lengths`` (valid lengths,
    optional) are (...). The noise is scaled so that the energy ratio of the (valid part
    of the) waveform to the noise is ``snr``."""
    if not (waveform.ndim - 1 == noise.ndim - 1 == snr.ndim
            and (lengths is None or lengths.ndim == snr.ndim)):
        raise ValueError("Input leading dimensions don't match.")
    L = waveform.shape[-1]
    if L != noise.shape[-1]:
        raise ValueError("Length dimensions of waveform and noise don't match (got "
                         f"{L} and {noise.shape[-1]}).")
    if lengths is not None:
        mask = ember.arange(0, L, device=lengths.device).expand(waveform.shape) < \
            lengths.unsqueeze(-1)  # (..., L)
        masked_waveform = waveform * mask
        masked_noise = noise * mask
    else:
        masked_waveform, masked_noise = waveform, noise
    energy_signal = ember.linalg.vector_norm(masked_waveform, ord=2, dim=-1) ** 2  # (...)
    energy_noise = ember.linalg.vector_norm(masked_noise, ord=2, dim=-1) ** 2
    original_snr_db = 10 * (ember.log10(energy_signal) - ember.log10(energy_noise))
    scale = 10 ** ((original_snr_db - snr) / 20.0)  # (...)
    return waveform + scale.unsqueeze(-1) * noise
