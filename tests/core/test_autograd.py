"""Autograd against PyTorch: graph metadata, backward/grad options, grad modes, hooks,
custom Functions, higher-order gradients, numerical gradchecks and the errors."""

import ember
import numpy as np
import pytest
import torch
from torch_compare import compare, compare_raises, gradcheck, gradgradcheck, to_numpy


def _pair(vals, device, requires_grad=True, dtype="float32"):
    t = torch.tensor(vals, dtype=getattr(torch, dtype), requires_grad=requires_grad)
    e = ember.tensor(vals, dtype=getattr(ember, dtype), device=device,
                     requires_grad=requires_grad)
    return e, t


def _close(e, t, rtol=1e-5):
    np.testing.assert_allclose(to_numpy(e), to_numpy(t), rtol=rtol, atol=1e-6)


# -- graph metadata ------------------------------------------------------------------------
def test_requires_grad_propagates(device):
    """Results require grad when any input does; is_leaf follows torch."""
    def f(m, x, y):
        y = y.detach()
        a = x * y
        b = y * 2
        return (a.requires_grad, a.is_leaf, b.requires_grad, b.is_leaf, x.is_leaf,
                x.requires_grad)
    compare([(3,), (3,)], f, device=device, grad=False)
    compare([(3,), (3,)], f, device=device, grad=True)


def test_requires_grad_only_floating(device):
    """requires_grad on an int tensor raises."""
    compare_raises([], lambda m: m.tensor([1, 2], requires_grad=True), device=device)
    compare_raises([(3,)], lambda m, x: x.long().requires_grad_(), device=device)


def test_requires_grad_off_on_nonleaf_raises(device):
    """requires_grad_(False) on a non-leaf raises."""
    compare_raises([(3,)], lambda m, x: (x * 2).requires_grad_(False), device=device,
                   grad=True)


@pytest.mark.parametrize("expr,name", [
    (lambda x: x + x, "AddBackward0"), (lambda x: x * x, "MulBackward0"),
    (lambda x: x - 1, "SubBackward0"), (lambda x: x / 2, "DivBackward0"),
    (lambda x: x.exp(), "ExpBackward0"), (lambda x: x.sum(), "SumBackward0"),
    (lambda x: x.mean(), "MeanBackward0"), (lambda x: x.tanh(), "TanhBackward0"),
    (lambda x: x.sigmoid(), "SigmoidBackward0"), (lambda x: x.neg(), "NegBackward0"),
    (lambda x: x.pow(3), "PowBackward0"), (lambda x: x.log(), "LogBackward0"),
])
def test_grad_fn_names(expr, name, device):
    """grad_fn.name() matches torch's for common ops."""
    x = ember.ones(3, device=device, requires_grad=True)
    tx = torch.ones(3, requires_grad=True)
    assert expr(tx).grad_fn.name() == name
    assert expr(x).grad_fn.name() == name


def test_next_functions(device):
    """next_functions lead to the inputs' nodes and AccumulateGrad of leaves."""
    x = ember.ones(2, device=device, requires_grad=True)
    y = ember.ones(2, device=device)
    z = (x * 2) + y
    (n0, i0), (n1, i1) = z.grad_fn.next_functions
    assert n0.name() == "MulBackward0" and i0 == 0 and n1 is None
    (acc, _), (none, _) = n0.next_functions
    assert acc.name() == "torch::autograd::AccumulateGrad" and acc.variable is x
    assert none is None


def test_leaf_has_no_grad_fn(device):
    """Leaves (and tensors not requiring grad) have grad_fn None."""
    x = ember.ones(2, device=device, requires_grad=True)
    assert x.grad_fn is None and x.is_leaf and (x.detach() * 2).grad_fn is None


# -- backward options ----------------------------------------------------------------------
def test_backward_accumulates(device):
    """Two backward passes accumulate into .grad."""
    def f(m, x):
        (x * x).sum().backward()
        (x * 3).sum().backward()
        return x.grad.clone()
    compare([(3,)], f, device=device, backward=False)


