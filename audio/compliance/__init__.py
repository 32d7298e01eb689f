"""ember.audio.compliance: features computed as other toolkits compute them, as
``torchaudio.compliance``. ``kaldi`` matches Kaldi's ``compute-{spectrogram,fbank,mfcc}-feats``.
"""

from . import kaldi

__all__ = ["kaldi"]
