"""In-place ops: ``x.add_(y)``, ``x[i] = v``, ``x.copy_(y)`` and friends.

Without a graph to record, an in-place op writes straight into the tensor's memory. When
autograd is involved, the op is computed out of place and then committed into the tensor's
memory by ``commit_inplace``: the version counter is bumped (so stale saved values raise at
backward), the tensor moves to the new node of the graph, and when it is a view, its base is
rebased onto a ``CopySlices`` node, as PyTorch does.
"""

from __future__ import annotations

from .._array_flags import writeable
from .._dtype import _FROM_NP
from .._tensor import Tensor
from ..autograd.grad_mode import _State
from . import op as _op
from .op import Op, xp_of

__all__ = ["commit_inplace", "needs_graph"]


def needs_graph(self: Tensor, *others) -> bool:
    """True when an in-place op on ``self`` with ``others`` must be recorded."""
    if _op._TRACER is not None:  # ember.jit.trace records in-place ops too
        return True
    if not _State.enabled:
        return False
    if self.requires_grad:
        return True
    for o in others:
        if isinstance(o, Tensor) and o.requires_grad:
            return True
    base = self._base
    return base is not None and base.requires_grad


def _check_leaf(self: Tensor) -> None:
    if self.requires_grad and self.grad_fn is None and _State.enabled:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    base = self._base
    if base is not None and base.requires_grad and base.grad_fn is None and _State.enabled:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")


def check_result_fits(self: Tensor, data, op: str) -> None:
    """In-place results must keep ``self``'s shape and be castable to its dtype."""
    if data.shape != self._data.shape:
        raise RuntimeError(f"{op}: output with shape {list(self._data.shape)} doesn't match the "
                           f"broadcast shape {list(data.shape)}")
    sk, dk = self._data.dtype.kind, data.dtype.kind
    order = "biufc"
    if sk != "V" and dk != "V" and order.index(dk if dk != "u" else "i") > \
            order.index(sk if sk != "u" else "i") and not (sk in "iu" and dk in "iu"):
        raise RuntimeError(f"{op}: result type {_pt(_FROM_NP[data.dtype])} can't be cast to the "
                           f"desired output type {_pt(_FROM_NP[self._data.dtype])}")


def _pt(d) -> str:
    return {"int64": "Long", "int32": "Int", "float32": "Float", "float64": "Double",
            "bool": "Bool", "uint8": "Byte", "float16": "Half",
            "complex64": "ComplexFloat"}.get(d.name, d.name)


def commit_inplace(self: Tensor, result: Tensor, op: str = "inplace") -> Tensor:
    """Writes ``result`` (computed out of place from ``self``) into ``self``.

    Departure from PyTorch (docs/compatibility.md): in-place ops on outputs of
    ``unbind``/``split``/``chunk`` and ``y.mul_(y)`` on a non-leaf are allowed and give the
    correct gradient, where PyTorch raises."""
    _check_leaf(self)
    data = result._data
    check_result_fits(self, data, op)
    node = result.grad_fn
    if node is not None:
        saved = getattr(node, "_saved", None)
        if saved is not None and any(s is self for s in saved):
            # the op needs self's old value: keep a copy of it for backward
            snap = Tensor._make(self._data.copy(), self.requires_grad, self.grad_fn,
                                self._out_nr)
            snap._vc = [self._vc[0]]
            node._saved = tuple(snap if s is self else s for s in saved)
    if not writeable(self._data):
        raise RuntimeError(f"{op}: unsupported operation: the tensor is a broadcast (expanded) "
                           "view whose elements share memory; clone it first.")
    xp_of(data).copyto(self._data, data, casting="unsafe")
    self._vc[0] += 1
    if result.requires_grad and _State.enabled:
        if self._base is None:
            self.grad_fn = node
            self._out_nr = result._out_nr
            self.requires_grad = True
        else:
            _rebase_view(self, result)
    if _op._TRACER is not None:
        _op._TRACER.rebind(self, result)
    return self


class CopySlices(Op):
    """The base of a view that was modified in place: its gradient flows to the base's old
    value outside the view and to the new values inside it."""

    _name = "copy_slices"

    def backward(self, g):
        mask = g.new_ones(self.base_shape)
        self.view_fn(mask)._data[...] = 0
        return g * mask, self.view_fn(g)


def _rebase_view(view: Tensor, result: Tensor) -> None:
    base = view._base
    node = CopySlices.__new__(CopySlices)
    node.base_shape = base._data.shape
    node.view_fn = view._view_fn
    base_edge = (base.grad_fn, base._out_nr) if base.grad_fn is not None else (
        (base._accumulator(), 0) if base.requires_grad else (None, 0))
    node.next_functions = (base_edge, (result.grad_fn, result._out_nr))
    base.grad_fn = node
    base._out_nr = 0
    base.requires_grad = True
    fresh = view._view_fn(base)  # the view recomputed from the rebased base, with its graph
    view.grad_fn = fresh.grad_fn
    view._out_nr = fresh._out_nr
    view.requires_grad = True
    view._view_ver = view._vc[0]
