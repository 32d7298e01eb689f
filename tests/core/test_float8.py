"""8-bit float dtypes (``torch.float8_*``): conversion bit for bit as PyTorch 2.13 on the
same values, finfo, and PyTorch's refusal to promote them with other types."""

import ember
import numpy as np
import pytest
import torch

FLOAT8 = ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz",
          "float8_e8m0fnu"]
VALUES = [1.5, 300.0, -0.1, 1000.0, 1e-5, 0.0, -0.0, 3.3e4, 7e4, 460.0, 480.0, 0.75, 0.74,
          3.0, 1e-45, 5e-39, float("inf"), -float("inf"), float("nan"), -2.5e-3]


@pytest.mark.parametrize("name", FLOAT8)
@pytest.mark.parametrize("src", ["float32", "float64", "float16", "bfloat16", "int64"])
def test_conversion_matches_torch(name, src):
    vals = VALUES if src != "int64" else [0, 1, -3, 17, 300, 1000, -70000]
    got, want = [], []
    for m, out in ((torch, want), (ember, got)):
        x = m.tensor(vals, dtype=m.float32 if src != "int64" else m.int64).to(getattr(m, src))
        y = x.to(getattr(m, name))
        assert y.dtype == getattr(m, name) and y.element_size() == 1
        out.append(np.array(y.to(m.float64).tolist()))
    np.testing.assert_array_equal(got[0], want[0])  # NaNs in the same places


@pytest.mark.parametrize("name", FLOAT8)
def test_finfo_matches_torch(name):
    ours, theirs = ember.finfo(getattr(ember, name)), torch.finfo(getattr(torch, name))
    keys = ["max", "min", "tiny", "smallest_normal", "resolution", "bits"]
    if name != "float8_e5m2fnuz":  # torch reports 0.125, the format's spacing at 1 is 0.25
        keys.append("eps")
    for k in keys:
        assert getattr(ours, k) == getattr(theirs, k), k


@pytest.mark.parametrize("name", ["bfloat16", "float16", "float32", "float64"])
def test_finfo_resolution_is_torchs_power_of_ten(name):
    assert ember.finfo(getattr(ember, name)).resolution == \
        torch.finfo(getattr(torch, name)).resolution


def test_float8_round_trips_and_refuses_promotion_like_torch():
    x = ember.tensor([1.5, 2.0, -0.25]).to(ember.float8_e4m3fn)
    assert x.float().tolist() == [1.5, 2.0, -0.25]
    assert x.dtype.is_floating_point and x.dtype.itemsize == 1
    assert "dtype=ember.float8_e4m3fn" in repr(x)
    for m in (torch, ember):
        with pytest.raises(RuntimeError, match="Promotion for Float8 Types is not supported, "
                                               "attempted to promote Float8_e4m3fn and Float"):
            m.promote_types(m.float8_e4m3fn, m.float32)
    assert ember.promote_types(ember.float8_e5m2, ember.float8_e5m2) is ember.float8_e5m2
