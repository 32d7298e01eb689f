"""SGD's one-pass update (``ember.optim._sgd_fused``) against the op-by-op update it
replaces (bit for bit) and against PyTorch, over several steps, for weight decay, momentum
and dampening, on parameters of one chunk and of several."""

import ember
import numpy as np
import pytest
import torch
from ember.optim import _sgd_fused


def _run(fw, shapes, kwargs, steps=4, fused=True, monkeypatch=None):
    rng = np.random.default_rng(0)
    params = [fw.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
              for s in shapes]
    opt = fw.optim.SGD(params, **kwargs)
    if fw is ember and not fused:
        monkeypatch.setattr(_sgd_fused, "usable", lambda *a: False)
    for k in range(steps):
        for p in params:
            p.grad = fw.tensor(rng.standard_normal(p.shape).astype(np.float32) * (k + 1))
        opt.step()
    return [p.detach().numpy() for p in params], \
        [opt.state[p]["momentum_buffer"].numpy() for p in params] if kwargs.get("momentum") \
        else []


SHAPES = [(3, 5), (700, 600), (17,)]  # (700, 600): several CHUNK-sized parts


@pytest.mark.parametrize("kwargs", [
    {"lr": 0.1}, {"lr": 0.1, "weight_decay": 1e-2}, {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-4},
    {"lr": 0.05, "momentum": 0.8, "dampening": 0.1, "weight_decay": 1e-3},
])
def test_equals_op_by_op_and_matches_torch(kwargs, monkeypatch):
    calls = []
    real = _sgd_fused.update
    monkeypatch.setattr(_sgd_fused, "update", lambda *a, **k: calls.append(1) or real(*a, **k))
    fused = _run(ember, SHAPES, kwargs)
    assert len(calls) == 4 * len(SHAPES)
    plain = _run(ember, SHAPES, kwargs, fused=False, monkeypatch=monkeypatch)
    want = _run(torch, SHAPES, kwargs)
    for a, b in zip(fused[0] + fused[1], plain[0] + plain[1]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(fused[0] + fused[1], want[0] + want[1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_update_bumps_versions_and_other_cases_take_the_op_path(monkeypatch):
    p = ember.zeros(4, requires_grad=True)
    p.grad = ember.ones(4)
    opt = ember.optim.SGD([p], lr=0.5, momentum=0.9)
    v = p._version
    opt.step()
    buf = opt.state[p]["momentum_buffer"]
    vb = buf._version
    opt.step()
    assert p._version == v + 2 and buf._version == vb + 1
    np.testing.assert_allclose(p.detach().numpy(), -0.5 - 0.5 * 1.9)
    calls = []
    monkeypatch.setattr(_sgd_fused, "update", lambda *a, **k: calls.append(1))
    for kwargs in ({"nesterov": True, "momentum": 0.9}, {"maximize": True}):
        ember.optim.SGD([p], lr=0.1, **kwargs).step()
    q = ember.zeros(4, 4, requires_grad=True)
    q.grad = ember.ones(4, 4).t()  # a non-contiguous gradient
    ember.optim.SGD([q], lr=0.1).step()
    assert calls == []
