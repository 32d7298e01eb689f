"""Embedding lookup as one op: rows of a weight matrix gathered by integer indices.

The weight gradient adds each output gradient row back onto its row (repeated indices
accumulate; ``padding_idx`` rows get none; ``scale_grad_by_freq`` divides by the count of
each index in the batch). Both directions are ops, so double backward works.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from .op import Op, xp_of

__all__ = ["embedding"]


class Embedding(Op):
    _name = "embedding"

    def forward(self, w):
        xp = xp_of(w)
        self.num = w.shape[0]
        return xp.take(w, self.idx, axis=0)

    def backward(self, g):
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


def embedding(input: Tensor, weight: Tensor, padding_idx=None,
              scale_grad_by_freq: bool = False) -> Tensor:
    """Rows of ``weight`` at the integer indices ``input`` (any shape)."""
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
    return Embedding.apply(weight, idx=idx, padding_idx=padding_idx,
                           scale_grad_by_freq=bool(scale_grad_by_freq))
