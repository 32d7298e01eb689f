"""``ember.linalg``: linear algebra as ``torch.linalg``.

Every routine works on a matrix or a batch of matrices (leading dims), in float32, float64,
complex64 and complex128, on numpy (CPU) and CuPy (GPU) arrays. Results are PyTorch's named
tuples (``ember.linalg.slogdet(A).logabsdet``...), failures on singular or non-positive-definite
input raise ``ember.linalg.LinAlgError`` (a ``RuntimeError``) with PyTorch's message, and
gradients (of every order) are PyTorch's formulas:

- ``_solve``: inv, det, slogdet, solve, solve_triangular, LU, matrix_power, matrix_exp
- ``_decomp``: cholesky, qr, svd, eig, eigh, pinv, lstsq, matrix_rank
- ``_norms``: vector_norm, matrix_norm, norm, cond, cross, vecdot, multi_dot
- ``_torch_api``: the ``torch.*`` / ``Tensor.*`` spellings outside ``torch.linalg`` (det,
  logdet, inverse, svd with V, qr with ``some``, cholesky_solve, triangular_solve...), listed
  in ``TORCH_FUNCTIONS`` and ``TENSOR_METHODS`` for wiring

Where ember departs from PyTorch: on the GPU, singular input gives nan/inf rather than
raising (checking would synchronise); ``eig`` on CuPy versions without ``cupy.linalg.eig`` runs
on the host.
"""

from __future__ import annotations

from . import _torch_api  # noqa: F401  (torch.* spellings, for wiring)
from ._common import (
    LinAlgError,
    linalg_cholesky_ex,
    linalg_eig,
    linalg_eigh,
    linalg_inv_ex,
    linalg_lstsq,
    linalg_lu,
    linalg_lu_factor,
    linalg_lu_factor_ex,
    linalg_qr,
    linalg_slogdet,
    linalg_solve_ex,
    linalg_svd,
)
from ._decomp import (
    cholesky,
    cholesky_ex,
    eig,
    eigh,
    eigvals,
    eigvalsh,
    lstsq,
    matrix_rank,
    pinv,
    qr,
    svd,
    svdvals,
)
from ._norms import (
    cond,
    cross,
    diagonal,
    matmul,
    matrix_norm,
    multi_dot,
    norm,
    vander,
    vecdot,
    vector_norm,
)
from ._solve import (
    det,
    inv,
    inv_ex,
    lu,
    lu_factor,
    lu_factor_ex,
    lu_solve,
    matrix_exp,
    matrix_power,
    slogdet,
    solve,
    solve_ex,
    solve_triangular,
    tensorinv,
    tensorsolve,
)

__all__ = [
    "LinAlgError", "inv", "inv_ex", "det", "slogdet", "solve", "solve_ex",
    "solve_triangular", "lu_factor", "lu_factor_ex", "lu", "lu_solve", "matrix_power",
    "matrix_exp", "tensorinv", "tensorsolve", "cholesky", "cholesky_ex", "qr", "svd",
    "svdvals", "eig", "eigvals", "eigh", "eigvalsh", "pinv", "lstsq", "matrix_rank",
    "vector_norm", "matrix_norm", "norm", "cond", "cross", "vecdot", "multi_dot", "diagonal",
    "vander", "matmul",
]

_RETURN_TYPES = (linalg_cholesky_ex, linalg_eig, linalg_eigh, linalg_inv_ex, linalg_lstsq,
                 linalg_lu, linalg_lu_factor, linalg_lu_factor_ex, linalg_qr, linalg_slogdet,
                 linalg_solve_ex, linalg_svd)
