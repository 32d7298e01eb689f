"""``Gumbel(loc, scale)``."""

from __future__ import annotations

import math
from numbers import Number

import numpy as np

from .._tensor import Size
from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, ExpTransform
from .uniform import Uniform
from .utils import broadcast_all

__all__ = ["Gumbel"]

_EULER = 0.57721566490153286061


class Gumbel(TransformedDistribution):
    """The Gumbel (type-I extreme value) distribution: ``loc - scale * log(-log(U))`` for
    ``U ~ Uniform(0, 1)``."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc, scale, validate_args=None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        finfo = np.finfo(self.loc._data.dtype)
        if isinstance(loc, Number) and isinstance(scale, Number):
            base = Uniform(float(finfo.tiny), 1 - float(finfo.eps), validate_args=validate_args)
        else:
            shape = tuple(self.loc.shape)
            base = Uniform(self.loc.new_full(shape, float(finfo.tiny)),
                           self.loc.new_full(shape, 1 - float(finfo.eps)),
                           validate_args=validate_args)
        # U -> -log U -> log U ... : y = loc - scale * log(-log U)
        transforms = [ExpTransform().inv, AffineTransform(0, -self.loc.new_ones(
            tuple(self.loc.shape))), ExpTransform().inv, AffineTransform(self.loc, -self.scale)]
        super().__init__(base, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gumbel, _instance)
        batch_shape = Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        return super().expand(batch_shape, _instance=new)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        return -(z + (-z).exp()) - self.scale.log()

    @property
    def mean(self):
        return self.loc + self.scale * _EULER

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def entropy(self):
        return self.scale.log() + (1 + _EULER)
