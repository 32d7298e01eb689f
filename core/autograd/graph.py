"""The autograd graph: ``Node`` (what ``tensor.grad_fn`` is) and ``AccumulateGrad``.

A node records, for one op application, the edges to the nodes of its inputs
(``next_functions``: pairs of (node, output index)), the tensors its backward needs (with the
version each had when saved), and hooks. Saved values are freed after backward unless
``retain_graph=True``.
"""

from __future__ import annotations

import weakref

from .._array_flags import writeable

__all__ = ["Node", "AccumulateGrad", "RemovableHandle", "saved_tensors_hooks", "save_on_cpu",
           "disable_saved_tensors_hooks", "register_multi_grad_hook"]

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
    _packed = False  # _saved holds _Packed entries (saved_tensors_hooks were active)
    _out_packed = None

    def name(self) -> str:
        """The node's name, as PyTorch prints it (``AddBackward0``)."""
        n = self._name
        return "".join(p.capitalize() for p in n.split("_")) + "Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def metadata(self) -> dict:
        """A dict of the user's own data attached to this node (created on first use)."""
        d = self.__dict__.get("_metadata")
        if d is None:
            d = self.__dict__["_metadata"] = {}
        return d

    # -- saved values ------------------------------------------------------------------
    @property
    def saved_tensors(self) -> tuple:
        """The tensors saved for backward, checked against in-place modification."""
        if self._freed:
            raise RuntimeError(_FREED_MSG)
        saved = self._saved
        if saved is None:
            return ()
        if self._packed:
            return tuple([self.saved_tensor(i) for i in range(len(saved))])
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
        if type(t) is _Packed:  # as PyTorch, no version check through saved-tensor hooks
            return t.unpack_tensor()
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
        if vc[0] != v and self._out_packed is None:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by "
                f"an inplace operation: the output of {self.name()} is at version {vc[0]}; "
                f"expected version {v} instead.")
        from .._tensor import Tensor

        data = self._out_data
        if data is None and self._out_packed is not None:
            data = self._out_packed.unpack_tensor()._data
        t = Tensor._make(data, True, self, 0)
        t._vc = vc
        return t

    def _release(self) -> None:
        """Frees the saved values (called after backward without retain_graph)."""
        if self._saved is not None or self._out_data is not None or \
                self._out_packed is not None:
            self._saved = None
            self._out_data = None
            self._out_packed = None
            self._freed = True

    def _pack_saved(self) -> None:
        """Applies the active ``saved_tensors_hooks`` pack hook to the saved tensors (called
        by the op machinery only while such hooks are active)."""
        self._saved = tuple([_Packed(t) if t is not None else None for t in self._saved])
        self._packed = True

    def _pack_output(self, result) -> None:
        """Saves the op's output ``result`` through the active pack hook."""
        self._out_packed = _Packed(result)
        self._out_version = (result._vc, result._vc[0])

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
    _post_acc_hooks = None

    def __init__(self, tensor):
        self._var_ref = weakref.ref(tensor)
        self.next_functions = ()

    def _add_post_acc_hook(self, fn) -> RemovableHandle:
        hooks = self._hooks_dict("_post_acc_hooks")
        h = RemovableHandle(hooks)
        hooks[h.id] = fn
        return h

    def _run_post_acc_hooks(self, t) -> None:
        for fn in list(self._post_acc_hooks.values()):
            if fn(t) is not None:
                raise RuntimeError("post accumulate grad hooks must return None")

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
        self._accumulate(t, grad, create_graph, shared)
        if self._post_acc_hooks:
            self._run_post_acc_hooks(t)

    def _accumulate(self, t, grad, create_graph: bool, shared: bool) -> None:
        # a sparse COO gradient (nn.Embedding(sparse=True)) has no ``_base``/``_data``: the
        # AttributeError sends it to _accumulate_sparse, at no cost to dense gradients
        old_grad = t.grad
        if old_grad is None:
            if not create_graph:
                try:
                    is_view = grad._base is not None  # detach() drops _base: ask first
                except AttributeError:
                    if type(grad) is not _SparseTensor:
                        raise
                    _accumulate_sparse(t, grad, create_graph, shared)
                    return
                grad = grad.detach()
                if shared or is_view or not writeable(grad._data):
                    grad = grad.clone()
            t.grad = grad
        elif create_graph:
            if type(grad) is _SparseTensor or type(old_grad) is _SparseTensor:
                _accumulate_sparse(t, grad, create_graph, shared)
            else:
                t.grad = old_grad + grad
        else:
            try:
                old = old_grad._data
                new = grad._data
            except AttributeError:
                if type(grad) is not _SparseTensor and type(old_grad) is not _SparseTensor:
                    raise
                _accumulate_sparse(t, grad, create_graph, shared)
                return
            if old.shape == new.shape and old.dtype == new.dtype and writeable(old) \
                    and type(old) is type(new):
                old += new
                old_grad._vc[0] += 1
            else:
                t.grad = (old_grad + grad).detach()


