"""``torchdiffeq`` (neural ODEs) and ``captum`` (model attribution) run unchanged on ember:
``torch`` is aliased to ember in a subprocess (tests/torch_alias.py), and the same code must
give PyTorch's results on the same weights. torchdiffeq: ``odeint`` with adaptive dopri5 and
bosh3 (tuple states), fixed-grid euler / midpoint / rk4 / implicit Adams, ``odeint_event``
(its implicit-function gradient), gradients by backpropagating through the solver and by
``odeint_adjoint`` (the adjoint ODE solved backwards in a custom autograd Function), and a
neural-ODE classifier trained with Adam. captum: IntegratedGradients, Saliency,
InputXGradient, DeepLift / DeepLiftShap (module hooks), GradientShap, LayerConductance,
LayerIntegratedGradients, LayerGradientXActivation, NeuronConductance,
NeuronIntegratedGradients (forward hooks capturing a layer), Occlusion, FeatureAblation and
NoiseTunnel (with zero noise, so nothing random differs). The cases live in
odeattr_on_ember_cases.py; PyTorch runs them in this process. All in float64."""

import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]
from odeattr_on_ember_cases import CAPTUM_CASES, CASES, ODE_CASES, run_case  # noqa: E402
from on_ember_harness import case_results, run_on_ember  # noqa: E402

# the event case's adaptive steps follow dopri5's error estimate, a difference of nearly
# equal values (~1e-12 here) whose round-off moves the step sizes, and so the bisection
# bracket of the event time, by ~1e-9: the results agree to the solver's tolerance, not to
# round-off
TOL = {"ode_event": 1e-8}
DEFAULT_TOL = 1e-10


@pytest.fixture(scope="module")
def both():
    """``(torch results, ember results)`` of every case (one ember subprocess for all)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("torchdiffeq")
    pytest.importorskip("captum")
    import warnings

    ref, weights = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in CASES:
            res, state = run_case(torch, name)
            ref.update(res)
            weights.update({f"{name}/{k}": v for k, v in state.items()})
    got = run_on_ember(os.path.join(HERE, "odeattr_on_ember_worker.py"), weights, CASES)
    return ref, got


@pytest.mark.parametrize("name", CASES)
def test_case_matches_torch(both, name):
    """Every output of the case: solutions, gradients, trained weights, attributions and
    convergence deltas (floats to the case's tolerance, the rest exactly)."""
    ref, got = case_results(*both, name)
    tol = TOL.get(name, DEFAULT_TOL)
    for k, r in ref.items():
        if r.dtype.kind == "f":
            np.testing.assert_allclose(got[k], r, rtol=tol, atol=tol, err_msg=k)
        else:
            np.testing.assert_array_equal(got[k], r, err_msg=k)


def _side(both, name):
    return case_results(*both, name)


@pytest.mark.parametrize("side", [0, 1], ids=["torch", "ember"])
def test_ode_results_are_consistent(both, side):
    """What the solvers computed makes sense on both sides: the fixed-grid solvers approach
    dopri5's solution with their order, the adjoint's gradients equal those of
    backpropagating through the solver, the event state sits on the event surface, and the
    neural ODE's loss went down."""
    res = {}
    for name in ODE_CASES:
        res.update(_side(both, name)[side])
    ys = res["ode_dopri5/ys"]
    assert ys.shape == (6, 4, 2) and np.all(np.isfinite(ys))
    assert res["ode_fixed_grid/rk4"].shape == (4, 4, 2)
    errs = {m: np.abs(res["ode_fixed_grid/" + m] - res["ode_fixed_grid/rk4"]).max()
            for m in ("euler", "midpoint")}
    assert errs["midpoint"] < errs["euler"] and errs["euler"] > 1e-4
    for k in ("y0_grad", "grad.l1.weight", "grad.l2.bias"):
        np.testing.assert_allclose(res["ode_adjoint_grad/" + k], res["ode_backprop_grad/" + k],
                                   rtol=1e-6, atol=1e-7, err_msg=k)
    assert 0.0 < float(res["ode_event/event_t"]) < 1.0
    assert abs(float(res["ode_event/residual"])) < 1e-8
    assert np.isfinite(res["ode_event/y0_grad"]).all()
    losses = res["node_train_step/losses"]
    assert np.all(np.diff(losses) < 0)


@pytest.mark.parametrize("side", [0, 1], ids=["torch", "ember"])
def test_attributions_are_consistent(both, side):
    """Integrated-gradients-style attributions are complete (small convergence deltas),
    zero noise leaves NoiseTunnel's smoothgrad equal to the plain method, and the
    perturbation methods attribute something."""
    res = {}
    for name in CAPTUM_CASES:
        res.update(_side(both, name)[side])
    for k in ("captum_gradients/ig_delta", "captum_layer_neuron/layer_ig_delta",
              "captum_deeplift_shap/deeplift_delta"):
        assert np.abs(res[k]).max() < 1e-2, k
    sal = res["captum_noise_tunnel/nt_sal_sq"]
    assert sal.shape == (4, 5) and np.all(sal >= 0)
    assert np.abs(res["captum_perturbation/occlusion"]).max() > 0
    assert np.abs(res["captum_perturbation/ablation"]).max() > 0
