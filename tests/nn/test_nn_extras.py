"""CTCLoss, LSTM projections, antialiased interpolation, bicubic grid_sample, fractional
max pooling and AdaptiveLogSoftmaxWithLoss against PyTorch: values and gradients."""

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_compare import assert_close, check_fn, check_module, em, load_from_torch, randn, th


# -- CTC ---------------------------------------------------------------------------------
def _ctc_data(seed=0, t_len=12, n=4, c=6, s=5, blank=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((t_len, n, c))
    labels = [k for k in range(c) if k != blank]
    tg = rng.choice(labels, (n, s))
    tg[0, 1] = tg[0, 0]  # a repeated label needs a blank between the two
    il = np.array([t_len, t_len - 2, 7, 2][:n])
    tl = np.array([s, 3, 0, 3][:n])  # sample 3 cannot fit: infinite loss
    return x, tg, il, tl


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("blank", [0, 3])
def test_ctc_loss(device, reduction, zero_infinity, blank):
    x, tg, il, tl = _ctc_data(blank=blank)
    if not zero_infinity:
        il[3] = 7  # keep every loss finite (PyTorch's gradient of an inf loss is NaN)
    kw = {"blank": blank, "reduction": reduction, "zero_infinity": zero_infinity}
    e, t = nn.CTCLoss(**kw), torch.nn.CTCLoss(**kw)
    # through log_softmax (how CTC is used) ...
    check_fn(lambda a: e(a.log_softmax(2), em(tg, device), em(il, device), em(tl, device)),
             lambda a: t(a.log_softmax(2), th(tg), th(il), th(tl)), x, device=device,
             rtol=1e-6, atol=1e-8)
    # ... and on raw log-probabilities: PyTorch's gradient formula, reproduced
    check_fn(lambda a: F.ctc_loss(a, em(tg, device), em(il, device), em(tl, device), **kw),
             lambda a: TF.ctc_loss(a, th(tg), th(il), th(tl), **kw), x, device=device,
             rtol=1e-6, atol=1e-8)


def test_ctc_concatenated_targets_unbatched_and_float32(device):
    x, tg, il, tl = _ctc_data(seed=1)
    il[3] = 8
    flat = np.concatenate([tg[i, :tl[i]] for i in range(4)])
    x32 = x.astype(np.float32)
    check_fn(lambda a: F.ctc_loss(a.log_softmax(2), em(flat, device), tuple(il.tolist()),
                                  tuple(tl.tolist())),
             lambda a: TF.ctc_loss(a.log_softmax(2), th(flat), tuple(il.tolist()),
                                   tuple(tl.tolist())), x32, device=device)
    check_fn(lambda a: F.ctc_loss(a.log_softmax(1), em(tg[0], device), em(np.array(12), device),
                                  em(np.array(5), device), reduction="none"),
             lambda a: TF.ctc_loss(a.log_softmax(1), th(tg[0]), th(np.array(12)),
                                   th(np.array(5)), reduction="none"), x32[:, 0],
             device=device)


def test_ctc_infinite_loss_and_errors():
    x, tg, il, tl = _ctc_data()
    a = F.ctc_loss(em(x), em(tg), em(il), em(tl), reduction="none")
    b = TF.ctc_loss(th(x), th(tg), th(il), th(tl), reduction="none")
    assert_close(a, b)
    assert np.isinf(a.numpy()[3])
    with pytest.raises(RuntimeError, match="at most 12"):
        F.ctc_loss(em(x), em(tg), em(il + 1), em(tl))
    with pytest.raises(RuntimeError, match="blank must be in label range"):
        F.ctc_loss(em(x), em(tg), em(il), em(tl), blank=6)
    with pytest.raises(RuntimeError, match="size at least 6"):
        F.ctc_loss(em(x), em(tg), em(il), em(tl + 1))


# -- LSTM projections --------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:LSTM with projections")
@pytest.mark.parametrize("kw", [dict(num_layers=1), dict(num_layers=2, bidirectional=True),
                                dict(num_layers=2, batch_first=True, bias=False)],
                         ids=["1layer", "2layer-bi", "batch_first-nobias"])
def test_lstm_proj_size(device, kw):
    e, t = nn.LSTM(5, 7, proj_size=3, **kw), torch.nn.LSTM(5, 7, proj_size=3, **kw)
    assert list(e.state_dict()) == list(t.state_dict())
    assert repr(e) == repr(t)
    check_module(e, t, randn(3, 4, 5), device=device, rtol=1e-4, atol=2e-5)


@pytest.mark.filterwarnings("ignore:LSTM with projections")
def test_lstm_proj_state_packed_and_double_backward():
    e = nn.LSTM(3, 6, proj_size=2, num_layers=2, bidirectional=True)
    t = torch.nn.LSTM(3, 6, proj_size=2, num_layers=2, bidirectional=True)
    load_from_torch(e, t)
    x, h, c = randn(5, 3, 3), randn(4, 3, 2, seed=1), randn(4, 3, 6, seed=2)
    lens = [5, 2, 4]
    pe = nn.utils.rnn.pack_padded_sequence(em(x), lens, enforce_sorted=False)
    pt = torch.nn.utils.rnn.pack_padded_sequence(th(x), lens, enforce_sorted=False)
    eo, (eh, ec) = e(pe, (em(h), em(c)))
    to, (tht, tc) = t(pt, (th(h), th(c)))
    assert_close(eo.data, to.data)
    assert_close(eh, tht)
    assert_close(ec, tc)
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size"):
        e(em(x), (em(h), em(h)))
    e2 = nn.LSTM(3, 5, proj_size=2).double()
    t2 = torch.nn.LSTM(3, 5, proj_size=2).double()
    load_from_torch(e2, t2)
    xd = randn(4, 2, 3, dtype=np.float64)
    a, b = em(xd, requires_grad=True), th(xd, requires_grad=True)
    ga, = ember.autograd.grad(e2(a)[0].pow(2).sum(), a, create_graph=True)
    gb, = torch.autograd.grad(t2(b)[0].pow(2).sum(), b, create_graph=True)
    assert_close(ga, gb, 1e-8, 1e-10)
    ga.sum().backward()
    gb.sum().backward()
    assert_close(a.grad, b.grad, 1e-8, 1e-10)
    # LSTMCell is unaffected by any of this
    check_module(nn.LSTMCell(3, 4), torch.nn.LSTMCell(3, 4), randn(2, 3))


# -- antialiased interpolation -----------------------------------------------------------
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size,scale", [((5, 3), None), ((13, 20), None), ((4, 9), None),
                                        (None, (0.3, 0.55)), (None, (2.5, 0.7))])
