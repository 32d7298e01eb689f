"""load / save / info through soundfile (libsndfile), with torchaudio's semantics.

Reading: ``normalize=True`` gives float32 in [-1, 1) (integer PCM divided by
``2 ** (bits - 1)``, libsndfile's own scaling); ``normalize=False`` on a WAV file with
integer or float PCM gives the file's native dtype (uint8, int16, int32 for 24- and 32-bit,
left-justified; float32, float64). Writing: a float tensor stored as integer PCM of ``b``
bits is scaled by ``2 ** (b - 1)``, rounded and clipped, so ``load(save(x))`` gives back
``x`` exactly when ``x`` holds ``b``-bit values.
"""

from __future__ import annotations

import os
import warnings
from typing import BinaryIO

import ember
import numpy as np

from ._soundfile import soundfile_module
from .common import AudioMetaData

__all__ = ["info", "load", "save"]

# subtype -> dtype that normalize=False returns for WAV files
_SUBTYPE2DTYPE = {"PCM_S8": "int8", "PCM_U8": "uint8", "PCM_16": "int16", "PCM_24": "int32",
                  "PCM_32": "int32", "FLOAT": "float32", "DOUBLE": "float64"}
_SUBTYPE2BITS = {
    "PCM_S8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32, "PCM_U8": 8, "FLOAT": 32,
    "DOUBLE": 64, "ULAW": 8, "ALAW": 8, "IMA_ADPCM": 0, "MS_ADPCM": 0, "GSM610": 0,
    "VOX_ADPCM": 0, "G721_32": 0, "G723_24": 0, "G723_40": 0, "DWVW_12": 12, "DWVW_16": 16,
    "DWVW_24": 24, "DWVW_N": 0, "DPCM_8": 8, "DPCM_16": 16, "VORBIS": 0, "OPUS": 0,
    "MPEG_LAYER_III": 0, "ALAC_16": 16, "ALAC_20": 20, "ALAC_24": 24, "ALAC_32": 32,
}
_SUBTYPE2ENCODING = {"PCM_S8": "PCM_S", "PCM_16": "PCM_S", "PCM_24": "PCM_S", "PCM_32": "PCM_S",
                     "PCM_U8": "PCM_U", "FLOAT": "PCM_F", "DOUBLE": "PCM_F", "ULAW": "ULAW",
                     "ALAW": "ALAW", "VORBIS": "VORBIS", "OPUS": "OPUS",
                     "MPEG_LAYER_III": "MP3"}
# extension -> libsndfile major format, where the two differ
_EXT2FORMAT = {"sph": "NIST", "nis": "NIST", "nist": "NIST", "vorbis": "OGG", "opus": "OGG",
               "aif": "AIFF", "aifc": "AIFF"}


def _source(uri):
    return uri if hasattr(uri, "read") else os.fspath(uri)


def info(uri: BinaryIO | str | os.PathLike, format: str | None = None) -> AudioMetaData:
    """Get signal information of an audio file (see :func:`ember.audio.info`)."""
    sf = soundfile_module()
    sinfo = sf.info(_source(uri))
    bits = _SUBTYPE2BITS.get(sinfo.subtype)
    if bits is None:
        warnings.warn(f"The bit depth of subtype {sinfo.subtype} is unknown; "
                      "bits_per_sample is set to 0.", stacklevel=2)
        bits = 0
    encoding = "FLAC" if sinfo.format == "FLAC" else _SUBTYPE2ENCODING.get(sinfo.subtype,
                                                                            "UNKNOWN")
    return AudioMetaData(int(sinfo.samplerate), int(sinfo.frames), int(sinfo.channels),
                         bits, encoding)


def _read_native(f, frames: int, subtype: str) -> np.ndarray:
    if subtype in ("PCM_U8", "PCM_S8"):  # libsndfile has no 8-bit read: read 16, shift back
        data = f.read(frames, dtype="int16", always_2d=True) >> 8
        return (data + 128).astype(np.uint8) if subtype == "PCM_U8" else data.astype(np.int8)
    return f.read(frames, dtype=_SUBTYPE2DTYPE[subtype], always_2d=True)


def load(uri, frame_offset: int = 0, num_frames: int = -1, normalize: bool = True,
         channels_first: bool = True, format: str | None = None) -> tuple[ember.Tensor, int]:
    """Load audio data from a file (see :func:`ember.audio.load`)."""
    if frame_offset < 0:
        raise ValueError(f"load: frame_offset must be non-negative, got {frame_offset}")
    if num_frames == 0 or num_frames < -1:
        raise ValueError(f"load: num_frames must be -1 or greater than 0, got {num_frames}")
    sf = soundfile_module()
    with sf.SoundFile(_source(uri), "r") as f:
        native = f.format == "WAV" and not normalize
        if native and f.subtype not in _SUBTYPE2DTYPE:
            raise ValueError(f"load: normalize=False is not supported for WAV subtype "
                             f"{f.subtype} (only integer and float PCM); use normalize=True")
        frames = f._prepare_read(frame_offset, None, num_frames)
        if native:
            data = _read_native(f, frames, f.subtype)
        else:
            data = f.read(frames, dtype="float32", always_2d=True)
        sample_rate = int(f.samplerate)
    if channels_first:
        data = data.T
    return ember.from_numpy(np.ascontiguousarray(data)), sample_rate


