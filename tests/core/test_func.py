"""ember.func (grad, vjp, jvp, jacrev, jacfwd, hessian, vmap, functional_call...) and
ember.autograd.forward_ad, against torch.func / torch.autograd.forward_ad on the same
inputs: each program runs once with ``lib=ember`` and once with ``lib=torch``."""

import ember
import numpy as np
import pytest
import torch


def _leaves(x):
    if isinstance(x, dict):
        return [v for k in sorted(x) for v in _leaves(x[k])]
    if isinstance(x, (tuple, list)):
        return [v for c in x for v in _leaves(c)]
    return [x]


def _np(x):
    if isinstance(x, (ember.Tensor, torch.Tensor)):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def both(prog, rtol=1e-7, atol=1e-9):
    """Runs ``prog(lib)`` for ember and torch and compares the results leaf by leaf."""
    e, t = prog(ember), prog(torch)
    le, lt = _leaves(e), _leaves(t)
    assert len(le) == len(lt)
    for a, b in zip(le, lt):
        if b is None:
            assert a is None
            continue
        a, b = _np(a), _np(b)
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    return e, t


def T(lib, *shape, seed=0, dtype="float64"):
    return lib.tensor(np.random.RandomState(seed).randn(*shape), dtype=getattr(lib, dtype))


def f_scalar(x):
    return (x.sin() * x.exp()).sum()


# -- grad / grad_and_value -------------------------------------------------------------------------
def test_grad_simple_and_no_graph_at_top_level():
    e, _ = both(lambda lib: lib.func.grad(f_scalar)(T(lib, 5)))
    assert not e.requires_grad and e.grad_fn is None


def test_grad_argnums_pytrees_and_aux():
    def prog(lib):
        def f(p, x, scale):
            y = (p["w"] @ x + p["b"][0]).tanh()
            return (y * scale).sum(), {"y": y}
        p = {"w": T(lib, 3, 4, seed=1), "b": [T(lib, 3, seed=2)]}
        x = T(lib, 4, seed=3)
        g, aux = lib.func.grad(f, argnums=(0, 1), has_aux=True)(p, x, 2.0)
        (g2, v2) = lib.func.grad_and_value(f, argnums=1, has_aux=True)(p, x, 2.0)
        return g, aux, g2, v2
    e, _ = both(prog)
    assert isinstance(e[0], tuple) and isinstance(e[0][0]["b"], list)


def test_grad_higher_order():
    def prog(lib):
        x = lib.tensor(0.7, dtype=lib.float64)
        f = lambda x: x.sin() * x ** 3  # noqa: E731
        g = lib.func.grad
        return g(f)(x), g(g(f))(x), g(g(g(f)))(x)
    both(prog)


def test_grad_nested_closure_perturbation():
    # inner grad w.r.t. y must not see the outer x through the closure
    def prog(lib):
        g = lib.func.grad
        x = lib.tensor(1.5, dtype=lib.float64)
        return g(lambda x: g(lambda y: (x * y) ** 2)(x.cos()))(x)
    both(prog)


def test_grad_flows_to_captured_params_and_inputs():
    def prog(lib):
        w = T(lib, 4, seed=1).requires_grad_()
        x = T(lib, 4, seed=2).requires_grad_()
        g = lib.func.grad(lambda x: (w * x.sin()).sum() ** 2)(x)
        g.sum().backward()
        return g, w.grad, x.grad
    e, _ = both(prog)
    assert e[0].requires_grad


def test_grad_errors():
    with pytest.raises(RuntimeError, match="scalar"):
        ember.func.grad(lambda x: x * 2)(ember.ones(3))
    with pytest.raises(RuntimeError, match="argnums"):
        ember.func.grad(lambda x: x.sum(), argnums=2)(ember.ones(3))
    with pytest.raises(RuntimeError, match="tuple"):
        ember.func.grad(lambda x: x.sum(), has_aux=True)(ember.ones(3))


def test_grad_unused_input_is_zero():
    both(lambda lib: lib.func.grad(lambda x, y: x.sum(), argnums=(0, 1))(T(lib, 2), T(lib, 3)))


