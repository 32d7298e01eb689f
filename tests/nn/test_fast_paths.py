"""The numpy fast paths of GELU (float32 polynomial normal tail), softmax over the last dim,
layer norm and training batch norm (row forms, split over threads) against PyTorch, float64
references, the generic paths, and themselves across thread counts."""

import math

import ember
import ember.nn.functional as F
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from ember.ops import _onednn, _parallel
from ember.ops import activation as A
from nn_compare import assert_close, em, randn, th
from scipy.special import ndtr

SPECIALS = [math.inf, -math.inf, math.nan, 0.0, -0.0, 1e-30, -1e-30, 1e-40, -1e-40, 3e38,
            -3e38, 20.0, -20.0, 13.3, -13.3, 5.5, -5.5]


def _gelu_inputs():
    rng = np.random.default_rng(0)
    grid = np.linspace(-20, 20, 400_001)
    return np.concatenate([grid, rng.standard_normal(100_000) * 3, SPECIALS]).astype(np.float32)


@pytest.fixture(autouse=True)
def numpy_kernels(monkeypatch):
    """These are tests of the numpy fast paths: oneDNN (``ops._onednn``, whose GELU is
    PyTorch's: tests/nn/test_onednn_gelu.py) is off while they run."""
    monkeypatch.setattr(_onednn, "_enabled", False)


@pytest.fixture
def threads(monkeypatch):
    """Sets the thread count ``_parallel`` sees (so small inputs split too)."""
    def set_threads(n, min_part=_parallel.MIN_PART):
        monkeypatch.setattr(_parallel, "get_num_threads", lambda: n)
        monkeypatch.setattr(_parallel, "MIN_PART", min_part)
    return set_threads


def test_phi_tail_accuracy():
    a = np.linspace(0, 16, 1_600_001).astype(np.float32)
    with np.errstate(over="ignore"):
        _, y, _ = A._phi_tail(np, a)
    exact = ndtr(-a.astype(np.float64))
    assert np.abs(y - exact).max() < 2e-7  # a few float32 ulp of 0.5
    rel = np.abs(y - exact) / exact  # the fit is of the absolute error; relative in the tail:
    assert rel[a < 4].max() < 5e-5  # Phi(-4) ~ 3e-5
    assert rel[a < 8].max() < 2e-3  # Phi(-8) ~ 6e-16
    assert (y >= 0).all() and np.isfinite(y).all()


def test_gelu_float32_against_torch_and_exact():
    x = _gelu_inputs()
    got = F.gelu(ember.from_numpy(x)).numpy()
    ref = TF.gelu(torch.from_numpy(x)).numpy()
    # torch's float32 gelu at +-inf and +-3e38 depends on the CPU: its AVX-512 kernel gives
    # nan for +inf and overflows 3e38 to inf (AVX2 and float64: inf and 3e38); ember gives
    # the exact values everywhere, so those inputs are checked on their own
    fin = np.abs(x) < 1e38
    assert got[x == np.float32(3e38)][0] == np.float32(3e38)
    np.testing.assert_array_equal(np.isnan(got[fin]), np.isnan(ref[fin]))  # gelu(-inf) = nan
    # (atol: torch's 0.5 x (1 + erf(x / sqrt 2)) cancels in the negative tail; its AVX-512
    # kernel is off by up to 1.1e-6 near x = -3.4, where ember's stays within 2e-7 of exact)
    np.testing.assert_allclose(got[fin], ref[fin], rtol=1e-5, atol=2e-6)
    assert got[x == np.inf][0] == np.inf
    assert TF.gelu(torch.from_numpy(x[~fin]).double()).numpy()[0] == np.inf
    x64 = x.astype(np.float64)
    with np.errstate(invalid="ignore"):
        exact = x64 * ndtr(x64)
    fin = np.isfinite(exact)
    err = np.abs(got[fin] - exact[fin])
    assert (err <= 2e-7 * np.maximum(1, np.abs(x64[fin]))).all()
    neg = fin & (x64 < 0) & (x64 > -8)  # the negative tail keeps its relative accuracy
    assert (np.abs(got[neg] - exact[neg]) / np.abs(exact[neg])).max() < 2e-3


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_gelu_other_dtypes_against_torch(dtype):
    x = torch.from_numpy(_gelu_inputs()).to(dtype)
    ref = TF.gelu(x)
    got = F.gelu(ember.from_numpy(x.float().numpy()).to(getattr(ember, str(dtype)[6:])))
    assert str(got.dtype)[6:] == str(ref.dtype)[6:]
    g, r = got.float().numpy(), ref.float().numpy()
    xs = x.float().numpy()
    fin = np.abs(xs) < 1e38  # (torch's gelu there is CPU-dependent, see above)
    assert (g[xs == np.inf] == np.inf).all()
    g, r = g[fin], r[fin]
    np.testing.assert_array_equal(np.isnan(g), np.isnan(r))
    tol = 1e-12 if dtype == torch.float64 else 1e-2
    np.testing.assert_allclose(g, r, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_backward_against_torch(dtype):
    x = _gelu_inputs().astype(dtype)
    g = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    ex, tx = em(x, requires_grad=True), th(x, True)
    F.gelu(ex).backward(em(g))
    TF.gelu(tx).backward(th(g))
    got, ref = ex.grad.numpy(), tx.grad.numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6 if dtype == np.float32 else 1e-12)


