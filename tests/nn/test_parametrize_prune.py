"""nn.utils.parametrize, parametrizations (weight_norm, spectral_norm, orthogonal), the
legacy weight_norm / spectral_norm hooks and nn.utils.prune against PyTorch: outputs,
gradients, state_dict keys and masks."""

import ember
import ember.nn as nn
import numpy as np
import pytest
import torch
import torch.nn.utils.prune  # noqa: F401 - makes torch.nn.utils.prune reachable
from ember.nn.utils import parametrize, prune
from nn_compare import assert_close, em, load_from_torch, randn, th, tnp

P_E, P_T = ember.nn.utils.parametrizations, torch.nn.utils.parametrizations


class _SymE(nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).transpose(-1, -2)

    def right_inverse(self, x):
        return x.triu()


class _SymT(torch.nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).transpose(-1, -2)

    def right_inverse(self, x):
        return x.triu()


class _ScaleE(nn.Module):
    def forward(self, x):
        return x * 2

    def right_inverse(self, x):
        return x / 2


class _ScaleT(torch.nn.Module):
    def forward(self, x):
        return x * 2

    def right_inverse(self, x):
        return x / 2


def _pair(ctor_e, ctor_t):
    """An ember and a torch module with the same weights."""
    t = ctor_t()
    e = ctor_e()
    load_from_torch(e, t)
    return e, t


def _run(e, t, x, grad=True):
    """Forward both on ``x``; compare outputs and (with ``grad``) the gradients of every
    parameter by name. Returns the ember output."""
    xe, xt = em(x, requires_grad=True), th(x, requires_grad=True)
    ye, yt = e(xe), t(xt)
    assert_close(ye, yt, msg="output")
    if grad:
        g = randn(*yt.shape, seed=5)
        ye.backward(em(g))
        yt.backward(th(g))
        assert_close(xe.grad, xt.grad, msg="input grad")
        tp = dict(t.named_parameters())
        for name, p in e.named_parameters():
            assert name in tp, name
            if tp[name].grad is None:
                assert p.grad is None or not np.any(tnp(p.grad)), name
            else:
                assert_close(p.grad, tp[name].grad, msg=f"grad of {name}")
    return ye


def test_register_parametrization_keys_outputs_grads():
    e, t = _pair(lambda: nn.Linear(4, 4), lambda: torch.nn.Linear(4, 4))
    parametrize.register_parametrization(e, "weight", _SymE())
    torch.nn.utils.parametrize.register_parametrization(t, "weight", _SymT())
    assert type(e).__name__ == type(t).__name__ == "ParametrizedLinear"
    assert list(e.state_dict()) == list(t.state_dict()) == [
        "bias", "parametrizations.weight.original"]
    assert parametrize.is_parametrized(e) and parametrize.is_parametrized(e, "weight")
    assert not parametrize.is_parametrized(e, "bias")
    assert_close(e.weight, t.weight)
    _run(e, t, randn(3, 4))
    # a chained parametrization with right_inverse; assignment goes through right_inverse
    parametrize.register_parametrization(e, "weight", _ScaleE())
    torch.nn.utils.parametrize.register_parametrization(t, "weight", _ScaleT())
    assert list(e.state_dict()) == list(t.state_dict())
    _run(e, t, randn(3, 4, seed=1))
    w = randn(4, 4, seed=2)
    w = w + w.T
    e.weight = em(w)
    with torch.no_grad():
        t.weight = th(w)
    assert_close(e.parametrizations.weight.original, t.parametrizations.weight.original)
    assert_close(e.weight, w)


def test_parametrize_cached_and_remove():
    e = nn.Linear(3, 3)
    calls = []

    class Count(nn.Module):
        def forward(self, x):
            calls.append(1)
            return x * 1.0

    parametrize.register_parametrization(e, "weight", Count())
    calls.clear()
    with parametrize.cached():
        a = e.weight
        b = e.weight
    assert a is b and len(calls) == 1
    _ = e.weight
    assert len(calls) == 2
    parametrize.remove_parametrizations(e, "weight")
    assert type(e) is nn.Linear and not parametrize.is_parametrized(e)
    assert list(e.state_dict()) == ["bias", "weight"]  # as PyTorch: re-registered last
    assert isinstance(e.weight, nn.Parameter)


