"""The linear map shared by the position-sensitive RoI ops (``ps_roi_align``,
``ps_roi_pool``).

Both average input values over each (RoI, bin) pair, so each is ``out = A @ features`` for a
sparse matrix ``A`` whose rows are the (roi, i, j) bins and whose columns are the
(image, y, x) positions. Position-sensitive pooling reads, for bin (i, j) of output channel
``c``, input channel ``(c * PH + i) * PW + j`` only. Viewing the input as
``(PH * PW, N, H, W, C_out)`` (its channels split into the output channel and the bin they
serve), each bin's row of ``A`` is moved to the column block of its own bin: one sparse
product then computes exactly the values needed, ``C_out`` per bin, instead of all ``C``.
The backward is the product with the transpose; each op is the other's backward, so
gradients of any order work.
"""

from __future__ import annotations

import numpy as np
from ember import Tensor
from ember.ops.op import Op

from ._utils import sparse_module, xp_of

__all__ = ["position_sensitive_matrix", "ps_roi_apply"]


def position_sensitive_matrix(mat, out_hw, in_shape):
    """``mat`` (K*PH*PW, N*H*W), rows in (roi, i, j) order, as the (K*PH*PW, PH*PW*N*H*W)
    matrix whose row for bin (i, j) reads column block ``i * PW + j``."""
    sp = sparse_module(mat.data)
    n_bins = out_hw[0] * out_hw[1]
    plane = in_shape[0] * in_shape[2] * in_shape[3]
    coo = mat.tocoo()
    row = coo.row.astype(np.int64)
    col = (row % n_bins) * plane + coo.col.astype(np.int64)
    return sp.coo_matrix((coo.data, (row, col)), shape=(mat.shape[0], n_bins * plane)).tocsr()


def _work(dt):
    """The dtype of the sparse products (no float16 sparse matrices)."""
    return dt if dt.itemsize >= 4 else np.dtype("f4")


class PSRoIGather(Op):
    """``out = A @ input`` in the position-sensitive layout (see the module docstring).
    Attributes: ``mat`` (K*PP, PP*N*H*W), ``mat_t`` (its transpose), ``in_shape``,
    ``out_hw``."""

    _name = "ps_roi_gather"

    def forward(self, x):
        xp = xp_of(x)
        n, c, h, w = x.shape
        ph, pw = self.out_hw
        pp = ph * pw
        c_out = c // pp
        work = _work(x.dtype)
        x5 = x.reshape(n, c_out, pp, h, w).transpose(2, 0, 3, 4, 1)  # (PP, N, H, W, C_out)
        x2 = xp.ascontiguousarray(x5).reshape(pp * n * h * w, c_out).astype(work, copy=False)
        mat = self.mat if self.mat.dtype == work else self.mat.astype(work)
        k = mat.shape[0] // pp
        y = xp.asarray(mat @ x2).reshape(k, ph, pw, c_out)
        return xp.ascontiguousarray(y.transpose(0, 3, 1, 2)).astype(x.dtype, copy=False)

    def backward(self, g):
        return PSRoIScatter.apply(g, mat=self.mat, mat_t=self.mat_t, in_shape=self.in_shape,
                                  out_hw=self.out_hw)


class PSRoIScatter(Op):
    """The transpose of :class:`PSRoIGather`: (K, C_out, PH, PW) -> (N, C, H, W)."""

    _name = "ps_roi_scatter"

    def forward(self, g):
        xp = xp_of(g)
        n, c, h, w = self.in_shape
        ph, pw = self.out_hw
        pp = ph * pw
        c_out = c // pp
        work = _work(g.dtype)
        g2 = xp.ascontiguousarray(g.transpose(0, 2, 3, 1)).reshape(g.shape[0] * pp, c_out)
        mat_t = self.mat_t if self.mat_t.dtype == work else self.mat_t.astype(work)
        gx = xp.asarray(mat_t @ g2.astype(work, copy=False)).reshape(pp, n, h, w, c_out)
        gx = gx.transpose(1, 4, 0, 2, 3).reshape(n, c, h, w)
        return xp.ascontiguousarray(gx).astype(g.dtype, copy=False)

    def backward(self, gg):
        return PSRoIGather.apply(gg, mat=self.mat, mat_t=self.mat_t, in_shape=self.in_shape,
                                 out_hw=self.out_hw)


def ps_roi_apply(input: Tensor, mat, out_hw) -> Tensor:
    """The position-sensitive pooling of ``input`` by the bin matrix ``mat``
    (K*PH*PW, N*H*W): a (K, C / (PH*PW), PH, PW) tensor, differentiable in ``input``."""
    in_shape = tuple(input.shape)
    ps = position_sensitive_matrix(mat, out_hw, in_shape)
    return PSRoIGather.apply(input, mat=ps, mat_t=ps.T.tocsr(), in_shape=in_shape,
                             out_hw=tuple(out_hw))
