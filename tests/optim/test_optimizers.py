"""ember.optim against torch.optim: the same problem, the same start, the same trajectory.

Each run optimizes three float64 tensors (a least-squares fit plus a Rosenbrock valley)
for 50 steps with gradients from each library's own autograd, and compares the parameters
(relative 1e-5) and the optimizer's state_dict with torch's at the end.
"""

import copy
import importlib
import sys

import ember
import numpy as np
import pytest
import torch

STEPS = 50


def _arrays(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {"w": rng.normal(size=(3, 2)), "b": rng.normal(size=(2,)),
            "y": rng.normal(size=(4,)) * 0.5, "X": rng.normal(size=(8, 3)),
            "T": rng.normal(size=(8, 2))}


class Run:
    """One library's side of a comparison: the parameters, the data and an optimizer."""

    def __init__(self, lib, opt_name: str, kwargs: dict, groups: bool = False,
                 maximize_sign: bool = False, start: dict | None = None):
        a = _arrays()
        start = start or {k: a[k] for k in ("w", "b", "y")}
        self.lib = lib
        self.params = [lib.tensor(np.array(start[k]), requires_grad=True)
                       for k in ("w", "b", "y")]
        self.X, self.T = lib.tensor(a["X"]), lib.tensor(a["T"])
        self.sign = -1.0 if maximize_sign else 1.0
        self.opt = make_opt(lib, opt_name, self.params, kwargs, groups)

    def loss(self):
        w, b, y = self.params
        r = self.X @ w + b - self.T
        rosen = (10 * (y[1:] - y[:-1] ** 2) ** 2 + (1 - y[:-1]) ** 2).sum()
        return self.sign * ((r * r).mean() + 0.1 * rosen)

    def closure(self):
        self.opt.zero_grad()
        loss = self.loss()
        loss.backward()
        return loss

    def run(self, steps: int) -> "Run":
        for _ in range(steps):
            self.opt.zero_grad()
            self.loss().backward()
            self.opt.step()
        return self

    def values(self) -> list:
        return [p.detach().numpy().copy() for p in self.params]


def make_opt(lib, name: str, params, kwargs: dict, groups: bool):
    if groups:
        lr = kwargs.get("lr", 1e-2)
        params = [{"params": params[:2]}, {"params": params[2:], "lr": lr * 0.5}]
    return getattr(lib.optim, name)(params, **kwargs)


def _to_np(x):
    return x.detach().numpy() if isinstance(x, (torch.Tensor, ember.Tensor)) else x


def assert_state_dicts_match(sd_e: dict, sd_t: dict) -> None:
    """Same layout and values: parameter indices, state keys, state tensors (with dtype and
    shape) and every hyperparameter of every group."""
    assert sd_e["state"].keys() == sd_t["state"].keys()
    for k, st in sd_t["state"].items():
        assert sd_e["state"][k].keys() == st.keys()
        for key, v in st.items():
            e = sd_e["state"][k][key]
            if isinstance(v, torch.Tensor):
                assert isinstance(e, ember.Tensor), key
                assert tuple(e.shape) == tuple(v.shape), key
                assert str(e.dtype).split(".")[-1] == str(v.dtype).split(".")[-1], key
                np.testing.assert_allclose(_to_np(e), _to_np(v), rtol=1e-5, atol=1e-12)
            else:
                assert e == v, key
    assert len(sd_e["param_groups"]) == len(sd_t["param_groups"])
    for ge, gt in zip(sd_e["param_groups"], sd_t["param_groups"]):
        assert ge == gt


def assert_params_match(e_run: Run, t_run: Run) -> None:
    for pe, pt in zip(e_run.values(), t_run.values()):
        np.testing.assert_allclose(pe, pt, rtol=1e-5, atol=1e-10)


CONFIGS = [
    ("SGD", {"lr": 1e-2}, False),
    ("SGD", {"lr": 1e-2, "momentum": 0.9}, True),
    ("SGD", {"lr": 1e-2, "momentum": 0.8, "dampening": 0.1, "weight_decay": 0.05}, False),
    ("SGD", {"lr": 1e-2, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, True),
    ("SGD", {"lr": 1e-2, "momentum": 0.5, "maximize": True}, False),
    ("Adam", {"lr": 1e-2}, False),
    ("Adam", {"lr": 1e-2, "amsgrad": True}, True),
    ("Adam", {"lr": 2e-2, "weight_decay": 0.1, "betas": (0.8, 0.99)}, False),
    ("Adam", {"lr": 1e-2, "weight_decay": 0.1, "decoupled_weight_decay": True,
              "amsgrad": True}, True),
    ("Adam", {"lr": 1e-2, "maximize": True, "eps": 1e-6}, False),
    ("AdamW", {"lr": 1e-2}, True),
    ("AdamW", {"lr": 1e-2, "weight_decay": 0.2, "amsgrad": True}, False),
    ("AdamW", {"lr": 1e-2, "maximize": True}, False),
    ("RMSprop", {"lr": 1e-2}, False),
    ("RMSprop", {"lr": 1e-2, "centered": True}, True),
    ("RMSprop", {"lr": 1e-3, "momentum": 0.9, "weight_decay": 0.1}, False),
    ("RMSprop", {"lr": 1e-3, "momentum": 0.5, "centered": True, "alpha": 0.9}, True),
    ("RMSprop", {"lr": 1e-2, "maximize": True}, False),
    ("Adagrad", {"lr": 0.1}, False),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1,
                 "initial_accumulator_value": 0.1}, True),
    ("Adagrad", {"lr": 0.1, "maximize": True, "eps": 1e-6}, False),
    ("Adadelta", {"lr": 1.0}, False),
    ("Adadelta", {"lr": 0.5, "rho": 0.95, "weight_decay": 0.1}, True),
    ("Adadelta", {"maximize": True}, False),
    ("Adamax", {"lr": 1e-2}, False),
    ("Adamax", {"lr": 2e-2, "weight_decay": 0.1, "betas": (0.8, 0.99)}, True),
    ("Adamax", {"lr": 1e-2, "maximize": True}, False),
    ("NAdam", {"lr": 1e-2}, False),
    ("NAdam", {"lr": 1e-2, "weight_decay": 0.1, "momentum_decay": 1e-2}, True),
    ("NAdam", {"lr": 1e-2, "weight_decay": 0.1, "decoupled_weight_decay": True}, False),
    ("NAdam", {"lr": 1e-2, "maximize": True}, False),
    ("RAdam", {"lr": 1e-2}, False),
    ("RAdam", {"lr": 1e-2, "weight_decay": 0.1}, True),
    ("RAdam", {"lr": 1e-2, "weight_decay": 0.1, "decoupled_weight_decay": True}, False),
    ("RAdam", {"lr": 1e-2, "maximize": True, "betas": (0.9, 0.9)}, False),
]


