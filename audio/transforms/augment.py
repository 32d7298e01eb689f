"""Data-augmentation and waveform-level modules of ``torchaudio.transforms``:
``FrequencyMasking``, ``TimeMasking``, ``SpecAugment``, ``Resample``, ``Speed``,
``SpeedPerturbation``, ``ComputeDeltas``, ``AddNoise``, ``Convolve``, ``FFTConvolve``,
``Preemphasis`` and ``Deemphasis``. Most are thin wrappers over
``ember.audio.functional``."""

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


# -- SpecAugment-style masking ---------------------------------------------------------------
class _AxisMasking(nn.Module):
    """Masks one random band along ``axis`` (1: frequency, 2: time), counted for a
    (channel, freq, time) input; extra leading dims shift it accordingly."""

    def __init__(self, mask_param: int, axis: int, iid_masks: bool, p: float = 1.0) -> None:
        super().__init__()
        self.mask_param, self.axis = mask_param, axis
        self.iid_masks, self.p = iid_masks, p

    def forward(self, specgram: Tensor, mask_value: float | Tensor = 0.0) -> Tensor:
        """``specgram`` (..., freq, time) with one band set to ``mask_value``."""
        dim = specgram.dim() - 3 + self.axis
        if not self.iid_masks:
            if isinstance(mask_value, Tensor):
                mask_value = float(mask_value)
            return F.mask_along_axis(specgram, self.mask_param, mask_value, dim, p=self.p)
        return F.mask_along_axis_iid(specgram, self.mask_param, mask_value, dim, p=self.p)


class FrequencyMasking(_AxisMasking):
    """SpecAugment frequency mask: hides a band of up to ``freq_mask_param`` bins, its
    width drawn uniformly. With ``iid_masks`` a 4-D input gets an independent band per
    example and channel."""

    def __init__(self, freq_mask_param: int, iid_masks: bool = False) -> None:
        super().__init__(freq_mask_param, axis=1, iid_masks=iid_masks)


class TimeMasking(_AxisMasking):
    """SpecAugment time mask: hides a band of up to ``time_mask_param`` frames, and never
    more than the fraction ``p`` of all frames."""

    def __init__(self, time_mask_param: int, iid_masks: bool = False, p: float = 1.0) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"The value of p must be between 0.0 and 1.0 ({p} given).")
        super().__init__(time_mask_param, axis=2, iid_masks=iid_masks, p=p)


class SpecAugment(nn.Module):
    """SpecAugment (Park et al., 2019): ``n_time_masks`` time bands, then ``n_freq_masks``
    frequency bands. Hidden values are set to the spectrogram's mean, or to 0 when
    ``zero_masking``."""

    def __init__(self, n_time_masks: int, time_mask_param: int, n_freq_masks: int,
                 freq_mask_param: int, iid_masks: bool = True, p: float = 1.0,
                 zero_masking: bool = False) -> None:
        super().__init__()
        self.n_time_masks, self.time_mask_param = n_time_masks, time_mask_param
        self.n_freq_masks, self.freq_mask_param = n_freq_masks, freq_mask_param
        self.iid_masks, self.p, self.zero_masking = iid_masks, p, zero_masking

    def forward(self, specgram: Tensor) -> Tensor:
        """``specgram`` (..., freq, time) with the masks applied."""
        fill = 0.0 if self.zero_masking else specgram.mean()
        per_example = self.iid_masks and specgram.dim() > 2
        masker = F.mask_along_axis_iid if per_example else F.mask_along_axis
        last = specgram.dim() - 1
        plan = ([(self.time_mask_param, last)] * self.n_time_masks
                + [(self.freq_mask_param, last - 1)] * self.n_freq_masks)
        for width, dim in plan:
            specgram = masker(specgram, width, fill, dim, p=self.p)
        return specgram


# -- rate changes ----------------------------------------------------------------------------
class Resample(nn.Module):
    """Band-limited (windowed-sinc) resampling from ``orig_freq`` to ``new_freq``. The
    polyphase filter is computed once and kept as the buffer ``kernel``; there is none
    when the two rates agree, and the input is then returned unchanged."""

    def __init__(self, orig_freq: int = 16000, new_freq: int = 16000,
                 resampling_method: str = "sinc_interp_hann", lowpass_filter_width: int = 6,
                 rolloff: float = 0.99, beta: float | None = None, *, dtype=None) -> None:
        super().__init__()
        self.orig_freq, self.new_freq = orig_freq, new_freq
        self.gcd = math.gcd(int(orig_freq), int(new_freq))
        self.resampling_method = resampling_method
        self.lowpass_filter_width, self.rolloff, self.beta = lowpass_filter_width, rolloff, beta
        if orig_freq == new_freq:
            return
        kernel, width = _get_sinc_resample_kernel(
            orig_freq, new_freq, self.gcd, lowpass_filter_width, rolloff, resampling_method,
            beta, dtype=dtype)
        self.width = width
        self.register_buffer("kernel", kernel)

    def forward(self, waveform: Tensor) -> Tensor:
        """``waveform`` (..., time) at the new rate: (..., ceil(time * new / orig))."""
        if self.new_freq == self.orig_freq:
            return waveform
        return _apply_sinc_resample_kernel(waveform, self.orig_freq, self.new_freq, self.gcd,
                                           self.kernel, self.width)