@pytest.mark.parametrize("leave", [True, False])
def test_remove_parametrizations_matches_torch(leave):
    e, t = _pair(lambda: nn.Linear(3, 3), lambda: torch.nn.Linear(3, 3))
    parametrize.register_parametrization(e, "weight", _SymE())
    torch.nn.utils.parametrize.register_parametrization(t, "weight", _SymT())
    parametrize.remove_parametrizations(e, "weight", leave_parametrized=leave)
    torch.nn.utils.parametrize.remove_parametrizations(t, "weight", leave_parametrized=leave)
    assert type(e).__name__ == type(t).__name__ == "Linear"
    assert_close(e.weight, t.weight)
    assert list(e.state_dict()) == list(t.state_dict())


def test_parametrization_errors():
    e = nn.Linear(3, 3)
    with pytest.raises(ValueError, match="does not have a parameter"):
        parametrize.register_parametrization(e, "nope", _SymE())

    class Shrink(nn.Module):
        def forward(self, x):
            return x[:2]

    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(e, "weight", Shrink())
    with pytest.raises(ValueError, match="does not have a parametrization"):
        parametrize.remove_parametrizations(e, "weight")


@pytest.mark.parametrize("dim", [0, 1, None])
def test_parametrizations_weight_norm(dim):
    e, t = _pair(lambda: nn.Conv2d(2, 3, 3), lambda: torch.nn.Conv2d(2, 3, 3))
    P_E.weight_norm(e, dim=dim)
    P_T.weight_norm(t, dim=dim)
    assert list(e.state_dict()) == list(t.state_dict()) == [
        "bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    for k, v in t.state_dict().items():
        assert_close(e.state_dict()[k], v, msg=k)
    _run(e, t, randn(2, 2, 5, 5))


def test_parametrizations_weight_norm_loads_legacy_keys():
    t = torch.nn.Linear(4, 3)
    with pytest.warns(FutureWarning):
        torch.nn.utils.weight_norm(t)
    legacy = {k: ember.from_numpy(tnp(v)) for k, v in t.state_dict().items()}
    assert set(legacy) == {"bias", "weight_g", "weight_v"}
    e = P_E.weight_norm(nn.Linear(4, 3))
    e.load_state_dict(legacy)
    assert_close(e.weight, t.weight)


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("dim", [0, None])
def test_legacy_weight_norm(dim):
    e, t = _pair(lambda: nn.Linear(4, 3), lambda: torch.nn.Linear(4, 3))
    with pytest.warns(FutureWarning):
        nn.utils.weight_norm(e, dim=dim)
    with pytest.warns(FutureWarning):
        torch.nn.utils.weight_norm(t, dim=dim)
    assert list(e.state_dict()) == list(t.state_dict()) == ["bias", "weight_g", "weight_v"]
    assert tuple(e.weight_g.shape) == tuple(t.weight_g.shape)
    _run(e, t, randn(2, 4))
    with pytest.raises(RuntimeError, match="two weight_norm hooks"):
        nn.utils.weight_norm(e, dim=dim)
    nn.utils.remove_weight_norm(e)
    torch.nn.utils.remove_weight_norm(t)
    assert list(e.state_dict()) == list(t.state_dict())
    assert_close(e.weight, t.weight)


def _copy_into(dst: ember.Tensor, src: torch.Tensor) -> None:
    with ember.no_grad():
        dst.copy_(ember.from_numpy(tnp(src).copy()))


@pytest.mark.parametrize("ctor", ["linear", "convT"])
def test_legacy_spectral_norm_same_u(ctor):
    if ctor == "linear":
        e, t = _pair(lambda: nn.Linear(5, 4), lambda: torch.nn.Linear(5, 4))
        x = randn(3, 5)
    else:
        e, t = _pair(lambda: nn.ConvTranspose2d(3, 2, 3), lambda: torch.nn.ConvTranspose2d(3, 2, 3))
        x = randn(1, 3, 4, 4)
    nn.utils.spectral_norm(e)
    torch.nn.utils.spectral_norm(t)
    assert list(e.state_dict()) == list(t.state_dict()) == [
        "bias", "weight_orig", "weight_u", "weight_v"]
    _copy_into(e.weight_u, t.weight_u)
    _copy_into(e.weight_v, t.weight_v)
    for step in range(3):
        for p in list(e.parameters()) + list(t.parameters()):
            p.grad = None
        _run(e, t, x)
        assert_close(e.weight_u, t.weight_u, msg=f"u after step {step}")
        assert_close(e.weight_v, t.weight_v, msg=f"v after step {step}")
    e.eval()
    t.eval()
    _run(e, t, x, grad=False)
    sd = t.state_dict()
    assert sd._metadata[""]["spectral_norm"] == e.state_dict()._metadata[""]["spectral_norm"]
    nn.utils.remove_spectral_norm(e)
    torch.nn.utils.remove_spectral_norm(t)
    assert list(e.state_dict()) == list(t.state_dict())
    assert_close(e.weight, t.weight)


def test_parametrizations_spectral_norm_same_u():
    e, t = _pair(lambda: nn.Conv2d(3, 4, 2), lambda: torch.nn.Conv2d(3, 4, 2))
    P_E.spectral_norm(e)
    P_T.spectral_norm(t)
    keys = ["bias", "parametrizations.weight.original", "parametrizations.weight.0._u",
            "parametrizations.weight.0._v"]
    assert list(e.state_dict()) == list(t.state_dict()) == keys
    load_from_torch(e, t)  # the same u and v
    x = randn(2, 3, 5, 5)
    for _ in range(2):
        for p in list(e.parameters()) + list(t.parameters()):
            p.grad = None
        _run(e, t, x)
        for k, v in t.state_dict().items():
            assert_close(e.state_dict()[k], v, msg=k)
    # the registration's 15 power steps from a random start converge to the top pair
    w = randn(6, 4, seed=3)
    e2 = nn.Linear(4, 6)
    with ember.no_grad():
        e2.weight.copy_(em(w))
    P_E.spectral_norm(e2)
    s = np.linalg.svd(w.astype(np.float64), compute_uv=False)[0]
    e2.eval()
    np.testing.assert_allclose(tnp(e2.weight), w / s, rtol=2e-2)
    # 1-D weights are normalized exactly
    b = nn.Linear(3, 3)
    P_E.spectral_norm(b, "bias")
    np.testing.assert_allclose(np.linalg.norm(tnp(b.bias)), 1.0, rtol=1e-6)


@pytest.mark.parametrize("shape,omap", [((4, 4), None), ((4, 4), "cayley"),
                                        ((6, 3), None), ((3, 6), None), ((5, 5), "householder")])
def test_orthogonal(shape, omap):
    n_out, n_in = shape
    e, t = _pair(lambda: nn.Linear(n_in, n_out), lambda: torch.nn.Linear(n_in, n_out))
    P_E.orthogonal(e, orthogonal_map=omap)
    P_T.orthogonal(t, orthogonal_map=omap)
    assert list(e.state_dict()) == list(t.state_dict()) == [
        "bias", "parametrizations.weight.original", "parametrizations.weight.0.base"]
    w = tnp(e.weight)
    k = min(shape)
    gram = w.T @ w if n_out >= n_in else w @ w.T
    np.testing.assert_allclose(gram, np.eye(k), atol=1e-5)
    if n_out == n_in:  # the base is the orthogonalized weight: unique, so equal to torch's
        assert_close(e.weight, t.weight, atol=1e-5)
    load_from_torch(e, t)
    _run(e, t, randn(2, n_in))


def test_orthogonal_householder_without_trivialization():
    e, t = _pair(lambda: nn.Linear(3, 5), lambda: torch.nn.Linear(3, 5))
    P_E.orthogonal(e, orthogonal_map="householder", use_trivialization=False)
    P_T.orthogonal(t, orthogonal_map="householder", use_trivialization=False)
    assert list(e.state_dict()) == list(t.state_dict())
    assert_close(e.parametrizations.weight.original, t.parametrizations.weight.original,
                 atol=1e-5)
    _run(e, t, randn(2, 3))


# -- prune -------------------------------------------------------------------------------
def _prune_pair():
    return _pair(lambda: nn.Conv2d(3, 4, 3), lambda: torch.nn.Conv2d(3, 4, 3))


@pytest.mark.parametrize("amount", [0.3, 7, 0])
def test_l1_unstructured(amount):
    e, t = _prune_pair()
    prune.l1_unstructured(e, "weight", amount)
    torch.nn.utils.prune.l1_unstructured(t, "weight", amount)
    assert list(e.state_dict()) == list(t.state_dict()) == ["bias", "weight_orig",
                                                            "weight_mask"]
    assert_close(e.weight_mask, t.weight_mask)
    assert prune.is_pruned(e)
    x = randn(2, 3, 5, 5)
    _run(e, t, x)
    # the hook re-applies the mask after the original changes
    with ember.no_grad():
        e.weight_orig.add_(1.0)
    with torch.no_grad():
        t.weight_orig.add_(1.0)
    _run(e, t, x, grad=False)
    prune.remove(e, "weight")
    torch.nn.utils.prune.remove(t, "weight")
    assert list(e.state_dict()) == list(t.state_dict()) == ["bias", "weight"]
    assert not prune.is_pruned(e)
    assert_close(e.weight, t.weight)
    assert isinstance(e.weight, nn.Parameter)


@pytest.mark.parametrize("n,dim", [(2, 0), (1, 1), (float("inf"), -1)])
def test_ln_structured_and_iterative(n, dim):
    e, t = _prune_pair()
    prune.ln_structured(e, "weight", 0.5, n, dim)
    torch.nn.utils.prune.ln_structured(t, "weight", 0.5, n, dim)
    assert_close(e.weight_mask, t.weight_mask)
    # a second method acts on the unpruned part only (PruningContainer)
    prune.l1_unstructured(e, "weight", 10)
    torch.nn.utils.prune.l1_unstructured(t, "weight", 10)
    assert_close(e.weight_mask, t.weight_mask)
    hooks = [h for h in e._forward_pre_hooks.values()]
    assert len(hooks) == 1 and isinstance(hooks[0], prune.PruningContainer)
    assert len(hooks[0]) == 2
    _run(e, t, randn(1, 3, 4, 4))


def test_random_pruning_counts():
    e = nn.Conv2d(3, 8, 3)
    prune.random_unstructured(e, "weight", 0.25)
    assert int((e.weight_mask == 0).sum()) == round(0.25 * e.weight_orig.numel())
    assert np.all(tnp(e.weight)[tnp(e.weight_mask) == 0] == 0)
    prune.random_structured(e, "weight", 3, dim=0)
    m = tnp(e.weight_mask)
    assert int((m.reshape(8, -1).sum(1) == 0).sum()) >= 3
    ember.manual_seed(3)
    a = prune.RandomUnstructured(0.5).compute_mask(ember.ones(10), ember.ones(10))
    ember.manual_seed(3)
    b = prune.RandomUnstructured(0.5).compute_mask(ember.ones(10), ember.ones(10))
    assert_close(a, b)


def test_global_unstructured_and_custom_mask():
    e1, t1 = _pair(lambda: nn.Linear(5, 4), lambda: torch.nn.Linear(5, 4))
    e2, t2 = _pair(lambda: nn.Linear(4, 3), lambda: torch.nn.Linear(4, 3))
    prune.global_unstructured([(e1, "weight"), (e2, "weight"), (e2, "bias")],
                              prune.L1Unstructured, amount=0.4)
    torch.nn.utils.prune.global_unstructured([(t1, "weight"), (t2, "weight"), (t2, "bias")],
                                             torch.nn.utils.prune.L1Unstructured, amount=0.4)
    for a, b in [(e1.weight_mask, t1.weight_mask), (e2.weight_mask, t2.weight_mask),
                 (e2.bias_mask, t2.bias_mask)]:
        assert_close(a, b)
    assert list(e2.state_dict()) == list(t2.state_dict())
    mask = (randn(4, 5, seed=9) > 0).astype(np.float32)
    prune.custom_from_mask(e1, "bias", em(mask[:, 0]))
    torch.nn.utils.prune.custom_from_mask(t1, "bias", th(mask[:, 0]))
    assert list(e1.state_dict()) == list(t1.state_dict())
    _run(e1, t1, randn(2, 5))


def test_prune_errors():
    e = nn.Linear(3, 3)
    with pytest.raises(ValueError, match="should either be a float"):
        prune.l1_unstructured(e, "weight", 1.5)
    with pytest.raises(ValueError, match="should be smaller than the number"):
        prune.l1_unstructured(e, "weight", 100)
    assert "weight" in e._parameters  # rolled back
    with pytest.raises(ValueError, match="has to be pruned"):
        prune.remove(e, "weight")
    with pytest.raises(ValueError, match="Structured pruning"):
        prune.ln_structured(e, "bias", 1, 2, 0)


# -- fusion, skip_init, functional_call ---------------------------------------------------
def test_fuse_conv_and_linear_bn_eval():
    tc, tb = torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4)
    with torch.no_grad():
        tb.running_mean.uniform_()
        tb.running_var.uniform_(0.5, 2.0)
        tb.weight.uniform_()
        tb.bias.uniform_()
    ec, eb = load_from_torch(nn.Conv2d(3, 4, 3), tc), load_from_torch(nn.BatchNorm2d(4), tb)
    for m in (tc, tb, ec, eb):
        m.eval()
    fe, ft = nn.utils.fuse_conv_bn_eval(ec, eb), torch.nn.utils.fuse_conv_bn_eval(tc, tb)
    assert isinstance(fe.weight, nn.Parameter)
    assert_close(fe.weight, ft.weight)
    assert_close(fe.bias, ft.bias)
    x = randn(1, 3, 5, 5)
    assert_close(fe(em(x)), eb(ec(em(x))))
    tl, tbn = torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)
    el, ebn = load_from_torch(nn.Linear(3, 4), tl), load_from_torch(nn.BatchNorm1d(4), tbn)
    for m in (tl, tbn, el, ebn):
        m.eval()
    fe, ft = nn.utils.fuse_linear_bn_eval(el, ebn), torch.nn.utils.fuse_linear_bn_eval(tl, tbn)
    assert_close(fe.weight, ft.weight)
    assert_close(fe.bias, ft.bias)
    with pytest.raises(AssertionError, match="Fusion only for eval"):
        nn.utils.fuse_linear_bn_eval(nn.Linear(3, 4), ebn)


def test_skip_init_and_functional_call():
    m = nn.utils.skip_init(nn.Linear, 3, 4)
    assert isinstance(m, nn.Linear) and tuple(m.weight.shape) == (4, 3)
    with pytest.raises(RuntimeError, match="'device' arg"):
        nn.utils.skip_init(nn.ReLU)
    lin = nn.Linear(3, 2)
    w = ember.zeros(2, 3, requires_grad=True)
    y = nn.utils.stateless.functional_call(lin, {"weight": w}, (ember.ones(1, 3),))
    y.sum().backward()
    assert_close(y, lin.bias.detach().reshape(1, 2))
    assert_close(w.grad, np.ones((2, 3), np.float32))
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.grad is None
    with pytest.raises(RuntimeError, match="Missing key"):
        nn.utils.stateless.functional_call(lin, {"weight": w}, (ember.ones(1, 3),),
                                           strict=True)
