"""Filter banks and the DCT matrix: ``melscale_fbanks``, ``linear_fbanks``, ``create_dct``,
as in ``torchaudio.functional``. They are built once (in float32, the default dtype, like
torchaudio's) and applied with one matrix product by ``MelScale``, ``MFCC`` and ``LFCC``.
"""

from __future__ import annotations

import math
import warnings

import ember
from ember import Tensor

__all__ = ["melscale_fbanks", "linear_fbanks", "create_dct"]


def _hz_to_mel(freq: float, mel_scale: str = "htk") -> float:
    """One frequency in Hz on the mel scale (``"htk"`` or ``"slaney"``)."""
    if mel_scale not in ("slaney", "htk"):
        raise ValueError('mel_scale should be one of "htk" or "slaney".')
    if mel_scale == "htk":
        return 2595.0 * math.log10(1.0 + (freq / 700.0))
    f_min, f_sp = 0.0, 200.0 / 3
    mels = (freq - f_min) / f_sp
    min_log_hz = 1000.0
    min_log_mel = (min_log_hz - f_min) / f_sp
    logstep = math.log(6.4) / 27.0
    if freq >= min_log_hz:
        mels = min_log_mel + math.log(freq / min_log_hz) / logstep
    return mels


def _mel_to_hz(mels: Tensor, mel_scale: str = "htk") -> Tensor:
    """Mel-scale values (a Tensor) back to Hz."""
    if mel_scale not in ("slaney", "htk"):
        raise ValueError('mel_scale should be one of "htk" or "slaney".')
    if mel_scale == "htk":
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    f_min, f_sp = 0.0, 200.0 / 3
    freqs = f_min + f_sp * mels
    min_log_hz = 1000.0
    min_log_mel = (min_log_hz - f_min) / f_sp
    logstep = math.log(6.4) / 27.0
    log_part = min_log_hz * ember.exp(logstep * (mels - min_log_mel))
    return ember.where(mels >= min_log_mel, log_part, freqs)


def _create_triangular_filterbank(all_freqs: Tensor, f_pts: Tensor) -> Tensor:
    """Triangular filters with corners ``f_pts`` (n_filter + 2) sampled at ``all_freqs``
    (n_freqs): a (n_freqs, n_filter) matrix."""
    f_diff = f_pts[1:] - f_pts[:-1]  # (n_filter + 1)
    slopes = f_pts.unsqueeze(0) - all_freqs.unsqueeze(1)  # (n_freqs, n_filter + 2)
    zero = ember.zeros(1, dtype=slopes.dtype, device=slopes.device)
    down_slopes = (-1.0 * slopes[:, :-2]) / f_diff[:-1]  # (n_freqs, n_filter)
    up_slopes = slopes[:, 2:] / f_diff[1:]  # (n_freqs, n_filter)
    return ember.maximum(zero, ember.minimum(down_slopes, up_slopes))


def melscale_fbanks(n_freqs: int, f_min: float, f_max: float, n_mels: int, sample_rate: int,
                    norm: str | None = None, mel_scale: str = "htk") -> Tensor:
    """Create a frequency bin conversion matrix of size (n_freqs, n_mels): triangular filters
    equally spaced on the mel scale between ``f_min`` and ``f_max``.

    ``norm="slaney"`` divides each triangle by its width in Hz (area normalization);
    ``mel_scale`` is ``"htk"`` or ``"slaney"``."""
    if norm is not None and norm != "slaney":
        raise ValueError('norm must be one of None or "slaney"')
    all_freqs = ember.linspace(0, sample_rate // 2, n_freqs)
    m_min = _hz_to_mel(f_min, mel_scale=mel_scale)
    m_max = _hz_to_mel(f_max, mel_scale=mel_scale)
    m_pts = ember.linspace(m_min, m_max, n_mels + 2)
    f_pts = _mel_to_hz(m_pts, mel_scale=mel_scale)
    fb = _create_triangular_filterbank(all_freqs, f_pts)  # (n_freqs, n_mels)
    if norm == "slaney":
        enorm = 2.0 / (f_pts[2:n_mels + 2] - f_pts[:n_mels])
        fb = fb * enorm.unsqueeze(0)
    if bool((fb.max(dim=0).values == 0.0).any()):
        warnings.warn("At least one mel filterbank has all zero values. "
                      f"The value for `n_mels` ({n_mels}) may be set too high. "
                      f"Or, the value for `n_freqs` ({n_freqs}) may be set too low.",
                      stacklevel=2)
    return fb


def linear_fbanks(n_freqs: int, f_min: float, f_max: float, n_filter: int,
                  sample_rate: int) -> Tensor:
    """Create a linear triangular filterbank of size (n_freqs, n_filter), the filters equally
    spaced in Hz between ``f_min`` and ``f_max``."""
    all_freqs = ember.linspace(0, sample_rate // 2, n_freqs)
    f_pts = ember.linspace(f_min, f_max, n_filter + 2)
    return _create_triangular_filterbank(all_freqs, f_pts)


def create_dct(n_mfcc: int, n_mels: int, norm: str | None) -> Tensor:
    """Create a DCT transformation matrix with shape (n_mels, n_mfcc), normalized depending
    on ``norm`` (``None`` or ``"ortho"``): the DCT-II, to be right-multiplied."""
    if norm is not None and norm != "ortho":
        raise ValueError('norm must be either "ortho" or None')
    n = ember.arange(float(n_mels))
    k = ember.arange(float(n_mfcc)).unsqueeze(1)
    dct = ember.cos(math.pi / float(n_mels) * (n + 0.5) * k)  # (n_mfcc, n_mels)
    if norm is None:
        dct = dct * 2.0
    else:
        dct = ember.cat([dct[:1] * (1.0 / math.sqrt(2.0)), dct[1:]])
        dct = dct * math.sqrt(2.0 / float(n_mels))
    return dct.t()
