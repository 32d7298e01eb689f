"""Amplitude scales and companding: ``amplitude_to_DB``, ``DB_to_amplitude``,
``mu_law_encoding``, ``mu_law_decoding`` and ``gain``, as in ``torchaudio.functional``."""

from __future__ import annotations

import warnings

import ember
from ember import Tensor

__all__ = ["amplitude_to_DB", "DB_to_amplitude", "mu_law_encoding", "mu_law_decoding",
           "gain"]


def amplitude_to_DB(x: Tensor, multiplier: float, amin: float, db_multiplier: float,
                    top_db: float | None = None) -> Tensor:
    """Turn a spectrogram from the power/amplitude scale to the decibel scale:
    ``multiplier * log10(max(x, amin)) - multiplier * db_multiplier``.

    With ``top_db``, values are clipped to ``top_db`` below the maximum of each spectrogram
    (the maximum is taken over the last three dimensions, (channel, freq, time), for input
    of rank 3 or more, else over the last two)."""
    x_db = multiplier * ember.log10(ember.clamp(x, min=amin))
    x_db = x_db - multiplier * db_multiplier
    if top_db is not None:
        shape = x_db.shape
        packed_channels = shape[-3] if x_db.dim() > 2 else 1
        x_db = x_db.reshape(-1, packed_channels, shape[-2], shape[-1])  # (B, C, F, T)
        floor = (x_db.amax(dim=(-3, -2, -1)) - top_db).view(-1, 1, 1, 1)
        x_db = ember.max(x_db, floor)
        x_db = x_db.reshape(shape)
    return x_db


def DB_to_amplitude(x: Tensor, ref: float, power: float) -> Tensor:
    """Turn a tensor from the decibel scale to the power/amplitude scale:
    ``ref * (10 ** (0.1 * x)) ** power``."""
    return ref * ember.pow(ember.pow(10.0, 0.1 * x), power)


def mu_law_encoding(x: Tensor, quantization_channels: int) -> Tensor:
    """Encode a signal in [-1, 1] based on mu-law companding; the result is int64 in
    [0, quantization_channels - 1]."""
    mu = quantization_channels - 1.0
    if not x.is_floating_point():
        warnings.warn("The input Tensor must be of floating type. "
                      "This will be an error in the v0.12 release.", stacklevel=2)
        x = x.to(ember.float32)
    mu = ember.tensor(mu, dtype=x.dtype, device=x.device)
    x_mu = ember.sign(x) * ember.log1p(mu * ember.abs(x)) / ember.log1p(mu)
    return ((x_mu + 1) / 2 * mu + 0.5).to(ember.int64)


def mu_law_decoding(x_mu: Tensor, quantization_channels: int) -> Tensor:
    """Decode a mu-law encoded signal back to [-1, 1] (float32 for integer input)."""
    mu = quantization_channels - 1.0
    if not x_mu.is_floating_point():
        x_mu = x_mu.to(ember.float32)
    mu = ember.tensor(mu, dtype=x_mu.dtype, device=x_mu.device)
    x = (x_mu / mu) * 2 - 1.0
    return ember.sign(x) * (ember.exp(ember.abs(x) * ember.log1p(mu)) - 1.0) / mu


def gain(waveform: Tensor, gain_db: float = 1.0) -> Tensor:
    """Apply amplification or attenuation to the whole waveform: multiply by
    ``10 ** (gain_db / 20)``."""
    if gain_db == 0:
        return waveform
    ratio = 10 ** (gain_db / 20)
    return waveform * ratio
