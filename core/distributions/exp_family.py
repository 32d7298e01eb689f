"""``ExponentialFamily``: distributions of the form ``p(x) = h(x) exp(<t(x), theta> -
F(theta))``; the entropy (and the KL divergence between two members of one family) follow
from the log normalizer ``F`` by automatic differentiation."""

from __future__ import annotations

from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base class of exponential-family distributions (``_natural_params``,
    ``_log_normalizer``, ``_mean_carrier_measure``)."""

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        """The entropy, through the Bregman divergence of the log normalizer."""
        from ..autograd import grad

        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        gradients = grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for np_, g in zip(nparams, gradients):
            result = result - (np_ * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
