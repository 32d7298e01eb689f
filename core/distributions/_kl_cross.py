"""The ``kl_divergence`` closed forms between different families, as
``torch.distributions.kl`` registers them (imported by ``kl``, which holds the registry and
the same-family pairs).

Each finite closed form is ``KL(p || q) = -H(p) - E_p[log q(X)]`` with the expectation
written from p's moments; where p puts mass outside q's support the result is ``inf``
(a pair whose supports never nest returns a tensor of ``inf`` shaped like one of p's
parameters, with no gradient). The special cases follow PyTorch's, including its
conventions at the boundary of the supports (e.g. a ContinuousBernoulli against a Uniform
is ``inf`` unless the Uniform strictly contains ``[0, 1]``)."""

from __future__ import annotations

import math

from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .continuous_bernoulli import ContinuousBernoulli
from .exponential import Exponential
from .gamma import Gamma
from .gumbel import Gumbel
from .kl import register_kl
from .laplace import Laplace
from .normal import Normal
from .pareto import Pareto
from .poisson import Poisson
from .uniform import Uniform
from .utils import euler_constant

_INF = float("inf")
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _infinite_like(t):
    """A tensor of ``inf`` with ``t``'s shape, dtype and device (no gradient)."""
    return t.new_full(tuple(t.shape), _INF)


def _inf_where(mask, t):
    """``t`` with ``inf`` where ``mask`` (broadcast together; the gradient is zero there)."""
    return _infinite_like(t).where(mask, t)


def _x_log_x(t):
    """``t * log(t)``, 0 at ``t == 0``."""
    return t.xlogy(t)


def _beta_mean(p):
    return p.concentration1 / (p.concentration1 + p.concentration0)


def _cb_cross_entropy(mean, q):
    """``-E_p[log CB(X; q)]`` for p with ``E_p[X] = mean``."""
    return -mean * q.logits - (-q.probs).log1p() - q._log_norm()


def _normal_cross_entropy(mean, second_moment, q):
    """``-E_p[log N(X; q.loc, q.scale)]`` from p's ``E[X]`` and ``E[X^2]``."""
    var = q.scale.pow(2)
    return (q.scale.log() + _LOG_SQRT_2PI
            + (0.5 * second_moment - q.loc * mean + 0.5 * q.loc.pow(2)) / var)


def _gamma_cross_entropy(mean, mean_log, q):
    """``-E_p[log Gamma(X; q)]`` from p's ``E[X]`` and ``E[log X]``."""
    return (q.concentration.lgamma() - q.concentration * q.rate.log()
            - (q.concentration - 1) * mean_log + q.rate * mean)


# --- supports that never nest: KL is infinite ----------------------------------------------
# One function per p family and registered for each of its q families, as PyTorch does (so
# that the dispatch of subclasses resolves, and warns, in the same way).

@register_kl(Beta, Pareto)
def _kl_beta_infinity(p, q):
    return _infinite_like(p.concentration1)


@register_kl(ContinuousBernoulli, Pareto)
def _kl_continuous_bernoulli_infinity(p, q):
    return _infinite_like(p.probs)


@register_kl(Exponential, Beta)
@register_kl(Exponential, ContinuousBernoulli)
@register_kl(Exponential, Pareto)
@register_kl(Exponential, Uniform)
def _kl_exponential_infinity(p, q):
    return _infinite_like(p.rate)


@register_kl(Gamma, Beta)
@register_kl(Gamma, ContinuousBernoulli)
@register_kl(Gamma, Pareto)
@register_kl(Gamma, Uniform)
def _kl_gamma_infinity(p, q):
    return _infinite_like(p.concentration)


@register_kl(Gumbel, Beta)
@register_kl(Gumbel, ContinuousBernoulli)
@register_kl(Gumbel, Exponential)
@register_kl(Gumbel, Gamma)
@register_kl(Gumbel, Pareto)
@register_kl(Gumbel, Uniform)
def _kl_gumbel_infinity(p, q):
    return _infinite_like(p.loc)


@register_kl(Laplace, Beta)
@register_kl(Laplace, ContinuousBernoulli)
@register_kl(Laplace, Exponential)
@register_kl(Laplace, Gamma)
@register_kl(Laplace, Pareto)
@register_kl(Laplace, Uniform)
def _kl_laplace_infinity(p, q):
    return _infinite_like(p.loc)


@register_kl(Normal, Beta)
@register_kl(Normal, ContinuousBernoulli)
@register_kl(Normal, Exponential)
@register_kl(Normal, Gamma)
@register_kl(Normal, Pareto)
@register_kl(Normal, Uniform)
def _kl_normal_infinity(p, q):
    return _infinite_like(p.loc)


@register_kl(Pareto, Beta)
@register_kl(Pareto, ContinuousBernoulli)
@register_kl(Pareto, Uniform)
def _kl_pareto_infinity(p, q):
    return _infinite_like(p.scale)


