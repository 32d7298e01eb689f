"""Pooling against PyTorch: max (indices, ceil_mode, dilation, padding), average
(count_include_pad, divisor_override, ceil_mode), adaptive, unpooling, LP pooling."""

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_compare import assert_close, check_fn, check_module, em, randn, th

MAX2D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1), padding=(1, 1)),
    dict(kernel_size=3, stride=1, padding=1, dilation=1),
    dict(kernel_size=(3, 2)),  # disjoint windows covering the 9x10 input exactly
    dict(kernel_size=2, stride=3),  # disjoint, with gaps between windows
    dict(kernel_size=2, padding=1),  # disjoint, partly in the padding
    dict(kernel_size=2, stride=3, dilation=2),  # disjoint dilated windows
]


@pytest.mark.parametrize("kw", MAX2D, ids=[str(i) for i in range(len(MAX2D))])
def test_max_pool2d(device, kw):
    e, t = nn.MaxPool2d(**kw), torch.nn.MaxPool2d(**kw)
    check_module(e, t, randn(2, 3, 9, 10), device=device)
    assert repr(e) == repr(t)
    e2, t2 = nn.MaxPool2d(return_indices=True, **kw), torch.nn.MaxPool2d(return_indices=True,
                                                                          **kw)
    ev, ei = e2(em(randn(2, 3, 9, 10), device))
    tv, ti = t2(th(randn(2, 3, 9, 10)))
    assert ei.dtype == ember.int64
    np.testing.assert_array_equal(ei.cpu().numpy(), ti.numpy())


def test_max_pool_ties_and_nan_like_torch(device):
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 1, 1] = np.nan
    ev, ei = F.max_pool2d(em(x, device), 2, return_indices=True)
    tv, ti = TF.max_pool2d(th(x), 2, return_indices=True)
    np.testing.assert_array_equal(ei.cpu().numpy(), ti.numpy())
    np.testing.assert_array_equal(np.isnan(ev.cpu().numpy()), np.isnan(tv.numpy()))


def test_max_pool_1d_3d(device):
    check_module(nn.MaxPool1d(3, 2, 1), torch.nn.MaxPool1d(3, 2, 1), randn(2, 3, 11),
                 device=device)
    check_module(nn.MaxPool1d(2, ceil_mode=True), torch.nn.MaxPool1d(2, ceil_mode=True),
                 randn(3, 9), device=device)
    check_module(nn.MaxPool3d(2, stride=(1, 2, 2)), torch.nn.MaxPool3d(2, stride=(1, 2, 2)),
                 randn(1, 2, 4, 5, 6), device=device)


AVG2D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(2, 3), divisor_override=4),
]


@pytest.mark.parametrize("kw", AVG2D, ids=[str(i) for i in range(len(AVG2D))])
def test_avg_pool2d(device, kw):
    e, t = nn.AvgPool2d(**kw), torch.nn.AvgPool2d(**kw)
    check_module(e, t, randn(2, 3, 9, 10), device=device)
    assert repr(e) == repr(t)


def test_avg_pool_1d_3d(device):
    check_module(nn.AvgPool1d(3, 2, 1, count_include_pad=False),
                 torch.nn.AvgPool1d(3, 2, 1, count_include_pad=False), randn(2, 3, 10),
                 device=device)
    check_module(nn.AvgPool3d(2, ceil_mode=True), torch.nn.AvgPool3d(2, ceil_mode=True),
                 randn(1, 2, 5, 5, 4), device=device)


@pytest.mark.parametrize("size", [1, 3, (2, 4), (None, 3), (5, 7)])
def test_adaptive_avg_pool2d(device, size):
    check_module(nn.AdaptiveAvgPool2d(size), torch.nn.AdaptiveAvgPool2d(size),
                 randn(2, 3, 9, 10), device=device)


@pytest.mark.parametrize("size", [1, 3, (2, 5), (4, 7)])
def test_adaptive_max_pool2d(device, size):
    check_module(nn.AdaptiveMaxPool2d(size), torch.nn.AdaptiveMaxPool2d(size),
                 randn(2, 3, 9, 10), device=device)
    ev, ei = F.adaptive_max_pool2d(em(randn(2, 3, 9, 10), device), size, True)
    tv, ti = TF.adaptive_max_pool2d(th(randn(2, 3, 9, 10)), size, True)
    np.testing.assert_array_equal(ei.cpu().numpy(), ti.numpy())


def test_adaptive_1d_3d(device):
    check_module(nn.AdaptiveAvgPool1d(4), torch.nn.AdaptiveAvgPool1d(4), randn(2, 3, 10),
                 device=device)
    check_module(nn.AdaptiveMaxPool1d(3), torch.nn.AdaptiveMaxPool1d(3), randn(2, 3, 10),
                 device=device)
    check_module(nn.AdaptiveAvgPool3d((2, 3, 1)), torch.nn.AdaptiveAvgPool3d((2, 3, 1)),
                 randn(1, 2, 5, 7, 4), device=device)
    check_module(nn.AdaptiveMaxPool3d(2), torch.nn.AdaptiveMaxPool3d(2),
                 randn(1, 2, 5, 7, 4), device=device)


def test_max_unpool2d(device):
    x = randn(2, 3, 8, 8)
    ev, ei = F.max_pool2d(em(x, device), 2, return_indices=True)
    tv, ti = TF.max_pool2d(th(x), 2, return_indices=True)
    check_fn(lambda v: nn.MaxUnpool2d(2)(v, ei), lambda v: torch.nn.MaxUnpool2d(2)(v, ti),
             tnp_(tv), device=device)
    out = nn.MaxUnpool2d(2)(ev, ei, output_size=(9, 9))
    assert out.shape == (2, 3, 9, 9)


