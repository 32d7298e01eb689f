"""The optimizer base class, as ``torch.optim.Optimizer``.

An optimizer holds ``param_groups`` (a list of dicts: ``params`` plus that group's
hyperparameters, filled from ``defaults``) and ``state``, a per-parameter dict keyed by the
parameter tensor itself and created lazily on the first step. ``state_dict()`` has PyTorch's
exact layout::

    {'state': {0: {'step': tensor(3.), 'exp_avg': ...}, 1: {...}},
     'param_groups': [{'lr': 0.001, ..., 'params': [0, 1]}]}

so an ember optimizer's state dict loads into ``torch.optim`` (tensor by tensor) and back.

Subclasses implement ``step(closure=None)``; every subclass's ``step`` is wrapped once, when
the class is defined, to run the step hooks (``register_step_pre_hook`` /
``register_step_post_hook`` and the global ``register_optimizer_step_*_hook``).
"""

from __future__ import annotations

import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from copy import deepcopy
from itertools import chain
from typing import Any

import numpy as np

from .. import _dtype
from .._creation import tensor
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad
from ..autograd.graph import RemovableHandle

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook",
           "register_optimizer_step_post_hook"]

StateDict = dict[str, Any]


class _RequiredParameter:
    """Marks a hyperparameter that every parameter group must specify."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

_global_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
_global_post_hooks: OrderedDict[int, Callable] = OrderedDict()


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """Registers ``hook(optimizer, args, kwargs) -> None or (args, kwargs)``, called before
    the ``step`` of every optimizer."""
    handle = RemovableHandle(_global_pre_hooks)
    _global_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """Registers ``hook(optimizer, args, kwargs) -> None``, called after the ``step`` of
    every optimizer."""
    handle = RemovableHandle(_global_post_hooks)
    _global_post_hooks[handle.id] = hook
    return handle


def _with_step_hooks(step: Callable) -> Callable:
    """Wraps a ``step`` method so that it runs the optimizer's step hooks around it. A
    ``step`` that calls ``super().step()`` runs the hooks once, not twice; an instance that
    never ran ``Optimizer.__init__`` runs none."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if self.__dict__.get("_in_step", False):
            return step(self, *args, **kwargs)
        if "_optimizer_step_pre_hooks" not in self.__dict__:
            # a subclass instance that never ran Optimizer.__init__ (a wrapper around another
            # optimizer, as accelerate's): PyTorch hooks the steps of initialized optimizers
            # only, so this step runs bare (the wrapped optimizer's own step runs the hooks)
            return step(self, *args, **kwargs)
        for pre in chain(_global_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
            result = pre(self, args, kwargs)
            if result is not None:
                if isinstance(result, tuple) and len(result) == 2:
                    args, kwargs = result
                else:
                    raise RuntimeError(f"{step} must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {result}.")
        self._in_step = True
        try:
            out = step(self, *args, **kwargs)
        finally:
            self._in_step = False
        self._opt_called = True  # read by the lr schedulers' call-order warning
        for post in chain(self._optimizer_step_post_hooks.values(), _global_post_hooks.values()):
            post(self, args, kwargs)
        return out

    wrapper._hooked = True
    return wrapper


class Optimizer:
    r"""Base class for all optimizers, as ``torch.optim.Optimizer``.

    Args:
        params (iterable): an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts
            (parameter groups with their own hyperparameters). Use an ordered collection:
            the order is what ``state_dict()`` records.
        defaults (dict): default hyperparameters, used where a group gives none.
    """

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_hooked", False):
            cls.step = _with_step_hooks(step)

    def __init__(self, params, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._init_hooks()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        self.state: defaultdict[Tensor, Any] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def _init_hooks(self) -> None:
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_hooks()

    def _upgrade_state(self, group_defaults: tuple) -> None:
        """After unpickling an older optimizer: fills group keys it lacked and turns float
        ``step`` counts into 0-dim tensors, as PyTorch's ``__setstate__`` does."""
        for group in self.param_groups:
            for key, value in group_defaults:
                group.setdefault(key, value)
            for p in group["params"]:
                st = self.state.get(p, {})
                if st and not isinstance(st["step"], Tensor):
                    st["step"] = _step_tensor(float(st["step"]))
        self.defaults.setdefault("differentiable", False)

    def __repr__(self) -> str:
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            if i:
                lines.append("")  # (a blank line between groups, as PyTorch prints them)
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {group[k]}" for k in sorted(group) if k != "params")
        return "\n".join(lines) + "\n)"

    # -- parameter groups ------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Adds a parameter group (a dict with ``params`` and optional hyperparameters) to
        ``param_groups``; missing hyperparameters are taken from ``defaults``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        tensors = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some "
                                 "param names are missing")
            param_group["param_names"] = names
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(p))
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or
                                                                      p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        ids = {id(p) for p in tensors}
        if len(ids) != len(tensors):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
            if not ids.isdisjoint(id(p) for p in group["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Resets the gradients of all optimized tensors: to None (the default), or to zeros
        (detached from any graph) with ``set_to_none=False``."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad.detach_()
                    else:
                        p.grad.requires_grad_(False)
                    p.grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None):
        """Performs one optimization step; ``closure`` re-evaluates the model and returns
        the loss (required by some optimizers, such as LBFGS)."""
        raise NotImplementedError

    # -- state dict ------------------------------------------------------------------------
    def state_dict(self) -> StateDict:
        """The optimizer's state as a dict, in PyTorch's layout: ``state`` maps parameter
        indices (in the order of the groups' ``params``) to each parameter's state, and
        ``param_groups`` lists each group's hyperparameters with ``params`` as indices.

        As in PyTorch, the state tensors are the live ones (not copies)."""
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        index: dict[int, int] = {}
        start = 0
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v
                 for k, v in self.state.items()}
        sd = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, sd)
            if result is not None:
                sd = result
        return sd

    def load_state_dict(self, state_dict: StateDict) -> None:
        """Loads a state from ``state_dict()`` (of ember or, converted tensor by tensor, of
        PyTorch). Groups and their sizes must match this optimizer's.

        State tensors are copied, cast to their parameter's dtype and device (``step``
        keeps its own dtype). PyTorch shares the loaded tensors when no cast is needed;
        ember always copies, so two optimizers never share state."""
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state: defaultdict[Any, dict] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = _cast_state(id_map[k], v)
            else:
                state[k] = v
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        self.__setstate__({"state": state, "param_groups": new_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    # -- hooks -----------------------------------------------------------------------------
    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Registers ``hook(optimizer, args, kwargs) -> None or (args, kwargs)``, called
        before ``step``; a returned pair replaces step's arguments."""
        return self._add_hook(self._optimizer_step_pre_hooks, hook, False)

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """Registers ``hook(optimizer, args, kwargs) -> None``, called after ``step``."""
        return self._add_hook(self._optimizer_step_post_hooks, hook, False)

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False
                                     ) -> RemovableHandle:
        """Registers ``hook(optimizer)``, called before ``state_dict`` builds its dict."""
        return self._add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False
                                      ) -> RemovableHandle:
        """Registers ``hook(optimizer, state_dict) -> state_dict or None``, called on the
        dict ``state_dict`` returns."""
        return self._add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False
                                          ) -> RemovableHandle:
        """Registers ``hook(optimizer, state_dict) -> state_dict or None``, called on a
        shallow copy of the dict given to ``load_state_dict`` before it is loaded."""
        return self._add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False
                                           ) -> RemovableHandle:
        """Registers ``hook(optimizer)``, called after ``load_state_dict``."""
        return self._add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    @staticmethod
    def _add_hook(hooks: OrderedDict, hook: Callable, prepend: bool) -> RemovableHandle:
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle


