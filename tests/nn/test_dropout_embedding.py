"""Dropout layers by statistics; embeddings against PyTorch."""

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_compare import assert_close, check_module, em, randn, th, tnp


def test_dropout_statistics_and_scaling(device):
    x = ember.ones(200, 500).to(device)
    y = tnp(nn.Dropout(0.3)(x))
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    m = nn.Dropout(0.3).eval()
    assert m(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert float(nn.Dropout(1.0)(x).abs().sum()) == 0
    assert repr(nn.Dropout(0.3)) == repr(torch.nn.Dropout(0.3))


def test_dropout_gradient_uses_the_same_mask(device):
    x = ember.randn(50, 40).to(device).requires_grad_()
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(tnp(x.grad) != 0, tnp(y) != 0)


def test_dropout_is_reproducible_with_manual_seed():
    ember.manual_seed(3)
    a = F.dropout(ember.ones(100), 0.5)
    ember.manual_seed(3)
    b = F.dropout(ember.ones(100), 0.5)
    assert_close(a, b)


def test_dropout_inplace_and_errors():
    x = ember.ones(10, 10)
    assert F.dropout(x, 0.5, inplace=True) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


@pytest.mark.parametrize("cls,shape", [("Dropout1d", (40, 30, 7)),
                                       ("Dropout2d", (40, 30, 3, 4)),
                                       ("Dropout3d", (20, 30, 2, 3, 4))])
def test_channel_dropout_zeroes_whole_channels(device, cls, shape):
    y = tnp(getattr(nn, cls)(0.4)(ember.ones(*shape).to(device)))
    flat = y.reshape(shape[0], shape[1], -1)
    per_channel = flat.min(-1) == flat.max(-1)
    assert per_channel.all()
    assert abs((flat[..., 0] == 0).mean() - 0.4) < 0.05


def test_alpha_dropout_keeps_mean_and_variance(device):
    x = ember.randn(400, 500).to(device)
    y = tnp(nn.AlphaDropout(0.2)(x))
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    assert nn.AlphaDropout(0.2).eval()(x) is x
    y = tnp(nn.FeatureAlphaDropout(0.2)(ember.randn(200, 100, 4, 4).to(device)))
    assert abs(y.mean()) < 0.05 and abs(y.std() - 1) < 0.05


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 2}, {"padding_idx": -1},
                                {"scale_grad_by_freq": True}])
def test_embedding(device, kw):
    idx = np.array([[0, 2, 4, 2], [5, 2, 1, 0]], dtype=np.int64)
    e, t = nn.Embedding(6, 3, **kw), torch.nn.Embedding(6, 3, **kw)
    check_module(e, t, idx, device=device)
    assert repr(e) == repr(t)


def test_embedding_init_padding_row_and_max_norm(device):
    e = nn.Embedding(1000, 16, padding_idx=0)
    w = e.weight.detach().numpy()
    assert (w[0] == 0).all() and abs(w[1:].std() - 1) < 0.02
    t = torch.nn.Embedding(6, 3, max_norm=1.0)
    m = nn.Embedding(6, 3, max_norm=1.0)
    idx = np.array([0, 1, 1, 3], dtype=np.int64)
    check_module(m, t, idx, device=device)
    assert_close(m.weight, t.weight)  # rows renormalised in place identically


def test_embedding_from_pretrained(device):
    w = randn(4, 3)
    e = nn.Embedding.from_pretrained(em(w, device))
    assert not e.weight.requires_grad
    assert_close(e(em(np.array([3, 1]), device)), w[[3, 1]])
    e2 = nn.Embedding.from_pretrained(em(w, device), freeze=False, padding_idx=1)
    assert e2.weight.requires_grad and e2.padding_idx == 1


def test_embedding_errors():
    with pytest.raises(IndexError, match="index out of range"):
        nn.Embedding(3, 2)(ember.tensor([3]))
    with pytest.raises(RuntimeError, match="Long, Int"):
        nn.Embedding(3, 2)(ember.tensor([1.0]))


def test_embedding_double_backward():
    w = randn(5, 3, dtype=np.float64)
    idx = np.array([1, 1, 4])
    a, b = em(w, requires_grad=True), th(w, True)
    ga, = ember.autograd.grad((F.embedding(em(idx), a) ** 2).sum(), a, create_graph=True)
    gb, = torch.autograd.grad((TF.embedding(th(idx), b) ** 2).sum(), b, create_graph=True)
    (ga * ga).sum().backward()
    (gb * gb).sum().backward()
    assert_close(a.grad, b.grad, 1e-7, 1e-9)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag(device, mode):
    flat = np.array([1, 2, 4, 5, 4, 3, 2, 9], dtype=np.int64)
    offsets = np.array([0, 3, 3, 5], dtype=np.int64)  # bag 1 is empty
    e, t = nn.EmbeddingBag(10, 3, mode=mode), torch.nn.EmbeddingBag(10, 3, mode=mode)
    check_module(e, t, flat, offsets, device=device)
    check_module(e, t, flat.reshape(2, 4), device=device)
    assert repr(e) == repr(t)
    e2 = nn.EmbeddingBag(10, 3, mode=mode, include_last_offset=True, padding_idx=2)
    t2 = torch.nn.EmbeddingBag(10, 3, mode=mode, include_last_offset=True, padding_idx=2)
    check_module(e2, t2, flat, np.array([0, 3, 8], dtype=np.int64), device=device)


def test_embedding_bag_per_sample_weights(device):
    flat = np.array([1, 2, 4, 5, 4], dtype=np.int64)
    offsets = np.array([0, 2], dtype=np.int64)
    psw = randn(5)
    e, t = nn.EmbeddingBag(6, 3, mode="sum"), torch.nn.EmbeddingBag(6, 3, mode="sum")
    check_module(e, t, flat, offsets, psw, device=device)


def test_one_hot():
    x = np.array([[0, 2], [1, 3]])
    np.testing.assert_array_equal(tnp(F.one_hot(em(x))), TF.one_hot(th(x)).numpy())
    np.testing.assert_array_equal(tnp(F.one_hot(em(x), 6)), TF.one_hot(th(x), 6).numpy())
    assert F.one_hot(em(x)).dtype == ember.int64
    with pytest.raises(RuntimeError):
        F.one_hot(ember.tensor([-1, 2]))
