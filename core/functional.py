"""``ember.functional``: the functions of ``torch.functional``, re-exported from ``ember``
(``atleast_1d``, ``einsum``, ``meshgrid``, ``stft``, ``unique``, ...), plus ``lu`` and the
randomized low-rank decompositions ``pca_lowrank`` and ``svd_lowrank``.
"""

from __future__ import annotations

from . import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    block_diag,
    broadcast_shapes,
    broadcast_tensors,
    cartesian_prod,
    cdist,
    chain_matmul,
    einsum,
    istft,
    meshgrid,
    norm,
    split,
    stft,
    tensordot,
    unique,
    unique_consecutive,
    unravel_index,
)
from .linalg._lowrank import pca_lowrank, svd_lowrank

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors",
           "cartesian_prod", "block_diag", "cdist", "chain_matmul", "einsum", "istft", "lu",
           "norm", "meshgrid", "pca_lowrank", "split", "stft", "svd_lowrank", "tensordot",
           "unique", "unique_consecutive", "unravel_index"]


def lu(A, pivot: bool = True, get_infos: bool = False, out=None):
    """LU factorization of ``A`` (deprecated in PyTorch for ``linalg.lu_factor``):
    ``(A_LU, pivots)``, or ``(A_LU, pivots, infos)`` with ``get_infos=True``."""
    from .linalg import lu_factor, lu_factor_ex

    if get_infos:
        res = tuple(lu_factor_ex(A, pivot=pivot))
    else:  # as PyTorch: raises on a singular matrix unless infos are asked for
        res = tuple(lu_factor(A, pivot=pivot))
    if out is not None:
        for o, r in zip(out, res):
            o.resize_(r.shape).copy_(r)
        return out
    return res
