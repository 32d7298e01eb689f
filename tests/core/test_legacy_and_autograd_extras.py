"""Legacy tensor types and ``Variable``, ``ember.functional``, post-accumulate-grad hooks,
inference tensors, saved-tensor hooks and ``ember.utils.checkpoint``, against PyTorch."""

import warnings

import ember
import numpy as np
import pytest
import torch
import torch.utils.checkpoint as tcp
from torch_compare import assert_close, compare, to_numpy

_TYPES = ["FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor",
          "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]


# -- legacy tensor types -------------------------------------------------------------------
@pytest.mark.parametrize("name", _TYPES)
def test_legacy_type_constructors(name):
    E, T = getattr(ember, name), getattr(torch, name)
    assert str(E.dtype).split(".")[-1] == str(T.dtype).split(".")[-1]
    assert E.is_cuda is False and E.__name__ == T.__name__
    for args in [([1, 0, 2],), ([[1, 2], [3, 4]],), ()]:
        e, t = E(*args), T(*args)
        assert e.shape == t.shape
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        assert_close(e, t)
    assert E(2, 3).shape == T(2, 3).shape == (2, 3)
    assert E(ember.Size([4])).shape == T(torch.Size([4])).shape
    assert isinstance(E([1]), E) and isinstance(T([1]), T)
    assert type(E([1])) is ember.Tensor
    assert E([1]).type() == T([1]).type() == "torch." + name


def test_legacy_type_isinstance_and_type():
    z = ember.zeros(2, requires_grad=True)
    assert isinstance(z, ember.FloatTensor) and not isinstance(z, ember.LongTensor)
    assert isinstance(ember.arange(3), ember.LongTensor)
    assert not isinstance(ember.zeros(2), ember.cuda.FloatTensor)
    assert not isinstance([1.0], ember.FloatTensor)
    x = ember.zeros(2)
    assert x.type() == "torch.FloatTensor"
    assert x.type(ember.LongTensor).dtype is ember.int64
    assert x.type("torch.IntTensor").dtype is ember.int32
    assert x.type(ember.float64).dtype is ember.float64
    assert x.type(ember.FloatTensor) is x
    assert torch.zeros(2).type(torch.LongTensor).dtype == torch.int64


def test_legacy_type_alias_and_errors():
    a = ember.zeros(2)
    b = ember.FloatTensor(a)
    b[0] = 5.0
    assert a[0].item() == 5.0  # an alias, as torch
    for m in (ember, torch):
        with pytest.raises(TypeError):
            m.LongTensor(m.zeros(2))
        with pytest.raises(TypeError):
            m.FloatTensor(2.5)
        with pytest.raises(RuntimeError):
            m.FloatTensor([1.0], device="cuda")
    if not ember.cuda.is_available():
        with pytest.raises(TypeError, match="not available"):
            ember.cuda.FloatTensor([1.0])


def test_set_default_tensor_type():
    try:
        with pytest.warns(UserWarning, match="deprecated"):
            ember.set_default_tensor_type(ember.DoubleTensor)
        assert ember.zeros(1).dtype is ember.float64
        with pytest.warns(UserWarning):
            ember.set_default_tensor_type("torch.FloatTensor")
        assert ember.get_default_dtype() is ember.float32
        with pytest.raises(TypeError), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ember.set_default_tensor_type(ember.LongTensor)
    finally:
        ember.set_default_dtype(ember.float32)


# -- Variable, ember.functional ------------------------------------------------------------
def test_variable():
    from ember.autograd import Variable

    for m, V in ((ember, Variable), (torch, torch.autograd.Variable)):
        a = m.ones(2, requires_grad=True)
        b = V(a)
        assert b is not a and not b.requires_grad and b.is_leaf
        c = V(a * 2, requires_grad=True)
        assert c.requires_grad and c.is_leaf and c.grad_fn is None
        x = m.zeros(2)
        V(x)[0] = 1.0
        assert x[0].item() == 1.0
        assert isinstance(m.ones(1), V)
        assert V().shape == (0,)
        with pytest.raises(TypeError):
            V([1, 2])
        with pytest.warns(UserWarning, match="volatile"):
            V(x, volatile=True)
    assert ember.autograd.variable.Variable is Variable


def test_functional_module():
    import ember.functional as EF

    names = set(torch.functional.__all__) - {"pca_lowrank", "svd_lowrank"}
    assert names <= set(EF.__all__)
    for n in names:
        assert callable(getattr(EF, n))
    compare([(2, 3), (3, 4)], lambda m, a, b: m.functional.einsum("ij,jk->ik", a, b))
    compare([(3,), (2,)], lambda m, a, b: m.functional.cartesian_prod(a, b))
    compare([(4, 3)], lambda m, a: m.functional.norm(a, dim=1))
    assert EF.broadcast_shapes((2, 1), (1, 3)) == torch.functional.broadcast_shapes((2, 1),
                                                                                    (1, 3))


def test_functional_lu():
    rng = np.random.default_rng(0)
    arr = rng.standard_normal((2, 3, 3)).astype(np.float32)
    e = ember.functional.lu(ember.tensor(arr), get_infos=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.functional.lu(torch.tensor(arr), get_infos=True)
        t2 = torch.functional.lu(torch.tensor(arr))
    for a, b in zip(e, t):
        assert_close(a, b)
    assert len(ember.functional.lu(ember.tensor(arr))) == len(t2) == 2


# -- post accumulate grad hooks ------------------------------------------------------------
def test_post_accumulate_grad_hook():
    res = {}
    for m in (ember, torch):
        w = m.ones(3, requires_grad=True)
        seen = []
        h = w.register_post_accumulate_grad_hook(lambda p, seen=seen: seen.append(p.grad.clone()))
        (w * 2).sum().backward()
        (w * w).sum().backward()
        h.remove()
        (w * 3).sum().backward()
        m.autograd.grad((w * 5).sum(), w)  # .grad untouched: no call
        res[m] = seen
    assert len(res[ember]) == len(res[torch]) == 2
    for e, t in zip(res[ember], res[torch]):
        assert_close(e, t)


def test_post_accumulate_grad_hook_optimizer_step_in_hook():
    ws = []
    for m in (ember, torch):
        w = m.tensor([1.0, 2.0], requires_grad=True)

        def hook(p, m=m):
            with m.no_grad():
                p -= 0.1 * p.grad
            p.grad = None

        w.register_post_accumulate_grad_hook(hook)
        (w * w).sum().backward()
        assert w.grad is None
        ws.append(w)
    assert_close(ws[0], ws[1])


def test_post_accumulate_grad_hook_errors():
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match="doesn't require"):
            m.ones(2).register_post_accumulate_grad_hook(lambda p: None)
        with pytest.raises(RuntimeError, match="non-leaf"):
            (m.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(
                lambda p: None)


# -- inference mode ------------------------------------------------------------------------
def test_is_inference():
    out = {}
    for m in (ember, torch):
        with m.inference_mode():
            x = m.ones(2)
            y = x * 2
            t = m.tensor([1.0])
            with m.inference_mode(False):
                inner = (m.is_grad_enabled(), m.is_inference_mode_enabled(),
                         m.ones(1).is_inference())
        with m.no_grad():
            z = m.ones(1)
        out[m] = (x.is_inference(), y.is_inference(), t.is_inference(), m.is_inference(x),
                  m.ones(1).is_inference(), z.is_inference(), (x + 1).is_inference(),
                  x.view(2).is_inference(), x.clone().is_inference(), inner,
                  m.is_inference_mode_enabled())
    assert out[ember] == out[torch]


def test_inference_mode_decorator_marks_tensors():
    @ember.inference_mode()
    def f():
        return ember.zeros(2)

    assert f().is_inference() and not ember.zeros(2).is_inference()
    assert ember.is_grad_enabled()


# -- saved tensors hooks -------------------------------------------------------------------
def test_saved_tensors_hooks_counts_and_grads():
    res = {}
    for m in (ember, torch):
        gm = m.autograd.graph
        packed, unpacked = [], []

        def pack(t, packed=packed):
            packed.append(tuple(t.shape))
            return t.detach().clone()

        def unpack(t, unpacked=unpacked):
            unpacked.append(tuple(t.shape))
            return t

        a = m.tensor([0.5, -1.0, 2.0], requires_grad=True)
        b = m.tensor([1.5, 0.3, -0.7], requires_grad=True)
        with gm.saved_tensors_hooks(pack, unpack):
            y = (a * b).exp().sum()
        n_packed = len(packed)
        y.backward()
        c = (a * b).sum()  # outside: no hooks
        c.backward()
        res[m] = (n_packed, len(packed), len(unpacked), a.grad, b.grad)
    assert res[ember][:3] == res[torch][:3] == (3, 3, 3)
    assert_close(res[ember][3], res[torch][3])
    assert_close(res[ember][4], res[torch][4])


def test_saved_tensors_hooks_nesting_and_double_backward():
    for m in (ember, torch):
        gm = m.autograd.graph
        calls = []
        b = m.tensor([1.0, 2.0, -0.5], requires_grad=True)
        with gm.saved_tensors_hooks(lambda t, c=calls: c.append("outer") or t,
                                    lambda t: t):
            with gm.saved_tensors_hooks(lambda t, c=calls: c.append("inner") or t,
                                        lambda t: t):
                y = (b * b).sum()
            z = b.sin().sum()
        assert calls == ["inner", "inner", "outer"]
        with gm.saved_tensors_hooks(lambda t: t * 1, lambda t: t):
            w = (b * b * b).sum()
        (g,) = m.autograd.grad(w, b, create_graph=True)
        (gg,) = m.autograd.grad(g.sum(), b)
        np.testing.assert_allclose(to_numpy(gg), 6 * to_numpy(b), rtol=1e-6)
        del y, z


def test_saved_tensors_hooks_custom_function_and_save_on_cpu():
    class Cube(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x ** 3
            ctx.save_for_backward(x, y)
            return y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * 3 * y / x

    seen = []
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    with ember.autograd.graph.saved_tensors_hooks(lambda t: seen.append(t) or t.clone(),
                                                  lambda t: t):
        y = Cube.apply(x)
    assert len(seen) == 2
    y.sum().backward()
    assert_close(x.grad, torch.tensor([3.0, 12.0]))
    for m in (ember, torch):
        a = m.tensor([1.0, 2.0], requires_grad=True)
        with m.autograd.graph.save_on_cpu(pin_memory=False):
            (a.exp() * a).sum().backward()
        np.testing.assert_allclose(to_numpy(a.grad), np.exp([1.0, 2.0]) * [2.0, 3.0],
                                   rtol=1e-6)


def test_saved_tensors_hooks_inplace_and_freed_errors():
    res = {}
    for m in (ember, torch):
        # through hooks PyTorch does no version check: the unpacked value is used as is
        grads = []
        for pack in (lambda t: t, lambda t: t.clone()):
            a = m.tensor([1.0, 2.0], requires_grad=True)
            with m.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                b = a * 1
                c = (b * b).sum()
            b.add_(1)
            c.backward()
            grads.append(to_numpy(a.grad))
        res[m] = grads
        with m.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            d = (a * a).sum()
        d.backward()
        with pytest.raises(RuntimeError, match="second time"):
            d.backward()
    for e, t in zip(res[ember], res[torch]):
        np.testing.assert_array_equal(e, t)


def test_disable_saved_tensors_hooks():
    gm = ember.autograd.graph
    with gm.disable_saved_tensors_hooks("no hooks here"):
        with pytest.raises(RuntimeError, match="no hooks here"):
            with gm.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    with gm.saved_tensors_hooks(lambda t: t, lambda t: t):
        pass


# -- checkpoint ----------------------------------------------------------------------------
def _model(m):
    m.manual_seed(0)
    net = m.nn.Sequential(m.nn.Linear(4, 8), m.nn.ReLU(), m.nn.Dropout(0.5),
                          m.nn.Linear(8, 8), m.nn.Tanh(), m.nn.Dropout(0.3),
                          m.nn.Linear(8, 3))
    return net


def _load_same(enet, tnet):
    enet.load_state_dict({k: ember.tensor(v.detach().numpy())
                          for k, v in tnet.state_dict().items()})


def _grads(m, net, x, run):
    net.zero_grad()
    x.grad = None
    m.manual_seed(123)
    y = run(net, x)
    (y * y).sum().backward()
    return [y.detach()] + [p.grad.clone() for p in net.parameters()] + [x.grad.clone()]


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpoint_matches_plain_with_dropout(use_reentrant):
    from ember.utils.checkpoint import checkpoint

    net = _model(ember)
    x = ember.randn(5, 4, requires_grad=True)
    plain = _grads(ember, net, x, lambda n, x: n(x))
    ck = _grads(ember, net, x, lambda n, x: checkpoint(n, x, use_reentrant=use_reentrant))
    for a, b in zip(plain, ck):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    # and with torch (no dropout, so the random streams don't matter)
    tnet = _model(torch).eval()
    enet = _model(ember).eval()
    _load_same(enet, tnet)
    arr = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    xt = torch.tensor(arr, requires_grad=True)
    xe = ember.tensor(arr, requires_grad=True)
    gt = _grads(torch, tnet, xt, lambda n, x: tcp.checkpoint(n, x,
                                                             use_reentrant=use_reentrant))
    ge = _grads(ember, enet, xe, lambda n, x: checkpoint(n, x, use_reentrant=use_reentrant))
    for a, b in zip(ge, gt):
        assert_close(a, b)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpoint_sequential(use_reentrant):
    from ember.utils.checkpoint import checkpoint_sequential

    net = _model(ember)
    x = ember.randn(5, 4, requires_grad=True)
    plain = _grads(ember, net, x, lambda n, x: n(x))
    for segments in (1, 2, 3):
        ck = _grads(ember, net, x, lambda n, x, s=segments: checkpoint_sequential(
            n, s, x, use_reentrant=use_reentrant))
        for a, b in zip(plain, ck):
            np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    ck = _grads(ember, net, x, lambda n, x: checkpoint_sequential(
        list(n.children()), 2, x, use_reentrant=use_reentrant))
    for a, b in zip(plain, ck):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


def test_checkpoint_warnings_and_errors():
    from ember.utils import checkpoint as ecp

    for cp, m in ((ecp, ember), (tcp, torch)):
        x = m.ones(2, requires_grad=True)
        with pytest.warns(UserWarning, match="use_reentrant parameter should be passed"):
            y = cp.checkpoint(lambda t: t * 2, x)
        assert type(y.grad_fn).__name__ == "CheckpointFunctionBackward"
        with pytest.warns(UserWarning, match="use_reentrant parameter should be passed"):
            cp.checkpoint_sequential([lambda t: t * 2, lambda t: t + 1], 2, x)
        with pytest.raises(ValueError, match="Unexpected keyword arguments"):
            cp.checkpoint(lambda t, k=1: t * k, x, use_reentrant=True, k=2)
        with pytest.warns(UserWarning, match="None of the inputs have requires_grad"):
            cp.checkpoint(lambda t: t * 2, m.ones(2), use_reentrant=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            cp.checkpoint(lambda t: t * 2, x, use_reentrant=False)


def test_checkpoint_non_reentrant_kwargs_grad_and_nesting():
    from ember.utils.checkpoint import checkpoint

    for cp, m in ((checkpoint, ember), (tcp.checkpoint, torch)):
        a = m.tensor([0.3, -1.2, 0.8], requires_grad=True)
        w = m.tensor([1.5, 0.5, -2.0], requires_grad=True)

        def inner(t, scale=1.0, w=w):
            return (t.sin() * w * scale).cos()

        def outer(t, cp=cp, inner=inner):
            return cp(inner, t * 3, use_reentrant=False, scale=2.0).exp()

        ref = m.autograd.grad(outer(a).sum(), [a, w])
        got = m.autograd.grad(cp(outer, a, use_reentrant=False).sum(), [a, w])
        for r, g in zip(ref, got):
            np.testing.assert_allclose(to_numpy(r), to_numpy(g), rtol=1e-6)


def test_checkpoint_non_reentrant_keeps_no_activations():
    import gc
    import weakref

    from ember.utils.checkpoint import checkpoint

    refs = []

    def f(t):
        h = t.exp()
        refs.append(weakref.ref(h))
        return h.sin()

    x = ember.randn(4, requires_grad=True)
    y = checkpoint(f, x, use_reentrant=False)
    gc.collect()
    assert refs[0]() is None  # the intermediate is not kept by the graph
    y.sum().backward()
    assert_close(x.grad, torch.tensor(to_numpy(x)).exp().cos() * torch.tensor(
        to_numpy(x)).exp())


def test_inference_flag_not_saved():
    import io

    with ember.inference_mode():
        x = ember.ones(2)
        lin = ember.nn.Linear(2, 2)
    assert x.is_inference() and lin.weight.is_inference()
    buf = io.BytesIO()
    ember.save({"x": x, "w": lin.weight}, buf)
    buf.seek(0)
    loaded = ember.load(buf)
    assert not loaded["x"].is_inference() and not loaded["w"].is_inference()
    buf.seek(0)
    assert torch.load(buf)["x"].__dict__ == {}
