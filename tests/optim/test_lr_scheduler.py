"""ember.optim.lr_scheduler against torch.optim.lr_scheduler: the same learning rates (and
momenta) step for step, exactly, and state dicts that round-trip and cross over."""

import copy
import math
import warnings

import ember
import pytest
import torch

STEPS = 100


def make_opt(lib, kind: str = "sgd"):
    """Two parameter groups with different learning rates; no gradients, so ``step()``
    leaves the parameters alone and only the schedule moves."""
    p, q = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
    groups = [{"params": [p]}, {"params": [q], "lr": 0.05}]
    if kind == "adam":
        return lib.optim.Adam(groups, lr=0.1)
    return lib.optim.SGD(groups, lr=0.1, momentum=0.9)


def _lambda_list():
    return [lambda e: 0.95 ** e, lambda e: 1.0 / (1 + e)]


SCHEDULERS = {
    "LambdaLR": ("sgd", lambda S, o: S.LambdaLR(o, lambda e: 0.95 ** e)),
    "LambdaLR-list": ("sgd", lambda S, o: S.LambdaLR(o, _lambda_list())),
    "MultiplicativeLR": ("sgd", lambda S, o: S.MultiplicativeLR(o, lambda e: 0.97)),
    "StepLR": ("sgd", lambda S, o: S.StepLR(o, step_size=7, gamma=0.5)),
    "MultiStepLR": ("sgd", lambda S, o: S.MultiStepLR(o, milestones=[10, 30, 30, 60],
                                                      gamma=0.3)),
    "ConstantLR": ("sgd", lambda S, o: S.ConstantLR(o, factor=0.5, total_iters=20)),
    "LinearLR": ("sgd", lambda S, o: S.LinearLR(o, start_factor=0.1, end_factor=0.9,
                                                total_iters=30)),
    "ExponentialLR": ("sgd", lambda S, o: S.ExponentialLR(o, gamma=0.97)),
    "PolynomialLR": ("sgd", lambda S, o: S.PolynomialLR(o, total_iters=60, power=2.0)),
    "CosineAnnealingLR": ("sgd", lambda S, o: S.CosineAnnealingLR(o, T_max=30, eta_min=1e-4)),
    "CosineAnnealingWarmRestarts": ("sgd", lambda S, o: S.CosineAnnealingWarmRestarts(
        o, T_0=10, T_mult=2, eta_min=1e-3)),
    "CosineAnnealingWarmRestarts-T_mult1": ("sgd", lambda S, o: S.CosineAnnealingWarmRestarts(
        o, T_0=15)),
    "CyclicLR-triangular": ("sgd", lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1,
                                                           step_size_up=10)),
    "CyclicLR-triangular2": ("sgd", lambda S, o: S.CyclicLR(
        o, base_lr=[0.01, 0.001], max_lr=[0.1, 0.02], step_size_up=5, step_size_down=15,
        mode="triangular2", base_momentum=0.7, max_momentum=0.95)),
    "CyclicLR-exp_range": ("sgd", lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1,
                                                          step_size_up=8, mode="exp_range",
                                                          gamma=0.98)),
    "CyclicLR-scale_fn": ("sgd", lambda S, o: S.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=6, scale_fn=lambda x: 1 / (1 + 0.1 * x),
        scale_mode="iterations")),
    "CyclicLR-no-momentum": ("sgd", lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1,
                                                            step_size_up=12,
                                                            cycle_momentum=False)),
    "CyclicLR-adam": ("adam", lambda S, o: S.CyclicLR(o, base_lr=1e-3, max_lr=1e-2,
                                                      step_size_up=9)),
    "OneCycleLR": ("sgd", lambda S, o: S.OneCycleLR(o, max_lr=[0.1, 0.05], total_steps=100)),
    "OneCycleLR-linear-three_phase": ("sgd", lambda S, o: S.OneCycleLR(
        o, max_lr=0.2, epochs=10, steps_per_epoch=10, pct_start=0.25,
        anneal_strategy="linear", three_phase=True)),
    "OneCycleLR-adam": ("adam", lambda S, o: S.OneCycleLR(o, max_lr=0.01, total_steps=120,
                                                          div_factor=10.0)),
    "OneCycleLR-no-momentum": ("sgd", lambda S, o: S.OneCycleLR(
        o, max_lr=0.1, total_steps=100, cycle_momentum=False, final_div_factor=100.0)),
    "SequentialLR-warmup-cosine": ("sgd", lambda S, o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.01, total_iters=10), S.CosineAnnealingLR(o, T_max=90)],
        milestones=[10])),
    "SequentialLR-three": ("sgd", lambda S, o: S.SequentialLR(
        o, [S.ConstantLR(o, factor=0.2, total_iters=3), S.ExponentialLR(o, gamma=0.9),
            S.StepLR(o, step_size=10, gamma=0.5)], milestones=[5, 40])),
    "ChainedScheduler": ("sgd", lambda S, o: S.ChainedScheduler(
        [S.ConstantLR(o, factor=0.1, total_iters=5), S.ExponentialLR(o, gamma=0.95)])),
    "ChainedScheduler-linear-multistep": ("sgd", lambda S, o: S.ChainedScheduler(
        [S.LinearLR(o, start_factor=0.5, total_iters=20), S.MultiStepLR(o, [25, 50, 75])],
        optimizer=o)),
}


