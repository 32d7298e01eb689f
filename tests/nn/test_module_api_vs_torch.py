"""``nn.Module`` bookkeeping against PyTorch, as model code and libraries use it: error texts
of ``__setattr__``/``register_parameter`` and ``load_state_dict``, ``Module.type``,
lazy modules loading uninitialized state, ``ParameterDict``'s repr, global forward hooks
with kwargs, the old-style backward hook flag and ``functional_call``'s tied weights and
write-back."""

import warnings

import ember
import pytest
import torch


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the type and text are compared
        return type(e).__name__, str(e)
    return None


def _both(build):
    """``build(m)`` under ember and torch."""
    return build(ember), build(torch)


def test_assign_tensor_to_parameter_names_tensor_type():
    """The messages name the tensor type as ``torch.typename`` does (``torch.DoubleTensor``)."""
    def build(m):
        lin = m.nn.Linear(2, 2)
        return [_error(lambda: setattr(lin, "weight", m.ones(2, 2, dtype=m.float64))),
                _error(lambda: setattr(lin, "weight", m.ones(2, 2, dtype=m.int64))),
                _error(lambda: lin.register_parameter("extra", m.ones(1)))]

    e, t = _both(build)
    assert e == t


def test_load_state_dict_size_mismatch_text():
    def build(m):
        m.manual_seed(0)
        net = m.nn.Sequential(m.nn.Linear(2, 3), m.nn.BatchNorm1d(3))
        sd = net.state_dict()
        sd["0.weight"] = m.ones(4, 2)
        sd["1.running_mean"] = m.ones(5)
        del sd["0.bias"]
        return _error(lambda: net.load_state_dict(sd))

    e, t = _both(build)
    assert e == t
    assert "torch.Size([4, 2])" in e[1]


def test_module_type_accepts_type_names_and_keeps_params_float():
    def build(m):
        net = m.nn.Sequential(m.nn.Linear(2, 2), m.nn.BatchNorm1d(2))
        net.type("torch.DoubleTensor")
        dtypes = [str(t.dtype).split(".")[-1] for t in net.state_dict().values()]
        err = _error(lambda: m.nn.Linear(2, 2).type(m.int32))
        return dtypes, err

    e, t = _both(build)
    assert e == t


def test_to_complex_warns():
    for m in (ember, torch):
        with pytest.warns(UserWarning, match="Complex modules are a new feature"):
            m.nn.Linear(2, 2).to(m.complex64)


def test_lazy_state_dict_loads_into_lazy_module():
    """An uninitialized state dict loads into an uninitialized module (nothing happens)."""
    def build(m):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lazy = m.nn.LazyLinear(3)
            res = lazy.load_state_dict(m.nn.LazyLinear(3).state_dict())
            return str(res), lazy.has_uninitialized_params(), type(lazy).__name__

    e, t = _both(build)
    assert e == t


def test_parameter_dict_repr_names_tensor_type():
    def build(m):
        return repr(m.nn.ParameterDict({"x": m.nn.Parameter(m.ones(1)),
                                        "a": m.ones(2, dtype=m.float64)}))

    e, t = _both(build)
    assert e == t


def test_global_forward_hook_with_kwargs():
    def build(m):
        class K(m.nn.Module):
            def forward(self, x, scale=1.0):
                return x * scale

        seen = []
        h = m.nn.modules.module.register_module_forward_hook(
            lambda mod, args, kwargs, out: seen.append((sorted(kwargs), out.tolist())),
            with_kwargs=True)
        try:
            K()(m.ones(1), scale=2.0)
        finally:
            h.remove()
        K()(m.ones(1))
        return seen

    e, t = _both(build)
    assert e == t == [(["scale"], [2.0])]


def test_old_and_full_backward_hooks_do_not_mix():
    def build(m):
        a, b = m.nn.Linear(1, 1), m.nn.Linear(1, 1)
        a.register_backward_hook(lambda *args: None)
        b.register_full_backward_hook(lambda *args: None)
        return (a._is_full_backward_hook,
                _error(lambda: a.register_full_backward_hook(lambda *args: None)),
                _error(lambda: b.register_backward_hook(lambda *args: None)))

    e, t = _both(build)
    assert e == t


def _tied(m):
    class Tied(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = m.nn.Linear(2, 2, bias=False)
            self.head = m.nn.Linear(2, 2, bias=False)
            self.head.weight = self.emb.weight

        def forward(self, x):
            return self.head(self.emb(x))

    return Tied()


def test_functional_call_tied_weights_conflict():
    def build(m):
        fc = m.func.functional_call
        net, x, w = _tied(m), m.ones(1, 2), m.eye(2) * 2
        return (_error(lambda: fc(net, {"emb.weight": w, "head.weight": w * 2}, (x,))),
                fc(net, {"emb.weight": w, "head.weight": w}, (x,)).tolist(),
                fc(net, {"emb.weight": w, "head.weight": w * 2}, (x,),
                   tie_weights=False).tolist(),
                _error(lambda: fc(net, ({"emb.weight": w}, {"emb.weight": w}), (x,))),
                _error(lambda: fc(net, 3, (x,))),
                _error(lambda: fc(net, {"emb": w}, (x,)))[0])

    e, t = _both(build)
    assert e == t


def test_functional_call_writes_back_reassigned_buffers():
    def build(m):
        class Inc(m.nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("foo", m.zeros(1))

            def forward(self, x):
                self.foo = self.foo + 1
                return x

        inc = Inc()
        given = {"foo": m.zeros(1)}
        m.func.functional_call(inc, given, (m.ones(1),))
        return given["foo"].tolist(), inc.foo.tolist()

    e, t = _both(build)
    assert e == t == ([1.0], [0.0])


def test_functional_call_on_parametrized_name_goes_through_right_inverse():
    """``{"weight": W}`` for a parametrized weight is assigned through its setter
    (``right_inverse``), as PyTorch's setattr does; the original comes back afterwards."""
    def build(m):
        class Scale(m.nn.Module):
            def forward(self, x):
                return x * 2

            def right_inverse(self, x):
                return x / 2

        class NoInverse(m.nn.Module):
            def forward(self, x):
                return x.clamp(min=0)

        m.manual_seed(0)
        lin = m.nn.Linear(2, 2)
        lin.bias.data.zero_()
        m.nn.utils.parametrize.register_parametrization(lin, "weight", Scale())
        before = lin.parametrizations.weight.original.detach().clone()
        out = m.func.functional_call(lin, {"weight": m.eye(2) * 3}, (m.ones(1, 2),))
        restored = bool((lin.parametrizations.weight.original == before).all())
        other = m.nn.Linear(2, 2)
        m.nn.utils.parametrize.register_parametrization(other, "weight", NoInverse())
        err = _error(lambda: m.func.functional_call(other, {"weight": m.eye(2)},
                                                    (m.ones(1, 2),)))
        return out.tolist(), restored, err

    e, t = _both(build)
    assert e == t
    assert e[0] == [[3.0, 3.0]]


def test_module_registration_hook_sees_none_assigned_to_a_child():
    def build(m):
        log = []
        h = m.nn.modules.module.register_module_module_registration_hook(
            lambda mod, name, sub: log.append((name, type(sub).__name__)))
        try:
            seq = m.nn.Sequential()
            seq.x = m.nn.Linear(1, 1)
            seq.x = None
        finally:
            h.remove()
        return log

    e, t = _both(build)
    assert e == t == [("x", "Linear"), ("x", "NoneType")]
