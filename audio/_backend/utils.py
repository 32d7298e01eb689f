"""The public I/O functions (``torchaudio.load``/``save``/``info``/``list_audio_backends``).

ember has one backend, ``"soundfile"`` (libsndfile: WAV, FLAC, OGG/Vorbis, Opus, MP3 with
libsndfile >= 1.1, SPHERE, AIFF...). ``backend=None`` picks it; any other name raises.
"""

from __future__ import annotations

import os
from typing import BinaryIO

import ember

from . import soundfile_backend
from ._soundfile import soundfile_available
from .common import AudioMetaData

__all__ = ["info", "list_audio_backends", "load", "save"]

Uri = BinaryIO | str | os.PathLike


def list_audio_backends() -> list[str]:
    """List available backends: ``["soundfile"]`` when soundfile is installed, else ``[]``."""
    return ["soundfile"] if soundfile_available() else []


def _check_backend(backend: str | None) -> None:
    if backend not in (None, "soundfile"):
        raise ValueError(f"Unsupported backend {backend!r}; ember.audio has only "
                         "'soundfile' (torchaudio's 'ffmpeg' and 'sox' are not available)")


def info(uri: Uri, format: str | None = None, buffer_size: int = 4096,
         backend: str | None = None) -> AudioMetaData:
    """Get signal information of an audio file.

    Args:
        uri (path-like object or file-like object): Source of audio data.
        format (str or None, optional): Not used: libsndfile detects the format from the
            file's header. Default: ``None``.
        buffer_size (int, optional): Not used (kept for torchaudio's signature).
        backend (str or None, optional): I/O backend, ``"soundfile"`` or ``None``.

    Returns:
        AudioMetaData: sample rate, number of frames and channels, bits per sample and
        encoding of the file.
    """
    _check_backend(backend)
    return soundfile_backend.info(uri, format)


def load(uri: Uri, frame_offset: int = 0, num_frames: int = -1, normalize: bool = True,
         channels_first: bool = True, format: str | None = None, buffer_size: int = 4096,
         backend: str | None = None) -> tuple[ember.Tensor, int]:
    """Load audio data from a file or file-like object.

    Args:
        uri (path-like object or file-like object): Source of audio data.
        frame_offset (int, optional): Number of frames to skip before reading. Default: 0.
        num_frames (int, optional): Maximum number of frames to read; ``-1`` reads to the
            end. Fewer frames are returned if the file ends first. Default: ``-1``.
        normalize (bool, optional): When ``True``, the result is float32 in ``[-1, 1)``
            (integer PCM divided by ``2 ** (bits - 1)``: int16 ``v`` becomes ``v / 32768``).
            When ``False`` and the file is a WAV file of integer or float PCM, the native
            dtype is returned: uint8 (8-bit), int16, int32 (24-bit samples left-justified,
            i.e. times 256; 32-bit), float32, float64. Other formats always give float32.
            Default: ``True``.
        channels_first (bool, optional): When ``True`` the result is ``(channel, time)``,
            else ``(time, channel)``. Default: ``True``.
        format (str or None, optional): Not used: libsndfile detects the format.
        buffer_size (int, optional): Not used (kept for torchaudio's signature).
        backend (str or None, optional): I/O backend, ``"soundfile"`` or ``None``.

    Returns:
        (Tensor, int): The waveform (contiguous) and its sample rate.
    """
    _check_backend(backend)
    return soundfile_backend.load(uri, frame_offset, num_frames, normalize, channels_first,
                                  format)


def save(uri: Uri, src: ember.Tensor, sample_rate: int, channels_first: bool = True,
         format: str | None = None, encoding: str | None = None,
         bits_per_sample: int | None = None, buffer_size: int = 4096,
         backend: str | None = None, compression=None) -> None:
    """Save audio data to a file or file-like object.

    A path is written atomically: the data goes to a temporary file beside it, which
    replaces ``uri`` only once complete, so no half-written file is left under that name.

    Args:
        uri (path-like object or file-like object): Destination. The format comes from the
            file's extension, or from ``format`` (required for file-like objects).
        src (Tensor): Audio data, 2-D: ``(channel, time)`` or ``(time, channel)``.
        sample_rate (int): Sample rate.
        channels_first (bool, optional): If ``True``, ``src`` is ``(channel, time)``.
        format (str or None, optional): ``"wav"``, ``"flac"``, ``"ogg"``, ``"vorbis"``,
            ``"opus"``, ``"mp3"``, ``"sph"``... Default: the file's extension.
        encoding (str or None, optional): ``"PCM_S"``, ``"PCM_U"``, ``"PCM_F"``,
            ``"ULAW"``, ``"ALAW"`` (wav, sph); ``"vorbis"``/``"opus"`` (ogg). Default: from
            ``src``'s dtype for wav (uint8 -> 8-bit unsigned, int16 -> 16-bit, int32 ->
            32-bit, float32 -> 32-bit float, float64 -> 64-bit float), 16-bit for flac.
        bits_per_sample (int or None, optional): 8, 16, 24, 32 or 64.
        buffer_size (int, optional): Not used (kept for torchaudio's signature).
        backend (str or None, optional): I/O backend, ``"soundfile"`` or ``None``.
        compression: Not supported by the soundfile backend: ignored with a warning.

    A float tensor written as ``b``-bit integer PCM is scaled by ``2 ** (b - 1)``, rounded
    and clipped to the integer range, so loading it back gives the same values when they
    already lie on that grid (libsndfile alone would scale by ``2 ** (b - 1) - 1``).
    """
    _check_backend(backend)
    soundfile_backend.save(uri, src, sample_rate, channels_first, format, encoding,
                           bits_per_sample, compression)
