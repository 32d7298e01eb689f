"""The short paths a decoding step takes (one row, few values), against PyTorch: layer norm
over a single row and over few values, softmax over few values, single-row ``linear``,
``cat`` with and without dtype promotion, and the views (``view``, ``transpose``, ``split``)
that skip the check whether they copied. Each case also runs at a size that takes the
general path, so both stay tested against the same reference."""

import ember
import numpy as np
import pytest
import torch
from ember.ops import _parallel, reduce


def _pair(a, requires_grad=False):
    return (ember.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


@pytest.mark.parametrize("shape", [(1, 1, 768), (768,), (1, 64), (3, 5, 64), (4, 8192)])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_norm_matches_torch(shape, affine, dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3 + 1.5).astype(dtype)
    n = shape[-1]
    w = rng.standard_normal(n).astype(dtype) if affine else None
    b = rng.standard_normal(n).astype(dtype) if affine else None
    xe, xt = _pair(x, True)
    we, wt = _pair(w, True) if affine else (None, None)
    be, bt = _pair(b, True) if affine else (None, None)
    ye = ember.nn.functional.layer_norm(xe, (n,), we, be, 1e-5)
    yt = torch.nn.functional.layer_norm(xt, (n,), wt, bt, 1e-5)
    tol = 2e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
    g = rng.standard_normal(shape).astype(dtype)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    gtol = 2e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=gtol, atol=gtol)
    if affine:
        np.testing.assert_allclose(we.grad.numpy(), wt.grad.numpy(), rtol=gtol, atol=gtol)
        np.testing.assert_allclose(be.grad.numpy(), bt.grad.numpy(), rtol=gtol, atol=gtol)


@pytest.mark.parametrize("rows", [1, 2])
@pytest.mark.parametrize("eps", [1e-5, 0.0])
@pytest.mark.parametrize("row", [[1.0] * 8, [float("inf")] + [0.0] * 7,
                                 [float("nan")] + [1.0] * 7, [-float("inf"), 2.0] * 4])
def test_layer_norm_special_rows_match_torch(rows, eps, row):
    """A constant row with eps=0 (0/0), infinities and NaNs: NaN where PyTorch has NaN, on
    the one-row path (scalar statistics) and the several-row path alike."""
    x = np.array([row] * rows, np.float32)
    ye = ember.nn.functional.layer_norm(ember.tensor(x), (8,), eps=eps).numpy()
    yt = torch.nn.functional.layer_norm(torch.tensor(x), (8,), eps=eps).numpy()
    np.testing.assert_allclose(ye, yt, rtol=1e-6, atol=1e-6, equal_nan=True)


def test_layer_norm_one_row_double_backward_matches_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 16))
    w = rng.standard_normal(16)
    outs = []
    for fw in (ember, torch):
        xt = fw.tensor(x, requires_grad=True)
        wt = fw.tensor(w, requires_grad=True)
        y = fw.nn.functional.layer_norm(xt, (16,), wt)
        (gx,) = fw.autograd.grad((y * y).sum() + y[0, 0], xt, create_graph=True)
        (ggw,) = fw.autograd.grad((gx * gx).sum(), wt)
        outs.append((gx.detach().numpy(), ggw.numpy()))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("shape", [(1, 12, 1, 41), (3, 7), (64,), (2, 16384)])
def test_softmax_matches_torch(shape):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal(shape) * 4).astype(np.float32)
    x.reshape(-1)[::5] = -np.inf  # masked positions
    x.reshape(-1, shape[-1])[:, 0] = 3.0  # (no row entirely masked)
    xe, xt = _pair(x, True)
    ye = ember.nn.functional.softmax(xe, dim=-1)
    yt = torch.nn.functional.softmax(xt, dim=-1)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=2e-6, atol=1e-7)
    g = rng.standard_normal(shape).astype(np.float32)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_softmax_small_path_is_taken(monkeypatch):
    """The few-values path runs without _parallel's parts; larger inputs still split."""
    calls = []
    monkeypatch.setattr(reduce, "run_parts", lambda *a, **k: calls.append(a[1]))
    ember.nn.functional.softmax(ember.randn(1, 12, 1, 41), dim=-1)
    assert calls == []
    ember.nn.functional.softmax(ember.randn(4, 8192), dim=-1)
    assert calls == [4]


