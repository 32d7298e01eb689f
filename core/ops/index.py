"""Indexing ops: ``__getitem__``/``__setitem__`` (ints, slices, None, Ellipsis, bool masks,
integer tensors), index_put, gather, scatter, index_select, masked_fill."""

from __future__ import annotations

import warnings

import numpy as np

from .._array_flags import writeable
from .._tensor import Tensor, _wrap_dim
from ._prep import (
    accepts_axis,
    as_tensor_arg,
    cast,
    check_same_device,
    checked_int_scalar,
    unbroadcast,
)
from .inplace import commit_inplace, needs_graph
from .op import Op, xp_of
from .shape import mark_view

__all__ = ["getitem", "setitem", "index_put", "gather", "scatter", "scatter_add",
           "index_select", "masked_fill", "masked_select", "take_along_dim", "index_add",
           "tril", "triu", "index_copy", "index_fill", "take", "put", "masked_scatter",
           "scatter_reduce", "unravel_index"]


def _convert_index(idx, x: Tensor):
    """Turns a user index into one numpy/cupy understands; returns (index, is_basic)."""
    if not isinstance(idx, tuple):
        idx = _legacy_sequence(idx) if type(idx) is list else (idx,)
    out = []
    basic = True
    for i in idx:
        if type(i) is slice or type(i) is int or i is None or i is Ellipsis:
            if type(i) is slice and i.step is not None and i.step <= 0:
                raise ValueError("step must be greater than zero")
            out.append(i)  # (the common basic kinds, checked first)
        elif isinstance(i, Tensor):
            a = i._data
            if type(a) is not type(x._data) or type(a) is not np.ndarray:
                if type(a) is np.ndarray:  # CPU indices may index a CUDA tensor, as in torch
                    a = xp_of(x._data).asarray(a)
                else:
                    check_same_device(x, i, "index")
            if a.dtype == np.uint8:
                a = a.astype(bool)
            elif a.dtype.kind not in "iub":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            if a.ndim == 0 and a.dtype.kind in "iu":
                out.append(int(a))
                continue
            out.append(a)
            basic = False
        elif _on_device(i):  # a CUDA array: the advanced half of a split index
            out.append(i)
            basic = False
        elif isinstance(i, (list, np.ndarray, range)):
            a = np.asarray(i)
            if a.dtype.kind == "f" and a.size == 0:
                a = a.astype(np.int64)  # x[[]]: an empty integer index
            if a.dtype == object:
                raise IndexError("invalid index: nested sequences of mixed types")
            if a.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            xp = xp_of(x._data)
            out.append(xp.asarray(a) if xp is not np else a)
            basic = False
        elif isinstance(i, bool):
            out.append(i)
            basic = False
        elif i is None or i is Ellipsis or isinstance(i, slice):
            if isinstance(i, slice) and i.step is not None and i.step <= 0:
                raise ValueError("step must be greater than zero")
            out.append(i)
        elif isinstance(i, (int, np.integer)):
            out.append(int(i))
        else:
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or "
                             f"byte or bool tensors are valid indices (got "
                             f"{type(i).__name__})")
    return tuple(out), basic


def _legacy_sequence(idx: list) -> tuple:
    """A list index as PyTorch (and old NumPy) reads it: a short list holding a tensor, a
    sequence, a slice, ``None`` or ``...`` is a tuple of per-dim indices (deprecated, with
    PyTorch's warning); any other list is one advanced index."""
    if len(idx) < 32:
        for e in idx:
            if isinstance(e, (Tensor, list, tuple, slice, np.ndarray, range)) or e is None \
                    or e is Ellipsis:
                warnings.warn("Using a non-tuple sequence for multidimensional indexing is "
                              "deprecated and will be changed in pytorch 2.9; use "
                              "x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be "
                              "interpreted as tensor index, x[torch.tensor(seq)], which will "
                              "result either in an error or a different result",
                              UserWarning, stacklevel=4)
                return tuple(idx)
    return (idx,)


def _on_device(a) -> bool:
    """True for a CuPy array."""
    return hasattr(a, "__cuda_array_interface__") and not isinstance(a, Tensor)


def _check_bounds(idx, shape):
    """Raises IndexError for an integer (or, on CUDA, integer array) index out of range:
    numpy checks its own arrays, CuPy wraps out-of-range array indices around silently."""
    dim = 0
    for i in idx:
        if i is None:
            continue
        if i is Ellipsis:
            n_rest = sum(1 for j in idx if j is not None and j is not Ellipsis and
                         not (hasattr(j, "dtype") and j.dtype.kind == "b"))
            dim = len(shape) - n_rest + dim
            continue
        if isinstance(i, int) and not isinstance(i, bool):
            if dim >= len(shape):
                raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
            if not -shape[dim] <= i < shape[dim]:
                raise IndexError(f"index {i} is out of bounds for dimension {dim} with size "
                                 f"{shape[dim]}")
        elif _on_device(i) and i.dtype.kind in "iu" and dim < len(shape):
            _check_range(i, shape[dim], dim)
        dim += 1 if not (hasattr(i, "dtype") and i.dtype.kind == "b") else i.ndim


