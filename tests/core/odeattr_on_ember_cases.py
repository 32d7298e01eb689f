"""Shared cases of test_torchdiffeq_captum_on_ember.py: neural ODEs with ``torchdiffeq`` and
model attribution with ``captum``, on small float64 MLP / CNN models.

As in tests/text/peft_on_ember_cases.py, the functions take the ``torch`` module as an
argument and use only public APIs, so the same code runs on real PyTorch (in the test process)
and on ember (in a subprocess where ``torch`` is ember, through tests/torch_alias.py). Results
are numpy arrays keyed ``"<case>/<what>"``; PyTorch's side also hands over the weights (and
inputs, baselines) it started from, so both sides compute on the same numbers. Nothing random
is drawn from torch: captum's own sampling (GradientShap's baseline choice and interpolation
points) uses numpy's global generator, which both sides seed the same way.
"""

from __future__ import annotations

import numpy as np

ODE_CASES = ["ode_dopri5", "ode_fixed_grid", "ode_event", "ode_backprop_grad",
             "ode_adjoint_grad", "node_train_step"]
CAPTUM_CASES = ["captum_gradients", "captum_deeplift_shap", "captum_layer_neuron",
                "captum_perturbation", "captum_noise_tunnel"]
CASES = [*ODE_CASES, *CAPTUM_CASES]


def _numpy(t) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


def _load(torch, model, state: dict | None, prefix: str = "") -> dict:
    """Loads ``state`` (when given) into ``model``; returns the weights it has, as numpy."""
    if state is not None:
        model.load_state_dict({k[len(prefix):]: torch.from_numpy(v.copy())
                               for k, v in state.items() if k.startswith(prefix)})
    return {prefix + k: _numpy(v) for k, v in model.state_dict().items()}


def _array(state: dict | None, key: str, make) -> np.ndarray:
    """``state[key]`` on ember's side, a fresh array from ``make()`` on PyTorch's."""
    return make() if state is None else state[key]


def run_case(torch, name: str, state: dict | None = None):
    """``(results, state)`` of one case: numpy outputs keyed ``name/what`` and the weights
    and inputs it started from."""
    torch.manual_seed(0)
    np.random.seed(0)
    out, state = CASE_FUNCS[name](torch, state)
    return {f"{name}/{k}": v for k, v in out.items()}, state


# --------------------------------------------------------------------------- torchdiffeq

def _odefunc(torch, state, prefix="f."):
    """``dy/dt = W2 tanh(W1 [y, t]) + b``: an nn.Module (needed by odeint_adjoint)."""
    nn = torch.nn

    class ODEFunc(nn.Module):
        def __init__(self):
            super().__init__()
            self.l1 = nn.Linear(3, 16)
            self.l2 = nn.Linear(16, 2)
            self.nfe = 0

        def forward(self, t, y):
            self.nfe += 1
            tt = t.expand(*y.shape[:-1], 1)
            return self.l2(torch.tanh(self.l1(torch.cat([y, tt], dim=-1))))

    func = ODEFunc().to(torch.float64)
    return func, _load(torch, func, state, prefix)


def _y0(torch, state):
    y0 = _array(state, "y0", lambda: np.random.default_rng(1).standard_normal((4, 2)))
    return torch.from_numpy(y0.copy()), {"y0": y0}


def _ode_dopri5(torch, state):
    from torchdiffeq import odeint

    func, w = _odefunc(torch, state)
    y0, inp = _y0(torch, state)
    t = torch.linspace(0.0, 2.0, 6, dtype=torch.float64)
    out = {}
    with torch.no_grad():
        out["ys"] = _numpy(odeint(func, y0, t, method="dopri5", rtol=1e-7, atol=1e-9))
        out["nfe"] = np.array(func.nfe)
        # tuple state, and the adaptive steps of bosh3 at a looser tolerance
        a, b = odeint(lambda t, s: (func(t, s[0]), -s[1] * s[0].sum(-1, keepdim=True)),
                      (y0, torch.ones(4, 1, dtype=torch.float64)), t, method="bosh3",
                      rtol=1e-5, atol=1e-7)
        out["tuple_a"], out["tuple_b"] = _numpy(a), _numpy(b)
    return out, {**w, **inp}


def _ode_fixed_grid(torch, state):
    from torchdiffeq import odeint

    func, w = _odefunc(torch, state)
    y0, inp = _y0(torch, state)
    t = torch.tensor([0.0, 0.35, 1.0, 1.5], dtype=torch.float64)
    out = {}
    with torch.no_grad():
        for method in ("euler", "midpoint", "rk4"):
            out[method] = _numpy(odeint(func, y0, t, method=method,
                                        options={"step_size": 0.1}))
        # the solver's own grid: the output times themselves
        out["rk4_grid"] = _numpy(odeint(func, y0, t, method="rk4"))
        out["implicit_adams"] = _numpy(odeint(func, y0, t, method="implicit_adams",
                                              options={"step_size": 0.25}))
    return out, {**w, **inp}


