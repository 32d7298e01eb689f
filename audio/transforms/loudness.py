"""``Loudness``: integrated loudness after ITU-R BS.1770-4 as a module, as in
``torchaudio.transforms``."""

from __future__ import annotations

from ember import Tensor, nn

from .. import functional as F

__all__ = ["Loudness"]


class Loudness(nn.Module):
    """Measure audio loudness according to the ITU-R BS.1770-4 recommendation; see
    ``ember.audio.functional.loudness``.

    Args:
        sample_rate: sample rate of the audio signal.
    """

    def __init__(self, sample_rate: int) -> None:
        super().__init__()
        self.sample_rate = sample_rate

    def forward(self, waveform: Tensor) -> Tensor:
        """Loudness (LKFS) of ``waveform`` (..., channels, time), of shape (...)."""
        return F.loudness(waveform, self.sample_rate)
