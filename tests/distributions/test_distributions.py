"""ember.distributions against torch.distributions: log_prob, entropy, mean, variance, KL
and their gradients with respect to the parameters on the same parameters; samples by
their statistics; rsample gradients against PyTorch's formulas."""

import math

import ember
import ember.distributions as D
import numpy as np
import pytest
import torch
import torch.distributions as TD

RTOL, ATOL = 1e-6, 1e-8


@pytest.fixture(autouse=True)
def _seed():
    ember.manual_seed(0)
    torch.manual_seed(0)


def _np(x):
    if isinstance(x, (np.ndarray, list, float)):
        return np.asarray(x)
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return np.asarray(x.detach().numpy())


def _close(a, b, rtol=RTOL, atol=ATOL, msg=""):
    a, b = _np(a), _np(b)
    assert a.shape == b.shape, f"{msg}: {a.shape} vs {b.shape}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=msg)


def _params(spec):
    """{name: array} -> (ember leaves, torch leaves), float64, requiring grad."""
    e = {k: ember.tensor(v, dtype=ember.float64, requires_grad=True) for k, v in spec.items()}
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in spec.items()}
    return e, t


rng = np.random.default_rng(0)
POS = np.abs(rng.standard_normal((3, 4))) + 0.3
POS2 = np.abs(rng.standard_normal((3, 4))) + 0.5
REAL = rng.standard_normal((3, 4))
PROBS = rng.uniform(0.05, 0.95, (3, 4))
SIMPLEX = rng.dirichlet(np.ones(5), size=3)
A = rng.standard_normal((3, 3, 3))
COV = A @ np.swapaxes(A, -1, -2) + 3 * np.eye(3)
TRIL = np.linalg.cholesky(COV)