class Getitem(Op):
    _name = "index"
    advanced = False  # an advanced (tensor/mask) index: the result is a contiguous copy

    def forward(self, x):
        self.in_shape = x.shape
        self.in_dtype = x.dtype
        try:
            r = x[self.index]
        except IndexError as e:
            raise IndexError(f"index: {e} (tensor of shape {list(x.shape)})") from None
        if self.advanced and not r.flags.c_contiguous:
            # numpy may lay an advanced-index result out transposed (``x[:, i, i]``);
            # PyTorch's is contiguous, so that ``.view`` works on it
            r = xp_of(r).ascontiguousarray(r)
        return r

    def backward(self, g):
        zeros = g.new_zeros(self.in_shape)
        return IndexPut.apply(zeros, g, index=self.index, accumulate=True)


def _split_ints(index, ndim: int):
    """PyTorch applies integer indices as ``select`` before the advanced (tensor) ones;
    numpy counts an integer as advanced when arrays are present, which moves dimensions
    differently (``x[0, :, [0]]``). For such mixed indices this returns a basic index (the
    integers, slices, None and Ellipsis, with each array replaced by full slices) and the
    advanced index to apply to its result; otherwise None."""
    if not any(type(i) is int for i in index):
        return None
    consumed = 0
    for i in index:
        if type(i) is int or isinstance(i, slice):
            consumed += 1
        elif hasattr(i, "dtype"):
            consumed += i.ndim if i.dtype.kind == "b" else 1
    basic, adv = [], []
    for i in index:
        if hasattr(i, "dtype"):
            k = i.ndim if i.dtype.kind == "b" else 1
            basic.extend([slice(None)] * k)
            adv.append(i)
        elif type(i) is bool:
            return None  # a bool scalar mixed with arrays: numpy's rule is used
        elif i is Ellipsis:
            basic.append(i)
            adv.extend([slice(None)] * (ndim - consumed))
        else:
            basic.append(i)
            if type(i) is not int:
                adv.append(slice(None))
    return tuple(basic), tuple(adv)


class Unbatchable(RuntimeError):
    """Raised by ``vmap``'s batched stand-ins (ember.func._batched) for an op that has no
    batched form; vmap then maps the function element by element."""


def getitem(x: Tensor, idx) -> Tensor:
    """``x[idx]``: a view for basic indices, a copy for advanced (tensor/mask) indices."""
    try:
        index, basic = _convert_index(idx, x)
    except Unbatchable:  # the index holds vmap stand-ins: index the whole batch at once
        from ..func._batched import getitem_batched

        return getitem_batched(x, idx)
    if basic or type(x._data) is not np.ndarray:
        _check_bounds(index, x._data.shape)
    if not basic:
        split = _split_ints(index, x._data.ndim)
        if split is not None:
            return getitem(getitem(x, split[0]), split[1])
    r = Getitem.apply(x, index=index, advanced=not basic)
    if basic:
        return mark_view(r, x, lambda b: getitem(b, idx))
    return r


class IndexPut(Op):
    """``out = x.clone(); out[index] = values`` (or ``+=`` with accumulate)."""

    _name = "index_put"

    def forward(self, x, v):
        xp = xp_of(x)
        self.v_shape = v.shape
        out = x.copy()
        if self.accumulate:
            _add_at(xp, out, self.index, v)
        else:
            _assign(out, self.index, v)
        return out

    def backward(self, g):
        gx = None
        if self.next_functions[0][0] is not None:
            if self.accumulate:
                gx = g
            else:
                mask = g.new_ones(g.shape)
                mask._data[self.index] = 0
                gx = g * mask
        gv = None
        if self.next_functions[1][0] is not None:
            gv = unbroadcast(Getitem.apply(g, index=self.index), self.v_shape)
        return gx, gv


def _add_at(xp, out, index, v):
    if xp is np:
        if _unique_index(index):
            out[index] = out[index] + v
        else:
            np.add.at(out, index, v)
    else:  # pragma: no cover - cuda
        import cupyx

        v = xp.broadcast_to(v, out[index].shape)
        if out.dtype.kind == "c":  # CuPy's scatter_add takes real types only
            parts = [out.real.copy(), out.imag.copy()]
            cupyx.scatter_add(parts[0], index, v.real)
            cupyx.scatter_add(parts[1], index, v.imag)
            out[...] = parts[0] + 1j * parts[1]
        else:
            cupyx.scatter_add(out, index, v)


def _unique_index(index) -> bool:
    """True when an index cannot address one element twice (only basic parts and bool
    masks)."""
    for i in index:
        if hasattr(i, "dtype") and i.dtype.kind in "iu":
            return False
    return True


