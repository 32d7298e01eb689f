"""``kl_divergence`` for every (p, q) pair ``torch.distributions.kl`` registers, against
torch on the same random parameters: values (inf/nan positions included), result shape and
dtype over batched and broadcasting parameter shapes, edge values (probabilities 0/1,
touching supports, Pareto alpha 1 or 2, equal parameters), the gradients with respect to
the parameters; that ember's registry covers torch's; dispatch for subclasses (the most
specific pair, the ambiguity warning) and the errors for unregistered pairs."""

import inspect
import warnings

import ember
import ember.distributions as D
import ember.distributions.kl as EK
import numpy as np
import pytest
import torch
import torch.distributions as TD
import torch.distributions.kl as TK

RTOL, ATOL = 1e-10, 1e-12


def _np(x):
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return np.asarray(x.detach().numpy())


def _close(ours, theirs, rtol=RTOL, atol=ATOL, msg=""):
    a, b = _np(ours), _np(theirs)
    assert a.shape == b.shape, f"{msg}: shape {a.shape} vs {b.shape}"
    assert np.array_equal(np.isnan(a), np.isnan(b)), f"{msg}: nan at\n{a}\nvs\n{b}"
    assert np.array_equal(np.isposinf(a), np.isposinf(b)), f"{msg}: +inf at\n{a}\nvs\n{b}"
    assert np.array_equal(np.isneginf(a), np.isneginf(b)), f"{msg}: -inf at\n{a}\nvs\n{b}"
    fin = np.isfinite(b)
    np.testing.assert_allclose(a[fin], b[fin], rtol=rtol, atol=atol, err_msg=msg)


# --- parameter samplers ------------------------------------------------------------------
# Each sampler is (rng, batch shape, role "p"/"q", edge) -> {name: (array, differentiable)}.
# With ``edge`` the values come from small grids, so that p and q share values (equal
# parameters, touching supports) and probabilities hit 0 and 1.

def _pos(r, s, edge, lo=0.3, hi=2.5, grid=(0.5, 1.0, 2.0)):
    return r.choice(grid, s) if edge else r.uniform(lo, hi, s)


def _real(r, s, edge):
    return r.choice((-1.0, 0.0, 0.5), s) if edge else r.normal(0.0, 1.0, s)


def _unit(r, s, edge, grid=(0.0, 0.25, 1.0)):
    return r.choice(grid, s) if edge else r.uniform(0.05, 0.95, s)


def _simplex(r, s, k, edge):
    w = r.uniform(0.2, 1.0, tuple(s) + (k,))
    if edge:
        w = w * (r.uniform(size=w.shape) > 0.3)
        w[..., 0] += 0.5
    return w / w.sum(-1, keepdims=True)


def _tril(r, s, n):
    m = np.tril(r.normal(0.0, 0.3, tuple(s) + (n, n)), -1)
    return m + np.eye(n) * r.uniform(0.5, 1.5, tuple(s) + (n,))[..., None]


def _uniform_bounds(r, s, edge):
    if edge:
        low = r.choice((-0.5, 0.0, 0.25), s)
        return low, low + r.choice((0.75, 1.0), s)
    low = r.uniform(-0.4, 0.6, s)
    return low, low + r.uniform(0.2, 1.0, s)


def _binomial(r, s, role, edge):
    counts = (6, 7) if role == "p" else (5, 6)
    probs = _unit(r, s, edge, grid=(0.0, 0.5, 1.0))
    return {"total_count": (r.choice(counts, s).astype(np.float64), False),
            "probs": (probs, True)}


