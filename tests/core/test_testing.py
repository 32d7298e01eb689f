"""ember.testing.assert_close and make_tensor against torch.testing."""

import ember
import ember.testing as et
import numpy as np
import pytest
import torch

CASES = [
    (np.float32, [1.0, 2.0], [1.0, 2.0 + 1e-6]),
    (np.float32, [1.0, 2.0], [1.0, 2.001]),
    (np.float64, [1.0], [1.0 + 1e-8]),
    (np.float64, [1.0], [1.0 + 1e-6]),
    (np.float32, [float("nan")], [float("nan")]),
    (np.int64, [1, 2], [1, 3]),
]


@pytest.mark.parametrize("dtype,a,b", CASES)
def test_assert_close_agrees_with_torch(dtype, a, b):
    def outcome(mod, fn):
        try:
            fn(mod.tensor(np.array(a, dtype=dtype)), mod.tensor(np.array(b, dtype=dtype)))
            return True
        except AssertionError:
            return False

    assert outcome(ember, et.assert_close) == outcome(torch, torch.testing.assert_close)


def test_assert_close_checks_dtype_and_shape():
    with pytest.raises(AssertionError, match="dtype"):
        et.assert_close(ember.ones(2), ember.ones(2, dtype=ember.float64))
    with pytest.raises(AssertionError, match="shape"):
        et.assert_close(ember.ones(2), ember.ones(3))
    et.assert_close({"a": [ember.ones(2)]}, {"a": [ember.ones(2)]})


def test_make_tensor_respects_bounds_and_layout():
    t = et.make_tensor(4, 6, dtype=ember.float32, low=-1, high=1, noncontiguous=True)
    assert t.shape == (4, 6) and not t.is_contiguous()
    assert float(t.min()) >= -1 and float(t.max()) < 1
    i = et.make_tensor((100,), dtype=ember.uint8)
    assert i.dtype == ember.uint8 and int(i.max()) < 10
