"""Lookup functions of ``ember.nn.functional``: embedding, embedding_bag, one_hot."""

from __future__ import annotations

import numpy as np

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...ops import embedding as _E
from ...ops.op import xp_of

__all__ = ["embedding", "embedding_bag", "one_hot"]


def _renorm_(weight: Tensor, input: Tensor, max_norm: float, norm_type: float) -> None:
    """Rescales, in place, the rows of ``weight`` used by ``input`` whose ``norm_type``-norm
    exceeds ``max_norm``."""
    xp = xp_of(weight._data)
    with no_grad():
        rows = xp.unique(input._data.reshape(-1))
        w = weight._data
        sel = w[rows]
        norms = xp.linalg.norm(sel.astype(np.float64), ord=norm_type, axis=1)
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        w[rows] = (sel * scale[:, None]).astype(w.dtype)
        weight._bump()


def _padding_idx(padding_idx, num: int):
    if padding_idx is None:
        return None
    if padding_idx > 0:
        if padding_idx >= num:
            raise AssertionError("Padding_idx must be within num_embeddings")
    elif padding_idx < 0:
        if padding_idx < -num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx += num
    return padding_idx


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` at the integer indices ``input``; the ``padding_idx`` row gets no
    gradient; with ``max_norm`` the used rows are renormalised in place first. With
    ``sparse=True`` the gradient of a leaf ``weight`` is a sparse COO tensor (uncoalesced:
    one entry per lookup, padding lookups left out), as in PyTorch."""
    padding_idx = _padding_idx(padding_idx, weight.shape[0])
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    return _E.embedding(input, weight, padding_idx, scale_grad_by_freq, bool(sparse))


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sums, averages or takes the max of bags of embeddings: rows of 2-D ``input``, or
    slices of 1-D ``input`` starting at ``offsets``. Empty bags give zeros. With
    ``sparse=True`` (modes sum and mean) the gradient of a leaf ``weight`` is a sparse COO
    tensor with one entry per looked-up index (padding left out), as in PyTorch."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, but got {mode}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. "
                                  "per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    padding_idx = _padding_idx(padding_idx, weight.shape[0])
    xp = xp_of(weight._data)
    idx = input._data
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences.")
        b, lmax = idx.shape
        mat = idx.astype(np.int64)
        mask = xp.ones(idx.shape, dtype=bool)
        pos = xp.arange(b * lmax).reshape(b, lmax)
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        off = offsets._data.astype(np.int64)
        if off.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        n = idx.shape[0]
        ends = off[1:] if include_last_offset else xp.concatenate([off[1:], xp.asarray([n])])
        starts = off[:-1] if include_last_offset else off
        lengths = ends - starts
        b = starts.shape[0]
        lmax = int(lengths.max()) if b else 0
        ar = xp.arange(max(lmax, 1))
        pos = starts[:, None] + ar[None, :]
        mask = ar[None, :] < lengths[:, None]
        pos = xp.where(mask, pos, 0)
        mat = idx.astype(np.int64)[pos] if n else xp.zeros(pos.shape, dtype=np.int64)
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    if padding_idx is not None:
        mask = mask & (mat != padding_idx)
    mat = xp.where(mask, mat, 0)
    emb_in = Tensor._make(mat)
    if max_norm is not None:
        _renorm_(weight, Tensor._make(mat[mask]), max_norm, norm_type)
    emb = _E.embedding(emb_in, weight, None, scale_grad_by_freq, bool(sparse),
                       mask if sparse else None)  # (B, Lmax, D)
    m = Tensor._make(mask[..., None])
    if mode == "max":
        out = emb.masked_fill(~m, float("-inf")).amax(1)
        empty = Tensor._make(~mask.any(axis=1)[:, None])
        return out.masked_fill(empty, 0.0)
    wts = mask.astype(weight._data.dtype)
    w = Tensor._make(wts[..., None])
    if per_sample_weights is not None:
        psw = per_sample_weights.reshape(-1)[Tensor._make(pos.reshape(-1))].reshape(
            tuple(pos.shape))
        w = w * psw.unsqueeze(-1)
    out = (emb * w).sum(1)
    if mode == "mean":
        counts = xp.maximum(wts.sum(axis=1), 1)[:, None]
        out = out / Tensor._make(counts.astype(weight._data.dtype))
    return out


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding: a new last dim of length ``num_classes`` (the maximum + 1
    when -1)."""
    x = tensor._data
    if x.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    xp = xp_of(x)
    if x.size and int(x.min()) < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        if x.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(x.max()) + 1
    elif x.size and int(x.max()) >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = (x[..., None] == xp.arange(num_classes)).astype(np.int64)
    return Tensor._make(out)