def test_gelu_double_backward_float64():
    x = em(randn(3, 4, dtype=np.float64), requires_grad=True)
    assert ember.autograd.gradcheck(F.gelu, (x,))
    assert ember.autograd.gradgradcheck(F.gelu, (x,))


def test_gelu_shapes_and_layouts():
    x = randn(64, 48)
    for arr in (x.T, x[::2, 1::3], np.array(1.5, np.float32), np.zeros((0, 3), np.float32)):
        got = F.gelu(em(arr))
        assert tuple(got.shape) == arr.shape
        assert_close(got, TF.gelu(th(np.array(arr))), 1e-5, 1e-6)
    assert_close(F.gelu(em(x).t()), TF.gelu(th(x).t()), 1e-5, 1e-6)  # a non-contiguous view


def test_gelu_same_bits_for_any_thread_count_and_chunk(threads, monkeypatch):
    x = em(np.random.default_rng(2).standard_normal((37, 1001)).astype(np.float32))
    x.numpy()[3, 5:8] = [np.inf, -np.inf, np.nan]
    threads(1)
    one = F.gelu(x).numpy()
    threads(3, min_part=1000)
    assert _parallel.parts_for(x.numel()) == 3
    np.testing.assert_array_equal(F.gelu(x).numpy(), one)
    monkeypatch.setattr(A, "CHUNK", 999)  # parts walked in cache-sized steps
    np.testing.assert_array_equal(F.gelu(x).numpy(), one)
    assert one[3, 5] == np.inf and np.isnan(one[3, 6:8]).all()