# -- vjp / jvp / linearize -------------------------------------------------------------------------
def test_vjp_tuple_outputs_and_reuse():
    def prog(lib):
        f = lambda x, y: (x * y, {"s": (x ** 2).sum() + y.sum()})  # noqa: E731
        x, y = T(lib, 3, seed=1), T(lib, 3, seed=2)
        out, fn = lib.func.vjp(f, x, y)
        ct = (T(lib, 3, seed=4), {"s": lib.tensor(2.0, dtype=lib.float64)})
        return out, fn(ct), fn(ct)
    e, _ = both(prog)
    assert len(e[1]) == 2


def test_vjp_has_aux():
    def prog(lib):
        out, fn, aux = lib.func.vjp(lambda x: (x.exp(), x.mean()), T(lib, 4), has_aux=True)
        return out, fn(lib.ones_like(out)), aux
    both(prog)


def test_jvp_multiple_primals_and_aux():
    def prog(lib):
        f = lambda x, y: ((x @ y).sigmoid(), x.sum() * y)  # noqa: E731
        primals = (T(lib, 3, 4, seed=1), T(lib, 4, seed=2))
        tangents = (T(lib, 3, 4, seed=3), T(lib, 4, seed=4))
        out, jv = lib.func.jvp(f, primals, tangents)
        o2, jv2, aux = lib.func.jvp(lambda x: (x.sin(), x.cos()), (primals[1],),
                                    (tangents[1],), has_aux=True)
        return out, jv, o2, jv2, aux
    e, _ = both(prog)
    assert not e[1][0].requires_grad


def test_jvp_errors():
    with pytest.raises(RuntimeError, match="tuple"):
        ember.func.jvp(lambda x: x, ember.ones(2), (ember.ones(2),))
    with pytest.raises(RuntimeError, match="shape"):
        ember.func.jvp(lambda x: x, (ember.ones(2),), (ember.ones(3),))


def test_linearize():
    def prog(lib):
        out, fn = lib.func.linearize(lambda x: x.sin() * x, T(lib, 5))
        return out, fn(T(lib, 5, seed=1)), fn(T(lib, 5, seed=2))
    both(prog)


def test_jvp_of_grad_is_hvp():
    def prog(lib):
        x, v = T(lib, 4, seed=1), T(lib, 4, seed=2)
        return lib.func.jvp(lib.func.grad(f_scalar), (x,), (v,))
    both(prog)


# -- Jacobians -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
def test_jacobian_shapes_argnums_and_outputs(name):
    def prog(lib):
        jac = getattr(lib.func, name)
        f = lambda x, y: {"a": x.outer(y).tanh(), "b": (x ** 2).sum()}  # noqa: E731
        x, y = T(lib, 3, seed=1), T(lib, 2, seed=2)
        return jac(f)(x, y), jac(f, argnums=(0, 1))(x, y), jac(lambda x: x.exp())(T(lib, 2, 2))
    e, _ = both(prog)
    assert tuple(e[0]["a"].shape) == (3, 2, 3)


def test_jacrev_has_aux():
    both(lambda lib: lib.func.jacrev(lambda x: (x.sin(), x.sum()), has_aux=True)(T(lib, 3)))


def test_hessian():
    def prog(lib):
        f = lambda x, y: (x.sin() * y.exp().sum()).sum() + (x ** 3).sum()  # noqa: E731
        x, y = T(lib, 3, seed=1), T(lib, 2, seed=2)
        return lib.func.hessian(f)(x, y), lib.func.hessian(f, argnums=(0, 1))(x, y)
    both(prog)


# -- vmap ------------------------------------------------------------------------------------------
def test_vmap_in_dims_out_dims():
    def prog(lib):
        vm = lib.func.vmap
        x, y = T(lib, 4, 3, seed=1), T(lib, 3, 4, seed=2)
        a = vm(lambda a, b: a * b)(x, y.T)
        b = vm(lambda a, b: a @ b, in_dims=(0, 1))(x, y)
        c = vm(lambda a, b: a + b, in_dims=(1, None), out_dims=1)(y, T(lib, 3, seed=3))
        d = vm(lambda a: (a.sum(), a * 2), in_dims=-1, out_dims=(0, -1))(y)
        e = vm(lambda p, s: p["u"] * p["v"][0] + s, in_dims=({"u": 0, "v": [1]}, None))(
            {"u": x, "v": [y]}, 1.5)
        f = vm(lambda a, k=1.0: a * k)(x, k=3.0)
        return a, b, c, d, e, f
    both(prog)


