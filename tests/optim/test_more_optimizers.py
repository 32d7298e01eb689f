"""ember.optim's ASGD, Rprop, Adafactor, SparseAdam, Muon and swa_utils against torch: the
same problem, the same start, the same trajectory, and state dicts that load both ways."""

import copy

import ember
import numpy as np
import pytest
import torch
from test_optimizers import (
    STEPS,
    Run,
    _arrays,
    _id,
    assert_params_match,
    assert_state_dicts_match,
    to_ember,
    to_torch,
)

# torch warns on every sparse_coo_tensor that its invariant checks are off
pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks:UserWarning")

CONFIGS = [
    ("ASGD", {"lr": 1e-2}, False),
    ("ASGD", {"lr": 2e-2, "lambd": 1e-2, "alpha": 0.5, "t0": 10, "weight_decay": 0.1}, True),
    ("ASGD", {"lr": 1e-2, "t0": 5, "maximize": True, "foreach": True}, False),
    ("Rprop", {"lr": 1e-2}, False),
    ("Rprop", {"lr": 5e-3, "etas": (0.4, 1.3), "step_sizes": (1e-4, 0.05)}, True),
    ("Rprop", {"lr": 1e-2, "maximize": True, "foreach": True}, False),
    ("Adafactor", {"lr": 1e-2}, False),
    ("Adafactor", {"lr": 2e-2, "beta2_decay": -0.5, "eps": (1e-20, 1e-2), "d": 2.0,
                   "weight_decay": 0.1}, True),
    ("Adafactor", {"lr": 1e-2, "maximize": True, "foreach": False}, False),
]
_REF: dict = {}


def reference(config) -> Run:
    """torch's uninterrupted run (computed once per configuration)."""
    key = _id(config)
    if key not in _REF:
        name, kwargs, groups = config
        _REF[key] = Run(torch, name, kwargs, groups, kwargs.get("maximize", False)).run(STEPS)
    return _REF[key]


@pytest.mark.parametrize("config", CONFIGS, ids=[_id(c) for c in CONFIGS])
def test_trajectory_matches_torch(config):
    name, kwargs, groups = config
    e = Run(ember, name, kwargs, groups, kwargs.get("maximize", False)).run(STEPS)
    t = reference(config)
    assert not np.allclose(t.values()[0], _arrays()["w"])  # the run moved
    assert_params_match(e, t)
    assert_state_dicts_match(e.opt.state_dict(), t.opt.state_dict())


RESUME = [CONFIGS[i] for i in (1, 4, 7)]