def test_interpolate_antialias(device, mode, align_corners, size, scale):
    def run(f):
        return lambda a: f(a, size=size, scale_factor=scale, mode=mode,
                           align_corners=align_corners, antialias=True)

    check_fn(run(F.interpolate), run(TF.interpolate), randn(2, 3, 11, 8), device=device)


def test_interpolate_antialias_errors():
    with pytest.raises(ValueError, match="Anti-alias option"):
        F.interpolate(ember.randn(1, 1, 4), size=2, mode="linear", antialias=True)
    with pytest.raises(ValueError, match="Anti-alias option"):
        F.interpolate(ember.randn(1, 1, 4, 4), size=2, mode="nearest", antialias=True)


# -- bicubic grid_sample -----------------------------------------------------------------
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_bicubic(device, padding_mode, align_corners):
    g = randn(2, 4, 7, 2, seed=1) * 0.8
    g[0, 0, 0] = [1.3, -1.7]
    g[1, 1, 1] = [-2.9, 3.4]  # far outside: padding decides

    def run(f):
        return lambda a, b: f(a, b, mode="bicubic", padding_mode=padding_mode,
                              align_corners=align_corners)

    check_fn(run(F.grid_sample), run(TF.grid_sample), randn(2, 3, 5, 6), g, device=device,
             atol=1e-4)


# -- fractional max pooling --------------------------------------------------------------
@pytest.mark.parametrize("k,out,ratio", [(2, (5, 4), None), (3, None, (0.5, 0.7)),
                                         ((2, 3), (10, 7), None)])
def test_fractional_max_pool2d(device, k, out, ratio):
    s = np.random.default_rng(0).random((2, 3, 2)).astype(np.float32)

    def run(f, wrap):
        return lambda a: f(a, k, out, ratio, return_indices=True, _random_samples=wrap(s))

    check_fn(run(F.fractional_max_pool2d, lambda v: em(v, device)),
             run(TF.fractional_max_pool2d, th), randn(2, 3, 11, 9), device=device)
    e = nn.FractionalMaxPool2d(k, out, ratio, _random_samples=em(s, device))
    t = torch.nn.FractionalMaxPool2d(k, out, ratio, _random_samples=th(s))
    assert list(e.state_dict()) == list(t.state_dict())
    check_module(e, t, randn(2, 3, 11, 9), device=device, load=False)


def test_fractional_max_pool3d_and_unbatched(device):
    s3 = np.random.default_rng(1).random((2, 2, 3)).astype(np.float32)
    check_fn(lambda a: F.fractional_max_pool3d(a, 2, (4, 5, 3), _random_samples=em(s3, device)),
             lambda a: TF.fractional_max_pool3d(a, 2, (4, 5, 3), _random_samples=th(s3)),
             randn(2, 2, 7, 8, 6), device=device)
    s = np.random.default_rng(2).random((1, 3, 2)).astype(np.float32)
    check_fn(lambda a: F.fractional_max_pool2d(a, 2, (4, 4), _random_samples=em(s, device)),
             lambda a: TF.fractional_max_pool2d(a, 2, (4, 4), _random_samples=th(s)),
             randn(3, 9, 9), device=device)
    out = nn.FractionalMaxPool2d(3, output_ratio=0.5)(ember.randn(1, 2, 10, 10))
    assert tuple(out.shape) == (1, 2, 5, 5)
    with pytest.raises(ValueError, match="output_ratio must be between 0 and 1"):
        nn.FractionalMaxPool2d(2, output_ratio=1.5)


# -- adaptive softmax --------------------------------------------------------------------
def test_adaptive_log_softmax_with_loss(device):
    kw = dict(div_value=2.0, head_bias=True)
    e = nn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 10, 15], **kw)
    t = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 10, 15], **kw)
    assert list(e.state_dict()) == list(t.state_dict())
    assert repr(e) == repr(t)
    tg = np.array([0, 3, 5, 19, 11, 12, 4, 9, 15, 1])
    check_module(e, t, randn(10, 16), tg, device=device)
    x = randn(10, 16, seed=3)
    assert_close(e.log_prob(em(x, device)), t.log_prob(th(x)))
    np.testing.assert_array_equal(e.predict(em(x, device)).cpu().numpy(),
                                  t.predict(th(x)).numpy())
    check_module(e, t, randn(16), np.array(12), device=device, load=False)
    with pytest.raises(RuntimeError, match="Target values should be in"):
        e(em(x, device), em(np.array([25] * 10), device))
    with pytest.raises(ValueError, match="cutoffs should be a sequence"):
        nn.AdaptiveLogSoftmaxWithLoss(16, 20, [10, 4])
