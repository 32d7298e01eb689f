"""Losses against PyTorch for every reduction: values and gradients of inputs."""

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_compare import assert_close, check_module, em, randn, th

REDUCTIONS = ["mean", "sum", "none"]


def _labels(shape, c, seed=0, ignore=None):
    t = np.random.default_rng(seed).integers(0, c, size=shape).astype(np.int64)
    if ignore is not None:
        t.reshape(-1)[::3] = ignore
    return t


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_class_indices(device, reduction, weighted, smoothing):
    w = np.abs(randn(5, seed=3)) + 0.1
    kw = {"reduction": reduction, "label_smoothing": smoothing, "ignore_index": 2}
    e = nn.CrossEntropyLoss(weight=em(w, device) if weighted else None, **kw)
    t = torch.nn.CrossEntropyLoss(weight=th(w) if weighted else None, **kw)
    check_module(e, t, randn(7, 5) * 3, _labels(7, 5, ignore=2), device=device, load=False)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_k_dim_and_unbatched(device, reduction):
    w = np.abs(randn(4, seed=3)) + 0.1
    e = nn.CrossEntropyLoss(weight=em(w, device), reduction=reduction, label_smoothing=0.1)
    t = torch.nn.CrossEntropyLoss(weight=th(w), reduction=reduction, label_smoothing=0.1)
    check_module(e, t, randn(2, 4, 3, 5), _labels((2, 3, 5), 4, ignore=-100), device=device,
                 load=False)
    e2, t2 = nn.CrossEntropyLoss(reduction=reduction), torch.nn.CrossEntropyLoss(
        reduction=reduction)
    check_module(e2, t2, randn(6), np.array(3), device=device, load=False)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets(device, reduction):
    p = np.random.default_rng(1).dirichlet(np.ones(5), size=(4,)).astype(np.float32)
    w = np.abs(randn(5, seed=3)) + 0.1
    e = nn.CrossEntropyLoss(weight=em(w, device), reduction=reduction, label_smoothing=0.3)
    t = torch.nn.CrossEntropyLoss(weight=th(w), reduction=reduction, label_smoothing=0.3)
    check_module(e, t, randn(4, 5), p, device=device, load=False)


def test_cross_entropy_all_ignored_is_nan_like_torch():
    x, tgt = randn(3, 4), np.full(3, -100, dtype=np.int64)
    a = F.cross_entropy(em(x), em(tgt))
    b = TF.cross_entropy(th(x), th(tgt))
    assert np.isnan(float(a)) and np.isnan(float(b))


def test_cross_entropy_errors():
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(ember.randn(2, 3), ember.tensor([0, 3]))
    with pytest.raises(ValueError, match="batch_size"):
        F.cross_entropy(ember.randn(2, 3), ember.tensor([0, 1, 2]))


def test_cross_entropy_double_backward():
    x, tgt = randn(4, 5, dtype=np.float64), _labels(4, 5)
    a, b = em(x, requires_grad=True), th(x, requires_grad=True)
    ga, = ember.autograd.grad(F.cross_entropy(a, em(tgt), label_smoothing=0.1), a,
                              create_graph=True)
    gb, = torch.autograd.grad(TF.cross_entropy(b, th(tgt), label_smoothing=0.1), b,
                              create_graph=True)
    assert_close(ga, gb, 1e-7, 1e-9)
    (ga * ga).sum().backward()
    (gb * gb).sum().backward()
    assert_close(a.grad, b.grad, 1e-7, 1e-9)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(device, reduction):
    w = np.abs(randn(5, seed=3)) + 0.1
    e = nn.NLLLoss(weight=em(w, device), reduction=reduction, ignore_index=1)
    t = torch.nn.NLLLoss(weight=th(w), reduction=reduction, ignore_index=1)
    check_module(e, t, randn(6, 5), _labels(6, 5, seed=2), device=device, load=False)
    check_module(nn.NLLLoss(reduction=reduction), torch.nn.NLLLoss(reduction=reduction),
                 randn(2, 5, 3), _labels((2, 3), 5), device=device, load=False)


def _pm1(shape, seed=0):
    return np.where(np.random.default_rng(seed).random(shape) > 0.5, 1.0, -1.0).astype(
        np.float32)


def _probs(shape, seed=0):
    return np.random.default_rng(seed).uniform(0.02, 0.98, shape).astype(np.float32)