def _ode_event(torch, state):
    """``odeint_event``: integrate until ``y[0, 0]`` has grown by 0.5, with the gradient of
    the event time and state (its custom autograd Function) back to y0 and the weights."""
    from torchdiffeq import odeint_event

    func, w = _odefunc(torch, state)
    y0, inp = _y0(torch, state)
    y0.requires_grad_(True)
    drift = torch.tensor([1.0, 0.0], dtype=torch.float64)
    target = float(inp["y0"][0, 0]) + 0.5

    def dyn(t, y):
        return 0.3 * func(t, y) + drift

    def event_fn(t, y):
        return y[0, 0] - target

    t0 = torch.tensor(0.0, dtype=torch.float64)
    event_t, sol = odeint_event(dyn, y0, t0, event_fn=event_fn, method="dopri5",
                                rtol=1e-8, atol=1e-10)
    loss = event_t * 2.0 + sol[-1].pow(2).sum()
    loss.backward()
    out = {"event_t": _numpy(event_t), "state": _numpy(sol[-1]), "y0_grad": _numpy(y0.grad),
           "residual": _numpy(event_fn(event_t, sol[-1]))}
    for k, p in func.named_parameters():
        out["grad." + k] = _numpy(p.grad)
    return out, {**w, **inp}


def _grad_case(torch, state, adjoint: bool):
    from torchdiffeq import odeint, odeint_adjoint

    func, w = _odefunc(torch, state)
    y0, inp = _y0(torch, state)
    y0.requires_grad_(True)
    t = torch.linspace(0.0, 1.0, 4, dtype=torch.float64)
    kw = dict(method="dopri5", rtol=1e-9, atol=1e-11)
    solve = odeint_adjoint if adjoint else odeint
    ys = solve(func, y0, t, **kw)
    loss = (ys[1:] * torch.linspace(1, 2, 2, dtype=torch.float64)).pow(2).sum()
    loss.backward()
    out = {"ys": _numpy(ys), "loss": _numpy(loss), "y0_grad": _numpy(y0.grad)}
    for k, p in func.named_parameters():
        out["grad." + k] = _numpy(p.grad)
    if adjoint:  # the adjoint with a fixed-grid solver too
        func.zero_grad()
        y1 = y0.detach().requires_grad_(True)
        ys = odeint_adjoint(func, y1, t, method="rk4", options={"step_size": 0.05})
        ys[-1].pow(2).sum().backward()
        out["rk4_y0_grad"] = _numpy(y1.grad)
        out["rk4_grad.l1.weight"] = _numpy(func.l1.weight.grad)
    return out, {**w, **inp}


def _node_train_step(torch, state):
    """A neural-ODE classifier (Linear -> ODE block -> Linear) trained for three Adam steps,
    through the adjoint method."""
    from torchdiffeq import odeint_adjoint

    nn = torch.nn

    class ODEBlock(nn.Module):
        def __init__(self, func):
            super().__init__()
            self.func = func
            self.register_buffer("t", torch.tensor([0.0, 1.0], dtype=torch.float64))

        def forward(self, x):
            return odeint_adjoint(self.func, x, self.t, method="rk4",
                                  options={"step_size": 0.25})[-1]

    class F(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(4, 8), nn.Softplus(), nn.Linear(8, 4))

        def forward(self, t, y):
            return self.net(y)

    model = nn.Sequential(nn.Linear(3, 4), ODEBlock(F()), nn.Linear(4, 2)).to(torch.float64)
    w = _load(torch, model, state, "m.")
    x = _array(state, "x", lambda: np.random.default_rng(2).standard_normal((6, 3)))
    y = _array(state, "y", lambda: np.array([0, 1, 1, 0, 1, 0]))
    xt, yt = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        losses.append(_numpy(loss))
    out = {"losses": np.array(losses)}
    for k, v in model.state_dict().items():
        out["trained." + k] = _numpy(v)
    return out, {**w, "x": x, "y": y}


# --------------------------------------------------------------------------------- captum

