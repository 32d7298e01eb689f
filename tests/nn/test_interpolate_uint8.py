"""F.interpolate on integer input against torch: uint8 bilinear and bicubic (with and
without antialias, align_corners, scale factors) follow PyTorch's fixed-point uint8
kernels exactly; other integer input raises NotImplementedError in the other modes."""

from __future__ import annotations

import ember
import ember.nn.functional as F
import numpy as np
import pytest

torch = pytest.importorskip("torch")
TF = torch.nn.functional

CASES = [dict(size=(7, 9)), dict(size=(31, 40)), dict(size=(13, 6)),
         dict(scale_factor=0.37), dict(scale_factor=(2.3, 0.5)),
         dict(scale_factor=0.37, recompute_scale_factor=True)]


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("kw", CASES, ids=lambda kw: "-".join(f"{k}{v}" for k, v in kw.items()))
def test_uint8_matches_torch_exactly(mode, antialias, align_corners, kw):
    x = np.random.RandomState(0).randint(0, 256, (2, 3, 13, 17)).astype(np.uint8)
    want = TF.interpolate(torch.from_numpy(x), mode=mode, antialias=antialias,
                          align_corners=align_corners, **kw).numpy()
    got = F.interpolate(ember.from_numpy(x), mode=mode, antialias=antialias,
                        align_corners=align_corners, **kw)
    assert got.dtype == ember.uint8
    np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize("dtype,mode", [("int32", "bilinear"), ("int64", "bicubic"),
                                        ("uint8", "area"), ("int16", "area")])
def test_other_integer_modes_raise_as_torch(dtype, mode):
    x = ember.zeros(1, 1, 4, 4, dtype=getattr(ember, dtype))
    with pytest.raises(NotImplementedError):
        TF.interpolate(torch.zeros(1, 1, 4, 4, dtype=getattr(torch, dtype)), size=(2, 2),
                       mode=mode)
    with pytest.raises(NotImplementedError):
        F.interpolate(x, size=(2, 2), mode=mode)


def test_uint8_nearest_keeps_dtype():
    x = ember.arange(16, dtype=ember.uint8).reshape(1, 1, 4, 4)
    out = F.interpolate(x, size=(2, 3), mode="nearest")
    want = TF.interpolate(torch.arange(16, dtype=torch.uint8).reshape(1, 1, 4, 4), size=(2, 3),
                          mode="nearest")
    assert out.dtype == ember.uint8 and out.tolist() == want.tolist()
