"""``ContinuousBernoulli(probs | logits)``."""

from __future__ import annotations

import math
from numbers import Number

from .._tensor import Size
from . import constraints
from .exp_family import ExponentialFamily
from .utils import broadcast_all, clamp_probs, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(ExponentialFamily):
    """The continuous Bernoulli distribution on ``[0, 1]`` (Loaiza-Ganem & Cunningham,
    2019): density ``C(p) p^x (1 - p)^(1 - x)``. For ``p`` in ``lims`` (around 1/2, where
    the closed forms are 0/0) second-order Taylor expansions are used."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None
                 ) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = isinstance(probs, Number)
            (self.probs,) = broadcast_all(probs)
            self._param = self.probs
        else:
            is_scalar = isinstance(logits, Number)
            (self.logits,) = broadcast_all(logits)
            self._param = self.logits
        self._lims = lims
        batch_shape = Size() if is_scalar else self._param.shape
        super().__init__(batch_shape, validate_args=validate_args)
        if probs is not None:  # clamp after validation so invalid values are still caught
            self.probs = clamp_probs(self.probs)
            self._param = self.probs

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(ContinuousBernoulli, _instance)
        batch_shape = Size(batch_shape)
        new._lims = self._lims
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(batch_shape)
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(batch_shape)
            new._param = new.logits
        super(ContinuousBernoulli, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    @property
    def param_shape(self):
        return self._param.shape

    def _outside(self):
        return (self.probs < self._lims[0]) | (self.probs > self._lims[1])

    def _safe_probs(self):
        """``probs`` with values inside ``lims`` moved to ``lims[0]`` (so the closed forms,
        whose results are discarded there, stay finite)."""
        return self.probs.masked_fill(~self._outside(), self._lims[0])

    def _log_norm(self):
        p = self._safe_probs()
        exact = ((-p).log1p() - p.log()).abs().log() - (1 - 2 * p).abs().log()
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return exact.where(self._outside(), taylor)

    @property
    def mean(self):
        p = self._safe_probs()
        exact = p / (2 * p - 1) + ((-p).log1p() - p.log()).reciprocal()
        d = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * d.pow(2)) * d
        return exact.where(self._outside(), taylor)

    @property
    def variance(self):
        p = self._safe_probs()
        exact = (p * (p - 1)) / (1 - 2 * p).pow(2) + ((-p).log1p() - p.log()).pow(-2)
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 + 128.0 / 945.0 * x) * x
        return exact.where(self._outside(), taylor)

    def rsample(self, sample_shape=()):
        from .._creation import rand

        shape = tuple(self._extended_shape(sample_shape))
        u = rand(shape, dtype=self.probs.dtype, device=self.probs.device)
        return self.icdf(u)

    def sample(self, sample_shape=()):
        from ..autograd.grad_mode import no_grad

        with no_grad():
            return self.rsample(sample_shape)

    def log_prob(self, value):
        from ..nn.functional import binary_cross_entropy_with_logits

        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return (-binary_cross_entropy_with_logits(logits, value, reduction="none")
                + self._log_norm())

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        p = self._safe_probs()
        closed = (p.pow(value) * (1 - p).pow(1 - value) + p - 1) / (2 * p - 1)
        inside = closed.where(self._outside(), value)
        inside = inside.masked_fill(value <= 0, 0.0)
        return inside.masked_fill(value >= 1, 1.0)

    def icdf(self, value):
        p = self._safe_probs()
        closed = (((-p) + value * (2 * p - 1)).log1p() - (-p).log1p()) / \
            (p.log() - (-p).log1p())
        return closed.where(self._outside(), value)

    def entropy(self):
        log_q = (-self.probs).log1p()
        log_p = self.probs.log()
        return self.mean * (log_q - log_p) - self._log_norm() - log_q

    @property
    def _natural_params(self):
        return (self.logits,)

    def _log_normalizer(self, x):
        """``log C`` as a function of the natural parameter ``x`` (the logit)."""
        outside = (x < -1e-3) | (x > 1e-3)
        safe = x.masked_fill(~outside, 1.0)
        exact = (safe.exp() - 1).abs().log() - safe.abs().log()
        taylor = 0.5 * x + x.pow(2) / 24.0 - x.pow(4) / 2880.0
        return exact.where(outside, taylor)
