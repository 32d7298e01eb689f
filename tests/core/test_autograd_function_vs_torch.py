"""Custom ``autograd.Function`` idioms and ``autograd.grad`` options against PyTorch: the
``setup_context`` style, the check on the number of gradients backward returns,
``once_differentiable`` under ``create_graph``, ``is_grads_batched`` and
``broadcast_tensors`` handing back tensors already of the broadcast shape."""

import ember
import numpy as np
import pytest
import torch
from torch_compare import to_numpy


def _both(fn):
    """``fn(m)`` for m in (ember, torch)."""
    return fn(ember), fn(torch)


def _assert_same(e, t):
    if isinstance(e, (tuple, list)):
        assert len(e) == len(t)
        for a, b in zip(e, t):
            _assert_same(a, b)
    elif e is None or isinstance(e, (bool, int, float, str)):
        assert e == t
    else:
        np.testing.assert_allclose(to_numpy(e), to_numpy(t), rtol=1e-6, atol=1e-6)


def _matmul_fn(m):
    class MatMul(m.autograd.Function):
        @staticmethod
        def forward(x, w):
            return x @ w

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, w = inputs
            ctx.save_for_backward(x, w)

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            gx = g @ w.t() if ctx.needs_input_grad[0] else None
            return gx, x.t() @ g
    return MatMul


def test_setup_context_style():
    """forward without ctx plus setup_context(ctx, inputs, output), as torch."""
    def f(m):
        fn = _matmul_fn(m)
        x = m.arange(6.).reshape(2, 3).requires_grad_()
        w = m.arange(12.).reshape(3, 4).requires_grad_()
        out = fn.apply(x, w)
        out.sum().backward()
        w2 = m.arange(12.).reshape(3, 4).requires_grad_()
        fn.apply(m.arange(6.).reshape(2, 3), w2).sum().backward()
        return out, x.grad, w.grad, w2.grad
    _assert_same(*_both(f))


def _bad_count(m, extra):
    class Bad(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return (g,) + extra
    return Bad


def test_wrong_number_of_gradients_raises():
    """Too few gradients from backward raise; extra ones are fine when they are None."""
    for m in (ember, torch):
        x = m.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="incorrect number of gradients"):
            _bad_count(m, ()).apply(x, x).sum().backward()
        with pytest.raises(RuntimeError, match="incorrect number of gradients"):
            _bad_count(m, (x, x)).apply(x, x).sum().backward()

    def f(m):
        x = m.ones(2, requires_grad=True)
        _bad_count(m, (None, None, None)).apply(x, x * 2).sum().backward()
        return x.grad
    _assert_same(*_both(f))


def _sort_fn(m):
    class Sort(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            v, i = x.sort()
            ctx.mark_non_differentiable(i)
            ctx.save_for_backward(i)
            return v, i

        @staticmethod
        @m.autograd.function.once_differentiable
        def backward(ctx, gv, gi):
            (i,) = ctx.saved_tensors
            return m.zeros_like(gv).scatter_(0, i, gv)
    return Sort


def test_once_differentiable_under_create_graph():
    """The gradient comes out requiring grad and differentiating it raises, as torch."""
    def f(m):
        x = m.tensor([3.0, 1.0, 2.0], requires_grad=True)
        v, _ = _sort_fn(m).apply(x)
        (g,) = m.autograd.grad((v ** 2).sum(), x, create_graph=True)
        with pytest.raises(RuntimeError, match="once_differentiable"):
            g.sum().backward()
        x2 = m.tensor([3.0, 1.0, 2.0], requires_grad=True)
        v2, _ = _sort_fn(m).apply(x2)
        (g2,) = m.autograd.grad((v2 ** 2).sum(), x2)
        return g.requires_grad, g, g2.requires_grad, g2
    _assert_same(*_both(f))


def test_grad_is_grads_batched():
    """is_grads_batched: one vector-Jacobian product per row of the grad_outputs."""
    def f(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = m.tensor([0.5, -1.0], requires_grad=True)
        out = x * x.sum()
        (jac,) = m.autograd.grad(out, x, m.eye(3), is_grads_batched=True, retain_graph=True)
        gx, gy = m.autograd.grad(out, (x, y), m.eye(3) * 2, is_grads_batched=True,
                                 allow_unused=True)
        z = (x[:2] * y).exp()
        gx2, gy2 = m.autograd.grad(z, (x, y), m.eye(2), is_grads_batched=True,
                                   create_graph=True)
        return jac, gx, gy, gx2, gy2, gx2.requires_grad, tuple(gy2.shape)
    _assert_same(*_both(f))


def test_broadcast_tensors_keeps_tensors_of_the_broadcast_shape():
    """A tensor already of the broadcast shape comes back as itself (so a distribution's
    ``loc`` is the tensor passed in)."""
    for m in (ember, torch):
        a = m.ones(2, requires_grad=True)
        b = m.ones(3, 2)
        x, y = m.broadcast_tensors(a, b)
        assert x is not a and y is b and tuple(x.shape) == (3, 2)
        p, q = m.broadcast_tensors(a, m.zeros(2))
        assert p is a
        loc = m.tensor([0.0, 1.0], requires_grad=True)
        n = m.distributions.Normal(loc, m.tensor([1.0, 2.0]))
        assert n.loc is loc and n.mean.is_leaf


def _cube_fn(m):
    class Cube(m.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x):
            return x ** 3

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
            ctx.save_for_forward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * g

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * t
    return Cube


def test_save_for_forward_and_func_transforms():
    """A Function written for torch.func (save_for_forward, jvp) works under grad, vmap and
    jacrev, as torch."""
    def f(m):
        cube = _cube_fn(m)
        x = m.tensor([1.0, 2.0])
        return (m.func.grad(lambda t: cube.apply(t).sum())(x),
                m.func.vmap(cube.apply)(m.arange(6.0).reshape(3, 2)),
                m.func.jacrev(cube.apply)(x))
    _assert_same(*_both(f))


def test_mark_dirty_on_leaf_requiring_grad_raises():
    """Modifying a leaf that requires grad in place (mark_dirty) raises, except under
    no_grad."""
    for m in (ember, torch):
        class Double(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.mark_dirty(x)
                return x.mul_(2)

            @staticmethod
            def backward(ctx, g):
                return g * 2
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            Double.apply(m.ones(2, requires_grad=True))
        leaf = m.ones(2, requires_grad=True)
        with m.no_grad():
            assert Double.apply(leaf).tolist() == [2.0, 2.0]
        y = leaf.clone()
        out = Double.apply(y)
        out.sum().backward()
        assert out is y and leaf.grad.tolist() == [2.0, 2.0]
