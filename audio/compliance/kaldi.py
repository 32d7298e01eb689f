"""Kaldi-compatible features, as ``torchaudio.compliance.kaldi``: ``spectrogram``, ``fbank``
and ``mfcc`` give what Kaldi's ``compute-spectrogram-feats``, ``compute-fbank-feats`` and
``compute-mfcc-feats`` give for the same options, plus the mel-scale and VTLN helpers they
are built from (``get_mel_banks``, ``mel_scale``, ``inverse_mel_scale``, ``vtln_warp_freq``,
``vtln_warp_mel_freq``) and ``resample_waveform``.

Pipeline (one channel of a (channels, samples) waveform): cut into frames of
``frame_length`` ms every ``frame_shift`` ms (one strided view, no loop over frames),
optionally dither, remove each frame's DC offset, take the log energy (before or after the
window: ``raw_energy``), pre-emphasise, multiply by the window (``povey``, ``hanning``,
``hamming``, ``rectangular`` or ``blackman``), zero-pad to a power of two, real FFT. Then the
log power spectrum (``spectrogram``), Kaldi's triangular mel filters over it (``fbank``) or
their DCT with cepstral liftering (``mfcc``).

The mel banks, DCT matrix and lifter are built in the default dtype (float32) and cast to the
waveform's dtype, exactly as torchaudio builds them, so float64 inputs give torchaudio's
float64 numbers. Bad options raise an error that is both a ``ValueError`` and an
``AssertionError`` (torchaudio asserts; code written for either keeps working), with
torchaudio's message. Everything is made of ember ops: it runs on any device and is
differentiable with respect to the waveform, as torchaudio's is.

Departures: ``dither`` draws from ember's generator, not torch's (same distribution, other
numbers); ``spectrogram`` and ``mfcc`` of a signal shorter than ``min_duration`` return an
empty tensor of the waveform's dtype and device (torchaudio's ``spectrogram`` returns a CPU
float32 one, its ``mfcc`` fails).
"""

from __future__ import annotations

import math

import ember
from ember import Tensor

from ..functional.fbanks import create_dct
from ..functional.resample import resample

__all__ = [
    "get_mel_banks",
    "inverse_mel_scale",
    "inverse_mel_scale_scalar",
    "mel_scale",
    "mel_scale_scalar",
    "spectrogram",
    "fbank",
    "mfcc",
    "vtln_warp_freq",
    "vtln_warp_mel_freq",
    "resample_waveform",
]

_EPS = 1.1920928955078125e-07
# numeric_limits<float>::epsilon(): Kaldi's floor on energies before the log
EPSILON = ember.tensor(_EPS)
MILLISECONDS_TO_SECONDS = 0.001

# window types
HAMMING = "hamming"
HANNING = "hanning"
POVEY = "povey"
RECTANGULAR = "rectangular"
BLACKMAN = "blackman"
WINDOWS = [HAMMING, HANNING, POVEY, RECTANGULAR, BLACKMAN]


class KaldiOptionError(ValueError, AssertionError):
    """A bad option or input for a Kaldi feature function. It is a ``ValueError`` and, since
    torchaudio reports these with ``assert``, an ``AssertionError`` too."""


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise KaldiOptionError(message)


def _next_power_of_2(x: int) -> int:
    """The smallest power of 2 that is at least ``x`` (1 for 0)."""
    return 1 if x == 0 else 2 ** (x - 1).bit_length()


