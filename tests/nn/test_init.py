"""``nn.init`` by statistics (mean, std, bounds) and by exact values where deterministic;
default initialisation of the layers as PyTorch's."""

import math

import ember
import ember.nn as nn
import numpy as np
import pytest
import torch
from ember.nn import init
from nn_compare import tnp


def _big(*shape):
    return ember.empty(*shape)


def test_calculate_gain_matches_torch():
    for nl, p in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                  ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]:
        assert init.calculate_gain(nl, p) == pytest.approx(torch.nn.init.calculate_gain(nl, p))
    with pytest.raises(ValueError):
        init.calculate_gain("nope")


def test_uniform_normal_constant():
    t = init.uniform_(_big(200, 300), -2.0, 3.0)
    a = tnp(t)
    assert a.min() >= -2 and a.max() <= 3 and abs(a.mean() - 0.5) < 0.02
    a = tnp(init.normal_(_big(200, 300), 1.0, 2.0))
    assert abs(a.mean() - 1) < 0.02 and abs(a.std() - 2) < 0.02
    assert (tnp(init.constant_(_big(3, 4), 0.5)) == 0.5).all()
    assert (tnp(init.ones_(_big(3))) == 1).all() and (tnp(init.zeros_(_big(3))) == 0).all()


def test_init_records_no_graph_and_returns_tensor():
    p = nn.Parameter(ember.empty(10, 10))
    out = init.normal_(p)
    assert out is p and p.grad_fn is None and p.requires_grad


def test_trunc_normal():
    a = tnp(init.trunc_normal_(_big(300, 300), mean=0.5, std=1.0, a=-1.0, b=1.5))
    assert a.min() >= -1.0 and a.max() <= 1.5
    ref = torch.nn.init.trunc_normal_(torch.empty(300, 300), 0.5, 1.0, -1.0, 1.5).numpy()
    assert abs(a.mean() - ref.mean()) < 0.01 and abs(a.std() - ref.std()) < 0.01


def test_xavier_and_kaiming_statistics():
    fan_in, fan_out = 400, 300
    a = tnp(init.xavier_uniform_(_big(fan_out, fan_in), gain=2.0))
    bound = 2.0 * math.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(a).max() <= bound and abs(a.std() - bound / math.sqrt(3)) < 0.02 * bound
    a = tnp(init.xavier_normal_(_big(fan_out, fan_in)))
    assert abs(a.std() - math.sqrt(2.0 / (fan_in + fan_out))) < 0.002
    a = tnp(init.kaiming_uniform_(_big(fan_out, fan_in), a=math.sqrt(5)))
    bound = 1 / math.sqrt(fan_in)
    assert np.abs(a).max() <= bound and np.abs(a).max() > 0.99 * bound
    a = tnp(init.kaiming_normal_(_big(fan_out, 40, 3, 3), mode="fan_out",
                                 nonlinearity="relu"))
    assert abs(a.std() - math.sqrt(2.0 / (fan_out * 9))) < 0.002
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(_big(5))


def test_eye_dirac_orthogonal_sparse():
    np.testing.assert_array_equal(tnp(init.eye_(_big(3, 5))), np.eye(3, 5))
    d = _big(6, 3, 3, 3)
    np.testing.assert_array_equal(tnp(init.dirac_(d, groups=2)),
                                  torch.nn.init.dirac_(torch.empty(6, 3, 3, 3), 2).numpy())
    x = ember.randn(2, 3, 5, 5)
    y = nn.functional.conv2d(x, init.dirac_(_big(3, 3, 3, 3)), padding=1)
    np.testing.assert_allclose(tnp(y), tnp(x), atol=1e-6)
    q = tnp(init.orthogonal_(_big(4, 6), gain=2.0))
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(4), atol=1e-5)
    q = tnp(init.orthogonal_(_big(6, 2, 2)).reshape(6, 4))
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)
    s = tnp(init.sparse_(_big(10, 50), sparsity=0.3, std=0.5))
    assert ((s == 0).sum(0) == 3).all()


def test_generator_makes_init_reproducible():
    g = ember.Generator().manual_seed(7)
    a = tnp(init.normal_(_big(5, 5), generator=g)).copy()
    g.manual_seed(7)
    b = tnp(init.normal_(_big(5, 5), generator=g))
    np.testing.assert_array_equal(a, b)
    ember.manual_seed(1)
    c = tnp(nn.Linear(5, 5).weight).copy()
    ember.manual_seed(1)
    np.testing.assert_array_equal(c, tnp(nn.Linear(5, 5).weight))


@pytest.mark.parametrize("make,fan_in", [(lambda m: m.Linear(300, 200), 300),
                                         (lambda m: m.Conv1d(30, 200, 10), 300),
                                         (lambda m: m.ConvTranspose2d(50, 60, 3), 60 * 9),
                                         (lambda m: m.Bilinear(100, 20, 200), 100)],
                         ids=["linear", "conv1d", "convT", "bilinear"])
def test_layer_default_init_is_uniform_with_torch_bound(make, fan_in):
    """Weights and biases are U(-k, k) with k = 1/sqrt(fan_in), as PyTorch's."""
    e, t = make(nn), make(torch.nn)
    bound = 1 / math.sqrt(fan_in)
    for (name, p), (_, q) in zip(e.named_parameters(), t.named_parameters()):
        a, b = tnp(p), q.detach().numpy()
        assert a.shape == b.shape and np.abs(a).max() <= bound, name
        assert np.abs(b).max() <= bound
        tol = 0.15 if a.size < 1000 else 0.03
        assert abs(a.std() - bound / math.sqrt(3)) < tol * bound, name


def test_norm_and_embedding_default_init():
    for m in (nn.BatchNorm2d(4), nn.LayerNorm(4), nn.GroupNorm(2, 4)):
        np.testing.assert_array_equal(tnp(m.weight), 1)
        np.testing.assert_array_equal(tnp(m.bias), 0)
    bn = nn.BatchNorm2d(4)
    np.testing.assert_array_equal(tnp(bn.running_var), 1)
    np.testing.assert_array_equal(tnp(nn.PReLU(3).weight), 0.25)
    w = tnp(nn.Embedding(2000, 10).weight)
    assert abs(w.std() - 1) < 0.02 and abs(w.mean()) < 0.02
