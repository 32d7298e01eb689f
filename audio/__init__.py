"""ember.audio"""

from . import compliance, datasets, functional, models, transforms  # noqa: F401
from ._backend import AudioMetaData, info, list_audio_backends, load, save  # noqa: F401