@register_kl(Poisson, Bernoulli)
@register_kl(Poisson, Binomial)
def _kl_poisson_infinity(p, q):
    return _infinite_like(p.rate)


# --- discrete p --------------------------------------------------------------------------

@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p, q):
    return -p.entropy() - (p.probs * q.rate.log() - q.rate)


# --- Beta p ------------------------------------------------------------------------------

@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_continuous_bernoulli(p, q):
    return -p.entropy() + _cb_cross_entropy(p.mean, q)


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * _beta_mean(p)


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p, q):
    total = p.concentration1 + p.concentration0
    mean_log = p.concentration1.digamma() - total.digamma()
    return -p.entropy() + _gamma_cross_entropy(_beta_mean(p), mean_log, q)


@register_kl(Beta, Normal)
def _kl_beta_normal(p, q):
    mean = _beta_mean(p)
    second = mean * (1 - mean) / (p.concentration1 + p.concentration0 + 1) + mean.pow(2)
    return -p.entropy() + _normal_cross_entropy(mean, second, q)


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p, q):
    kl = -p.entropy() + (q.high - q.low).log()
    support = p.support
    return _inf_where((q.low > support.lower_bound) | (q.high < support.upper_bound), kl)


# --- ContinuousBernoulli p ---------------------------------------------------------------

@register_kl(ContinuousBernoulli, Exponential)
def _kl_continuous_bernoulli_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(ContinuousBernoulli, Normal)
def _kl_continuous_bernoulli_normal(p, q):
    t2 = 0.5 * (math.log(2.0 * math.pi) + (q.loc / q.scale).pow(2)) + q.scale.log()
    t3 = (p.variance + p.mean.pow(2) - 2.0 * q.loc * p.mean) / (2.0 * q.scale.pow(2))
    return -p.entropy() + t2 + t3


@register_kl(ContinuousBernoulli, Uniform)
def _kl_continuous_bernoulli_uniform(p, q):
    kl = -p.entropy() + (q.high - q.low).log()
    # PyTorch's convention: finite only where q's support strictly contains [0, 1]
    support = p.support
    return _inf_where((q.low >= support.lower_bound) | (q.high <= support.upper_bound), kl)


# --- Exponential p -----------------------------------------------------------------------

@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p, q):
    ratio = q.rate / p.rate
    return (-q.concentration * ratio.log() + ratio + q.concentration.lgamma()
            + q.concentration * euler_constant - (1 + euler_constant))


@register_kl(Exponential, Gumbel)
def _kl_exponential_gumbel(p, q):
    rate_scale = p.rate * q.scale
    loc_scale = q.loc / q.scale
    return (rate_scale.log() - 1 - loc_scale + loc_scale.exp() * rate_scale / (rate_scale + 1)
            + rate_scale.reciprocal())


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p, q):
    var = q.scale.pow(2)
    rate_sq = p.rate.pow(2)
    t1 = 0.5 * (rate_sq * var * (2 * math.pi)).log()
    return t1 - 1 + (rate_sq.reciprocal() - q.loc / p.rate + 0.5 * q.loc.pow(2)) / var


# --- Gamma p -----------------------------------------------------------------------------

@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.concentration / p.rate


@register_kl(Gamma, Gumbel)
def _kl_gamma_gumbel(p, q):
    a = p.concentration
    rate_scale = p.rate * q.scale
    loc_scale = q.loc / q.scale
    t1 = (a - 1) * a.digamma() - a.lgamma() - a
    t2 = rate_scale.log() + a / rate_scale
    t3 = loc_scale.exp() * (1 + rate_scale.reciprocal()).pow(-a) - loc_scale
    return t1 + t2 + t3


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p, q):
    a = p.concentration
    var = q.scale.pow(2)
    rate_sq = p.rate.pow(2)
    t1 = 0.5 * (rate_sq * var * (2 * math.pi)).log() - a - a.lgamma()
    t2 = 0.5 * (a.pow(2) + a) / rate_sq
    t3 = q.loc * a / p.rate
    return t1 + (a - 1) * a.digamma() + (t2 - t3 + 0.5 * q.loc.pow(2)) / var


# --- Gumbel, Laplace and Normal p --------------------------------------------------------

@register_kl(Gumbel, Normal)
def _kl_gumbel_normal(p, q):
    ratio = p.scale / q.scale
    t1 = (ratio / math.sqrt(2 * math.pi)).log()
    t2 = (math.pi * 0.5 * ratio).pow(2) / 3
    t3 = ((p.loc + p.scale * euler_constant - q.loc) / q.scale).pow(2) * 0.5
    return -t1 + t2 + t3 - (euler_constant + 1)


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p, q):
    var = q.scale.pow(2)
    ratio_sq = p.scale.pow(2) / var
    t1 = 0.5 * (2 * ratio_sq / math.pi).log()
    return -t1 + ratio_sq + 0.5 * (p.loc - q.loc).pow(2) / var - 1


