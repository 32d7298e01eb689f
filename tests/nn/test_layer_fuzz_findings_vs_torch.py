"""Discrepancies against PyTorch found by differential fuzzing of nn layers (losses,
normalization, pooling, padding, resampling), each checked against real torch."""

import ember
import numpy as np
import pytest
import torch
from nn_compare import assert_close

F_E = ember.nn.functional
F_T = torch.nn.functional


def _pair(a, requires_grad=False):
    e = ember.from_numpy(np.array(a, copy=True))
    t = torch.tensor(np.array(a, copy=True))
    if requires_grad:
        e.requires_grad_()
        t.requires_grad_()
    return e, t


def _same_error(name, *arrays, **kwargs):
    """``F.<name>`` on copies of ``arrays`` (other arguments as they are) raises the same
    error type in both."""
    def conv(f):
        return [f(np.array(a)) if isinstance(a, np.ndarray) else a for a in arrays]

    _raises_like_torch(lambda: getattr(F_T, name)(*conv(torch.tensor), **kwargs),
                       lambda: getattr(F_E, name)(*conv(ember.from_numpy), **kwargs))


def _raises_like_torch(fn_t, fn_e):
    with pytest.raises(Exception) as te:
        fn_t()
    with pytest.raises(type(te.value)):
        fn_e()


def test_multilabel_margin_loss_repeated_targets():
    x = np.random.default_rng(0).standard_normal((3, 4))
    y = np.array([[3, 3, -1, 1], [1, 2, 1, 0], [0, 0, 0, 0]])
    ex, tx = _pair(x, True)
    for red in ("none", "sum"):
        el = F_E.multilabel_margin_loss(ex, ember.from_numpy(y), reduction=red)
        tl = F_T.multilabel_margin_loss(tx, torch.tensor(y), reduction=red)
        assert_close(el, tl, 1e-10, 1e-12)
    el.backward()
    tl.backward()
    assert_close(ex.grad, tx.grad, 1e-10, 1e-12)


@pytest.mark.parametrize("name", ["soft_margin_loss", "binary_cross_entropy_with_logits"])
def test_zero_dim_losses_through_sigmoid_backward(name):
    ex, tx = _pair(np.array(0.3), True)
    ey, ty = _pair(np.array(1.0))
    el, tl = getattr(F_E, name)(ex, ey), getattr(F_T, name)(tx, ty)
    el.backward()
    tl.backward()
    assert_close(el, tl, 1e-10, 1e-12)
    assert_close(ex.grad, tx.grad, 1e-10, 1e-12)
    assert_close(ember.sigmoid(ex.detach()), torch.sigmoid(tx.detach()), 1e-10, 1e-12)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("fn,ls", [("cross_entropy", 0.0), ("cross_entropy", 0.1),
                                   ("nll_loss", None)])
def test_every_target_ignored_gives_zero_gradient(fn, ls, create_graph):
    x = np.random.default_rng(1).standard_normal((2, 3, 2))
    tgt = np.array([[0, 0], [0, 2]])
    kw = {"ignore_index": 0} if ls is None else {"ignore_index": 0, "label_smoothing": ls}
    for target in (np.zeros_like(tgt), tgt):  # all ignored (nan loss), and some ignored
        ex, tx = _pair(x, True)
        el = getattr(F_E, fn)(ex, ember.from_numpy(target), **kw)
        tl = getattr(F_T, fn)(tx, torch.tensor(target), **kw)
        el.backward(create_graph=create_graph)
        tl.backward()
        assert_close(el, tl, 1e-10, 1e-12)
        assert_close(ex.grad, tx.grad, 1e-10, 1e-12)


def _log_probs(t, n, c, seed=0):
    z = np.random.default_rng(seed).standard_normal((t, n, c))
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


@pytest.mark.parametrize("targets", [np.zeros((2, 0), np.int64), np.array([[2], [3]]),
                                     np.zeros((0,), np.int64)])
