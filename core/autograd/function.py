"""``ember.autograd.Function``: user-defined ops with their own forward and backward.

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

``forward`` runs with gradient recording off; ``backward`` is written with ember ops, so it is
itself differentiable when called under ``create_graph=True``.
"""

from __future__ import annotations

from .grad_mode import _State
from .graph import Node, _SavedHooks

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx(Node):
    """The ``ctx`` object of a custom Function; it is also the graph node."""

    def save_for_backward(self, *tensors) -> None:
        """Saves tensors (or None) for backward; they are checked for in-place changes."""
        self._to_save = tensors

    def save_for_forward(self, *tensors) -> None:
        """Saves tensors (or None) for a forward-mode ``jvp``; as PyTorch, ``jvp`` reads
        them back through ``ctx.saved_tensors``."""
        self._to_save_fwd = tensors

    def mark_dirty(self, *tensors) -> None:
        """Declares inputs that forward modified in place."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        """Declares outputs that have no gradient."""
        self._non_diff = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """When False, backward receives None for outputs with no gradient."""
        self._materialize = value

    def name(self) -> str:
        return self._fn_cls.__name__ + "Backward"

    def backward(self, *grads):
        if getattr(self, "_materialize", True):
            grads = tuple(g if g is not None else _zeros(meta)
                          for g, meta in zip(grads, self._out_meta))
        out = self._fn_cls.backward(self, *grads)
        if not isinstance(out, tuple):
            out = (out,)
        n_in = len(self.needs_input_grad)
        if len(out) > n_in and all(g is None for g in out[n_in:]):
            out = out[:n_in]  # extra gradients are allowed when they are all None
        if len(out) != n_in:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                               f"gradients (expected {n_in}, got {len(out)})")
        # keep the gradients of tensor arguments only (one per graph input)
        return tuple(out[i] if i < len(out) else None for i in self._tensor_positions)


def _zeros(meta):
    from .._creation import zeros

    shape, dtype, device = meta
    return zeros(shape, dtype=dtype, device=device)


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + "Backward", (FunctionCtx,), {"_fn_cls": cls})


class Function(metaclass=_FunctionMeta):
    """Base class for custom autograd ops: implement static ``forward(ctx, *args)`` and
    ``backward(ctx, *grad_outputs)``, then call ``MyFn.apply(*args)``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    vjp = backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Optional: with it overridden, ``forward(*args)`` takes no ctx and
        ``setup_context(ctx, inputs, output)`` saves what backward needs."""
        raise NotImplementedError("setup_context is not implemented.")

    @classmethod
    def apply(cls, *args, **kwargs):
        from .._tensor import Tensor

        ctx = cls._backward_cls.__new__(cls._backward_cls)
        tensor_pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx._tensor_positions = tensor_pos
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        prev = _State.enabled
        _State.enabled = False
        try:
            if cls.setup_context is not Function.setup_context:
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            _State.enabled = prev
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        record = prev and any(args[i].requires_grad for i in tensor_pos)
        inputs = [args[i] for i in tensor_pos]
        dirty = getattr(ctx, "_dirty", ())
        non_diff = {id(t) for t in getattr(ctx, "_non_diff", ())}
        if prev and any(t.requires_grad and t.grad_fn is None for t in dirty):
            raise RuntimeError("a leaf Variable that requires grad has been used in an in-place "
                               "operation.")
        if not record:
            for t in dirty:
                t._bump()
            return outputs
        ctx.next_functions = tuple(_edge(t) for t in inputs)
        to_save = getattr(ctx, "_to_save", None)
        if to_save is not None:
            ctx._saved = tuple(to_save)
            ctx._saved_versions = tuple(t._vc[0] + (1 if any(t is d for d in dirty) else 0)
                                        if t is not None else 0 for t in to_save)
        ctx._n_outputs = len(outs)
        ctx._out_meta = tuple((o.shape, o.dtype, o.device) if isinstance(o, Tensor) else
                              ((), None, None) for o in outs)
        result = []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                result.append(o)
                continue
            is_dirty = any(o is d for d in dirty)
            if is_dirty:
                o._bump()
                t = o
            elif any(o is a for a in inputs):
                t = o.view_as(o)  # an input returned as is becomes a new graph output
            else:
                t = o
            if id(o) in non_diff or not (o.is_floating_point() or o.is_complex()):
                t.requires_grad = False
                t.grad_fn = None
            else:
                t.grad_fn = ctx
                t._out_nr = i
                t.requires_grad = True
            result.append(t)
        if to_save is not None and _SavedHooks.stack:
            ctx._pack_saved()  # after the outputs got their grad_fn
        return result[0] if single else tuple(result)


def _edge(t):
    if t._base is not None and t._view_ver != t._vc[0]:
        t._refresh_view()
    if t.grad_fn is not None:
        return (t.grad_fn, t._out_nr)
    if t.requires_grad:
        return (t._accumulator(), 0)
    return (None, 0)


def once_differentiable(fn):
    """Decorator for backward methods that are not themselves differentiable: runs them
    without recording a graph."""
    import functools

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        from .._tensor import Tensor
        from .grad_mode import no_grad

        with no_grad():
            outputs = fn(ctx, *args)
        if not _State.enabled or not any(isinstance(a, Tensor) and a.requires_grad
                                         for a in args):
            return outputs
        # under create_graph: the gradients get a node that raises if differentiated
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        fake = [o.detach().requires_grad_() if isinstance(o, Tensor) else o for o in outs]
        res = _DelayedError.apply(*fake)
        return res[0] if single else res
    return wrapper


class _DelayedError(Function):
    """Passes tensors through; differentiating the result raises (what ``once_differentiable``
    backward results get under ``create_graph=True``)."""

    @staticmethod
    def forward(ctx, *tensors):
        return tuple(tensors)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")