SAMPLERS = {
    "Bernoulli": lambda r, s, role, e: {"probs": (_unit(r, s, e), True)},
    "Beta": lambda r, s, role, e: {"concentration1": (_pos(r, s, e, 0.5, 3.0), True),
                                   "concentration0": (_pos(r, s, e, 0.5, 3.0), True)},
    "Binomial": _binomial,
    "Categorical": lambda r, s, role, e: {"probs": (_simplex(r, s, 4, e), True)},
    "Cauchy": lambda r, s, role, e: {"loc": (_real(r, s, e), True),
                                     "scale": (_pos(r, s, e), True)},
    "ContinuousBernoulli": lambda r, s, role, e: {
        "probs": (_unit(r, s, e, grid=(0.2, 0.5, 0.8)), True)},
    "Dirichlet": lambda r, s, role, e: {
        "concentration": (_pos(r, tuple(s) + (3,), e, 0.5, 3.0), True)},
    "Exponential": lambda r, s, role, e: {"rate": (_pos(r, s, e), True)},
    "ExponentialFamily": lambda r, s, role, e: {
        "df": (r.uniform(2.5, 5.0, s), True),
        "scale_tril": (_tril(r, s, 2), True)},
    "Gamma": lambda r, s, role, e: {"concentration": (_pos(r, s, e, 0.5, 3.0), True),
                                    "rate": (_pos(r, s, e), True)},
    "Geometric": lambda r, s, role, e: {"probs": (_unit(r, s, e, grid=(0.25, 0.5)), True)},
    "Gumbel": lambda r, s, role, e: {"loc": (_real(r, s, e), True),
                                     "scale": (_pos(r, s, e), True)},
    "HalfNormal": lambda r, s, role, e: {"scale": (_pos(r, s, e), True)},
    "Independent": lambda r, s, role, e: {"loc": (_real(r, tuple(s) + (2,), e), True),
                                          "scale": (_pos(r, tuple(s) + (2,), e), True)},
    "Laplace": lambda r, s, role, e: {"loc": (_real(r, s, e), True),
                                      "scale": (_pos(r, s, e), True)},
    "LowRankMultivariateNormal": lambda r, s, role, e: {
        "loc": (_real(r, tuple(s) + (3,), e), True),
        "cov_factor": (r.normal(0.0, 0.5, tuple(s) + (3, 2)), True),
        "cov_diag": (_pos(r, tuple(s) + (3,), e), True)},
    "MultivariateNormal": lambda r, s, role, e: {
        "loc": (_real(r, tuple(s) + (3,), e), True), "scale_tril": (_tril(r, s, 3), True)},
    "Normal": lambda r, s, role, e: {"loc": (_real(r, s, e), True),
                                     "scale": (_pos(r, s, e), True)},
    "OneHotCategorical": lambda r, s, role, e: {"probs": (_simplex(r, s, 4, e), True)},
    "Pareto": lambda r, s, role, e: {
        "scale": (_pos(r, s, e, 0.2, 1.5, grid=(0.25, 0.5, 1.0)), True),
        "alpha": (_pos(r, s, e, 0.5, 4.0, grid=(1.0, 2.0, 3.0)), True)},
    "Poisson": lambda r, s, role, e: {"rate": (_pos(r, s, e, grid=(0.0, 1.0, 2.0)), True)},
    "TransformedDistribution": lambda r, s, role, e: {"loc": (_real(r, s, e), True),
                                                      "scale": (_pos(r, s, e), True)},
    "Uniform": lambda r, s, role, e: dict(zip(("low", "high"),
                                              ((b, True) for b in _uniform_bounds(r, s, e)))),
}


def _build(m, name, a):
    """The distribution ``name`` of module ``m`` (torch.distributions or
    ember.distributions) from the parameter tensors ``a``."""
    if name == "ExponentialFamily":  # Wishart is the exponential family whose KL is generic
        return m.Wishart(a["df"], scale_tril=a["scale_tril"])
    if name == "Independent":
        return m.Independent(m.Normal(a["loc"], a["scale"]), 1)
    if name == "TransformedDistribution":
        return m.TransformedDistribution(m.Normal(a["loc"], a["scale"]),
                                         [m.transforms.ExpTransform()])
    if name == "Binomial":
        return m.Binomial(a["total_count"], probs=a["probs"])
    if name == "MultivariateNormal":
        return m.MultivariateNormal(a["loc"], scale_tril=a["scale_tril"])
    if name in ("Bernoulli", "Categorical", "ContinuousBernoulli", "Geometric",
                "OneHotCategorical"):
        return getattr(m, name)(probs=a["probs"])
    return getattr(m, name)(*a.values())


def _leaves(arrays, dtype, grad):
    """{name: (array, differentiable)} -> ({name: ember tensor}, {name: torch tensor})."""
    e = {k: ember.tensor(v, dtype=getattr(ember, dtype), requires_grad=grad and d)
         for k, (v, d) in arrays.items()}
    t = {k: torch.tensor(v, dtype=getattr(torch, dtype), requires_grad=grad and d)
         for k, (v, d) in arrays.items()}
    return e, t


