"""``LowRankMultivariateNormal(loc, cov_factor, cov_diag)``."""

from __future__ import annotations

import math

from .._tensor import Size
from . import constraints
from .distribution import Distribution
from .multivariate_normal import _batch_mv
from .utils import _standard_normal, lazy_property

__all__ = ["LowRankMultivariateNormal"]


def _capacitance_tril(W, D):
    """Cholesky factor of ``I + W^T D^-1 W`` (``W``: n x m, ``D``: the diagonal)."""
    from .._creation import eye
    from ..linalg import cholesky

    m = W.shape[-1]
    Wt_Dinv = W.mT / D.unsqueeze(-2)
    K = Wt_Dinv.matmul(W) + eye(m, dtype=W.dtype, device=W.device)
    return cholesky(K)


def _woodbury_logdet(W, D, capacitance_tril):
    """``log det(W W^T + diag(D))`` by the matrix determinant lemma."""
    return (2 * capacitance_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
            + D.log().sum(-1))


def _woodbury_mahalanobis(W, D, x, capacitance_tril):
    """``x^T (W W^T + diag(D))^-1 x`` by the Woodbury identity."""
    from ..linalg import solve_triangular

    Wt_Dinv = W.mT / D.unsqueeze(-2)
    v = _batch_mv(Wt_Dinv, x)
    u = solve_triangular(capacitance_tril.expand(tuple(v.shape) + (v.shape[-1],)),
                         v.unsqueeze(-1), upper=False).squeeze(-1)
    return (x.pow(2) / D).sum(-1) - u.pow(2).sum(-1)


class LowRankMultivariateNormal(Distribution):
    """The multivariate normal with covariance ``cov_factor @ cov_factor.T +
    diag(cov_diag)`` (``cov_factor``: ``event x rank``), using the Woodbury identity and the
    determinant lemma so that cost is linear in the event size."""

    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None) -> None:
        from ..ops.shape import broadcast_tensors

        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = tuple(loc.shape[-1:])
        if cov_factor.ndim < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if tuple(cov_factor.shape[-2:-1]) != event_shape:
            raise ValueError(f"cov_factor must be a batch of matrices with shape "
                             f"{event_shape[0]} x m")
        if tuple(cov_diag.shape[-1:]) != event_shape:
            raise ValueError(f"cov_diag must be a batch of vectors with shape {event_shape}")
        loc_, self.cov_factor, diag_ = broadcast_tensors(loc.unsqueeze(-1), cov_factor,
                                                         cov_diag.unsqueeze(-1))
        self.loc = loc_[..., 0]
        self.cov_diag = diag_[..., 0]
        batch_shape = tuple(self.loc.shape[:-1])
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        self._capacitance_tril = _capacitance_tril(cov_factor, cov_diag)
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LowRankMultivariateNormal, _instance)
        batch_shape = tuple(Size(batch_shape))
        loc_shape = batch_shape + tuple(self.event_shape)
        new.loc = self.loc.expand(loc_shape)
        new.cov_diag = self.cov_diag.expand(loc_shape)
        new.cov_factor = self.cov_factor.expand(loc_shape + tuple(self.cov_factor.shape[-1:]))
        new._unbroadcasted_cov_factor = self._unbroadcasted_cov_factor
        new._unbroadcasted_cov_diag = self._unbroadcasted_cov_diag
        new._capacitance_tril = self._capacitance_tril
        super(LowRankMultivariateNormal, new).__init__(batch_shape, self.event_shape,
                                                       validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _full(self):
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        v = self._unbroadcasted_cov_factor.pow(2).sum(-1) + self._unbroadcasted_cov_diag
        return v.expand(tuple(self._batch_shape) + tuple(self._event_shape))

    @lazy_property
    def covariance_matrix(self):
        W = self._unbroadcasted_cov_factor
        cov = W.matmul(W.mT) + self._unbroadcasted_cov_diag.diag_embed()
        return cov.expand(self._full())

    @lazy_property
    def scale_tril(self):
        from ..linalg import cholesky

        return cholesky(self.covariance_matrix)

    @lazy_property
    def precision_matrix(self):
        from ..linalg import solve_triangular

        W = self._unbroadcasted_cov_factor
        D = self._unbroadcasted_cov_diag
        A = solve_triangular(self._capacitance_tril, W.mT / D.unsqueeze(-2), upper=False)
        return (D.reciprocal().diag_embed() - A.mT.matmul(A)).expand(self._full())

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        rank = self.cov_factor.shape[-1]
        eps_w = _standard_normal(shape[:-1] + (rank,), dtype=self.loc.dtype,
                                 device=self.loc.device)
        eps_d = _standard_normal(shape, dtype=self.loc.dtype, device=self.loc.device)
        return (self.loc + _batch_mv(self._unbroadcasted_cov_factor, eps_w)
                + self._unbroadcasted_cov_diag.sqrt() * eps_d)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        M = _woodbury_mahalanobis(self._unbroadcasted_cov_factor,
                                  self._unbroadcasted_cov_diag, diff, self._capacitance_tril)
        log_det = _woodbury_logdet(self._unbroadcasted_cov_factor,
                                   self._unbroadcasted_cov_diag, self._capacitance_tril)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + log_det + M)

    def entropy(self):
        log_det = _woodbury_logdet(self._unbroadcasted_cov_factor,
                                   self._unbroadcasted_cov_diag, self._capacitance_tril)
        H = 0.5 * (self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + log_det)
        if len(self._batch_shape) == 0:
            return H
        return H.expand(tuple(self._batch_shape))
