"""Variants of the shape ops: ``split_with_sizes``, the ``unsafe_*`` splits, ``ravel``,
``sum_to_size``, and the ``*_copy`` functions (``view_copy``, ``permute_copy``, ...), which
return a contiguous copy of what the view op would return, in the graph.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from . import shape as S
from ._prep import unbroadcast
from .view_scatter import slice_index

__all__ = ["split_with_sizes", "unsafe_split", "unsafe_chunk", "unsafe_split_with_sizes",
           "ravel", "narrow_copy", "view_copy", "permute_copy", "expand_copy",
           "transpose_copy", "t_copy", "squeeze_copy", "unsqueeze_copy", "select_copy",
           "slice_copy", "diagonal_copy", "unbind_copy", "split_copy",
           "split_with_sizes_copy", "unfold_copy", "detach_copy", "alias_copy",
           "as_strided_copy", "view_as_real_copy", "view_as_complex_copy"]


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0):
    """Views of ``input`` along ``dim`` with the given ``split_sizes`` (they must sum to the
    dimension's size)."""
    sizes = [int(s) for s in split_sizes]
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative "
                           f"entries, but got split_sizes={sizes}")
    return S.split(input, sizes, dim)


def unsafe_split(input: Tensor, split_size: int, dim: int = 0):
    """``split`` (in PyTorch, without autograd's checks on in-place changes of the pieces;
    ember allows those on ``split`` too)."""
    if not isinstance(split_size, int):
        raise TypeError(f"unsafe_split(): argument 'split_size' must be int, not "
                        f"{type(split_size).__name__}")
    return S.split(input, split_size, dim)


def unsafe_split_with_sizes(input: Tensor, split_sizes, dim: int = 0):
    """``split_with_sizes`` (see ``unsafe_split``)."""
    return split_with_sizes(input, split_sizes, dim)


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0):
    """``chunk`` (see ``unsafe_split``)."""
    return S.chunk(input, chunks, dim)


def ravel(input: Tensor) -> Tensor:
    """The elements as a 1-D tensor: a view when ``input`` is contiguous, else a copy."""
    return S.reshape(input, (-1,))


def sum_to_size(input: Tensor, *size) -> Tensor:
    """``input`` summed down to ``size``, which must be expandable to ``input.shape``."""
    size = S._shape_arg(size)
    shape = tuple(input.shape)
    ok = len(size) <= len(shape) and all(
        s == t or s == 1 for s, t in zip(size[::-1], shape[::-1]))
    if not ok:
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size "
                           f"{{{list(shape)}}}.")
    return unbroadcast(input, size)


def _copy(t: Tensor, out: Tensor | None = None) -> Tensor:
    r = t.clone()
    return r if out is None else S.resize_out(out, r)


def _copies(ts, out=None):
    res = tuple(t.clone() for t in ts)
    if out is None:
        return res
    if len(out) != len(res):
        raise RuntimeError(f"expected {len(res)} out tensors, got {len(out)}")
    for o, r in zip(out, res):
        S.resize_out(o, r)
    return None


def narrow_copy(input: Tensor, dim: int, start: int, length: int, *, out=None) -> Tensor:
    """A contiguous copy of ``input.narrow(dim, start, length)`` (differentiable for a
    negative ``start`` too, where PyTorch's backward raises)."""
    return _copy(S.narrow(input, dim, start, length), out)


def view_copy(input: Tensor, size, *, out=None) -> Tensor:
    """A contiguous copy of ``input`` with shape ``size`` (any strides; ``size`` may be a
    dtype of the same item size, as ``view(dtype)``)."""
    if isinstance(size, (int, tuple, list)) or isinstance(size, np.integer):
        return _copy(S.reshape(input, size), out)
    return _copy(S.view(input.contiguous(), size), out)


def permute_copy(input: Tensor, dims, *, out=None) -> Tensor:
    """A contiguous copy of ``input.permute(dims)``."""
    return _copy(S.permute(input, dims), out)