def _snapshot(opt, sched) -> tuple:
    groups = [(g["lr"], g.get("momentum"), g.get("betas")) for g in opt.param_groups]
    return tuple(groups), tuple(sched.get_last_lr())


def run_schedule(lib, name: str, steps: int = STEPS, start=None) -> tuple[list, object, object]:
    """Builds optimizer and scheduler (restored from ``start`` = (scheduler state, optimizer
    state) if given) and records the groups' lr/momentum/betas and get_last_lr() after
    construction and after each of ``steps`` steps."""
    kind, factory = SCHEDULERS[name]
    opt = make_opt(lib, kind)
    sched = factory(lib.optim.lr_scheduler, opt)
    if start is not None:
        sched.load_state_dict(copy.deepcopy(start[0]))
        opt.load_state_dict(copy.deepcopy(start[1]))
    seq = [_snapshot(opt, sched)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no call-order warning in the right order
        for _ in range(steps):
            opt.step()
            sched.step()
            seq.append(_snapshot(opt, sched))
    return seq, opt, sched


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_schedule_matches_torch(name):
    seq_e, _, sched_e = run_schedule(ember, name)
    seq_t, _, sched_t = run_schedule(torch, name)
    assert seq_e == seq_t  # exactly: the same float operations in the same order
    assert len({s[0] for s in seq_t}) > 1  # the schedule moved
    assert sched_e.state_dict().keys() == sched_t.state_dict().keys()


@pytest.mark.parametrize("source", [ember, torch], ids=["ember", "torch"])
@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_state_dict_round_trip(name, source):
    """Stop after 40 steps, rebuild from the scheduler's and optimizer's state dicts (of
    ember, or of torch), go on for 60: the same sequence as an uninterrupted run."""
    full, _, _ = run_schedule(torch, name)
    _, opt, sched = run_schedule(source, name, steps=40)
    start = (sched.state_dict(), opt.state_dict())
    rest, _, _ = run_schedule(ember, name, steps=STEPS - 40, start=start)
    assert rest == full[40:]


# -- ReduceLROnPlateau ---------------------------------------------------------------------
def _metrics(n: int = STEPS) -> list[float]:
    return [1.0 / (1 + 0.2 * min(i, 30)) + 0.02 * math.sin(1.7 * i) for i in range(n)]


PLATEAU = {
    "min-rel": {"patience": 3},
    "min-abs-cooldown": {"patience": 2, "threshold": 0.01, "threshold_mode": "abs",
                         "cooldown": 4, "factor": 0.5},
    "max-rel-min_lr": {"mode": "max", "patience": 1, "factor": 0.7, "min_lr": [0.02, 0.01]},
    "max-abs-eps": {"mode": "max", "threshold_mode": "abs", "patience": 0, "factor": 0.9,
                    "eps": 1e-3, "min_lr": 0.04},
}


def _run_plateau(lib, kwargs, metrics, start=None):
    opt = make_opt(lib)
    sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    if start is not None:
        sched.load_state_dict(copy.deepcopy(start[0]))
        opt.load_state_dict(copy.deepcopy(start[1]))
    seq = []
    for m in metrics:
        opt.step()
        sched.step(m)
        seq.append((tuple(g["lr"] for g in opt.param_groups), tuple(sched.get_last_lr()),
                    sched.num_bad_epochs, sched.cooldown_counter, sched.best))
    return seq, opt, sched


@pytest.mark.parametrize("name", list(PLATEAU))
def test_reduce_lr_on_plateau_matches_torch(name):
    kwargs = PLATEAU[name]
    metrics = _metrics()
    seq_e, opt_e, _ = _run_plateau(ember, kwargs, metrics)
    seq_t, _, _ = _run_plateau(torch, kwargs, metrics)
    assert seq_e == seq_t
    assert seq_t[-1][0] != seq_t[0][0]  # the lr was reduced


@pytest.mark.parametrize("name", list(PLATEAU))
def test_reduce_lr_on_plateau_round_trip(name):
    kwargs, metrics = PLATEAU[name], _metrics()
    full, _, _ = _run_plateau(torch, kwargs, metrics)
    _, opt, sched = _run_plateau(ember, kwargs, metrics[:40])
    rest, _, _ = _run_plateau(ember, kwargs, metrics[40:],
                              start=(sched.state_dict(), opt.state_dict()))
    assert rest == full[40:]


def test_reduce_lr_on_plateau_accepts_tensor_metrics():
    opt = make_opt(ember)
    sched = ember.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    for m in (1.0, 2.0, 3.0):
        sched.step(ember.tensor(m))
    assert sched.get_last_lr() == pytest.approx([0.001, 0.0005])


# -- errors and warnings -----------------------------------------------------------------
BAD = [
    ("ConstantLR", {"factor": 1.5}),
    ("LinearLR", {"start_factor": 0}),
    ("LinearLR", {"end_factor": -0.1}),
    ("CosineAnnealingWarmRestarts", {"T_0": 0}),
    ("CosineAnnealingWarmRestarts", {"T_0": 5, "T_mult": 0}),
    ("CosineAnnealingWarmRestarts", {"T_0": 5, "eta_min": "x"}),
    ("CyclicLR", {"base_lr": 0.1, "max_lr": 1.0, "mode": "sawtooth"}),
    ("CyclicLR", {"base_lr": [0.1], "max_lr": 1.0}),
    ("OneCycleLR", {"max_lr": 0.1}),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 0}),
    ("OneCycleLR", {"max_lr": 0.1, "epochs": 2, "steps_per_epoch": -1}),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 10, "pct_start": 1}),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 10, "anneal_strategy": "exp"}),
    ("ReduceLROnPlateau", {"factor": 1.0}),
    ("ReduceLROnPlateau", {"mode": "middle"}),
    ("ReduceLROnPlateau", {"threshold_mode": "log"}),
    ("ReduceLROnPlateau", {"min_lr": [0.1]}),
    ("LambdaLR", {"lr_lambda": [lambda e: 1.0]}),
    ("MultiplicativeLR", {"lr_lambda": 3}),
    ("StepLR", {"step_size": 3, "last_epoch": 5}),
]