class Speed(nn.Module):
    """Plays a waveform ``factor`` times faster by resampling it from
    ``orig_freq * factor`` to ``orig_freq`` (lengths shrink by ``factor``)."""

    def __init__(self, orig_freq, factor) -> None:
        super().__init__()
        self.orig_freq, self.factor = orig_freq, factor
        src, dst = _source_target_sample_rate(orig_freq, factor)
        self.source_sample_rate, self.target_sample_rate = src, dst
        self.resampler = Resample(orig_freq=src, new_freq=dst)

    def forward(self, waveform: Tensor,
                lengths: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """``(resampled waveform, rescaled lengths)``; lengths stay None if not given."""
        new_lengths = None
        if lengths is not None:
            scaled = lengths * self.target_sample_rate / self.source_sample_rate
            new_lengths = ember.ceil(scaled).to(lengths.dtype)
        return self.resampler(waveform), new_lengths


class SpeedPerturbation(nn.Module):
    """Speed perturbation (Ko et al., 2015): every call applies a ``Speed`` with a factor
    picked uniformly from ``factors``."""

    def __init__(self, orig_freq: int, factors: Sequence[float]) -> None:
        super().__init__()
        self.speeders = nn.ModuleList(Speed(orig_freq=orig_freq, factor=f) for f in factors)

    def forward(self, waveform: Tensor,
                lengths: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """``(waveform, lengths)`` after a randomly chosen speed change."""
        pick = ember.randint(len(self.speeders), ())
        return self.speeders[int(pick)](waveform, lengths)


# -- simple wrappers -------------------------------------------------------------------------
class ComputeDeltas(nn.Module):
    """Delta (time-derivative) features of a spectrogram; see
    ``functional.compute_deltas``."""

    def __init__(self, win_length: int = 5, mode: str = "replicate") -> None:
        super().__init__()
        self.win_length, self.mode = win_length, mode

    def forward(self, specgram: Tensor) -> Tensor:
        """Deltas of ``specgram`` (..., freq, time), same shape."""
        return F.compute_deltas(specgram, mode=self.mode, win_length=self.win_length)


class AddNoise(nn.Module):
    """Mixes noise into a waveform at a given signal-to-noise ratio; see
    ``functional.add_noise``."""

    def forward(self, waveform: Tensor, noise: Tensor, snr: Tensor,
                lengths: Tensor | None = None) -> Tensor:
        """``waveform`` plus ``noise`` scaled to ``snr`` decibels."""
        return F.add_noise(waveform, noise, snr, lengths=lengths)


class _ModeConvolution(nn.Module):
    """Convolution of two inputs along the last dim, with a ``mode`` of "full", "valid"
    or "same"."""

    _impl = None  # set by subclasses: a functional taking (x, y, mode=...)

    def __init__(self, mode: str = "full") -> None:
        _check_convolve_mode(mode)
        super().__init__()
        self.mode = mode

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """``x`` convolved with ``y``."""
        return type(self)._impl(x, y, mode=self.mode)


class Convolve(_ModeConvolution):
    """Direct convolution along the last dimension (``functional.convolve``)."""

    _impl = staticmethod(F.convolve)


class FFTConvolve(_ModeConvolution):
    """FFT-based convolution along the last dimension (``functional.fftconvolve``)."""

    _impl = staticmethod(F.fftconvolve)


class _EmphasisFilter(nn.Module):
    """First-order emphasis filter with coefficient ``coeff`` on the last dimension."""

    _impl = None  # set by subclasses

    def __init__(self, coeff: float = 0.97) -> None:
        super().__init__()
        self.coeff = coeff

    def forward(self, waveform: Tensor) -> Tensor:
        """Filtered ``waveform`` (..., time)."""
        return type(self)._impl(waveform, coeff=self.coeff)


class Preemphasis(_EmphasisFilter):
    """Boosts high frequencies: ``y[n] = x[n] - coeff * x[n - 1]``
    (``functional.preemphasis``)."""

    _impl = staticmethod(F.preemphasis)


class Deemphasis(_EmphasisFilter):
    """Undoes ``Preemphasis``: ``y[n] = x[n] + coeff * y[n - 1]``
    (``functional.deemphasis``)."""

    _impl = staticmethod(F.deemphasis)
