"""ember.audio.transforms: audio transforms as ``nn.Module``s, as ``torchaudio.transforms``.

Each module holds its window, filter bank or kernel as buffers named as in torchaudio (so
``state_dict`` keys match) and calls ``ember.audio.functional`` in ``forward``.
"""

from .amplitude import AmplitudeToDB, Fade, MuLawDecoding, MuLawEncoding, Vol
from .augment import (
                      AddNoise,
                      ComputeDeltas,
                      Convolve,
                      Deemphasis,
                      FFTConvolve,
                      FrequencyMasking,
                      Preemphasis,
                      Resample,
                      SpecAugment,
                      Speed,
                      SpeedPerturbation,
                      TimeMasking,
)
from .cmn import SlidingWindowCmn
from .loudness import Loudness
from .spectral import (
                      LFCC,
                      MFCC,
                      GriffinLim,
                      InverseMelScale,
                      InverseSpectrogram,
                      MelScale,
                      MelSpectrogram,
                      SpectralCentroid,
                      Spectrogram,
                      TimeStretch,
)

__all__ = ["AddNoise", "AmplitudeToDB", "ComputeDeltas", "Convolve", "Deemphasis", "Fade",
           "FFTConvolve", "FrequencyMasking", "GriffinLim", "InverseMelScale",
           "InverseSpectrogram", "LFCC", "Loudness", "MFCC", "MelScale", "MelSpectrogram",
           "MuLawDecoding", "MuLawEncoding", "Preemphasis", "Resample", "SlidingWindowCmn",
           "SpecAugment", "SpectralCentroid", "Spectrogram", "Speed", "SpeedPerturbation",
           "TimeMasking", "TimeStretch", "Vol"]