SIMPLE = [
    ("MSELoss", {}, lambda: (randn(3, 4), randn(3, 4, seed=1))),
    ("L1Loss", {}, lambda: (randn(3, 4), randn(3, 4, seed=1))),
    ("SmoothL1Loss", {"beta": 0.5}, lambda: (randn(3, 4), randn(3, 4, seed=1))),
    ("HuberLoss", {"delta": 0.7}, lambda: (randn(3, 4), randn(3, 4, seed=1))),
    ("BCELoss", {}, lambda: (_probs((3, 4)), _probs((3, 4), 1))),
    ("BCEWithLogitsLoss", {}, lambda: (randn(3, 4) * 3, _probs((3, 4), 1))),
    ("KLDivLoss", {}, lambda: (np.log(_probs((3, 4))), _probs((3, 4), 1))),
    ("KLDivLoss", {"log_target": True}, lambda: (np.log(_probs((3, 4))),
                                                np.log(_probs((3, 4), 1)))),
    ("PoissonNLLLoss", {}, lambda: (randn(3, 4), np.abs(randn(3, 4, seed=1)) * 3)),
    ("PoissonNLLLoss", {"log_input": False, "full": True},
     lambda: (np.abs(randn(3, 4)) + 0.1, np.abs(randn(3, 4, seed=1)) * 3)),
    ("HingeEmbeddingLoss", {"margin": 0.5}, lambda: (randn(3, 4), _pm1((3, 4)))),
    ("SoftMarginLoss", {}, lambda: (randn(3, 4), _pm1((3, 4)))),
    ("MultiLabelSoftMarginLoss", {}, lambda: (randn(3, 4), (_pm1((3, 4)) > 0).astype(
        np.float32))),
    ("MultiMarginLoss", {}, lambda: (randn(5, 4), _labels(5, 4))),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5}, lambda: (randn(5, 4), _labels(5, 4))),
    ("MultiLabelMarginLoss", {}, lambda: (randn(3, 4), np.array(
        [[3, 0, -1, 1], [1, -1, 2, 2], [0, 1, 2, 3]], dtype=np.int64))),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kw,make", SIMPLE,
                         ids=[f"{n}{sorted(k.items())}" for n, k, _ in SIMPLE])
def test_pointwise_losses(device, name, kw, make, reduction):
    e = getattr(nn, name)(reduction=reduction, **kw)
    t = getattr(torch.nn, name)(reduction=reduction, **kw)
    target_grad = name in ("MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss",
                           "BCEWithLogitsLoss", "KLDivLoss", "PoissonNLLLoss")
    check_module(e, t, *make(), device=device, load=False,
                 no_grad_inputs=() if target_grad else (1,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_bce_and_pos_weight(device, reduction):
    w, pw = np.abs(randn(4, seed=5)), np.abs(randn(4, seed=6)) + 0.5
    check_module(nn.BCEWithLogitsLoss(em(w, device), reduction=reduction, pos_weight=em(
        pw, device)), torch.nn.BCEWithLogitsLoss(th(w), reduction=reduction,
                                                pos_weight=th(pw)),
        randn(3, 4) * 2, _probs((3, 4), 1), device=device, load=False)
    check_module(nn.BCELoss(em(w, device), reduction=reduction),
                 torch.nn.BCELoss(th(w), reduction=reduction), _probs((3, 4)),
                 _probs((3, 4), 1), device=device, load=False)


def test_kl_div_batchmean(device):
    x, y = np.log(_probs((3, 4))), _probs((3, 4), 1)
    check_module(nn.KLDivLoss(reduction="batchmean"), torch.nn.KLDivLoss(
        reduction="batchmean"), x, y, device=device, load=False)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pair_losses(device, reduction):
    a, b = randn(5, 6), randn(5, 6, seed=1)
    check_module(nn.CosineEmbeddingLoss(0.2, reduction=reduction),
                 torch.nn.CosineEmbeddingLoss(0.2, reduction=reduction), a, b, _pm1(5),
                 device=device, load=False)
    check_module(nn.MarginRankingLoss(0.1, reduction=reduction),
                 torch.nn.MarginRankingLoss(0.1, reduction=reduction), randn(5), randn(
                     5, seed=1), _pm1(5), device=device, load=False)
    for kw in ({}, {"swap": True, "p": 1.0}):
        check_module(nn.TripletMarginLoss(reduction=reduction, **kw),
                     torch.nn.TripletMarginLoss(reduction=reduction, **kw), a, b,
                     randn(5, 6, seed=2), device=device, load=False)
    check_module(nn.TripletMarginWithDistanceLoss(reduction=reduction),
                 torch.nn.TripletMarginWithDistanceLoss(reduction=reduction), a, b,
                 randn(5, 6, seed=2), device=device, load=False)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gaussian_nll(device, reduction):
    var = np.abs(randn(4, 3, seed=2)) + 0.1
    check_module(nn.GaussianNLLLoss(full=True, reduction=reduction),
                 torch.nn.GaussianNLLLoss(full=True, reduction=reduction), randn(4, 3),
                 randn(4, 3, seed=1), var, device=device, load=False)
    check_module(nn.GaussianNLLLoss(reduction=reduction),
                 torch.nn.GaussianNLLLoss(reduction=reduction), randn(4, 3),
                 randn(4, 3, seed=1), var[:, :1], device=device, load=False)


def test_weighted_mse_l1_and_legacy_reduction(device):
    x, y, w = randn(3, 4), randn(3, 4, seed=1), np.abs(randn(3, 4, seed=2))
    for name in ("mse_loss", "l1_loss"):
        a = getattr(F, name)(em(x, device), em(y, device), weight=em(w, device))
        b = getattr(TF, name)(th(x), th(y), weight=th(w))
        assert_close(a, b)
    assert F.mse_loss(em(x), em(y), size_average=False).shape == ()
    assert_close(F.mse_loss(em(x), em(y), reduce=False), TF.mse_loss(th(x), th(y),
                                                                      reduction="none"))


def test_loss_weight_is_a_buffer():
    m = nn.CrossEntropyLoss(weight=ember.ones(3))
    assert list(m.state_dict()) == list(torch.nn.CrossEntropyLoss(
        weight=torch.ones(3)).state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss(pos_weight=ember.ones(2)).state_dict()) == ["pos_weight"]
