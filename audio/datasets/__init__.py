"""Audio data sets (``torchaudio.datasets``): same constructors, folder layouts and item
tuples. Downloads go through ``ember.datasets`` (sha256-verified, safe extraction)."""

from .cmuarctic import CMUARCTIC
from .librispeech import LIBRISPEECH
from .ljspeech import LJSPEECH
from .speechcommands import SPEECHCOMMANDS
from .vctk import VCTK_092
from .yesno import YESNO

__all__ = ["CMUARCTIC", "LIBRISPEECH", "LJSPEECH", "SPEECHCOMMANDS", "VCTK_092", "YESNO"]
