"""Sampling ops of ``ember.distributions`` with reparameterized gradients.

``standard_gamma(alpha)`` draws Gamma(alpha, 1) samples from ember's generator; its
gradient is the implicit reparameterization ``dx/dalpha = -(dF/dalpha) / (dF/dx)`` (F the
Gamma CDF), evaluated with PyTorch's approximations (``_standard_gamma_grad``: a series for
small x, Rice's saddle-point expansion for large alpha, a rational fit otherwise).
``dirichlet(alpha)`` normalizes Gamma draws; its gradient is PyTorch's ``_dirichlet_grad``
(the Beta marginals' implicit gradients). Both are computed on arrays of the samples'
module (numpy or cupy); the sample gradient is a constant with respect to alpha (as in
PyTorch, which has no second derivative here).
"""

from __future__ import annotations

import numpy as np

from .. import _random
from .._tensor import Tensor
from ..ops.op import Op, xp_of

__all__ = ["standard_gamma", "standard_gamma_grad", "dirichlet", "dirichlet_grad",
           "binomial"]


def _digamma(a):
    return Tensor._make(a).digamma()._data


def _errstate(xp):
    return xp.errstate(all="ignore") if hasattr(xp, "errstate") else _Null()


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def standard_gamma_grad(alpha, x):
    """PyTorch's ``_standard_gamma_grad(alpha, x)`` on arrays (float64 inside)."""
    xp = xp_of(alpha)
    dt = np.result_type(alpha.dtype, x.dtype)
    a = alpha.astype(np.float64)
    x = x.astype(np.float64)
    a, x = xp.broadcast_arrays(a, x)
    with _errstate(xp):
        numer = xp.ones_like(x)
        denom = a.copy()
        s1 = numer / denom
        s2 = numer / (denom * denom)
        for i in range(1, 6):
            numer = numer * (-x / i)
            denom = denom + 1
            s1 = s1 + numer / denom
            s2 = s2 + numer / (denom * denom)
        pow_x_alpha = x ** a
        pdf = x ** (a - 1) * xp.exp(-x)
        cdf = pow_x_alpha * s1
        cdf_alpha = (xp.log(x) - _digamma(a)) * cdf - pow_x_alpha * s2
        small = -cdf_alpha / pdf
        small = xp.where(xp.isnan(small), 0.0, small)
        n1 = 1 + 24 * a * (1 + 12 * a)
        n2 = 1440 * (a * a) + 6 * x * (53 - 120 * x) - 65 * x * x / a + a * (107 + 3600 * x)
        mid = n1 * n2 / (1244160 * (a * a) * (a * a))
        den = xp.sqrt(8 * a)
        term2 = den / (a - x)
        term3 = (x - a - a * xp.log(x / a)) ** -1.5
        term23 = xp.where(x < a, term2 - term3, term2 + term3)
        term1 = xp.log(x / a) * term23 - xp.sqrt(2 / a) * (a + x) / ((a - x) * (a - x))
        stirling = 1 + 1 / (12 * a) * (1 + 1 / (24 * a))
        large = -stirling * x * term1 / den
        u = xp.log(x / a)
        v = xp.log(a)
        cv = [c0 + u * (c1 + u * c2) for c0, c1, c2 in zip(*_GAMMA_COEF)]
        p = cv[0] + v * (cv[1] + v * (cv[2] + v * cv[3]))
        q = cv[4] + v * (cv[5] + v * (cv[6] + v * cv[7]))
        rational = xp.exp(p / q)
        out = xp.where(x < 0.8, small,
                       xp.where(a > 8.0, xp.where((0.9 * a <= x) & (x <= 1.1 * a), mid, large),
                                rational))
    return out.astype(dt)


_GAMMA_COEF = (
    (0.16009398, -0.094634809, 0.025146376, -0.0030648343,
     1, 0.32668115, 0.10406089, 0.0014179084),
    (0.53487893, 0.1298071, 0.065735949, -0.0015649758,
     0.16639465, 0.020070113, -0.0035938915, -0.00058392623),
    (0.040121004, -0.0065914022, -0.0026286047, -0.0013441777,
     0.017050642, -0.0021309326, 0.00085092367, -1.5247877e-07),
)