# -- framing ---------------------------------------------------------------------------------
def _get_strided(waveform: Tensor, window_size: int, window_shift: int,
                 snip_edges: bool) -> Tensor:
    """Frames of a 1-D ``waveform``: a (m, window_size) strided view, one row per frame.

    With ``snip_edges`` only frames that fit completely are kept; otherwise there are
    ``(n + shift // 2) // shift`` frames and the signal is mirrored at both ends (Kaldi's
    reflection repeats the edge sample: ``[2, 1, 0, 0, 1, 2]``)."""
    num_samples = waveform.shape[0]
    if snip_edges:
        if num_samples < window_size:
            return ember.empty((0, 0), dtype=waveform.dtype, device=waveform.device)
        m = 1 + (num_samples - window_size) // window_shift
        source = waveform
    else:
        reversed_waveform = waveform.flip(0)
        m = (num_samples + window_shift // 2) // window_shift
        pad = window_size // 2 - window_shift // 2
        if pad > 0:
            source = ember.cat([reversed_waveform[num_samples - pad:], waveform,
                                reversed_waveform])
        else:  # the first frame starts -pad samples in
            source = ember.cat([waveform[-pad:], reversed_waveform])
    return source.unfold(0, window_size, window_shift)[:m]  # (m, window_size)


def _feature_window_function(window_type: str, window_size: int, blackman_coeff: float,
                             device, dtype) -> Tensor:
    """Kaldi's window of ``window_size`` samples (all symmetric)."""
    if window_type == HANNING:
        return ember.hann_window(window_size, periodic=False, device=device, dtype=dtype)
    if window_type == HAMMING:
        return ember.hamming_window(window_size, periodic=False, alpha=0.54, beta=0.46,
                                    device=device, dtype=dtype)
    if window_type == POVEY:  # like Hann but goes to zero at the edges more gently
        return ember.hann_window(window_size, periodic=False, device=device,
                                 dtype=dtype).pow(0.85)
    if window_type == RECTANGULAR:
        return ember.ones(window_size, device=device, dtype=dtype)
    if window_type == BLACKMAN:  # generalised Blackman: torch's has other coefficients
        a = 2 * math.pi / (window_size - 1)
        n = ember.arange(window_size, device=device, dtype=dtype)
        return (blackman_coeff - 0.5 * ember.cos(a * n)
                + (0.5 - blackman_coeff) * ember.cos(2 * a * n))
    raise KaldiOptionError(f"Invalid window type {window_type}; expected one of {WINDOWS}")


def _get_log_energy(frames: Tensor, energy_floor: float) -> Tensor:
    """log of each frame's energy (m), floored at epsilon and at ``log(energy_floor)``."""
    log_energy = frames.pow(2).sum(1).clamp(min=_EPS).log()  # (m)
    if energy_floor == 0.0:
        return log_energy
    return log_energy.clamp(min=math.log(energy_floor))


def _get_waveform_and_window_properties(waveform: Tensor, channel: int, sample_frequency: float,
                                        frame_shift: float, frame_length: float,
                                        round_to_power_of_two: bool,
                                        preemphasis_coefficient: float, name: str):
    """Checks the options; returns (one channel (n), window_shift, window_size,
    padded_window_size), sizes in samples."""
    if not isinstance(waveform, Tensor):
        raise TypeError(f"kaldi.{name}: waveform must be a Tensor, got {type(waveform).__name__}")
    if waveform.dim() == 1:
        raise IndexError(f"kaldi.{name}: expected a waveform of shape (channels, samples), got "
                         f"a 1-D tensor of shape {tuple(waveform.shape)}; use "
                         "waveform.unsqueeze(0)")
    _check(waveform.dim() == 2, f"kaldi.{name}: expected a waveform of shape (channels, "
           f"samples), got shape {tuple(waveform.shape)}")
    if not waveform.is_floating_point():
        raise TypeError(f"kaldi.{name}: expected a floating-point waveform, got {waveform.dtype}")
    channel = max(channel, 0)
    _check(channel < waveform.shape[0],
           f"Invalid channel {channel} for size {waveform.shape[0]}")
    waveform = waveform[channel]  # (n)
    window_shift = int(sample_frequency * frame_shift * MILLISECONDS_TO_SECONDS)
    window_size = int(sample_frequency * frame_length * MILLISECONDS_TO_SECONDS)
    padded_window_size = (_next_power_of_2(window_size) if round_to_power_of_two
                          else window_size)
    _check(2 <= window_size <= waveform.shape[0],
           f"choose a window size {window_size} that is [2, {waveform.shape[0]}]")
    _check(0 < window_shift, "`window_shift` must be greater than 0")
    _check(padded_window_size % 2 == 0, "the padded `window_size` must be divisible by two. "
           "use `round_to_power_of_two` or change `frame_length`")
    _check(0.0 <= preemphasis_coefficient <= 1.0,
           "`preemphasis_coefficient` must be between [0,1]")
    _check(sample_frequency > 0, "`sample_frequency` must be greater than zero")
    return waveform, window_shift, window_size, padded_window_size


def _get_window(waveform: Tensor, padded_window_size: int, window_size: int, window_shift: int,
                window_type: str, blackman_coeff: float, snip_edges: bool, raw_energy: bool,
                energy_floor: float, dither: float, remove_dc_offset: bool,
                preemphasis_coefficient: float) -> tuple[Tensor, Tensor]:
    """The processed frames (m, padded_window_size) and their log energies (m)."""
    device, dtype = waveform.device, waveform.dtype
    frames = _get_strided(waveform, window_size, window_shift, snip_edges)  # (m, window_size)
    if dither != 0.0:
        frames = frames + ember.randn(tuple(frames.shape), device=device, dtype=dtype) * dither
    if remove_dc_offset:
        frames = frames - frames.mean(dim=1, keepdim=True)
    if raw_energy:  # energy before pre-emphasis and window
        signal_log_energy = _get_log_energy(frames, energy_floor)  # (m)
    if preemphasis_coefficient != 0.0:
        # x[i, j] -= coeff * x[i, max(0, j - 1)]
        previous = ember.cat([frames[:, :1], frames[:, :-1]], dim=1)
        frames = frames - preemphasis_coefficient * previous
    window = _feature_window_function(window_type, window_size, blackman_coeff, device, dtype)
    frames = frames * window.unsqueeze(0)  # (m, window_size)
    if padded_window_size != window_size:
        frames = ember.nn.functional.pad(frames, (0, padded_window_size - window_size))
    if not raw_energy:
        signal_log_energy = _get_log_energy(frames, energy_floor)  # (m)
    return frames, signal_log_energy


def _subtract_column_mean(tensor: Tensor, subtract_mean: bool) -> Tensor:
    """Subtracts each column's mean over frames from a (m, n) tensor when asked."""
    if subtract_mean:
        tensor = tensor - tensor.mean(dim=0, keepdim=True)
    return tensor


# -- spectrogram -----------------------------------------------------------------------------
def spectrogram(waveform: Tensor, blackman_coeff: float = 0.42, channel: int = -1,
                dither: float = 0.0, energy_floor: float = 1.0, frame_length: float = 25.0,
                frame_shift: float = 10.0, min_duration: float = 0.0,
                preemphasis_coefficient: float = 0.97, raw_energy: bool = True,
                remove_dc_offset: bool = True, round_to_power_of_two: bool = True,
                sample_frequency: float = 16000.0, snip_edges: bool = True,
                subtract_mean: bool = False, window_type: str = POVEY) -> Tensor:
    """Create a spectrogram from a raw audio signal. This matches the input/output of Kaldi's
    compute-spectrogram-feats.

    Args:
        waveform: audio of size (c, n), c channels.
        blackman_coeff: constant coefficient of the generalized Blackman window.
        channel: channel to extract (-1 -> expect mono, 0 -> left, 1 -> right).
        dither: dithering constant (0.0 means no dither); Gaussian noise of this standard
            deviation is added to every frame.
        energy_floor: floor on the energy (absolute, not relative), applied to the zeroth
            component (the total signal energy). Individual bins are floored at float32's
            epsilon.
        frame_length, frame_shift: frame length and shift in milliseconds.
        min_duration: minimum duration of segments to process (in seconds); shorter input
            gives an empty tensor.
        preemphasis_coefficient: coefficient for signal pre-emphasis, in [0, 1].
        raw_energy: if True, compute the energy before pre-emphasis and windowing.
        remove_dc_offset: subtract each frame's mean.
        round_to_power_of_two: zero-pad each frame to a power of two before the FFT.
        sample_frequency: the waveform's sample rate in Hz.
        snip_edges: if True, keep only frames that completely fit in the signal; if False,
            the number of frames depends only on ``frame_shift`` and the signal is reflected
            at the ends.
        subtract_mean: subtract each feature's mean over frames (CMS).
        window_type: ``'hamming'``, ``'hanning'``, ``'povey'``, ``'rectangular'`` or
            ``'blackman'``.

    Returns:
        The log power spectrum, (m, padded_window_size // 2 + 1); column 0 holds the log
        energy.
    """
    device, dtype = waveform.device, waveform.dtype
    waveform, window_shift, window_size, padded_window_size = (
        _get_waveform_and_window_properties(waveform, channel, sample_frequency, frame_shift,
                                            frame_length, round_to_power_of_two,
                                            preemphasis_coefficient, "spectrogram"))
    if waveform.shape[0] < min_duration * sample_frequency:  # signal is too short
        return ember.empty(0, device=device, dtype=dtype)
    frames, signal_log_energy = _get_window(
        waveform, padded_window_size, window_size, window_shift, window_type, blackman_coeff,
        snip_edges, raw_energy, energy_floor, dither, remove_dc_offset,
        preemphasis_coefficient)
    fft = ember.fft.rfft(frames)  # (m, padded_window_size // 2 + 1)
    power_spectrum = fft.abs().pow(2.0).clamp(min=_EPS).log()
    power_spectrum = ember.cat([signal_log_energy.unsqueeze(1), power_spectrum[:, 1:]], dim=1)
    return _subtract_column_mean(power_spectrum, subtract_mean)


# -- mel scale and VTLN ----------------------------------------------------------------------
def inverse_mel_scale_scalar(mel_freq: float) -> float:
    """Kaldi's mel value back to Hz: ``700 (exp(mel / 1127) - 1)``."""
    return 700.0 * (math.exp(mel_freq / 1127.0) - 1.0)


def inverse_mel_scale(mel_freq: Tensor) -> Tensor:
    """Kaldi's mel values (a Tensor) back to Hz: ``700 (exp(mel / 1127) - 1)``."""
    return 700.0 * ((mel_freq / 1127.0).exp() - 1.0)


def mel_scale_scalar(freq: float) -> float:
    """One frequency in Hz on Kaldi's mel scale: ``1127 ln(1 + f / 700)``."""
    return 1127.0 * math.log(1.0 + freq / 700.0)


def mel_scale(freq: Tensor) -> Tensor:
    """Frequencies in Hz (a Tensor) on Kaldi's mel scale: ``1127 ln(1 + f / 700)``."""
    return 1127.0 * (1.0 + freq / 700.0).log()


def vtln_warp_freq(vtln_low_cutoff: float, vtln_high_cutoff: float, low_freq: float,
                   high_freq: float, vtln_warp_factor: float, freq: Tensor) -> Tensor:
    """Kaldi's piecewise-linear VTLN warping of frequencies ``freq`` (Hz).

    The warp F is defined on [low_freq, high_freq] (other frequencies are left as they are)
    with F(low_freq) = low_freq and F(high_freq) = high_freq, and is linear in three pieces:
    F(f) = f / vtln_warp_factor between the inflection points
    l = vtln_low_cutoff * max(1, vtln_warp_factor) and
    h = vtln_high_cutoff * min(1, vtln_warp_factor), and straight lines to the end points
    outside them. Unlike HTK's warp it never produces empty bins.

    Args:
        vtln_low_cutoff: lower frequency cutoff for VTLN.
        vtln_high_cutoff: upper frequency cutoff for VTLN.
        low_freq: lower frequency cutoff in mel computation.
        high_freq: upper frequency cutoff in mel computation.
        vtln_warp_factor: the warp factor.
        freq: frequencies in Hz.

    Returns:
        The warped frequencies, shaped like ``freq``.
    """
    _check(vtln_low_cutoff > low_freq,
           "be sure to set the vtln_low option higher than low_freq")
    _check(vtln_high_cutoff < high_freq,
           "be sure to set the vtln_high option lower than high_freq [or negative]")
    low = vtln_low_cutoff * max(1.0, vtln_warp_factor)
    high = vtln_high_cutoff * min(1.0, vtln_warp_factor)
    scale = 1.0 / vtln_warp_factor
    f_low = scale * low  # F(l)
    f_high = scale * high  # F(h)
    _check(low > low_freq and high < high_freq,
           f"VTLN inflection points {low} and {high} must lie inside ({low_freq}, {high_freq})")
    scale_left = (f_low - low_freq) / (low - low_freq)  # slope of the left piece
    scale_right = (high_freq - f_high) / (high_freq - high)  # slope of the right piece
    left = low_freq + scale_left * (freq - low_freq)
    middle = scale * freq
    right = high_freq + scale_right * (freq - high_freq)
    outside = (freq < low_freq) | (freq > high_freq)
    # the pieces overlap near the edges: the left piece wins over the middle, which wins
    # over the right one
    res = ember.where(freq < high, middle, right)
    res = ember.where(freq < low, left, res)
    return ember.where(outside, freq, res)


def vtln_warp_mel_freq(vtln_low_cutoff: float, vtln_high_cutoff: float, low_freq: float,
                       high_freq: float, vtln_warp_factor: float, mel_freq: Tensor) -> Tensor:
    """``vtln_warp_freq`` applied to mel values: mel -> Hz, warp, Hz -> mel.

    Args:
        vtln_low_cutoff: lower frequency cutoff for VTLN.
        vtln_high_cutoff: upper frequency cutoff for VTLN.
        low_freq: lower frequency cutoff in mel computation.
        high_freq: upper frequency cutoff in mel computation.
        vtln_warp_factor: the warp factor.
        mel_freq: frequencies on the mel scale.

    Returns:
        ``mel_freq`` after the VTLN warp.
    """
    return mel_scale(vtln_warp_freq(vtln_low_cutoff, vtln_high_cutoff, low_freq, high_freq,
                                    vtln_warp_factor, inverse_mel_scale(mel_freq)))


def get_mel_banks(num_bins: int, window_length_padded: int, sample_freq: float,
                  low_freq: float, high_freq: float, vtln_low: float, vtln_high: float,
                  vtln_warp_factor: float) -> tuple[Tensor, Tensor]:
    """Kaldi's triangular mel filter bank over the FFT bins of a frame.

    ``num_bins`` filters, equally spaced on the mel scale between ``low_freq`` and
    ``high_freq`` (a ``high_freq`` <= 0 is an offset from Nyquist), optionally warped by
    VTLN (``vtln_high`` < 0 is an offset from Nyquist too). Built in the default dtype.

    Returns:
        ``bins`` (num_bins, window_length_padded // 2), the filter weights over the FFT bins
        below Nyquist, and ``center_freqs`` (num_bins, 1), the filters' centres in Hz.
    """
    _check(num_bins > 3, "Must have at least 3 mel bins")
    _check(window_length_padded % 2 == 0, "window_length_padded must be even, got "
           f"{window_length_padded}")
    num_fft_bins = window_length_padded // 2
    nyquist = 0.5 * sample_freq
    if high_freq <= 0.0:
        high_freq += nyquist
    _check((0.0 <= low_freq < nyquist) and (0.0 < high_freq <= nyquist)
           and (low_freq < high_freq),
           f"Bad values in options: low-freq {low_freq} and high-freq {high_freq} vs. "
           f"nyquist {nyquist}")
    fft_bin_width = sample_freq / window_length_padded  # Nyquist / half the window
    mel_low_freq = mel_scale_scalar(low_freq)
    mel_high_freq = mel_scale_scalar(high_freq)
    # num_bins + 1 steps: the outer bins spread out to the sides
    mel_freq_delta = (mel_high_freq - mel_low_freq) / (num_bins + 1)
    if vtln_high < 0.0:
        vtln_high += nyquist
    _check(vtln_warp_factor == 1.0
           or ((low_freq < vtln_low < high_freq) and (0.0 < vtln_high < high_freq)
               and (vtln_low < vtln_high)),
           f"Bad values in options: vtln-low {vtln_low} and vtln-high {vtln_high}, versus "
           f"low-freq {low_freq} and high-freq {high_freq}")

    dtype = ember.get_default_dtype()
    b = ember.arange(num_bins, dtype=dtype).unsqueeze(1)  # (num_bins, 1)
    left_mel = mel_low_freq + b * mel_freq_delta
    center_mel = mel_low_freq + (b + 1.0) * mel_freq_delta
    right_mel = mel_low_freq + (b + 2.0) * mel_freq_delta
    if vtln_warp_factor != 1.0:
        warp = (vtln_low, vtln_high, low_freq, high_freq, vtln_warp_factor)
        left_mel = vtln_warp_mel_freq(*warp, left_mel)
        center_mel = vtln_warp_mel_freq(*warp, center_mel)
        right_mel = vtln_warp_mel_freq(*warp, right_mel)
    center_freqs = inverse_mel_scale(center_mel)  # (num_bins, 1)
    mel = mel_scale(fft_bin_width * ember.arange(num_fft_bins, dtype=dtype)).unsqueeze(0)

    up_slope = (mel - left_mel) / (center_mel - left_mel)  # (num_bins, num_fft_bins)
    down_slope = (right_mel - mel) / (right_mel - center_mel)
    if vtln_warp_factor == 1.0:
        # left < center < right: the smaller slope, clamped at zero
        bins = ember.minimum(up_slope, down_slope).clamp(min=0.0)
    else:
        # warping may reorder left, center and right
        zero = ember.zeros_like(up_slope)
        up = (mel > left_mel) & (mel <= center_mel)
        down = (mel > center_mel) & (mel < right_mel)
        bins = ember.where(up, up_slope, ember.where(down, down_slope, zero))
    return bins, center_freqs


# -- fbank and mfcc --------------------------------------------------------------------------
def fbank(waveform: Tensor, blackman_coeff: float = 0.42, channel: int = -1,
          dither: float = 0.0, energy_floor: float = 1.0, frame_length: float = 25.0,
          frame_shift: float = 10.0, high_freq: float = 0.0, htk_compat: bool = False,
          low_freq: float = 20.0, min_duration: float = 0.0, num_mel_bins: int = 23,
          preemphasis_coefficient: float = 0.97, raw_energy: bool = True,
          remove_dc_offset: bool = True, round_to_power_of_two: bool = True,
          sample_frequency: float = 16000.0, snip_edges: bool = True,
          subtract_mean: bool = False, use_energy: bool = False, use_log_fbank: bool = True,
          use_power: bool = True, vtln_high: float = -500.0, vtln_low: float = 100.0,
          vtln_warp: float = 1.0, window_type: str = POVEY) -> Tensor:
    """Create a fbank from a raw audio signal. This matches the input/output of Kaldi's
    compute-fbank-feats.

    Args:
        waveform, blackman_coeff, channel, dither, energy_floor, frame_length, frame_shift,
            min_duration, preemphasis_coefficient, raw_energy, remove_dc_offset,
            round_to_power_of_two, sample_frequency, snip_edges, subtract_mean,
            window_type: as in ``spectrogram``.
        high_freq: high cutoff frequency for the mel bins (if <= 0, offset from Nyquist).
        htk_compat: if True, put the energy last (not sufficient for HTK-compatible
            features on its own).
        low_freq: low cutoff frequency for the mel bins.
        num_mel_bins: number of triangular mel-frequency bins.
        use_energy: add an extra column with the log energy.
        use_log_fbank: if True, produce log filter-bank energies, else linear ones.
        use_power: if True, use the power spectrum, else the magnitude.
        vtln_high: high inflection point of the VTLN warp (if negative, offset from
            Nyquist).
        vtln_low: low inflection point of the VTLN warp.
        vtln_warp: VTLN warp factor (1.0: no warping).

    Returns:
        (m, num_mel_bins + use_energy) filter-bank features.
    """
    device, dtype = waveform.device, waveform.dtype
    waveform, window_shift, window_size, padded_window_size = (
        _get_waveform_and_window_properties(waveform, channel, sample_frequency, frame_shift,
                                            frame_length, round_to_power_of_two,
                                            preemphasis_coefficient, "fbank"))
    if waveform.shape[0] < min_duration * sample_frequency:  # signal is too short
        return ember.empty(0, device=device, dtype=dtype)
    frames, signal_log_energy = _get_window(
        waveform, padded_window_size, window_size, window_shift, window_type, blackman_coeff,
        snip_edges, raw_energy, energy_floor, dither, remove_dc_offset,
        preemphasis_coefficient)
    spectrum = ember.fft.rfft(frames).abs()  # (m, padded_window_size // 2 + 1)
    if use_power:
        spectrum = spectrum.pow(2.0)
    banks, _ = get_mel_banks(num_mel_bins, padded_window_size, sample_frequency, low_freq,
                             high_freq, vtln_low, vtln_high, vtln_warp)
    # a zero weight for the Nyquist bin: (num_mel_bins, padded_window_size // 2 + 1)
    banks = ember.nn.functional.pad(banks, (0, 1)).to(device=device, dtype=dtype)
    mel_energies = ember.matmul(spectrum, banks.t())  # (m, num_mel_bins)
    if use_log_fbank:  # avoid log of zero (which dithering should prevent anyway)
        mel_energies = mel_energies.clamp(min=_EPS).log()
    if use_energy:  # energy last with htk_compat, else first
        energy = signal_log_energy.unsqueeze(1)  # (m, 1)
        parts = [mel_energies, energy] if htk_compat else [energy, mel_energies]
        mel_energies = ember.cat(parts, dim=1)
    return _subtract_column_mean(mel_energies, subtract_mean)


def _get_dct_matrix(num_ceps: int, num_mel_bins: int) -> Tensor:
    """Kaldi's DCT as a (num_mel_bins, num_ceps) right-multiplied matrix: the orthonormal
    DCT-II whose first column is sqrt(1 / num_mel_bins)."""
    dct = create_dct(num_mel_bins, num_mel_bins, "ortho")  # (num_mel_bins, num_mel_bins)
    first = ember.full((num_mel_bins, 1), math.sqrt(1 / float(num_mel_bins)), dtype=dct.dtype)
    return ember.cat([first, dct[:, 1:num_ceps]], dim=1)


def _get_lifter_coeffs(num_ceps: int, cepstral_lifter: float) -> Tensor:
    """Kaldi's cepstral liftering weights (num_ceps); C0 keeps weight 1."""
    i = ember.arange(num_ceps, dtype=ember.get_default_dtype())
    return 1.0 + 0.5 * cepstral_lifter * ember.sin(math.pi * i / cepstral_lifter)


def mfcc(waveform: Tensor, blackman_coeff: float = 0.42, cepstral_lifter: float = 22.0,
         channel: int = -1, dither: float = 0.0, energy_floor: float = 1.0,
         frame_length: float = 25.0, frame_shift: float = 10.0, high_freq: float = 0.0,
         htk_compat: bool = False, low_freq: float = 20.0, num_ceps: int = 13,
         min_duration: float = 0.0, num_mel_bins: int = 23,
         preemphasis_coefficient: float = 0.97, raw_energy: bool = True,
         remove_dc_offset: bool = True, round_to_power_of_two: bool = True,
         sample_frequency: float = 16000.0, snip_edges: bool = True,
         subtract_mean: bool = False, use_energy: bool = False, vtln_high: float = -500.0,
         vtln_low: float = 100.0, vtln_warp: float = 1.0,
         window_type: str = POVEY) -> Tensor:
    """Create a mfcc from a raw audio signal. This matches the input/output of Kaldi's
    compute-mfcc-feats.

    The log mel energies of ``fbank`` (power spectrum) go through Kaldi's DCT, keeping
    ``num_ceps`` coefficients, then liftering. With ``use_energy`` C0 is replaced by the log
    energy; with ``htk_compat`` C0 (times sqrt(2) when it is not the energy) moves last.

    Args:
        cepstral_lifter: constant that controls the scaling of the MFCCs (0: none).
        num_ceps: number of cepstra in the MFCC computation (including C0), at most
            ``num_mel_bins``.
        other arguments: as in ``fbank``.

    Returns:
        (m, num_ceps) cepstral features.
    """
    _check(num_ceps <= num_mel_bins,
           f"num_ceps cannot be larger than num_mel_bins: {num_ceps} vs {num_mel_bins}")
    device, dtype = waveform.device, waveform.dtype
    feature = fbank(waveform=waveform, blackman_coeff=blackman_coeff, channel=channel,
                    dither=dither, energy_floor=energy_floor, frame_length=frame_length,
                    frame_shift=frame_shift, high_freq=high_freq, htk_compat=htk_compat,
                    low_freq=low_freq, min_duration=min_duration, num_mel_bins=num_mel_bins,
                    preemphasis_coefficient=preemphasis_coefficient, raw_energy=raw_energy,
                    remove_dc_offset=remove_dc_offset,
                    round_to_power_of_two=round_to_power_of_two,
                    sample_frequency=sample_frequency, snip_edges=snip_edges,
                    subtract_mean=False, use_energy=use_energy, use_log_fbank=True,
                    use_power=True, vtln_high=vtln_high, vtln_low=vtln_low,
                    vtln_warp=vtln_warp, window_type=window_type)
    if feature.dim() == 1:  # shorter than min_duration
        return feature
    if use_energy:
        energy = feature[:, num_mel_bins if htk_compat else 0].unsqueeze(1)  # (m, 1)
        offset = int(not htk_compat)
        feature = feature[:, offset:num_mel_bins + offset]  # (m, num_mel_bins)
    dct = _get_dct_matrix(num_ceps, num_mel_bins).to(device=device, dtype=dtype)
    feature = ember.matmul(feature, dct)  # (m, num_ceps)
    if cepstral_lifter != 0.0:
        lifter = _get_lifter_coeffs(num_ceps, cepstral_lifter).to(device=device, dtype=dtype)
        feature = feature * lifter.unsqueeze(0)
    if use_energy:  # the energy replaces C0
        feature = ember.cat([energy, feature[:, 1:]], dim=1)
    if htk_compat:  # C0 last; undo the DCT's 1/sqrt(2) on it unless it is the energy
        c0 = feature[:, :1]
        if not use_energy:
            c0 = c0 * math.sqrt(2)
        feature = ember.cat([feature[:, 1:], c0], dim=1)
    return _subtract_column_mean(feature, subtract_mean)


# -- resampling ------------------------------------------------------------------------------
_OLD_METHODS = {"sinc_interpolation": "sinc_interp_hann", "kaiser_window": "sinc_interp_kaiser"}


def resample_waveform(waveform: Tensor, orig_freq: float, new_freq: float,
                      lowpass_filter_width: int = 6, rolloff: float = 0.99,
                      resampling_method: str = "sinc_interp_hann",
                      beta: float | None = None) -> Tensor:
    """Resample ``waveform`` (..., time) from ``orig_freq`` to ``new_freq``: the same as
    ``ember.audio.functional.resample``, which it calls.

    Kept for programs written against older torchaudio releases (it is gone from
    torchaudio 2.x); their method names ``"sinc_interpolation"`` and ``"kaiser_window"``
    are accepted beside ``"sinc_interp_hann"`` and ``"sinc_interp_kaiser"``."""
    method = _OLD_METHODS.get(resampling_method, resampling_method)
    return resample(waveform, orig_freq, new_freq, lowpass_filter_width, rolloff, method, beta)
