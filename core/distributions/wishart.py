"""``Wishart(df, covariance_matrix | precision_matrix | scale_tril)``."""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .._tensor import Size, Tensor
from . import constraints
from .exp_family import ExponentialFamily
from .multivariate_normal import _broadcast_shapes, _precision_to_scale_tril
from .utils import lazy_property

__all__ = ["Wishart"]

_LOG_2 = math.log(2)


def _mvdigamma(x: Tensor, p: int) -> Tensor:
    """The multivariate digamma ``sum_i digamma(x - i / 2)``, ``i = 0 .. p-1``."""
    from .._creation import arange

    return (x.unsqueeze(-1) - arange(p, dtype=x.dtype, device=x.device) / 2).digamma().sum(-1)


class Wishart(ExponentialFamily):
    """The Wishart distribution over ``p x p`` positive-definite matrices: the law of
    ``sum_k x_k x_k^T`` for ``df`` independent ``x_k ~ N(0, Sigma)`` (``df`` may be any real
    above ``p - 1``). ``Sigma`` is given by exactly one of ``covariance_matrix``,
    ``precision_matrix`` (its inverse) or ``scale_tril`` (its Cholesky factor). Samples are
    drawn by the Bartlett decomposition, reparameterized (``rsample``)."""

    arg_constraints = {"covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky,
                       "df": constraints.greater_than(0)}
    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None) -> None:
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        param = given[0]
        if param.ndim < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if isinstance(df, numbers.Number):
            from .._creation import tensor

            batch_shape = tuple(param.shape[:-2])
            self.df = tensor(df, dtype=param.dtype, device=param.device)
        else:
            batch_shape = _broadcast_shapes(param.shape[:-2], df.shape)
            self.df = df.expand(batch_shape)
        event_shape = tuple(param.shape[-2:])
        p = event_shape[-1]
        if bool((self.df <= p - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        full = batch_shape + (-1, -1)
        if scale_tril is not None:
            self.scale_tril = param.expand(full)
        elif covariance_matrix is not None:
            self.covariance_matrix = param.expand(full)
        else:
            self.precision_matrix = param.expand(full)
        if bool((self.df < p).any()):
            warnings.warn("Low df values detected. Singular samples are highly likely to "
                          "occur for ndim - 1 < df < ndim.", stacklevel=2)
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        self._batch_dims = [-(i + 1) for i in range(len(self._batch_shape))]
        from ..linalg import cholesky

        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        self._make_chi2()

    def _make_chi2(self):
        """The chi-squared laws of the Bartlett factor's squared diagonal: ``df - i``."""
        from .._creation import arange
        from .chi2 import Chi2

        p = self._event_shape[-1]
        offsets = arange(p, dtype=self._unbroadcasted_scale_tril.dtype,
                         device=self._unbroadcasted_scale_tril.device)
        dfs = self.df.unsqueeze(-1) - offsets
        self._dist_chi2 = Chi2(df=dfs.expand(tuple(self._batch_shape) + (p,)))

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Wishart, _instance)
        batch_shape = Size(batch_shape)
        full = tuple(batch_shape) + tuple(self._event_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(full)
        new.df = self.df.expand(tuple(batch_shape))
        new._batch_dims = [-(i + 1) for i in range(len(batch_shape))]
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(full))
        super(Wishart, new).__init__(batch_shape, self._event_shape, validate_args=False)
        new._make_chi2()
        new._validate_args = self._validate_args
        return new

    def _full(self):
        return tuple(self._batch_shape) + tuple(self._event_shape)

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self._full())

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return (L @ L.mT).expand(self._full())

    @lazy_property
    def precision_matrix(self):
        from .._creation import eye
        from ..linalg._torch_api import cholesky_solve

        L = self._unbroadcasted_scale_tril
        Id = eye(self._event_shape[-1], dtype=L.dtype, device=L.device)
        return cholesky_solve(Id, L).expand(self._full())

    def _df_matrix(self):
        return self.df.reshape(tuple(self.df.shape) + (1, 1))

    @property
    def mean(self):
        return self._df_matrix() * self.covariance_matrix

    @property
    def mode(self):
        """``(df - p - 1) Sigma``; nan where ``df <= p + 1`` (no mode)."""
        p = self._event_shape[-1]
        factor = self.df - p - 1
        factor = factor.masked_fill(factor <= 0, math.nan)
        return factor.reshape(tuple(factor.shape) + (1, 1)) * self.covariance_matrix

    @property
    def variance(self):
        V = self.covariance_matrix
        d = V.diagonal(dim1=-2, dim2=-1)
        return self._df_matrix() * (V.pow(2) + d.unsqueeze(-1) * d.unsqueeze(-2))

    def _bartlett_sampling(self, sample_shape=()):
        """``L A A^T L^T`` with ``A`` lower triangular: ``A_ii = sqrt(chi2(df - i))``,
        ``A_ij ~ N(0, 1)`` below the diagonal."""
        from .._creation import randn
        from .utils import vec_to_tril_matrix

        p = self._event_shape[-1]
        shape = self._extended_shape(sample_shape)
        L = self._unbroadcasted_scale_tril
        tiny = float(np.finfo(L._data.dtype).tiny)
        diag = self._dist_chi2.rsample(sample_shape).sqrt().clamp(min=tiny)
        A = diag.diag_embed(dim1=-2, dim2=-1)
        if p > 1:
            below = randn(tuple(shape[:-2]) + (p * (p - 1) // 2,), dtype=L.dtype,
                          device=L.device)
            A = A + vec_to_tril_matrix(below, diag=-1)
        chol = L @ A
        return chol @ chol.mT

    def rsample(self, sample_shape=(), max_try_correction=None):
        """Reparameterized samples. The Bartlett construction can round to a singular
        matrix (mostly for ``df`` close to ``p - 1``): such samples are drawn again, at most
        ``max_try_correction`` times (10 by default); a warning says if some stay
        singular."""
        if max_try_correction is None:
            max_try_correction = 10
        sample_shape = Size(sample_shape)
        sample = self._bartlett_sampling(sample_shape)
        bad = ~self.support.check(sample)
        if self._batch_shape:
            bad = bad.amax(self._batch_dims)
        if bool(bad.any()):
            for _ in range(max_try_correction):
                redo = self._bartlett_sampling(sample_shape)
                still = ~self.support.check(redo)
                if self._batch_shape:
                    still = still.amax(self._batch_dims)
                take = bad & ~still
                mask = take.reshape(tuple(take.shape) + (1,) * (sample.ndim - take.ndim))
                sample = redo.where(mask, sample)
                bad = bad & ~take
                if not bool(bad.any()):
                    break
            else:
                warnings.warn(f"Singular samples occurred after {max_try_correction} "
                              "correction tries.", stacklevel=2)
        return sample

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        from ..linalg import slogdet
        from ..linalg._torch_api import cholesky_solve

        nu, p = self.df, self._event_shape[-1]
        L = self._unbroadcasted_scale_tril
        log_det_L = L.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        trace = cholesky_solve(value, L).diagonal(dim1=-2, dim2=-1).sum(-1)  # tr(Sigma^-1 X)
        return (-nu * (p * _LOG_2 / 2 + log_det_L) - (nu / 2).mvlgamma(p)
                + (nu - p - 1) / 2 * slogdet(value).logabsdet - trace / 2)

    def entropy(self):
        nu, p = self.df, self._event_shape[-1]
        log_det_L = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return ((p + 1) * (p * _LOG_2 / 2 + log_det_L) + (nu / 2).mvlgamma(p)
                - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p) + nu * p / 2)

    @property
    def _natural_params(self):
        p = self._event_shape[-1]
        return -0.5 * self.precision_matrix, 0.5 * (self.df - p - 1)

    def _log_normalizer(self, x, y):
        from ..linalg import slogdet

        p = self._event_shape[-1]
        a = y + (p + 1) / 2
        return a * (-slogdet(-2 * x).logabsdet + _LOG_2 * p) + a.mvlgamma(p)
