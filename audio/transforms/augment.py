"""Augmentation and time-domain transforms, as in ``torchaudio.transforms``:
``FrequencyMasking``, ``TimeMasking``, ``SpecAugment``, ``Resample``, ``Speed``,
``SpeedPerturbation``, ``ComputeDeltas``, ``AddNoise``, ``Convolve``, ``FFTConvolve``,
``Preemphasis`` and ``Deemphasis``."""

from __future__ import annotations

import math
from collections.abc import Sequence

import ember
from ember import Tensor, nn

from .. import functional as F
from ..functional.convolution import _check_convolve_mode
from ..functional.resample import (
    _apply_sinc_resample_kernel,
    _get_sinc_resample_kernel,
    _source_target_sample_rate,
)

__all__ = ["FrequencyMasking", "TimeMasking", "SpecAugment", "Resample", "Speed",
           "SpeedPerturbation", "ComputeDeltas", "AddNoise", "Convolve", "FFTConvolve",
           "Preemphasis", "Deemphasis"]


class _AxisMasking(nn.Module):
    """A SpecAugment mask along axis 1 (frequency) or 2 (time) of (channel, freq, time)."""

    def __init__(self, mask_param: int, axis: int, iid_masks: bool, p: float = 1.0) -> None:
        super().__init__()
        self.mask_param = mask_param
        self.axis = axis
        self.iid_masks = iid_masks
        self.p = p

    def forward(self, specgram: Tensor, mask_value: float | Tensor = 0.0) -> Tensor:
        """Mask ``specgram`` (..., freq, time) with ``mask_value``."""
        axis = self.axis + specgram.dim() - 3
        if self.iid_masks:
            return F.mask_along_axis_iid(specgram, self.mask_param, mask_value, axis, p=self.p)
        value = float(mask_value) if isinstance(mask_value, Tensor) else mask_value
        return F.mask_along_axis(specgram, self.mask_param, value, axis, p=self.p)


class FrequencyMasking(_AxisMasking):
    """Apply masking to a spectrogram in the frequency domain (SpecAugment): a band of
    width ``~U(0, freq_mask_param)``; ``iid_masks`` draws one per example and channel
    (input of rank 4)."""

    def __init__(self, freq_mask_param: int, iid_masks: bool = False) -> None:
        super().__init__(freq_mask_param, 1, iid_masks)


class TimeMasking(_AxisMasking):
    """Apply masking to a spectrogram in the time domain (SpecAugment): a band of width
    ``~U(0, time_mask_param)``, at most ``p`` times the number of frames."""

    def __init__(self, time_mask_param: int, iid_masks: bool = False, p: float = 1.0) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"The value of p must be between 0.0 and 1.0 ({p} given).")
        super().__init__(time_mask_param, 2, iid_masks, p=p)


class SpecAugment(nn.Module):
    """Apply time and frequency masking to a spectrogram (SpecAugment, Park et al. 2019);
    masked values are the spectrogram's mean, or zero with ``zero_masking``."""

    def __init__(self, n_time_masks: int, time_mask_param: int, n_freq_masks: int,
                 freq_mask_param: int, iid_masks: bool = True, p: float = 1.0,
                 zero_masking: bool = False) -> None:
        super().__init__()
        self.n_time_masks = n_time_masks
        self.time_mask_param = time_mask_param
        self.n_freq_masks = n_freq_masks
        self.freq_mask_param = freq_mask_param
        self.iid_masks = iid_masks
        self.p = p
        self.zero_masking = zero_masking

    def forward(self, specgram: Tensor) -> Tensor:
        """Masked (..., freq, time)."""
        mask_value = 0.0 if self.zero_masking else specgram.mean()
        time_dim = specgram.dim() - 1
        freq_dim = time_dim - 1
        if specgram.dim() > 2 and self.iid_masks:
            mask = F.mask_along_axis_iid
        else:
            mask = F.mask_along_axis
        for _ in range(self.n_time_masks):
            specgram = mask(specgram, self.time_mask_param, mask_value, time_dim, p=self.p)
        for _ in range(self.n_freq_masks):
            specgram = mask(specgram, self.freq_mask_param, mask_value, freq_dim, p=self.p)
        return specgram