def _cast_state(param: Tensor, value, key=None):
    """A deep copy of one parameter's state, with tensors moved to the parameter's device
    and, for a floating parameter, cast to its dtype. ``step`` keeps its dtype and device
    (the CPU), as in PyTorch."""
    if isinstance(value, Tensor):
        if key == "step":
            out = value
        elif param.is_floating_point():
            out = value.to(dtype=param.dtype, device=param.device)
        else:
            out = value.to(device=param.device)
        return out.clone() if out is value else out
    if isinstance(value, dict):
        return {k: _cast_state(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v) for v in value)
    return value


def _typename(obj) -> str:
    return type(obj).__module__ + "." + type(obj).__name__


# -- helpers shared by the algorithms ------------------------------------------------------
def _check_lr(lr) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_flags(differentiable: bool = False, fused: bool | None = None,
                 foreach: bool | None = None) -> None:
    """``foreach`` and ``fused`` pick PyTorch kernels with the same math and are ignored;
    ``differentiable`` (autograd through the step) is not supported."""
    if differentiable:
        raise NotImplementedError("ember optimizers do not support differentiable=True "
                                  "(autograd through the optimizer step)")
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _scalar(x):
    """A hyperparameter as a Python number (a 1-element Tensor is read)."""
    return x.item() if isinstance(x, Tensor) else x


def _scalar_dtype():
    """The dtype of scalar state such as ``step``: float64 under a float64 default dtype,
    else float32, as in PyTorch."""
    return _dtype.float64 if _dtype.get_default_dtype() == _dtype.float64 else _dtype.float32


def _step_tensor(value: float = 0.0) -> Tensor:
    """A fresh 0-dim ``step`` counter on the CPU, as PyTorch keeps it."""
    return tensor(value, dtype=_scalar_dtype(), device="cpu")


def _closure_loss(closure):
    if closure is None:
        return None
    with enable_grad():
        return closure()


def _check_dense(p: Tensor, name: str, hint: str = "") -> None:
    if getattr(p.grad, "is_sparse", False):
        raise RuntimeError(f"{name} does not support sparse gradients{hint}")


def _view_as_real(t: Tensor) -> Tensor:
    """A real view of a complex tensor (real and imaginary parts interleaved on the last
    axis) sharing its memory, so elementwise updates treat both parts as PyTorch's
    ``view_as_real`` does."""
    if not t.is_complex():
        return t
    arr = t._data
    if arr.ndim == 0:
        arr = arr.reshape(1)  # numpy cannot change the itemsize of a 0-dim array's view
    real = arr.view(np.float32 if arr.dtype == np.complex64 else np.float64)
    out = Tensor._make(real)
    out._vc = t._vc
    return out
