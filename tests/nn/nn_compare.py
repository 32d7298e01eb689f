"""Helpers that run an ember layer and its PyTorch twin on identical inputs and parameters
and compare outputs and gradients (inputs and every parameter)."""

from __future__ import annotations

import ember
import numpy as np
import torch

RTOL, ATOL = 1e-4, 1e-5


def tnp(x) -> np.ndarray:
    """A numpy copy of an ember or torch tensor (any device)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x.detach().cpu().numpy())


def assert_close(a, b, rtol=RTOL, atol=ATOL, msg="") -> None:
    """Same shape and values (ember/torch tensors or arrays)."""
    a = tnp(a) if not isinstance(a, np.ndarray) else a
    b = tnp(b) if not isinstance(b, np.ndarray) else b
    assert a.shape == b.shape, f"{msg}: shape {a.shape} != {b.shape}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=msg)


def em(a: np.ndarray, device="cpu", requires_grad=False) -> ember.Tensor:
    """An ember tensor holding a copy of ``a``."""
    t = ember.from_numpy(np.array(a, copy=True)).to(device)
    if requires_grad:
        t.requires_grad_()
    return t


def th(a: np.ndarray, requires_grad=False) -> torch.Tensor:
    """A torch tensor holding a copy of ``a``."""
    return torch.tensor(np.array(a, copy=True), requires_grad=requires_grad)


def load_from_torch(emod: ember.nn.Module, tmod: torch.nn.Module, device="cpu"):
    """Copies ``tmod``'s state_dict into ``emod`` (keys must match exactly)."""
    sd = {k: ember.from_numpy(v.detach().numpy().copy()) for k, v in
          tmod.state_dict().items()}
    emod.load_state_dict(sd)
    emod.to(device)
    return emod


def randn(*shape, seed=0, dtype=np.float32) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _outputs(o):
    """The tensors of a (possibly nested) output, flattened."""
    if isinstance(o, (tuple, list)):
        return [t for item in o for t in _outputs(item)]
    return [o]


def check_module(emod, tmod, *inputs, device="cpu", train=True, rtol=RTOL, atol=ATOL,
                 grad=True, load=True, kwargs=None, no_grad_inputs=()):
    """Runs ``emod`` and ``tmod`` on ``inputs`` (numpy arrays; floating ones get gradients)
    with the same parameters, and compares outputs, input gradients and parameter
    gradients. Returns the ember outputs."""
    kwargs = kwargs or {}
    if load:
        load_from_torch(emod, tmod, device)
    emod.train(train)
    tmod.train(train)
    floating = [np.issubdtype(np.asarray(a).dtype, np.floating) and i not in no_grad_inputs
                for i, a in enumerate(inputs)]
    ein = [em(a, device, grad and f) for a, f in zip(inputs, floating)]
    tin = [th(a, grad and f) for a, f in zip(inputs, floating)]
    eout = _outputs(emod(*ein, **kwargs))
    tout = _outputs(tmod(*tin, **kwargs))
    assert len(eout) == len(tout)
    for i, (e, t) in enumerate(zip(eout, tout)):
        assert_close(e, t, rtol, atol, f"output {i}")
    if not grad:
        return eout
    diff = [(e, t) for e, t in zip(eout, tout) if t.requires_grad]
    if not diff:
        return eout
    gs = [randn(*t.shape, seed=10 + i) for i, (_, t) in enumerate(diff)]
    torch.autograd.backward([t for _, t in diff], [th(g) for g in gs])
    ember.autograd.backward([e for e, _ in diff], [em(g, device) for g in gs])
    for i, (e, t) in enumerate(zip(ein, tin)):
        if t.requires_grad:
            _check_grad(e.grad, t.grad, rtol, atol, f"grad of input {i}")
    tparams = dict(tmod.named_parameters())
    for name, p in emod.named_parameters():
        tp = tparams[name]
        if tp.grad is None:
            assert p.grad is None or not np.any(tnp(p.grad)), f"grad of {name}"
        else:
            assert p.grad is not None, f"no grad for {name}"
            assert_close(p.grad, tp.grad, rtol, atol, f"grad of {name}")
    tbuf = dict(tmod.named_buffers())
    for name, b in emod.named_buffers():
        assert_close(b, tbuf[name], rtol, atol, f"buffer {name}")
    return eout


def check_fn(efn, tfn, *inputs, device="cpu", rtol=RTOL, atol=ATOL, grad=True):
    """Like ``check_module`` for functions: ``efn(*ember_inputs)`` vs
    ``tfn(*torch_inputs)``."""
    floating = [np.issubdtype(np.asarray(a).dtype, np.floating) for a in inputs]
    ein = [em(a, device, grad and f) for a, f in zip(inputs, floating)]
    tin = [th(a, grad and f) for a, f in zip(inputs, floating)]
    eout = _outputs(efn(*ein))
    tout = _outputs(tfn(*tin))
    for i, (e, t) in enumerate(zip(eout, tout)):
        assert_close(e, t, rtol, atol, f"output {i}")
    if not grad:
        return eout
    diff = [(e, t) for e, t in zip(eout, tout) if t.requires_grad]
    if diff:
        gs = [randn(*t.shape, seed=20 + i) for i, (_, t) in enumerate(diff)]
        torch.autograd.backward([t for _, t in diff], [th(g) for g in gs])
        ember.autograd.backward([e for e, _ in diff], [em(g, device) for g in gs])
        for i, (e, t) in enumerate(zip(ein, tin)):
            if t.requires_grad:
                _check_grad(e.grad, t.grad, rtol, atol, f"grad of input {i}")
    return eout


def _check_grad(eg, tg, rtol, atol, msg):
    """Gradients agree; a missing gradient matches an all-zero (or missing) one."""
    if eg is None or tg is None:
        other = tg if eg is None else eg
        assert other is None or not np.any(tnp(other)), f"{msg}: one side has no gradient"
        return
    assert_close(eg, tg, rtol, atol, msg)