class Resample(nn.Module):
    """Resample a signal from one frequency to another, with the polyphase sinc kernel
    precomputed as the buffer ``kernel`` (absent when the rates are equal)."""

    def __init__(self, orig_freq: int = 16000, new_freq: int = 16000,
                 resampling_method: str = "sinc_interp_hann", lowpass_filter_width: int = 6,
                 rolloff: float = 0.99, beta: float | None = None, *, dtype=None) -> None:
        super().__init__()
        self.orig_freq = orig_freq
        self.new_freq = new_freq
        self.gcd = math.gcd(int(orig_freq), int(new_freq))
        self.resampling_method = resampling_method
        self.lowpass_filter_width = lowpass_filter_width
        self.rolloff = rolloff
        self.beta = beta
        if orig_freq != new_freq:
            kernel, self.width = _get_sinc_resample_kernel(
                orig_freq, new_freq, self.gcd, lowpass_filter_width, rolloff,
                resampling_method, beta, dtype=dtype)
            self.register_buffer("kernel", kernel)

    def forward(self, waveform: Tensor) -> Tensor:
        """(..., time) -> (..., ceil(time * new_freq / orig_freq))."""
        if self.orig_freq == self.new_freq:
            return waveform
        return _apply_sinc_resample_kernel(waveform, self.orig_freq, self.new_freq, self.gcd,
                                           self.kernel, self.width)


class Speed(nn.Module):
    """Adjust waveform speed by ``factor`` (resampling from ``factor * orig_freq`` to
    ``orig_freq``); ``forward`` returns (waveform, scaled lengths or None)."""

    def __init__(self, orig_freq, factor) -> None:
        super().__init__()
        self.orig_freq = orig_freq
        self.factor = factor
        self.source_sample_rate, self.target_sample_rate = \
            _source_target_sample_rate(orig_freq, factor)
        self.resampler = Resample(orig_freq=self.source_sample_rate,
                                  new_freq=self.target_sample_rate)

    def forward(self, waveform: Tensor,
                lengths: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """(waveform, lengths) at the new speed."""
        if lengths is None:
            out_lengths = None
        else:
            out_lengths = ember.ceil(lengths * self.target_sample_rate
                                     / self.source_sample_rate).to(lengths.dtype)
        return self.resampler(waveform), out_lengths


class SpeedPerturbation(nn.Module):
    """Apply a speed perturbation chosen uniformly at random from ``factors`` (as in
    Ko et al. 2015); ``forward`` returns (waveform, lengths or None)."""

    def __init__(self, orig_freq: int, factors: Sequence[float]) -> None:
        super().__init__()
        self.speeders = nn.ModuleList([Speed(orig_freq=orig_freq, factor=f) for f in factors])

    def forward(self, waveform: Tensor,
                lengths: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """One randomly chosen ``Speed`` applied to (waveform, lengths)."""
        idx = int(ember.randint(len(self.speeders), ()))
        return self.speeders[idx](waveform, lengths)


class ComputeDeltas(nn.Module):
    """Compute delta coefficients of a tensor, usually a spectrogram (see
    ``functional.compute_deltas``)."""

    def __init__(self, win_length: int = 5, mode: str = "replicate") -> None:
        super().__init__()
        self.win_length = win_length
        self.mode = mode

    def forward(self, specgram: Tensor) -> Tensor:
        """Deltas of (..., freq, time), same shape."""
        return F.compute_deltas(specgram, win_length=self.win_length, mode=self.mode)


class AddNoise(nn.Module):
    """Scale and add noise to waveforms per signal-to-noise ratio (see
    ``functional.add_noise``)."""

    def forward(self, waveform: Tensor, noise: Tensor, snr: Tensor,
                lengths: Tensor | None = None) -> Tensor:
        """``waveform + scale * noise`` with the scale set by ``snr`` (dB)."""
        return F.add_noise(waveform, noise, snr, lengths)


class Convolve(nn.Module):
    """Convolve inputs along their last dimension directly (see ``functional.convolve``)."""

    def __init__(self, mode: str = "full") -> None:
        _check_convolve_mode(mode)
        super().__init__()
        self.mode = mode

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """Convolution of ``x`` and ``y``."""
        return F.convolve(x, y, mode=self.mode)


class FFTConvolve(nn.Module):
    """Convolve inputs along their last dimension using FFT (see
    ``functional.fftconvolve``)."""

    def __init__(self, mode: str = "full") -> None:
        _check_convolve_mode(mode)
        super().__init__()
        self.mode = mode

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """Convolution of ``x`` and ``y``."""
        return F.fftconvolve(x, y, mode=self.mode)


class Preemphasis(nn.Module):
    """Pre-emphasize a waveform along its last dimension (see
    ``functional.preemphasis``)."""

    def __init__(self, coeff: float = 0.97) -> None:
        super().__init__()
        self.coeff = coeff

    def forward(self, waveform: Tensor) -> Tensor:
        """Pre-emphasized (..., time)."""
        return F.preemphasis(waveform, coeff=self.coeff)


class Deemphasis(nn.Module):
    """De-emphasize a waveform along its last dimension (see ``functional.deemphasis``)."""

    def __init__(self, coeff: float = 0.97) -> None:
        super().__init__()
        self.coeff = coeff

    def forward(self, waveform: Tensor) -> Tensor:
        """De-emphasized (..., time)."""
        return F.deemphasis(waveform, coeff=self.coeff)