def index_put(input: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """Out-of-place ``input[indices] = values`` (``+=`` when accumulate)."""
    index, _ = _convert_index(tuple(indices), input)
    v = _value_tensor(values, input)
    return IndexPut.apply(input, v, index=index, accumulate=accumulate)


def _value_tensor(value, like: Tensor) -> Tensor:
    if isinstance(value, Tensor):
        check_same_device(like, value, "index_put")
        return cast(value, like.dtype) if value.dtype != like.dtype else value
    v = as_tensor_arg(value, like)
    return cast(v, like.dtype)


def setitem(x: Tensor, idx, value) -> None:
    """``x[idx] = value``, in place."""
    index, basic = _convert_index(idx, x)
    if basic or type(x._data) is not np.ndarray:
        _check_bounds(index, x._data.shape)
    if not basic:
        split = _split_ints(index, x._data.ndim)
        if split is not None:  # integers first (a view), then the advanced part into it
            _check_bounds(split[0], x._data.shape)
            return setitem(getitem(x, split[0]), split[1], value)
    if not needs_graph(x, value):
        if isinstance(value, Tensor):
            check_same_device(x, value, "setitem")
            value = value._data
        elif not isinstance(value, (int, float, bool, complex)):
            value = as_tensor_arg(value, x)._data
        try:
            _assign(x._data, index, value)
        except OverflowError:  # -1 for uint8 wraps to 255; 300 raises RuntimeError
            _assign(x._data, index, checked_int_scalar(value, x._data.dtype))
        x._bump()
        return
    v = _value_tensor(value, x)
    result = IndexPut.apply(x, v, index=index, accumulate=False)
    commit_inplace(x, result, "setitem")


def index_put_(x: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """In-place ``index_put``."""
    index, _ = _convert_index(tuple(indices), x)
    v = _value_tensor(values, x)
    if not needs_graph(x, v):
        if accumulate:
            _add_at(xp_of(x._data), x._data, index, v._data)
        else:
            _assign(x._data, index, v._data)
        x._bump()
        return x
    return commit_inplace(x, IndexPut.apply(x, v, index=index, accumulate=accumulate),
                          "index_put_")


# -- gather / scatter ----------------------------------------------------------------------
def _assign(arr, index, value) -> None:
    """``arr[index] = value`` with PyTorch's error for a value that doesn't fit."""
    try:
        arr[index] = value
    except ValueError:
        vshape = list(getattr(value, "shape", ()))
        raise RuntimeError(f"shape mismatch: value tensor of shape {vshape} cannot be "
                           f"broadcast to indexing result of shape "
                           f"{list(arr[index].shape)}") from None


def _check_index_tensor(index: Tensor, op: str) -> None:
    if index._data.dtype != np.int64 and index._data.dtype != np.int32:
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index")


class Gather(Op):
    _name = "gather"
    wrap = False  # whether negative indices count from the end

    def forward(self, x, idx):
        self.in_shape = x.shape
        xp = xp_of(x)
        n = x.shape[self.dim]
        if idx.size:  # as PyTorch, a negative index is out of bounds (except for
            lo, hi = int(idx.min()), int(idx.max())  # take_along_dim, which wraps it)
            if lo < (-n if self.wrap else 0) or hi >= n:
                raise RuntimeError(f"index {hi if hi >= n else lo} is out of bounds for "
                                   f"dimension {self.dim} with size {n}")
            if lo < 0:  # (for backward's scatter too)
                idx = xp.where(idx < 0, idx + n, idx)
        sl = tuple(slice(0, idx.shape[d]) if d != self.dim else slice(None)
                   for d in range(x.ndim))
        self.idx = idx
        return xp.take_along_axis(x[sl], idx, axis=self.dim)

    def backward(self, g, *_):
        idx = Tensor._make(self.idx)
        return ScatterAdd.apply(g.new_zeros(self.in_shape), idx, g, dim=self.dim), None


@accepts_axis
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """Values of ``input`` at ``index`` along ``dim``: ``out[i][j] = input[index[i][j]][j]``
    for dim 0."""
    _check_index_tensor(index, "gather")
    if input.ndim == 0 and index.ndim <= 1:  # a scalar as a one-element vector (PyTorch)
        _wrap_dim(dim, 1)
        flat = index.reshape(-1)
        return Gather.apply(input.reshape(1), flat, dim=0).reshape(tuple(index.shape))
    d = _wrap_dim(dim, input.ndim)
    if index.ndim != input.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor")
    _check_index_shape(input, d, index, None, "gather")
    return Gather.apply(input, index, dim=d)


def _check_index_shape(input: Tensor, d: int, index: Tensor, src, op: str) -> None:
    """PyTorch's gather/scatter shape rule: ``index`` is no larger than ``input`` in every
    dim but ``d``, and (scatter) no larger than a tensor ``src`` in every dim."""
    ishape, xshape = list(index.shape), list(input.shape)
    if index.ndim != input.ndim:
        return
    too_big = any(i > n for k, (i, n) in enumerate(zip(ishape, xshape)) if k != d)
    if op == "gather":
        if too_big:
            k = next(k for k, (i, n) in enumerate(zip(ishape, xshape)) if k != d and i > n)
            raise RuntimeError(f"Size does not match at dimension {k} expected index {ishape} "
                               f"to be no larger than self {xshape} apart from dimension {d}")
        return
    src_small = isinstance(src, Tensor) and src.ndim == index.ndim and \
        any(i > n for i, n in zip(ishape, src.shape))
    if too_big or src_small:
        tail = (f" and to be no larger size than src {list(src.shape)}"
                if isinstance(src, Tensor) else "")
        raise RuntimeError(f"Expected index {ishape} to be no larger than self {xshape} apart "
                           f"from dimension {d}{tail}")


class Scatter(Op):
    _name = "scatter"

    def forward(self, x, idx, src):
        xp = xp_of(x)
        out = x.copy()
        _put_along(xp, out, idx, src, self.dim, reduce=None)
        self.idx = idx
        self.src_shape = src.shape
        return out

    def backward(self, g):
        idx = Tensor._make(self.idx)
        gx = scatter(g, self.dim, idx, 0.0) if self.next_functions[0][0] else None
        gs = None
        if self.next_functions[2][0]:
            gs = _pad_to(gather(g, self.dim, idx), self.src_shape)
        return gx, None, gs


class ScatterAdd(Op):
    _name = "scatter_add"

    def forward(self, x, idx, src):
        xp = xp_of(x)
        out = x.copy()
        _put_along(xp, out, idx, src, self.dim, reduce="add")
        self.saved_idx_arr = idx
        self.src_shape = src.shape
        return out

    def backward(self, g):
        idx = Tensor._make(self.saved_idx_arr)
        gs = _pad_to(gather(g, self.dim, idx), self.src_shape) if self.next_functions[2][0] \
            else None
        return g, None, gs


def _pad_to(g: Tensor, shape) -> Tensor:
    """A gradient for a source larger than its index: zeros beyond the index's extent."""
    if tuple(g.shape) == tuple(shape) or len(shape) != g.ndim:
        return g
    from .shape import _pad_dim

    for k in range(g.ndim):
        if g.shape[k] != shape[k]:
            g = _pad_dim(g, k, 0, shape[k] - g.shape[k])
    return g


def _put_along(xp, out, idx, src, dim, reduce):
    """out[..., idx, ...] = src along ``dim`` (src may be larger than idx; only its leading
    part is used, as in PyTorch)."""
    if idx.size == 0:
        return
    idx = xp.asarray(idx)  # a host index into a CUDA tensor
    lo, hi, n = int(idx.min()), int(idx.max()), out.shape[dim]
    if lo < 0 or hi >= n:  # as PyTorch, a negative index is out of bounds
        raise RuntimeError(f"index {hi if hi >= n else lo} is out of bounds for dimension {dim} "
                           f"with size {n}")
    if xp.ndim(src) == 0:
        src = xp.broadcast_to(src, idx.shape)
    else:
        src = src[tuple(slice(0, s) for s in idx.shape)]
    full = _full_index(xp, idx, dim)
    if reduce == "add":
        if xp is np:
            np.add.at(out, full, src)
        else:  # pragma: no cover - cuda
            _add_at(xp, out, full, src)
    elif xp is np:
        out[full] = src  # numpy writes repeated targets in order: the last one stays
    else:  # pragma: no cover - cuda
        assign_last_wins(xp, out, full, src)


def _targets_in_order(xp, shape, index, src):
    """The flat targets of ``index`` into an array of ``shape`` and ``src`` broadcast with
    them, both flattened, with the stable order that sorts the targets and the sorted
    targets: (flat, src, order, sorted_flat)."""
    full = xp.broadcast_arrays(*index)
    flat = xp.ravel_multi_index(tuple(full), shape).reshape(-1)
    src = xp.broadcast_to(src, full[0].shape).reshape(-1)
    order = xp.argsort(flat, kind="stable")
    return flat, src, order, flat[order]


def assign_last_wins(xp, out, index, src):
    """``out[index] = src`` where a target named twice keeps the last value, as numpy and
    PyTorch's CPU kernels leave it (a GPU's parallel writes would leave any of them)."""
    flat, src, order, sorted_flat = _targets_in_order(xp, out.shape, index, src)
    last = xp.ones(flat.shape, dtype=bool)
    last[:-1] = sorted_flat[1:] != sorted_flat[:-1]
    keep = order[last]
    out[xp.unravel_index(flat[keep], out.shape)] = src[keep]


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None,
            reduce=None) -> Tensor:
    """Out-of-place scatter: writes ``src`` (tensor or scalar) into ``input`` at ``index``
    along ``dim``."""
    _check_index_tensor(index, "scatter")
    d = _wrap_dim(dim, input.ndim)
    if src is None:
        src = value
    _check_index_shape(input, d, index, src, "scatter")
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        s = src if isinstance(src, Tensor) else \
            Tensor._make(xp_of(input._data).asarray(src, dtype=input._data.dtype))
        return ScatterMultiply.apply(input, index, cast(s, input.dtype), dim=d, reduce=reduce)
    if not isinstance(src, Tensor):
        src = Tensor._make(xp_of(input._data).asarray(src, dtype=input._data.dtype))
    elif src.dtype != input.dtype:
        raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype "
                           f"({input.dtype} vs {src.dtype})")
    return Scatter.apply(input, index, src, dim=d)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """Out-of-place scatter that adds ``src`` into ``input`` at ``index`` along ``dim``."""
    _check_index_tensor(index, "scatter_add")
    d = _wrap_dim(dim, input.ndim)
    _check_index_shape(input, d, index, src, "scatter_add")
    return ScatterAdd.apply(input, index, src, dim=d)