def test_backward_with_gradient_argument(device):
    """backward(gradient) on a non-scalar output."""
    def f(m, x):
        y = x * x
        y.backward(m.tensor([1.0, -2.0, 0.5]))
        return x.grad
    compare([(3,)], f, device=device, backward=False)


def test_backward_non_scalar_without_gradient_raises(device):
    """backward() on a non-scalar output without gradient raises."""
    compare_raises([(3,)], lambda m, x: (x * 2).backward(), device=device, grad=True,
                   match="scalar")


def test_backward_gradient_shape_mismatch_raises(device):
    """A gradient of the wrong shape raises, naming both shapes."""
    e = compare_raises([(3,)], lambda m, x: (x * 2).backward(m.ones(4)), device=device,
                       grad=True)
    assert "3" in str(e) and "4" in str(e)


def test_backward_on_tensor_without_grad_raises(device):
    """backward on a tensor that doesn't require grad raises."""
    compare_raises([(3,)], lambda m, x: x.sum().backward(), device=device)


def test_second_backward_through_freed_graph_raises(device):
    """A second backward without retain_graph raises."""
    def f(m, x):
        y = (x.exp() * x).sum()
        y.backward()
        y.backward()
    compare_raises([(3,)], f, device=device, grad=True, match="second time")


def test_retain_graph_allows_second_backward(device):
    """retain_graph=True lets backward run twice (gradients accumulate)."""
    def f(m, x):
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad
    compare([(3,)], f, device=device, backward=False)


def test_backward_inputs_argument(device):
    """backward(inputs=[...]) accumulates only into the given tensors."""
    def f(m, x, y):
        z = (x * y).sum()
        z.backward(inputs=[x])
        return x.grad, y.grad is None
    compare([(3,), (3,)], f, device=device, backward=False)
    e, t = _pair([1.0, 2.0], device)
    _ = (e * e).sum().backward(inputs=[e]), (t * t).sum().backward(inputs=[t])
    _close(e.grad, t.grad)


def test_backward_inputs_nonleaf(device):
    """backward(inputs=[nonleaf]) fills the non-leaf's grad."""
    def f(m, x):
        h = x * 2
        (h * h).sum().backward(inputs=[h])
        return h.grad, x.grad is None
    compare([(3,)], f, device=device, backward=False)


def test_create_graph_higher_order(device):
    """backward(create_graph=True) gives a differentiable .grad (third derivative too)."""
    def f(m, x):
        y = (x ** 4).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        (g2,) = m.autograd.grad(g.sum(), x, create_graph=True)
        (g3,) = m.autograd.grad(g2.sum(), x)
        return g, g2, g3
    compare([(3,)], f, device=device, backward=False, dtype="float64")


def test_backward_create_graph_grad_requires_grad(device):
    """With create_graph, x.grad itself has a grad_fn."""
    def f(m, x):
        (x ** 3).sum().backward(create_graph=True)
        g = x.grad
        return g.requires_grad, g
    compare([(3,)], f, device=device, backward=False)


def test_grad_function(device):
    """autograd.grad returns gradients without touching .grad."""
    def f(m, x, y):
        z = (x * y.exp()).sum()
        gx, gy = m.autograd.grad(z, [x, y])
        return gx, gy, x.grad is None
    compare([(3,), (3,)], f, device=device, backward=False)


def test_grad_allow_unused(device):
    """autograd.grad of an unused input raises unless allow_unused; then it's None."""
    compare_raises([(3,), (3,)], lambda m, x, y: m.autograd.grad((x * 2).sum(), [x, y]),
                   device=device, grad=True)

    def f(m, x, y):
        gx, gy = m.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)
        return gx, gy is None
    compare([(3,), (3,)], f, device=device, backward=False)