@pytest.mark.parametrize("source", ["ember", "torch"])
@pytest.mark.parametrize("config", RESUME, ids=[_id(c) for c in RESUME])
def test_resume_from_state_dict(config, source):
    """Stop halfway, load the state (ember's, or torch's converted) into a fresh ember
    optimizer, go on: the end point is torch's uninterrupted run."""
    name, kwargs, groups = config
    maximize = kwargs.get("maximize", False)
    first = Run(ember if source == "ember" else torch, name, kwargs, groups, maximize)
    first.run(STEPS // 2)
    sd = first.opt.state_dict()
    sd = copy.deepcopy(sd) if source == "ember" else to_ember(sd)
    start = dict(zip(("w", "b", "y"), first.values()))
    resumed = Run(ember, name, kwargs, groups, maximize, start=start)
    resumed.opt.load_state_dict(sd)
    resumed.run(STEPS - STEPS // 2)
    assert_params_match(resumed, reference(config))


@pytest.mark.parametrize("config", RESUME, ids=[_id(c) for c in RESUME])
def test_torch_loads_ember_state_dict(config):
    name, kwargs, groups = config
    e = Run(ember, name, kwargs, groups).run(STEPS // 2)
    t = Run(torch, name, kwargs, groups, start=dict(zip(("w", "b", "y"), e.values())))
    t.opt.load_state_dict(to_torch(e.opt.state_dict()))
    t.run(STEPS - STEPS // 2)
    assert_params_match(t, reference(config))


def test_adafactor_state_shapes():
    e = Run(ember, "Adafactor", {}).run(1)
    st = e.opt.state
    assert tuple(st[e.params[0]]["row_var"].shape) == (3, 1)
    assert tuple(st[e.params[0]]["col_var"].shape) == (1, 2)
    assert tuple(st[e.params[1]]["variance"].shape) == (2,)


@pytest.mark.parametrize("name", ["ASGD", "Rprop"])
def test_complex_parameter_matches_torch(name):
    rng = np.random.default_rng(1)
    start = rng.normal(size=3) + 1j * rng.normal(size=3)
    grads = [rng.normal(size=3) + 1j * rng.normal(size=3) for _ in range(6)]
    out = []
    for lib in (ember, torch):
        p = lib.tensor(start.copy(), requires_grad=True)
        kwargs = {"t0": 2, "weight_decay": 0.1} if name == "ASGD" else {}
        opt = getattr(lib.optim, name)([p], lr=0.1, **kwargs)
        for g in grads:
            p.grad = lib.tensor(g.copy())
            opt.step()
        out.append(p.detach().numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6)


def test_adafactor_refuses_complex_parameters():
    p = ember.zeros(2, dtype=ember.complex64, requires_grad=True)
    p.grad = ember.ones(2, dtype=ember.complex64)
    with pytest.raises(RuntimeError, match="Adafactor does not support complex parameters"):
        ember.optim.Adafactor([p]).step()


# -- SparseAdam ----------------------------------------------------------------------------
def _sparse_run(lib, kwargs, groups: bool, steps: int = 8):
    rng = np.random.default_rng(3)
    w = lib.tensor(rng.normal(size=(6, 3)), requires_grad=True)
    v = lib.tensor(rng.normal(size=(5,)), requires_grad=True)
    params = [{"params": [w]}, {"params": [v], "lr": 0.05}] if groups else [w, v]
    opt = lib.optim.SparseAdam(params, **kwargs)
    for _ in range(steps):
        rows = rng.integers(0, 6, size=4)  # repeated rows: the gradient gets coalesced
        gw = rng.normal(size=(4, 3))
        w.grad = lib.sparse_coo_tensor(lib.tensor(rows[None]), lib.tensor(gw), (6, 3))
        cols = rng.integers(0, 5, size=2)
        v.grad = lib.sparse_coo_tensor(lib.tensor(cols[None]), lib.tensor(rng.normal(size=2)),
                                       (5,))
        opt.step()
    return opt, [w.detach().numpy().copy(), v.detach().numpy().copy()]


@pytest.mark.parametrize("kwargs,groups", [({"lr": 0.1}, False),
                                           ({"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6},
                                            True),
                                           ({"lr": 0.1, "maximize": True}, False)])
def test_sparse_adam_matches_torch(kwargs, groups):
    opt_e, e = _sparse_run(ember, kwargs, groups)
    opt_t, t = _sparse_run(torch, kwargs, groups)
    for a, b in zip(e, t):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert_state_dicts_match(opt_e.state_dict(), opt_t.state_dict())
    assert opt_e.state_dict()["state"][0]["step"] == 8  # a Python int, as in torch


def test_sparse_adam_skips_untouched_rows():
    w = ember.ones(4, 2, requires_grad=True)
    opt = ember.optim.SparseAdam([w], lr=0.1)
    w.grad = ember.sparse_coo_tensor(ember.tensor([[1]]), ember.ones(1, 2), (4, 2))
    opt.step()
    assert (w.detach().numpy()[[0, 2, 3]] == 1).all()
    assert (w.detach().numpy()[1] < 1).all()


def test_sparse_adam_errors_like_torch():
    msg = "SparseAdam does not support dense gradients, please consider Adam instead"
    for lib in (ember, torch):
        p = lib.zeros(3, requires_grad=True)
        p.grad = lib.ones(3)
        with pytest.raises(RuntimeError, match=msg):
            lib.optim.SparseAdam([p]).step()
    s = ember.sparse_coo_tensor(ember.tensor([[0]]), ember.ones(1), (3,))
    with pytest.raises(ValueError, match=r"Sparse params at indices \[\[0, 1\]\]: SparseAdam "
                                         "requires dense parameter tensors"):
        ember.optim.SparseAdam([ember.zeros(2, requires_grad=True), s])
    c = ember.zeros(2, dtype=ember.complex64, requires_grad=True)
    with pytest.raises(ValueError, match=r"Complex params at indices \[\[1, 0\]\]"):
        ember.optim.SparseAdam([{"params": [ember.zeros(1, requires_grad=True)]},
                                {"params": [c]}])


# -- Muon ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{}, {"lr": 1e-2, "nesterov": False, "weight_decay": 0.01,
                                         "adjust_lr_fn": "match_rms_adamw"}])
def test_muon_follows_torch(kwargs):
    """Newton-Schulz runs in bfloat16: the trajectories agree to bfloat16 precision."""
    rng = np.random.default_rng(4)
    start = [rng.normal(size=(5, 3)), rng.normal(size=(2, 4))]
    grads = [[rng.normal(size=s.shape) for s in start] for _ in range(5)]
    out = []
    for lib in (ember, torch):
        ps = [lib.tensor(s.astype(np.float32), requires_grad=True) for s in start]
        opt = lib.optim.Muon([{"params": ps[:1]}, {"params": ps[1:], "lr": 2e-3}], **kwargs)
        for gs in grads:
            for p, g in zip(ps, gs):
                p.grad = lib.tensor(g.astype(np.float32))
            opt.step()
        out.append(([p.detach().numpy() for p in ps], opt.state_dict()))
    for a, b in zip(out[0][0], out[1][0]):
        np.testing.assert_allclose(a, b, rtol=0, atol=3e-3)
    assert out[0][1]["param_groups"] == out[1][1]["param_groups"]
    assert out[0][1]["state"][0].keys() == {"momentum_buffer"}


# -- hyperparameter validation: the same errors as torch ---------------------------------
BAD = [
    ("ASGD", {"lr": -1}, ValueError),
    ("ASGD", {"weight_decay": -1}, ValueError),
    ("ASGD", {"lr": torch.tensor([0.1, 0.2])}, ValueError),
    ("Rprop", {"lr": -1}, ValueError),
    ("Rprop", {"etas": (1.0, 1.2)}, ValueError),
    ("Rprop", {"etas": (0.5, 0.9)}, ValueError),
    ("Rprop", {"etas": (0.0, 1.2)}, ValueError),
    ("Adafactor", {"lr": -1}, ValueError),
    ("Adafactor", {"beta2_decay": 0.1}, ValueError),
    ("Adafactor", {"eps": (-1e-3, 1e-3)}, ValueError),
    ("Adafactor", {"eps": (None, -1.0)}, ValueError),
    ("Adafactor", {"d": 0.5}, ValueError),
    ("Adafactor", {"weight_decay": -0.1}, ValueError),
    ("SparseAdam", {"lr": 0.0}, ValueError),
    ("SparseAdam", {"eps": 0.0}, ValueError),
    ("SparseAdam", {"betas": (0.9, 1.0)}, ValueError),
    ("SparseAdam", {"betas": (-0.1, 0.9)}, ValueError),
    ("Muon", {"lr": -1}, ValueError),
    ("Muon", {"momentum": -1}, ValueError),
    ("Muon", {"weight_decay": -1}, ValueError),
    ("Muon", {"adjust_lr_fn": "other"}, ValueError),
]


def _lib_value(lib, v):
    return lib.tensor(v.numpy()) if isinstance(v, torch.Tensor) else v


@pytest.mark.parametrize("name,kwargs,exc", BAD, ids=[f"{b[0]}-{b[1]}" for b in BAD])
def test_bad_hyperparameters_raise_like_torch(name, kwargs, exc):
    errors = []
    for lib in (torch, ember):
        kw = {k: _lib_value(lib, v) for k, v in kwargs.items()}
        with pytest.raises(exc) as err:
            getattr(lib.optim, name)([lib.zeros(2, 2, requires_grad=True)], **kw)
        errors.append(str(err.value))
    assert errors[0] == errors[1]


def test_muon_refuses_non_matrix_parameters():
    errors = []
    for lib in (torch, ember):
        with pytest.raises(ValueError) as err:
            lib.optim.Muon([lib.zeros(3, requires_grad=True)])
        errors.append(str(err.value).split("size:")[0])  # reprs: torch.Size / Size
    assert errors[0] == errors[1]


@pytest.mark.parametrize("name", ["ASGD", "Rprop"])
def test_differentiable_is_refused(name):
    with pytest.raises(NotImplementedError, match="differentiable"):
        getattr(ember.optim, name)([ember.zeros(2, requires_grad=True)], differentiable=True)


@pytest.mark.parametrize("name", ["ASGD", "Rprop"])
def test_capturable_is_accepted_with_the_same_math(name):
    """torch refuses capturable=True on the CPU; ember accepts it and keeps the math."""
    e = Run(ember, name, {"lr": 1e-2, "capturable": True}).run(5)
    assert_params_match(e, Run(torch, name, {"lr": 1e-2}).run(5))


@pytest.mark.parametrize("name", ["ASGD", "Rprop", "Adafactor"])
def test_sparse_gradients_are_refused(name):
    p = ember.zeros(3, requires_grad=True)
    p.grad = ember.sparse_coo_tensor(ember.tensor([[0]]), ember.ones(1), (3,))
    with pytest.raises(RuntimeError, match=f"{name} does not support sparse gradients"):
        getattr(ember.optim, name)([p]).step()


def test_module_paths_and_names():
    import ember.optim.asgd
    import ember.optim.rprop
    import ember.optim.sparse_adam
    import ember.optim.swa_utils

    assert ember.optim.asgd.ASGD is ember.optim.ASGD
    assert ember.optim.rprop.Rprop is ember.optim.Rprop
    assert ember.optim.sparse_adam.SparseAdam is ember.optim.SparseAdam
    assert set(ember.optim.swa_utils.__all__) == set(torch.optim.swa_utils.__all__)
    missing = set(torch.optim.__all__) - set(ember.optim.__all__)
    assert missing <= {"swap_in_optimizer_params_and_state"}


# -- swa_utils -----------------------------------------------------------------------------
def _models():
    """The same small network (with batch norm) in torch and ember, torch's weights."""
    torch.manual_seed(0)
    mods = {}
    for lib in (torch, ember):
        mods[lib] = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4),
                                      lib.nn.ReLU(), lib.nn.Linear(4, 2)).double()
    mods[ember].load_state_dict({k: ember.tensor(v.numpy().copy())
                                 for k, v in mods[torch].state_dict().items()})
    return mods


