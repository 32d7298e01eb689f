"""Hook plumbing for ``Module``: removable handles, the global (all-module) hooks, the
hook-registration methods every module has (``_ModuleHooks``, a base class of ``Module``)
and the full backward hooks.

Full backward hooks are built on two identity ``autograd.Function``s: one over the module's
tensor outputs, whose backward sees the gradients of the outputs (and runs the backward
pre-hooks), and one over its tensor inputs, whose backward sees the gradients of the inputs
and calls ``hook(module, grad_input, grad_output)``, as ``torch.utils.hooks.BackwardHook``.
"""

from __future__ import annotations

import functools
import itertools
import warnings
import weakref
from collections import OrderedDict

from ..._tensor import Tensor
from ...autograd.function import Function
from ...autograd.grad_mode import _State

__all__ = ["RemovableHandle", "BackwardHook", "register_module_forward_pre_hook",
           "register_module_forward_hook", "register_module_full_backward_hook",
           "register_module_full_backward_pre_hook", "register_module_buffer_registration_hook",
           "register_module_parameter_registration_hook",
           "register_module_module_registration_hook"]


class RemovableHandle:
    """A handle that removes a hook: ``handle.remove()`` (or use it as a context manager).

    Args:
        hooks_dict: the dict of hooks, keyed by hook id.
        extra_dict: a dict or list of dicts whose entry for the same id is removed too.
    """

    next_id: int = 0

    def __init__(self, hooks_dict, *, extra_dict=None) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        if isinstance(extra_dict, dict):
            extra_dict = [extra_dict]
        self.extra_dict_ref = tuple(weakref.ref(d) for d in (extra_dict or ()))

    def remove(self) -> None:
        """Unregisters the hook."""
        d = self.hooks_dict_ref()
        if d is not None:
            d.pop(self.id, None)
        for ref in self.extra_dict_ref:
            e = ref()
            if e is not None:
                e.pop(self.id, None)

    def __getstate__(self):
        return (self.hooks_dict_ref(), self.id, tuple(r() for r in self.extra_dict_ref))

    def __setstate__(self, state) -> None:
        self.hooks_dict_ref = weakref.ref(state[0] if state[0] is not None else OrderedDict())
        self.id = state[1]
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)
        self.extra_dict_ref = tuple(weakref.ref(d) for d in state[2] if d is not None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class _HookIdentity(Function):
    """Identity on tensors whose backward hands the gradients to ``callback``. Tensors that
    don't require grad stay out of the graph; with ``materialize`` False the callback gets
    None for outputs that received no gradient (as PyTorch's hooks on the outputs)."""

    @staticmethod
    def forward(ctx, callback, materialize, *tensors):
        ctx.callback = callback
        ctx.set_materialize_grads(materialize)
        outs = tuple(t.view_as(t) for t in tensors)
        ctx.mark_non_differentiable(*[o for o, t in zip(outs, tensors) if not t.requires_grad])
        return outs

    @staticmethod
    def backward(ctx, *grads):
        res = ctx.callback(grads)
        return (None, None) + tuple(res if res is not None else grads)


class BackwardHook:
    """Connects a module's output gradients with its input gradients and calls the full
    backward hooks (and backward pre-hooks) of the module."""

    def __init__(self, module, user_hooks, user_pre_hooks) -> None:
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_inputs = -1
        self.n_outputs = -1
        self.input_index = None
        self.output_index = None

    @staticmethod
    def _pack(indices, values, size):
        res = [None] * size
        for i, v in zip(indices, values):
            res[i] = v
        return tuple(res)

    def _wrap(self, args, callback, materialize):
        idx = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        if not (_State.enabled and any(args[i].requires_grad for i in idx)):
            return args, None
        new = _HookIdentity.apply(callback, materialize, *[args[i] for i in idx])
        if not isinstance(new, tuple):
            new = (new,)
        out = list(args)
        for i, v in zip(idx, new):
            out[i] = v
        return tuple(out), idx

    def setup_input_hook(self, args):
        """Wraps the tensor inputs; their backward calls the full backward hooks."""
        def on_grad_inputs(grads):
            if self.grad_outputs is None:
                return None
            res = self._pack(self.input_index, grads, self.n_inputs)
            for hook in self.user_hooks:
                out = hook(self.module, res, self.grad_outputs)
                if out is None:
                    continue
                if len(out) != len(res):
                    raise RuntimeError("Backward hook returned an invalid number of grad_input, "
                                       f"got {len(out)}, but expected {len(res)}")
                res = out
            self.grad_outputs = None
            return tuple(res[i] for i in self.input_index)

        res, self.input_index = self._wrap(tuple(args), on_grad_inputs, True)
        self.n_inputs = len(args)
        return res

    def setup_output_hook(self, result):
        """Wraps the tensor outputs; their backward records the output gradients."""
        def on_grad_outputs(grads):
            self.grad_outputs = self._pack(self.output_index, grads, self.n_outputs)
            for pre in self.user_pre_hooks:
                r = pre(self.module, self.grad_outputs)
                if r is None:
                    continue
                if len(r) != len(self.grad_outputs):
                    raise RuntimeError("Backward pre hook returned an invalid number of "
                                       f"grad_output, got {len(r)}, but expected "
                                       f"{len(self.grad_outputs)}")
                self.grad_outputs = tuple(r)
            local = self.grad_outputs
            if self.input_index is None:
                warnings.warn("Full backward hook is firing when gradients are computed with "
                              "respect to module outputs since no inputs require gradients.",
                              stacklevel=2)
                grad_inputs = (None,) * self.n_inputs
                for hook in self.user_hooks:
                    r = hook(self.module, grad_inputs, self.grad_outputs)
                    if r is not None and not (isinstance(r, tuple) and
                                              all(x is None for x in r)):
                        raise RuntimeError("Backward hook for Modules where no input requires "
                                           "gradient should always return None or None for "
                                           "all gradients.")
                self.grad_outputs = None
            return tuple(local[i] for i in self.output_index)

        single = not isinstance(result, tuple)
        args = (result,) if single else result
        res, self.output_index = self._wrap(args, on_grad_outputs, False)
        self.n_outputs = len(args)
        return res[0] if single else res


# -- hooks on every module -----------------------------------------------------------
_global_forward_pre_hooks: OrderedDict = OrderedDict()
_global_forward_hooks: OrderedDict = OrderedDict()
_global_forward_hooks_always_called: OrderedDict = OrderedDict()
_global_forward_hooks_with_kwargs: OrderedDict = OrderedDict()
_global_backward_hooks: OrderedDict = OrderedDict()
_global_backward_pre_hooks: OrderedDict = OrderedDict()
_global_buffer_registration_hooks: OrderedDict = OrderedDict()
_global_parameter_registration_hooks: OrderedDict = OrderedDict()
_global_module_registration_hooks: OrderedDict = OrderedDict()


def _global_hook(d: OrderedDict, hook) -> RemovableHandle:
    h = RemovableHandle(d)
    d[h.id] = hook
    return h


def register_module_forward_pre_hook(hook) -> RemovableHandle:
    """Registers ``hook(module, args)`` to run before the forward of every module."""
    return _global_hook(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook, *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """Registers ``hook(module, args, output)`` (or ``hook(module, args, kwargs, output)``
    with ``with_kwargs``) to run after the forward of every module."""
    h = RemovableHandle(_global_forward_hooks, extra_dict=[_global_forward_hooks_with_kwargs,
                                                         _global_forward_hooks_always_called])
    _global_forward_hooks[h.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs[h.id] = True
    if always_call:
        _global_forward_hooks_always_called[h.id] = True
    return h


def register_module_full_backward_hook(hook) -> RemovableHandle:
    """Registers ``hook(module, grad_input, grad_output)`` for every module."""
    return _global_hook(_global_backward_hooks, hook)


def register_module_full_backward_pre_hook(hook) -> RemovableHandle:
    """Registers ``hook(module, grad_output)`` for every module."""
    return _global_hook(_global_backward_pre_hooks, hook)


def register_module_buffer_registration_hook(hook) -> RemovableHandle:
    """Registers ``hook(module, name, buffer)``, called by every ``register_buffer``."""
    return _global_hook(_global_buffer_registration_hooks, hook)


def register_module_parameter_registration_hook(hook) -> RemovableHandle:
    """Registers ``hook(module, name, param)``, called by every ``register_parameter``."""
    return _global_hook(_global_parameter_registration_hooks, hook)


def register_module_module_registration_hook(hook) -> RemovableHandle:
    """Registers ``hook(module, name, submodule)``, called by every ``register_module``."""
    return _global_hook(_global_module_registration_hooks, hook)


class _ModuleHooks:
    """The hook methods of ``Module`` (registration, and running forward with hooks)."""

    def _call_with_hooks(self, forward_call, args, kwargs):
        full_hooks = []
        pre_bw_hooks = []
        if self._backward_pre_hooks or _global_backward_pre_hooks:
            pre_bw_hooks = list(_global_backward_pre_hooks.values()) + \
                list(self._backward_pre_hooks.values())
        if self._backward_hooks or _global_backward_hooks:
            full_hooks = list(_global_backward_hooks.values()) + \
                list(self._backward_hooks.values())
        called_always = set()
        result = None
        try:
            for hook_id, hook in itertools.chain(_global_forward_pre_hooks.items(),
                                                 self._forward_pre_hooks.items()):
                if hook_id in self._forward_pre_hooks_with_kwargs:
                    r = hook(self, args, kwargs)
                    if r is not None:
                        if isinstance(r, tuple) and len(r) == 2:
                            args, kwargs = r
                        else:
                            raise RuntimeError("forward pre-hook must return None or a tuple "
                                               f"of (new_args, new_kwargs), but got {r}.")
                else:
                    r = hook(self, args)
                    if r is not None:
                        args = r if isinstance(r, tuple) else (r,)
            bw_hook = None
            if full_hooks or pre_bw_hooks:
                bw_hook = BackwardHook(self, full_hooks, pre_bw_hooks)
                args = bw_hook.setup_input_hook(args)
            result = forward_call(*args, **kwargs)
            for hook_id, hook in itertools.chain(_global_forward_hooks.items(),
                                                 self._forward_hooks.items()):
                if hook_id in _global_forward_hooks_always_called or \
                        hook_id in self._forward_hooks_always_called:
                    called_always.add(hook_id)
                if hook_id in self._forward_hooks_with_kwargs or \
                        hook_id in _global_forward_hooks_with_kwargs:
                    r = hook(self, args, kwargs, result)
                else:
                    r = hook(self, args, result)
                if r is not None:
                    result = r
            if bw_hook is not None:
                result = bw_hook.setup_output_hook(result)
            return result
        except Exception:
            for hook_id, hook in itertools.chain(_global_forward_hooks.items(),
                                                 self._forward_hooks.items()):
                if (hook_id in _global_forward_hooks_always_called or
                        hook_id in self._forward_hooks_always_called) and \
                        hook_id not in called_always:
                    try:
                        if hook_id in self._forward_hooks_with_kwargs or \
                                hook_id in _global_forward_hooks_with_kwargs:
                            hook(self, args, kwargs, result)
                        else:
                            hook(self, args, result)
                    except Exception:  # noqa: BLE001, S110 - the original error wins
                        pass
            raise

    # -- hooks -------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Registers ``hook(module, args)`` (or ``hook(module, args, kwargs)`` with
        ``with_kwargs``), called before ``forward``; it may return new args."""
        h = RemovableHandle(self._forward_pre_hooks,
                            extra_dict=self._forward_pre_hooks_with_kwargs)
        self._forward_pre_hooks[h.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[h.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(h.id, last=False)
        return h

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Registers ``hook(module, args, output)`` (or ``hook(module, args, kwargs, output)``
        with ``with_kwargs``), called after ``forward``; it may return a new output."""
        h = RemovableHandle(self._forward_hooks,
                            extra_dict=[self._forward_hooks_with_kwargs,
                                        self._forward_hooks_always_called])
        self._forward_hooks[h.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[h.id] = True
        if always_call:
            self._forward_hooks_always_called[h.id] = True
        if prepend:
            self._forward_hooks.move_to_end(h.id, last=False)
        return h

    def register_full_backward_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Registers ``hook(module, grad_output)``, called when the gradients of the module's
        outputs are known; it may return new ``grad_output``."""
        h = RemovableHandle(self._backward_pre_hooks)
        self._backward_pre_hooks[h.id] = hook
        if prepend:
            self._backward_pre_hooks.move_to_end(h.id, last=False)
        return h

    def register_full_backward_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Registers ``hook(module, grad_input, grad_output)``, called when the gradients of
        the module's inputs are known; it may return new ``grad_input``."""
        if self._is_full_backward_hook is False:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks "
                               "on a single Module. Please use only one of them.")
        self._is_full_backward_hook = True
        h = RemovableHandle(self._backward_hooks)
        self._backward_hooks[h.id] = hook
        if prepend:
            self._backward_hooks.move_to_end(h.id, last=False)
        return h

    def register_backward_hook(self, hook) -> RemovableHandle:
        """Deprecated in PyTorch; in ember run as a full backward hook. As in PyTorch, a
        module can't have both kinds."""
        if self._is_full_backward_hook is True:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks "
                               "on a single Module. Please use only one of them.")
        self._is_full_backward_hook = False
        h = RemovableHandle(self._backward_hooks)
        self._backward_hooks[h.id] = hook
        return h

    def _register_state_dict_hook(self, hook) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata)`` runs after this module's
        entries were added to ``state_dict``; it may return a new state_dict."""
        h = RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[h.id] = hook
        return h

    def register_state_dict_post_hook(self, hook) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata)`` runs after this module's
        entries were added to ``state_dict``; it edits it in place and must return None."""
        @functools.wraps(hook)
        def checked(*args):
            if hook(*args) is not None:
                raise RuntimeError("state_dict post-hook must return None")
        return self._register_state_dict_hook(checked)

    def register_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, prefix, keep_vars)`` runs before ``state_dict`` visits the module."""
        h = RemovableHandle(self._state_dict_pre_hooks)
        self._state_dict_pre_hooks[h.id] = hook
        return h

    def _register_load_state_dict_pre_hook(self, hook, with_module: bool = False
                                           ) -> RemovableHandle:
        """``hook(state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` (``module`` first with ``with_module``) runs before
        this module loads its entries."""
        h = RemovableHandle(self._load_state_dict_pre_hooks)
        self._load_state_dict_pre_hooks[h.id] = (functools.partial(hook, self) if with_module
                                                 else hook)
        return h

    def register_load_state_dict_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` runs before this module loads its entries."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def register_load_state_dict_post_hook(self, hook) -> RemovableHandle:
        """``hook(module, incompatible_keys)`` runs after ``load_state_dict`` visited the
        module; it may edit the key lists in place."""
        h = RemovableHandle(self._load_state_dict_post_hooks)
        self._load_state_dict_post_hooks[h.id] = hook
        return h