def test_grad_materialize_grads(device):
    """materialize_grads=True gives zeros for unused inputs."""
    def f(m, x, y):
        return m.autograd.grad((x * 2).sum(), [x, y], materialize_grads=True)
    compare([(3,), (3,)], f, device=device, backward=False)


def test_grad_with_grad_outputs(device):
    """autograd.grad with grad_outputs for a non-scalar output."""
    def f(m, x):
        return m.autograd.grad(x * x, x, grad_outputs=m.ones(3) * 2)
    compare([(3,)], f, device=device, backward=False)


def test_grad_of_intermediate(device):
    """autograd.grad with respect to an intermediate tensor."""
    def f(m, x):
        h = x.exp()
        return m.autograd.grad((h * h).sum(), h)
    compare([(3,)], f, device=device, backward=False)


def test_grad_leaves_the_graph_below_its_inputs(device):
    """autograd.grad with respect to an intermediate tensor stops there: the nodes below it
    are neither run nor freed, so a second grad through them works without retain_graph
    (captum's NeuronConductance does this). backward(inputs=[intermediate]) does free the
    intermediate's own node, as in PyTorch."""
    def f(m, x):
        h = m.nn.functional.linear(x, x * 2)
        out = (h.tanh() * 3).sum()
        g_h, = m.autograd.grad(out, h)
        g_x, = m.autograd.grad(h[:, 1].sum(), x)
        h2 = x.exp()
        g_h2, = m.autograd.grad(h2.sin().sum(), h2)
        g_x2, = m.autograd.grad(h2.sum(), x)
        return g_h, g_x, g_h2, g_x2
    compare([(2, 2)], f, device=device, backward=False)

    def g(m, x):
        h = x.exp()
        h.sin().sum().backward(inputs=[h])
        return m.autograd.grad(h.sum(), x)
    compare_raises([(2, 2)], g, device=device)


def test_shared_subgraph_accumulates(device):
    """A tensor used several times gets the sum of its gradients (diamond graph)."""
    compare([(3,)], lambda m, x: (x * 2) * (x.exp()) + x.sin() * x, device=device)


def test_deep_chain_no_recursion_limit(device):
    """A graph 5000 ops deep backpropagates (the engine is iterative)."""
    x = ember.ones(1, device=device, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [1.0001 ** 5000], rtol=1e-3)


# -- grad modes ----------------------------------------------------------------------------
def test_no_grad_context_and_decorator(device):
    """no_grad as a context manager and as a decorator (with and without parentheses)."""
    x = ember.ones(2, device=device, requires_grad=True)
    with ember.no_grad():
        assert not (x * 2).requires_grad and not ember.is_grad_enabled()
    assert ember.is_grad_enabled()

    @ember.no_grad()
    def f(t):
        return t * 2

    @ember.no_grad
    def g(t):
        return t * 2

    assert not f(x).requires_grad and not g(x).requires_grad and (x * 2).requires_grad


def test_enable_grad_inside_no_grad(device):
    """enable_grad re-enables recording inside no_grad, also as a decorator."""
    x = ember.ones(2, device=device, requires_grad=True)

    @ember.enable_grad()
    def f(t):
        return t * 2

    with ember.no_grad():
        with ember.enable_grad():
            assert (x * 2).requires_grad
        assert f(x).requires_grad
        assert not (x * 2).requires_grad


def test_set_grad_enabled(device):
    """set_grad_enabled as a function, a context manager and a decorator."""
    x = ember.ones(2, device=device, requires_grad=True)
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    ember.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    ember.set_grad_enabled(True)

    @ember.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert not f(x).requires_grad and (x * 2).requires_grad


def test_inference_mode(device):
    """inference_mode as context and decorator; inference_mode(False) records."""
    x = ember.ones(2, device=device, requires_grad=True)
    with ember.inference_mode():
        assert not (x * 2).requires_grad and ember.is_inference_mode_enabled()
    with ember.inference_mode(False):
        assert (x * 2).requires_grad

    @ember.inference_mode()
    def f(t):
        return t * 2

    @ember.inference_mode
    def g(t):
        return t * 2

    assert not f(x).requires_grad and not g(x).requires_grad