# name, ctor(module, params), params, values(for log_prob), has entropy
CASES = {
    "Normal": (lambda m, p: m.Normal(p["loc"], p["scale"]), {"loc": REAL, "scale": POS},
               rng.standard_normal((2, 3, 4))),
    "Bernoulli-probs": (lambda m, p: m.Bernoulli(probs=p["p"]), {"p": PROBS},
                        (rng.random((2, 3, 4)) < 0.5).astype(np.float64)),
    "Bernoulli-logits": (lambda m, p: m.Bernoulli(logits=p["l"]), {"l": REAL},
                         (rng.random((3, 4)) < 0.5).astype(np.float64)),
    "Categorical-probs": (lambda m, p: m.Categorical(probs=p["p"]), {"p": SIMPLEX},
                          rng.integers(0, 5, (2, 3))),
    "Categorical-logits": (lambda m, p: m.Categorical(logits=p["l"]),
                           {"l": rng.standard_normal((3, 5))}, rng.integers(0, 5, (3,))),
    "OneHotCategorical": (lambda m, p: m.OneHotCategorical(logits=p["l"]),
                          {"l": rng.standard_normal((3, 5))},
                          np.eye(5)[rng.integers(0, 5, (2, 3))]),
    "Uniform": (lambda m, p: m.Uniform(p["lo"], p["lo"] + p["w"]), {"lo": REAL, "w": POS},
                REAL + 0.5 * POS),
    "MVN-cov": (lambda m, p: m.MultivariateNormal(p["loc"], covariance_matrix=p["c"]),
                {"loc": rng.standard_normal((3, 3)), "c": COV}, rng.standard_normal((2, 3, 3))),
    "MVN-prec": (lambda m, p: m.MultivariateNormal(p["loc"], precision_matrix=p["c"]),
                 {"loc": rng.standard_normal(3), "c": COV}, rng.standard_normal((1, 3, 3))),
    "MVN-tril": (lambda m, p: m.MultivariateNormal(p["loc"], scale_tril=p["c"]),
                 {"loc": rng.standard_normal((3, 3)), "c": TRIL}, rng.standard_normal((3, 3))),
    "Beta": (lambda m, p: m.Beta(p["a"], p["b"]), {"a": POS, "b": POS2},
             rng.uniform(0.05, 0.95, (3, 4))),
    "Gamma": (lambda m, p: m.Gamma(p["a"], p["b"]), {"a": POS, "b": POS2},
              np.abs(rng.standard_normal((2, 3, 4))) + 0.1),
    "Dirichlet": (lambda m, p: m.Dirichlet(p["a"]), {"a": POS},
                  rng.dirichlet(np.ones(4), size=(2, 3))),
    "Exponential": (lambda m, p: m.Exponential(p["r"]), {"r": POS},
                    np.abs(rng.standard_normal((3, 4)))),
    "Laplace": (lambda m, p: m.Laplace(p["loc"], p["s"]), {"loc": REAL, "s": POS},
                rng.standard_normal((3, 4))),
    "LogNormal": (lambda m, p: m.LogNormal(p["loc"], p["s"]), {"loc": REAL, "s": POS},
                  np.abs(rng.standard_normal((3, 4))) + 0.1),
    "Poisson": (lambda m, p: m.Poisson(p["r"]), {"r": POS * 3},
                rng.integers(0, 6, (3, 4)).astype(np.float64)),
    "Binomial": (lambda m, p: m.Binomial(7, probs=p["p"]), {"p": PROBS},
                 rng.integers(0, 8, (3, 4)).astype(np.float64)),
    "Binomial-logits": (lambda m, p: m.Binomial(ember.tensor(5.0, dtype=ember.float64)
                                                if m is D else torch.tensor(5.0,
                                                                            dtype=torch.float64),
                                                logits=p["l"]),
                        {"l": REAL}, rng.integers(0, 6, (3, 4)).astype(np.float64)),
    "Independent": (lambda m, p: m.Independent(m.Normal(p["loc"], p["s"]), 1),
                    {"loc": REAL, "s": POS}, rng.standard_normal((2, 3, 4))),
    "Cauchy": (lambda m, p: m.Cauchy(p["loc"], p["s"]), {"loc": REAL, "s": POS},
               rng.standard_normal((3, 4)) * 3),
    "HalfNormal": (lambda m, p: m.HalfNormal(p["s"]), {"s": POS},
                   np.abs(rng.standard_normal((3, 4)))),
    "Geometric": (lambda m, p: m.Geometric(probs=p["p"]), {"p": PROBS},
                  rng.integers(0, 5, (3, 4)).astype(np.float64)),
    "Geometric-logits": (lambda m, p: m.Geometric(logits=p["l"]), {"l": REAL},
                         rng.integers(0, 5, (3, 4)).astype(np.float64)),
    "Multinomial": (lambda m, p: m.Multinomial(6, probs=p["p"]), {"p": SIMPLEX},
                    rng.multinomial(6, np.ones(5) / 5, size=(2, 3)).astype(np.float64)),
    "Chi2": (lambda m, p: m.Chi2(p["df"]), {"df": POS * 3},
             np.abs(rng.standard_normal((3, 4))) + 0.2),
    "StudentT": (lambda m, p: m.StudentT(p["df"] + 2.5, p["loc"], p["s"]),
                 {"df": POS, "loc": REAL, "s": POS2}, rng.standard_normal((2, 3, 4))),
}
NO_ENTROPY = {"LogNormal-none", "Poisson"}


def _build(name):
    ctor, spec, value = CASES[name]
    pe, pt = _params(spec)
    return ctor(D, pe), ctor(TD, pt), pe, pt, value