_DIRICHLET_COEF = np.array([
    [[[1.003668233, -0.01061107488, -0.0657888334, 0.01201642863],
      [0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033],
      [-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013]],
     [[0.221950385, -0.3187676331, 0.01799915743, 0.01074823814],
      [-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057],
      [0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05]],
     [[-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565],
      [0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181],
      [0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05]]],
    [[[1, -0.02924021934, -0.04438342661, 0.007285809825],
      [0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521],
      [-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149]],
     [[0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273],
      [0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956],
      [-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05]],
     [[0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05],
      [0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05],
      [-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06]]]])


def _beta_grad_alpha_small(xp, x, a, b):
    factor = _digamma(a) - _digamma(a + b) - xp.log(x)
    numer = xp.ones_like(x)
    series = numer / a * (factor + 1 / a)
    for i in range(1, 11):
        numer = numer * (i - b) * x / i
        denom = a + i
        series = series + numer / denom * (factor + 1 / denom)
    result = x * (1 - x) ** (-b) * series
    return xp.where(xp.isnan(result), 0.0, result)


def _beta_grad_beta_small(xp, x, a, b):
    factor = _digamma(a + b) - _digamma(b)
    numer = xp.ones_like(x)
    betas = xp.ones_like(x)
    dbetas = xp.zeros_like(x)
    series = factor / a
    for i in range(1, 9):
        numer = numer * (-x / i)
        dbetas = dbetas * (b - i) + betas
        betas = betas * (b - i)
        series = series + numer / (a + i) * (dbetas + factor * betas)
    result = -(1 - x) ** (1 - b) * series
    return xp.where(xp.isnan(result), 0.0, result)


def _beta_grad_alpha_mid(xp, x, a, b):
    total = a + b
    mean = a / total
    std = xp.sqrt(a * b / (total + 1)) / total
    poly = 47 * x * (b * b) * (b * b) + a * (
        (43 + 20 * (16 + 27 * b) * x) * (b * b) * b + a * (
            3 * (59 + 180 * b - 90 * x) * (b * b) + a * (
                (453 + 1620 * b * (1 - x) - 455 * x) * b + a * (
                    8 * (1 - x) * (135 * b - 11)))))
    pre_num = (1 + 12 * a) * (1 + 12 * b) / (total * total)
    pre_den = 12960 * a * a * a * b * b * (1 + 12 * total)
    near = pre_num / (1 - x) * poly / pre_den
    prefactor = -x / xp.sqrt(2 * a * b / total)
    stirling = ((1 + 1 / (12 * a) + 1 / (288 * a * a)) * (1 + 1 / (12 * b) + 1 / (288 * b * b))
                / (1 + 1 / (12 * total) + 1 / (288 * total * total)))
    t1_num = 2 * (a * a) * (x - 1) + a * b * (x - 1) - x * (b * b)
    axbx = a * (x - 1) + b * x
    t1_den = xp.sqrt(2 * a / b) * total ** 1.5 * axbx * axbx
    t1 = t1_num / t1_den
    t2 = 0.5 * xp.log(a / (total * x))
    t3 = xp.sqrt(8 * a * b / total) / (b * x + a * (x - 1))
    t4 = (a * xp.log(a / (total * x)) + b * xp.log(b / (total * (1 - x)))) ** -1.5
    far = stirling * prefactor * (t1 + t2 * (t3 + xp.where(x < mean, t4, -t4)))
    return xp.where((mean - 0.1 * std <= x) & (x <= mean + 0.1 * std), near, far)


