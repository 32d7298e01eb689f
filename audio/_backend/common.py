"""``AudioMetaData``: what :func:`ember.audio.info` returns (``torchaudio.AudioMetaData``)."""

from __future__ import annotations

__all__ = ["AudioMetaData"]


class AudioMetaData:
    """Metadata of an audio file, as returned by :func:`ember.audio.info`.

    Args:
        sample_rate (int): Sample rate.
        num_frames (int): The number of frames (samples per channel).
        num_channels (int): The number of channels.
        bits_per_sample (int): Bits per sample. 0 for compressed formats or where the
            bit depth is not defined (variable bit rate, ADPCM...).
        encoding (str): Audio encoding: ``"PCM_S"`` (signed integer PCM), ``"PCM_U"``
            (unsigned integer PCM), ``"PCM_F"`` (floating-point PCM), ``"FLAC"``,
            ``"ULAW"``, ``"ALAW"``, ``"MP3"``, ``"VORBIS"``, ``"OPUS"`` or ``"UNKNOWN"``.
    """

    def __init__(self, sample_rate: int, num_frames: int, num_channels: int,
                 bits_per_sample: int, encoding: str) -> None:
        self.sample_rate = sample_rate
        self.num_frames = num_frames
        self.num_channels = num_channels
        self.bits_per_sample = bits_per_sample
        self.encoding = encoding

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AudioMetaData):
            return NotImplemented
        return vars(self) == vars(other)

    def __repr__(self) -> str:
        return (f"AudioMetaData(sample_rate={self.sample_rate}, num_frames={self.num_frames}, "
                f"num_channels={self.num_channels}, bits_per_sample={self.bits_per_sample}, "
                f"encoding={self.encoding})")

    __str__ = __repr__