def expand_copy(input: Tensor, size, *, implicit: bool = False, out=None) -> Tensor:
    """``input.expand(size)`` materialised."""
    return _copy(S.expand(input, size), out)


def transpose_copy(input: Tensor, dim0: int, dim1: int, *, out=None) -> Tensor:
    """A contiguous copy of ``input.transpose(dim0, dim1)``."""
    return _copy(S.transpose(input, dim0, dim1), out)


def t_copy(input: Tensor, *, out=None) -> Tensor:
    """A contiguous copy of ``input.t()``."""
    return _copy(S.t(input), out)


def squeeze_copy(input: Tensor, dim=None, *, out=None) -> Tensor:
    """A copy of ``input.squeeze(dim)``."""
    return _copy(S.squeeze(input, dim), out)


def unsqueeze_copy(input: Tensor, dim: int, *, out=None) -> Tensor:
    """A copy of ``input.unsqueeze(dim)``."""
    return _copy(S.unsqueeze(input, dim), out)


def select_copy(input: Tensor, dim: int, index: int, *, out=None) -> Tensor:
    """A copy of ``input.select(dim, index)``."""
    return _copy(S.select(input, dim, index), out)


def slice_copy(input: Tensor, dim: int = 0, start=None, end=None, step: int = 1, *,
               out=None) -> Tensor:
    """A contiguous copy of ``input[..., start:end:step]`` (the slice along ``dim``)."""
    from .index import getitem

    return _copy(getitem(input, slice_index(input, dim, start, end, step)), out)


def diagonal_copy(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1, *,
                  out=None) -> Tensor:
    """A contiguous copy of ``input.diagonal(offset, dim1, dim2)``."""
    return _copy(S.diagonal(input, offset, dim1, dim2), out)


def unbind_copy(input: Tensor, dim: int = 0, *, out=None):
    """Copies of ``input.unbind(dim)``."""
    return _copies(S.unbind(input, dim), out)


def split_copy(input: Tensor, split_size: int, dim: int = 0, *, out=None):
    """Copies of ``input.split(split_size, dim)``."""
    return _copies(S.split(input, split_size, dim), out)


def split_with_sizes_copy(input: Tensor, split_sizes, dim: int = 0, *, out=None):
    """Copies of ``split_with_sizes(input, split_sizes, dim)``."""
    return _copies(split_with_sizes(input, split_sizes, dim), out)


def unfold_copy(input: Tensor, dimension: int, size: int, step: int, *, out=None) -> Tensor:
    """A contiguous copy of ``input.unfold(dimension, size, step)``."""
    return _copy(S.unfold(input, dimension, size, step), out)


def detach_copy(input: Tensor, *, out=None) -> Tensor:
    """A copy of ``input``, outside the graph.

    PyTorch's result claims to require grad and raises at backward ("derivative for
    aten::detach_copy is not implemented"); ember's simply does not require grad."""
    r = Tensor._make(input._data.copy())
    return r if out is None else S.resize_out(out, r)


def alias_copy(input: Tensor, *, out=None) -> Tensor:
    """A contiguous copy of ``input``, in the graph."""
    return _copy(input, out)


def as_strided_copy(input: Tensor, size, stride, storage_offset=None, *, out=None) -> Tensor:
    """A contiguous copy of ``input.as_strided(size, stride, storage_offset)``."""
    return _copy(S.as_strided(input, size, stride, storage_offset), out)


def view_as_real_copy(input: Tensor, *, out=None) -> Tensor:
    """``view_as_real(input)`` as a new tensor."""
    from .spectral import view_as_real

    return _copy(view_as_real(input), out)


def view_as_complex_copy(input: Tensor, *, out=None) -> Tensor:
    """``view_as_complex(input)`` as a new tensor."""
    from .spectral import view_as_complex

    return _copy(view_as_complex(input), out)