@pytest.mark.parametrize("name", sorted(CASES))
def test_against_torch(name):
    e, t, pe, pt, value = _build(name)
    assert tuple(e.batch_shape) == tuple(t.batch_shape), name
    assert tuple(e.event_shape) == tuple(t.event_shape), name
    assert e.has_rsample == t.has_rsample
    ve = ember.tensor(value, dtype=ember.int64 if value.dtype.kind == "i" else ember.float64)
    vt = torch.tensor(value)
    lpe, lpt = e.log_prob(ve), t.log_prob(vt)
    _close(lpe, lpt, msg="log_prob")
    total_e, total_t = lpe.sum(), lpt.sum()
    if name not in NO_ENTROPY:
        _close(e.entropy(), t.entropy(), msg="entropy")
        total_e, total_t = total_e + e.entropy().sum(), total_t + t.entropy().sum()
    for attr in ("mean", "variance", "stddev", "mode"):
        try:
            tv = getattr(t, attr)
        except NotImplementedError:
            continue
        ev = getattr(e, attr)
        _close(ev, tv, msg=attr)
        if attr in ("mean", "variance") and tv.dtype.is_floating_point \
                and not torch.isnan(tv).any():
            total_e, total_t = total_e + ev.sum() * 0.3, total_t + tv.sum() * 0.3
    total_e.backward()
    total_t.backward()
    for k in pe:
        _close(pe[k].grad, pt[k].grad, rtol=1e-5, atol=1e-7, msg=f"grad of {k}")
    # expand and the shapes of samples
    big = (2,) + tuple(e.batch_shape)
    ex, tx = e.expand(big), t.expand(big)
    assert tuple(ex.batch_shape) == tuple(tx.batch_shape)
    s = ex.sample((5,))
    assert tuple(s.shape) == tuple(tx.sample((5,)).shape)
    _close(ex.log_prob(ve), tx.log_prob(vt), msg="expanded log_prob")
    if e.has_rsample:
        r = e.rsample((2,))
        assert tuple(r.shape) == (2,) + tuple(e.batch_shape) + tuple(e.event_shape)
        assert r.requires_grad


def test_cdf_icdf():
    loc, scale = np.array([0.3, -1.0]), np.array([1.5, 0.4])
    x = np.array([0.1, -0.7])
    q = np.array([0.2, 0.9])
    for ctor in ("Normal", "Laplace"):
        e = getattr(D, ctor)(ember.tensor(loc), ember.tensor(scale))
        t = getattr(TD, ctor)(torch.tensor(loc), torch.tensor(scale))
        _close(e.cdf(ember.tensor(x)), t.cdf(torch.tensor(x)))
        _close(e.icdf(ember.tensor(q)), t.icdf(torch.tensor(q)))
    e, t = D.Exponential(ember.tensor(scale)), TD.Exponential(torch.tensor(scale))
    _close(e.cdf(ember.tensor(np.abs(x))), t.cdf(torch.tensor(np.abs(x))))
    _close(e.icdf(ember.tensor(q)), t.icdf(torch.tensor(q)))
    e, t = D.Gamma(ember.tensor(scale), 2.0), TD.Gamma(torch.tensor(scale), 2.0)
    _close(e.cdf(ember.tensor(np.abs(x))), t.cdf(torch.tensor(np.abs(x))))
    e, t = D.Uniform(-1.0, ember.tensor(scale)), TD.Uniform(-1.0, torch.tensor(scale))
    _close(e.cdf(ember.tensor(x * 0.5)), t.cdf(torch.tensor(x * 0.5)))


KL_PAIRS = [
    ("Normal", "Normal"), ("Bernoulli-probs", "Bernoulli-logits"),
    ("Categorical-probs", "Categorical-probs"), ("Uniform", "Uniform"),
    ("MVN-cov", "MVN-tril"), ("MVN-prec", "MVN-cov"), ("Beta", "Beta"), ("Gamma", "Gamma"),
    ("Dirichlet", "Dirichlet"), ("Independent", "Independent"),
    ("Exponential", "Exponential"), ("Laplace", "Laplace"), ("Poisson", "Poisson"),
    ("OneHotCategorical", "OneHotCategorical"), ("LogNormal", "LogNormal"),
    ("Normal", "Laplace"), ("Exponential", "Gamma"), ("Binomial", "Binomial"),
    ("Geometric", "Geometric"), ("HalfNormal", "HalfNormal"), ("Chi2", "Chi2"),
]


def _other(name):
    """The same family with different parameters."""
    ctor, spec, _ = CASES[name]
    spec2 = {}
    for k, v in spec.items():
        if k == "c":
            spec2[k] = COV[::-1].copy() if "tril" not in name else TRIL[::-1].copy()
        elif k == "p" and v.ndim == 2 and np.allclose(v.sum(-1), 1):
            spec2[k] = v[::-1].copy()
        elif k == "p":
            spec2[k] = np.clip(v[::-1] * 0.9 + 0.05, 0.01, 0.99)
        else:
            spec2[k] = v[::-1].copy() if v.ndim else v
            if np.all(v > 0):
                spec2[k] = spec2[k] + 0.2
    pe, pt = _params(spec2)
    return ctor(D, pe), ctor(TD, pt), pe, pt