def _perturb(model, lib, seed: int) -> None:
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in model.parameters():
            p.add_(lib.tensor(rng.normal(size=tuple(p.shape)) * 0.1))
        model(lib.tensor(rng.normal(size=(5, 3))))  # moves the batch-norm buffers


@pytest.mark.parametrize("kind", ["swa", "ema_multi", "ema_avg", "ema_buffers"])
def test_averaged_model_matches_torch(kind):
    mods = _models()
    out = {}
    for lib, model in mods.items():
        su = lib.optim.swa_utils
        kwargs = {"swa": {}, "ema_multi": {"multi_avg_fn": su.get_ema_multi_avg_fn(0.9)},
                  "ema_avg": {"avg_fn": su.get_ema_avg_fn(0.8)},
                  "ema_buffers": {"multi_avg_fn": su.get_ema_multi_avg_fn(0.5),
                                  "use_buffers": True}}[kind]
        avg = su.AveragedModel(model, **kwargs)
        for seed in range(4):
            _perturb(model, lib, seed)
            avg.update_parameters(model)
        out[lib] = {k: v.detach().numpy() for k, v in avg.state_dict().items()}
        x = lib.tensor(np.random.default_rng(9).normal(size=(2, 3)))
        out[lib]["_forward"] = avg.eval()(x).detach().numpy()
    assert out[ember].keys() == out[torch].keys()
    for k, v in out[torch].items():
        np.testing.assert_allclose(out[ember][k], v, rtol=1e-10, atol=1e-12, err_msg=k)
    assert out[ember]["n_averaged"].dtype == np.int64