class IndexSelect(Op):
    _name = "index_select"

    def forward(self, x, idx):
        self.in_shape = x.shape
        n = x.shape[self.dim] if x.ndim else 1
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"index_select(): index out of range in self (size {n})")
        self.idx = idx
        return xp_of(x).take(x, idx, axis=self.dim) if x.ndim else x[idx]

    def backward(self, g, *_):
        zeros = g.new_zeros(self.in_shape)
        index = (slice(None),) * self.dim + (self.idx,)
        return IndexPut.apply(zeros, g, index=index, accumulate=True), None


@accepts_axis
def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries of ``input`` at ``index`` (1-D integer tensor) along ``dim``."""
    if index._data.dtype.kind not in "iu":
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if input.ndim == 0:  # a scalar as a one-element vector, as PyTorch
        _wrap_dim(dim, 1)
        if index.numel() != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got "
                               f"{index.numel()} value(s)")
        return IndexSelect.apply(input.reshape(1), index.reshape(-1), dim=0).reshape(())
    d = _wrap_dim(dim, input.ndim)
    return IndexSelect.apply(input, index.reshape(-1), dim=d)


class MaskedFill(Op):
    _name = "masked_fill"

    def forward(self, x, mask, value):
        self.mask = mask
        xp = xp_of(x)
        return xp.where(mask, value.astype(x.dtype), x)

    def backward(self, g):
        mask = Tensor._make(self.mask)
        zero = g.new_zeros(())
        from .elementwise import where

        gx = where(mask, zero, g)
        gv = None
        if self.next_functions[2][0] is not None:
            gv = where(mask, g, zero).sum()
        return gx, None, gv


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """``input`` with ``value`` where ``mask`` is True (mask broadcast to input)."""
    if not isinstance(mask, Tensor) or mask._data.dtype != np.bool_:
        if isinstance(mask, Tensor) and mask._data.dtype == np.uint8:
            mask = cast(mask, np.bool_)
        else:
            raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with "
                               f"dtype {getattr(mask, 'dtype', type(mask).__name__)}")
    check_same_device(input, mask, "masked_fill")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value.ndim} dimension(s).")
        v = value
    else:
        v = Tensor._make(xp_of(input._data).asarray(value))
    if mask.shape != input.shape:
        try:
            b = np.broadcast_shapes(tuple(mask.shape), tuple(input.shape))
        except ValueError:
            b = None
        if b is None or tuple(b) != tuple(input.shape):
            raise RuntimeError(f"masked_fill: the mask of shape {list(mask.shape)} must be "
                               f"broadcastable to the input of shape {list(input.shape)}")
    return MaskedFill.apply(input, mask, v)



# -- masks and index helpers built on the ops above ---------------------------------------
def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of ``input`` where ``mask`` (broadcast with it) is True, as a 1-D
    tensor."""
    if mask._data.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {mask.dtype}")
    from .shape import broadcast_tensors

    x, m = broadcast_tensors(input, mask)
    return getitem(x, m)