def _mlp(torch, state):
    nn = torch.nn

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin1 = nn.Linear(5, 8)
            self.relu1 = nn.ReLU()
            self.lin2 = nn.Linear(8, 6)
            self.act2 = nn.Tanh()
            self.lin3 = nn.Linear(6, 3)

        def forward(self, x):
            return self.lin3(self.act2(self.lin2(self.relu1(self.lin1(x)))))

    model = MLP().to(torch.float64).eval()
    w = _load(torch, model, state, "mlp.")
    x = _array(state, "x", lambda: np.random.default_rng(3).standard_normal((4, 5)))
    return model, w, x


def _cnn(torch, state):
    nn = torch.nn

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 4, 3, padding=1)
            self.relu = nn.ReLU()
            self.pool = nn.MaxPool2d(2)
            self.fc = nn.Linear(4 * 3 * 3, 3)

        def forward(self, x):
            return self.fc(self.pool(self.relu(self.conv(x))).flatten(1))

    model = CNN().to(torch.float64).eval()
    w = _load(torch, model, state, "cnn.")
    img = _array(state, "img", lambda: np.random.default_rng(4).standard_normal((2, 2, 6, 6)))
    return model, w, img


def _captum_gradients(torch, state):
    """IntegratedGradients (Gauss-Legendre and Riemann, convergence delta), Saliency and
    InputXGradient on the MLP and the CNN."""
    from captum.attr import InputXGradient, IntegratedGradients, Saliency

    mlp, w1, x = _mlp(torch, state)
    cnn, w2, img = _cnn(torch, state)
    xt = torch.from_numpy(x.copy())
    it = torch.from_numpy(img.copy())
    target = torch.tensor([0, 2, 1, 2])
    out = {}
    ig = IntegratedGradients(mlp)
    attr, delta = ig.attribute(xt, target=target, n_steps=24, return_convergence_delta=True)
    out["ig"], out["ig_delta"] = _numpy(attr), _numpy(delta)
    out["ig_riemann"] = _numpy(ig.attribute(xt, baselines=0.5, target=1, n_steps=16,
                                            method="riemann_trapezoid",
                                            internal_batch_size=5))
    out["ig_cnn"] = _numpy(IntegratedGradients(cnn).attribute(it, target=[2, 0], n_steps=8))
    out["saliency"] = _numpy(Saliency(mlp).attribute(xt, target=target))
    out["saliency_signed"] = _numpy(Saliency(cnn).attribute(it, target=1, abs=False))
    out["input_x_grad"] = _numpy(InputXGradient(mlp).attribute(xt, target=target))
    return out, {**w1, **w2, "x": x, "img": img}


def _captum_deeplift_shap(torch, state):
    """DeepLift (rescale rule through its module hooks), DeepLiftShap and GradientShap
    against fixed baselines."""
    from captum.attr import DeepLift, DeepLiftShap, GradientShap

    mlp, w1, x = _mlp(torch, state)
    cnn, w2, img = _cnn(torch, state)
    base = _array(state, "base", lambda: np.random.default_rng(5).standard_normal((3, 5)))
    xt = torch.from_numpy(x.copy())
    bt = torch.from_numpy(base.copy())
    out = {}
    attr, delta = DeepLift(mlp).attribute(xt, baselines=bt[:1], target=2,
                                          return_convergence_delta=True)
    out["deeplift"], out["deeplift_delta"] = _numpy(attr), _numpy(delta)
    out["deeplift_cnn"] = _numpy(DeepLift(cnn).attribute(torch.from_numpy(img.copy()),
                                                         target=1))
    attr, delta = DeepLiftShap(mlp).attribute(xt, baselines=bt, target=0,
                                              return_convergence_delta=True)
    out["deeplift_shap"], out["deeplift_shap_delta"] = _numpy(attr), _numpy(delta)
    np.random.seed(7)  # GradientShap draws baselines and alphas from numpy
    attr, delta = GradientShap(mlp).attribute(xt, baselines=bt, target=1, n_samples=6,
                                              return_convergence_delta=True)
    out["gradient_shap"], out["gradient_shap_delta"] = _numpy(attr), _numpy(delta)
    return out, {**w1, **w2, "x": x, "img": img, "base": base}