@pytest.mark.parametrize("name,kwargs", BAD, ids=[f"{b[0]}-{list(b[1])}" for b in BAD])
def test_bad_arguments_raise_like_torch(name, kwargs):
    errors = []
    for lib in (torch, ember):
        with pytest.raises((ValueError, TypeError, KeyError)) as err:
            getattr(lib.optim.lr_scheduler, name)(make_opt(lib), **kwargs)
        errors.append((type(err.value), str(err.value)))
    assert errors[0] == errors[1]


def _composite_errors(lib) -> list:
    S = lib.optim.lr_scheduler
    o1, o2 = make_opt(lib), make_opt(lib)
    makers = (lambda: S.SequentialLR(o1, [S.StepLR(o1, 2), S.StepLR(o1, 3)], [1, 2]),
              lambda: S.SequentialLR(o1, [S.StepLR(o2, 2)], []),
              lambda: S.ChainedScheduler([S.ReduceLROnPlateau(o1)]),
              lambda: S.ChainedScheduler([]))
    found = []
    for make in makers:
        with pytest.raises((ValueError, TypeError)) as err:
            make()
        found.append((type(err.value), str(err.value)))
    return found


def test_composite_errors_like_torch():
    errors_t, errors_e = _composite_errors(torch), _composite_errors(ember)
    assert [type_ for type_, _ in errors_t] == [type_ for type_, _ in errors_e]
    # the second message names the optimizer object, which differs between libraries
    assert errors_t[0] == errors_e[0] and errors_t[2:] == errors_e[2:]


def test_warns_when_scheduler_steps_before_optimizer():
    opt = make_opt(ember)
    sched = ember.optim.lr_scheduler.StepLR(opt, 3)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_get_lr_outside_step_warns():
    sched = ember.optim.lr_scheduler.StepLR(make_opt(ember), 3)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()


def test_step_with_epoch_uses_closed_form_like_torch():
    out = []
    for lib in (torch, ember):
        opt = make_opt(lib)
        sched = lib.optim.lr_scheduler.MultiStepLR(opt, milestones=[3, 6], gamma=0.5)
        opt.step()
        with pytest.warns(UserWarning, match="epoch parameter"):
            sched.step(7)
        out.append(sched.get_last_lr())
    assert out[0] == out[1] == [0.025, 0.0125]


def test_warm_restarts_fractional_epochs_like_torch():
    out = []
    for lib in (torch, ember):
        opt = make_opt(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2)
        seq = []
        for i in range(40):
            opt.step()
            sched.step(i * 0.37)
            seq.append(sched.get_last_lr())
        out.append(seq)
    assert out[0] == out[1]


def test_resume_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        ember.optim.lr_scheduler.ExponentialLR(make_opt(ember), gamma=0.9, last_epoch=3)


def test_lambda_objects_save_their_state():
    class Warmup:
        def __init__(self, n):
            self.n = n

        def __call__(self, e):
            return min(1.0, (e + 1) / self.n)

    sched = ember.optim.lr_scheduler.LambdaLR(make_opt(ember), [Warmup(5), lambda e: 1.0])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"n": 5}, None]
    fresh = ember.optim.lr_scheduler.LambdaLR(make_opt(ember), [Warmup(9), lambda e: 1.0])
    fresh.load_state_dict(sd)
    assert fresh.lr_lambdas[0].n == 5


def test_module_is_importable_by_torch_path():
    import ember.optim.lr_scheduler as S

    assert S.CyclicLR.__module__ == "ember.optim.lr_scheduler"
    assert set(S.__all__) >= {"LRScheduler", "OneCycleLR", "ReduceLROnPlateau",
                              "SequentialLR", "ChainedScheduler"}
