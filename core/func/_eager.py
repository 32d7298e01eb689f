"""Shared plumbing for ``ember.func``'s autograd transforms (``grad``, ``vjp``, ``jvp``,
``jacrev``...), all built on the reverse-mode engine.

Each transform call gives the differentiated arguments fresh tensors that require grad (a
view of the argument when it already requires grad, so gradients stay linked to enclosing
transforms), runs the function under ``enable_grad`` and calls ``autograd.grad``. The graph of
the result is kept (``create_graph=True``) only when something outside needs it: an enclosing
transform, an argument or captured tensor that requires grad, or an active dual level.
"""

from __future__ import annotations

import contextlib
import weakref

from .. import _tensor as _T
from ..autograd.graph import AccumulateGrad
from ._pytree import tree_flatten, tree_unflatten

_DEPTH = [0]  # how many ember.func autograd transforms are running
_FRESH: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # leaves made by transforms


@contextlib.contextmanager
def transform_level():
    """Marks a running transform (nested transforms keep their graphs)."""
    _DEPTH[0] += 1
    try:
        yield
    finally:
        _DEPTH[0] -= 1


def check_tensor(x, api: str, what: str = "inputs"):
    if not isinstance(x, _T.Tensor):
        raise ValueError(f"{api}: Expected {what} to be a Tensor (or a pytree of Tensors), "
                         f"got {type(x).__name__}")
    return x


def wrap(x, api: str):
    """A fresh tensor with ``x``'s values whose gradient the transform can ask for."""
    check_tensor(x, api)
    if not (x.is_floating_point() or x.is_complex()):
        raise RuntimeError(f"{api}: only Tensors of floating point or complex dtype can be "
                           f"differentiated, got {x.dtype}")
    if x.requires_grad:
        return x.view_as(x)
    fresh = x.detach().requires_grad_()
    _FRESH[id(fresh)] = fresh
    return fresh


def needs_graph(outputs, inner, outer_grad_enabled: bool) -> bool:
    """Whether results must stay differentiable: inside another transform, or when
    ``outputs`` depend on a tensor requiring grad other than this transform's fresh inputs."""
    if _DEPTH[0] > 1:
        return True
    if not outer_grad_enabled:
        return False
    own = {id(t) for t in inner}
    seen = set()
    stack = [o.grad_fn for o in outputs if isinstance(o, _T.Tensor) and o.grad_fn is not None]
    for o in outputs:
        if isinstance(o, _T.Tensor) and o.requires_grad and o.grad_fn is None:
            if id(o) not in own and id(o) not in _FRESH:
                return True
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, AccumulateGrad):
            v = node.variable
            if v is not None and id(v) not in own and id(v) not in _FRESH:
                return True
            continue
        for nxt, _ in getattr(node, "next_functions", ()):
            if nxt is not None:
                stack.append(nxt)
    return False


def maybe_detach(tree_leaves, keep: bool):
    """Leaves detached unless ``keep``."""
    if keep:
        return list(tree_leaves)
    return [x.detach() if isinstance(x, _T.Tensor) else x for x in tree_leaves]


def normalize_argnums(argnums, n_args: int, api: str):
    """``(tuple of ints, was_int)``, checked against the number of arguments."""
    if isinstance(argnums, int):
        nums, was_int = (argnums,), True
    elif isinstance(argnums, tuple) and argnums and all(isinstance(a, int) for a in argnums):
        nums, was_int = argnums, False
    else:
        raise RuntimeError(f"{api}: argnums must be int or Tuple[int, ...], got: {argnums!r}")
    out = []
    for a in nums:
        if not -n_args <= a < n_args:
            raise RuntimeError(f"Got argnums={a}, but only {n_args} positional inputs")
        out.append(a % n_args)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{api}: argnums must be unique, got {argnums!r}")
    return tuple(out), was_int


def prepare_args(args, argnums, api: str):
    """Wraps the differentiated arguments: ``(new_args, inner leaves, specs, was_int)``."""
    nums, was_int = normalize_argnums(argnums, len(args), api)
    new_args = list(args)
    inner, specs = [], []
    for a in nums:
        leaves, spec = tree_flatten(args[a])
        fresh = [wrap(x, api) for x in leaves]
        new_args[a] = tree_unflatten(fresh, spec)
        inner.append(fresh)
        specs.append(spec)
    return tuple(new_args), inner, specs, was_int


def split_aux(out, has_aux: bool, api: str):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{api}(f, ...)(*args): output of function f should be a tuple: "
                           "(output, aux) if has_aux is True")
    return out
