"""The ``torch.*`` (and ``Tensor.*``) linear-algebra functions that live outside
``torch.linalg``: ``det``, ``logdet``, ``slogdet``, ``inverse``, ``pinverse``, ``svd`` (V, not
Vh), ``qr`` (``some=``), ``cholesky``, ``cholesky_solve``, ``cholesky_inverse``,
``triangular_solve``, ``lu_unpack``, ``lu_solve``, ``cross`` (first dim of size 3 by
default), ``chain_matmul``, ``matrix_exp``, ``matrix_power``, the deprecated ``lu``,
``frobenius_norm`` and ``nuclear_norm``, and the randomized ``svd_lowrank`` and
``pca_lowrank``.

``TORCH_FUNCTIONS`` and ``TENSOR_METHODS`` name them for wiring into ``ember`` and
``ember.Tensor``.
"""

from __future__ import annotations

import math
import warnings
from collections import namedtuple

import numpy as np

from .._tensor import Tensor
from . import _decomp, _lowrank, _norms, _solve
from ._common import check_matrix

__all__ = ["det", "logdet", "slogdet", "inverse", "pinverse", "svd", "qr", "cholesky",
           "cholesky_solve", "cholesky_inverse", "triangular_solve", "lu_unpack", "lu_solve",
           "cross", "chain_matmul", "matrix_exp", "matrix_power", "lu", "frobenius_norm",
           "nuclear_norm", "TORCH_FUNCTIONS",
           "TENSOR_METHODS"]


def _rt(name: str, fields: str):
    cls = namedtuple(name, fields)
    cls.__module__ = "ember.linalg"
    cls.__doc__ = f"``torch.return_types.{name}``: ({fields.replace(' ', ', ')})."
    return cls


_slogdet_t = _rt("slogdet", "sign logabsdet")
_svd_t = _rt("svd", "U S V")
_qr_t = _rt("qr", "Q R")
_triangular_solve_t = _rt("triangular_solve", "solution cloned_coefficient")
_lu_unpack_t = _rt("lu_unpack", "P L U")


def det(input: Tensor) -> Tensor:
    """``torch.det``: ``linalg.det``."""
    return _solve.det(input)


def slogdet(input: Tensor):
    """``torch.slogdet``: ``(sign, logabsdet)`` as ``torch.return_types.slogdet``."""
    r = _solve.slogdet(input)
    return _slogdet_t(r.sign, r.logabsdet)


def logdet(input: Tensor) -> Tensor:
    """``log(det(input))``: nan for a negative determinant, -inf for a singular matrix."""
    sign, logabs = _solve.slogdet(input)
    if input.is_complex():  # log|det| + i arg(det)
        from ..ops.spectral import Complex, angle

        return Complex.apply(logabs, angle(sign))
    return logabs.masked_fill(Tensor._make(sign._data < 0), math.nan)


def inverse(input: Tensor) -> Tensor:
    """``torch.inverse``: ``linalg.inv``."""
    return _solve.inv(input)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """``torch.pinverse``: ``linalg.pinv`` with relative tolerance ``rcond``."""
    return _decomp.pinv(input, rtol=rcond)


def matrix_exp(input: Tensor) -> Tensor:
    """``torch.matrix_exp``: ``linalg.matrix_exp``."""
    return _solve.matrix_exp(input)


def matrix_power(input: Tensor, n: int) -> Tensor:
    """``torch.matrix_power``: ``linalg.matrix_power``."""
    return _solve.matrix_power(input, n)


def svd(input: Tensor, some: bool = True, compute_uv: bool = True):
    """``torch.svd``: ``(U, S, V)`` with ``A = U diag(S) V^H`` (V, not Vh); reduced when
    ``some``; with ``compute_uv=False`` U and V are zero-filled."""
    if not compute_uv:
        S = _decomp.svdvals(input)
        m, n = input.shape[-2], input.shape[-1]
        b = tuple(input.shape[:-2])
        return _svd_t(input.new_zeros(b + (m, m)), S, input.new_zeros(b + (n, n)))
    U, S, Vh = _decomp.svd(input, full_matrices=not some)
    return _svd_t(U, S, Vh.mH)


def qr(input: Tensor, some: bool = True):
    """``torch.qr``: ``linalg.qr`` with ``mode='reduced' if some else 'complete'``."""
    Q, R = _decomp.qr(input, "reduced" if some else "complete")
    return _qr_t(Q, R)


def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """``torch.cholesky`` (deprecated in PyTorch): ``linalg.cholesky``."""
    return _decomp.cholesky(input, upper=upper)


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:
    """The solution of ``A X = B`` given the Cholesky factor of A (lower, or upper)."""
    check_matrix(L, "cholesky_solve", square=True)
    if upper:
        y = _solve.solve_triangular(L.mH, B, upper=False)
        return _solve.solve_triangular(L, y, upper=True)
    y = _solve.solve_triangular(L, B, upper=False)
    return _solve.solve_triangular(L.mH, y, upper=True)


