"""GELU on oneDNN (``ember.ops._onednn.gelu``): forward and gradient against PyTorch, both
approximations, special values, float16/bfloat16 (computed in float32), shapes and
layouts, and what stays on numpy (small arrays, float64, a graph of the gradient)."""

import ember
import ember.nn.functional as F
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from ember.ops import _onednn
from nn_compare import assert_close

pytestmark = pytest.mark.skipif(not _onednn.available(),
                                reason="oneDNN is not installed (only on x86-64 Linux)")

SPECIALS = [np.inf, -np.inf, np.nan, 3e38, -3e38, 0.0, -0.0, 1e-40, -1e-40, 20.0, -20.0, -5.5]


@pytest.fixture
def runs(monkeypatch):
    calls = []
    real = _onednn._Entry.run

    def run(self, arrays, out_shape):
        calls.append(self.kind)
        return real(self, arrays, out_shape)

    monkeypatch.setattr(_onednn._Entry, "run", run)
    return calls


def _inputs():
    rng = np.random.default_rng(0)
    return np.concatenate([np.linspace(-20, 20, 200_001), rng.standard_normal(50_000) * 3,
                           SPECIALS]).astype(np.float32)


def _both(x, approximate):
    ex = ember.from_numpy(x).requires_grad_()
    tx = torch.from_numpy(x).requires_grad_()
    g = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    ey, ty = F.gelu(ex, approximate=approximate), TF.gelu(tx, approximate=approximate)
    ey.backward(ember.from_numpy(g))
    ty.backward(torch.from_numpy(g))
    return (ey.detach().numpy(), ex.grad.numpy()), (ty.detach().numpy(), tx.grad.numpy())


def test_erf_gelu_equals_torch(runs):
    """oneDNN's kernel and PyTorch's give the same bits, special values included."""
    (y, gx), (ty, tgx) = _both(_inputs(), "none")
    assert runs == ["eltwise", "eltwise_bwd"]
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(gx, tgx)


def test_tanh_gelu_matches_torch(runs):
    x = _inputs()
    (y, gx), (ty, tgx) = _both(x, "tanh")
    assert runs == ["eltwise", "eltwise_bwd"]
    np.testing.assert_array_equal(np.isnan(y), np.isnan(ty))
    fin = np.isfinite(x)
    np.testing.assert_allclose(y[fin], ty[fin], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(gx[fin], tgx[fin], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision_is_computed_in_float32(dtype, runs):
    x = torch.from_numpy(np.linspace(-6, 6, 40_000).astype(np.float32)).to(getattr(torch, dtype))
    got = F.gelu(ember.from_numpy(x.float().numpy()).to(getattr(ember, dtype)))
    assert runs == ["eltwise"] and str(got.dtype) == f"ember.{dtype}"
    assert_close(got.float(), TF.gelu(x).float(), rtol=1e-2, atol=1e-2)


def test_shapes_and_layouts(runs):
    base = np.random.default_rng(2).standard_normal((8, 64, 96)).astype(np.float32)
    for view in (lambda a: a, lambda a: a.permute(2, 0, 1), lambda a: a[:, ::2]):
        got = F.gelu(view(ember.from_numpy(base)))
        ref = TF.gelu(view(torch.from_numpy(base)))
        assert tuple(got.shape) == tuple(ref.shape)
        # (torch's strided inputs take its scalar loop, a last bit away from its vector one)
        np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=0, atol=1e-6)
    assert runs == ["eltwise"] * 3


def test_what_stays_on_numpy(runs):
    small = np.linspace(-3, 3, 100).astype(np.float32)
    assert_close(F.gelu(ember.from_numpy(small)), TF.gelu(torch.from_numpy(small)),
                 rtol=1e-6, atol=1e-6)
    x64 = np.linspace(-3, 3, 50_000)
    assert_close(F.gelu(ember.from_numpy(x64)), TF.gelu(torch.from_numpy(x64)),
                 rtol=1e-12, atol=1e-12)
    assert runs == []
    # the thresholds by form (ELTWISE_MIN): erf from 256 values, tanh (cheaper on numpy)
    # from 8,192
    mid = np.linspace(-3, 3, 3000).astype(np.float32)
    for approximate, want in (("none", ["eltwise"]), ("tanh", [])):
        runs.clear()
        got = F.gelu(ember.from_numpy(mid), approximate=approximate)
        assert runs == want
        assert_close(got, TF.gelu(torch.from_numpy(mid), approximate=approximate),
                     rtol=1e-6, atol=1e-6)
    runs.clear()
    # a graph of the gradient (double backward) keeps ember's own ops for the backward
    x = ember.from_numpy(np.linspace(-3, 3, 50_000).astype(np.float32)).requires_grad_()
    (gx,) = ember.autograd.grad(F.gelu(x).sum(), x, create_graph=True)
    (ggx,) = ember.autograd.grad(gx.sum(), x)
    tx = torch.from_numpy(x.detach().numpy()).requires_grad_()
    (tgx,) = torch.autograd.grad(TF.gelu(tx).sum(), tx, create_graph=True)
    (tggx,) = torch.autograd.grad(tgx.sum(), tx)
    assert runs == ["eltwise"]
    assert_close(gx, tgx, rtol=1e-5, atol=1e-5)
    assert_close(ggx, tggx, rtol=1e-4, atol=1e-4)
