"""More constructors: ``empty_permuted``, the legacy ``Tensor.new`` and
``Tensor.new_empty_strided``."""

from __future__ import annotations

import numbers

from . import _creation
from ._tensor import Size, Tensor

__all__ = ["empty_permuted", "new", "new_empty_strided"]


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """An uninitialised dense tensor of shape ``size`` whose dimensions lie in memory in the
    order ``physical_layout`` (outermost first): ``(0, 2, 3, 1)`` is channels-last for
    NCHW."""
    size = tuple(int(s) for s in size)
    order = tuple(int(d) for d in physical_layout)
    n = len(size)
    if len(order) != n:
        raise RuntimeError(f"Number of dimensions in size does not match the length of the "
                           f"physical_layout; i.e. len(size) = {n} is not equal to "
                           f"len(physical_layout) = {len(order)}")
    for i, d in enumerate(order):
        if not 0 <= d < n:
            raise RuntimeError(f"Dimension out of range (expected to be between 0 and {n - 1}, "
                             f"but got {d} at index {i}).  NB: negative dims not currently "
                             f"supported; file an issue if you want it.")
    if len(set(order)) != n:
        raise RuntimeError("Duplicate dim not allowed")
    phys = _creation.empty(tuple(size[d] for d in order), dtype=dtype, device=device)
    inverse = [0] * n
    for i, d in enumerate(order):
        inverse[d] = i
    t = Tensor._make(phys._data.transpose(inverse))
    return t.requires_grad_(True) if requires_grad else t


def new(self: Tensor, *args, device=None) -> Tensor:
    """The legacy constructor, with ``self``'s dtype (and device unless given):
    ``t.new()`` (empty), ``t.new(2, 3)`` or ``t.new(ember.Size(...))`` (uninitialised),
    ``t.new(data)`` (a list, tuple or array: a copy), ``t.new(other)`` (an alias of a tensor
    of the same dtype)."""
    dev = device if device is not None else self.device
    if len(args) == 1:
        a = args[0]
        if isinstance(a, Tensor):
            if a.dtype != self.dtype:
                raise TypeError(f"expected {self.dtype} (got {a.dtype})")
            from .ops.shape import alias

            return alias(a)
        if isinstance(a, (float, complex, bool)):
            raise TypeError(f"new(): data must be a sequence (got {type(a).__name__})")
        if not isinstance(a, (numbers.Integral, Size)):
            return _creation.tensor(a, dtype=self.dtype, device=dev)
    if not args:
        return _creation.empty(0, dtype=self.dtype, device=dev)
    return _creation.empty(*args, dtype=self.dtype, device=dev)


def new_empty_strided(self: Tensor, size, stride, *, dtype=None, layout=None, device=None,
                      requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """``ember.empty_strided`` with ``self``'s dtype and device by default."""
    return _creation.empty_strided(size, stride, dtype=dtype or self.dtype,
                                   device=device or self.device, requires_grad=requires_grad)