def _expanded(arrays, batch, name):
    """The parameters broadcast to the batch shape ``batch`` (plus their event dims)."""
    out = {}
    for k, (v, d) in arrays.items():
        event = v.ndim - len(_batch_of(arrays, name))
        out[k] = (np.broadcast_to(v, tuple(batch) + v.shape[v.ndim - event:]).copy(), d)
    return out


def _batch_of(arrays, name):
    first = next(iter(arrays.values()))[0]  # the first parameter has one event dim or none
    if name in ("Independent", "Dirichlet", "Categorical", "OneHotCategorical",
                "LowRankMultivariateNormal", "MultivariateNormal"):
        return first.shape[:-1]
    return first.shape


TORCH_PAIRS = sorted((tp.__name__, tq.__name__) for tp, tq in TK._KL_REGISTRY)
SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((3,), (2, 1)), ((), (2,))]
# Shapes of a pair whose closed form masks in place (``result[p.alpha <= 1] = inf``) fail
# in torch when q's batch is the larger; torch is then run on p broadcast to the full batch.
_TORCH_SHAPE_ERRORS = (IndexError, RuntimeError)


_REFUSALS = (NotImplementedError, ValueError)


def _call(fun, *args):
    """``fun(*args)``, or the NotImplementedError/ValueError it raises."""
    try:
        return fun(*args)
    except _REFUSALS as err:
        return err


def _pair_kl(pn, qn, sp, sq, seed, edge, dtype="float64", grad=False):
    """(ember's KL or its refusal, torch's KL or its refusal, the leaves {"p", "q"} ->
    (ember, torch), whether torch's KL is on the same leaves)."""
    r = np.random.default_rng(seed)
    pa, qa = SAMPLERS[pn](r, sp, "p", edge), SAMPLERS[qn](r, sq, "q", edge)
    leaves = {"p": _leaves(pa, dtype, grad), "q": _leaves(qa, dtype, grad)}
    same_leaves = True
    try:
        kt = _call(TK.kl_divergence, _build(TD, pn, leaves["p"][1]),
                   _build(TD, qn, leaves["q"][1]))
    except _TORCH_SHAPE_ERRORS:
        batch = np.broadcast_shapes(tuple(sp), tuple(sq))
        pt, qt = (_leaves(_expanded(pa, batch, pn), dtype, False)[1],
                  _leaves(_expanded(qa, batch, qn), dtype, False)[1])
        kt, same_leaves = _call(TK.kl_divergence, _build(TD, pn, pt), _build(TD, qn, qt)), False
    ke = _call(EK.kl_divergence, _build(D, pn, leaves["p"][0]), _build(D, qn, leaves["q"][0]))
    return ke, kt, leaves, same_leaves


def _same_refusal(ke, kt, msg):
    """Whether torch refused (then ember must refuse alike)."""
    if isinstance(kt, BaseException):
        assert type(ke) is type(kt), f"{msg}: torch raised {kt!r}, ember gave {ke!r}"
        assert str(ke) == str(kt), msg
        return True
    assert not isinstance(ke, BaseException), f"{msg}: ember raised {ke!r}"
    return False


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("edge", [False, True], ids=["random", "edge"])
@pytest.mark.parametrize("pn,qn", TORCH_PAIRS, ids=[f"{p}-{q}" for p, q in TORCH_PAIRS])
def test_kl_values_match_torch(pn, qn, edge):
    for i, (sp, sq) in enumerate(SHAPES):
        msg = f"KL({pn} || {qn}) p{sp} q{sq}"
        ke, kt, _, _ = _pair_kl(pn, qn, sp, sq, seed=i, edge=edge)
        if _same_refusal(ke, kt, msg):
            continue
        assert ke.dtype == ember.float64, msg
        _close(ke, kt, msg=msg)
    ke, kt, _, _ = _pair_kl(pn, qn, (2, 3), (2, 3), seed=7, edge=edge, dtype="float32")
    if not _same_refusal(ke, kt, f"KL({pn} || {qn}) float32"):
        assert ke.dtype == ember.float32 and kt.dtype == torch.float32
        _close(ke, kt, rtol=2e-4, atol=1e-5, msg=f"KL({pn} || {qn}) float32")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("pn,qn", TORCH_PAIRS, ids=[f"{p}-{q}" for p, q in TORCH_PAIRS])
