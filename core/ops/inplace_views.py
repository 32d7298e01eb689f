"""In-place view ops: ``squeeze_``, ``unsqueeze_``, ``t_``, ``transpose_``, ``swapaxes_``,
``swapdims_``, ``as_strided_``, which change a tensor's shape/strides but keep the object,
and ``resize_`` / ``resize_as_``, which may also change its storage.

As in PyTorch, the tensor moves onto the view op's graph node (so gradients flow through
it), its version counter is bumped, and a leaf that requires grad refuses the change.
"""

from __future__ import annotations

import numpy as np

from .._array_flags import writeable
from .._tensor import Tensor
from ..autograd.grad_mode import _State
from . import shape as S
from .op import xp_of

__all__ = ["squeeze_", "unsqueeze_", "t_", "transpose_", "swapaxes_", "swapdims_",
           "as_strided_", "resize_", "resize_as_"]


def _become(self: Tensor, fn) -> Tensor:
    """Makes ``self`` the view ``fn(self)``, keeping the object."""
    if _State.enabled and self.requires_grad and self.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    r = fn(self)
    self._data = r._data
    if r.requires_grad:
        self.grad_fn, self._out_nr = r.grad_fn, r._out_nr
    if self._base is not None and r._base is self._base:
        self._view_fn = r._view_fn  # still a view of the same base, one step further
    self._vc[0] += 1
    if self._base is not None:
        self._view_ver = self._vc[0]
    return self


def squeeze_(self: Tensor, dim=None) -> Tensor:
    """In-place ``squeeze``."""
    return _become(self, lambda t: S.squeeze(t, dim))


def unsqueeze_(self: Tensor, dim: int) -> Tensor:
    """In-place ``unsqueeze``."""
    return _become(self, lambda t: S.unsqueeze(t, dim))


def t_(self: Tensor) -> Tensor:
    """In-place ``t``."""
    return _become(self, S.t)


def transpose_(self: Tensor, dim0: int, dim1: int) -> Tensor:
    """In-place ``transpose``."""
    return _become(self, lambda t: S.transpose(t, dim0, dim1))


swapaxes_ = transpose_
swapdims_ = transpose_


def as_strided_(input: Tensor, size, stride, storage_offset=None) -> Tensor:
    """In-place ``as_strided``: ``input`` becomes the strided view of its own storage."""
    return _become(input, lambda t: S.as_strided(t, size, stride, storage_offset))


def resize_(self: Tensor, *sizes, memory_format=None) -> Tensor:
    """Gives ``self`` the shape ``sizes`` (contiguous), reusing its storage from its first
    element when it is large enough, else moving the values to new storage whose extra
    elements are uninitialised. Tensors that require grad can't be resized.

    Departure from PyTorch (docs/compatibility.md): a view that outgrows its storage moves
    to new memory alone; in PyTorch the storage it shares with its base grows."""
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    shape = S._shape_arg(sizes)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: "
                           f"{list(shape)}")
    if shape == tuple(self._data.shape):
        return self
    from .shape import _storage_info

    arr = self._data
    xp = xp_of(arr)
    n = int(np.prod(shape, dtype=np.int64))
    root, own, total = _storage_info(arr)
    dense = root.flags.c_contiguous or root.flags.f_contiguous
    if arr.size and dense and writeable(root) and own + n <= total:
        self._data = root.ravel(order="K")[own:own + n].reshape(shape)  # same memory
    else:
        keep = root.ravel(order="K")[own:own + n] if arr.size and dense else \
            arr.ravel()[:n]
        new = xp.empty(n, dtype=arr.dtype)
        new[:keep.size] = keep
        self._data = new.reshape(shape)
    self._vc[0] += 1
    return self


def resize_as_(input: Tensor, the_template: Tensor, *, memory_format=None) -> Tensor:
    """``input.resize_(the_template.shape)``."""
    return resize_(input, tuple(the_template.shape))
