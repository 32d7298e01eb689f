"""``ember.special``: special functions, as ``torch.special``.

Kernels come from ``scipy.special`` (CPU) and ``cupyx.scipy.special`` (CUDA), imported on
first use; each function is differentiable where PyTorch's is.
"""

from __future__ import annotations

from .ops.elementwise import erf, erfc, exp2, expm1, log1p, logit, round, sigmoid, sinc
from .ops.reduce import log_softmax, logsumexp, softmax
from .ops.special import (
    bessel_j0,
    bessel_j1,
    digamma,
    entr,
    erfcx,
    erfinv,
    gammainc,
    gammaincc,
    i0,
    i0e,
    i1,
    i1e,
    log_ndtr,
    mvlgamma,
    ndtr,
    ndtri,
    polygamma,
    xlog1py,
    xlogy,
    zeta,
)
from .ops.special import lgamma as gammaln

__all__ = ["erf", "erfc", "erfinv", "erfcx", "expit", "logit", "xlogy", "xlog1py",
           "gammaln", "digamma", "psi", "polygamma", "multigammaln", "i0", "i0e", "i1", "i1e",
           "ndtr", "ndtri", "log_ndtr", "sinc", "entr", "logsumexp", "softmax",
           "log_softmax", "round", "exp2", "expm1", "log1p", "bessel_j0", "bessel_j1", "zeta",
           "gammainc", "gammaincc"]

expit = sigmoid
psi = digamma
multigammaln = mvlgamma