def take_along_dim(input: Tensor, indices: Tensor, dim=None) -> Tensor:
    """Values of ``input`` at ``indices`` along ``dim`` (the flattened tensor when dim is
    None); the other dimensions broadcast."""
    if indices._data.dtype.kind not in "iu":
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be int but got "
                           f"{indices.dtype} instead")
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    d = _wrap_dim(dim, input.ndim)
    if input.ndim != indices.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {input.ndim} dimensions for input, "
                           f"and {indices.ndim} dimensions for indices")
    shape_x, shape_i = list(input.shape), list(indices.shape)
    shape_x[d] = shape_i[d] = 1
    b = list(np.broadcast_shapes(tuple(shape_x), tuple(shape_i)))
    bx, bi = list(b), list(b)
    bx[d], bi[d] = input.shape[d], indices.shape[d]
    return Gather.apply(input.expand(bx), indices.expand(bi).long(), dim=d, wrap=True)


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """``input`` with ``alpha * source`` added at ``index`` along ``dim`` (repeated indices
    accumulate)."""
    d = _wrap_dim(dim, input.ndim)
    if index.ndim > 1 or index._data.dtype.kind not in "iu":
        raise IndexError("index_add_(): Index is supposed to be a vector of integers")
    want = list(input.shape)
    if input.ndim:
        want[d] = index.numel()
    if list(source.shape) != want and not (input.ndim == 0 and source.numel() == 1):
        raise RuntimeError(f"index_add_(): source of shape {list(source.shape)} does not match "
                           f"the indexed shape {want} (self {list(input.shape)}, index of "
                           f"{index.numel()} along dim {d})")
    v = source * alpha if alpha != 1 else source
    idx = (slice(None),) * d + (index._data.reshape(-1),)
    return IndexPut.apply(input, _value_tensor(v, input), index=idx, accumulate=True)