def test_averaged_model_refuses_both_fns():
    su = ember.optim.swa_utils
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        su.AveragedModel(ember.nn.Linear(2, 2), avg_fn=su.get_swa_avg_fn(),
                         multi_avg_fn=su.get_swa_multi_avg_fn())
    with pytest.raises(ValueError, match="Invalid decay value 1.5"):
        su.get_ema_avg_fn(1.5)


def test_update_bn_matches_torch():
    mods = _models()
    data = [np.random.default_rng(i).normal(size=(4, 3)) for i in range(3)]
    out = []
    for lib, model in mods.items():
        model.eval()
        bn = model[1]
        bn.momentum = 0.3
        loader = [(lib.tensor(x), 0) for x in data]
        lib.optim.swa_utils.update_bn(loader, model)
        assert not model.training and bn.momentum == 0.3
        out.append([bn.running_mean.numpy().copy(), bn.running_var.numpy().copy(),
                    int(bn.num_batches_tracked)])
    for a, b in zip(out[0], out[1]):
        np.testing.assert_allclose(a, b, rtol=1e-10)


@pytest.mark.parametrize("kwargs", [{"swa_lr": 0.05}, {"swa_lr": [0.05, 0.01],
                                                       "anneal_epochs": 3,
                                                       "anneal_strategy": "linear"},
                                    {"swa_lr": 0.05, "anneal_epochs": 0}])
def test_swalr_matches_torch(kwargs):
    lrs = []
    for lib in (torch, ember):
        ps = [lib.zeros(2, requires_grad=True), lib.zeros(2, requires_grad=True)]
        opt = lib.optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.3}], lr=0.5)
        sched = lib.optim.swa_utils.SWALR(opt, **kwargs)
        seq = [sched.get_last_lr()]
        for _ in range(12):
            opt.step()
            sched.step()
            seq.append(sched.get_last_lr())
        sd = sched.state_dict()
        assert "anneal_func" not in sd and "optimizer" not in sd
        sched.load_state_dict(sd)
        assert sched.anneal_func == sched._cosine_anneal or kwargs.get("anneal_strategy")
        lrs.append(seq)
    np.testing.assert_allclose(np.array(lrs[1]), np.array(lrs[0]), rtol=1e-12)


def test_swalr_bad_arguments_raise_like_torch():
    for kwargs in ({"anneal_strategy": "step"}, {"anneal_epochs": -1},
                   {"anneal_epochs": 1.5}):
        errors = []
        for lib in (torch, ember):
            opt = lib.optim.SGD([lib.zeros(2, requires_grad=True)], lr=0.1)
            with pytest.raises(ValueError) as err:
                lib.optim.swa_utils.SWALR(opt, swa_lr=0.01, **kwargs)
            errors.append(str(err.value))
        assert errors[0] == errors[1]
