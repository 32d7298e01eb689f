"""Linear layers and activations against PyTorch: outputs, input and parameter gradients,
``inplace`` flags and second derivatives."""

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest
import torch
from nn_compare import assert_close, check_fn, check_module, em, randn, th


@pytest.mark.parametrize("shape", [(5, 7), (2, 3, 7), (7,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(device, shape, bias):
    check_module(nn.Linear(7, 3, bias=bias), torch.nn.Linear(7, 3, bias=bias), randn(*shape),
                 device=device)


def test_linear_errors():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied "
                                           r"\(5x4 and 7x3\)"):
        nn.Linear(7, 3)(ember.randn(5, 4))
    with pytest.raises(RuntimeError, match="same dtype"):
        nn.Linear(7, 3)(ember.randn(5, 7, dtype=ember.float64))


def test_bilinear_identity_flatten(device):
    check_module(nn.Bilinear(3, 4, 5), torch.nn.Bilinear(3, 4, 5), randn(6, 3),
                 randn(6, 4, seed=1), device=device)
    check_module(nn.Identity(3, k=1), torch.nn.Identity(3, k=1), randn(2, 3), device=device)
    check_module(nn.Flatten(), torch.nn.Flatten(), randn(2, 3, 4, 5), device=device)
    check_module(nn.Flatten(0, 2), torch.nn.Flatten(0, 2), randn(2, 3, 4, 5), device=device)
    check_module(nn.Unflatten(1, (3, 4)), torch.nn.Unflatten(1, (3, 4)), randn(2, 12),
                 device=device)


ACTIVATIONS = [
    ("ReLU", {}), ("ReLU6", {}), ("LeakyReLU", {"negative_slope": 0.2}), ("ELU", {}),
    ("ELU", {"alpha": 0.5}), ("SELU", {}), ("CELU", {"alpha": 1.5}), ("GELU", {}),
    ("GELU", {"approximate": "tanh"}), ("SiLU", {}), ("Mish", {}), ("Sigmoid", {}),
    ("Tanh", {}), ("Hardtanh", {"min_val": -0.5, "max_val": 2.0}), ("Hardsigmoid", {}),
    ("Hardswish", {}), ("Softplus", {}), ("Softplus", {"beta": 2.0, "threshold": 1.0}),
    ("Softsign", {}), ("Softmax", {"dim": 1}), ("LogSoftmax", {"dim": -1}),
    ("Softmin", {"dim": 0}), ("GLU", {"dim": 1}), ("Threshold", {"threshold": 0.1,
                                                                 "value": -2.0}),
    ("LogSigmoid", {}), ("Tanhshrink", {}), ("Softshrink", {"lambd": 0.3}),
    ("Hardshrink", {"lambd": 0.3}), ("Softmax2d", {}),
]


@pytest.mark.parametrize("name,kw", ACTIVATIONS, ids=[f"{n}{sorted(k.items())}" for n, k in
                                                      ACTIVATIONS])
def test_activation_module(device, name, kw):
    x = randn(3, 4, 5) * 3
    e, t = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
    check_module(e, t, x, device=device)
    assert repr(e) == repr(t)


def test_prelu(device):
    check_module(nn.PReLU(), torch.nn.PReLU(), randn(4, 3, 5), device=device)
    check_module(nn.PReLU(3, init=0.1), torch.nn.PReLU(3, init=0.1), randn(4, 3, 5),
                 device=device)
    check_module(nn.PReLU(3), torch.nn.PReLU(3), randn(4, 3), device=device)


def test_rrelu_eval_is_deterministic_and_train_is_random(device):
    x = randn(1000) * 3
    check_module(nn.RReLU(), torch.nn.RReLU(), x, device=device, train=False)
    y = nn.RReLU(0.1, 0.3)(em(x, device))
    neg = x < 0
    slopes = np.asarray(y.detach().cpu().numpy())[neg] / x[neg]
    assert slopes.min() >= 0.1 - 1e-6 and slopes.max() <= 0.3 + 1e-6 and slopes.std() > 0.03


@pytest.mark.parametrize("name", ["relu", "relu6", "elu", "selu", "celu", "leaky_relu",
                                  "hardtanh", "hardsigmoid", "hardswish", "silu", "mish"])
def test_inplace_flag(device, name):
    x = randn(4, 5) * 3
    a = em(x, device)
    fn = getattr(F, name)
    out = fn(a, inplace=True)
    assert out is a
    assert_close(a, getattr(torch.nn.functional, name)(th(x)))


def test_inplace_relu_in_graph_gradients(device):
    x = randn(4, 5)
    a, b = em(x, device, True), th(x, True)
    y = (a * 2)
    F.relu(y, inplace=True).sum().backward()
    yt = b * 2
    torch.nn.functional.relu(yt, inplace=True).sum().backward()
    assert_close(a.grad, b.grad)


@pytest.mark.parametrize("name,kw", [("gelu", {}), ("gelu", {"approximate": "tanh"}),
                                     ("silu", {}), ("mish", {}), ("softplus", {}),
                                     ("elu", {}), ("logsigmoid", {}), ("selu", {}),
                                     ("softsign", {}), ("hardswish", {})])
def test_activation_double_backward(name, kw):
    x = randn(3, 4, dtype=np.float64) * 2
    a, b = em(x, requires_grad=True), th(x, requires_grad=True)
    ga, = ember.autograd.grad(getattr(F, name)(a, **kw).sum(), a, create_graph=True)
    gb, = torch.autograd.grad(getattr(torch.nn.functional, name)(b, **kw).sum(), b,
                              create_graph=True)
    assert_close(ga, gb, 1e-7, 1e-9)
    (ga * ga).sum().backward()
    (gb * gb).sum().backward()
    assert_close(a.grad, b.grad, 1e-7, 1e-9)


def test_functional_forms(device):
    x = randn(3, 6)
    check_fn(lambda t: F.glu(t, -1), lambda t: torch.nn.functional.glu(t, -1), x, device=device)
    check_fn(lambda t: F.softmax(t, dim=0), lambda t: torch.softmax(t, 0), x, device=device)
    check_fn(lambda t: F.log_softmax(t, 1, dtype=ember.float64),
             lambda t: torch.log_softmax(t, 1, dtype=torch.float64), x, device=device)
    check_fn(lambda t: F.threshold(t, 0.5, 9.0), lambda t: torch.nn.functional.threshold(
        t, 0.5, 9.0), x, device=device)


def test_gumbel_softmax_hard_is_one_hot():
    logits = ember.randn(20, 5, requires_grad=True)
    y = F.gumbel_softmax(logits, tau=0.5, hard=True)
    arr = y.detach().numpy()
    assert np.allclose(arr.sum(1), 1) and set(np.unique(arr)) <= {0.0, 1.0}
    y.sum().backward()
    assert logits.grad is not None


def test_activation_rejects_integer_input():
    with pytest.raises(RuntimeError):
        F.gelu(ember.tensor([1, 2]))
