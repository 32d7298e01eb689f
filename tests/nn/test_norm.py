"""Normalization layers against PyTorch: batch norm (training statistics, running
buffers, momentum=None, eval), layer/group/instance/RMS/local-response norm."""

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_compare import assert_close, check_module, em, load_from_torch, randn, th


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (6, 4)), ("BatchNorm1d", (5, 4, 3)),
                                       ("BatchNorm2d", (3, 4, 5, 6)),
                                       ("BatchNorm3d", (2, 4, 3, 2, 3))])
@pytest.mark.parametrize("kw", [{}, {"affine": False}, {"momentum": None},
                                {"track_running_stats": False}, {"bias": False}],
                         ids=["default", "no_affine", "cumulative", "no_running", "no_bias"])
def test_batch_norm_train_then_eval(device, cls, shape, kw):
    e, t = getattr(nn, cls)(4, **kw), getattr(torch.nn, cls)(4, **kw)
    assert list(e.state_dict()) == list(t.state_dict())
    assert repr(e) == repr(t)
    load_from_torch(e, t, device)
    for step in range(3):  # buffers evolve identically over several steps
        check_module(e, t, randn(*shape, seed=step) * 2 + 1, device=device, train=True,
                     load=False)
    check_module(e, t, randn(*shape, seed=9), device=device, train=False, load=False)
    if e.num_batches_tracked is not None:
        assert int(e.num_batches_tracked) == 3


def test_batch_norm_error_on_single_value_per_channel():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.BatchNorm1d(3)(ember.randn(1, 3))
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(ember.randn(2, 3))


def test_batch_norm_loads_old_checkpoint_without_num_batches_tracked():
    e = nn.BatchNorm2d(3)
    sd = {k: v for k, v in e.state_dict().items() if k != "num_batches_tracked"}
    from collections import OrderedDict

    sd = OrderedDict(sd)
    sd._metadata = {"": {"version": 1}}
    e.load_state_dict(sd)  # filled in, as PyTorch does for version-1 checkpoints


def test_batch_norm_functional_and_double_backward():
    x = randn(4, 3, 5, dtype=np.float64)
    w, b = randn(3, seed=1, dtype=np.float64), randn(3, seed=2, dtype=np.float64)
    ex, ew = em(x, requires_grad=True), em(w, requires_grad=True)
    tx, tw = th(x, True), th(w, True)
    ey = F.batch_norm(ex, None, None, ew, em(b), training=True)
    ty = TF.batch_norm(tx, None, None, tw, th(b), training=True)
    gx, gw = ember.autograd.grad((ey ** 3).sum(), (ex, ew), create_graph=True)
    hx, hw = torch.autograd.grad((ty ** 3).sum(), (tx, tw), create_graph=True)
    assert_close(gx, hx, 1e-7, 1e-9)
    (gx.sum() + (gw * gw).sum()).backward()
    (hx.sum() + (hw * hw).sum()).backward()
    assert_close(ex.grad, tx.grad, 1e-6, 1e-8)
    assert_close(ew.grad, tw.grad, 1e-6, 1e-8)


@pytest.mark.parametrize("shape,ns", [((4, 6), 6), ((2, 3, 5), (5,)), ((2, 3, 4, 5), (4, 5))])
@pytest.mark.parametrize("kw", [{}, {"elementwise_affine": False}, {"bias": False},
                                {"eps": 1e-3}])
def test_layer_norm(device, shape, ns, kw):
    e, t = nn.LayerNorm(ns, **kw), torch.nn.LayerNorm(ns, **kw)
    with torch.no_grad():
        for p in t.parameters():
            p.copy_(torch.randn(p.shape))
    check_module(e, t, randn(*shape) * 3 + 2, device=device)
    assert repr(e) == repr(t)


def test_layer_norm_double_backward():
    x, w = randn(3, 5, dtype=np.float64), randn(5, seed=1, dtype=np.float64)
    ex, ew, tx, tw = em(x, requires_grad=True), em(w, requires_grad=True), th(x, True), \
        th(w, True)
    gx, = ember.autograd.grad((F.layer_norm(ex, (5,), ew) ** 3).sum(), ex, create_graph=True)
    hx, = torch.autograd.grad((TF.layer_norm(tx, (5,), tw) ** 3).sum(), tx, create_graph=True)
    (gx * gx).sum().backward()
    (hx * hx).sum().backward()
    assert_close(ex.grad, tx.grad, 1e-6, 1e-8)
    assert_close(ew.grad, tw.grad, 1e-6, 1e-8)


def test_layer_norm_shape_error():
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(ember.randn(2, 3), (4,))


@pytest.mark.parametrize("kw", [{}, {"affine": False}])
def test_group_norm(device, kw):
    e, t = nn.GroupNorm(2, 6, **kw), torch.nn.GroupNorm(2, 6, **kw)
    with torch.no_grad():
        for p in t.parameters():
            p.copy_(torch.randn(p.shape))
    check_module(e, t, randn(3, 6, 4, 5), device=device)
    check_module(e, t, randn(3, 6), device=device)
    assert repr(e) == repr(t)


@pytest.mark.parametrize("kw", [{}, {"affine": True}, {"track_running_stats": True},
                                {"affine": True, "track_running_stats": True}])
