"""ember.special's Bessel/Airy functions and orthogonal polynomials against torch.special
on the same inputs: values (edge cases included), dtypes, scalar/tensor ``n``, no grad."""

import ember
import numpy as np
import pytest
import torch

UNARY = ["airy_ai", "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1",
         "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
         "scaled_modified_bessel_k1", "spherical_bessel_j0"]
POLY = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
        "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
        "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
        "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
        "laguerre_polynomial_l", "legendre_polynomial_p"]

X = np.array([-30.0, -5.5, -2.0, -1.0, -0.7, -0.3, -1e-3, 0.0, 1e-3, 0.2, 0.49, 0.5, 0.51,
              0.9, 1.0, 2.5, 7.0, 30.0, 120.0, np.inf, -np.inf, np.nan])


def _close(a, b, rtol=1e-7, atol=1e-12):
    a = np.asarray(a.numpy()) if isinstance(a, ember.Tensor) else a
    b = b.numpy()
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary(name, dtype):
    x = X.astype(dtype)
    a = getattr(ember.special, name)(ember.tensor(x))
    b = getattr(torch.special, name)(torch.tensor(x))
    # torch evaluates Cephes approximations in the input dtype: absolute error near roots
    _close(a, b, rtol=1e-5 if dtype == "float32" else 1e-8,
           atol=2e-6 if dtype == "float32" else 5e-8)


@pytest.mark.parametrize("name", UNARY)
def test_unary_int_and_no_grad(name):
    a = getattr(ember.special, name)(ember.tensor([1, 2, 3]))
    b = getattr(torch.special, name)(torch.tensor([1, 2, 3]))
    _close(a, b, rtol=1e-5)
    x = ember.tensor([0.5, 1.5], requires_grad=True)
    y = getattr(ember.special, name)(x)
    assert not y.requires_grad and y.grad_fn is None
    out = ember.empty(2)
    getattr(ember.special, name)(x.detach(), out=out)
    _close(out, getattr(torch.special, name)(torch.tensor([0.5, 1.5])), rtol=1e-5)


PX = np.concatenate([X[:-1], np.linspace(-1.2, 1.2, 13), [0.25, 0.75, -0.999]])
# (NaN x is left out: torch gives inf at n == 2 for some of them)
NS = [-3, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 25]


@pytest.mark.parametrize("name", POLY)
def test_polynomial_scalar_n(name):
    x = PX.astype(np.float64)
    for n in NS:
        a = getattr(ember.special, name)(ember.tensor(x), n)
        b = getattr(torch.special, name)(torch.tensor(x), n)
        _close(a, b, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", POLY)
def test_polynomial_tensor_n(name):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.5, 1.5, (4, 6))
    n = rng.integers(-2, 30, (4, 6)).astype(np.float64)
    n[0, 0] = 2.7  # truncated toward zero, as torch
    n[0, 1] = -0.5
    a = getattr(ember.special, name)(ember.tensor(x), ember.tensor(n))
    b = getattr(torch.special, name)(torch.tensor(x), torch.tensor(n))
    _close(a, b, rtol=1e-8, atol=1e-9)
    # broadcasting, integer n tensor, float32, scalar x
    xe = ember.tensor(x[:, :1].astype(np.float32))
    ne = ember.tensor(np.arange(6))
    a = getattr(ember.special, name)(xe, ne)
    b = getattr(torch.special, name)(torch.tensor(x[:, :1].astype(np.float32)),
                                     torch.arange(6))
    _close(a, b, rtol=1e-5, atol=1e-5)
    a = getattr(ember.special, name)(0.3, ember.tensor([2, 3, 11]))
    b = getattr(torch.special, name)(0.3, torch.tensor([2, 3, 11]))
    _close(a, b, rtol=1e-5, atol=1e-6)
    a = getattr(ember.special, name)(ember.tensor([1, 2]), 3)
    b = getattr(torch.special, name)(torch.tensor([1, 2]), 3)
    _close(a, b, rtol=1e-6)


def test_polynomial_no_grad():
    x = ember.tensor([0.2, 0.4], requires_grad=True)
    y = ember.special.chebyshev_polynomial_t(x, 3)
    assert not y.requires_grad
    assert ember.special.hermite_polynomial_h.__name__ == "hermite_polynomial_h"
