"""Matrix products on oneDNN (``ember.ops._onednn.matmul``, reached through
``ops._parallel.matmul``: ``nn.Linear``, ``@``, ``bmm``) against PyTorch and float64
references: shapes, transposed and sliced operands, batches, bias; which products take
oneDNN (float32 with at least two rows and ``MATMUL_MIN_MACS``) and which stay on numpy."""

import ember
import numpy as np
import pytest
import torch
from ember.ops import _onednn, _parallel
from onednn_runs import record_runs

pytestmark = pytest.mark.skipif(not _onednn.available(),
                                reason="oneDNN is not installed (only on x86-64 Linux)")


@pytest.fixture
def runs(monkeypatch):
    """The output shapes of the oneDNN matmul executions."""
    return record_runs(monkeypatch, lambda kind, shape: shape if kind == "matmul" else None)


def _f32(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


CASES = [  # (a, b) makers from a generator: plain, transposed, sliced, batched
    lambda r: (_f32(r, 128, 784), _f32(r, 512, 784).T),
    lambda r: (_f32(r, 300, 64), _f32(r, 64, 200)),
    lambda r: (_f32(r, 64, 300).T, _f32(r, 200, 64).T),
    lambda r: (_f32(r, 256, 130)[:, 1:129], _f32(r, 256, 128)[::2]),  # leading dims 130, 256
    lambda r: (_f32(r, 12, 128, 64), _f32(r, 12, 128, 64).transpose(0, 2, 1)),
    lambda r: (_f32(r, 2, 3, 100, 40), _f32(r, 2, 3, 40, 90)),
]


@pytest.mark.parametrize("make", CASES, ids=[str(i) for i in range(len(CASES))])
def test_products_match_float64(make, runs):
    a, b = make(np.random.default_rng(0))
    got = _parallel.matmul(a, b)
    assert len(runs) == 1 and got.shape == a.shape[:-1] + b.shape[-1:]
    assert got.dtype == np.float32 and got.flags.c_contiguous
    np.testing.assert_allclose(got, a.astype(np.float64) @ b.astype(np.float64),
                               rtol=1e-4, atol=1e-4)


def test_bias_is_added(runs):
    rng = np.random.default_rng(1)
    a, w, bias = _f32(rng, 64, 96), _f32(rng, 80, 96), _f32(rng, 80)
    got = _parallel.matmul(a, w.T, bias)
    assert len(runs) == 1
    np.testing.assert_allclose(got, a.astype(np.float64) @ w.T.astype(np.float64) + bias,
                               rtol=1e-4, atol=1e-4)


def test_what_stays_on_numpy(runs):
    rng = np.random.default_rng(2)
    big = _f32(rng, 256, 256)
    cases = [(big.astype(np.float64), big.astype(np.float64)),  # float64
             (_f32(rng, 1, 4096), _f32(rng, 4096, 512)),  # one row: numpy's GEMV is faster
             (_f32(rng, 16, 16), _f32(rng, 16, 16)),  # below MATMUL_MIN_MACS
             (_f32(rng, 3, 64, 64), _f32(rng, 1, 64, 64)),  # broadcast batch dims
             (big, _f32(rng, 256, 512)[:, ::2])]  # no unit stride: oneDNN's reference kernel
    for a, b in cases:
        np.testing.assert_allclose(_parallel.matmul(a, b), np.matmul(a, b), rtol=1e-5,
                                   atol=1e-4)
    assert runs == []


def test_linear_and_bmm_match_torch(runs):
    rng = np.random.default_rng(3)
    x, w, bias = _f32(rng, 4, 50, 96), _f32(rng, 120, 96), _f32(rng, 120)
    q, k = _f32(rng, 8, 50, 32), _f32(rng, 8, 50, 32)
    results = []
    for lib in (ember, torch):
        tx, tw, tb = (lib.tensor(v, requires_grad=True) for v in (x, w, bias))
        tq, tk = lib.tensor(q, requires_grad=True), lib.tensor(k, requires_grad=True)
        y = lib.nn.functional.linear(tx, tw, tb)
        s = lib.bmm(tq, tk.transpose(1, 2))
        ((y * y).sum() + (s * s).sum()).backward()
        results.append([t.detach().numpy() for t in (y, s, tx.grad, tw.grad, tb.grad,
                                                     tq.grad, tk.grad)])
    assert len(runs) >= 6  # forward and gradient products
    for e, t in zip(*results):
        np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-3)


def test_numpy_path_gives_the_same(monkeypatch):
    rng = np.random.default_rng(4)
    a, b = _f32(rng, 200, 300), _f32(rng, 300, 100)
    got = _parallel.matmul(a, b)
    monkeypatch.setattr(_onednn, "_enabled", False)
    np.testing.assert_allclose(got, _parallel.matmul(a, b), rtol=1e-5, atol=1e-4)


def test_lstm_products_take_onednn_and_match_torch(runs):
    """The recurrent layers' products (``ops.rnn``) go through ``_parallel.matmul`` too, so
    that OpenBLAS's threads are not woken between oneDNN calls."""
    x = _f32(np.random.default_rng(5), 6, 20, 64)  # (T, B, I)
    torch.manual_seed(0)
    t_lstm = torch.nn.LSTM(64, 128, num_layers=2)
    e_lstm = ember.nn.LSTM(64, 128, num_layers=2)
    e_lstm.load_state_dict({k: ember.tensor(v.detach().numpy())
                            for k, v in t_lstm.state_dict().items()})
    results = []
    for lib, lstm in ((ember, e_lstm), (torch, t_lstm)):
        xx = lib.tensor(x, requires_grad=True)
        out, _ = lstm(xx)
        (out * out).sum().backward()
        results.append([out.detach().numpy(), xx.grad.numpy(),
                        lstm.weight_hh_l0.grad.numpy()])
    assert len(runs) >= 2 * 6  # at least a recurrent product per step and layer
    for e, t in zip(*results):
        np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-4)