def _tri(input: Tensor, diagonal: int, lower: bool, name: str) -> Tensor:
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    xp = xp_of(input._data)
    n, m = input.shape[-2], input.shape[-1]
    keep = xp.tri(n, m, diagonal, dtype=bool) if lower else \
        ~xp.tri(n, m, diagonal - 1, dtype=bool)
    return masked_fill(input, Tensor._make(~keep), 0)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dimensions (the rest set to zero)."""
    return _tri(input, diagonal, True, "tril")


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dimensions (the rest set to zero)."""
    return _tri(input, diagonal, False, "triu")


# -- index_copy / index_fill / take / put / masked_scatter -----------------------------------
def _check_vector_index(index: Tensor, op: str) -> None:
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected a long tensor for index, but got {index.dtype}")
    if index.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector")


def _check_range(idx, n: int, dim: int, exc=IndexError, op: str = "") -> None:
    if idx.size and (int(idx.min()) < -n or int(idx.max()) >= n):
        bad = int(idx.max()) if int(idx.max()) >= n else int(idx.min())
        raise exc(f"{op}index {bad} is out of bounds for dimension {dim} with size {n}")


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """``input`` with the slices ``source`` copied to positions ``index`` along ``dim``."""
    _check_vector_index(index, "index_copy_")
    d = _wrap_dim(dim, input.ndim)
    idx = index._data.reshape(-1)
    ns = source.shape[d] if source.ndim else 1
    if idx.size != ns:
        raise IndexError(f"index_copy_(): Number of indices ({idx.size}) should be equal to "
                         f"source.size(dim) ({ns})")
    if input.ndim:
        _check_range(idx, input.shape[d], d, op="index_copy_(): ")
    if source.dtype != input.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, "
                           f"but got (self) {input.dtype} and (source) {source.dtype}")
    index_t = (slice(None),) * d + (idx,) if input.ndim else ()
    src = source if input.ndim or source.ndim == 0 else source.reshape(())
    return IndexPut.apply(input, src, index=index_t, accumulate=False)


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """``input`` with ``value`` written at positions ``index`` along ``dim``."""
    _check_vector_index(index, "index_fill_")
    d = _wrap_dim(dim, input.ndim)
    idx = index._data.reshape(-1)
    if input.ndim:
        _check_range(idx, input.shape[d], d)
        idx = xp_of(idx).unique(idx + (idx < 0) * input.shape[d])
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value.ndim} dimension(s).")
        v = cast(value, input.dtype)
    else:
        v = Tensor._make(xp_of(input._data).asarray(value, dtype=input._data.dtype))
    index_t = (slice(None),) * d + (idx,) if input.ndim else ()
    return IndexPut.apply(input, v, index=index_t, accumulate=False)


def take(input: Tensor, index: Tensor) -> Tensor:
    """The elements of ``input`` (as if flattened) at ``index``, in ``index``'s shape."""
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {index.dtype}")
    n = input.numel()
    idx = index._data
    if idx.size and (int(idx.min()) < -n or int(idx.max()) >= n):
        bad = int(idx.max()) if int(idx.max()) >= n else int(idx.min())
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         "elements.")
    return getitem(input.reshape(-1), Tensor._make(idx))


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """``input`` (as if flattened) with ``source`` written (or added) at ``index``."""
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {index.dtype}")
    n = input.numel()
    idx = index._data.reshape(-1)
    if idx.size != source.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {source.numel()}, "
                           f"index.numel() = {idx.size}")
    if idx.size and (int(idx.min()) < -n or int(idx.max()) >= n):
        bad = int(idx.max()) if int(idx.max()) >= n else int(idx.min())
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         "elements.")
    flat = input.reshape(-1)
    r = IndexPut.apply(flat, _value_tensor(source.reshape(-1), input), index=(idx,),
                       accumulate=accumulate)
    return r.reshape(input.shape)