def test_no_grad_generator_decorator(device):
    """no_grad decorating a generator applies inside each step."""
    x = ember.ones(2, device=device, requires_grad=True)

    @ember.no_grad()
    def gen():
        for _ in range(2):
            yield (x * 2).requires_grad

    assert list(gen()) == [False, False] and (x * 2).requires_grad


# -- detach, retain_grad, hooks ------------------------------------------------------------
def test_detach_shares_memory_and_cuts_graph(device):
    """detach shares memory and the version counter; gradient stops there."""
    def f(m, x):
        d = x.detach()
        y = x * 2 + d * 3
        return y, d.requires_grad, d.is_leaf
    compare([(3,)], f, device=device)
    x = ember.zeros(3, device=device, requires_grad=True)
    d = x.detach()
    d[0] = 5.0
    assert x[0].item() == 5.0 and x._version == d._version == 1


def test_detach_inplace(device):
    """detach_ makes a non-leaf a leaf that doesn't require grad."""
    def f(m, x):
        y = x * 2
        y.detach_()
        return y.requires_grad, y.is_leaf, y.grad_fn is None, y
    compare([(3,)], f, device=device, backward=False)


def test_retain_grad(device):
    """retain_grad keeps a non-leaf's .grad; without it .grad stays None."""
    def f(m, x):
        h = x * 2
        h.retain_grad()
        k = h.exp()
        (k * h).sum().backward()
        return h.grad, k.grad is None, h.retains_grad
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare([(3,)], f, device=device, backward=False)


def test_register_hook_modifies_gradient(device):
    """A tensor hook may replace the gradient; remove() unregisters it."""
    def f(m, x):
        h = x * 3
        handle = h.register_hook(lambda g: g * 10)
        h.sum().backward(retain_graph=True)
        g1 = x.grad.clone()
        handle.remove()
        x.grad = None
        h.sum().backward()
        return g1, x.grad
    compare([(3,)], f, device=device, backward=False)


def test_register_hook_on_leaf(device):
    """A hook on a leaf sees and may change its gradient before accumulation."""
    def f(m, x):
        seen = []
        x.register_hook(lambda g: seen.append(g.clone()) or g * 2)
        (x * x).sum().backward()
        return seen[0], x.grad
    compare([(3,)], f, device=device, backward=False)


def test_register_hook_without_grad_raises(device):
    """register_hook on a tensor that doesn't require grad raises."""
    compare_raises([(3,)], lambda m, x: x.register_hook(lambda g: g), device=device)


def test_grad_fn_hooks(device):
    """Node.register_hook and register_prehook see the gradients."""
    x = ember.ones(3, device=device, requires_grad=True)
    y = x * 2
    seen = {}
    y.grad_fn.register_prehook(lambda go: seen.update(pre=go[0].tolist()))
    y.grad_fn.register_hook(lambda gi, go: seen.update(post=gi[0].tolist()))
    y.sum().backward()
    assert seen == {"pre": [1.0, 1.0, 1.0], "post": [2.0, 2.0, 2.0]}


def test_grad_attribute_assignment(device):
    """.grad can be set and cleared by the user."""
    x = ember.ones(2, device=device, requires_grad=True)
    x.grad = ember.full((2,), 3.0, device=device)
    (x * 1).sum().backward()
    assert x.grad.tolist() == [4.0, 4.0]
    x.grad = None
    (x * 1).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_grad_not_aliased_to_user_tensor(device):
    """The gradient stored in .grad is not the tensor the user passed to backward."""
    x = ember.ones(2, device=device, requires_grad=True)
    g = ember.ones(2, device=device)
    (x * 1).backward(g)
    x.grad.add_(1)
    assert g.tolist() == [1.0, 1.0]


