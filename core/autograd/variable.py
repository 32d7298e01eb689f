"""``ember.autograd.Variable``: the legacy wrapper, kept as PyTorch keeps it.

``Variable(t, requires_grad=True)`` returns a plain Tensor (a detached alias of ``t``'s data
with ``requires_grad`` set), and every Tensor passes ``isinstance(x, Variable)``.
"""

from __future__ import annotations

import warnings

__all__ = ["Variable"]


class VariableMeta(type):
    """Makes ``isinstance(tensor, Variable)`` True for every Tensor."""

    def __instancecheck__(cls, other) -> bool:
        from .._tensor import Tensor

        return isinstance(other, Tensor)


class Variable(metaclass=VariableMeta):
    """Legacy: ``Variable(data, requires_grad=False, volatile=False)`` returns a Tensor
    sharing ``data``'s memory, a leaf of the graph; ``Variable()`` an empty float tensor."""

    def __new__(cls, data=None, requires_grad: bool = False, volatile: bool = False):
        from .._tensor import Tensor

        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with "
                          "torch.no_grad():` instead.", UserWarning, stacklevel=2)
        if data is None:
            from .._creation import empty

            return empty(0, requires_grad=requires_grad)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        t = data.detach()
        if requires_grad:
            t.requires_grad_(True)
        return t