def test_vmap_nested_outer_product_and_out_dims_none():
    def prog(lib):
        vm = lib.func.vmap
        x, y = T(lib, 3, seed=1), T(lib, 5, seed=2)
        outer = vm(vm(lambda a, b: a * b, in_dims=(None, 0)), in_dims=(0, None))(x, y)
        w = T(lib, 2, seed=3)
        same = vm(lambda a: (a * 2, w.sum()), out_dims=(0, None))(x)
        return outer, same
    both(prog)


def test_vmap_errors_and_empty_batch():
    vm = ember.func.vmap
    with pytest.raises(ValueError, match="same size"):
        vm(lambda a, b: a + b)(ember.ones(2), ember.ones(3))
    with pytest.raises(ValueError, match="non-Tensor"):
        vm(lambda a, b: a + b)(ember.ones(2), 1.0)
    with pytest.raises(ValueError, match="in_dims"):
        vm(lambda a, b: a + b, in_dims=(0,))(ember.ones(2), ember.ones(2))
    with pytest.raises(ValueError, match="in_dim"):
        vm(lambda a: a, in_dims=2)(ember.ones(2))
    out = vm(lambda a: a.sum(0) * 2)(ember.ones(0, 3))
    assert tuple(out.shape) == (0,)


def test_vmap_randomness():
    vm = ember.func.vmap
    with pytest.raises(RuntimeError, match="randomness"):
        vm(lambda a: a + ember.rand(()))(ember.ones(3))
    same = vm(lambda a: a + ember.rand(()), randomness="same")(ember.zeros(3))
    assert np.allclose(same.numpy(), same.numpy()[0])
    diff = vm(lambda a: a + ember.rand(()), randomness="different")(ember.zeros(3))
    assert len(set(diff.numpy().tolist())) == 3
    with pytest.raises(RuntimeError, match="randomness"):
        vm(lambda a: a, randomness="bogus")


def test_vmap_of_jacrev_batched_jacobians():
    def prog(lib):
        f = lambda x: x.sin() * x.sum()  # noqa: E731
        return (lib.func.vmap(lib.func.jacrev(f))(T(lib, 4, 3)),
                lib.func.vmap(lib.func.hessian(lambda x: (x ** 3).sum()))(T(lib, 2, 3)))
    both(prog)


def _mlp(lib):
    lib.manual_seed(0)
    m = lib.nn.Sequential(lib.nn.Linear(5, 8), lib.nn.Tanh(), lib.nn.Linear(8, 3),
                          lib.nn.BatchNorm1d(3)).double().eval()
    rs = np.random.RandomState(7)
    with lib.no_grad():
        for p in list(m.parameters()) + [m[3].running_mean, m[3].running_var]:
            p.copy_(lib.tensor(rs.rand(*p.shape) + 0.1, dtype=lib.float64))
    return m


def test_per_sample_gradients_with_functional_call():
    def prog(lib):
        model = _mlp(lib)
        params = {k: v.detach() for k, v in model.named_parameters()}
        buffers = {k: v.detach() for k, v in model.named_buffers()}
        x, y = T(lib, 6, 5, seed=1), lib.tensor([0, 2, 1, 1, 0, 2])

        def loss(params, buffers, sample, target):
            out = lib.func.functional_call(model, (params, buffers), (sample.unsqueeze(0),))
            return lib.nn.functional.cross_entropy(out, target.unsqueeze(0))

        g = lib.func.vmap(lib.func.grad(loss), in_dims=(None, None, 0, 0))(params, buffers, x, y)
        return g
    e, _ = both(prog)
    assert tuple(e["0.weight"].shape) == (6, 8, 5)


