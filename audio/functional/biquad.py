"""Second-order (biquad) filters and simple effects, as in ``torchaudio.functional``:
``biquad`` and its designs (``lowpass_biquad``, ``highpass_biquad``, ``allpass_biquad``,
``bandpass_biquad``, ``bandreject_biquad``, ``band_biquad``, ``bass_biquad``,
``treble_biquad``, ``equalizer_biquad``, ``deemph_biquad``, ``riaa_biquad``), and
``contrast``, ``dcshift``, ``deemphasis``.

The designs follow the Audio EQ Cookbook (and SoX), computing the coefficients in the
waveform's dtype, as torchaudio does; every filter runs through ``lfilter``.
"""

from __future__ import annotations

import math

import ember
from ember import Tensor

from .lfilter import lfilter

__all__ = ["biquad", "lowpass_biquad", "highpass_biquad", "allpass_biquad", "bandpass_biquad",
           "bandreject_biquad", "band_biquad", "bass_biquad", "treble_biquad",
           "equalizer_biquad", "deemph_biquad", "riaa_biquad", "contrast", "dcshift",
           "deemphasis"]


def _t(value, like: Tensor) -> Tensor:
    return ember.as_tensor(value, dtype=like.dtype, device=like.device)


def _w0_alpha(waveform: Tensor, sample_rate: int, freq: float, Q: float):
    freq, Q = _t(freq, waveform), _t(Q, waveform)
    w0 = 2 * math.pi * freq / sample_rate
    return w0, ember.sin(w0) / 2 / Q


def biquad(waveform: Tensor, b0: float, b1: float, b2: float, a0: float, a1: float,
           a2: float) -> Tensor:
    """Perform a biquad filter of input tensor (..., time): the transfer function
    ``(b0 + b1 z^-1 + b2 z^-2) / (a0 + a1 z^-1 + a2 z^-2)``. Coefficients may be floats or
    0-d Tensors (which then receive gradients)."""
    coeffs = [_t(c, waveform).reshape(1) for c in (b0, b1, b2, a0, a1, a2)]
    return lfilter(waveform, ember.cat(coeffs[3:]), ember.cat(coeffs[:3]))


def lowpass_biquad(waveform: Tensor, sample_rate: int, cutoff_freq: float,
                   Q: float = 0.707) -> Tensor:
    """Design a two-pole low-pass filter (cutoff ``cutoff_freq`` Hz) and apply it."""
    w0, alpha = _w0_alpha(waveform, sample_rate, cutoff_freq, Q)
    b0 = (1 - ember.cos(w0)) / 2
    return biquad(waveform, b0, 1 - ember.cos(w0), b0, 1 + alpha, -2 * ember.cos(w0),
                  1 - alpha)


def highpass_biquad(waveform: Tensor, sample_rate: int, cutoff_freq: float,
                    Q: float = 0.707) -> Tensor:
    """Design a two-pole high-pass filter (cutoff ``cutoff_freq`` Hz) and apply it."""
    w0, alpha = _w0_alpha(waveform, sample_rate, cutoff_freq, Q)
    b0 = (1 + ember.cos(w0)) / 2
    return biquad(waveform, b0, -1 - ember.cos(w0), b0, 1 + alpha, -2 * ember.cos(w0),
                  1 - alpha)


def allpass_biquad(waveform: Tensor, sample_rate: int, central_freq: float,
                   Q: float = 0.707) -> Tensor:
    """Design a two-pole all-pass filter centred at ``central_freq`` Hz and apply it."""
    w0, alpha = _w0_alpha(waveform, sample_rate, central_freq, Q)
    return biquad(waveform, 1 - alpha, -2 * ember.cos(w0), 1 + alpha, 1 + alpha,
                  -2 * ember.cos(w0), 1 - alpha)


def bandpass_biquad(waveform: Tensor, sample_rate: int, central_freq: float,
                    Q: float = 0.707, const_skirt_gain: bool = False) -> Tensor:
    """Design a two-pole band-pass filter and apply it; ``const_skirt_gain`` gives a
    constant skirt gain (peak gain = Q) instead of constant 0 dB peak gain."""
    w0, alpha = _w0_alpha(waveform, sample_rate, central_freq, Q)
    temp = ember.sin(w0) / 2 if const_skirt_gain else alpha
    return biquad(waveform, temp, 0.0, -temp, 1 + alpha, -2 * ember.cos(w0), 1 - alpha)