def dirichlet_grad(x, alpha, total):
    """PyTorch's ``_dirichlet_grad(x, alpha, total)`` on arrays (float64 inside)."""
    xp = xp_of(x)
    dt = x.dtype
    x, a, t = (v.astype(np.float64) for v in xp.broadcast_arrays(x, alpha, total))
    b = t - a
    boundary = t * x * (1 - x)
    c = xp.asarray(_DIRICHLET_COEF)
    with _errstate(xp):
        r_small = _beta_grad_alpha_small(xp, x, a, b)
        r_one = -_beta_grad_beta_small(xp, 1 - x, b, a)
        r_mid = _beta_grad_alpha_mid(xp, x, a, b)
        u = xp.log(x)
        la = xp.log(a) - u
        lb = xp.log(t) - la
        pow_u = (xp.ones_like(u), u, u * u)
        pow_a = (xp.ones_like(u), la, la * la)
        p = xp.zeros_like(u)
        q = xp.zeros_like(u)
        for i in range(3):
            for j in range(3):
                ua = pow_u[i] * pow_a[j]
                cp, cq = c[0, i, j], c[1, i, j]
                p = p + ua * (cp[0] + lb * (cp[1] + lb * (cp[2] + lb * cp[3])))
                q = q + ua * (cq[0] + lb * (cq[1] + lb * (cq[2] + lb * cq[3])))
        approx = x * (_digamma(t) - _digamma(a)) / b
        rational = p / q * approx
        out = xp.where((x <= 0.5) & (boundary < 2.5), r_small,
                       xp.where((x >= 0.5) & (boundary < 0.75), r_one,
                                xp.where((a > 6) & (b > 6), r_mid, rational)))
    return out.astype(dt)


def _tiny(dt) -> float:
    return float(np.finfo(dt).tiny)


class StandardGamma(Op):
    """Gamma(alpha, 1) draws; gradient ``g * _standard_gamma_grad(alpha, x)``."""

    _name = "standard_gamma"
    save_inputs = (0,)
    save_output = True

    def forward(self, alpha):
        xp = xp_of(alpha)
        rng = _random.generator_for(self.device, self.generator)
        draw = rng.standard_gamma(alpha.astype(np.float64))
        draw = xp.asarray(draw).astype(alpha.dtype)
        return xp.maximum(draw, _tiny(alpha.dtype))

    def backward(self, g):
        (alpha,) = self.saved_tensors
        x = self.saved_output()
        grad = standard_gamma_grad(alpha._data, x._data)
        return g * Tensor._make(grad)


def standard_gamma(alpha: Tensor, generator=None) -> Tensor:
    """Gamma(``alpha``, 1) samples of ``alpha``'s shape, differentiable in ``alpha``."""
    return StandardGamma.apply(alpha, device=alpha.device, generator=generator)


class DirichletSample(Op):
    """Dirichlet(alpha) draws over the last dim; gradient as PyTorch's
    ``_Dirichlet.backward``."""

    _name = "dirichlet_sample"
    save_inputs = (0,)
    save_output = True

    def forward(self, alpha):
        xp = xp_of(alpha)
        rng = _random.generator_for(self.device, self.generator)
        g = xp.asarray(rng.standard_gamma(alpha.astype(np.float64)))
        g = xp.maximum(g, _tiny(np.float64))
        x = g / g.sum(axis=-1, keepdims=True)
        return x.astype(alpha.dtype)

    def backward(self, g):
        (alpha,) = self.saved_tensors
        x = self.saved_output()
        a = alpha._data
        total = xp_of(a).broadcast_to(a.sum(axis=-1, keepdims=True), a.shape)
        grad = Tensor._make(dirichlet_grad(x._data, a, total))
        return grad * (g - (x * g).sum(-1, keepdim=True))


def dirichlet(alpha: Tensor, generator=None) -> Tensor:
    """Dirichlet(``alpha``) samples (simplex over the last dim), differentiable in
    ``alpha``."""
    return DirichletSample.apply(alpha, device=alpha.device, generator=generator)


def binomial(count: Tensor, prob: Tensor, generator=None) -> Tensor:
    """Binomial(``count``, ``prob``) draws (no gradient), in ``prob``'s dtype."""
    xp = xp_of(prob._data)
    rng = _random.generator_for(prob.device, generator)
    n = xp.broadcast_to(count._data, prob._data.shape).astype(np.int64)
    p = xp.clip(prob._data.astype(np.float64), 0.0, 1.0)
    draw = xp.asarray(rng.binomial(n, p)).astype(prob._data.dtype)
    return Tensor._make(draw)