def test_functional_call_jacrev_and_stack_module_state():
    def prog(lib):
        model = _mlp(lib)
        params = dict(model.named_parameters())
        x = T(lib, 2, 5, seed=3)
        jac = lib.func.jacrev(lambda p: lib.func.functional_call(model, p, (x,)))(params)
        models = [_mlp(lib) for _ in range(3)]
        with lib.no_grad():
            for i, m in enumerate(models):
                m[0].weight.mul_(i + 1)
        p, b = lib.func.stack_module_state(models)
        ens = lib.func.vmap(lambda p, b, x: lib.func.functional_call(models[0], (p, b), (x,)),
                            in_dims=(0, 0, None))(p, b, x)
        return jac, ens, p["0.weight"].requires_grad
    both(prog)


# -- forward_ad ------------------------------------------------------------------------------------
def test_forward_ad_tutorial_function():
    def prog(lib):
        fwAD = lib.autograd.forward_ad
        primal, tangent = T(lib, 10, 10, seed=1), T(lib, 10, 10, seed=2)
        x = T(lib, 10, 10, seed=3)

        def fn(x, y):
            return x ** 2 + y ** 2

        with fwAD.dual_level():
            dual_input = fwAD.make_dual(primal, tangent)
            assert fwAD.unpack_dual(dual_input).tangent is tangent
            dual_output = fn(dual_input, x)
            out = fwAD.unpack_dual(dual_output)
            none = fwAD.unpack_dual(x).tangent
        after = fwAD.unpack_dual(dual_output).tangent
        return out.primal, out.tangent, none, after
    both(prog)


def test_forward_ad_ops_and_module():
    def prog(lib):
        fwAD = lib.autograd.forward_ad
        F = lib.nn.functional
        model = _mlp(lib)
        params = {k: v.detach() for k, v in model.named_parameters()}
        tangents = {k: T(lib, *v.shape, seed=i) for i, (k, v) in enumerate(params.items())}
        x, tx, W = T(lib, 4, 5, seed=8), T(lib, 4, 5, seed=9), T(lib, 3, 5, seed=10)
        img, timg = T(lib, 1, 2, 5, 5, seed=11), T(lib, 1, 2, 5, 5, seed=12)
        k = T(lib, 3, 2, 3, 3, seed=13)
        with fwAD.dual_level():
            dp = {k2: fwAD.make_dual(v, tangents[k2]) for k2, v in params.items()}
            out = fwAD.unpack_dual(lib.func.functional_call(model, dp, (x,))).tangent
            d = fwAD.make_dual(x, tx)
            y = (F.relu(F.linear(d, W)) + d.sigmoid().mean() * d.tanh().sum(1, keepdim=True)
                 @ d.exp()[:1, :3]) / (1 + d.abs().sum())
            t2 = fwAD.unpack_dual(y).tangent
            di = fwAD.make_dual(img, timg)
            t3 = fwAD.unpack_dual(F.conv2d(di, k, padding=1).relu().sum((2, 3))).tangent
            t4 = fwAD.unpack_dual((d @ d.T).softmax(-1)).tangent
        return out, t2, t3, t4
    both(prog)


def test_forward_ad_errors():
    fwAD = ember.autograd.forward_ad
    with pytest.raises(RuntimeError, match="level"):
        fwAD.make_dual(ember.ones(2), ember.ones(2))
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="size"):
            fwAD.make_dual(ember.ones(2), ember.ones(3))
        with pytest.raises(ValueError, match="floating"):
            fwAD.make_dual(ember.ones(2, dtype=ember.int64), ember.ones(2))
        with pytest.raises(RuntimeError, match="Nested"):
            fwAD.enter_dual_level()
    p, t = fwAD.unpack_dual(ember.ones(2))
    assert t is None and isinstance(fwAD.unpack_dual(ember.ones(2)), fwAD.UnpackedDualTensor)


def test_forward_ad_with_grad_transform():
    def prog(lib):
        fwAD = lib.autograd.forward_ad
        with fwAD.dual_level():
            d = fwAD.make_dual(T(lib, 3, seed=1), T(lib, 3, seed=2))
            g = lib.func.grad(lambda x: (x.sin() * d).sum())(T(lib, 3, seed=3))
            return fwAD.unpack_dual(g).tangent
    both(prog)


def test_functionalize_is_identity_in_values():
    both(lambda lib: lib.func.functionalize(lambda x: x.clone().add_(1) * 2)(T(lib, 3)))
