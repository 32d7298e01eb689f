"""The autograd graph: ``Node`` (what ``tensor.grad_fn`` is) and ``AccumulateGrad``.

A node records, for one op application, the edges to the nodes of its inputs
(``next_functions``: pairs of (node, output index)), the tensors its backward needs (with the
version each had when saved), and hooks. Saved values are freed after backward unless
``retain_graph=True``.
"""

from __future__ import annotations

import weakref

__all__ = ["Node", "AccumulateGrad", "RemovableHandle"]

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")


class RemovableHandle:
    """Handle returned by ``register_*hook``; ``remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks_dict: dict):
        try:
            self.hooks_dict_ref = weakref.ref(hooks_dict)
        except TypeError:  # a plain dict can't be weakly referenced: hold it
            self.hooks_dict_ref = lambda: hooks_dict
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        hooks = self.hooks_dict_ref()
        if hooks is not None:
            hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Node:
    """One recorded operation in the backward graph (``tensor.grad_fn``).

    Subclasses implement ``backward(self, *grad_outputs)`` returning one gradient (a Tensor or
    None) per input. ``_name`` is the op's stable name (``MulBackward0`` style names are given
    by ``name()``).
    """

    __slots__ = ("next_functions", "__weakref__", "__dict__")

    _name = "Node"
    # defaults, overridden per instance only when used (keeps op nodes cheap to create)
    _saved = None
    _saved_versions = ()
    _out_data = None
    _out_version = None
    _freed = False
    _tensor_hooks = None
    _pre_hooks = None
    _post_hooks = None
    _n_outputs = 1
    _out_meta = None

    def name(self) -> str:
        """The node's name, as PyTorch prints it (``AddBackward0``)."""
        n = self._name
        return "".join(p.capitalize() for p in n.split("_")) + "Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    # -- saved values ------------------------------------------------------------------
    @property
    def saved_tensors(self) -> tuple:
        """The tensors saved for backward, checked against in-place modification."""
        if self._freed:
            raise RuntimeError(_FREED_MSG)
        saved = self._saved
        if saved is None:
            return ()
        versions = self._saved_versions
        for t, v in zip(saved, versions):
            if t is not None and t._vc[0] != v:
                raise self._modified_error(t, v)
        return saved

    def saved_tensor(self, i: int):
        """Saved tensor ``i`` alone, checked against in-place modification. Backward code
        that needs only some of its saved tensors reads them this way, so an in-place change
        to one it doesn't need (as for ``y[1] * 2`` then ``y[0] = ...``) is no error, as in
        PyTorch (which saves only what the inputs requiring grad need)."""
        if self._freed:
            raise RuntimeError(_FREED_MSG)
        t = self._saved[i]
        v = self._saved_versions[i]
        if t is not None and t._vc[0] != v:
            raise self._modified_error(t, v)
        return t

    def _modified_error(self, t, v) -> RuntimeError:
        return RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [{t.dtype} {list(t.shape)}], which is output 0 of "
            f"{t.grad_fn.name() if t.grad_fn else 'a leaf'}, is at version {t._vc[0]}; "
            f"expected version {v} instead. Hint: the operation {self.name()} saved it.")

    def saved_output(self):
        """The op's own output, saved for backward, rebuilt as a tensor of this node."""
        if self._freed:
            raise RuntimeError(_FREED_MSG)
        vc, v = self._out_version
        if vc[0] != v:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by "
                f"an inplace operation: the output of {self.name()} is at version {vc[0]}; "
                f"expected version {v} instead.")
        from .._tensor import Tensor

        t = Tensor._make(self._out_data, True, self, 0)
        t._vc = vc
        return t

    def _release(self) -> None:
        """Frees the saved values (called after backward without retain_graph)."""
        if self._saved is not None or self._out_data is not None:
            self._saved = None
            self._out_data = None
            self._freed = True

    # -- hooks -------------------------------------------------------------------------
    def register_hook(self, fn) -> RemovableHandle:
        """Registers ``fn(grad_inputs, grad_outputs)`` to run after this node's backward;
        it may return replacement grad_inputs."""
        hooks = self._hooks_dict("_post_hooks")
        h = RemovableHandle(hooks)
        hooks[h.id] = fn
        return h

    def register_prehook(self, fn) -> RemovableHandle:
        """Registers ``fn(grad_outputs)`` to run before this node's backward; it may return
        replacement grad_outputs."""
        hooks = self._hooks_dict("_pre_hooks")
        h = RemovableHandle(hooks)
        hooks[h.id] = fn
        return h

    def _hooks_dict(self, attr: str) -> dict:
        d = getattr(self, attr)
        if d is None:
            d = {}
            setattr(self, attr, d)
        return d

    def _add_tensor_hook(self, out_nr: int, fn) -> RemovableHandle:
        hooks = self._tensor_hooks
        if hooks is None:
            hooks = self._tensor_hooks = {}
        per_out = hooks.setdefault(out_nr, {})
        h = RemovableHandle(per_out)
        per_out[h.id] = fn
        return h

    def backward(self, *grads):  # pragma: no cover - overridden
        raise NotImplementedError(f"{self.name()} has no backward")


class AccumulateGrad(Node):
    """The graph's sink for a leaf tensor: adds incoming gradients to ``variable.grad``."""

    _name = "accumulate_grad"

    def __init__(self, tensor):
        self._var_ref = weakref.ref(tensor)
        self.next_functions = ()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    @property
    def variable(self):
        """The leaf tensor this node accumulates into."""
        return self._var_ref()

    def accumulate(self, grad, create_graph: bool, shared: bool) -> None:
        """Adds ``grad`` into ``variable.grad``. ``shared`` says the engine handed the same
        tensor elsewhere too (or the user owns it), so it is copied before being stored."""
        t = self._var_ref()
        if t is None:
            return
        if t.grad is None:
            if not create_graph:
                grad = grad.detach()
                if shared or grad._base is not None or not grad._data.flags.writeable:
                    grad = grad.clone()
            t.grad = grad
        elif create_graph:
            t.grad = t.grad + grad
        else:
            old = t.grad._data
            new = grad._data
            if old.shape == new.shape and old.dtype == new.dtype and old.flags.writeable \
                    and type(old) is type(new):
                old += new
                t.grad._vc[0] += 1
            else:
                t.grad = (t.grad + grad).detach()
