"""Sliding-window cepstral mean (and variance) normalisation: ``sliding_window_cmn``, as in
``torchaudio.functional`` (Kaldi's ``apply-cmvn-sliding``).

torchaudio walks the frames one by one, updating running sums. Here the window of every frame
is worked out at once as index tensors and its sums come from prefix sums (``cumsum``) along
time, accumulated in float64 so the differences of large prefix sums lose nothing: no loop
over frames, any device, differentiable (the ``norm_vars`` path too, which torchaudio's
in-place updates are not).
"""

from __future__ import annotations

import ember
from ember import Tensor

__all__ = ["sliding_window_cmn"]


def _window_bounds(num_frames: int, cmn_window: int, min_cmn_window: int, center: bool,
                   device) -> tuple[Tensor, Tensor]:
    """Start and end (exclusive) frame of each frame's window, two int64 tensors (time),
    by Kaldi's rules: centred or trailing, moved inside [0, num_frames), and at least
    ``min_cmn_window`` frames at the start when trailing."""
    t = ember.arange(num_frames, device=device)
    if center:
        start = t - cmn_window // 2
        end = start + cmn_window
    else:
        start = t - cmn_window
        end = t + 1
    # a window that starts before the first frame is slid right
    end = ember.where(start < 0, end - start, end)
    start = start.clamp(min=0)
    if not center:
        grown = (t + 1).clamp(min=min_cmn_window)
        end = ember.where(end > t, grown, end)
    # one that ends after the last frame is slid left (as far as the first frame)
    over = end > num_frames
    start = ember.where(over, (start - (end - num_frames)).clamp(min=0), start)
    end = end.clamp(max=num_frames)
    return start, end


def sliding_window_cmn(specgram: Tensor, cmn_window: int = 600, min_cmn_window: int = 100,
                       center: bool = False, norm_vars: bool = False) -> Tensor:
    """Apply sliding-window cepstral mean (and optionally variance) normalization per
    utterance.

    Args:
        specgram: spectrogram of dimension (..., time, freq).
        cmn_window: window in frames for the running-average CMN computation.
        min_cmn_window: minimum CMN window used at the start of decoding (adds latency only
            at the start). Only applicable if ``center`` is False, ignored otherwise.
        center: if True, use a window centred on the current frame (to the extent possible,
            modulo end effects); if False, the window is to the left.
        norm_vars: if True, normalize the variance to one (frames whose window holds a
            single frame become zero).

    Returns:
        Tensor of the same shape as ``specgram``, (..., time, freq).
    """
    if specgram.dim() < 2:
        raise ValueError("sliding_window_cmn: expected a spectrogram of dimension "
                         f"(..., time, freq), got shape {tuple(specgram.shape)}")
    shape = tuple(specgram.shape)
    num_frames, num_feats = shape[-2:]
    x = specgram.reshape(-1, num_frames, num_feats)  # (B, time, freq)
    dtype, device = x.dtype, x.device
    start, end = _window_bounds(num_frames, cmn_window, min_cmn_window, center, device)
    count = (end - start).to(ember.float64).unsqueeze(1)  # (time, 1)

    acc = x.to(ember.float64)
    zero = ember.zeros(x.shape[0], 1, num_feats, dtype=ember.float64, device=device)

    def window_sums(values: Tensor) -> Tensor:
        prefix = ember.cat([zero, values.cumsum(1)], dim=1)  # (B, time + 1, freq)
        return prefix.index_select(1, end) - prefix.index_select(1, start)  # (B, time, freq)

    total = window_sums(acc)
    out = acc - total / count
    if norm_vars:
        variance = window_sums(acc * acc) / count - (total / count) ** 2
        single = count == 1
        variance = ember.where(single, ember.ones_like(variance), variance)
        out = ember.where(single, ember.zeros_like(out), out * variance.pow(-0.5))
    return out.to(dtype).reshape(shape)
