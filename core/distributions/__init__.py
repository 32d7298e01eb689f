"""``ember.distributions``: probability distributions and sampling, as
``torch.distributions``.

Each distribution has ``batch_shape``/``event_shape``, ``sample``/``rsample`` (drawn from
ember's generator, so ``ember.manual_seed`` reproduces them), ``log_prob``, ``entropy``,
``mean``/``variance``/``stddev``, ``expand`` and argument validation through
``constraints``; ``kl_divergence`` dispatches on the pair of types (``register_kl`` adds
pairs).

Departure from PyTorch: random draws use ember's generator, so samples have PyTorch's
distributions but not its exact numbers.
"""

from __future__ import annotations

from . import constraints, transforms
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .chi2 import Chi2
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .half_normal import HalfNormal
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .log_normal import LogNormal
from .multinomial import Multinomial
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .poisson import Poisson
from .studentT import StudentT
from .transformed_distribution import TransformedDistribution
from .transforms import (
    AbsTransform,
    AffineTransform,
    ComposeTransform,
    ExpTransform,
    PowerTransform,
    SigmoidTransform,
    SoftplusTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from .uniform import Uniform

__all__ = ["AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Binomial", "Categorical",
           "Cauchy", "Chi2", "ComposeTransform", "Dirichlet", "Distribution", "ExpTransform",
           "Exponential", "ExponentialFamily", "Gamma", "Geometric", "HalfNormal",
           "Independent", "Laplace", "LogNormal", "Multinomial", "MultivariateNormal",
           "Normal", "OneHotCategorical", "Poisson", "PowerTransform", "SigmoidTransform",
           "SoftplusTransform", "StudentT", "TanhTransform", "Transform",
           "TransformedDistribution", "Uniform", "constraints", "identity_transform",
           "kl_divergence", "register_kl", "transforms"]