def cholesky_inverse(L: Tensor, upper: bool = False) -> Tensor:
    """The inverse of ``A = L L^H`` (``U^H U`` when ``upper``) from its Cholesky factor."""
    check_matrix(L, "cholesky_inverse", square=True)
    from ._common import eye_like

    eye = eye_like(L.shape[-1], L).expand(L.shape)
    return cholesky_solve(eye, L, upper)


def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False):
    """``torch.triangular_solve`` (deprecated in PyTorch): ``(solution, A.clone())``."""
    M = A.mT if transpose else A
    X = _solve.solve_triangular(M, b, upper=upper != transpose, unitriangular=unitriangular)
    return _triangular_solve_t(X, A.clone())


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,
              unpack_pivots: bool = True):
    """``(P, L, U)`` from the packed ``lu_factor`` result."""
    m, n = LU_data.shape[-2], LU_data.shape[-1]
    P = _solve._perm_matrix(LU_pivots._data, m, LU_data) if unpack_pivots else \
        LU_data.new_zeros((0,))
    if unpack_data:
        L, U = _solve._unpack(LU_data, m, n)
    else:
        L = U = LU_data.new_zeros((0,))
    return _lu_unpack_t(P, L, U)


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """``torch.lu_solve`` (deprecated in PyTorch): ``linalg.lu_solve(LU, pivots, b)``."""
    return _solve.lu_solve(LU_data, LU_pivots, b)


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """``torch.cross``: without ``dim``, the first dim of size 3 (deprecated in PyTorch,
    with a warning); else ``linalg.cross``."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease "
                      "either pass the dim explicitly or simply use torch.linalg.cross.\nThe "
                      "default value of dim will change to agree with that of linalg.cross in "
                      "a future release.", UserWarning, stacklevel=2)
        shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
        dim = next((i for i, s in enumerate(shape) if s == 3), -1)
    return _norms.cross(input, other, dim=dim)


def chain_matmul(*matrices) -> Tensor:
    """``torch.chain_matmul`` (deprecated in PyTorch): ``linalg.multi_dot``."""
    if len(matrices) == 1:
        return matrices[0]
    return _norms.multi_dot(matrices)


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False):
    """``torch.lu`` (deprecated in PyTorch): ``(LU, pivots)``, with ``infos`` when
    ``get_infos``, as ``linalg.lu_factor_ex`` (singular input does not raise)."""
    LU, pivots, infos = _solve.lu_factor_ex(A, pivot=pivot)
    return (LU, pivots, infos) if get_infos else (LU, pivots)


def frobenius_norm(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """The Frobenius (2-) norm over ``dim`` (an int or up to two dims)."""
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) > 2:
        raise RuntimeError(f"frobenius_norm: expected at most 2 dims, got {len(dims)}")
    return _norms.vector_norm(input, 2, dim=dims, keepdim=keepdim)


def nuclear_norm(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The nuclear norm (sum of singular values) of a matrix, or over the two dims ``dim``
    (``nuclear_norm(input, keepdim)`` also accepts ``keepdim`` second)."""
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    if dim is None:
        if input.ndim != 2:
            raise RuntimeError(f"nuclear_norm: expected a 2-D tensor, but got "
                               f"{input.ndim}-D")
        dim = (-2, -1)
    return _norms.matrix_norm(input, "nuc", dim=tuple(dim), keepdim=keepdim)


TORCH_FUNCTIONS = {
    "det": det, "logdet": logdet, "slogdet": slogdet, "inverse": inverse,
    "pinverse": pinverse, "svd": svd, "qr": qr, "cholesky": cholesky,
    "cholesky_solve": cholesky_solve, "cholesky_inverse": cholesky_inverse,
    "triangular_solve": triangular_solve, "lu_unpack": lu_unpack, "lu_solve": lu_solve,
    "cross": cross, "chain_matmul": chain_matmul, "matrix_exp": matrix_exp,
    "matrix_power": matrix_power, "svd_lowrank": _lowrank.svd_lowrank,
    "pca_lowrank": _lowrank.pca_lowrank, "lu": lu, "frobenius_norm": frobenius_norm,
    "nuclear_norm": nuclear_norm,
}

TENSOR_METHODS = {
    "det": det, "logdet": logdet, "slogdet": slogdet, "inverse": inverse,
    "pinverse": pinverse, "svd": svd, "qr": qr, "cholesky": cholesky,
    "cholesky_solve": cholesky_solve, "cholesky_inverse": cholesky_inverse,
    "triangular_solve": triangular_solve, "lu_solve": lu_solve, "cross": cross,
    "matrix_exp": matrix_exp, "matrix_power": matrix_power, "lu": lu,
}
