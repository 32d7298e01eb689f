"""``loudness``: integrated loudness (LKFS) after ITU-R BS.1770-4, as in
``torchaudio.functional``.

K-weighting (a +4 dB high shelf at 1.5 kHz, then a 38 Hz high-pass), mean-square energy in
400 ms blocks overlapping by 75 % (one strided view), channel weights 1, 1, 1, 1.41, 1.41,
an absolute gate at -70 LKFS and a relative gate 10 LU below the absolutely-gated loudness.
"""

from __future__ import annotations

import math

import ember
from ember import Tensor

from .biquad import highpass_biquad, treble_biquad

__all__ = ["loudness"]

_GATE_DURATION = 0.4  # seconds per block
_OVERLAP = 0.75
_GAMMA_ABS = -70.0  # LKFS
_KWEIGHT_BIAS = -0.691
_CHANNEL_WEIGHTS = [1.0, 1.0, 1.0, 1.41, 1.41]


def _gated_loudness(energy: Tensor, gate: Tensor, g: Tensor) -> Tensor:
    """Loudness of the mean block energies over the blocks where ``gate`` holds.
    energy: (..., channels, blocks); gate: (..., 1, blocks); g: (channels)."""
    kept = (gate * energy).sum(-1) / ember.count_nonzero(gate, dim=-1)  # (..., channels)
    return _KWEIGHT_BIAS + 10 * ember.log10((g * kept).sum(-1))  # (...)


def loudness(waveform: Tensor, sample_rate: int) -> Tensor:
    """Measure audio loudness according to the ITU-R BS.1770-4 recommendation.

    Args:
        waveform: audio waveform of dimension (..., channels, time), at most 5 channels
            (the last two are the surround channels, weighted 1.41).
        sample_rate: sampling rate of the waveform.

    Returns:
        Loudness estimates (LKFS), of shape (...).
    """
    if waveform.dim() < 2:
        raise ValueError("loudness: expected a waveform of dimension (..., channels, time), "
                         f"got shape {tuple(waveform.shape)}")
    if waveform.shape[-2] > 5:
        raise ValueError("Only up to 5 channels are supported.")
    gate_samples = int(round(_GATE_DURATION * sample_rate))
    step = int(round(gate_samples * (1 - _OVERLAP)))
    if waveform.shape[-1] < gate_samples:
        raise RuntimeError(f"loudness: the waveform ({waveform.shape[-1]} samples) is shorter "
                         f"than one {_GATE_DURATION} s gating block ({gate_samples} samples)")

    # K-weighting
    waveform = treble_biquad(waveform, sample_rate, 4.0, 1500.0, 1 / math.sqrt(2))
    waveform = highpass_biquad(waveform, sample_rate, 38.0, 0.5)

    # mean square per block: (..., channels, blocks)
    energy = waveform.square().unfold(-1, gate_samples, step).mean(-1)
    g = ember.tensor(_CHANNEL_WEIGHTS[:energy.shape[-2]], dtype=waveform.dtype,
                     device=waveform.device)
    block_loudness = _KWEIGHT_BIAS + 10 * ember.log10(
        (g.unsqueeze(-1) * energy).sum(-2))  # (..., blocks)

    # absolute gate, then the relative gate 10 LU below the absolutely-gated loudness
    gate = (block_loudness > _GAMMA_ABS).unsqueeze(-2)  # (..., 1, blocks)
    gamma_rel = _gated_loudness(energy, gate, g) - 10
    gate = gate & (block_loudness > gamma_rel.unsqueeze(-1)).unsqueeze(-2)
    return _gated_loudness(energy, gate, g)
