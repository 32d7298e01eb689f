"""``GeneralizedPareto(loc, scale, concentration)``."""

from __future__ import annotations

import math
from numbers import Number

from .._tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """The generalized Pareto distribution: for ``z = (x - loc) / scale`` and
    ``xi = concentration`` the survival function is ``(1 + xi z) ** (-1 / xi)``
    (``exp(-z)`` at ``xi = 0``)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None) -> None:
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        if all(isinstance(v, Number) for v in (loc, scale, concentration)):
            batch_shape = Size()
        else:
            batch_shape = self.loc.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(GeneralizedPareto, _instance)
        batch_shape = Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        super(GeneralizedPareto, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _xi(self):
        xi = self.concentration
        zero = xi == 0
        return xi.masked_fill(zero, 1.0), zero

    def rsample(self, sample_shape=()):
        from .._creation import rand

        shape = tuple(self._extended_shape(sample_shape))
        u = rand(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.icdf(u)

    def log_prob(self, value):
        if not isinstance(value, Tensor):
            from .._creation import as_tensor

            value = as_tensor(value, dtype=self.loc.dtype)
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        xi, zero = self._xi()
        t = (xi * z).log1p()
        lp = (-(1 + xi.reciprocal()) * t).where(~zero, -z) - self.scale.log()
        outside = (z < 0) | ((self.concentration < 0) & (self.concentration * z <= -1))
        return lp.masked_fill(outside, -math.inf)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = ((value - self.loc) / self.scale).clamp(min=0)
        xi, zero = self._xi()
        log_sf = (-(xi * z).log1p() / xi).where(~zero, -z)
        return -log_sf.expm1()

    def icdf(self, value):
        xi, zero = self._xi()
        log1m = (-value).log1p()
        z = ((-xi * log1m).expm1() / xi).where(~zero, -log1m)
        return self.loc + self.scale * z

    @property
    def mean(self):
        xi = self.concentration
        m = self.loc + self.scale / (1 - xi)
        return m.masked_fill(xi >= 1, math.nan)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        xi = self.concentration
        v = self.scale.pow(2) / ((1 - xi).pow(2) * (1 - 2 * xi))
        return v.masked_fill(xi >= 0.5, math.nan)

    def entropy(self):
        return self.scale.log() + self.concentration + 1

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        upper = (self.loc - self.scale / self.concentration).masked_fill(
            self.concentration >= 0, math.inf)
        return constraints.interval(self.loc, upper)