def put_(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """In-place ``put``."""
    r = put(input, index, source, accumulate)
    return _commit(input, r, "put_", source)


def _commit(x: Tensor, result: Tensor, op: str, *others) -> Tensor:
    """Writes an out-of-place result into ``x`` (recording it when autograd needs it)."""
    if needs_graph(x, *others):
        return commit_inplace(x, result, op)
    if not writeable(x._data):
        raise RuntimeError(f"{op}: unsupported operation: the tensor is a broadcast "
                           "(expanded) view; clone it first.")
    xp_of(x._data).copyto(x._data, result._data, casting="unsafe")
    x._bump()
    return x


class MaskedScatter(Op):
    """``input`` with the first elements of ``source`` written where ``mask`` is True (in
    row-major order)."""

    _name = "masked_scatter"

    def forward(self, x, mask, src):
        xp = xp_of(x)
        m = xp.broadcast_to(mask, x.shape)
        k = int(m.sum())
        if k > src.size:
            raise RuntimeError("masked_scatter: Number of elements of source < number of ones "
                               "in mask")
        out = x.copy()
        out[m] = src.reshape(-1)[:k]
        self.mask, self.k, self.src_shape = m, k, src.shape
        return out

    def backward(self, g):
        from .elementwise import where

        mask = Tensor._make(self.mask)
        gx = where(mask, g.new_zeros(()), g) if self.next_functions[0][0] else None
        gs = None
        if self.next_functions[2][0]:
            sel = getitem(g, mask)
            n = 1
            for s in self.src_shape:
                n *= s
            from .shape import cat

            if n > self.k:
                sel = cat([sel, g.new_zeros((n - self.k,))])
            gs = sel.reshape(self.src_shape)
        return gx, None, gs


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``input`` with consecutive elements of ``source`` written where ``mask`` (broadcast
    to ``input``) is True."""
    if mask._data.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {mask.dtype}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but "
                           f"got {input.dtype} and {source.dtype}")
    try:
        b = np.broadcast_shapes(tuple(mask.shape), tuple(input.shape))
    except ValueError:
        b = None
    if b is None or tuple(b) != tuple(input.shape):
        raise RuntimeError(f"masked_scatter: the mask of shape {list(mask.shape)} must be "
                           f"broadcastable to the input of shape {list(input.shape)}")
    return MaskedScatter.apply(input, mask, source)


# -- scatter_reduce ------------------------------------------------------------------------
_REDUCE_UFUNC = {"sum": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum",
                 "mean": "add"}


def _full_index(xp, idx, dim):
    """The advanced index addressing ``out[..., idx, ...]`` along ``dim`` element by element:
    ``idx`` itself at ``dim``, broadcasting ranges elsewhere."""
    nd = idx.ndim
    if nd == 0:
        return ()
    return tuple(idx if k == dim else xp.arange(s).reshape((1,) * k + (s,) + (1,) * (nd - k - 1))
                 for k, s in enumerate(idx.shape))


def _ufunc_at(xp, name, out, index, src):
    if xp is np:
        getattr(np, name).at(out, index, src)
        return
    if name == "add":  # pragma: no cover - cuda
        _add_at(xp, out, index, src)
    else:  # pragma: no cover - cuda
        ufunc_at_in_rounds(xp, getattr(xp, name), out, index, src)


def ufunc_at_in_rounds(xp, ufunc, out, index, src):
    """``ufunc.at(out, index, src)`` for array modules without it (CuPy has no
    ``multiply.at``, and float64 gradchecks of amax/amin failed on a GPU through its atomic
    ``scatter_max``/``scatter_min``): the updates go in rounds, one occurrence of each target
    per round in index order, so no round writes an element twice and the result is exact;
    there are as many rounds as the most often repeated target."""
    flat, src, order, sorted_flat = _targets_in_order(xp, out.shape, index, src)
    first = xp.searchsorted(sorted_flat, sorted_flat, side="left")
    rank = xp.empty_like(order)
    rank[order] = xp.arange(order.size) - first
    view = out.reshape(-1) if out.flags.c_contiguous else None
    for r in range(int(rank.max()) + 1 if rank.size else 0):
        pick = rank == r
        targets = flat[pick]
        if view is not None:
            view[targets] = ufunc(view[targets], src[pick])
        else:
            where = xp.unravel_index(targets, out.shape)
            out[where] = ufunc(out[where], src[pick])


class ScatterReduce(Op):
    _name = "scatter_reduce"

    def forward(self, x, idx, src):
        xp = xp_of(x)
        d, reduce = self.dim, self.reduce
        idx = xp.asarray(idx)  # a host index into a CUDA tensor
        self.idx = idx
        if idx.size == 0:
            return x.copy()
        _check_range(idx, x.shape[d], d, RuntimeError)
        src = src[tuple(slice(0, s) for s in idx.shape)]
        full = _full_index(xp, idx, d)
        out = x.copy()
        if not self.include_self:
            hit = xp.zeros(x.shape, dtype=bool)
            hit[full] = True
            self.hit = hit
            if reduce in ("sum", "mean"):
                ident = 0
            elif reduce == "prod":
                ident = 1
            elif x.dtype.kind == "f":
                ident = -np.inf if reduce == "amax" else np.inf
            else:
                info = np.iinfo(x.dtype) if x.dtype.kind in "iu" else None
                ident = (info.min if reduce == "amax" else info.max) if info else \
                    (reduce == "amin")
            out[hit] = ident
        _ufunc_at(xp, _REDUCE_UFUNC[reduce], out, full, src)
        if reduce == "mean":
            count = xp.zeros(x.shape, dtype=x.dtype if x.dtype.kind == "f" else np.int64)
            _ufunc_at(xp, "add", count, full, xp.ones(idx.shape, dtype=count.dtype))
            if self.include_self:
                count = count + 1
            count = xp.maximum(count, 1)
            self.count = count
            if x.dtype.kind in "iu":
                out = xp.floor_divide(out, count).astype(x.dtype)
            else:
                out = out / count
        return out

    def backward(self, g):
        from .elementwise import where

        x, src = self.saved_tensors
        d, reduce = self.dim, self.reduce
        if self.idx.size == 0:
            return g, None, src.new_zeros(src.shape) if self.next_functions[2][0] else None
        idx = Tensor._make(self.idx)
        zero = g.new_zeros(())
        n = src.shape
        src = src[tuple(slice(0, s) for s in self.idx.shape)] if self.idx.ndim else src
        gx = gs = None
        if reduce == "sum":
            gx, gs = g, gather(g, d, idx)
        elif reduce == "mean":
            gd = g / Tensor._make(self.count)
            gx, gs = gd, gather(gd, d, idx)
        elif reduce == "prod":
            result = self.saved_output()
            masked_x = where(x == 0, 1.0, x)
            masked_x_result = ScatterReduce.apply(masked_x, idx, src, dim=d, reduce="prod",
                                                  include_self=self.include_self)
            gx = g * masked_x_result / masked_x
            src_zero = src == 0
            nz = ScatterAdd.apply(x.new_zeros(x.shape), idx, cast(src_zero, x.dtype), dim=d)
            single = src_zero & (gather(nz, d, idx) == 1)
            masked_src = where(single, 1.0, src)
            masked_src_result = ScatterReduce.apply(x, idx, masked_src, dim=d, reduce="prod",
                                                    include_self=self.include_self)
            gs = where(single, gather(g * masked_src_result, d, idx),
                       gather(g * result, d, idx) / where(src_zero, 1.0, src))
        else:
            result = self.saved_output()
            x_is = x == result
            src_is = src == gather(result, d, idx)
            cnt = ScatterAdd.apply(cast(x_is, g.dtype), idx, cast(src_is, g.dtype), dim=d)
            gd = g / cnt
            gx = where(x_is, gd, zero)
            gs = where(src_is, gather(gd, d, idx), zero)
        if not self.include_self:
            gx = where(Tensor._make(self.hit), zero, gx)
        if gs is not None and tuple(gs.shape) != tuple(n):
            from .shape import _pad_dim

            for k in range(len(n)):
                if gs.shape[k] != n[k]:
                    gs = _pad_dim(gs, k, 0, n[k] - gs.shape[k])
        return (gx if self.next_functions[0][0] else None, None,
                gs if self.next_functions[2][0] else None)


ScatterReduce.save_inputs = (0, 2)
ScatterReduce.save_output = True


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """Reduces ``src`` into ``input`` at ``index`` along ``dim`` with ``reduce`` (``'sum'``,
    ``'prod'``, ``'mean'``, ``'amax'``, ``'amin'``), ``input``'s own values included unless
    ``include_self=False``."""
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)
    if reduce not in _REDUCE_UFUNC:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, "
                           f"got {reduce}")
    _check_index_tensor(index, "scatter_reduce")
    if src.dtype != input.dtype:
        raise RuntimeError("scatter_reduce(): Expected self.dtype to be equal to src.dtype")
    d = _wrap_dim(dim, input.ndim)
    if index.ndim != input.ndim and input.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as self "
                           "tensor")
    _check_index_shape(input, d, index, src, "scatter_reduce")
    return ScatterReduce.apply(input, index, src, dim=d, reduce=reduce,
                               include_self=include_self)


class ScatterMultiply(Op):
    """``scatter(..., reduce='multiply')``; like PyTorch, its backward raises."""

    _name = "scatter"

    def forward(self, x, idx, src):
        xp = xp_of(x)
        out = x.copy()
        if idx.size:
            _check_range(idx, x.shape[self.dim], self.dim)
            s = xp.broadcast_to(src, idx.shape) if src.ndim == 0 else \
                src[tuple(slice(0, k) for k in idx.shape)]
            _ufunc_at(xp, "multiply" if self.reduce == "multiply" else "add", out,
                      _full_index(xp, idx, self.dim), s)
        return out

    def backward(self, g):
        raise RuntimeError("derivative for aten::scatter is not implemented")


def unravel_index(indices: Tensor, shape) -> tuple:
    """The coordinates, one int64 tensor per dimension of ``shape``, of the flat
    (row-major) ``indices`` into a tensor of that shape."""
    if not isinstance(indices, Tensor):
        raise TypeError(f"unravel_index(): expected 'indices' to be a Tensor, but got "
                        f"{type(indices).__name__}")
    if indices._data.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    elif not isinstance(shape, (list, tuple)):
        raise TypeError(f"expected 'shape' to be int or sequence of ints, but got "
                        f"{type(shape)}")
    for s in shape:
        if not isinstance(s, int):
            raise TypeError(f"expected 'shape' sequence to only contain ints, but got "
                            f"{type(s)}")
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    if 0 in shape and indices.numel():
        raise RuntimeError(f"unravel_index: ZeroDivisionError (shape {shape} has no "
                           "elements)")
    coefs = [1] * len(shape)
    for i in range(len(shape) - 2, -1, -1):
        coefs[i] = coefs[i + 1] * shape[i + 1]
    xp = xp_of(indices._data)
    c = Tensor._make(xp.asarray(coefs, dtype=np.int64).reshape(-1))
    m = Tensor._make(xp.asarray(shape, dtype=np.int64).reshape(-1))
    return ((indices.unsqueeze(-1) // c) % m).unbind(-1)