@register_kl(Normal, Gumbel)
def _kl_normal_gumbel(p, q):
    mean_scale = p.loc / q.scale
    var_ratio = (p.scale / q.scale).pow(2)
    loc_scale = q.loc / q.scale
    t3 = (-mean_scale + 0.5 * var_ratio + loc_scale).exp()
    return (-0.5 * var_ratio.log() + mean_scale - loc_scale + t3
            - 0.5 * (1 + math.log(2 * math.pi)))


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p, q):
    loc_diff = p.loc - q.loc
    t1 = (p.scale / q.scale).log()
    t2 = math.sqrt(2 / math.pi) * p.scale * (-0.5 * (loc_diff / p.scale).pow(2)).exp()
    t3 = loc_diff * (math.sqrt(0.5) * loc_diff / p.scale).erf()
    return -t1 + (t2 + t3) / q.scale - 0.5 * (1 + math.log(0.5 * math.pi))


# --- Pareto p (moments exist only for alpha > 1, resp. > 2) -------------------------------

@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p, q):
    scale_rate = p.scale * q.rate
    kl = ((p.alpha / scale_rate).log() - p.alpha.reciprocal()
          + p.alpha * scale_rate / (p.alpha - 1) - 1)
    return _inf_where(p.alpha <= 1, kl)


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p, q):
    mean_log = p.scale.log() + p.alpha.reciprocal()
    kl = (p.alpha.log() - mean_log + q.concentration.lgamma()
          - q.concentration * q.rate.log() + (1 - q.concentration) * mean_log
          + q.rate * p.alpha * p.scale / (p.alpha - 1) - 1)
    return _inf_where(p.alpha <= 1, kl)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p, q):
    two_var = 2 * q.scale.pow(2)
    common = p.scale / (p.alpha - 1)
    t1 = (math.sqrt(2 * math.pi) * q.scale * p.alpha / p.scale).log()
    t3 = p.alpha * common.pow(2) / (p.alpha - 2)
    t4 = (p.alpha * common - q.loc).pow(2)
    kl = t1 - p.alpha.reciprocal() + (t3 + t4) / two_var - 1
    return _inf_where(p.alpha <= 2, kl)


# --- Uniform p ---------------------------------------------------------------------------
# E[X log X] over [low, high] is (xlogx(high) - xlogx(low)) / width - ..., hence _x_log_x.

@register_kl(Uniform, Beta)
def _kl_uniform_beta(p, q):
    width = p.high - p.low
    a, b = q.concentration1, q.concentration0
    t2 = (a - 1) * (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    t3 = (b - 1) * (_x_log_x(1 - p.high) - _x_log_x(1 - p.low) + width) / width
    t4 = a.lgamma() + b.lgamma() - (a + b).lgamma()
    kl = t3 + t4 - width.log() - t2
    support = q.support
    return _inf_where((p.high > support.upper_bound) | (p.low < support.lower_bound), kl)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_continuous_bernoulli(p, q):
    kl = -p.entropy() + _cb_cross_entropy(p.mean, q)
    # PyTorch's convention: finite only where p's support lies strictly inside (0, 1)
    support = q.support
    return _inf_where((p.high >= support.upper_bound) | (p.low <= support.lower_bound), kl)


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p, q):
    kl = q.rate * (p.high + p.low) / 2 - ((p.high - p.low) * q.rate).log()
    return _inf_where(p.low < q.support.lower_bound, kl)


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p, q):
    width = p.high - p.low
    t2 = q.concentration.lgamma() - q.concentration * q.rate.log()
    t3 = (1 - q.concentration) * (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    t4 = q.rate * (p.high + p.low) / 2
    kl = -width.log() + t2 + t3 + t4
    return _inf_where(p.low < q.support.lower_bound, kl)


@register_kl(Uniform, Gumbel)
def _kl_uniform_gumbel(p, q):
    ratio = q.scale / (p.high - p.low)
    high = (p.high - q.loc) / q.scale
    low = (p.low - q.loc) / q.scale
    return ratio.log() + 0.5 * (high + low) - ratio * ((-high).exp() - (-low).exp())


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p, q):
    width = p.high - p.low
    t1 = (math.sqrt(math.pi * 2) * q.scale / width).log()
    t2 = width.pow(2) / 12
    t3 = ((p.high + p.low - 2 * q.loc) / 2).pow(2)
    return t1 + 0.5 * (t2 + t3) / q.scale.pow(2)


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p, q):
    width = p.high - p.low
    t1 = (q.alpha * q.scale.pow(q.alpha) * width).log()
    t2 = (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    kl = t2 * (q.alpha + 1) - t1
    return _inf_where(p.low < q.support.lower_bound, kl)