class _NoSparse:
    """Stands for ``ember.sparse.SparseTensor`` until that module is imported (no sparse
    tensor can exist before); ``ember.sparse`` replaces it with the real class."""


_SparseTensor: type = _NoSparse


def _accumulate_sparse(t, grad, create_graph: bool, shared: bool) -> None:
    """``AccumulateGrad`` when the incoming gradient or ``t.grad`` is a sparse COO tensor
    (``nn.Embedding(sparse=True)``), as PyTorch: sparse + sparse stays sparse (entries
    concatenated, in place on ``t.grad``), and a dense term makes the sum dense."""
    from ..sparse import add_dense, add_dense_

    old = t.grad
    new_sparse = type(grad) is _SparseTensor
    if old is None:
        if create_graph:
            t.grad = grad
            return
        v = grad._values_t
        own = not shared and v._base is None and writeable(v._data)
        v = v.detach() if own else v.detach().clone()
        t.grad = _SparseTensor(grad._idx, v, grad._size, grad._coalesced)
        return
    old_sparse = type(old) is _SparseTensor
    if create_graph:
        if old_sparse and new_sparse:
            t.grad = old.add(grad)
        else:
            t.grad = add_dense(grad, old) if old_sparse else add_dense(old, grad)
    elif old_sparse and new_sparse:
        old.add_(grad.detach())
    elif old_sparse:  # a dense gradient arrives: the sum is a new dense tensor
        t.grad = add_dense(grad.detach(), old)
    elif writeable(old._data) and old.grad_fn is None and not old.requires_grad:
        add_dense_(old, grad.detach())
    else:
        t.grad = add_dense(old.detach(), grad.detach())


# -- saved tensors hooks -------------------------------------------------------------------
class _SavedHooks:
    """The active ``(pack, unpack)`` pairs, innermost last (read on every recorded op that
    saves tensors, so kept as a plain class attribute), and the disabling message."""

    stack: list = []
    disabled_msg = None


class _Packed:
    """A saved tensor after the pack hook: what it returned, the unpack hook to apply, and
    what is needed to rebuild the tensor's place in the graph."""

    __slots__ = ("obj", "unpack", "vc", "shape", "dtype", "requires_grad", "grad_fn",
                 "out_nr", "accum")

    def __init__(self, t):
        pack, unpack = _SavedHooks.stack[-1]
        self.vc = t._vc
        self.shape = t.shape
        self.dtype = t.dtype
        self.requires_grad = t.requires_grad
        self.grad_fn = t.grad_fn
        self.out_nr = t._out_nr
        self.accum = t._accumulator() if t.requires_grad and t.grad_fn is None else None
        self.unpack = unpack
        stack = _SavedHooks.stack
        _SavedHooks.stack = []  # tensors saved by ops inside the hook itself are kept as is
        try:
            self.obj = pack(t)
        finally:
            _SavedHooks.stack = stack

    def unpack_tensor(self):
        from .._tensor import Tensor

        u = self.unpack(self.obj)
        if not isinstance(u, Tensor):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but "
                            f"got result of type {type(u).__name__}")
        if u.grad_fn is self.grad_fn and u._vc is self.vc:
            return u  # the original tensor (or one in its place in the graph)
        t = Tensor._make(u._data, self.requires_grad, self.grad_fn, self.out_nr)
        t._accum = self.accum
        t._vc = self.vc
        return t


