"""ember.vision.io: reading, decoding and encoding images through Pillow."""

import ember
import numpy as np
import pytest
from ember.vision import io

PIL = pytest.importorskip("PIL.Image")


@pytest.fixture
def photo(transforms_golden):
    return transforms_golden["photo_chelsea"]  # (50, 60, 3) uint8


def test_png_round_trip_is_lossless(tmp_path, photo):
    t = ember.from_numpy(np.ascontiguousarray(photo.transpose(2, 0, 1)))
    path = tmp_path / "cat.png"
    io.write_png(t, path)
    back = io.read_image(path)
    assert back.dtype == ember.uint8 and back.shape == (3, 50, 60)
    np.testing.assert_array_equal(back.numpy(), t.numpy())
    np.testing.assert_array_equal(np.asarray(PIL.open(path)), photo)
    data = io.read_file(path)
    assert data.dtype == ember.uint8 and data.ndim == 1
    np.testing.assert_array_equal(io.decode_image(data).numpy(), t.numpy())
    np.testing.assert_array_equal(io.decode_png(io.encode_png(t, 9)).numpy(), t.numpy())


def test_read_modes(tmp_path, photo):
    rgba = np.concatenate([photo, np.full(photo.shape[:2] + (1,), 200, np.uint8)], 2)
    path = tmp_path / "a.png"
    PIL.fromarray(rgba).save(path)
    assert io.read_image(path).shape == (4, 50, 60)
    assert io.read_image(path, io.ImageReadMode.RGB).shape == (3, 50, 60)
    gray = io.read_image(path, io.ImageReadMode.GRAY)
    assert gray.shape == (1, 50, 60)
    np.testing.assert_array_equal(gray.numpy()[0], np.asarray(PIL.fromarray(photo).convert("L")))
    ga = io.read_image(path, io.ImageReadMode.GRAY_ALPHA)
    assert ga.shape == (2, 50, 60) and int(ga[1].max()) == 200
    assert io.read_image(path, io.ImageReadMode.RGBA).shape == (4, 50, 60)
    assert io.decode_image(str(path), mode="RGB").shape == (3, 50, 60)
    p = tmp_path / "p.png"
    PIL.fromarray(photo).convert("P").save(p)
    assert io.read_image(p).shape == (3, 50, 60)


def test_jpeg_encode_decode_close_to_pillow(tmp_path, photo):
    t = ember.from_numpy(np.ascontiguousarray(photo.transpose(2, 0, 1)))
    path = tmp_path / "cat.jpg"
    io.write_jpeg(t, path, quality=95)
    back = io.read_image(path)
    assert back.shape == (3, 50, 60)
    assert np.abs(back.numpy().astype(int) - t.numpy()).mean() < 6
    encs = io.encode_jpeg([t, t[:1]], quality=50)
    assert len(encs) == 2 and io.decode_jpeg(encs[1]).shape == (1, 50, 60)
    with pytest.raises(ValueError, match="quality"):
        io.encode_jpeg(t, quality=0)


def test_bad_inputs_raise_clear_errors(tmp_path):
    with pytest.raises(RuntimeError, match="uint8"):
        io.encode_png(ember.zeros(3, 4, 4))
    with pytest.raises(RuntimeError, match="channels"):
        io.encode_jpeg(ember.zeros(2, 4, 4, dtype=ember.uint8))
    with pytest.raises(RuntimeError, match="decode"):
        io.decode_image(ember.tensor([1, 2, 3], dtype=ember.uint8))
    f = tmp_path / "x.bin"
    io.write_file(f, ember.tensor([1, 2, 3], dtype=ember.uint8))
    assert f.read_bytes() == b"\x01\x02\x03"