@pytest.mark.parametrize("pn,qn", KL_PAIRS, ids=[f"{a}|{b}" for a, b in KL_PAIRS])
def test_kl_against_torch(pn, qn):
    pe, pt, ppe, ppt, _ = _build(pn)
    if pn == qn:
        qe, qt, qpe, qpt = _other(qn)
    else:
        qe, qt, qpe, qpt, _ = _build(qn)
    ke, kt = D.kl_divergence(pe, qe), TD.kl_divergence(pt, qt)
    _close(ke, kt, rtol=1e-6, atol=1e-8, msg="kl")
    ke.sum().backward()
    kt.sum().backward()
    for ours, theirs in ((ppe, ppt), (qpe, qpt)):
        for k in ours:
            if theirs[k].grad is None:
                continue
            _close(ours[k].grad, theirs[k].grad, rtol=1e-5, atol=1e-7, msg=f"grad of {k}")


def test_kl_infinite_support_and_registry():
    p, q = D.Uniform(0.0, 2.0), D.Uniform(0.5, 1.0)
    assert math.isinf(float(D.kl_divergence(p, q)))
    b = D.Bernoulli(probs=ember.tensor([0.0, 1.0, 0.5]))
    c = D.Bernoulli(probs=ember.tensor([0.5, 0.5, 0.0]))
    tb = TD.Bernoulli(probs=torch.tensor([0.0, 1.0, 0.5]))
    tc = TD.Bernoulli(probs=torch.tensor([0.0, 1.0, 0.0]) * 0 + torch.tensor([0.5, 0.5, 0.0]))
    _close(D.kl_divergence(b, c), TD.kl_divergence(tb, tc))
    with pytest.raises(NotImplementedError, match="No KL"):
        D.kl_divergence(D.Laplace(0.0, 1.0), D.Poisson(ember.tensor(1.0)))
    with pytest.raises(NotImplementedError, match="Bregman"):
        D.kl_divergence(D.Poisson(ember.tensor(1.0)), D.Normal(0.0, 1.0))

    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        return ember.tensor(42.0)

    assert float(D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(0.0, 1.0))) == 42.0
    assert float(D.kl_divergence(D.Normal(0.0, 1.0), D.Normal(0.0, 1.0))) == 0.0


N = 20000
SAMPLE_CASES = [
    ("Normal", lambda: D.Normal(ember.tensor([1.0, -2.0]), ember.tensor([0.5, 2.0]))),
    ("Bernoulli", lambda: D.Bernoulli(probs=ember.tensor([0.2, 0.7]))),
    ("Uniform", lambda: D.Uniform(ember.tensor([0.0, -3.0]), ember.tensor([1.0, 5.0]))),
    ("Beta", lambda: D.Beta(ember.tensor([0.5, 3.0]), ember.tensor([2.0, 1.5]))),
    ("Gamma", lambda: D.Gamma(ember.tensor([0.3, 4.0]), ember.tensor([1.0, 2.0]))),
    ("Dirichlet", lambda: D.Dirichlet(ember.tensor([0.4, 1.0, 3.0]))),
    ("Exponential", lambda: D.Exponential(ember.tensor([0.5, 3.0]))),
    ("Laplace", lambda: D.Laplace(ember.tensor([0.0, 2.0]), ember.tensor([1.0, 0.5]))),
    ("LogNormal", lambda: D.LogNormal(ember.tensor([0.0, 0.5]), ember.tensor([0.3, 0.2]))),
    ("Poisson", lambda: D.Poisson(ember.tensor([0.5, 6.0]))),
    ("Binomial", lambda: D.Binomial(ember.tensor([5.0, 20.0]), ember.tensor([0.3, 0.8]))),
    ("Categorical", lambda: D.OneHotCategorical(probs=ember.tensor([0.1, 0.2, 0.7]))),
    ("Geometric", lambda: D.Geometric(ember.tensor([0.2, 0.7]))),
    ("HalfNormal", lambda: D.HalfNormal(ember.tensor([0.5, 2.0]))),
    ("StudentT", lambda: D.StudentT(ember.tensor([5.0, 9.0]), 1.0, ember.tensor([0.5, 2.0]))),
    ("Multinomial", lambda: D.Multinomial(10, ember.tensor([0.2, 0.3, 0.5]))),
    ("MVN", lambda: D.MultivariateNormal(ember.tensor([1.0, -1.0]),
                                         ember.tensor([[2.0, 0.6], [0.6, 0.5]]))),
]


