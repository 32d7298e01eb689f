"""ember.autograd.functional (jacobian, hessian, vjp, jvp, hvp, vhp) against
torch.autograd.functional; gradcheck / gradgradcheck; anomaly detection; the profiler."""

import json
import math
import time
import warnings

import ember
import ember.autograd.functional as EF
import numpy as np
import pytest
import torch
import torch.autograd.functional as TF
from ember.autograd import anomaly_mode, profiler
from ember.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from torch_compare import to_numpy

# torch.autograd.functional's own jit use warns on torch 2.13
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")

RNG = np.random.default_rng(0)
X = RNG.standard_normal(3)
Y = RNG.standard_normal((2, 3))
V3 = RNG.standard_normal(3)
V2 = RNG.standard_normal(2)


def _cube(m):
    return lambda a: (a ** 3).sum() * a[0] + a.sin().sum()


def _two_in_two_out(m):
    return lambda a, b: (b @ a.exp(), (a * a).sum())


def _bilinear(m):
    return lambda a, b: (a.unsqueeze(0) * b).sum() ** 2


def _pair(arr):
    return ember.tensor(arr), torch.tensor(arr)


def _same(e, t, what="result"):
    """Same nesting, shapes and values (float64)."""
    if isinstance(t, (tuple, list)):
        assert isinstance(e, tuple) and len(e) == len(t), f"{what}: structure differs"
        for i, (a, b) in enumerate(zip(e, t)):
            _same(a, b, f"{what}[{i}]")
        return
    assert isinstance(e, ember.Tensor), f"{what}: {type(e)}"
    assert tuple(e.shape) == tuple(t.shape), f"{what}: {tuple(e.shape)} != {tuple(t.shape)}"
    assert e.requires_grad == t.requires_grad, f"{what}: requires_grad differs"
    np.testing.assert_allclose(to_numpy(e), to_numpy(t), rtol=1e-9, atol=1e-12, err_msg=what)


def _both(fn_e, fn_t, *arrays, **kw):
    ins_e = tuple(ember.tensor(a) for a in arrays)
    ins_t = tuple(torch.tensor(a) for a in arrays)
    return fn_e(ins_e), fn_t(ins_t)