def test_ctc_loss_all_targets_empty(targets):
    lp = _log_probs(4, 2, 5)
    il, tl = np.array([4, 3]), np.array([0, 0])
    ex, tx = _pair(lp, True)
    el = F_E.ctc_loss(ex, ember.from_numpy(targets), ember.from_numpy(il),
                      ember.from_numpy(tl), blank=1, reduction="none")
    tl_ = F_T.ctc_loss(tx, torch.tensor(targets), torch.tensor(il), torch.tensor(tl),
                       blank=1, reduction="none")
    assert_close(el, tl_, 1e-10, 1e-12)
    el.sum().backward()
    tl_.sum().backward()
    assert_close(ex.grad, tx.grad, 1e-9, 1e-12)


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_infinite_loss_gradient(zero_infinity):
    # sample 1 cannot emit its 3 labels in 2 steps: PyTorch's gradient is NaN for
    # t < input_length in every class, 0 after (or all 0 with zero_infinity)
    lp = _log_probs(4, 2, 3)
    tg, il, tl = np.array([[1, 2, 1], [2, 2, 2]]), np.array([4, 2]), np.array([2, 3])
    ex, tx = _pair(lp, True)
    args = [ember.from_numpy(a) for a in (tg, il, tl)]
    el = F_E.ctc_loss(ex, *args, reduction="mean", zero_infinity=zero_infinity)
    tl_ = F_T.ctc_loss(tx, *[torch.tensor(a) for a in (tg, il, tl)], reduction="mean",
                       zero_infinity=zero_infinity)
    assert_close(el, tl_, 1e-10, 1e-12)
    el.backward()
    tl_.backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), 1e-9, 1e-12)


def test_group_norm_one_value_per_group_raises():
    _raises_like_torch(lambda: F_T.group_norm(torch.randn(1, 3), 3),
                       lambda: F_E.group_norm(ember.randn(1, 3), 3))
    _raises_like_torch(lambda: F_T.group_norm(torch.randn(1, 2, 1), 2),
                       lambda: F_E.group_norm(ember.randn(1, 2, 1), 2))
    x = np.random.default_rng(0).standard_normal((1, 4, 1))
    ex, tx = _pair(x)
    assert_close(F_E.group_norm(ex, 2), F_T.group_norm(tx, 2), 1e-10, 1e-12)


def test_fractional_max_pool3d_needs_slack_and_empty_output():
    x = np.random.default_rng(0).standard_normal((1, 1, 4, 4, 4))
    s = np.full((1, 1, 3), 0.5)
    _raises_like_torch(
        lambda: F_T.fractional_max_pool3d(torch.tensor(x), 2, output_size=3,
                                          _random_samples=torch.tensor(s)),
        lambda: F_E.fractional_max_pool3d(ember.from_numpy(x), 2, output_size=3,
                                          _random_samples=ember.from_numpy(s)))
    # an output ratio that rounds a dim down to 0: an empty result
    x = np.random.default_rng(0).standard_normal((2, 3, 1, 5))
    s = np.full((2, 3, 2), 0.3)
    ex, tx = _pair(x, True)
    eo, ei = F_E.fractional_max_pool2d(ex, (1, 2), output_ratio=(0.7, 0.7), return_indices=True,
                                       _random_samples=ember.from_numpy(s))
    to, ti = F_T.fractional_max_pool2d(tx, (1, 2), output_ratio=(0.7, 0.7), return_indices=True,
                                       _random_samples=torch.tensor(s))
    assert tuple(eo.shape) == tuple(to.shape) == tuple(ei.shape)


def test_avg_pool3d_input_smaller_than_kernel_raises():
    # (checked before padding: the padded input would hold a window)
    x = np.random.default_rng(0).standard_normal((1, 1, 5, 1, 1))
    _same_error("avg_pool3d", x, 2, padding=1, ceil_mode=True)
    _same_error("lp_pool3d", x, 2.0, 2, ceil_mode=True)