def test_kl_grads_match_torch(pn, qn):
    for i, (sp, sq) in enumerate(SHAPES[:3]):
        msg = f"d KL({pn} || {qn}) p{sp} q{sq}"
        ke, kt, leaves, same_leaves = _pair_kl(pn, qn, sp, sq, seed=10 + i, edge=False,
                                               grad=True)
        if _same_refusal(ke, kt, msg) or not same_leaves:
            continue  # torch cannot broadcast this pair's mask for these shapes
        names = [(side, k) for side, (_, params) in leaves.items()
                 for k, v in params.items() if v.requires_grad]
        ours = [leaves[side][0][k] for side, k in names]
        if not kt.requires_grad:  # a constant (inf) result
            assert not ke.requires_grad or all(
                g is None or not np.any(_np(g))
                for g in ember.autograd.grad(ke.sum(), ours, allow_unused=True)), msg
            continue
        gt = torch.autograd.grad(kt.sum(), [leaves[side][1][k] for side, k in names],
                                 allow_unused=True)
        ge = ember.autograd.grad(ke.sum(), ours, allow_unused=True)
        for (side, k), a, b in zip(names, ge, gt):
            if b is None:
                assert a is None or not np.any(_np(a)), f"{msg} {side}.{k}"
                continue
            assert a is not None, f"{msg}: no gradient for {side}.{k}"
            a, b = _np(a), _np(b)
            if k == "scale_tril":  # only the lower triangle is a parameter (torch's
                # gradient above the diagonal depends on how it uses the factor)
                a, b = np.tril(a), np.tril(b)
            _close(a, b, rtol=1e-8, atol=1e-10, msg=f"{msg} {side}.{k}")


def test_registry_covers_torch():
    ours = {(tp.__name__, tq.__name__) for tp, tq in EK._KL_REGISTRY}
    missing = sorted(set(TORCH_PAIRS) - ours)
    assert not missing, f"torch registers KL pairs that ember lacks: {missing}"
    # ember's own pairs are registered on the public classes (other tests may have
    # registered pairs of their own subclasses: those are skipped)
    own = [(tp, tq) for tp, tq in EK._KL_REGISTRY
           if tp.__module__.startswith("ember.") and tq.__module__.startswith("ember.")]
    assert len(own) >= len(TORCH_PAIRS)
    for tp, tq in own:
        assert getattr(D, tp.__name__) is tp and getattr(D, tq.__name__) is tq


def _classes(m):
    return {n: c for n, c in vars(m).items()
            if inspect.isclass(c) and issubclass(c, m.Distribution)}


