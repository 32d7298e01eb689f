"""Gradients of the unary functions at complex points follow PyTorch's convention (the
incoming gradient times the conjugate of the derivative): compared with torch on several
points, for a real loss mixing the real and imaginary parts; real inputs keep their values
and second derivatives."""

import ember
import numpy as np
import pytest
import torch

NAMES = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin",
         "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid", "asinh",
         "acosh", "atanh", "reciprocal", "square"]
Z = np.array([0.5 + 0.5j, -0.3 + 0.2j, 2.0 - 1.0j, 0.1 - 0.9j])


@pytest.mark.parametrize("name", NAMES)
def test_complex_gradient_matches_torch(name):
    grads = []
    for fw in (ember, torch):
        z = fw.tensor(Z, requires_grad=True)
        y = getattr(fw, name)(z)
        (y.real.sum() + 2 * y.imag.sum()).backward()
        grads.append(z.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "acosh", "atanh", "tan", "rsqrt"])
def test_real_second_derivative_matches_torch(name):
    x0 = np.array([1.5, 2.5]) if name == "acosh" else np.array([0.3, 0.6])
    outs = []
    for fw in (ember, torch):
        x = fw.tensor(x0, requires_grad=True)
        (g,) = fw.autograd.grad(getattr(fw, name)(x).sum(), x, create_graph=True)
        (gg,) = fw.autograd.grad(g.sum(), x)
        outs.append((g.detach().numpy(), gg.numpy()))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-10)