def _captum_layer_neuron(torch, state):
    """Layer and neuron methods, which capture a layer through forward hooks:
    LayerConductance, LayerIntegratedGradients (input and output of a layer),
    LayerGradientXActivation, NeuronConductance, NeuronIntegratedGradients."""
    from captum.attr import (
        LayerConductance,
        LayerGradientXActivation,
        LayerIntegratedGradients,
        NeuronConductance,
        NeuronIntegratedGradients,
    )

    mlp, w1, x = _mlp(torch, state)
    cnn, w2, img = _cnn(torch, state)
    xt = torch.from_numpy(x.copy())
    it = torch.from_numpy(img.copy())
    out = {}
    attr, delta = LayerConductance(mlp, mlp.lin2).attribute(
        xt, target=1, n_steps=20, return_convergence_delta=True)
    out["layer_cond"], out["layer_cond_delta"] = _numpy(attr), _numpy(delta)
    out["layer_cond_cnn"] = _numpy(LayerConductance(cnn, cnn.conv).attribute(it, target=2,
                                                                              n_steps=6))
    attr, delta = LayerIntegratedGradients(mlp, mlp.lin1).attribute(
        xt, target=0, n_steps=20, return_convergence_delta=True)
    out["layer_ig"], out["layer_ig_delta"] = _numpy(attr), _numpy(delta)
    out["layer_ig_input"] = _numpy(LayerIntegratedGradients(
        mlp, mlp.act2).attribute(xt, target=2, n_steps=10, attribute_to_layer_input=True))
    out["layer_gxa"] = _numpy(LayerGradientXActivation(cnn, cnn.relu).attribute(it, target=0))
    out["neuron_cond"] = _numpy(NeuronConductance(mlp, mlp.lin2).attribute(
        xt, neuron_selector=3, target=1, n_steps=20))
    out["neuron_ig"] = _numpy(NeuronIntegratedGradients(cnn, cnn.conv).attribute(
        it, neuron_selector=(1, 2, 3), n_steps=10))
    return out, {**w1, **w2, "x": x, "img": img}


def _captum_perturbation(torch, state):
    """Occlusion (sliding windows over the image) and FeatureAblation (a feature mask)."""
    from captum.attr import FeatureAblation, Occlusion

    mlp, w1, x = _mlp(torch, state)
    cnn, w2, img = _cnn(torch, state)
    xt = torch.from_numpy(x.copy())
    it = torch.from_numpy(img.copy())
    out = {}
    out["occlusion"] = _numpy(Occlusion(cnn).attribute(
        it, sliding_window_shapes=(1, 3, 3), strides=(1, 2, 2), target=1, baselines=0.0))
    out["occlusion_mlp"] = _numpy(Occlusion(mlp).attribute(xt, sliding_window_shapes=(2,),
                                                           target=0, perturbations_per_eval=3))
    mask = torch.tensor([[0, 0, 1, 1, 2]])
    out["ablation"] = _numpy(FeatureAblation(mlp).attribute(xt, target=2, feature_mask=mask,
                                                            baselines=0.25))
    out["ablation_cnn"] = _numpy(FeatureAblation(cnn).attribute(
        it, target=0, feature_mask=(torch.arange(36).reshape(1, 1, 6, 6) // 9),
        perturbations_per_eval=2))
    return out, {**w1, **w2, "x": x, "img": img}


def _captum_noise_tunnel(torch, state):
    """NoiseTunnel around IntegratedGradients and Saliency, with ``stdevs=0`` (so the noise
    torch.normal draws is exactly zero on both sides): smoothgrad, smoothgrad_sq, vargrad
    aggregation over repeated samples."""
    from captum.attr import IntegratedGradients, NoiseTunnel, Saliency

    mlp, w1, x = _mlp(torch, state)
    xt = torch.from_numpy(x.copy())
    out = {}
    attr, delta = NoiseTunnel(IntegratedGradients(mlp)).attribute(
        xt, nt_type="smoothgrad", nt_samples=3, stdevs=0.0, target=1, n_steps=10,
        return_convergence_delta=True)
    out["nt_ig"], out["nt_ig_delta"] = _numpy(attr), _numpy(delta)
    out["nt_sal_sq"] = _numpy(NoiseTunnel(Saliency(mlp)).attribute(
        xt, nt_type="smoothgrad_sq", nt_samples=4, nt_samples_batch_size=3, stdevs=0.0,
        target=2))
    out["nt_sal_var"] = _numpy(NoiseTunnel(Saliency(mlp)).attribute(
        xt, nt_type="vargrad", nt_samples=2, stdevs=0.0, target=0))
    return out, {**w1, "x": x}


CASE_FUNCS = {
    "ode_dopri5": _ode_dopri5,
    "ode_fixed_grid": _ode_fixed_grid,
    "ode_event": _ode_event,
    "ode_backprop_grad": lambda torch, state: _grad_case(torch, state, adjoint=False),
    "ode_adjoint_grad": lambda torch, state: _grad_case(torch, state, adjoint=True),
    "node_train_step": _node_train_step,
    "captum_gradients": _captum_gradients,
    "captum_deeplift_shap": _captum_deeplift_shap,
    "captum_layer_neuron": _captum_layer_neuron,
    "captum_perturbation": _captum_perturbation,
    "captum_noise_tunnel": _captum_noise_tunnel,
}