def tnp_(t):
    return t.detach().numpy()


def test_lp_pool(device):
    check_module(nn.LPPool2d(2, 2), torch.nn.LPPool2d(2, 2), np.abs(randn(2, 3, 6, 6)),
                 device=device)
    check_module(nn.LPPool1d(3, 3, stride=2), torch.nn.LPPool1d(3, 3, stride=2),
                 np.abs(randn(2, 3, 9)) + 0.1, device=device)


def test_pool_double_backward():
    x = randn(2, 2, 6, 6, dtype=np.float64)
    for ef, tf in ((lambda a: F.max_pool2d(a, 3, 2, 1), lambda a: TF.max_pool2d(a, 3, 2, 1)),
                   (lambda a: F.avg_pool2d(a, 3, 2, 1), lambda a: TF.avg_pool2d(a, 3, 2, 1))):
        a, b = em(x, requires_grad=True), th(x, True)
        ga, = ember.autograd.grad((ef(a) ** 2).sum(), a, create_graph=True)
        gb, = torch.autograd.grad((tf(b) ** 2).sum(), b, create_graph=True)
        assert_close(ga, gb, 1e-7, 1e-9)
        (ga * ga).sum().backward()
        (gb * gb).sum().backward()
        assert_close(a.grad, b.grad, 1e-7, 1e-9)


def test_pool_errors():
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(ember.randn(1, 1, 5, 5), 2, padding=2)
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.max_pool2d(ember.randn(1, 1, 1, 1), 3)


@pytest.fixture
def tiny_blocks(monkeypatch):
    """Max pooling on the CPU in blocks of one (sample, channel) plane, split over two
    threads however small the input (pool_max_cpu's blocks and _parallel's parts)."""
    import ember.ops._parallel as par
    import ember.ops.pool_max_cpu as pm

    monkeypatch.setattr(pm, "CHUNK", 1)
    monkeypatch.setattr(par, "MIN_PART", 1)
    old = ember.get_num_threads()
    ember.set_num_threads(2)
    yield
    ember.set_num_threads(old)


@pytest.mark.parametrize("kw", MAX2D, ids=[str(i) for i in range(len(MAX2D))])
def test_max_pool2d_in_plane_blocks_with_ties(kw, tiny_blocks):
    """Values, indices and gradients equal torch's when every plane is its own block and
    windows hold many equal values (the first maximum's index is kept)."""
    rng = np.random.default_rng(3)
    x = rng.integers(-2, 3, (3, 4, 9, 10)).astype(np.float32)  # ties everywhere
    for dtype in (np.float32, np.float64):
        xe = ember.tensor(x.astype(dtype), requires_grad=True)
        xt = torch.tensor(x.astype(dtype), requires_grad=True)
        ev, ei = F.max_pool2d(xe, return_indices=True, **kw)
        tv, ti = TF.max_pool2d(xt, return_indices=True, **kw)
        np.testing.assert_array_equal(ev.detach().numpy(), tv.detach().numpy())
        np.testing.assert_array_equal(ei.numpy(), ti.numpy())
        g = rng.standard_normal(tuple(tv.shape)).astype(dtype)
        ev.backward(ember.tensor(g))
        tv.backward(torch.tensor(g))
        assert_close(xe.grad.numpy(), xt.grad.numpy(), 1e-6, 1e-6)  # sums in another order
        with ember.no_grad():
            np.testing.assert_array_equal(F.max_pool2d(ember.tensor(x.astype(dtype)),
                                                       **kw).numpy(), tv.detach().numpy())


def test_max_pool_nan_in_one_block_and_3d(tiny_blocks):
    """A NaN in one plane sends the input to the NaN-aware search (NaN is the maximum, its
    gradient goes to the NaN); 1-D and 3-D pooling in blocks agree with torch."""
    x = randn(2, 3, 8, 8)
    x[1, 2, 3, 4] = np.nan
    xe = ember.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ev, ei = F.max_pool2d(xe, 3, 2, 1, return_indices=True)
    tv, ti = TF.max_pool2d(xt, 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(np.isnan(ev.detach().numpy()), np.isnan(tv.detach().numpy()))
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    ev.sum().backward()
    tv.sum().backward()
    np.testing.assert_array_equal(xe.grad.numpy(), xt.grad.numpy())
    check_module(nn.MaxPool1d(3, 2, 1), torch.nn.MaxPool1d(3, 2, 1), randn(2, 3, 11))
    check_module(nn.MaxPool3d(3, stride=2, padding=1, ceil_mode=True),
                 torch.nn.MaxPool3d(3, stride=2, padding=1, ceil_mode=True),
                 randn(2, 2, 5, 6, 7))


def test_max_pool_integer_input():
    """Integer inputs pool on the CPU path (padding filled with the dtype's minimum)."""
    x = np.random.default_rng(0).integers(-100, 100, (2, 3, 7, 7)).astype(np.int64)
    e = F.max_pool2d(ember.tensor(x), 3, 2, 1)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=np.iinfo(np.int64).min)
    ref = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))[:, :, ::2, ::2]
    np.testing.assert_array_equal(e.numpy(), ref.max(axis=(-1, -2)))
    assert e.dtype == ember.int64
