"""The ``*_scatter`` ops: a copy of ``input`` with ``src`` written into one of its views
(``select_scatter``, ``slice_scatter``, ``diagonal_scatter``, ``as_strided_scatter``), the
out-of-place twins of ``x.select(...).copy_(src)``; and ``fill_diagonal_``.

The gradient of ``input`` is the output gradient with the view zeroed; that of ``src`` is
the view of the output gradient (cast to ``src``'s dtype).
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _wrap_dim
from ._prep import cast
from .op import Op, xp_of
from .shape import _as_strided, _diag_view, _positions, diagonal

__all__ = ["select_scatter", "slice_scatter", "diagonal_scatter", "as_strided_scatter"]


def _check_src(view_shape, src_shape) -> None:
    if tuple(view_shape) != tuple(src_shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src_shape)}, slice size = {list(view_shape)}")


class _IndexScatter(Op):
    """``input`` with ``src`` written at the basic index ``index`` (select and slice)."""

    _name = "slice_scatter"

    def forward(self, x, src):
        out = x.copy()
        view = out[self.index + (Ellipsis,)]  # a view even when every dim is indexed
        _check_src(view.shape, src.shape)
        view[...] = src
        self.view_shape, self.src_dtype = view.shape, src.dtype
        return out

    def backward(self, g):
        gx = gs = None
        if self.next_functions[0][0] is not None:
            zeros = g.new_zeros(self.view_shape)
            gx = type(self).apply(g, zeros, index=self.index)
        if self.next_functions[1][0] is not None:
            gs = cast(g[self.index].clone(), self.src_dtype)
        return gx, gs


class _SelectScatter(_IndexScatter):
    _name = "select_scatter"


class _DiagonalScatter(Op):
    """``input`` with ``src`` written on a diagonal."""

    _name = "diagonal_scatter"

    def forward(self, x, src):
        out = x.copy()
        view = _diag_view(out, self.offset, self.d1, self.d2)
        _check_src(view.shape, src.shape)
        view[...] = src
        self.view_shape, self.src_dtype = view.shape, src.dtype
        return out

    def backward(self, g):
        gx = gs = None
        if self.next_functions[0][0] is not None:
            gx = _DiagonalScatter.apply(g, g.new_zeros(self.view_shape), offset=self.offset,
                                        d1=self.d1, d2=self.d2)
        if self.next_functions[1][0] is not None:
            gs = cast(diagonal(g, self.offset, self.d1, self.d2).clone(),
                      self.src_dtype)
        return gx, gs


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of ``input`` with ``src`` written at ``index`` along ``dim``
    (``src.shape`` is ``input.select(dim, index).shape``)."""
    d = _wrap_dim(dim, input.ndim)
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {d}")
    idx = (slice(None),) * d + (int(index) % n,)
    return _SelectScatter.apply(input, src, index=idx)


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start=None, end=None,
                  step: int = 1) -> Tensor:
    """A copy of ``input`` with ``src`` written into ``input[..., start:end:step, ...]``
    (along ``dim``)."""
    return _IndexScatter.apply(input, src, index=slice_index(input, dim, start, end, step))


def slice_index(input: Tensor, dim: int, start, end, step) -> tuple:
    """The basic index of ``input.slice(dim, start, end, step)`` (ATen's slice)."""
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    d = _wrap_dim(dim, input.ndim)
    return (slice(None),) * d + (slice(start, end, int(step)),)


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """A copy of ``input`` with ``src`` written on the diagonal ``input.diagonal(offset,
    dim1, dim2)``."""
    nd = input.ndim
    d1, d2 = _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _DiagonalScatter.apply(input, src, offset=int(offset), d1=d1, d2=d2)


class _AsStridedScatter(Op):
    """A dense copy of ``input`` (keeping its dimension order in memory) with ``src``
    written into the strided view ``(size, stride, offset)`` of the copy's storage."""

    _name = "as_strided_scatter"

    def forward(self, x, src):
        xp = xp_of(x)
        out = x.copy(order="K")
        n, off = out.size, self.offset
        need = off + sum((k - 1) * s for k, s in zip(self.size, self.stride)) + 1 \
            if all(self.size) else 0
        if need > n or off < 0:
            raise RuntimeError(f"as_strided_scatter: sizes {list(self.size)}, strides "
                               f"{list(self.stride)} and storage offset {off} are out of "
                               f"bounds for a storage of {n} elements")
        _check_src(self.size, src.shape)
        st = tuple(s // out.itemsize for s in out.strides)
        if n:
            flat = _as_strided(out, (n,), (1,))
            _as_strided(flat[off:], self.size, self.stride)[...] = src
        self.p_in = _positions(out.shape, st, 0, xp)
        self.p_view = _positions(self.size, self.stride, off, xp)
        self.n, self.src_dtype = n, src.dtype
        return out

    def backward(self, g):
        from .index import IndexPut, getitem

        xp = xp_of(g._data)
        gx = gs = None
        if self.next_functions[0][0] is not None:
            keep = ~xp.isin(self.p_in, self.p_view)
            gx = g * Tensor._make(keep.astype(g._data.dtype))
        if self.next_functions[1][0] is not None:
            store = IndexPut.apply(g.new_zeros((self.n,)), g.reshape(-1),
                                   index=(self.p_in.reshape(-1),), accumulate=False)
            gs = cast(getitem(store, Tensor._make(self.p_view)), self.src_dtype)
        return gx, gs


def as_strided_scatter(input: Tensor, src: Tensor, size, stride, storage_offset=None
                       ) -> Tensor:
    """A copy of ``input`` with ``src`` written into ``copy.as_strided(size, stride,
    storage_offset)``; the copy is dense with ``input``'s dimension order and its own storage
    (offset 0).

    Departure from PyTorch (docs/compatibility.md): the gradients are the exact ones (the
    input's is the output gradient outside the written view); PyTorch 2.13 returns the
    overwritten part instead, and raises for a non-contiguous input that requires grad."""
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(size)} sizes and "
                           f"{len(stride)} strides")
    if any(s < 0 for s in stride):
        raise RuntimeError("as_strided_scatter: negative strides are not supported, got "
                           f"strides: {list(stride)}")
    off = 0 if storage_offset is None else int(storage_offset)
    return _AsStridedScatter.apply(input, src, size=size, stride=stride, offset=off)


def fill_diagonal_(input: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """Fills the main diagonal (all indices equal) with ``fill_value``, in place. For a tall
    2-D matrix with ``wrap``, the diagonal restarts after every ``ncols + 1`` rows."""
    if input.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    shape = input.shape
    if input.ndim > 2 and len(set(shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    xp = xp_of(input._data)
    h, w = shape[0], shape[1]
    if input.ndim == 2 and wrap and h > w + 1:
        pos = xp.arange(0, h * w, w + 1, dtype=np.int64)
        index = (pos // w, pos % w)
    else:
        k = xp.arange(min(shape), dtype=np.int64)
        index = (k,) * input.ndim
    from .index import setitem

    setitem(input, tuple(Tensor._make(i) for i in index), fill_value)
    return input