def bandreject_biquad(waveform: Tensor, sample_rate: int, central_freq: float,
                      Q: float = 0.707) -> Tensor:
    """Design a two-pole band-reject (notch) filter and apply it."""
    w0, alpha = _w0_alpha(waveform, sample_rate, central_freq, Q)
    return biquad(waveform, 1.0, -2 * ember.cos(w0), 1.0, 1 + alpha, -2 * ember.cos(w0),
                  1 - alpha)


def band_biquad(waveform: Tensor, sample_rate: int, central_freq: float, Q: float = 0.707,
                noise: bool = False) -> Tensor:
    """Design a two-pole band filter (SoX ``band``); ``noise`` selects the mode for
    unpitched audio."""
    freq, q = _t(central_freq, waveform), _t(Q, waveform)
    w0 = 2 * math.pi * freq / sample_rate
    bw_hz = freq / q
    a2 = ember.exp(-2 * math.pi * bw_hz / sample_rate)
    a1 = -4 * a2 / (1 + a2) * ember.cos(w0)
    b0 = ember.sqrt(1 - a1 * a1 / (4 * a2)) * (1 - a2)
    if noise:
        mult = ember.sqrt(((1 + a2) * (1 + a2) - a1 * a1) * (1 - a2) / (1 + a2)) / b0
        b0 = mult * b0
    return biquad(waveform, b0, 0.0, 0.0, 1.0, a1, a2)


def _shelf(waveform, sample_rate, gain, central_freq, Q):
    w0, alpha = _w0_alpha(waveform, sample_rate, central_freq, Q)
    A = ember.exp(_t(gain, waveform) / 40 * math.log(10))
    return w0, A, 2 * ember.sqrt(A) * alpha, (A - 1) * ember.cos(w0), (A + 1) * ember.cos(w0)


def bass_biquad(waveform: Tensor, sample_rate: int, gain: float, central_freq: float = 100,
                Q: float = 0.707) -> Tensor:
    """Design a bass tone-control (low shelf) filter with ``gain`` dB and apply it."""
    _, A, temp1, temp2, temp3 = _shelf(waveform, sample_rate, gain, central_freq, Q)
    b0 = A * ((A + 1) - temp2 + temp1)
    b1 = 2 * A * ((A - 1) - temp3)
    b2 = A * ((A + 1) - temp2 - temp1)
    a0 = (A + 1) + temp2 + temp1
    a1 = -2 * ((A - 1) + temp3)
    a2 = (A + 1) + temp2 - temp1
    return biquad(waveform, b0 / a0, b1 / a0, b2 / a0, a0 / a0, a1 / a0, a2 / a0)


def treble_biquad(waveform: Tensor, sample_rate: int, gain: float, central_freq: float = 3000,
                  Q: float = 0.707) -> Tensor:
    """Design a treble tone-control (high shelf) filter with ``gain`` dB and apply it."""
    _, A, temp1, temp2, temp3 = _shelf(waveform, sample_rate, gain, central_freq, Q)
    b0 = A * ((A + 1) + temp2 + temp1)
    b1 = -2 * A * ((A - 1) + temp3)
    b2 = A * ((A + 1) + temp2 - temp1)
    a0 = (A + 1) - temp2 + temp1
    a1 = 2 * ((A - 1) - temp3)
    a2 = (A + 1) - temp2 - temp1
    return biquad(waveform, b0, b1, b2, a0, a1, a2)


def equalizer_biquad(waveform: Tensor, sample_rate: int, center_freq: float, gain: float,
                     Q: float = 0.707) -> Tensor:
    """Design a biquad peaking equalizer filter (``gain`` dB at ``center_freq``) and apply
    it."""
    w0, alpha = _w0_alpha(waveform, sample_rate, center_freq, Q)
    A = ember.exp(_t(gain, waveform) / 40.0 * math.log(10))
    return biquad(waveform, 1 + alpha * A, -2 * ember.cos(w0), 1 - alpha * A, 1 + alpha / A,
                  -2 * ember.cos(w0), 1 - alpha / A)


