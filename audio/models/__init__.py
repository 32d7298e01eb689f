"""Audio models (``torchaudio.models``) with torchaudio's ``state_dict`` keys."""

from .conv_tasnet import ConvTasNet, conv_tasnet_base
from .wav2letter import Wav2Letter

__all__ = ["ConvTasNet", "Wav2Letter", "conv_tasnet_base"]