class saved_tensors_hooks:
    """Context manager: while active, each tensor an op saves for backward is passed to
    ``pack_hook(tensor)`` and what it returns is stored; backward calls
    ``unpack_hook(stored)`` to get the tensor back (as ``torch.autograd.graph``).

    ember applies the hooks to tensors saved through the op machinery and
    ``ctx.save_for_backward``; a few multi-output linalg ops keep their outputs directly."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if _SavedHooks.disabled_msg is not None:
            raise RuntimeError(_SavedHooks.disabled_msg)
        _SavedHooks.stack.append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc):
        _SavedHooks.stack.pop()
        return False


class save_on_cpu(saved_tensors_hooks):
    """Context manager: tensors saved for backward are moved to the CPU (pinned when
    ``pin_memory``) and moved back to their device when backward needs them."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda"):
        def pack_to_cpu(tensor):
            if not pin_memory or tensor.device.type == "cpu":
                return (tensor.device, tensor.cpu())
            return (tensor.device, tensor.cpu().pin_memory())

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device, non_blocking=pin_memory)

        super().__init__(pack_to_cpu, unpack_from_cpu)


class disable_saved_tensors_hooks:
    """Context manager (and decorator) under which entering ``saved_tensors_hooks`` raises
    ``RuntimeError(error_message)``."""

    def __init__(self, error_message: str):
        self.error_message = error_message

    def __enter__(self):
        self.prev = _SavedHooks.disabled_msg
        _SavedHooks.disabled_msg = self.error_message
        return self

    def __exit__(self, *exc):
        _SavedHooks.disabled_msg = self.prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.error_message):
                return fn(*args, **kwargs)
        return wrapper


# -- hooks over several tensors ------------------------------------------------------------
class _MultiHandle:
    """The handle ``register_multi_grad_hook`` returns: ``remove()`` removes every hook."""

    def __init__(self, handles) -> None:
        self.handles = tuple(handles)

    def remove(self) -> None:
        for h in self.handles:
            h.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def register_multi_grad_hook(tensors, fn, *, mode: str = "all"):
    """Registers ``fn`` over several tensors, once per backward pass. With ``mode="all"``,
    ``fn(grads)`` gets the gradients of all ``tensors`` (None for those the pass did not
    reach); ember calls it when the backward pass finishes, where PyTorch calls it as soon as
    the last of them is computed. With ``mode="any"``, ``fn(grad)`` is called with the first
    of their gradients to be computed."""
    from .engine import _final_callbacks, queue_callback

    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    pending: dict = {}  # id of the backward pass's callback list -> gradients so far

    if mode == "all":
        def inner(idx):
            def hook(grad):
                task = id(_final_callbacks[-1])
                buf = pending.get(task)
                if buf is None:
                    buf = pending[task] = [None] * len(tensors)
                    queue_callback(lambda: fn(pending.pop(task)))
                buf[idx] = grad
            return hook

        return _MultiHandle(t.register_hook(inner(i)) for i, t in enumerate(tensors))

    def first(grad):
        task = id(_final_callbacks[-1])
        if task in pending:
            return
        pending[task] = True
        queue_callback(lambda: pending.pop(task))
        fn(grad)

    return _MultiHandle(t.register_hook(first) for t in tensors if t.requires_grad)
