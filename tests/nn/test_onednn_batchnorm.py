"""Training-mode batch norm on oneDNN (``ember.ops._onednn_bnorm``) against PyTorch:
forward, running statistics and all three gradients for 1-D/2-D/3-D inputs, with and
without affine parameters; which calls take oneDNN (float32; forwards up to FORWARD_MAX
values, backwards of any size) and which stay on numpy."""

import ember
import numpy as np
import pytest
import torch
from ember.ops import _onednn, _onednn_bnorm
from onednn_runs import record_runs

pytestmark = pytest.mark.skipif(not _onednn.available(),
                                reason="oneDNN is not installed (only on x86-64 Linux)")


@pytest.fixture
def runs(monkeypatch):
    """The kinds of the oneDNN batch-norm executions."""
    return record_runs(monkeypatch, lambda kind, shape: kind if "batch_norm" in kind else None)


def _train_step(fw, cls, x, g, affine, state=None):
    bn = cls(x.shape[1], affine=affine, momentum=0.3)
    if state is not None:
        bn.load_state_dict({k: fw.tensor(v) for k, v in state.items()})
    bn.train()
    xt = fw.tensor(x, requires_grad=True)
    y = bn(xt)
    y.backward(fw.tensor(g))
    out = {"y": y.detach().numpy(), "gx": xt.grad.numpy(),
           "running_mean": bn.running_mean.numpy(), "running_var": bn.running_var.numpy()}
    if affine:
        out["gw"], out["gb"] = bn.weight.grad.numpy(), bn.bias.grad.numpy()
    return out


@pytest.mark.parametrize("shape, cls", [
    ((8, 16, 12, 12), "BatchNorm2d"), ((4, 32, 7, 7), "BatchNorm2d"),
    ((6, 5, 20), "BatchNorm1d"), ((2, 4, 3, 5, 6), "BatchNorm3d"),
    ((2, 3, 1030, 700), "BatchNorm2d"),  # above FORWARD_MAX: forward on numpy
])
@pytest.mark.parametrize("affine", [True, False])
def test_matches_torch(shape, cls, affine, runs):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    c = shape[1]
    state = None
    if affine:
        state = {"weight": rng.uniform(0.5, 1.5, c).astype(np.float32),
                 "bias": rng.standard_normal(c).astype(np.float32),
                 "running_mean": np.zeros(c, np.float32), "running_var": np.ones(c, np.float32),
                 "num_batches_tracked": np.array(0)}
    got = _train_step(ember, getattr(ember.nn, cls), x, g, affine, state)
    want = _train_step(torch, getattr(torch.nn, cls), x, g, affine, state)
    big = np.prod(shape) > _onednn_bnorm.FORWARD_MAX
    assert runs == (["batch_norm_bwd"] if big else ["batch_norm", "batch_norm_bwd"])
    for k in want:
        scale = max(1.0, float(np.abs(want[k]).max()))
        tol = 2e-5 * scale if k in ("y", "gx", "running_mean", "running_var") else \
            3e-6 * np.sqrt(np.prod(shape) / c) * scale  # (sums over N * L values)
        np.testing.assert_allclose(got[k], want[k], rtol=0, atol=tol, err_msg=k)


def test_float64_and_disabled_stay_on_numpy(runs, monkeypatch):
    x = ember.randn(4, 3, 5, 5, dtype=ember.float64, requires_grad=True)
    ember.nn.BatchNorm2d(3, dtype=ember.float64)(x).sum().backward()
    assert runs == []
    monkeypatch.setattr(_onednn, "_enabled", False)
    x = ember.randn(4, 3, 5, 5, requires_grad=True)
    ember.nn.BatchNorm2d(3)(x).sum().backward()
    assert runs == []


def test_input_gradient_not_needed_stays_on_numpy(runs):
    """Only the parameters' gradients: the numpy row sums (oneDNN would also compute the
    input gradient)."""
    bn = ember.nn.BatchNorm2d(3)
    bn(ember.randn(4, 3, 5, 5)).sum().backward()
    assert runs == ["batch_norm"]
    assert bn.weight.grad is not None and bn.bias.grad is not None


def test_double_backward_matches_torch():
    """create_graph takes the op-level formula (not oneDNN): second derivatives as torch's."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, 6, 6)).astype(np.float32)
    outs = []
    for fw in (ember, torch):
        xt = fw.tensor(x, requires_grad=True)
        y = fw.nn.functional.batch_norm(xt, None, None, training=True)
        (gx,) = fw.autograd.grad((y ** 3).sum(), xt, create_graph=True)
        (ggx,) = fw.autograd.grad(gx.square().sum(), xt)
        outs.append((gx.detach().numpy(), ggx.numpy()))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)
