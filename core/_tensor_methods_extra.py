"""Less common ``Tensor`` methods: the Python-callable fills ``apply_``, ``map_`` and
``map2_``; ``set_`` (share another tensor's or a storage's memory); ``as_subclass``;
``dim_order``; ``adjoint``; the deprecated out-of-place ``resize``/``resize_as`` (a reshape
that keeps the element count); and the predicates and no-ops ``const_data_ptr``,
``is_distributed``, ``record_stream``, ``sparse_dim``, ``dense_dim``, ``chalf`` (refused:
numpy has no complex32).
"""

from __future__ import annotations

import warnings

import numpy as np

from ._tensor import Tensor
from .autograd.grad_mode import _State
from .ops.op import xp_of

__all__ = ["install"]


def _refuse_grad(t: Tensor, op: str) -> None:
    if t.requires_grad:
        raise RuntimeError(f"Can't call {op}() on Variable that requires grad. Use "
                           f"var.detach().{op}() instead.")


def _cpu_array(t: Tensor, op: str) -> np.ndarray:
    if type(t._data) is not np.ndarray:
        raise TypeError(f"{op} is only implemented on CPU tensors")
    return t._data


def _store(t: Tensor, values) -> Tensor:
    """Writes ``values`` (an object array of Python results) into ``t`` in place, cast to its
    dtype as PyTorch casts a Python number (floats truncate toward zero into integers)."""
    a = t._data
    if a.dtype.kind in "iub":
        values = np.trunc(values.astype(np.float64)) if values.dtype == object else values
    a[...] = np.asarray(values).astype(a.dtype)
    t._vc[0] += 1
    return t


def apply_(self: Tensor, callable) -> Tensor:
    """Replaces each element ``x`` with ``callable(x)`` (a Python number), in place; CPU
    only, and not on a tensor that requires grad."""
    _refuse_grad(self, "apply_")
    a = _cpu_array(self, "apply_")
    if a.size == 0:
        return self
    fn = np.frompyfunc(callable, 1, 1)  # (elements arrive as Python numbers)
    return _store(self, fn(a))


def map_(self: Tensor, tensor: Tensor, callable) -> Tensor:
    """``self[i] = callable(self[i], tensor[i])`` in place, ``tensor`` broadcast to
    ``self``'s shape; CPU only, and not on a tensor that requires grad."""
    _refuse_grad(self, "map_")
    a = _cpu_array(self, "map_")
    b = _expanded(tensor, self, "map_")
    fn = np.frompyfunc(callable, 2, 1)
    return _store(self, fn(a, b)) if a.size else self


def map2_(self: Tensor, x: Tensor, y: Tensor, callable) -> Tensor:
    """``self[i] = callable(self[i], x[i], y[i])`` in place (``x`` and ``y`` broadcast to
    ``self``'s shape); CPU only, and not on a tensor that requires grad."""
    _refuse_grad(self, "map2_")
    a = _cpu_array(self, "map2_")
    bx, by = _expanded(x, self, "map2_"), _expanded(y, self, "map2_")
    fn = np.frompyfunc(callable, 3, 1)
    return _store(self, fn(a, bx, by)) if a.size else self


def _expanded(src: Tensor, dst: Tensor, op: str) -> np.ndarray:
    """``src``'s array broadcast to ``dst``'s shape (``expand``'s checks and errors)."""
    return _cpu_array(src, op) if tuple(src.shape) == tuple(dst.shape) else \
        _cpu_array(src.expand(tuple(dst.shape)), op)


def set_(self: Tensor, source=None, storage_offset: int = 0, size=None, stride=None) -> Tensor:
    """Makes ``self`` share memory with ``source``: a tensor (its shape and strides too), a
    storage (``untyped_storage()``; as ``size``/``stride`` elements from ``storage_offset``,
    the whole storage as 1-D by default), or nothing (an empty tensor)."""
    if self.requires_grad and self.grad_fn is None and _State.enabled:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    xp = xp_of(self._data)
    if source is None:
        data = xp.empty((0,), self._data.dtype)
    elif isinstance(source, Tensor):
        if source._data.dtype != self._data.dtype:
            raise RuntimeError(f"Could not set tensor of type {source.dtype} to a tensor of "
                               f"type {self.dtype}")
        data = source._data
    elif hasattr(source, "_arr"):  # an UntypedStorage
        data = _from_storage(source._arr, self._data.dtype, storage_offset, size, stride)
    else:
        raise TypeError(f"set_(): expected a Tensor, a storage or nothing, got "
                        f"{type(source).__name__}")
    self._data = data
    self._base = None
    self._view_fn = None
    self._vc[0] += 1
    return self