CASES = {
    "jacobian": lambda F, m, i: F.jacobian(_cube(m), i[0]),
    "jacobian_tuple": lambda F, m, i: F.jacobian(_two_in_two_out(m), i),
    "jacobian_forward_mode": lambda F, m, i: F.jacobian(_two_in_two_out(m), i, vectorize=True,
                                                        strategy="forward-mode"),
    "hessian": lambda F, m, i: F.hessian(_cube(m), i[0]),
    "hessian_tuple": lambda F, m, i: F.hessian(_bilinear(m), i),
    "vjp": lambda F, m, i: F.vjp(_cube(m), i[0]),
    "vjp_tuple": lambda F, m, i: F.vjp(_two_in_two_out(m), i, (m.tensor(V2),
                                                                m.tensor(np.array(1.5)))),
    "jvp_tuple": lambda F, m, i: F.jvp(_two_in_two_out(m), i, (m.tensor(V3), m.tensor(Y))),
    "hvp": lambda F, m, i: F.hvp(_cube(m), i[0], m.tensor(V3)),
    "vhp": lambda F, m, i: F.vhp(_cube(m), i[0], m.tensor(V3)),
    "hvp_tuple": lambda F, m, i: F.hvp(_bilinear(m), i, (m.tensor(V3), m.tensor(Y))),
    "vhp_tuple": lambda F, m, i: F.vhp(_bilinear(m), i, (m.tensor(V3), m.tensor(Y))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_functional_matches_torch(name):
    """Values, shapes and tuple structure equal torch.autograd.functional's."""
    fn = CASES[name]
    e = fn(EF, ember, (ember.tensor(X), ember.tensor(Y)))
    t = fn(TF, torch, (torch.tensor(X), torch.tensor(Y)))
    _same(e, t)


def test_functional_create_graph():
    """With create_graph=True the results stay differentiable (second order matches)."""
    xe = ember.tensor(X, requires_grad=True)
    xt = torch.tensor(X, requires_grad=True)
    je = EF.jacobian(_cube(ember), xe, create_graph=True)
    jt = TF.jacobian(_cube(torch), xt, create_graph=True)
    assert je.requires_grad
    je.sum().backward()
    jt.sum().backward()
    np.testing.assert_allclose(to_numpy(xe.grad), to_numpy(xt.grad), rtol=1e-10)
    _, ve = EF.vjp(_cube(ember), xe, create_graph=True)
    assert ve.requires_grad
    _, he = EF.hvp(_cube(ember), xe, ember.tensor(V3), create_graph=True)
    _, ht = TF.hvp(_cube(torch), xt, torch.tensor(V3), create_graph=True)
    (ge,) = ember.autograd.grad(he.sum(), xe)
    (gt,) = torch.autograd.grad(ht.sum(), xt)
    np.testing.assert_allclose(to_numpy(ge), to_numpy(gt), rtol=1e-10)


def test_functional_detaches_without_create_graph():
    """Without create_graph, outputs and results are detached, as torch."""
    x = ember.tensor(X, requires_grad=True)
    out, v = EF.vjp(_cube(ember), x)
    assert not out.requires_grad and not v.requires_grad
    assert not EF.jacobian(_cube(ember), x).requires_grad


def _msg(fn, mod):
    try:
        fn(mod)
    except Exception as exc:  # noqa: BLE001
        return type(exc), str(exc)
    raise AssertionError("did not raise")


@pytest.mark.parametrize("fn", [
    lambda F, m: F.vjp(lambda a: a * 2, m.ones(3)),
    lambda F, m: F.jvp(lambda a: a * 2, m.ones(3)),
    lambda F, m: F.vjp(lambda a: a * 2, m.ones(3), m.ones(2)),
    lambda F, m: F.jacobian(lambda a: m.ones(2), m.ones(3), strict=True),
    lambda F, m: F.jacobian(lambda a, b: a * 2, (m.ones(3), m.ones(3)), strict=True),
    lambda F, m: F.vjp(lambda a: m.ones(2), m.ones(3), m.ones(2), strict=True),
    lambda F, m: F.hessian(lambda a: a * 2, m.ones(3)),
    lambda F, m: F.hessian(lambda a: (a * 2).sum(), m.ones(3), strict=True),
    lambda F, m: F.hvp(lambda a: a, m.ones(3), m.ones(3)),
    lambda F, m: F.vjp(lambda a: a, [m.ones(3)]),
    lambda F, m: F.jacobian(lambda a: a, m.ones(3), strategy="x"),
])
def test_functional_errors_match_torch(fn):
    """Misuse raises torch's exception type and message."""
    te, tm = _msg(lambda mod: fn(TF, mod), torch)
    ee, em = _msg(lambda mod: fn(EF, mod), ember)
    assert issubclass(ee, te.__mro__[0]) or ee.__name__ == te.__name__, (ee, te)
    assert em == tm.replace("torch.Size", "Size")  # ember's Size repr (docs/compatibility)


# -- gradcheck -----------------------------------------------------------------------------
class _WrongGrad(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x  # should be 2 g x


class _NotTwiceDifferentiable(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * (x * x).detach()  # first derivative right, second lost


def _x64(shape=(3,), complex_=False):
    a = RNG.standard_normal(shape)
    if complex_:
        a = a + 1j * RNG.standard_normal(shape)
    return ember.tensor(a, requires_grad=True)


def test_gradcheck_passes_and_agrees_with_torch():
    """Correct gradients pass, as in torch; multiple inputs and outputs."""
    def f(m):
        return lambda a, b: (a.exp() * b, (a @ b).tanh())
    a, b = _x64(), _x64()
    assert gradcheck(f(ember), (a, b))
    ta, tb = (torch.tensor(to_numpy(t), requires_grad=True) for t in (a, b))
    assert torch.autograd.gradcheck(f(torch), (ta, tb))
    assert gradgradcheck(f(ember), (a, b))


def test_gradcheck_detects_wrong_gradient():
    """A wrong backward raises GradcheckError (a RuntimeError) naming output and input;
    raise_exception=False returns False instead."""
    x = _x64()
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to "
                                             "input 0"):
        gradcheck(_WrongGrad.apply, (x,))
    assert issubclass(GradcheckError, RuntimeError)
    assert gradcheck(_WrongGrad.apply, (x,), raise_exception=False) is False
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        class T(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, g):
                return g * ctx.saved_tensors[0]
        torch.autograd.gradcheck(T.apply, (torch.tensor(to_numpy(x), requires_grad=True),))


def test_gradgradcheck_detects_missing_second_derivative():
    """A backward that is not itself differentiable fails gradgradcheck only."""
    x = _x64()
    assert gradcheck(_NotTwiceDifferentiable.apply, (x,))
    assert not gradgradcheck(_NotTwiceDifferentiable.apply, (x,), raise_exception=False)


def test_gradcheck_complex():
    """Complex inputs and outputs: PyTorch's conjugate Wirtinger convention."""
    z = _x64((3,), complex_=True)
    assert gradcheck(lambda v: v * v.conj() * 2 + v.exp(), (z,))
    assert gradcheck(lambda v: (v * v).abs(), (z,))
    assert gradgradcheck(lambda v: v * v * v, (z,))
    bad = _x64((3,), complex_=True)
    assert not gradcheck(lambda v: _ConjBug.apply(v), (bad,), raise_exception=False)


class _ConjBug(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x  # missing conj: torch's convention wants g * conj(2x)


def test_gradcheck_argument_checks():
    """No input requiring grad: ValueError; single precision: a warning, as torch."""
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(lambda a: a * 2, (ember.ones(3),))
    x = ember.tensor(RNG.standard_normal(3), dtype=ember.float32, requires_grad=True)
    with pytest.warns(UserWarning, match="not a double precision"):
        gradcheck(lambda a: a * 2, (x,), atol=1e-2, rtol=1e-2, eps=1e-3)


def test_gradcheck_nondifferentiable_outputs_and_tensor_input():
    """A lone tensor (not a tuple) works; integer outputs are ignored."""
    x = _x64()
    assert gradcheck(lambda a: (a.sin(), a.argmax()), x)


# -- anomaly detection ---------------------------------------------------------------------
def test_detect_anomaly_context_and_flags():
    """detect_anomaly warns, enables and restores; set_detect_anomaly sets immediately."""
    assert not anomaly_mode.is_anomaly_enabled()
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        ctx = anomaly_mode.detect_anomaly(check_nan=False)
    with ctx:
        assert anomaly_mode.is_anomaly_enabled()
        assert not anomaly_mode.is_anomaly_check_nan_enabled()
    assert not anomaly_mode.is_anomaly_enabled()
    assert anomaly_mode.is_anomaly_check_nan_enabled()
    with anomaly_mode.set_detect_anomaly(True):
        assert anomaly_mode.is_anomaly_enabled()
    assert not anomaly_mode.is_anomaly_enabled()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        @anomaly_mode.detect_anomaly()
        def inside():
            return anomaly_mode.is_anomaly_enabled()
    assert inside() and not anomaly_mode.is_anomaly_enabled()


def test_check_backward_output_message_matches_torch():
    """A nan gradient from a node raises torch's message while anomaly mode is on."""
    x = torch.tensor([-1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.detect_anomaly(), pytest.raises(RuntimeError) as t_err:
            x.sqrt().sum().backward()
    y = ember.tensor([-1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        node = y.sqrt().grad_fn
    grads = (ember.tensor([math.nan]),)
    anomaly_mode.check_backward_output(node, grads)  # off: no error
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with anomaly_mode.detect_anomaly():
            anomaly_mode.record_forward_trace(node)
            assert "test_autograd_functional" in node._anomaly_trace
            with pytest.raises(RuntimeError) as e_err:
                anomaly_mode.check_backward_output(node, grads)
            anomaly_mode.check_backward_output(node, (None, ember.ones(1)))
        with anomaly_mode.detect_anomaly(check_nan=False):
            anomaly_mode.check_backward_output(node, grads)
    assert str(e_err.value) == str(t_err.value)


# -- profiler ------------------------------------------------------------------------------
def test_profiler_records_nested_regions():
    """record_function regions nest; self time excludes children; key_averages counts."""
    with profiler.profile(record_shapes=True) as prof:
        with profiler.record_function("outer"):
            for _ in range(2):
                with profiler.record_function("inner"):
                    time.sleep(0.002)
            t0 = time.perf_counter_ns()
            time.sleep(0.001)
            profiler.record_op("mm", t0, time.perf_counter_ns(), [[2, 3], [3, 4]])
    events = prof.events()
    names = [e.name for e in events]
    assert names == ["outer", "inner", "inner", "aten::mm"]
    outer = events[0]
    assert [c.name for c in outer.cpu_children] == ["inner", "inner", "aten::mm"]
    assert events[1].cpu_parent is outer
    assert abs(outer.self_cpu_time_total - (outer.cpu_time_total - sum(
        c.cpu_time_total for c in outer.cpu_children))) < 1e-6
    assert outer.cpu_time_total >= 5000  # us
    avg = {e.key: e for e in prof.key_averages()}
    assert avg["inner"].count == 2 and avg["outer"].count == 1
    assert avg["inner"].cpu_time == pytest.approx(avg["inner"].cpu_time_total / 2)
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10)
    for col in ("Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
                "# of Calls", "Self CPU time total:"):
        assert col in table
    lines = table.splitlines()
    assert lines[3].split()[0] == "inner"  # largest self time first
    assert "[[2, 3], [3, 4]]" in prof.key_averages(group_by_input_shape=True).table()


def test_profiler_trace_and_errors(tmp_path):
    """Chrome trace export; results before exit and re-entering raise; disabled does
    nothing; record_function outside a profiler is a no-op and works as a decorator."""
    prof = profiler.profile()
    with pytest.raises(RuntimeError, match="didn't finish"):
        prof.key_averages()

    @profiler.record_function("decorated")
    def work():
        time.sleep(0.001)
        return 3

    assert work() == 3
    with prof:
        assert profiler.is_profiler_enabled()
        with pytest.raises(RuntimeError, match="not reentrant"):
            prof.__enter__()
        work()
    assert not profiler.is_profiler_enabled()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    assert trace["traceEvents"][0]["name"] == "decorated"
    assert trace["traceEvents"][0]["ph"] == "X"
    with profiler.profile(enabled=False) as off:
        work()
    assert off.function_events is None
