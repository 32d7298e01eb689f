"""``ember.signal.windows`` against ``torch.signal.windows`` (torch 2.13): every window,
symmetric and periodic, float32 and float64, lengths 0..9, and torch's errors."""

import ember
import numpy as np
import pytest
import torch
from torch_compare import to_numpy

CASES = {
    "bartlett": {}, "blackman": {}, "cosine": {}, "hamming": {}, "hann": {}, "nuttall": {},
    "exponential": {"tau": 1.7}, "gaussian": {"std": 0.8}, "kaiser": {"beta": 5.0},
    "general_cosine": {"a": [0.5, 0.3, 0.2]}, "general_hamming": {"alpha": 0.6},
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("sym", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_window_matches_torch(name, sym, dtype):
    tol = 2e-6 if dtype == "float32" else 1e-13
    for M in range(10):
        ours = getattr(ember.signal.windows, name)(M, sym=sym, dtype=getattr(ember, dtype),
                                                   **CASES[name])
        theirs = getattr(torch.signal.windows, name)(M, sym=sym, dtype=getattr(torch, dtype),
                                                     **CASES[name])
        assert ours.dtype == getattr(ember, dtype) and tuple(ours.shape) == (M,)
        np.testing.assert_allclose(to_numpy(ours), theirs.numpy(), rtol=tol, atol=tol)


def test_exponential_center_on_a_periodic_window():
    ours = ember.signal.windows.exponential(5, center=1.0, sym=False)
    theirs = torch.signal.windows.exponential(5, center=1.0, sym=False)
    np.testing.assert_allclose(to_numpy(ours), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("call,error,match", [
    (lambda w: w.hann(-1), ValueError, "requires non-negative window length, got M=-1"),
    (lambda w: w.exponential(5, center=1.0), ValueError, "Center must be None"),
    (lambda w: w.gaussian(3, std=0), ValueError, "Standard deviation must be positive"),
    (lambda w: w.kaiser(3, beta=-1), ValueError, "beta must be non-negative"),
    (lambda w: w.exponential(3, tau=0), ValueError, "Tau must be positive"),
    (lambda w: w.general_cosine(3, a=1.0), TypeError, "Coefficients must be a list/tuple"),
])
def test_errors_like_torch(call, error, match):
    for module in (torch.signal.windows, ember.signal.windows):
        with pytest.raises(error, match=match):
            call(module)


def test_integer_dtype_is_refused_and_default_dtype_used():
    with pytest.raises(ValueError, match="expects float32 or float64 dtypes"):
        ember.signal.windows.hann(3, dtype=ember.int64)
    assert ember.signal.windows.hann(3).dtype == ember.get_default_dtype()
    assert ember.signal.windows.hann(4, requires_grad=True).requires_grad