@pytest.mark.parametrize("name,make", SAMPLE_CASES, ids=[c[0] for c in SAMPLE_CASES])
def test_sample_statistics(name, make):
    d = make()
    s = d.sample((N,)).to(ember.float64).numpy()
    mean, var = d.mean.to(ember.float64).numpy(), d.variance.to(ember.float64).numpy()
    se = np.sqrt(var / N)
    np.testing.assert_array_less(np.abs(s.mean(0) - mean), 5 * se + 1e-9, err_msg="mean")
    np.testing.assert_allclose(s.var(0), var, rtol=0.08, err_msg="variance")
    assert np.all(np.isfinite(d.log_prob(ember.tensor(s[:100]).to(d.mean.dtype)).numpy()))
    if name == "MVN":
        np.testing.assert_allclose(np.cov(s.T), [[2.0, 0.6], [0.6, 0.5]], rtol=0.08)


def test_manual_seed_reproduces_samples():
    d = D.Gamma(ember.tensor([0.5, 2.0]), ember.tensor(1.0))
    ember.manual_seed(7)
    a = d.sample((10,))
    ember.manual_seed(7)
    b = d.sample((10,))
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_rsample_gradients_location_scale():
    loc = ember.tensor([0.5, -1.0], requires_grad=True)
    scale = ember.tensor([2.0, 0.3], requires_grad=True)
    for cls in (D.Normal, D.Laplace):
        loc.grad = scale.grad = None
        x = cls(loc, scale).rsample((100,))
        x.sum().backward()
        _close(loc.grad, np.full(2, 100.0))
        eps = (x.detach() - loc.detach()) / scale.detach()
        _close(scale.grad, eps.sum(0), rtol=1e-5, atol=1e-5)
    rate = ember.tensor([0.5, 3.0], requires_grad=True)
    x = D.Exponential(rate).rsample((50,))
    x.sum().backward()
    _close(rate.grad, (-x.detach() / rate.detach()).sum(0), rtol=1e-5, atol=1e-6)
    lo = ember.tensor([0.0, 1.0], requires_grad=True)
    hi = ember.tensor([1.0, 4.0], requires_grad=True)
    x = D.Uniform(lo, hi).rsample((50,))
    x.sum().backward()
    u = (x.detach() - lo.detach()) / (hi.detach() - lo.detach())
    _close(hi.grad, u.sum(0), rtol=1e-5, atol=1e-5)
    _close(lo.grad, (1 - u).sum(0), rtol=1e-5, atol=1e-5)
    m = ember.tensor([0.0, 1.0], requires_grad=True)
    L = ember.tensor([[1.0, 0.0], [0.5, 2.0]], requires_grad=True)
    x = D.MultivariateNormal(m, scale_tril=L).rsample((30,))
    x.sum().backward()
    eps = ember.linalg.solve_triangular(L.detach(), (x.detach() - m.detach()).t(),
                                        upper=False).t()
    _close(L.grad, eps.sum(0).unsqueeze(0).expand(2, 2), rtol=1e-4, atol=1e-4)


def test_gamma_rsample_gradient_matches_torch_formula():
    alpha = np.array([0.05, 0.4, 1.0, 3.0, 9.5, 30.0])
    rate = np.array([1.0, 2.0, 0.5, 1.0, 3.0, 0.2])
    a = ember.tensor(alpha, dtype=ember.float64, requires_grad=True)
    r = ember.tensor(rate, dtype=ember.float64, requires_grad=True)
    x = D.Gamma(a, r).rsample((400,))
    x.sum().backward()
    xs = torch.tensor(x.detach().numpy()) * torch.tensor(rate)
    ta = torch.tensor(alpha).expand(400, -1)
    expect = (torch._standard_gamma_grad(ta, xs) / torch.tensor(rate)).sum(0)
    _close(a.grad, expect, rtol=1e-10, atol=1e-12)
    _close(r.grad, (-x.detach() / r.detach()).sum(0).numpy(), rtol=1e-8)
    # the implicit gradient: on average d E[x] / d alpha = 1 / rate
    np.testing.assert_allclose(a.grad.numpy()[1:] / 400, 1 / rate[1:], rtol=0.25)