def test_max_unpool_to_empty_output():
    x = np.random.default_rng(0).standard_normal((3, 1))
    i = np.zeros((3, 1), np.int64)
    eo = F_E.max_unpool1d(ember.from_numpy(x), ember.from_numpy(i), 4, 2, 2)
    to = F_T.max_unpool1d(torch.tensor(x), torch.tensor(i), 4, 2, 2)
    assert tuple(eo.shape) == tuple(to.shape)


@pytest.mark.parametrize("pads", [(1, -1), (-1, 1), (2, -1), (-2, 1), (0, -2), (-1, -1),
                                  (3, -2), (-2, -3), (2, 2)])
def test_circular_pad_negative_crops_first(pads):
    x = np.random.default_rng(0).standard_normal((1, 2, 5))
    ex, tx = _pair(x, True)
    eo, to = F_E.pad(ex, pads, mode="circular"), F_T.pad(tx, pads, mode="circular")
    assert_close(eo, to, 1e-12, 0)
    g = np.random.default_rng(1).standard_normal(tuple(to.shape))
    eo.backward(ember.from_numpy(g))
    to.backward(torch.tensor(g))
    assert_close(ex.grad, tx.grad, 1e-12, 1e-12)


def test_pad_negative_output_sizes_raise():
    x = np.ones((1, 1, 5))
    for mode in ("reflect", "replicate", "circular"):
        pads = (-3, -3) if mode == "circular" else (-2, -3)
        _same_error("pad", x, pads, mode=mode)
    for pads in ((-1, -5), (-6, 2), (2, -6)):  # cropping more than the input holds
        _same_error("pad", x, pads)


def test_interpolate_and_unfold_empty_outputs_raise():
    x = np.ones((1, 2, 1))
    _raises_like_torch(lambda: F_T.interpolate(torch.tensor(x), scale_factor=0.5),
                       lambda: F_E.interpolate(ember.from_numpy(x), scale_factor=0.5))
    _raises_like_torch(
        lambda: F_T.interpolate(torch.tensor(x), scale_factor=0.5,
                                recompute_scale_factor=True),
        lambda: F_E.interpolate(ember.from_numpy(x), scale_factor=0.5,
                                recompute_scale_factor=True))
    x = np.ones((2, 3, 4, 4))
    _raises_like_torch(lambda: F_T.unfold(torch.tensor(x), (1, 3), dilation=(1, 2)),
                       lambda: F_E.unfold(ember.from_numpy(x), (1, 3), dilation=(1, 2)))


@pytest.mark.parametrize("kind", ["avg", "max"])
def test_adaptive_pool_output_sizes(kind):
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 5))
    tf = getattr(F_T, f"adaptive_{kind}_pool2d")
    ef = getattr(F_E, f"adaptive_{kind}_pool2d")
    _raises_like_torch(lambda: tf(torch.tensor(x), (2, 3, 4)),
                       lambda: ef(ember.from_numpy(x), (2, 3, 4)))
    for size in (0, (0, 2)):
        assert tuple(ef(ember.from_numpy(x), size).shape) == \
            tuple(tf(torch.tensor(x), size).shape)


def test_rrelu_bounds_and_cosine_embedding_target_dims():
    _raises_like_torch(lambda: F_T.rrelu(torch.randn(3), 0.5, 0.1, training=True),
                       lambda: F_E.rrelu(ember.randn(3), 0.5, 0.1, training=True))
    _raises_like_torch(lambda: F_T.rrelu(torch.randn(3), 0.5, 0.1),
                       lambda: F_E.rrelu(ember.randn(3), 0.5, 0.1))
    for a, t in (((3, 2), (3, 1)), ((3, 2), ()), ((2,), (1,))):
        _same_error("cosine_embedding_loss", np.ones(a), np.ones(a), np.ones(t))