def _id(c):
    name, kw, groups = c
    return name + "-" + ",".join(f"{k}={v}" for k, v in kw.items()) + ("-groups" if groups
                                                                         else "")


@pytest.mark.parametrize("config", CONFIGS, ids=[_id(c) for c in CONFIGS])
def test_trajectory_matches_torch(config):
    name, kwargs, groups = config
    maximize = kwargs.get("maximize", False)
    e = Run(ember, name, kwargs, groups, maximize).run(STEPS)
    t = torch_reference(config)
    start = _arrays()
    assert not np.allclose(t.values()[0], start["w"])  # the run moved
    assert_params_match(e, t)
    assert_state_dicts_match(e.opt.state_dict(), t.opt.state_dict())


def to_ember(obj):
    """A torch state dict converted tensor by tensor into ember."""
    if isinstance(obj, torch.Tensor):
        return ember.tensor(obj.detach().numpy().copy())
    if isinstance(obj, dict):
        return {k: to_ember(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_ember(v) for v in obj)
    return obj


def to_torch(obj):
    """An ember state dict converted tensor by tensor into torch."""
    if isinstance(obj, ember.Tensor):
        return torch.tensor(obj.detach().numpy().copy())
    if isinstance(obj, dict):
        return {k: to_torch(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_torch(v) for v in obj)
    return obj


# one configuration per algorithm, with its optional state (amsgrad, centered, momentum...)
RESUME = [CONFIGS[i] for i in (3, 6, 11, 16, 19, 22, 25, 28, 32)]
RESUME_IDS = [_id(c) for c in RESUME]
_TORCH_REF: dict = {}


def torch_reference(config) -> Run:
    """torch's uninterrupted run of ``STEPS`` steps (computed once per configuration)."""
    key = _id(config)
    if key not in _TORCH_REF:
        name, kwargs, groups = config
        _TORCH_REF[key] = Run(torch, name, kwargs, groups, kwargs.get("maximize", False))
        _TORCH_REF[key].run(STEPS)
    return _TORCH_REF[key]


@pytest.mark.parametrize("source", ["ember", "torch"])
@pytest.mark.parametrize("config", RESUME, ids=RESUME_IDS)
def test_resume_from_state_dict(config, source):
    """Save after 25 steps, load into a fresh ember optimizer on the saved parameters,
    continue: the end point is torch's uninterrupted run. The saved state comes from ember
    or, converted tensor by tensor, from torch."""
    name, kwargs, groups = config
    maximize = kwargs.get("maximize", False)
    first = Run(ember if source == "ember" else torch, name, kwargs, groups, maximize)
    first.run(STEPS // 2)
    sd = first.opt.state_dict()
    sd = copy.deepcopy(sd) if source == "ember" else to_ember(sd)
    start = dict(zip(("w", "b", "y"), first.values()))
    resumed = Run(ember, name, kwargs, groups, maximize, start=start)
    resumed.opt.load_state_dict(sd)
    first.run(STEPS - STEPS // 2)  # the first optimizer goes on: nothing is shared
    resumed.run(STEPS - STEPS // 2)
    assert_params_match(resumed, torch_reference(config))


@pytest.mark.parametrize("config", RESUME[::2], ids=RESUME_IDS[::2])
def test_torch_loads_ember_state_dict(config):
    name, kwargs, groups = config
    maximize = kwargs.get("maximize", False)
    e = Run(ember, name, kwargs, groups, maximize).run(STEPS // 2)
    start = dict(zip(("w", "b", "y"), e.values()))
    t = Run(torch, name, kwargs, groups, maximize, start=start)
    t.opt.load_state_dict(to_torch(e.opt.state_dict()))
    t.run(STEPS - STEPS // 2)
    assert_params_match(t, torch_reference(config))


def test_step_state_is_a_0dim_float_tensor():
    e = Run(ember, "Adam", {"lr": 1e-2}).run(3)
    step = e.opt.state[e.params[0]]["step"]
    assert isinstance(step, ember.Tensor) and step.shape == () and step.dtype == ember.float32
    assert step.item() == 3.0
    ember.set_default_dtype(ember.float64)
    try:
        e = Run(ember, "Adam", {"lr": 1e-2}).run(1)
        assert e.opt.state[e.params[0]]["step"].dtype == ember.float64
    finally:
        ember.set_default_dtype(ember.float32)


def test_load_state_dict_casts_state_to_param_dtype():
    p = ember.zeros(3, dtype=ember.float32, requires_grad=True)
    opt = ember.optim.Adam([p])
    sd = {"state": {0: {"step": ember.tensor(4.0), "exp_avg": ember.ones(3, dtype=ember.float64),
                        "exp_avg_sq": ember.ones(3, dtype=ember.float64)}},
          "param_groups": copy.deepcopy(opt.state_dict()["param_groups"])}
    opt.load_state_dict(sd)
    st = opt.state[p]
    assert st["exp_avg"].dtype == ember.float32 and st["step"].dtype == ember.float32
    assert st["exp_avg"] is not sd["state"][0]["exp_avg"]


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
@pytest.mark.parametrize("kwargs", [{}, {"history_size": 3, "max_iter": 7, "lr": 0.8},
                                    {"tolerance_grad": 1e-3, "tolerance_change": 1e-4}],
                         ids=["default", "short-history", "tolerances"])
def test_lbfgs_matches_torch(kwargs, line_search):
    kwargs = dict(kwargs, line_search_fn=line_search)
    e = Run(ember, "LBFGS", kwargs)
    t = Run(torch, "LBFGS", kwargs)
    for _ in range(4):
        le = e.opt.step(e.closure)
        lt = t.opt.step(t.closure)
        assert le.item() == pytest.approx(lt.item(), rel=1e-6)
    assert_params_match(e, t)
    se, st = e.opt.state[e.params[0]], t.opt.state[t.params[0]]
    assert (se["func_evals"], se["n_iter"]) == (st["func_evals"], st["n_iter"])
    assert len(se["old_dirs"]) == len(st["old_dirs"])


def test_lbfgs_resumes_from_torch_state_dict():
    kwargs = {"line_search_fn": "strong_wolfe", "max_iter": 5}
    t = Run(torch, "LBFGS", kwargs)
    t.opt.step(t.closure)
    e = Run(ember, "LBFGS", kwargs, start=dict(zip(("w", "b", "y"), t.values())))
    e.opt.load_state_dict(to_ember(t.opt.state_dict()))
    for _ in range(2):
        e.opt.step(e.closure)
        t.opt.step(t.closure)
    assert_params_match(e, t)


def test_lbfgs_rejects_param_groups_and_unknown_line_search():
    p, q = (ember.zeros(2, requires_grad=True) for _ in range(2))
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        ember.optim.LBFGS([{"params": [p]}, {"params": [q]}])
    opt = ember.optim.LBFGS([p], line_search_fn="backtracking")

    def closure():
        opt.zero_grad()
        loss = ((p - 1) ** 2).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)


def test_complex_parameter_matches_torch():
    rng = np.random.default_rng(1)
    start = rng.normal(size=3) + 1j * rng.normal(size=3)
    grads = [rng.normal(size=3) + 1j * rng.normal(size=3) for _ in range(5)]
    out = []
    for lib in (ember, torch):
        p = lib.tensor(start.copy(), requires_grad=True)
        opt = lib.optim.Adam([p], lr=0.1, weight_decay=0.1, amsgrad=True)
        for g in grads:
            p.grad = lib.tensor(g.copy())
            opt.step()
        out.append(p.detach().numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6)


def test_lbfgs_complex_parameter_matches_torch():
    rng = np.random.default_rng(2)
    start = rng.normal(size=4) + 1j * rng.normal(size=4)
    weights = rng.uniform(1, 3, size=4)
    out = []
    for lib in (ember, torch):
        p = lib.tensor(start.copy(), requires_grad=True)
        w = lib.tensor(weights)
        opt = lib.optim.LBFGS([p], line_search_fn="strong_wolfe", max_iter=6)

        def closure(p=p, w=w):
            d = p.detach() - (1 + 2j)  # f = sum w |p - c|^4, gradient set by hand
            m = (d * d.conj()).real
            p.grad = 4 * w * m * d
            return (w * m * m).sum()

        for _ in range(2):
            opt.step(closure)
        out.append(p.detach().numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6)


def test_tensor_learning_rate_matches_torch():
    out = []
    for lib in (ember, torch):
        r = Run(lib, "SGD", {"lr": lib.tensor(0.02), "momentum": 0.9})
        sched = lib.optim.lr_scheduler.StepLR(r.opt, step_size=5, gamma=0.5)
        for _ in range(12):
            r.run(1)
            sched.step()
        assert isinstance(r.opt.param_groups[0]["lr"], lib.Tensor)
        out.append((r.values(), float(r.opt.param_groups[0]["lr"])))
    np.testing.assert_allclose(out[0][0][0], out[1][0][0], rtol=1e-6)
    assert out[0][1] == out[1][1] == pytest.approx(0.005)


def test_subclass_step_calling_super_runs_hooks_once():
    class Clipped(ember.optim.SGD):
        def step(self, closure=None):
            return super().step(closure)

    e = Run(ember, "SGD", {"lr": 0.1})
    e.opt = Clipped(e.params, lr=0.1)
    calls = []
    e.opt.register_step_post_hook(lambda *a: calls.append(1))
    e.run(2)
    assert calls == [1, 1]


def test_wrapper_subclass_without_optimizer_init_steps_like_torch():
    """A subclass that wraps another optimizer and never runs ``Optimizer.__init__`` (as
    accelerate's AcceleratedOptimizer): its ``step`` runs, and the step hooks (global and
    the inner optimizer's) run once per step, from the inner optimizer, as in PyTorch."""
    calls = {}
    for lib in (torch, ember):
        class Wrapper(lib.optim.Optimizer):
            def __init__(self, inner):
                self.optimizer = inner

            @property
            def param_groups(self):
                return self.optimizer.param_groups

            def zero_grad(self, set_to_none=True):
                self.optimizer.zero_grad(set_to_none)

            def step(self, closure=None):
                return self.optimizer.step(closure)

        r = Run(lib, "SGD", {"lr": 0.1})
        seen = calls[lib.__name__] = []
        r.opt.register_step_post_hook(lambda *a, seen=seen: seen.append("inner"))
        module = importlib.import_module(lib.__name__ + ".optim.optimizer")
        g = module.register_optimizer_step_pre_hook(
            lambda opt, *a, seen=seen: seen.append(type(opt).__name__))
        try:
            r.opt = Wrapper(r.opt)
            r.run(2)
        finally:
            g.remove()
        calls[lib.__name__ + "_values"] = r.values()
    assert calls["ember"] == calls["torch"] == ["SGD", "inner"] * 2
    np.testing.assert_allclose(calls["ember_values"][0], calls["torch_values"][0], rtol=1e-9)


def test_closure_is_called_with_grad_enabled():
    e = Run(ember, "SGD", {"lr": 0.1})
    loss = e.opt.step(e.closure)
    assert isinstance(loss, ember.Tensor) and loss.requires_grad
    assert e.params[0].grad is not None


# -- hyperparameter validation: the same errors as torch ---------------------------------
BAD = [
    ("SGD", {"lr": -1}, ValueError),
    ("SGD", {"lr": 0.1, "momentum": -0.5}, ValueError),
    ("SGD", {"lr": 0.1, "weight_decay": -1e-3}, ValueError),
    ("SGD", {"lr": 0.1, "nesterov": True}, ValueError),
    ("Adam", {"lr": -1}, ValueError),
    ("Adam", {"eps": -1e-8}, ValueError),
    ("Adam", {"betas": (1.0, 0.999)}, ValueError),
    ("Adam", {"betas": (0.9, -0.1)}, ValueError),
    ("Adam", {"betas": (0, 0.99)}, ValueError),
    ("Adam", {"weight_decay": -1}, ValueError),
    ("AdamW", {"lr": -0.5}, ValueError),
    ("Adam", {"fused": True, "foreach": True}, RuntimeError),
    ("RMSprop", {"alpha": -0.1}, ValueError),
    ("RMSprop", {"momentum": -1}, ValueError),
    ("RMSprop", {"eps": -1}, ValueError),
    ("Adagrad", {"lr_decay": -1}, ValueError),
    ("Adagrad", {"initial_accumulator_value": -1}, ValueError),
    ("Adadelta", {"rho": 1.5}, ValueError),
    ("Adadelta", {"lr": -1}, ValueError),
    ("Adamax", {"betas": (0.9, 1.0)}, ValueError),
    ("NAdam", {"momentum_decay": -1}, ValueError),
    ("RAdam", {"weight_decay": -0.1}, ValueError),
    ("LBFGS", {"lr": -1}, ValueError),
]


@pytest.mark.parametrize("name,kwargs,exc", BAD, ids=[f"{b[0]}-{b[1]}" for b in BAD])
def test_bad_hyperparameters_raise_like_torch(name, kwargs, exc):
    with pytest.raises(exc) as err_t:
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(exc) as err_e:
        getattr(ember.optim, name)([ember.zeros(2, requires_grad=True)], **kwargs)
    assert str(err_e.value) == str(err_t.value)


def test_invalid_learning_rate_message():
    with pytest.raises(ValueError, match="^Invalid learning rate: -1$"):
        ember.optim.SGD([ember.zeros(2, requires_grad=True)], lr=-1)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
                                  "Adamax", "NAdam", "RAdam"])
def test_differentiable_is_refused(name):
    with pytest.raises(NotImplementedError, match="differentiable"):
        getattr(ember.optim, name)([ember.zeros(2, requires_grad=True)], differentiable=True)


def test_foreach_and_fused_are_accepted_with_the_same_math():
    e = Run(ember, "Adam", {"lr": 1e-2, "foreach": True}).run(10)
    f = Run(ember, "AdamW", {"lr": 1e-2, "fused": True, "weight_decay": 0}).run(10)
    t = Run(torch, "Adam", {"lr": 1e-2}).run(10)
    assert_params_match(e, t)
    assert_params_match(f, t)


def test_bad_params_raise_like_torch():
    for lib in (torch, ember):
        with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
            lib.optim.SGD([], lr=0.1)
        p = lib.zeros(2, requires_grad=True)
        with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts"):
            lib.optim.SGD(p, lr=0.1)
        with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
            lib.optim.SGD([p * 2], lr=0.1)
        with pytest.raises(TypeError, match="ordered collections"):
            lib.optim.SGD([{"params": {p}}], lr=0.1)
        opt = lib.optim.SGD([p], lr=0.1)
        with pytest.raises(ValueError, match="more than one parameter group"):
            opt.add_param_group({"params": [p]})
        with pytest.raises(ValueError, match="required optimization parameter lr"):
            lib.optim.Optimizer([p], {"lr": sys.modules[lib.optim.Optimizer.__module__].required})


# -- the base class ----------------------------------------------------------------------
def test_add_param_group_fills_defaults_and_is_saved():
    p, q = (ember.zeros(2, requires_grad=True) for _ in range(2))
    opt = ember.optim.SGD([p], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": q, "lr": 0.01})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["momentum"] == 0.9
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]


def test_named_parameters_keep_their_names():
    p, q = (ember.zeros(2, requires_grad=True) for _ in range(2))
    opt = ember.optim.Adam([("a.weight", p), ("a.bias", q)])
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["a.weight", "a.bias"]
    with pytest.raises(ValueError, match="with/without names"):
        opt.add_param_group({"params": [ember.zeros(1, requires_grad=True)]})


def test_zero_grad():
    p = ember.ones(3, requires_grad=True)
    opt = ember.optim.SGD([p], lr=0.1)
    (p * 2).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and float(p.grad.abs().sum()) == 0.0
    opt.zero_grad()
    assert p.grad is None
    opt.step()  # no gradient: nothing to do
    assert float(p.sum()) == 3.0


def test_load_state_dict_checks_groups():
    p, q = (ember.zeros(2, requires_grad=True) for _ in range(2))
    sd = ember.optim.SGD([p, q], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        ember.optim.SGD([{"params": [p]}, {"params": [q]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        ember.optim.SGD([p], lr=0.1).load_state_dict(sd)


def test_step_hooks():
    e = Run(ember, "SGD", {"lr": 0.1})
    calls = []
    h1 = e.opt.register_step_pre_hook(lambda opt, args, kwargs: calls.append("pre"))
    h2 = e.opt.register_step_post_hook(lambda opt, args, kwargs: calls.append("post"))
    g = ember.optim.optimizer.register_optimizer_step_pre_hook(
        lambda opt, args, kwargs: calls.append("global"))
    e.run(1)
    assert calls == ["global", "pre", "post"]
    for h in (h1, h2, g):
        h.remove()
    e.run(1)
    assert calls == ["global", "pre", "post"]


def test_pre_hook_can_replace_arguments():
    e = Run(ember, "SGD", {"lr": 0.1})
    e.opt.register_step_pre_hook(lambda opt, args, kwargs: ((), {"closure": e.closure}))
    assert isinstance(e.opt.step(), ember.Tensor)  # the closure's loss came back


def test_state_dict_hooks():
    opt = ember.optim.SGD([ember.zeros(2, requires_grad=True)], lr=0.1)
    opt.register_state_dict_post_hook(lambda o, sd: dict(sd, extra=1))
    assert opt.state_dict()["extra"] == 1
    seen = []
    opt.register_load_state_dict_post_hook(lambda o: seen.append(o))
    opt.load_state_dict(opt.state_dict())
    assert seen == [opt]


def test_repr_lists_groups():
    opt = ember.optim.SGD([ember.zeros(2, requires_grad=True)], lr=0.1)
    assert repr(opt).startswith("SGD (\nParameter Group 0\n") and "lr: 0.1" in repr(opt)


def test_repr_of_several_groups_matches_torch():
    import torch

    reprs = []
    for fw in (ember, torch):
        a, b = fw.zeros(1, requires_grad=True), fw.zeros(1, requires_grad=True)
        reprs.append(repr(fw.optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}],
                                        lr=0.1)))
    assert reprs[0] == reprs[1]


def test_module_paths():
    from ember.optim import adam, lr_scheduler, optimizer, sgd

    assert adam.Adam is ember.optim.Adam and sgd.SGD is ember.optim.SGD
    assert optimizer.Optimizer is ember.optim.Optimizer
    assert lr_scheduler.LRScheduler is lr_scheduler._LRScheduler
    assert callable(adam.adam) and callable(sgd.sgd)