@pytest.mark.parametrize("x_shape", [(1, 96), (1, 1, 96), (96,), (5, 96), (2, 3, 96)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(x_shape, bias):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal((40, 96)).astype(np.float32)
    b = rng.standard_normal(40).astype(np.float32) if bias else None
    (xe, xt), (we, wt) = _pair(x, True), _pair(w, True)
    be, bt = _pair(b, True) if bias else (None, None)
    ye = ember.nn.functional.linear(xe, we, be)
    yt = torch.nn.functional.linear(xt, wt, bt)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    ye.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(we.grad.numpy(), wt.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_single_row_product_goes_to_blas_directly(monkeypatch):
    """One row (a GEMV) never reaches oneDNN or ember's threads; two rows may."""
    seen = []
    monkeypatch.setattr(_parallel._onednn, "matmul", lambda a, b, bias=None: seen.append(a.shape))
    a = np.ones((1, 512), np.float32)
    w = np.ones((4096, 512), np.float32)
    np.testing.assert_array_equal(_parallel.matmul(a, w.T), np.full((1, 4096), 512.0))
    assert seen == []
    _parallel.matmul(np.ones((2, 512), np.float32), w.T)
    assert seen == [(2, 512)]


def test_cat_matches_torch_and_promotes():
    rng = np.random.default_rng(4)
    past = rng.standard_normal((1, 12, 5, 64)).astype(np.float32)
    qkv = rng.standard_normal((1, 1, 3 * 768)).astype(np.float32)
    outs = []
    for fw in (ember, torch):
        k = fw.tensor(qkv).split(768, dim=2)[1].view(1, 1, 12, 64).transpose(1, 2)
        outs.append(fw.cat([fw.tensor(past), k], dim=2).numpy())
        mixed = fw.cat([fw.tensor([1, 2]), fw.tensor([0.5], dtype=fw.float64)])
        assert str(mixed.dtype).endswith("float64")
        outs.append(mixed.numpy())
        outs.append(fw.cat([fw.zeros(0), fw.ones(2, 3)], dim=1).numpy())  # 1-D empty: skipped
    for a, b in zip(outs[0::3], outs[3::3]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("a, b, message", [
    ((2, 3), (2, 4, 1), "Tensors must have same number of dimensions: got 2 and 3"),
    ((2, 3), (4, 3), "Sizes of tensors must match except in dimension 1. Expected size 2 but "
                     "got size 4 for tensor number 1 in the list."),
])
def test_cat_errors_match_torch(a, b, message):
    for fw in (ember, torch):
        with pytest.raises(RuntimeError, match=message):
            fw.cat([fw.ones(a), fw.ones(b)], dim=1)


@pytest.mark.parametrize("make", [
    lambda t: t.view(2, 3, 12),
    lambda t: t.transpose(0, 1),
    lambda t: t.permute(1, 0),
    pytest.param(lambda t: t.split(2, dim=1)[1], id="split"),
    lambda t: t.narrow(1, 1, 3),
    lambda t: t.unsqueeze(0),
    lambda t: t[:, None].squeeze(1),
    lambda t: t.select(0, 2),
    lambda t: t[:1].expand(3, 12),
])
def test_views_share_memory_and_see_base_writes(make, request):
    """Views marked without the may-share check still track their base: a write to the
    base shows in the view, and autograd sees an in-place change made after the view was
    taken (gradients as PyTorch's)."""
    base = ember.zeros(6, 12)
    v = make(base)
    base.add_(1.0)
    assert float(v.sum()) == v.numel()
    if request.node.callspec.id == "split":
        return  # (PyTorch forbids autograd through a split output whose base changed)
    grads = []
    for fw in (ember, torch):
        leaf = fw.arange(72.0).reshape(6, 12).requires_grad_()
        b2 = leaf * 1.0
        v2 = make(b2)
        b2.mul_(3.0)
        (v2 * v2).sum().backward()
        grads.append(leaf.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


@pytest.mark.parametrize("make", [
    lambda t: t.view(3, 24),
    lambda t: t.transpose(0, 1),
    lambda t: t.split(5, dim=1)[2],
    lambda t: t.narrow(0, 2, 3),
])
def test_views_without_a_graph_under_no_grad(make):
    """Under ``no_grad`` the views skip their graph nodes: same values as PyTorch, still
    views (writes to the base show), no gradient required even of a leaf that needs one."""
    x = np.arange(72.0, dtype=np.float32).reshape(6, 12)
    base = ember.tensor(x, requires_grad=True)
    with ember.no_grad():
        v = make(base)
        ref = make(torch.tensor(x))
        np.testing.assert_array_equal(v.numpy(), ref.numpy())
        assert v.requires_grad is False and v.grad_fn is None and v._base is base
        base.add_(1.0)
    np.testing.assert_array_equal(v.numpy(), ref.numpy() + 1)


def test_view_without_a_graph_still_refuses_to_copy():
    t = ember.zeros(4, 6).t()
    with ember.no_grad(), pytest.raises(RuntimeError, match="view size is not compatible"):
        t.view(24)


def test_views_are_traced_and_profiled_under_no_grad():
    """The tracer and the profiler still see the view ops (they take the op path)."""
    def fn(x):
        return x.view(2, 6).transpose(0, 1).split(2, dim=0)[1] * 2

    x = ember.randn(3, 4)
    with ember.no_grad():
        traced = ember.jit.trace(fn, x)
        y = ember.randn(3, 4)
        np.testing.assert_array_equal(traced(y).numpy(), fn(y).numpy())
        with ember.autograd.profiler.profile() as prof:
            fn(x)
    names = {e.name for e in prof.function_events}
    assert {"aten::view", "aten::permute", "aten::narrow"} <= names
