"""``ember.special``: special functions, as ``torch.special``.

Kernels come from ``scipy.special`` (CPU) and ``cupyx.scipy.special`` (CUDA), imported on
first use; each function is differentiable where PyTorch's is. The Bessel/Airy functions
and the orthogonal polynomials (``chebyshev_polynomial_t(x, n)``, ...) are not
differentiable, as in PyTorch; the polynomials follow PyTorch's recurrences and its rules at
``n < 0``, ``|x| == 1`` and large ``n`` (the trigonometric forms).
"""

from __future__ import annotations

from ._special_more import (
    airy_ai,
    bessel_y0,
    bessel_y1,
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    hermite_polynomial_h,
    hermite_polynomial_he,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    modified_bessel_i0,
    modified_bessel_i1,
    modified_bessel_k0,
    modified_bessel_k1,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
    spherical_bessel_j0,
)
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
           "gammainc", "gammaincc", "airy_ai", "bessel_y0", "bessel_y1", "modified_bessel_i0",
           "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
           "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0",
           "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
           "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
           "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
           "laguerre_polynomial_l", "legendre_polynomial_p"]

expit = sigmoid
psi = digamma
multigammaln = mvlgamma
