"""Embedding lookup as one op: rows of a weight matrix gathered by integer indices.

The weight gradient adds each output gradient row back onto its row (repeated indices
accumulate; ``padding_idx`` rows get none; ``scale_grad_by_freq`` divides by the count of
each index in the batch). Both directions are ops, so double backward works. With
``sparse=True`` a leaf weight gets a sparse COO gradient instead, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.graph import AccumulateGrad
from .op import Op, xp_of

__all__ = ["embedding"]


class Embedding(Op):
    _name = "embedding"
    sparse = False  # sparse=True: a sparse COO gradient for a leaf weight
    keep = None  # sparse: which lookups contribute (EmbeddingBag's filler slots do not)

    def forward(self, w):
        xp = xp_of(w)
        self.num = w.shape[0]
        return xp.take(w, self.idx, axis=0)

    def backward(self, g):
        if self.sparse:
            if self.scale_grad_by_freq:
                raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with "
                                   "sparse gradients")
            if type(self.next_functions[0][0]) is AccumulateGrad:
                return _sparse_weight_grad(g, self.idx, self.num, self.padding_idx,
                                           self.keep)
        return EmbeddingBackward.apply(g, idx=self.idx, num=self.num,
                                       padding_idx=self.padding_idx,
                                       scale_grad_by_freq=self.scale_grad_by_freq)


class EmbeddingBackward(Op):
    _name = "embedding_backward"

    def forward(self, g):
        xp = xp_of(g)
        d = g.shape[-1]
        idx = self.idx.reshape(-1)
        rows = g.reshape(-1, d)
        if self.scale_grad_by_freq:
            counts = xp.bincount(idx, minlength=self.num).astype(g.dtype)
            rows = rows / counts[idx][:, None]
        if self.padding_idx is not None:
            keep = idx != self.padding_idx
            rows = rows * keep[:, None].astype(g.dtype)
        out = xp.zeros((self.num, d), dtype=g.dtype)
        if idx.size:
            xp.add.at(out, idx, rows)
        return out

    def backward(self, gg):
        xp = xp_of(gg._data)
        idx = self.idx
        out = Embedding.apply(gg, idx=idx, padding_idx=self.padding_idx,
                              scale_grad_by_freq=self.scale_grad_by_freq)
        scale = None
        if self.scale_grad_by_freq:
            counts = xp.bincount(idx.reshape(-1), minlength=self.num).astype(gg._data.dtype)
            scale = 1 / counts[idx]
        if self.padding_idx is not None:
            keep = (idx != self.padding_idx).astype(gg._data.dtype)
            scale = keep if scale is None else scale * keep
        if scale is not None:
            out = out * Tensor._make(scale[..., None])
        return out


def _sparse_weight_grad(g: Tensor, idx, num: int, padding_idx, keep):
    """The weight gradient as PyTorch's sparse embedding backward makes it: an uncoalesced
    COO tensor of size (num, D) whose indices are the looked-up ids in input order (those
    equal to ``padding_idx``, or not in ``keep``, left out) and whose values are the matching
    rows of ``g``. The values are ember ops on ``g``, so double backward works."""
    from ..sparse import SparseTensor
    from .index import index_select

    xp = xp_of(idx)
    d = g.shape[-1]
    flat = idx.reshape(-1)
    rows = g.reshape(-1, d)
    if padding_idx is not None:
        pad = flat != padding_idx
        keep = pad if keep is None else keep.reshape(-1) & pad
    if keep is None:
        ids = flat.copy()
        values = rows.clone()
    else:
        pos = xp.nonzero(keep.reshape(-1))[0]
        ids = flat[pos]
        values = index_select(rows, 0, Tensor._make(pos))
    return SparseTensor(Tensor._make(ids.reshape(1, -1)), values, (num, d), ids.shape[0] <= 1)


def embedding(input: Tensor, weight: Tensor, padding_idx=None,
              scale_grad_by_freq: bool = False, sparse: bool = False, keep=None) -> Tensor:
    """Rows of ``weight`` at the integer indices ``input`` (any shape). With ``sparse`` the
    gradient of a leaf ``weight`` is a sparse COO tensor (see ``_sparse_weight_grad``);
    ``keep`` (a boolean array shaped as ``input``) then names the lookups that count."""
    idx = input._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           "following scalar types: Long, Int; but got "
                           f"{input.dtype} instead (while checking arguments for embedding)")
    n = weight.shape[0]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        raise IndexError("index out of range in self")
    if idx.dtype != np.int64:
        idx = idx.astype(np.int64)
    if sparse:
        return Embedding.apply(weight, idx=idx, padding_idx=padding_idx,
                               scale_grad_by_freq=bool(scale_grad_by_freq), sparse=True,
                               keep=keep)
    return Embedding.apply(weight, idx=idx, padding_idx=padding_idx,
                           scale_grad_by_freq=bool(scale_grad_by_freq))
