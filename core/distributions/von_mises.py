"""``VonMises(loc, concentration)``."""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Size
from ..autograd.grad_mode import no_grad
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["VonMises"]


def _log_i0(x):
    from ..special import i0e

    return i0e(x).log() + x


class VonMises(Distribution):
    """The von Mises (circular normal) distribution on angles, density
    ``exp(k cos(x - loc)) / (2 pi I0(k))``; samples lie in ``[-pi, pi)``, drawn with Best
    and Fisher's (1979) rejection sampler."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None) -> None:
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(VonMises, _instance)
        batch_shape = Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        super(VonMises, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        k = self.concentration
        return k * (value - self.loc).cos() - math.log(2 * math.pi) - _log_i0(k)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        """The circular variance ``1 - I1(k) / I0(k)``."""
        from ..special import i0e, i1e

        return 1 - i1e(self.concentration) / i0e(self.concentration)

    def sample(self, sample_shape=()):
        from .._creation import as_tensor, rand
        from .._dtype import float64

        shape = tuple(self._extended_shape(sample_shape))
        with no_grad():
            k = np.broadcast_to(self.concentration.detach().numpy().astype(np.float64), shape)
            loc = np.broadcast_to(self.loc.detach().numpy().astype(np.float64), shape)
            tau = 1 + np.sqrt(1 + 4 * k * k)
            rho = (tau - np.sqrt(2 * tau)) / (2 * k)
            rho = np.where(k < 1e-5, k / 2, rho)  # the closed form cancels for tiny k
            r = (1 + rho * rho) / (2 * rho)
            out = np.zeros(shape)
            pending = np.ones(shape, dtype=bool)
            while pending.any():
                u = rand((3,) + shape, dtype=float64).numpy()
                f = (1 + r * np.cos(math.pi * u[0])) / (r + np.cos(math.pi * u[0]))
                c = k * (r - f)
                with np.errstate(all="ignore"):
                    ok = (c * (2 - c) - u[1] > 0) | (np.log(c / u[1]) + 1 - c >= 0)
                theta = np.sign(u[2] - 0.5) * np.arccos(np.clip(f, -1, 1))
                take = pending & ok
                out = np.where(take, theta, out)
                pending &= ~ok
            out = np.mod(out + loc + math.pi, 2 * math.pi) - math.pi
            return as_tensor(out, dtype=self.loc.dtype, device=self.loc.device)
