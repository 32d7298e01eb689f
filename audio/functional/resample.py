"""Band-limited resampling: ``resample`` (windowed-sinc interpolation with a Hann or Kaiser
window) and ``speed``, as in ``torchaudio.functional``.

The signal is filtered by one strided ``conv1d`` with ``new_freq`` output channels (one
polyphase filter per output phase, after reducing both rates by their gcd); interleaving the
channels gives the resampled signal. No loop runs over samples.
"""

from __future__ import annotations

import math
import warnings

import ember
from ember import Tensor

__all__ = ["resample", "speed"]


def _get_sinc_resample_kernel(orig_freq: int, new_freq: int, gcd: int,
                              lowpass_filter_width: int = 6, rolloff: float = 0.99,
                              resampling_method: str = "sinc_interp_hann",
                              beta: float | None = None, device=None, dtype=None):
    """The (new_freq, 1, 2 * width + orig_freq) polyphase kernel and its half-width."""
    if not (int(orig_freq) == orig_freq and int(new_freq) == new_freq):
        raise Exception(
            "Frequencies must be of integer type to ensure quality resampling computation. "
            "To work around this, manually convert both frequencies to integer values "
            "that maintain their resampling rate ratio before passing them into the function. "
            "Example: To downsample a 44100 hz waveform by a factor of 8, use "
            "`orig_freq=8` and `new_freq=1` instead of `orig_freq=44100` and "
            "`new_freq=5512.5`. For more information, please refer to "
            "https://github.com/pytorch/audio/issues/1487.")
    if resampling_method in ("sinc_interpolation", "kaiser_window"):
        method_map = {"sinc_interpolation": "sinc_interp_hann",
                      "kaiser_window": "sinc_interp_kaiser"}
        warnings.warn(f'"{resampling_method}" resampling method name is being deprecated and '
                      f'replaced by "{method_map[resampling_method]}" in the next release. '
                      "The default behavior remains unchanged.", stacklevel=3)
        resampling_method = method_map[resampling_method]
    elif resampling_method not in ("sinc_interp_hann", "sinc_interp_kaiser"):
        raise ValueError(f"Invalid resampling method: {resampling_method}")
    orig_freq = int(orig_freq) // gcd
    new_freq = int(new_freq) // gcd
    if lowpass_filter_width <= 0:
        raise ValueError("Low pass filter width should be positive.")
    base_freq = min(orig_freq, new_freq) * rolloff
    width = math.ceil(lowpass_filter_width * orig_freq / base_freq)
    idx_dtype = dtype if dtype is not None else ember.float64
    idx = ember.arange(-width, width + orig_freq, dtype=idx_dtype,
                       device=device)[None, None] / orig_freq  # (1, 1, K)
    t = ember.arange(0, -new_freq, -1, dtype=dtype if dtype is not None else ember.float32,
                     device=device)[:, None, None] / new_freq + idx  # (new_freq, 1, K)
    t = t * base_freq
    t = t.clamp(-lowpass_filter_width, lowpass_filter_width)
    if resampling_method == "sinc_interp_hann":
        window = ember.cos(t * math.pi / lowpass_filter_width / 2) ** 2
    else:
        if beta is None:
            beta = 14.769656459379492
        beta_tensor = ember.tensor(float(beta))
        window = (ember.i0(beta_tensor * ember.sqrt(1 - (t / lowpass_filter_width) ** 2))
                  / ember.i0(beta_tensor))
    t = t * math.pi
    scale = base_freq / orig_freq
    zero = t == 0
    safe_t = ember.where(zero, ember.tensor(1.0).to(t), t)  # no 0/0 warnings
    kernels = ember.where(zero, ember.tensor(1.0).to(t), t.sin() / safe_t)
    kernels = kernels * (window * scale)
    if dtype is None:
        kernels = kernels.to(dtype=ember.float32)
    return kernels, width


def _apply_sinc_resample_kernel(waveform: Tensor, orig_freq: int, new_freq: int, gcd: int,
                                kernel: Tensor, width: int) -> Tensor:
    """Filter ``waveform`` (..., time) with the polyphase ``kernel`` and interleave."""
    if not waveform.is_floating_point():
        raise TypeError("Expected floating point type for waveform tensor, but received "
                        f"{waveform.dtype}.")
    orig_freq = int(orig_freq) // gcd
    new_freq = int(new_freq) // gcd
    shape = waveform.shape
    waveform = waveform.reshape(-1, shape[-1])  # (B, time)
    num_wavs, length = waveform.shape
    waveform = ember.nn.functional.pad(waveform, (width, width + orig_freq))
    resampled = ember.nn.functional.conv1d(waveform[:, None], kernel,
                                           stride=orig_freq)  # (B, new_freq, frames)
    resampled = resampled.transpose(1, 2).reshape(num_wavs, -1)  # (B, new_freq * frames)
    # torchaudio rounds through a default-dtype (float32) tensor before ceil
    target_length = int(ember.ceil(ember.as_tensor(new_freq * length / orig_freq)).item())
    resampled = resampled[..., :target_length]
    return resampled.reshape(tuple(shape[:-1]) + tuple(resampled.shape[-1:]))


def resample(waveform: Tensor, orig_freq: int, new_freq: int, lowpass_filter_width: int = 6,
             rolloff: float = 0.99, resampling_method: str = "sinc_interp_hann",
             beta: float | None = None) -> Tensor:
    """Resample ``waveform`` (..., time) from ``orig_freq`` to ``new_freq`` using
    band-limited sinc interpolation.

    ``lowpass_filter_width`` sets the filter's number of zero crossings on each side,
    ``rolloff`` the cutoff as a fraction of the lower Nyquist frequency,
    ``resampling_method`` is ``"sinc_interp_hann"`` or ``"sinc_interp_kaiser"`` (``beta``
    the Kaiser window's shape). The result has ``ceil(new_freq * time / orig_freq)`` samples
    (after reducing both rates by their gcd)."""
    if orig_freq <= 0.0 or new_freq <= 0.0:
        raise ValueError("Original frequency and desired frequecy should be positive")
    if orig_freq == new_freq:
        return waveform
    gcd = math.gcd(int(orig_freq), int(new_freq))
    kernel, width = _get_sinc_resample_kernel(orig_freq, new_freq, gcd, lowpass_filter_width,
                                              rolloff, resampling_method, beta,
                                              waveform.device, waveform.dtype)
    return _apply_sinc_resample_kernel(waveform, orig_freq, new_freq, gcd, kernel, width)


def _source_target_sample_rate(orig_freq: int, factor: float) -> tuple[int, int]:
    source = int(factor * orig_freq)
    target = int(orig_freq)
    gcd = math.gcd(source, target)
    return source // gcd, target // gcd


def speed(waveform: Tensor, orig_freq: int, factor: float,
          lengths: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """Adjust the waveform's speed by ``factor`` (pitch changes with it), by resampling from
    ``factor * orig_freq`` to ``orig_freq``; ``lengths`` (valid lengths per batch item) are
    scaled to match. Returns (waveform, lengths or None)."""
    source, target = _source_target_sample_rate(orig_freq, factor)
    if lengths is None:
        out_lengths = None
    else:
        out_lengths = ember.ceil(lengths * target / source).to(lengths.dtype)
    return resample(waveform, source, target), out_lengths