def deemph_biquad(waveform: Tensor, sample_rate: int) -> Tensor:
    """Apply ISO 908 CD de-emphasis (shelving) IIR filter; ``sample_rate`` must be 44100 or
    48000."""
    if sample_rate == 44100:
        central_freq, width_slope, gain = 5283, 0.4845, -9.477
    elif sample_rate == 48000:
        central_freq, width_slope, gain = 5356, 0.479, -9.62
    else:
        raise ValueError("Sample rate must be 44100 (audio-CD) or 48000 (DAT)")
    w0 = 2 * math.pi * central_freq / sample_rate
    A = math.exp(gain / 40.0 * math.log(10))
    alpha = math.sin(w0) / 2 * math.sqrt((A + 1 / A) * (1 / width_slope - 1) + 2)
    temp1 = 2 * math.sqrt(A) * alpha
    temp2 = (A - 1) * math.cos(w0)
    temp3 = (A + 1) * math.cos(w0)
    b0 = A * ((A + 1) + temp2 + temp1)
    b1 = -2 * A * ((A - 1) + temp3)
    b2 = A * ((A + 1) + temp2 - temp1)
    a0 = (A + 1) - temp2 + temp1
    a1 = 2 * ((A - 1) - temp3)
    a2 = (A + 1) - temp2 - temp1
    return biquad(waveform, b0, b1, b2, a0, a1, a2)


_RIAA = {44100: ([-0.2014898, 0.9233820], [0.7083149, 0.9924091]),
         48000: ([-0.1766069, 0.9321590], [0.7396325, 0.9931330]),
         88200: ([-0.1168735, 0.9648312], [0.8590646, 0.9964002]),
         96000: ([-0.1141486, 0.9676817], [0.8699137, 0.9966946])}


def riaa_biquad(waveform: Tensor, sample_rate: int) -> Tensor:
    """Apply RIAA vinyl playback equalization; ``sample_rate`` must be 44.1k, 48k, 88.2k or
    96k."""
    if sample_rate not in _RIAA:
        raise ValueError("Sample rate must be 44.1k, 48k, 88.2k, or 96k")
    zeros, poles = _RIAA[sample_rate]
    b0, b1, b2 = 1.0, -(zeros[0] + zeros[1]), zeros[0] * zeros[1]
    a0, a1, a2 = 1.0, -(poles[0] + poles[1]), poles[0] * poles[1]
    y = 2 * math.pi * 1000 / sample_rate  # normalize to 0 dB at 1 kHz
    b_re = b0 + b1 * math.cos(-y) + b2 * math.cos(-2 * y)
    a_re = a0 + a1 * math.cos(-y) + a2 * math.cos(-2 * y)
    b_im = b1 * math.sin(-y) + b2 * math.sin(-2 * y)
    a_im = a1 * math.sin(-y) + a2 * math.sin(-2 * y)
    g = 1 / math.sqrt((b_re ** 2 + b_im ** 2) / (a_re ** 2 + a_im ** 2))
    return biquad(waveform, b0 * g, b1 * g, b2 * g, a0, a1, a2)


def contrast(waveform: Tensor, enhancement_amount: float = 75.0) -> Tensor:
    """Apply contrast effect (SoX ``contrast``): comparable with compression, it makes the
    audio sound louder. ``enhancement_amount`` is in [0, 100]."""
    if not 0 <= enhancement_amount <= 100:
        raise ValueError("Allowed range of values for enhancement_amount : 0-100")
    amount = enhancement_amount / 750.0
    temp1 = waveform * (math.pi / 2)
    return ember.sin(temp1 + amount * ember.sin(temp1 * 4))


def dcshift(waveform: Tensor, shift: float, limiter_gain: float | None = None) -> Tensor:
    """Apply a DC shift to the audio, optionally with a limiter (``limiter_gain``, e.g.
    0.05) on the peaks that the shift would clip."""
    if limiter_gain is None or shift == 0:
        return (waveform + shift).clamp(min=-1, max=1)
    threshold = 1.0 - (abs(shift) - limiter_gain)
    plain = (waveform + shift).clamp(min=-1, max=1)
    if shift > 0:
        mask = waveform > threshold
        limited = ((waveform - threshold) * limiter_gain / (1 - threshold) + threshold
                   + shift).clamp(max=threshold)
    else:
        mask = waveform < -threshold
        limited = ((waveform + threshold) * limiter_gain / (1 - threshold) - threshold
                   + shift).clamp(min=-threshold)
    return ember.where(mask, limited, plain)


def deemphasis(waveform: Tensor, coeff: float = 0.97) -> Tensor:
    """De-emphasize a waveform along its last dimension: the inverse of ``preemphasis``,
    ``y[i] = x[i] + coeff * y[i - 1]``. Note that, like torchaudio's (which runs
    ``lfilter`` with its default ``clamp=True``), the result is clipped to [-1, 1]."""
    a_coeffs = ember.tensor([1.0, -coeff], dtype=waveform.dtype, device=waveform.device)
    b_coeffs = ember.tensor([1.0, 0.0], dtype=waveform.dtype, device=waveform.device)
    return lfilter(waveform, a_coeffs=a_coeffs, b_coeffs=b_coeffs)