# -- custom Function -----------------------------------------------------------------------
def _make_functions(m):
    class Cube(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x ** 3 * k

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2 * ctx.k, None

    class AddMulInplace(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            x.add_(y)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g, g

    class SortWithIdx(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            idx = x.argsort() if hasattr(x, "argsort") else x.argmax().reshape(1)
            vals = x * 2
            ctx.mark_non_differentiable(idx)
            return vals, idx

        @staticmethod
        def backward(ctx, g, gi):
            return g * 2

    class Needs(m.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.flags = ctx.needs_input_grad
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g, g

    return Cube, AddMulInplace, SortWithIdx, Needs


def test_custom_function_forward_backward(device):
    """A custom Function with save_for_backward and a non-tensor argument."""
    compare([(3,)], lambda m, x: _make_functions(m)[0].apply(x, 2.0), device=device)


def test_custom_function_double_backward(device):
    """A custom Function's backward written in ops is itself differentiable."""
    def f(m, x):
        y = _make_functions(m)[0].apply(x, 1.0).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        return g
    compare([(3,)], f, device=device)


def test_custom_function_mark_dirty(device):
    """mark_dirty: an input modified in place and returned."""
    def f(m, x, y):
        z = x * 1
        out = _make_functions(m)[1].apply(z, y)
        return out, out is z
    compare([(3,), (3,)], f, device=device)


def test_custom_function_mark_non_differentiable(device):
    """mark_non_differentiable outputs don't require grad."""
    def f(m, x):
        vals, idx = _make_functions(m)[2].apply(x)
        return vals, idx.requires_grad
    compare([(4,)], f, device=device)


def test_custom_function_needs_input_grad(device):
    """ctx.needs_input_grad reflects which inputs require grad."""
    for m, mk in ((torch, lambda v, r: torch.tensor(v, requires_grad=r)),
                  (ember, lambda v, r: ember.tensor(v, device=device, requires_grad=r))):
        Needs = _make_functions(m)[3]
        a, b = mk([1.0], True), mk([2.0], False)
        out = Needs.apply(a, b)
        assert out.grad_fn.flags == (True, False)


def test_custom_function_grad_fn_name(device):
    """A custom Function's node is named after the class."""
    Cube = _make_functions(ember)[0]
    x = ember.ones(2, device=device, requires_grad=True)
    assert Cube.apply(x, 1.0).grad_fn.name() == "CubeBackward"


def test_custom_function_saved_tensor_modified_raises(device):
    """Modifying a tensor saved by a custom Function raises at backward."""
    def f(m, x):
        h = x * 1
        y = _make_functions(m)[0].apply(h, 1.0)
        h.add_(1)
        y.sum().backward()
    compare_raises([(3,)], f, device=device, grad=True)


def test_custom_function_no_grad_inputs(device):
    """A custom Function whose inputs don't require grad returns plain tensors."""
    Cube = _make_functions(ember)[0]
    y = Cube.apply(ember.ones(2, device=device), 1.0)
    assert not y.requires_grad and y.grad_fn is None


# -- numerical checks and higher order ---------------------------------------------------
EXPRS = {
    "mlp": lambda x, w: (x @ w).tanh().sum(1).exp(),
    "softmax_ce": lambda x, w: -(x @ w).log_softmax(1)[:, 0],
    "norm": lambda x, w: ((x - x.mean(0)) / (x.var(0) + 1e-3).sqrt()) @ w,
    "where_clamp": lambda x, w: ember.where(x > 0, x, x * 0.1).clamp(-1, 1) @ w,
    "indexing": lambda x, w: x[:, [0, 2]] @ w[[0, 2]] * x[0, 1],
    "broadcast": lambda x, w: (x.unsqueeze(-1) * w).sum((0, 1)),
}


@pytest.mark.parametrize("name", sorted(EXPRS))
def test_composite_gradcheck(name, device):
    """float64 numerical gradient and second-gradient checks of composite expressions."""
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.normal(size=(3, 3)), dtype=ember.float64, device=device,
                     requires_grad=True)
    w = ember.tensor(rng.normal(size=(3, 2)), dtype=ember.float64, device=device,
                     requires_grad=True)
    gradcheck(EXPRS[name], [x, w])
    gradgradcheck(EXPRS[name], [x, w])


def test_hessian_vector_product_matches_torch(device):
    """A Hessian-vector product via double backward equals torch's."""
    def f(m, x, v):
        y = (x.sin() * x.exp()).sum() + (x @ x)
        (g,) = m.autograd.grad(y, x, create_graph=True)
        (hv,) = m.autograd.grad((g * v).sum(), x)
        return hv
    compare([(4,), (4,)], f, device=device, dtype="float64", backward=False)


def test_grad_of_grad_through_matmul_and_softmax(device):
    """Gradient penalty pattern: the norm of an input gradient, backpropagated."""
    def f(m, x, w):
        y = (x @ w).softmax(-1)[:, 0].sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        return (g * g).sum()
    compare([(2, 3), (3, 4)], f, device=device, dtype="float64")


# -- errors --------------------------------------------------------------------------------
def test_numpy_of_tensor_requiring_grad_raises(device):
    """numpy() on a tensor requiring grad raises."""
    if device != "cpu":
        pytest.skip("numpy() of a CUDA tensor raises for another reason")
    compare_raises([(3,)], lambda m, x: x.numpy(), device=device, grad=True)


def test_mixing_devices_in_backward_raises(device):
    """A gradient on another device than its tensor raises."""
    if device == "cpu":
        pytest.skip("needs two devices")
    x = ember.ones(3, device=device, requires_grad=True)
    with pytest.raises(RuntimeError):
        (x * 2).backward(ember.ones(3))


def test_retain_grad_sees_hook_result(device):
    """retain_grad's stored gradient includes other hooks' changes, whatever the order."""
    def f(m, x, hook_first):
        y = x.exp()
        if hook_first:
            y.register_hook(lambda g: g * 2)
            y.retain_grad()
        else:
            y.retain_grad()
            y.register_hook(lambda g: g * 2)
        (y * 3).sum().backward()
        return y.grad, x.grad
    for first in (True, False):
        compare([(3,)], lambda m, x, first=first: f(m, x, first), device=device,
                backward=False)


def test_second_backward_keeps_create_graph_grad(device):
    """A plain backward after one with create_graph accumulates into the graph-carrying
    .grad in place (it keeps requiring grad, as in torch)."""
    def f(m, x):
        x.exp().sum().backward(create_graph=True)
        x.grad.sum().backward()
        return x.grad
    compare([(3,)], f, device=device, backward=False, dtype="float64")


def test_small_training_loop_matches_torch(device):
    """Five SGD steps of a two-layer MLP with a manual cross-entropy follow torch's
    trajectory (float64): forward, backward, in-place update under no_grad, zeroing grads."""
    rng = np.random.default_rng(0)
    data = [rng.normal(size=s) for s in ((8, 4), (4, 6), (6,), (6, 3))]
    target = rng.integers(0, 3, size=8)
    losses = {}
    for m in (torch, ember):
        kw = {"device": device} if m is ember else {}
        x = m.tensor(data[0], **kw)
        w1, b1, w2 = (m.tensor(a, requires_grad=True, **kw) for a in data[1:])
        y = m.tensor(target, **kw)
        out = []
        for _ in range(5):
            h = (x @ w1 + b1).relu()
            logp = (h @ w2).log_softmax(-1)
            loss = -logp.gather(1, y.unsqueeze(1)).mean()
            loss.backward()
            with m.no_grad():
                for p in (w1, b1, w2):
                    p.sub_(0.5 * p.grad)
                    p.grad.zero_()
            out.append(loss.item())
        losses[m.__name__] = out + [to_numpy(w1).sum()]
    np.testing.assert_allclose(losses["ember"], losses["torch"], rtol=1e-10)