def _choice(kl_module, type_p, type_q):
    """The registered pair ``_dispatch_kl`` picks (left order), whether it warns."""
    matches = [(a, b) for a, b in kl_module._KL_REGISTRY
               if issubclass(type_p, a) and issubclass(type_q, b)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fun = kl_module._dispatch_kl(type_p, type_q)
    if fun is NotImplemented:
        return None, []
    left = min(kl_module._Match(*m) for m in matches).types
    return (left[0].__name__, left[1].__name__), [str(w.message) for w in caught]


def test_dispatch_matches_torch_for_all_class_pairs():
    ours, theirs = _classes(D), _classes(TD)
    names = sorted(set(ours) & set(theirs))
    for a in names:
        for b in names:
            assert _choice(EK, ours[a], ours[b]) == _choice(TK, theirs[a], theirs[b]), (a, b)


@pytest.mark.parametrize("pn,qn,mk", [
    ("Chi2", "Gamma", lambda m, t: (m.Chi2(t([2.5, 4.0])), m.Gamma(t([1.5, 2.0]), t(0.7)))),
    ("Chi2", "Exponential", lambda m, t: (m.Chi2(t([2.5, 4.0])), m.Exponential(t(0.7)))),
    ("Chi2", "Normal", lambda m, t: (m.Chi2(t([2.5, 4.0])), m.Normal(t(0.3), t(1.7)))),
    ("Uniform", "Chi2", lambda m, t: (m.Uniform(t([0.2, -1.0]), t(2.0)), m.Chi2(t(3.0)))),
    ("LogNormal", "LogNormal", lambda m, t: (m.LogNormal(t([0.2, -1.0]), t(2.0)),
                                             m.LogNormal(t(0.5), t([1.0, 0.3])))),
    ("HalfNormal", "HalfNormal", lambda m, t: (m.HalfNormal(t([0.2, 1.0])),
                                               m.HalfNormal(t(0.5)))),
    ("Bernoulli", "Poisson", lambda m, t: (m.Bernoulli(t([0.0, 0.3, 1.0])),
                                           m.Poisson(t([0.0, 0.5, 2.0])))),
])
def test_kl_subclasses_dispatch_like_torch(pn, qn, mk):
    pe, qe = mk(D, lambda v: ember.tensor(v, dtype=ember.float64))
    pt, qt = mk(TD, lambda v: torch.tensor(v, dtype=torch.float64))
    _close(EK.kl_divergence(pe, qe), TK.kl_divergence(pt, qt), msg=f"{pn} || {qn}")


def _errors(make):
    """The (type, message) each library raises for ``make(module, tensor)``."""
    out = []
    for m, t in ((D, lambda v: ember.tensor(v, dtype=ember.float64)),
                 (TD, lambda v: torch.tensor(v, dtype=torch.float64))):
        p, q = make(m, t)
        with pytest.raises(Exception) as err:
            m.kl_divergence(p, q)
        out.append((type(err.value), str(err.value)))
    return out


@pytest.mark.parametrize("make", [
    lambda m, t: (m.Cauchy(t(0.0), t(1.0)), m.Normal(t(0.0), t(1.0))),
    lambda m, t: (m.Laplace(t(0.0), t(1.0)), m.Cauchy(t(0.0), t(1.0))),
    lambda m, t: (m.Beta(t(1.0), t(2.0)), m.Laplace(t(0.0), t(1.0))),
    lambda m, t: (m.Poisson(t(1.0)), m.Normal(t(0.0), t(1.0))),
    lambda m, t: (m.Exponential(t(1.0)), m.Laplace(t(0.0), t(1.0))),
    lambda m, t: (m.Chi2(t(1.0)), m.Poisson(t(1.0))),
    lambda m, t: (m.Binomial(t(3.0), t(0.5)), m.Binomial(t([3.0, 4.0]), t(0.5))),
    lambda m, t: (m.Independent(m.Normal(t([0.0]), t([1.0])), 1),
                  m.Independent(m.Normal(t([[0.0]]), t([[1.0]])), 2)),
    lambda m, t: (m.MultivariateNormal(t([0.0, 0.0]), t(np.eye(2))),
                  m.MultivariateNormal(t([0.0]), t(np.eye(1)))),
], ids=["Cauchy-Normal", "Laplace-Cauchy", "Beta-Laplace", "Poisson-Normal", "Exponential-Laplace",
        "Chi2-Poisson",
        "Binomial-count", "Independent-ndims", "MVN-event"])
def test_kl_errors_match_torch(make):
    ours, theirs = _errors(make)
    # torch's messages may hold runs of spaces from continued string lines
    assert ours[0].__name__ == theirs[0].__name__
    assert " ".join(ours[1].split()) == " ".join(theirs[1].split())


def test_ambiguous_user_pairs_warn_like_torch():
    messages = []
    for m, kl in ((D, EK), (TD, TK)):
        class Base(m.Normal):
            pass

        class Derived(Base):
            pass

        def first(p, q):
            return p.loc * 0 + 1

        def second(p, q):
            return p.loc * 0 + 2

        saved = dict(kl._KL_REGISTRY)
        try:
            m.register_kl(Base, Derived)(first)
            m.register_kl(Derived, Base)(second)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                value = m.kl_divergence(Derived(0.0, 1.0), Derived(0.0, 1.0))
            messages.append(([str(w.message) for w in caught
                              if issubclass(w.category, RuntimeWarning)], float(value)))
        finally:
            kl._KL_REGISTRY.clear()
            kl._KL_REGISTRY.update(saved)
            kl._KL_MEMOIZE.clear()
    assert messages[0] == messages[1]
    assert messages[0][0] == ["Ambiguous kl_divergence(Derived, Derived). "
                              "Please register_kl(Derived, Derived)"]
