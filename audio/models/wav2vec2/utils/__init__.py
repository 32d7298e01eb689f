"""Converters into ``Wav2Vec2Model`` (``torchaudio.models.wav2vec2.utils``)."""

from .import_huggingface import import_huggingface_model

__all__ = ["import_huggingface_model"]
