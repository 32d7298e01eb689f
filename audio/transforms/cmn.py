"""``SlidingWindowCmn``: sliding-window cepstral mean (and variance) normalisation as a
module, as in ``torchaudio.transforms``."""

from __future__ import annotations

from ember import Tensor, nn

from .. import functional as F

__all__ = ["SlidingWindowCmn"]


class SlidingWindowCmn(nn.Module):
    """Apply sliding-window cepstral mean (and optionally variance) normalization per
    utterance; see ``ember.audio.functional.sliding_window_cmn``.

    Args:
        cmn_window: window in frames for the running-average CMN computation.
        min_cmn_window: minimum CMN window used at the start of decoding (only when
            ``center`` is False).
        center: if True, use a window centred on the current frame; if False, the window is
            to the left.
        norm_vars: if True, normalize the variance to one.
    """

    def __init__(self, cmn_window: int = 600, min_cmn_window: int = 100, center: bool = False,
                 norm_vars: bool = False) -> None:
        super().__init__()
        self.cmn_window = cmn_window
        self.min_cmn_window = min_cmn_window
        self.center = center
        self.norm_vars = norm_vars

    def forward(self, specgram: Tensor) -> Tensor:
        """Normalized ``specgram`` (..., time, freq), same shape."""
        return F.sliding_window_cmn(specgram, self.cmn_window, self.min_cmn_window,
                                    self.center, self.norm_vars)
