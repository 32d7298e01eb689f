"""Amplitude transforms, as in ``torchaudio.transforms``: ``AmplitudeToDB``,
``MuLawEncoding``, ``MuLawDecoding``, ``Vol`` and ``Fade``."""

from __future__ import annotations

import math

import ember
from ember import Tensor, nn

from .. import functional as F

__all__ = ["AmplitudeToDB", "MuLawEncoding", "MuLawDecoding", "Vol", "Fade"]


class AmplitudeToDB(nn.Module):
    """Turn a tensor from the power (``stype="power"``) or amplitude (``"magnitude"``) scale
    to the decibel scale, clipping to ``top_db`` below the maximum when given."""

    def __init__(self, stype: str = "power", top_db: float | None = None) -> None:
        super().__init__()
        self.stype = stype
        if top_db is not None and top_db < 0:
            raise ValueError("top_db must be positive value")
        self.top_db = top_db
        self.multiplier = 10.0 if stype == "power" else 20.0
        self.amin = 1e-10
        self.ref_value = 1.0
        self.db_multiplier = math.log10(max(self.amin, self.ref_value))

    def forward(self, x: Tensor) -> Tensor:
        """Same shape in dB."""
        return F.amplitude_to_DB(x, self.multiplier, self.amin, self.db_multiplier,
                                 self.top_db)


class MuLawEncoding(nn.Module):
    """Encode signal based on mu-law companding: [-1, 1] float -> int64 in
    [0, quantization_channels - 1]."""

    def __init__(self, quantization_channels: int = 256) -> None:
        super().__init__()
        self.quantization_channels = quantization_channels

    def forward(self, x: Tensor) -> Tensor:
        """Encode ``x``."""
        return F.mu_law_encoding(x, self.quantization_channels)


class MuLawDecoding(nn.Module):
    """Decode mu-law encoded signal back to [-1, 1]."""

    def __init__(self, quantization_channels: int = 256) -> None:
        super().__init__()
        self.quantization_channels = quantization_channels

    def forward(self, x_mu: Tensor) -> Tensor:
        """Decode ``x_mu``."""
        return F.mu_law_decoding(x_mu, self.quantization_channels)


class Vol(nn.Module):
    """Add a volume to a waveform and clip to [-1, 1]. ``gain_type`` is ``"amplitude"``
    (a factor), ``"power"`` (a power ratio) or ``"db"`` (decibels)."""

    def __init__(self, gain: float, gain_type: str = "amplitude") -> None:
        super().__init__()
        self.gain = gain
        self.gain_type = gain_type
        if gain_type in ("amplitude", "power") and gain < 0:
            raise ValueError("If gain_type = amplitude or power, gain must be positive.")

    def forward(self, waveform: Tensor) -> Tensor:
        """Scaled and clipped ``waveform``."""
        if self.gain_type == "amplitude":
            waveform = waveform * self.gain
        if self.gain_type == "db":
            waveform = F.gain(waveform, self.gain)
        if self.gain_type == "power":
            waveform = F.gain(waveform, 10 * math.log10(self.gain))
        return ember.clamp(waveform, -1, 1)


class Fade(nn.Module):
    """Add a fade in and/or fade out to a waveform (..., time). ``fade_shape`` is one of
    ``"quarter_sine"``, ``"half_sine"``, ``"linear"``, ``"logarithmic"``,
    ``"exponential"``."""

    def __init__(self, fade_in_len: int = 0, fade_out_len: int = 0,
                 fade_shape: str = "linear") -> None:
        super().__init__()
        self.fade_in_len = fade_in_len
        self.fade_out_len = fade_out_len
        self.fade_shape = fade_shape

    def forward(self, waveform: Tensor) -> Tensor:
        """``waveform`` times the fade-in and fade-out envelopes."""
        length = waveform.shape[-1]
        device = waveform.device
        return self._fade_in(length, device) * self._fade_out(length, device) * waveform

    def _fade_in(self, waveform_length: int, device) -> Tensor:
        fade = ember.linspace(0, 1, self.fade_in_len, device=device)
        ones = ember.ones(waveform_length - self.fade_in_len, device=device)
        if self.fade_shape == "exponential":
            fade = ember.pow(2, (fade - 1)) * fade
        if self.fade_shape == "logarithmic":
            fade = ember.log10(0.1 + fade) + 1
        if self.fade_shape == "quarter_sine":
            fade = ember.sin(fade * math.pi / 2)
        if self.fade_shape == "half_sine":
            fade = ember.sin(fade * math.pi - math.pi / 2) / 2 + 0.5
        return ember.cat((fade, ones)).clamp(0, 1)

    def _fade_out(self, waveform_length: int, device) -> Tensor:
        fade = ember.linspace(0, 1, self.fade_out_len, device=device)
        ones = ember.ones(waveform_length - self.fade_out_len, device=device)
        if self.fade_shape == "linear":
            fade = -fade + 1
        if self.fade_shape == "exponential":
            fade = ember.pow(2, -fade) * (1 - fade)
        if self.fade_shape == "logarithmic":
            fade = ember.log10(1.1 - fade) + 1
        if self.fade_shape == "quarter_sine":
            fade = ember.sin(fade * math.pi / 2 + math.pi / 2)
        if self.fade_shape == "half_sine":
            fade = ember.sin(fade * math.pi + math.pi / 2) / 2 + 0.5
        return ember.cat((ones, fade)).clamp(0, 1)
