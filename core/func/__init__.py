"""``ember.func``: composable function transforms, as ``torch.func``.

``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``linearize``, ``jacrev``, ``jacfwd``,
``hessian`` and ``vmap``, plus ``functional_call`` and ``stack_module_state`` for running
``nn.Module``s as functions of their parameters.

Departures (see docs/compatibility.md): all derivatives come from the reverse-mode engine
(``jvp``/``jacfwd`` by the double-vjp trick, same values); ``vmap`` runs the function once
on batched stand-ins when it uses only ops with a batched form (elementwise, comparisons,
logic, integer indexing), and otherwise calls it once per element and stacks the results.
"""

from __future__ import annotations

from ..nn.utils.stateless import functional_call
from ._transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, linearize, vjp
from ._vmap import vmap

__all__ = ["functional_call", "grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev",
           "jacfwd", "hessian", "vmap", "stack_module_state", "functionalize"]


def stack_module_state(models):
    """``(params, buffers)``: dicts mapping each parameter/buffer name of the (identically
    structured) ``models`` to the stack of their values along a new dim 0, for ensembling
    with ``vmap`` and ``functional_call``. Stacked parameters are new leaves that require
    grad when the originals do."""
    from ..ops.shape import stack

    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/"
                           "eval mode.")
    ref = type(models[0])
    if not all(type(m) is ref for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def construct(named):
        names = [n for n, _ in named(models[0])]
        out = {}
        for n in names:
            vals = [dict(named(m))[n] for m in models]
            t = stack([v.detach() for v in vals], 0)
            if vals[0].requires_grad:
                t.requires_grad_()
            out[n] = t
        return out

    params = construct(lambda m: list(m.named_parameters()))
    buffers = construct(lambda m: list(m.named_buffers()))
    return params, buffers


def functionalize(func, *, remove: str = "mutations"):
    """Returns ``func`` itself: ember runs eagerly, so removing mutations (which only matters
    to graph capture in PyTorch) changes no result."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(f"functionalize(f, remove='mutations'): received invalid argument "
                           f"for remove={remove}. Valid options are:\n     remove='mutations'"
                           ": all inplace and out= operators will be removed from the program, "
                           "and replaced with their out-of-place equivalents.\n"
                           "     remove='mutations_and_views': In addition to the above, all "
                           "aliasing operators {view} will be replaced with their "
                           "non-aliasing counterparts, {view}_copy.\n")
    return func