def _from_storage(arr, dtype, offset: int, size, stride):
    flat = arr.reshape(-1).view(np.uint8).view(dtype)
    if size is None:
        return flat[offset:]
    size = tuple(int(s) for s in size)
    if stride is None:
        stride, acc = [], 1
        for s in reversed(size):
            stride.insert(0, acc)
            acc *= s
    item = flat.dtype.itemsize
    return xp_of(arr).lib.stride_tricks.as_strided(
        flat[offset:], shape=size, strides=tuple(int(s) * item for s in stride))


def as_subclass(self: Tensor, cls) -> Tensor:
    """A tensor of class ``cls`` (a ``Tensor`` subclass) on the same memory as ``self``,
    attached to the same graph (as an alias)."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(f"as_subclass: expected a subclass of Tensor, got {cls!r}")
    from .ops.shape import alias

    out = alias(self)
    out.__class__ = cls
    return out


def dim_order(self: Tensor, *, ambiguity_check=False) -> tuple:
    """The dims from outermost to innermost in memory (``(0, 1, 2, 3)`` for a contiguous
    4-D tensor, ``(0, 2, 3, 1)`` channels-last); equal strides are ordered by size, and
    zero strides (broadcast dims) keep their place, as PyTorch orders them."""
    shape, strides = tuple(self.shape), tuple(self.stride())
    if ambiguity_check is not False:
        from . import _memory_format as _mf

        formats = [_mf.contiguous_format] if ambiguity_check is True else \
            list(ambiguity_check)
        if sum(bool(self.is_contiguous(memory_format=f)) for f in formats) > 1 or \
                (ambiguity_check is True and self.ndim == 4 and
                 self.is_contiguous(memory_format=_mf.channels_last) and
                 self.is_contiguous()):
            raise RuntimeError("The tensor does not have unique dim order, or cannot map to "
                               "exact one of the given memory formats.")

    def outer(a: int, b: int) -> int:  # > 0: dim a lies inside dim b (swap)
        sa, sb = strides[a], strides[b]
        if sa == 0 or sb == 0:
            return 0
        if sa != sb:
            return -1 if sa < sb else 1
        return 1 if shape[a] > shape[b] else 0

    perm = list(reversed(range(len(shape))))  # innermost first, then reversed at the end
    for i in range(1, len(perm)):
        j = i
        for k in reversed(range(i)):
            c = outer(perm[k], perm[j])
            if c > 0:
                perm[k], perm[j] = perm[j], perm[k]
                j = k
            elif c < 0:
                break
    return tuple(reversed(perm))


def resize(self: Tensor, *sizes) -> Tensor:
    """Deprecated in PyTorch: ``self`` reshaped to ``sizes``, which must keep its number of
    elements (a reshape in the graph)."""
    warnings.warn("non-inplace resize is deprecated", UserWarning, stacklevel=2)
    return _resize(self, sizes)


def resize_as(self: Tensor, tensor: Tensor) -> Tensor:
    """Deprecated in PyTorch: ``self.resize(tensor.shape)``."""
    warnings.warn("non-inplace resize_as is deprecated", UserWarning, stacklevel=2)
    return _resize(self, (tuple(tensor.shape),))


def _resize(t: Tensor, sizes) -> Tensor:
    shape = tuple(sizes[0]) if len(sizes) == 1 and not isinstance(sizes[0], int) else sizes
    n = 1
    for s in shape:
        n *= int(s)
    if n != t.numel():
        have = "x".join(str(s) for s in t.shape)
        raise RuntimeError(f"requested resize to {'x'.join(str(s) for s in shape)} ({n} "
                           f"elements in total), but the given tensor has a size of {have} "
                           f"({t.numel()} elements). autograd's resize can only change the "
                           f"shape of a given tensor, while preserving the number of "
                           f"elements.")
    return t.reshape(shape)


def chalf(self: Tensor, memory_format=None) -> Tensor:
    """Refused: complex32 has no numpy (or CuPy) dtype."""
    raise RuntimeError("chalf: complex32 (torch.chalf) is not supported by ember: numpy "
                       "has no complex32 dtype; use cfloat (complex64)")


def install() -> None:
    """Binds the methods on ``Tensor``."""
    Tensor.apply_ = apply_
    Tensor.map_ = map_
    Tensor.map2_ = map2_
    Tensor.set_ = set_
    Tensor.as_subclass = as_subclass
    Tensor.dim_order = dim_order
    Tensor.chalf = chalf
    Tensor.resize = resize
    Tensor.resize_as = resize_as
    Tensor.adjoint = lambda self: self.mH
    Tensor.const_data_ptr = lambda self: self.data_ptr()
    Tensor.is_distributed = lambda self: False
    Tensor.record_stream = lambda self, stream: None
    Tensor.sparse_dim = lambda self: 0
    Tensor.dense_dim = lambda self: self.ndim
