"""Audio file I/O (``torchaudio._backend``): load, save, info through soundfile."""

from .common import AudioMetaData
from .utils import info, list_audio_backends, load, save

__all__ = ["AudioMetaData", "info", "list_audio_backends", "load", "save"]