def test_instance_norm(device, kw):
    e, t = nn.InstanceNorm2d(3, **kw), torch.nn.InstanceNorm2d(3, **kw)
    assert list(e.state_dict()) == list(t.state_dict())
    load_from_torch(e, t, device)
    check_module(e, t, randn(2, 3, 4, 5) * 2 + 1, device=device, load=False)
    check_module(e, t, randn(2, 3, 4, 5, seed=4), device=device, train=False, load=False)
    check_module(nn.InstanceNorm1d(3, **kw), torch.nn.InstanceNorm1d(3, **kw), randn(3, 7),
                 device=device)


def test_rms_norm_and_local_response_norm(device):
    check_module(nn.RMSNorm(5), torch.nn.RMSNorm(5), randn(2, 3, 5), device=device)
    check_module(nn.RMSNorm((3, 5), eps=1e-3, elementwise_affine=False),
                 torch.nn.RMSNorm((3, 5), eps=1e-3, elementwise_affine=False),
                 randn(2, 3, 5), device=device)
    check_module(nn.LocalResponseNorm(3), torch.nn.LocalResponseNorm(3), randn(2, 6, 4, 4),
                 device=device)
    check_module(nn.LocalResponseNorm(2, k=2.0), torch.nn.LocalResponseNorm(2, k=2.0),
                 randn(2, 5, 7), device=device)


def test_normalize(device):
    x = randn(3, 4)
    for kw in ({}, {"p": 1.0, "dim": 0}):
        a = F.normalize(em(x, device, True), **kw)
        b = TF.normalize(th(x, True), **kw)
        assert_close(a, b)


@pytest.mark.parametrize("chunk", [1, 200])
@pytest.mark.parametrize("threads", [1, 2])
def test_batch_norm_eval_channel_affine(threads, chunk, monkeypatch):
    """Evaluation-mode batch norm (one fused scale-and-shift op, in blocks of one plane
    (``chunk`` 1) or of whole samples (200) over two threads here): values and the
    gradients of input, weight and bias equal torch's; second derivatives (running
    statistics included) by float64 gradgradcheck; a non-contiguous input; an empty batch;
    bfloat16 input with float32 parameters keeps bfloat16."""
    import ember.ops._channel_blocks as blocks
    import ember.ops._parallel as par

    monkeypatch.setattr(blocks, "CHUNK", chunk)
    monkeypatch.setattr(par, "MIN_PART", 1)
    old = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        for shape in [(3, 4, 5, 6), (6, 4), (2, 4, 3)]:
            x = randn(*shape, seed=4)
            m, v = randn(4, seed=5), np.abs(randn(4, seed=6)) + 0.5
            w, b = randn(4, seed=7), randn(4, seed=8)
            grad = (True, False, False, True, True)  # torch: running stats take no grad
            ins_e = [em(a, requires_grad=r) for a, r in zip((x, m, v, w, b), grad)]
            ins_t = [th(a, r) for a, r in zip((x, m, v, w, b), grad)]
            ey = F.batch_norm(ins_e[0], ins_e[1], ins_e[2], ins_e[3], ins_e[4])
            ty = TF.batch_norm(ins_t[0], ins_t[1], ins_t[2], ins_t[3], ins_t[4])
            assert ey.dtype == ember.float32
            assert_close(ey, ty, 1e-6, 1e-6)
            g = randn(*shape, seed=9)
            ey.backward(em(g))
            ty.backward(th(g))
            for a, t, r in zip(ins_e, ins_t, grad):
                if r:
                    assert_close(a.grad, t.grad, 1e-5, 1e-5)
        xt = randn(4, 5, 3, 6, seed=1)  # (N, H, C, W) permuted to (N, C, H, W)
        ey = F.batch_norm(em(xt).permute(0, 2, 1, 3), em(m[:3]), em(v[:3]), em(w[:3]),
                          em(b[:3]))
        ty = TF.batch_norm(th(xt).permute(0, 2, 1, 3), th(m[:3]), th(v[:3]), th(w[:3]),
                           th(b[:3]))
        assert_close(ey, ty, 1e-6, 1e-6)
        empty = F.batch_norm(em(np.zeros((0, 3, 2, 2), np.float32)), em(m[:3]), em(v[:3]),
                             em(w[:3]), em(b[:3]))
        assert empty.shape == (0, 3, 2, 2)
        xb = em(x).to(ember.bfloat16)
        yb = F.batch_norm(xb, em(m), em(v), em(w), em(b))
        assert yb.dtype == ember.bfloat16
        tb = TF.batch_norm(th(x).to(torch.bfloat16), th(m), th(v), th(w), th(b))
        assert_close(yb.float(), tb.float(), 1e-2, 1e-2)
        x64 = [em(a.astype(np.float64), requires_grad=True)  # running stats too, here
               for a in (randn(2, 3, 4), randn(3, seed=2), np.abs(randn(3, seed=3)) + 0.5,
                         randn(3, seed=4), randn(3, seed=5))]
        assert ember.autograd.gradgradcheck(
            lambda *a: F.batch_norm(a[0], a[1], a[2], a[3], a[4]), x64)
    finally:
        ember.set_num_threads(old)