@pytest.mark.parametrize("shape", [(8, 12, 16, 128), (3, 5), (2, 5000), (7,)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_last_dim_against_torch(shape, dtype):
    x = randn(*shape, dtype=dtype) * 4
    ex, tx = em(x, requires_grad=True), th(x, True)
    ey, ty = F.softmax(ex, -1), TF.softmax(tx, -1)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    assert_close(ey, ty, tol, tol)
    g = randn(*shape, seed=3, dtype=dtype)
    ey.backward(em(g))
    ty.backward(th(g))
    assert_close(ex.grad, tx.grad, tol, tol)


def test_softmax_special_rows_and_layouts():
    x = randn(5, 40) * 3
    x[0, 3], x[1, :] = np.inf, -np.inf
    x[2, 7], x[3, :] = np.nan, 1e30
    with np.errstate(invalid="ignore"):
        got = F.softmax(em(x), -1).numpy()
    ref = TF.softmax(th(x), -1).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-7)
    y = randn(6, 30, 9)
    assert_close(F.softmax(em(y).transpose(1, 2), -1), TF.softmax(th(y).transpose(1, 2), -1),
                 1e-6, 1e-7)
    assert_close(F.softmax(em(y), 1), TF.softmax(th(y), 1), 1e-6, 1e-7)  # generic path


def test_softmax_same_bits_for_any_thread_count(threads):
    x = em(randn(64, 12, 128))
    threads(1)
    one = F.softmax(x, -1).numpy()
    threads(2, min_part=1000)
    np.testing.assert_array_equal(F.softmax(x, -1).numpy(), one)


@pytest.mark.parametrize("shape,ns", [((8, 16, 96), (96,)), ((3, 5), (5,)),
                                      ((2, 3, 4, 5), (4, 5)), ((2, 6000), (6000,))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_against_torch(shape, ns, dtype, affine):
    x = randn(*shape, dtype=dtype) * 3 + 2
    ex, tx = em(x, requires_grad=True), th(x, True)
    if affine:
        w, b = randn(*ns, seed=1, dtype=dtype), randn(*ns, seed=2, dtype=dtype)
        ew, eb, tw, tb = em(w, requires_grad=True), em(b, requires_grad=True), th(w, True), \
            th(b, True)
        ey, ty = F.layer_norm(ex, ns, ew, eb, 1e-12), TF.layer_norm(tx, ns, tw, tb, 1e-12)
    else:
        ey, ty = F.layer_norm(ex, ns, eps=1e-5), TF.layer_norm(tx, ns, eps=1e-5)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert_close(ey, ty, tol, tol)
    g = randn(*shape, seed=4, dtype=dtype)
    ey.backward(em(g))
    ty.backward(th(g))
    assert_close(ex.grad, tx.grad, tol, tol)
    if affine:
        assert_close(ew.grad, tw.grad, tol, tol * 10)
        assert_close(eb.grad, tb.grad, tol, tol * 10)


def test_layer_norm_no_grad_and_threads_match(threads):
    x = em(randn(32, 64, 96))
    w, b = em(randn(96, seed=1)), em(randn(96, seed=2))
    threads(1)
    with ember.no_grad():
        one = F.layer_norm(x, (96,), w, b).numpy()
    threads(2, min_part=1000)
    np.testing.assert_array_equal(F.layer_norm(x, (96,), w, b).numpy(), one)


@pytest.mark.parametrize("shape", [(16, 8, 32, 32), (4, 6, 5, 5), (6, 5, 20), (4, 3, 4)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", [{}, {"affine": False}])
def test_batch_norm_train_against_torch(shape, dtype, kw):
    cls = "BatchNorm2d" if len(shape) == 4 else "BatchNorm1d"
    e, t = getattr(ember.nn, cls)(shape[1], **kw), getattr(torch.nn, cls)(shape[1], **kw)
    if dtype == np.float64:
        e, t = e.double(), t.double()
    if kw.get("affine", True):
        with torch.no_grad():
            t.weight.normal_()
            t.bias.normal_()
        e.weight.data, e.bias.data = em(t.weight.detach().numpy()), em(t.bias.detach().numpy())
    x = randn(*shape, dtype=dtype) * 3 + 2
    g = randn(*shape, seed=5, dtype=dtype)
    ex, tx = em(x, requires_grad=True), th(x, True)
    ey, ty = e(ex), t(tx)
    ey.backward(em(g))
    ty.backward(th(g))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert_close(ey, ty, tol, tol)
    assert_close(ex.grad, tx.grad, tol, tol)
    assert_close(e.running_mean, t.running_mean, tol, tol)
    assert_close(e.running_var, t.running_var, tol, tol)
    if kw.get("affine", True):
        assert_close(e.weight.grad, t.weight.grad, tol * 10, tol * 100)
        assert_close(e.bias.grad, t.bias.grad, tol * 10, tol * 100)


@pytest.mark.parametrize("need", ["input", "weight"])
def test_batch_norm_train_partial_grads(need):
    e, t = ember.nn.BatchNorm2d(4), torch.nn.BatchNorm2d(4)
    x, g = randn(3, 4, 6, 6) + 1, randn(3, 4, 6, 6, seed=1)
    ex, tx = em(x, requires_grad=need == "input"), th(x, need == "input")
    if need == "input":
        e.weight.requires_grad_(False)
        e.bias.requires_grad_(False)
        t.weight.requires_grad_(False)
        t.bias.requires_grad_(False)
    e(ex).backward(em(g))
    t(tx).backward(th(g))
    if need == "input":
        assert_close(ex.grad, tx.grad, 1e-5, 1e-5)
        assert e.weight.grad is None
    else:
        assert ex.grad is None
        assert_close(e.weight.grad, t.weight.grad, 1e-5, 1e-5)
        assert_close(e.bias.grad, t.bias.grad, 1e-5, 1e-5)


def test_batch_norm_train_threads_match(threads):
    x = randn(16, 8, 16, 16) * 2 + 1
    g = randn(16, 8, 16, 16, seed=1)
    outs = []
    for n in (1, 3):
        threads(n, min_part=1000)
        e = ember.nn.BatchNorm2d(8)
        ex = em(x, requires_grad=True)
        y = e(ex)
        y.backward(em(g))
        outs.append((y.detach().numpy(), ex.grad.numpy(), e.weight.grad.numpy(),
                     e.running_var.numpy()))
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)


def test_batch_norm_train_double_backward_float64():
    x = em(randn(4, 3, 4, 5, dtype=np.float64), requires_grad=True)
    w = em(randn(3, seed=1, dtype=np.float64), requires_grad=True)
    b = em(randn(3, seed=2, dtype=np.float64), requires_grad=True)

    def f(x, w, b):
        return F.batch_norm(x, None, None, w, b, training=True)

    assert ember.autograd.gradcheck(f, (x, w, b))
    assert ember.autograd.gradgradcheck(f, (x, w, b))


@pytest.mark.parametrize("n_threads", [1, 2])
def test_relu_large_arrays_threaded(threads, n_threads):
    """ReLU's chunked/threaded array paths (forward, the gradient ``g * (y > 0)`` in one
    pass, in-place ``relu_`` under no_grad) equal torch's, on arrays large enough to split,
    with NaN, signed zeros and infinities; integers in place; a non-contiguous input takes
    the plain path; an in-place change of a value saved for backward is still caught."""
    threads(n_threads)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 8, 96, 96)).astype(np.float32)
    x.flat[:6] = [np.nan, -0.0, 0.0, np.inf, -np.inf, 1e-40]
    g = rng.standard_normal(x.shape).astype(np.float32)
    ex, tx = em(x, requires_grad=True), th(x, True)
    ey, ty = F.relu(ex), TF.relu(tx)
    np.testing.assert_array_equal(ey.detach().numpy(), ty.detach().numpy())
    ey.backward(em(g))
    ty.backward(th(g))
    np.testing.assert_array_equal(ex.grad.numpy(), tx.grad.numpy())
    with ember.no_grad():
        a, b = em(x), th(x)
        a.relu_()
        b.relu_()
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        t = em(x).permute(0, 2, 3, 1)
        np.testing.assert_array_equal(F.relu(t).numpy(), TF.relu(th(x).permute(0, 2, 3, 1)).numpy())
    ints = rng.integers(-5, 5, x.shape)
    a = ember.tensor(ints)
    a.relu_()
    np.testing.assert_array_equal(a.numpy(), np.maximum(ints, 0))
    w = em(x[:1], requires_grad=True)
    h = w * 2
    y = h.sigmoid()  # saves its output
    y.relu_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("dot_max", [8192, 1], ids=["dots", "products"])
@pytest.mark.parametrize("chunk", [1, 300])
def test_batch_norm_train_rows_in_blocks_offsets_and_layouts(threads, monkeypatch, chunk,
                                                             dot_max):
    """The row form of training batch norm over two threads, a row at a time (``chunk`` 1:
    samples larger than a chunk) or two samples at a time (300 values: blocks of whole
    samples), row sums of products as BLAS dots or as products and sums (``dot_max``): a
    large mean offset (two-pass statistics, no cancellation), a permuted (non-contiguous)
    input, an expanded gradient (from ``sum``), and bias without weight, all against
    torch."""
    import ember.ops._channel_blocks as blocks

    monkeypatch.setattr(blocks, "CHUNK", chunk)
    monkeypatch.setattr(blocks, "DOT_MAX", dot_max)
    threads(2, min_part=1)
    x = randn(6, 4, 5, 7) * 0.5 + 1000.0  # float32 mean 1000, std 0.5
    ex, tx = em(x, requires_grad=True), th(x, True)
    ey = F.batch_norm(ex, None, None, training=True)
    ty = TF.batch_norm(tx, None, None, training=True)
    assert_close(ey, ty, 2e-4, 2e-4)
    (ey * em(randn(6, 4, 5, 7, seed=2))).sum().backward()
    (ty * th(randn(6, 4, 5, 7, seed=2))).sum().backward()
    assert_close(ex.grad, tx.grad, 2e-3, 2e-3)
    xp = randn(4, 5, 3, 6, seed=3)  # (N, H, C, W) -> (N, C, H, W) view
    b = randn(3, seed=4)
    ex, tx = em(xp, requires_grad=True), th(xp, True)
    eb, tb = em(b, requires_grad=True), th(b, True)
    ey = F.batch_norm(ex.permute(0, 2, 1, 3), None, None, None, eb, training=True)
    ty = TF.batch_norm(tx.permute(0, 2, 1, 3), None, None, None, tb, training=True)
    assert_close(ey, ty, 1e-5, 1e-5)
    (ey ** 2).sum().backward()
    (ty ** 2).sum().backward()
    assert_close(ex.grad, tx.grad, 1e-4, 1e-4)
    assert_close(eb.grad, tb.grad, 1e-4, 1e-4)
    ex2, tx2 = em(xp, requires_grad=True), th(xp, True)
    F.batch_norm(ex2, None, None, em(randn(5, seed=6)), None,
                 training=True).sum().backward()  # gradient: an expanded array of ones
    TF.batch_norm(tx2, None, None, th(randn(5, seed=6)), None, training=True).sum().backward()
    assert_close(ex2.grad, tx2.grad, 1e-5, 1e-5)


@pytest.mark.parametrize("n_threads", [1, 2])
def test_add_large_arrays_threaded(threads, n_threads):
    """Large same-shape adds (the op, in-place under no_grad and with a graph) split over
    threads equal numpy's; an in-place add of an overlapping view keeps numpy's buffered
    semantics (the split would read values already written)."""
    threads(n_threads)
    rng = np.random.default_rng(2)
    a = rng.standard_normal(300_000).astype(np.float32)
    b = rng.standard_normal(300_000).astype(np.float32)
    ea, eb = em(a, requires_grad=True), em(b, requires_grad=True)
    y = ea + eb
    np.testing.assert_array_equal(y.detach().numpy(), a + b)
    y.backward(em(b))
    np.testing.assert_array_equal(ea.grad.numpy(), b)
    with ember.no_grad():
        t = em(a.copy())
        t += em(b)
        np.testing.assert_array_equal(t.numpy(), a + b)
        big = np.arange(600_001, dtype=np.float64)
        t = ember.from_numpy(big.copy())
        t[1:] += t[:-1]
        ref = big.copy()
        ref[1:] += ref[:-1].copy()
        np.testing.assert_array_equal(t.numpy(), ref)
