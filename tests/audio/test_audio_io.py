"""ember.audio.load / save / info / list_audio_backends (torchaudio's I/O API) on wav, flac
and file-like objects. Reference values come from the standard library's ``wave``
module, which reads and writes integer PCM without any scaling."""

import io
import os
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("soundfile")

import ember  # noqa: E402
import ember.audio as torchaudio  # noqa: E402


def write_wave(path, data: np.ndarray, sample_rate: int = 16000) -> None:
    """Write integer PCM ``data`` (time, channel) with the ``wave`` module (uint8 or int16)."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(data.shape[1])
        w.setsampwidth(data.dtype.itemsize)
        w.setframerate(sample_rate)
        w.writeframes(np.ascontiguousarray(data).astype(data.dtype.newbyteorder("<")).tobytes())


def read_wave(path) -> tuple[np.ndarray, int, int]:
    """(data (time, channel), sample width in bytes, sample rate) via the ``wave`` module."""
    with wave.open(str(path), "rb") as w:
        raw = w.readframes(w.getnframes())
        width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
    dtype = {1: np.uint8, 2: np.dtype("<i2")}[width]
    return np.frombuffer(raw, dtype).reshape(-1, channels), width, rate


@pytest.fixture
def pcm16(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.integers(-32768, 32768, size=(50, 2)).astype(np.int16)
    data[0] = [-32768, 32767]
    path = tmp_path / "pcm16.wav"
    write_wave(path, data, 8000)
    return path, data


def test_list_audio_backends():
    assert torchaudio.list_audio_backends() == ["soundfile"]


def test_load_int16_normalized(pcm16):
    path, data = pcm16
    wav, sr = torchaudio.load(path)
    assert sr == 8000 and wav.dtype == ember.float32 and tuple(wav.shape) == (2, 50)
    np.testing.assert_array_equal(wav.numpy(), data.T.astype(np.float32) / 32768)
    assert wav.numpy().min() == -1.0 and wav.numpy().max() < 1.0
    assert wav.is_contiguous()


def test_load_int16_native(pcm16):
    path, data = pcm16
    wav, _ = torchaudio.load(str(path), normalize=False)
    assert wav.dtype == ember.int16
    np.testing.assert_array_equal(wav.numpy(), data.T)


def test_load_channels_last(pcm16):
    path, data = pcm16
    wav, _ = torchaudio.load(path, channels_first=False, normalize=False)
    assert tuple(wav.shape) == (50, 2)
    np.testing.assert_array_equal(wav.numpy(), data)


def test_load_uint8(tmp_path):
    data = np.array([[0], [64], [128], [255]], dtype=np.uint8)
    write_wave(tmp_path / "u8.wav", data)
    native, _ = torchaudio.load(tmp_path / "u8.wav", normalize=False)
    assert native.dtype == ember.uint8
    np.testing.assert_array_equal(native.numpy(), data.T)
    wav, _ = torchaudio.load(tmp_path / "u8.wav")
    np.testing.assert_array_equal(wav.numpy(), (data.T.astype(np.float32) - 128) / 128)


@pytest.mark.parametrize("frame_offset,num_frames,expected", [
    (0, -1, slice(0, 50)), (10, -1, slice(10, 50)), (10, 5, slice(10, 15)),
    (0, 1, slice(0, 1)), (45, 100, slice(45, 50)), (50, -1, slice(50, 50)),
    (70, 3, slice(50, 50)),
])
def test_load_offset_frames(pcm16, frame_offset, num_frames, expected):
    path, data = pcm16
    wav, _ = torchaudio.load(path, frame_offset=frame_offset, num_frames=num_frames,
                             normalize=False)
    np.testing.assert_array_equal(wav.numpy(), data[expected].T)


@pytest.mark.parametrize("kwargs,match", [
    ({"frame_offset": -1}, "frame_offset"), ({"num_frames": 0}, "num_frames"),
    ({"num_frames": -2}, "num_frames"), ({"backend": "sox"}, "soundfile"),
])
def test_load_bad_arguments(pcm16, kwargs, match):
    with pytest.raises(ValueError, match=match):
        torchaudio.load(pcm16[0], **kwargs)


def test_load_missing_and_corrupt(tmp_path):
    with pytest.raises(Exception, match="nope.wav"):
        torchaudio.load(tmp_path / "nope.wav")
    (tmp_path / "bad.wav").write_bytes(b"RIFF not really a wav file")
    with pytest.raises(Exception):  # noqa: B017 - soundfile's LibsndfileError
        torchaudio.load(tmp_path / "bad.wav")


def test_save_int16_is_plain_pcm(tmp_path):
    data = np.array([[-32768, -1, 0, 1, 32767], [5, 6, 7, 8, 9]], dtype=np.int16)
    torchaudio.save(tmp_path / "x.wav", ember.from_numpy(data), 22050)
    raw, width, rate = read_wave(tmp_path / "x.wav")
    assert width == 2 and rate == 22050
    np.testing.assert_array_equal(raw, data.T)
    meta = torchaudio.info(tmp_path / "x.wav")
    assert meta == torchaudio.AudioMetaData(22050, 5, 2, 16, "PCM_S")


def test_save_float_as_int16_rounds_and_clips(tmp_path):
    grid = np.arange(-32768, 32768, 997, dtype=np.float32) / 32768
    x = np.stack([grid, grid[::-1]])
    torchaudio.save(tmp_path / "g.wav", ember.from_numpy(x), 8000, bits_per_sample=16)
    back, _ = torchaudio.load(tmp_path / "g.wav")
    np.testing.assert_array_equal(back.numpy(), x)  # values on the int16 grid: exact
    edge = ember.tensor([[1.0, -1.0, 1.5, -1.5, 0.4 / 32768, 0.6 / 32768]])
    torchaudio.save(tmp_path / "e.wav", edge, 8000, encoding="PCM_S", bits_per_sample=16)
    raw, _, _ = read_wave(tmp_path / "e.wav")
    np.testing.assert_array_equal(raw[:, 0], [32767, -32768, 32767, -32768, 0, 1])


@pytest.mark.parametrize("dtype,info", [
    (np.float32, (32, "PCM_F")), (np.float64, (64, "PCM_F")), (np.int32, (32, "PCM_S")),
    (np.int16, (16, "PCM_S")), (np.uint8, (8, "PCM_U")),
])
def test_save_load_native_dtype(tmp_path, dtype, info):
    rng = np.random.default_rng(1)
    if np.dtype(dtype).kind == "f":
        x = rng.uniform(-1, 1, (3, 40)).astype(dtype)
    else:
        lim = np.iinfo(dtype)
        x = rng.integers(lim.min, lim.max, (3, 40), endpoint=True).astype(dtype)
    torchaudio.save(tmp_path / "n.wav", ember.from_numpy(x), 16000)
    meta = torchaudio.info(tmp_path / "n.wav")
    assert (meta.bits_per_sample, meta.encoding, meta.num_channels, meta.num_frames) == (
        *info, 3, 40)
    back, sr = torchaudio.load(tmp_path / "n.wav", normalize=False)
    assert sr == 16000 and back.numpy().dtype == dtype
    np.testing.assert_array_equal(back.numpy(), x)


@pytest.mark.parametrize("bits", [16, 24, 32])
def test_wav_pcm_bits(tmp_path, bits):
    rng = np.random.default_rng(bits)
    scale = 2 ** (bits - 1)
    q = rng.integers(-scale, scale, (2, 30))
    x = (q / scale).astype(np.float64 if bits == 32 else np.float32)
    torchaudio.save(tmp_path / "b.wav", ember.from_numpy(x), 8000, bits_per_sample=bits)
    assert torchaudio.info(tmp_path / "b.wav").bits_per_sample == bits
    native, _ = torchaudio.load(tmp_path / "b.wav", normalize=False)
    expected = q.astype(np.int64) << (16 - bits if bits == 16 else 32 - bits)
    np.testing.assert_array_equal(native.numpy(), expected)
    back, _ = torchaudio.load(tmp_path / "b.wav")
    np.testing.assert_allclose(back.numpy(), x, rtol=0, atol=0 if bits < 32 else 1e-7)


@pytest.mark.parametrize("bits", [None, 16, 24])
def test_flac_round_trip(tmp_path, bits):
    b = bits or 16
    rng = np.random.default_rng(3)
    x = (rng.integers(-2 ** (b - 1), 2 ** (b - 1), (1, 100)) / 2 ** (b - 1)).astype(np.float32)
    torchaudio.save(tmp_path / "f.flac", ember.from_numpy(x), 44100, bits_per_sample=bits)
    meta = torchaudio.info(tmp_path / "f.flac")
    assert meta == torchaudio.AudioMetaData(44100, 100, 1, b, "FLAC")
    back, sr = torchaudio.load(tmp_path / "f.flac", normalize=False)  # flac: always float
    assert sr == 44100 and back.dtype == ember.float32
    np.testing.assert_array_equal(back.numpy(), x)
    part, _ = torchaudio.load(tmp_path / "f.flac", frame_offset=90, num_frames=5)
    np.testing.assert_array_equal(part.numpy(), x[:, 90:95])


def test_channels_first_false_save(tmp_path):
    x = ember.from_numpy(np.arange(12, dtype=np.int16).reshape(6, 2))
    torchaudio.save(tmp_path / "c.wav", x, 8000, channels_first=False)
    assert torchaudio.info(tmp_path / "c.wav").num_channels == 2
    back, _ = torchaudio.load(tmp_path / "c.wav", normalize=False)
    np.testing.assert_array_equal(back.numpy(), x.numpy().T)


def test_ulaw_info(tmp_path):
    x = ember.zeros(1, 16)
    torchaudio.save(tmp_path / "u.wav", x, 8000, encoding="ULAW")
    assert torchaudio.info(tmp_path / "u.wav") == torchaudio.AudioMetaData(8000, 16, 1, 8,
                                                                           "ULAW")
    assert torchaudio.load(tmp_path / "u.wav")[0].dtype == ember.float32
    with pytest.raises(ValueError, match="normalize=False"):
        torchaudio.load(tmp_path / "u.wav", normalize=False)


def test_file_like_objects(pcm16):
    path, data = pcm16
    with open(path, "rb") as f:
        wav, sr = torchaudio.load(f, normalize=False)
    np.testing.assert_array_equal(wav.numpy(), data.T)
    buf = io.BytesIO()
    torchaudio.save(buf, wav, sr, format="flac")
    buf.seek(0)
    assert torchaudio.info(buf).encoding == "FLAC"
    buf.seek(0)
    back, _ = torchaudio.load(buf, normalize=False)
    np.testing.assert_array_equal(back.numpy(), data.T.astype(np.float32) / 32768)
    with pytest.raises(RuntimeError, match="format"):
        torchaudio.save(io.BytesIO(), wav, sr)


def test_save_requires_grad_and_path_like(tmp_path):
    x = ember.rand(1, 8, requires_grad=True)
    torchaudio.save(Path(tmp_path) / "g.wav", x * 2 - 1, 8000)
    back, _ = torchaudio.load(os.fspath(tmp_path / "g.wav"))
    np.testing.assert_array_equal(back.numpy(), (x * 2 - 1).detach().numpy())


@pytest.mark.parametrize("shape,kwargs,error,match", [
    ((8,), {}, ValueError, "2D"),
    ((1, 8), {"bits_per_sample": 12}, ValueError, "bits_per_sample"),
    ((1, 8), {"format": "xyz"}, ValueError, "format"),
    ((1, 8), {"encoding": "PCM_U", "bits_per_sample": 16}, ValueError, "PCM_U"),
    ((1, 8), {"encoding": "PCM_S", "bits_per_sample": 8}, ValueError, "PCM_S"),
    ((1, 8), {"encoding": "FOO"}, ValueError, "FOO"),
    ((1, 8), {"backend": "ffmpeg"}, ValueError, "soundfile"),
])
def test_save_errors(tmp_path, shape, kwargs, error, match):
    with pytest.raises(error, match=match):
        torchaudio.save(tmp_path / "x.wav", ember.zeros(*shape), 8000, **kwargs)
    assert not os.listdir(tmp_path)


def test_save_errors_dtype_and_flac(tmp_path):
    with pytest.raises(ValueError, match="int8"):
        torchaudio.save(tmp_path / "x.wav", ember.zeros(1, 4, dtype=ember.int8), 8000)
    with pytest.raises(ValueError, match="24"):
        torchaudio.save(tmp_path / "x.flac", ember.zeros(1, 4), 8000, bits_per_sample=32)


def test_save_is_atomic(tmp_path, monkeypatch):
    import soundfile

    target = tmp_path / "keep.wav"
    torchaudio.save(target, ember.zeros(1, 4, dtype=ember.int16), 8000)
    before = target.read_bytes()
    real_write = soundfile.write

    def failing_write(file, data, *args, **kwargs):
        real_write(file, data[: len(data) // 2], *args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(soundfile, "write", failing_write)
    with pytest.raises(OSError, match="disk full"):
        torchaudio.save(target, ember.ones(1, 100), 8000)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["keep.wav"]
    monkeypatch.undo()
    torchaudio.save(target, ember.ones(1, 100) * 0.5, 8000, bits_per_sample=16)  # replaces
    assert torchaudio.info(target).num_frames == 100
    assert os.listdir(tmp_path) == ["keep.wav"]


def test_missing_soundfile(monkeypatch, pcm16):
    monkeypatch.setitem(sys.modules, "soundfile", None)
    assert torchaudio.list_audio_backends() == []
    for call in (lambda: torchaudio.load(pcm16[0]), lambda: torchaudio.info(pcm16[0]),
                 lambda: torchaudio.save(pcm16[0], ember.zeros(1, 2), 8000)):
        with pytest.raises(ImportError, match=r"pip install 'ember\[audio\]'"):
            call()


def test_audio_metadata_repr():
    meta = torchaudio.AudioMetaData(16000, 10, 1, 16, "PCM_S")
    assert repr(meta) == ("AudioMetaData(sample_rate=16000, num_frames=10, num_channels=1, "
                          "bits_per_sample=16, encoding=PCM_S)")
    assert meta != torchaudio.AudioMetaData(16000, 11, 1, 16, "PCM_S")