def _subtype_for_wav(dtype: str, encoding: str | None, bits: int | None) -> str:
    if not encoding:
        if not bits:
            subtype = {"uint8": "PCM_U8", "int16": "PCM_16", "int32": "PCM_32",
                       "float32": "FLOAT", "float64": "DOUBLE"}.get(dtype)
            if subtype is None:
                raise ValueError(f"save: unsupported dtype for wav: {dtype}; pass "
                                 "bits_per_sample or convert the tensor")
            return subtype
        return {8: "PCM_U8", 64: "DOUBLE"}.get(bits) or f"PCM_{bits}"
    table = {
        "PCM_S": {None: "PCM_32", 16: "PCM_16", 24: "PCM_24", 32: "PCM_32"},
        "PCM_U": {None: "PCM_U8", 8: "PCM_U8"},
        "PCM_F": {None: "FLOAT", 32: "FLOAT", 64: "DOUBLE"},
        "ULAW": {None: "ULAW", 8: "ULAW"},
        "ALAW": {None: "ALAW", 8: "ALAW"},
    }
    if encoding not in table:
        raise ValueError(f"save: wav does not support encoding {encoding!r}")
    subtype = table[encoding].get(bits)
    if subtype is None:
        raise ValueError(f"save: wav does not support {encoding} with bits_per_sample={bits}")
    return subtype


def _subtype(dtype: str, ext: str, encoding: str | None, bits: int | None) -> str:
    if ext == "wav":
        return _subtype_for_wav(dtype, encoding, bits)
    if ext == "flac":
        if encoding not in (None, "FLAC", "PCM_S"):
            raise ValueError(f"save: flac does not support encoding {encoding!r}")
        if bits and bits > 24:
            raise ValueError("save: flac does not support bits_per_sample > 24")
        return {None: "PCM_16", 8: "PCM_S8"}.get(bits) or f"PCM_{bits}"
    if ext in ("ogg", "vorbis", "opus"):
        if bits:
            raise ValueError("save: ogg/vorbis does not support bits_per_sample")
        enc = (encoding or ("opus" if ext == "opus" else "vorbis")).lower()
        if enc not in ("vorbis", "opus"):
            raise ValueError(f"save: unexpected encoding {encoding!r} for ogg")
        return enc.upper()
    if ext == "mp3":
        return "MPEG_LAYER_III"
    if ext in ("sph", "nis", "nist"):
        if encoding in (None, "PCM_S"):
            return f"PCM_{bits}" if bits else "PCM_32"
        if encoding in ("ULAW", "ALAW") and bits in (None, 8):
            return encoding
        raise ValueError(f"save: sph does not support {encoding} with bits_per_sample={bits}")
    raise ValueError(f"save: unsupported format {ext!r}")


def _to_pcm(data: np.ndarray, subtype: str) -> np.ndarray:
    """The array soundfile gets for ``subtype``: integers at full int32 scale (libsndfile
    keeps the top bits), float for the other subtypes, and floats quantized here
    (scaled by ``2 ** (bits - 1)``, rounded, clipped) for integer PCM."""
    bits = {"PCM_S8": 8, "PCM_U8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32}.get(subtype)
    if data.dtype.kind == "u":  # unsigned 8-bit: center on zero
        data = (data.astype(np.int32) - 128) << 24
    elif data.dtype.kind == "i":
        data = data.astype(np.int32) << (32 - 8 * data.dtype.itemsize)
    if data.dtype.kind == "i":
        return data if bits else (data / 2.0 ** 31).astype(np.float32)
    if bits is None:
        return data
    scale = float(2 ** (bits - 1))
    q = np.clip(np.rint(data.astype(np.float64) * scale), -scale, scale - 1).astype(np.int64)
    container = 16 if bits <= 16 else 32
    return (q << (container - bits)).astype(np.int16 if container == 16 else np.int32)


def save(uri, src: ember.Tensor, sample_rate: int, channels_first: bool = True,
         format: str | None = None, encoding: str | None = None,
         bits_per_sample: int | None = None, compression=None) -> None:
    """Save audio data to a file (see :func:`ember.audio.save`)."""
    if src.ndim != 2:
        raise ValueError(f"save: expected a 2D tensor (channels, time), got {src.ndim}D "
                         f"with shape {tuple(src.shape)}")
    if compression is not None:
        warnings.warn("save: the soundfile backend ignores `compression`.", stacklevel=3)
    is_file = hasattr(uri, "write")
    if is_file:
        if format is None:
            raise RuntimeError("save: `format` is required when saving to a file object.")
        ext = format.lower()
    else:
        uri = os.fspath(uri)
        ext = (format or os.path.splitext(uri)[1][1:]).lower()
    if bits_per_sample not in (None, 8, 16, 24, 32, 64):
        raise ValueError(f"save: invalid bits_per_sample {bits_per_sample}")
    arr = src.detach().cpu()
    if str(arr.dtype) in ("ember.float16", "ember.bfloat16"):
        arr = arr.float()
    data = arr.numpy()
    subtype = _subtype(str(data.dtype), ext, encoding, bits_per_sample)
    if channels_first:
        data = data.T
    data = np.ascontiguousarray(_to_pcm(data, subtype))
    sf = soundfile_module()
    sf_format = _EXT2FORMAT.get(ext, ext.upper())
    if is_file:
        sf.write(uri, data, sample_rate, subtype=subtype, format=sf_format)
        return
    from ember.serialization._atomic import atomic_open

    with atomic_open(uri) as fh:
        sf.write(fh, data, sample_rate, subtype=subtype, format=sf_format)
