"""Randomized low-rank decompositions, as ``torch.svd_lowrank`` and ``torch.pca_lowrank``:
the range of the matrix is captured by multiplying it with a Gaussian test matrix and
refined by ``niter`` subspace (power) iterations; the SVD of the small projected matrix then
gives the leading singular triplets (Halko, Martinsson and Tropp 2009, algorithms 4.4 and
5.1). Batched inputs and autograd work through the underlying ``matmul``/``qr``/``svd``.
"""

from __future__ import annotations

from .._tensor import Tensor

__all__ = ["svd_lowrank", "pca_lowrank"]


def _basis(A: Tensor, q: int, niter: int, M: Tensor | None) -> Tensor:
    """An orthonormal ``(*, m, q)`` basis approximating the range of ``A - M``."""
    from .. import randn
    from . import qr

    def times(X):  # (A - M) @ X
        return A @ X if M is None else A @ X - M @ X

    def times_h(X):  # (A - M)^H @ X
        return A.mH @ X if M is None else A.mH @ X - M.mH @ X

    dtype = A.dtype if A.is_floating_point() or A.is_complex() else None
    Q = qr(times(randn(A.shape[-1], q, dtype=dtype, device=A.device))).Q
    for _ in range(niter):
        Q = qr(times_h(Q)).Q
        Q = qr(times(Q)).Q
    return Q


def svd_lowrank(A: Tensor, q: int | None = 6, niter: int | None = 2, M: Tensor | None = None):
    """``(U, S, V)`` with ``A - M ≈ U diag(S) V^H`` (``M`` broadcasts to ``A``; none by
    default): the leading ``q`` singular triplets of a matrix or a batch of matrices, by
    randomized subspace iteration (``niter`` power iterations). ``U`` is ``(*, m, q)``,
    ``S`` ``(*, q)``, ``V`` ``(*, n, q)``. Choose ``q`` a little above the wanted rank."""
    from . import svd

    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.shape)
    wide = m < n  # work on the tall one of A and A^H: the basis has min(m, n) rows to span
    if wide:
        A = A.mH
        M = None if M is None else M.mH
    Q = _basis(A, q, niter, M)
    B = Q.mH @ A if M is None else Q.mH @ A - Q.mH @ M
    U, S, Vh = svd(B, full_matrices=False)
    U, V = Q @ U, Vh.mH
    return (V, S, U) if wide else (U, S, V)


def pca_lowrank(A: Tensor, q: int | None = None, center: bool = True, niter: int = 2):
    """``(U, S, V)``: principal component analysis of the rows of ``A`` (``(*, m, n)``),
    the ``svd_lowrank`` of ``A`` minus its column means (``center=True``). ``V``'s columns
    are the principal directions; ``S**2 / (m - 1)`` the variances along them. ``q``
    defaults to ``min(6, m, n)``."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return svd_lowrank(A, q, niter=niter)
    return svd_lowrank(A - A.mean(dim=-2, keepdim=True), q, niter=niter)
