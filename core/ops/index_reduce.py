"""``index_reduce`` (slices of ``source`` reduced into ``input`` at indices along a dim, a
special case of ``scatter_reduce``) and ``nonzero_static``."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _wrap_dim
from .index import ScatterReduce, _commit
from .inplace import _pt
from .op import xp_of

__all__ = ["index_reduce", "nonzero_static"]


def _check(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str) -> int:
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    if index._data.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"index_reduce_(): Expected dtype int32/int64 for index but got: "
                           f"{_pt(index._data.dtype)}")
    if index.ndim > 1:
        raise IndexError(f"index_reduce_(): Index is supposed to be a vector, but got dim: "
                         f"{index.ndim} with type: {_pt(index._data.dtype)} and size: "
                         f"{list(index.shape)}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"index_reduce_(): self ({_pt(input._data.dtype)}) and source "
                           f"({_pt(source._data.dtype)}) must have the same scalar type")
    d = _wrap_dim(dim, input.ndim)
    n_src = source.shape[d] if source.ndim else 1
    if index.numel() != n_src:
        raise RuntimeError(f"index_reduce_(): Number of indices ({index.numel()}) should be "
                           f"equal to source.size(dim): ({n_src}), for dim: {d}")
    rest = [s for k, s in enumerate(input.shape) if k != d]
    if input.ndim != source.ndim or rest != [s for k, s in enumerate(source.shape) if k != d]:
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(input.shape)} "
                           f"source.shape = {list(source.shape)}")
    idx = index._data
    n = input.shape[d] if input.ndim else 1
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        raise IndexError("index out of range in self")
    return d


def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """``input`` with ``source[..., i, ...]`` reduced into ``input[..., index[i], ...]``
    along ``dim`` with ``reduce`` ('prod', 'mean', 'amax', 'amin'), ``input``'s own values
    included unless ``include_self=False``."""
    d = _check(input, dim, index, source, reduce)
    if input.ndim == 0:
        r = index_reduce(input.reshape(1), 0, index, source.reshape(1), reduce,
                         include_self=include_self)
        return r.reshape(())
    nd = source.ndim
    idx = index._data.astype(np.int64).reshape((1,) * d + (-1,) + (1,) * (nd - d - 1))
    idx = xp_of(idx).broadcast_to(idx, tuple(source.shape))
    return ScatterReduce.apply(input, Tensor._make(idx), source, dim=d, reduce=reduce,
                               include_self=include_self)


def index_reduce_(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                  include_self: bool = True) -> Tensor:
    """In-place ``index_reduce``."""
    r = index_reduce(input, dim, index, source, reduce, include_self=include_self)
    return _commit(input, r, "index_reduce_", source)


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """``nonzero(input)`` with exactly ``size`` rows: truncated, or padded with
    ``fill_value``."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    nz = input.nonzero()._data
    xp = xp_of(nz)
    out = xp.full((int(size), input.ndim), fill_value, dtype=np.int64)
    k = min(int(size), nz.shape[0])
    out[:k] = nz[:k]
    return Tensor._make(out)