def test_dirichlet_and_beta_rsample_gradients_match_torch_formula():
    conc = np.array([[0.3, 1.0, 4.0], [7.0, 8.0, 0.6]])
    c = ember.tensor(conc, dtype=ember.float64, requires_grad=True)
    x = D.Dirichlet(c).rsample((200,))
    g = np.random.default_rng(1).standard_normal(x.shape)
    (x * ember.tensor(g)).sum().backward()
    xt = torch.tensor(x.detach().numpy())
    ct = torch.tensor(conc).expand_as(xt)
    total = ct.sum(-1, True).expand_as(ct)
    gt = torch.tensor(g)
    expect = torch._dirichlet_grad(xt, ct, total) * (gt - (xt * gt).sum(-1, True))
    _close(c.grad, expect.sum(0), rtol=1e-8, atol=1e-10)
    a = ember.tensor([0.5, 5.0], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([2.0, 1.0], dtype=ember.float64, requires_grad=True)
    s = D.Beta(a, b).rsample((4000,))
    s.mean(0).sum().backward()
    # d E[x]/da = b / (a + b)^2, d E[x]/db = -a / (a + b)^2 (the pathwise estimate)
    an, bn = np.array([0.5, 5.0]), np.array([2.0, 1.0])
    np.testing.assert_allclose(a.grad.numpy(), bn / (an + bn) ** 2, rtol=0.15)
    np.testing.assert_allclose(b.grad.numpy(), -an / (an + bn) ** 2, rtol=0.15)


def test_validation_errors():
    with pytest.raises(ValueError, match="scale"):
        D.Normal(ember.tensor([0.0]), ember.tensor([-1.0]))
    with pytest.raises(ValueError, match="support"):
        D.Exponential(ember.tensor(1.0)).log_prob(ember.tensor(-1.0))
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        D.Bernoulli()
    with pytest.raises(ValueError, match="Exactly one of"):
        D.MultivariateNormal(ember.zeros(2))
    with pytest.raises(ValueError, match="low>= high"):
        D.Uniform(1.0, 0.0)
    with pytest.raises(ValueError, match="broadcastable"):
        D.Normal(ember.zeros(3), ember.ones(3)).log_prob(ember.zeros(4))
    D.Normal(ember.tensor([0.0]), ember.tensor([-1.0]), validate_args=False)  # no check
    assert D.Normal(0.0, 1.0).batch_shape == ember.Size([])
    assert D.constraints.positive.check(ember.tensor([1.0, -1.0])).tolist() == [True, False]
    assert repr(D.constraints.interval(0, 1)) == repr(TD.constraints.interval(0, 1))


def test_enumerate_support_and_transforms():
    c = D.Categorical(logits=ember.randn(2, 3))
    tc = TD.Categorical(logits=torch.tensor(c.logits.numpy()))
    _close(c.enumerate_support(), tc.enumerate_support())
    b, tb = D.Binomial(3, ember.tensor([0.2, 0.4])), TD.Binomial(3, torch.tensor([0.2, 0.4]))
    _close(b.enumerate_support(), tb.enumerate_support())
    oh = D.OneHotCategorical(probs=ember.tensor([0.2, 0.8]))
    assert tuple(oh.enumerate_support().shape) == (2, 2)
    loc, scale = ember.tensor([0.2, -0.4]), ember.tensor([1.3, 0.7])
    e = D.TransformedDistribution(D.Normal(loc, scale),
                                  [D.AffineTransform(1.0, 2.0), D.SigmoidTransform()])
    t = TD.TransformedDistribution(TD.Normal(torch.tensor([0.2, -0.4]),
                                             torch.tensor([1.3, 0.7])),
                                   [TD.AffineTransform(1.0, 2.0), TD.SigmoidTransform()])
    v = np.array([0.3, 0.9], dtype=np.float32)
    _close(e.log_prob(ember.tensor(v)), t.log_prob(torch.tensor(v)), rtol=1e-5, atol=1e-6)
    s = e.sample((100,))
    assert s.min() > 0 and s.max() < 1
