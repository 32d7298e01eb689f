"""ember.audio.functional: stateless audio signal processing, as ``torchaudio.functional``.

Spectral features (``spectrogram``, ``melscale_fbanks``, ``griffinlim``...), amplitude and
companding, resampling, SpecAugment masks, convolution and IIR filtering, sliding-window CMN,
loudness (ITU-R BS.1770) and the edit distance. Each family lives in its own file; everything
is built from ember ops, so it runs on every device and is differentiable wherever
torchaudio's is.
"""

from .amplitude import DB_to_amplitude, amplitude_to_DB, gain, mu_law_decoding, mu_law_encoding
from .biquad import (
                     allpass_biquad,
                     band_biquad,
                     bandpass_biquad,
                     bandreject_biquad,
                     bass_biquad,
                     biquad,
                     contrast,
                     dcshift,
                     deemph_biquad,
                     deemphasis,
                     equalizer_biquad,
                     highpass_biquad,
                     lowpass_biquad,
                     riaa_biquad,
                     treble_biquad,
)
from .cmn import sliding_window_cmn
from .convolution import add_noise, compute_deltas, convolve, fftconvolve, preemphasis
from .edit_distance import edit_distance
from .fbanks import create_dct, linear_fbanks, melscale_fbanks
from .lfilter import filtfilt, lfilter
from .loudness import loudness
from .masking import mask_along_axis, mask_along_axis_iid
from .resample import resample, speed
from .spectral import griffinlim, inverse_spectrogram, phase_vocoder, spectral_centroid, spectrogram

__all__ = [
    "spectrogram", "inverse_spectrogram", "griffinlim", "phase_vocoder", "spectral_centroid",
    "melscale_fbanks", "linear_fbanks", "create_dct",
    "amplitude_to_DB", "DB_to_amplitude", "mu_law_encoding", "mu_law_decoding", "gain",
    "resample", "speed",
    "mask_along_axis", "mask_along_axis_iid",
    "convolve", "fftconvolve", "compute_deltas", "preemphasis", "add_noise",
    "lfilter", "filtfilt",
    "biquad", "lowpass_biquad", "highpass_biquad", "allpass_biquad", "bandpass_biquad",
    "bandreject_biquad", "band_biquad", "bass_biquad", "treble_biquad", "equalizer_biquad",
    "deemph_biquad", "riaa_biquad", "contrast", "dcshift", "deemphasis",
    "sliding_window_cmn", "edit_distance", "loudness",
]
