"""Order statistics and searching: median/nanmedian, mode, kthvalue, quantile/nanquantile,
msort, unique/unique_consecutive, searchsorted/bucketize, histc/histogram, bincount.

Positions are found on arrays (argsort, binary search); values are then read with
``gather``, so the gradient flows to the selected elements exactly as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from .. import return_types as _rt
from .._tensor import Tensor, _wrap_dim
from ._prep import accepts_axis
from .op import Op, xp_of
from .reduce import sort, stable_argsort

_histogram_rt = _rt._rt("histogram", "hist bin_edges")
_histogramdd_rt = _rt._rt("histogramdd", "hist bin_edges")

__all__ = ["median", "nanmedian", "mode", "kthvalue", "quantile", "nanquantile", "msort",
           "unique", "unique_consecutive", "searchsorted", "bucketize", "histc",
           "histogram", "histogramdd", "bincount"]


def _sorted_order(x, d):
    """Stable ascending argsort along ``d`` (NaN last)."""
    return stable_argsort(x, d)


def _select(input: Tensor, d: int, pos, keepdim: bool):
    """(values, indices): the elements at sorted positions ``pos`` (keepdim-shaped array)."""
    from .index import gather

    xp = xp_of(input._data)
    order = _sorted_order(input._data, d)
    idx = xp.take_along_axis(order, pos.astype(np.int64), axis=d)
    it = Tensor._make(idx)
    vals = gather(input, d, it)
    if not keepdim:
        vals, it = vals.squeeze(d), Tensor._make(idx.squeeze(d))
    return vals, it


def _check_nonempty(input: Tensor, d: int, name: str) -> None:
    if input.ndim and input.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _rank_index(x, v, k: int):
    """Along the last axis of ``x``: the index of the element a stable ascending sort puts
    at position ``k``, given its value ``v`` (keepdims). O(n): the ties before it are
    counted instead of sorting."""
    xp = xp_of(x)
    eq = x == v
    first = xp.argmax(eq, axis=-1, keepdims=True)
    if bool((eq.sum(axis=-1) == 1).all()):  # no ties: the only match
        return first
    less = (x < v).sum(axis=-1, keepdims=True)
    if x.dtype.kind == "f":
        vnan = xp.isnan(v)
        if bool(vnan.any()):
            xnan = xp.isnan(x)
            eq = eq | (xnan & vnan)
            less = xp.where(vnan, x.shape[-1] - xnan.sum(axis=-1, keepdims=True), less)
    cs = xp.cumsum(eq, axis=-1, dtype=np.int64)
    return xp.argmax(eq & (cs == k - less + 1), axis=-1, keepdims=True)


def _kth_indices(x, ks):
    """Indices (keepdims, along the last axis) of the elements at stable-sorted positions
    ``ks`` (the same for every slice), found by one partition."""
    xp = xp_of(x)
    part = xp.partition(x, sorted(set(ks)), axis=-1)
    return {k: _rank_index(x, part[..., k:k + 1], k) for k in set(ks)}


class EvenSelect(Op):
    """A value picked from ``x`` by order statistics; the gradient is shared evenly by the
    elements equal to it (as PyTorch does for median() and friends without a dim)."""

    _name = "median"
    save_inputs = (0,)
    save_output = True

    def forward(self, x):
        return x.reshape(-1)[self.flat_index].copy()

    def backward(self, g):
        from .compare import isnan

        (x,) = self.saved_tensors
        y = self.saved_output()
        mask = (x == y) | (isnan(x) & isnan(y))
        return g * mask / mask.sum()


def _median_all(input: Tensor, ignore_nan: bool) -> Tensor:
    xp = xp_of(input._data)
    flat = input._data.reshape(-1)
    if flat.size == 0:
        return Tensor._make(xp.asarray(np.nan, dtype=flat.dtype))
    n = flat.size
    if flat.dtype.kind == "f":
        nn = int(xp.isnan(flat).sum())
    else:
        nn = 0
    if ignore_nan:
        c = n - nn
        k = (c - 1) // 2 if c else 0
    else:
        k = n - nn if nn else (n - 1) // 2
    idx = _kth_indices(flat, [k])[k]
    return EvenSelect.apply(input, flat_index=int(idx[0]))


def _median_dim(input: Tensor, dim: int, keepdim: bool, ignore_nan: bool, name: str):
    if input.ndim == 0:
        return input.clone(), Tensor._make(xp_of(input._data).zeros((), dtype=np.int64))
    d = _wrap_dim(dim, input.ndim)
    _check_nonempty(input, d, name)
    x = input._data
    xp = xp_of(x)
    n = x.shape[d]
    nan = xp.isnan(x) if x.dtype.kind == "f" else None
    if nan is None or not bool(nan.any()) or not ignore_nan:
        xm = xp.moveaxis(x, d, -1)
        k = (n - 1) // 2
        idx = _kth_indices(xm, [k])[k]
        if nan is not None:  # median: a slice with NaN gives its first NaN
            nm = xp.moveaxis(nan, d, -1)
            idx = xp.where(nm.any(axis=-1, keepdims=True),
                           xp.argmax(nm, axis=-1, keepdims=True), idx)
        return _gathered(input, d, xp.moveaxis(idx, -1, d), keepdim)
    nn = nan.sum(axis=d, keepdims=True)
    if ignore_nan:
        c = n - nn
        pos = xp.where(c > 0, (c - 1) // 2, 0)
    else:
        pos = xp.where(nn > 0, n - nn, (n - 1) // 2)
    pos = xp.broadcast_to(pos, tuple(1 if i == d else s for i, s in enumerate(x.shape)))
    return _select(input, d, pos, keepdim)


def _gathered(input: Tensor, d: int, idx, keepdim: bool):
    from .index import gather

    it = Tensor._make(idx.astype(np.int64, copy=False))
    vals = gather(input, d, it)
    if not keepdim:
        vals, it = vals.squeeze(d), Tensor._make(it._data.squeeze(d))
    return vals, it


@accepts_axis
def median(input: Tensor, dim=None, keepdim: bool = False):
    """The lower median: of all elements (a 0-dim tensor), or (values, indices) along
    ``dim``. NaN propagates."""
    if dim is None:
        return _median_all(input, False)
    return _rt.median(_median_dim(input, dim, keepdim, False, "median"))


def nanmedian(input: Tensor, dim=None, keepdim: bool = False):
    """``median`` ignoring NaN (NaN only where a slice is all NaN)."""
    if dim is None:
        return _median_all(input, True)
    return _rt.nanmedian(_median_dim(input, dim, keepdim, True, "nanmedian"))


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """(values, indices) of the ``k``-th smallest element along ``dim``."""
    if input.ndim == 0:
        if k != 1:
            raise RuntimeError("kthvalue(): selected number k out of range for dimension 0")
        return _rt.kthvalue((input.clone(),
                             Tensor._make(xp_of(input._data).zeros((), dtype=np.int64))))
    d = _wrap_dim(dim, input.ndim)
    n = input.shape[d]
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    x = input._data
    xp = xp_of(x)
    idx = _kth_indices(xp.moveaxis(x, d, -1), [k - 1])[k - 1]
    return _rt.kthvalue(_gathered(input, d, xp.moveaxis(idx, -1, d), keepdim))


def mode(input: Tensor, dim: int = -1, keepdim: bool = False):
    """(values, indices) of the most frequent value along ``dim`` (the smallest such value;
    the index of its last occurrence)."""
    from .index import gather

    if input.ndim == 0:
        return _rt.mode((input.clone(),
                         Tensor._make(xp_of(input._data).zeros((), dtype=np.int64))))
    d = _wrap_dim(dim, input.ndim)
    _check_nonempty(input, d, "mode")
    x = xp_of(input._data).moveaxis(input._data, d, -1)
    xp = xp_of(x)
    n = x.shape[-1]
    s = xp.sort(x, axis=-1)
    ar = xp.arange(n, dtype=np.int64)
    diff = s[..., 1:] != s[..., :-1]
    true = xp.ones(s.shape[:-1] + (1,), dtype=bool)
    is_start = xp.concatenate([true, diff], axis=-1)
    is_end = xp.concatenate([diff, true], axis=-1)
    starts = xp.maximum.accumulate(xp.where(is_start, ar, 0), axis=-1) if xp is np else \
        _running_max(xp, xp.where(is_start, ar, 0))
    counts = xp.where(is_end, ar - starts + 1, 0)
    best = xp.argmax(counts, axis=-1)[..., None]
    v = xp.take_along_axis(s, best, axis=-1)
    last = n - 1 - xp.argmax((x == v)[..., ::-1], axis=-1)[..., None]  # its last occurrence
    idx = xp.moveaxis(last, -1, d)
    it = Tensor._make(idx.astype(np.int64, copy=False))
    vals = gather(input, d, it)
    if not keepdim:
        vals, it = vals.squeeze(d), Tensor._make(it._data.squeeze(d))
    return _rt.mode((vals, it))


def _running_max(xp, a):  # pragma: no cover - cuda
    from .scan import _accumulate

    return _accumulate(xp, xp.maximum, a, a.ndim - 1)


def msort(input: Tensor) -> Tensor:
    """``sort(input, dim=0).values``."""
    return sort(input, 0).values


# -- quantiles -------------------------------------------------------------------------------
_INTERP = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input: Tensor, q, dim, keepdim: bool, interpolation: str, ignore_nan: bool,
              name: str) -> Tensor:
    from .index import gather

    if input._data.dtype.kind != "f" or input._data.dtype.itemsize < 4:
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in _INTERP:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest. Got {interpolation}")
    xp = xp_of(input._data)
    if isinstance(q, Tensor):
        if q.dtype != input.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        if q.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q.device != input.device:
            raise RuntimeError(f"{name}() q tensor must be on the same device as the input "
                               f"tensor (q on {q.device}, input on {input.device})")
        scalar_q = q.ndim == 0
        qa = q._data.reshape(-1)
    else:
        scalar_q = True
        qa = xp.asarray([float(q)], dtype=input._data.dtype)
    if qa.size and (float(qa.min()) < 0 or float(qa.max()) > 1):
        bad = float(qa.min()) if float(qa.min()) < 0 else float(qa.max())
        raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {bad}")
    if input.numel() == 0 and dim is None:
        raise IndexError(f"{name}() input tensor must be non-empty")
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _wrap_dim(dim, input.ndim)
    if x.ndim == 0:
        x = x.reshape(1)
    _check_nonempty(x, d, name)
    xm = x.movedim(d, -1)  # (..., n)
    n = xm.shape[-1]
    dt = xm._data.dtype
    nan = xp.isnan(xm._data)
    if not bool(nan.any()):  # the same ranks in every slice: one partition finds them
        rank = qa * dt.type(n - 1)
        if interpolation == "nearest":
            rank = xp.round(rank)
        lo = xp.floor(rank).astype(np.int64)
        hi = xp.ceil(rank).astype(np.int64)
        los, his = [int(v) for v in lo.tolist()], [int(v) for v in hi.tolist()]
        found = _kth_indices(xm._data, los + his)
        src = xm
        lo_i = xp.concatenate([found[k] for k in los], axis=-1)
        hi_i = xp.concatenate([found[k] for k in his], axis=-1)
        rank = xp.broadcast_to(rank, lo_i.shape)
        lo = xp.broadcast_to(lo, lo_i.shape)
        hi = xp.broadcast_to(hi, lo_i.shape)
    else:
        src = sort(xm, -1).values  # NaN last
        nan = xp.isnan(src._data)
        if ignore_nan:  # ranks in the input's dtype, as PyTorch computes them
            c = (n - nan.sum(axis=-1, keepdims=True)).astype(dt)
            rank = qa * xp.maximum(c - 1, 0)
        else:
            rank = qa * dt.type(n - 1)
            rank = xp.where(nan.any(axis=-1, keepdims=True), dt.type(n - 1), rank)
        if interpolation == "nearest":
            rank = xp.round(rank)
        lo_i = lo = xp.floor(rank).astype(np.int64)
        hi_i = hi = xp.ceil(rank).astype(np.int64)
    v_lo = gather(src, -1, Tensor._make(lo_i))
    if interpolation == "lower" or interpolation == "nearest":
        r = v_lo
    elif interpolation == "higher":
        r = gather(src, -1, Tensor._make(hi_i))
    else:
        v_hi = gather(src, -1, Tensor._make(hi_i))
        w = Tensor._make((rank - lo).astype(dt) if interpolation == "linear"
                         else xp.full(rank.shape, 0.5, dtype=dt))
        if interpolation == "midpoint":
            w = Tensor._make(xp.where(lo == hi, 0, w._data).astype(w._data.dtype))
        from .elementwise import where

        step = v_hi - v_lo  # PyTorch's lerp: exact at both ends
        r = where(w < 0.5, v_lo + w * step, v_hi - step * (1 - w))
    r = r.movedim(-1, 0)  # (Q, ...)
    if keepdim:
        if dim is None:
            r = r.reshape((r.shape[0],) + (1,) * input.ndim)
        else:
            r = r.unsqueeze(d + 1)
    return r.squeeze(0) if scalar_q else r


def quantile(input: Tensor, q, dim=None, keepdim: bool = False, *,
             interpolation: str = "linear", out=None) -> Tensor:
    """The ``q``-th quantiles along ``dim`` (of all elements when None); NaN propagates."""
    r = _quantile(input, q, dim, keepdim, interpolation, False, "quantile")
    return _out(r, out)


def nanquantile(input: Tensor, q, dim=None, keepdim: bool = False, *,
                interpolation: str = "linear", out=None) -> Tensor:
    """``quantile`` ignoring NaN."""
    r = _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")
    return _out(r, out)


def _out(r, out):
    if out is None:
        return r
    from .shape import resize_out

    return resize_out(out, r)


# -- unique ----------------------------------------------------------------------------------
class NoGrad(Op):
    """Passes precomputed values on; like PyTorch, backpropagating through it raises."""

    _name = "no_grad_op"

    def forward(self, x):
        return self.value

    def backward(self, g):
        raise NotImplementedError(f"the derivative for '{self.what}' is not implemented.")


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim=None):
    """The distinct elements (or slices along ``dim``), sorted; optionally the inverse
    mapping and the counts."""
    r = _unique(input, return_inverse, return_counts, dim)
    if input.requires_grad:
        vals = NoGrad.apply(input, value=(r[0] if isinstance(r, tuple) else r)._data,
                            what="_unique2")
        return (vals,) + r[1:] if isinstance(r, tuple) else vals
    return r


def _unique(input: Tensor, return_inverse: bool, return_counts: bool, dim):
    x = input._data
    xp = xp_of(x)
    inv = cnt = None
    if dim is None:
        # each NaN is its own value, as in PyTorch (numpy collapses them by default)
        r = xp.unique(x.reshape(-1), return_inverse=return_inverse,
                      return_counts=return_counts, equal_nan=False)
        if not isinstance(r, tuple):
            r = (r,)
        vals = r[0]
        if return_inverse:
            inv = r[1].reshape(x.shape)
        if return_counts:
            cnt = r[-1]
    else:
        d = _wrap_dim(dim, input.ndim)
        if x.shape[d] == 0:
            vals = x
            inv = xp.zeros((0,), dtype=np.int64)
            cnt = xp.zeros((0,), dtype=np.int64)
        else:
            a = x.astype(np.uint8) if x.dtype == np.bool_ else x
            vals, inv, cnt = xp.unique(a, return_inverse=True, return_counts=True, axis=d)
            vals = vals.astype(x.dtype, copy=False)
            inv = inv.reshape(-1)
    out = [Tensor._make(vals)]
    if return_inverse:
        out.append(Tensor._make(inv.astype(np.int64, copy=False)))
    if return_counts:
        out.append(Tensor._make(cnt.astype(np.int64, copy=False)))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input: Tensor, return_inverse: bool = False,
                       return_counts: bool = False, dim=None):
    """Collapses runs of equal consecutive elements (or slices along ``dim``)."""
    x = input._data
    xp = xp_of(x)
    if dim is None:
        flat = x.reshape(-1)
        rows = flat
        n = flat.size
        change = flat[1:] != flat[:-1]
    else:
        d = _wrap_dim(dim, input.ndim)
        moved = xp.moveaxis(x, d, 0)
        n = moved.shape[0]
        rows = moved.reshape(n, -1)
        change = (rows[1:] != rows[:-1]).any(axis=1) if n else xp.zeros((0,), dtype=bool)
    keep = xp.concatenate([xp.ones((min(n, 1),), dtype=bool), change])
    if dim is None:
        vals = flat[keep]
    else:
        vals = xp.moveaxis(xp.moveaxis(x, d, 0)[keep], 0, d)
    out = [Tensor._make(vals)]
    if return_inverse:
        inv = xp.cumsum(keep) - 1
        out.append(Tensor._make(inv.reshape(x.shape if dim is None else (n,))
                                .astype(np.int64)))
    if return_counts:
        starts = xp.nonzero(keep)[0]
        out.append(Tensor._make(xp.diff(xp.concatenate(
            [starts, xp.asarray([n])])).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


# -- searching -------------------------------------------------------------------------------
def _batched_search(xp, seq, vals, right: bool):
    """Binary search in each row of ``seq`` (..., n) for ``vals`` (..., m): log2(n)
    vectorised steps."""
    n = seq.shape[-1]
    lo = xp.zeros(vals.shape, dtype=np.int64)
    hi = xp.full(vals.shape, n, dtype=np.int64)
    for _ in range(max(int(n).bit_length(), 1)):
        active = lo < hi
        mid = (lo + hi) // 2
        v = xp.take_along_axis(seq, xp.minimum(mid, n - 1), axis=-1)
        go_right = ~(v > vals) if right else ~(v >= vals)  # PyTorch's comparisons (NaN)
        lo = xp.where(active & go_right, mid + 1, lo)
        hi = xp.where(active & ~go_right, mid, hi)
    return lo


def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False,
                 right: bool = False, side=None, sorter=None, out=None) -> Tensor:
    """Indices at which ``input`` would be inserted into the sorted innermost dimension of
    ``sorted_sequence`` to keep it sorted (``side='right'``: after equal elements)."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites,"
                               " got side of left while right was True")
        right = side == "right"
    seq = sorted_sequence._data
    xp = xp_of(seq)
    scalar = not isinstance(input, Tensor)
    vals = xp.asarray(input) if scalar else input._data
    if sorter is not None:
        if sorter.shape != sorted_sequence.shape:
            raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same "
                               "size")
        seq = xp.take_along_axis(seq, sorter._data.astype(np.int64), axis=-1)
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive "
                           "dimension")
    nan = (seq.dtype.kind == "f" and bool(xp.isnan(seq).any())) or (
        vals.dtype.kind == "f" and bool(xp.isnan(vals).any()))
    if seq.ndim == 1 and not nan:
        r = xp.searchsorted(seq, vals, side="right" if right else "left")
    elif seq.ndim == 1:
        dt = np.promote_types(seq.dtype, vals.dtype)
        v = vals.astype(dt).reshape(1, -1)
        r = _batched_search(xp, seq.astype(dt).reshape(1, -1), v, right).reshape(vals.shape)
    else:
        if scalar or vals.ndim != seq.ndim or vals.shape[:-1] != seq.shape[:-1]:
            raise RuntimeError(
                "torch.searchsorted(): boundaries tensor should be 1 dimension or the first "
                "N-1 dimensions of boundaries tensor and input value tensor must match, but "
                f"we got boundaries tensor {list(seq.shape)} and input value tensor "
                f"{list(vals.shape)}")
        dt = np.promote_types(seq.dtype, vals.dtype)
        r = _batched_search(xp, seq.astype(dt, copy=False), vals.astype(dt, copy=False),
                            right)
    r = xp.asarray(r).astype(np.int32 if out_int32 else np.int64)
    return _out(Tensor._make(r), out)


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False,
              out=None) -> Tensor:
    """The bucket of each element of ``input`` given 1-D sorted ``boundaries``
    (``right=True``: ``boundaries[i-1] <= x < boundaries[i]``)."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


# -- histograms ------------------------------------------------------------------------------
def _bin_positions(xp, x, lo, hi, bins: int, dtype):
    """The bin of each element for ``bins`` equal bins over [lo, hi] (the last one closed),
    -1 outside; as PyTorch computes it (then corrected against the edges)."""
    edges = xp.linspace(lo, hi, bins + 1).astype(dtype)
    keep = (x >= edges[0]) & (x <= edges[-1])
    if not bool(keep.all()):
        x = x[keep]
    else:
        keep = None
    t = dtype.type
    with np.errstate(invalid="ignore", divide="ignore"):
        pos = ((x - t(lo)) * t(bins) / (t(hi) - t(lo))).astype(np.int64)  # x >= lo: floor
    xp.minimum(pos, bins - 1, out=pos)
    pos -= (x < edges[pos]) & (pos > 0)
    pos += (x >= edges[pos + 1]) & (pos < bins - 1)
    return pos, keep, edges


def histc(input: Tensor, bins: int = 100, min=0, max=0, *, out=None) -> Tensor:
    """Counts of elements in ``bins`` equal-width bins over [min, max] (the data's range when
    both are equal); elements outside are ignored."""
    x = input._data
    xp = xp_of(x)
    if x.dtype.kind != "f":
        from .compare import _pt_name

        raise NotImplementedError(f"\"histogram_cpu\" not implemented for "
                                  f"'{_pt_name(input.dtype)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histc(): bins must be > 0, but got {bins} for dimension 0")
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError(f"torch.histc(): max must be larger than min, but got min {lo} "
                           f"max {hi}")
    if lo == hi and x.size:
        finite = x[xp.isfinite(x)]
        if finite.size:
            lo, hi = float(finite.min()), float(finite.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    pos, _, _ = _bin_positions(xp, x.reshape(-1), lo, hi, int(bins), x.dtype)
    counts = xp.bincount(pos, minlength=int(bins))
    return _out(Tensor._make(counts.astype(x.dtype)), out)


def histogram(input: Tensor, bins=100, *, range=None, weight=None, density: bool = False,
              out=None):
    """(hist, bin_edges): counts (or ``weight`` sums) of elements in ``bins`` equal bins
    over ``range`` (the data's range by default) or between the given edges."""
    x = input._data.reshape(-1)
    xp = xp_of(x)
    if x.dtype.kind != "f":
        from .compare import _pt_name

        raise NotImplementedError(f"\"histogram_cpu\" not implemented for "
                                  f"'{_pt_name(input.dtype)}'")
    w = None if weight is None else weight._data.reshape(-1)
    if isinstance(bins, Tensor):
        edges = bins._data.astype(x.dtype)
        nb = edges.size - 1
        keep = (x >= edges[0]) & (x <= edges[-1])
        pos = xp.searchsorted(edges, x[keep], side="right") - 1
        pos = xp.minimum(pos, nb - 1)
    else:
        nb = int(bins)
        if range is not None:
            lo, hi = float(range[0]), float(range[1])
        elif x.size:
            lo, hi = float(x.min()), float(x.max())
        else:
            lo, hi = 0.0, 0.0
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        pos, keep, edges = _bin_positions(xp, x, lo, hi, nb, x.dtype)
    if w is not None and keep is not None:
        w = w[keep]
    hist = xp.bincount(pos, weights=w, minlength=nb)
    hist = hist.astype(x.dtype)
    if density:
        total = hist.sum()
        hist = hist / (total * xp.diff(edges)) if total else hist
    return _histogram_rt((Tensor._make(hist.astype(x.dtype, copy=False)),
                          Tensor._make(edges)))


def histogramdd(input: Tensor, bins, *, range=None, weight=None, density: bool = False,
                out=None):
    """(hist, bin_edges): the last dim of ``input`` (..., N) holds N-dimensional points;
    counts (or ``weight`` sums) of the points in the bins of each dim: ``bins`` equal bins
    (an int, or one per dim) over ``range`` (``[lo0, hi0, lo1, hi1, ...]``, the data's range
    by default), or the given edge tensors. Each bin is closed on the left, the last also on
    the right; points outside are not counted."""
    x = input._data
    xp = xp_of(x)
    if input.ndim < 2:
        raise RuntimeError(f"torch.histogramdd: input tensor should have at least 2 "
                           f"dimensions, but got {input.ndim}")
    if x.dtype.kind != "f":
        from .compare import _pt_name

        raise NotImplementedError(f"\"histogramdd_cpu\" not implemented for "
                                  f"'{_pt_name(input.dtype)}'")
    n = x.shape[-1]
    points = x.reshape(-1, n)
    per_dim = [bins] * n if isinstance(bins, int) else list(bins)
    if len(per_dim) != n:
        raise RuntimeError(f"torch.histogramdd: expected {n} sequences of bin edges for each "
                           f"dimension, but got {len(per_dim)}")
    if range is not None and len(range) != 2 * n:
        raise RuntimeError(f"torch.histogramdd: for a {n}-dimensional histogram range should "
                           f"have {2 * n} elements, but got {len(range)}")
    edges = []
    for d, b in enumerate(per_dim):
        if isinstance(b, Tensor):
            edges.append(b._data.astype(x.dtype))
            continue
        if range is not None:
            lo, hi = float(range[2 * d]), float(range[2 * d + 1])
            if lo > hi:
                raise RuntimeError(f"torch.histogramdd: expected leftmost edge {lo} to be <= "
                                   f"rightmost edge {hi} for dimension {d}")
        elif points.shape[0]:
            lo, hi = float(points[:, d].min()), float(points[:, d].max())
        else:
            lo = hi = 0.0
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges.append(xp.linspace(lo, hi, int(b) + 1).astype(x.dtype))
    w = None if weight is None else weight._data.reshape(-1)
    hist, _ = xp.histogramdd(points, bins=edges, weights=w, density=density)
    return _histogramdd_rt((Tensor._make(hist.astype(x.dtype)),
                            tuple(Tensor._make(e) for e in edges)))


def bincount(input: Tensor, weights=None, minlength: int = 0) -> Tensor:
    """Occurrences of each value in a 1-D non-negative integer tensor (sums of ``weights``
    when given)."""
    if weights is not None and weights.shape != input.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    x = input._data
    xp = xp_of(x)
    if input.ndim != 1 or x.dtype.kind not in "iub" or (
            xp is not np and x.size and int(x.min()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    try:
        return _bincount(xp, x, weights, minlength)
    except ValueError:  # numpy refuses negative values
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.") \
            from None


def _bincount(xp, x, weights, minlength):
    x = x.astype(np.int64, copy=False)
    if weights is not None:
        w = weights._data
        dt = w.dtype if w.dtype in (np.float32, np.float64) else np.float64
        r = xp.bincount(x, weights=w, minlength=minlength)
        return Tensor._make(r.astype(dt))
    r = xp.bincount(x, minlength=minlength)
    return Tensor._make(r.astype(np.int64, copy=False))


# -- out=: these compute out of place; the result is written into ``out`` when given ---------
from .._out_arg import wrap_out_functions  # noqa: E402

wrap_out_functions(globals(), [
    'histogram', 'histogramdd'])
