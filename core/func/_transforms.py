"""``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``linearize``, ``jacrev``, ``jacfwd`` and
``hessian``, as ``torch.func``: function transforms over ember's reverse-mode autograd.

ember has no forward-mode AD: ``jvp`` and ``linearize`` use the double-vjp trick (the vjp
with a dummy cotangent ``u`` is linear in ``u``; its derivative in ``u`` along a tangent is
the jvp), and ``jacfwd`` builds the Jacobian row by row in reverse mode. The numbers are the
same as PyTorch's; the cost profile differs (``jacfwd`` costs one backward per output
element, like ``jacrev``).
"""

from __future__ import annotations

import functools

from .. import _tensor as _T
from ..autograd.grad_mode import enable_grad, is_grad_enabled
from ._eager import (
    check_tensor,
    maybe_detach,
    needs_graph,
    prepare_args,
    split_aux,
    transform_level,
)
from ._pytree import tree_flatten, tree_map, tree_unflatten

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd",
           "hessian"]


def _autograd_grad(outputs, inputs, grad_outputs, create_graph: bool):
    from ..autograd import grad as _grad

    return _grad(outputs, inputs, grad_outputs, retain_graph=True, create_graph=create_graph,
                 allow_unused=True)


def _zeros_for_none(grads, refs):
    from .._creation import zeros_like

    return [zeros_like(r) if g is None else g for g, r in zip(grads, refs)]


def _regroup(flat, inner, specs, was_int):
    """Per-argnum pytrees from a flat list laid out as ``inner`` (a list of lists)."""
    out, k = [], 0
    for grp, spec in zip(inner, specs):
        out.append(tree_unflatten(flat[k:k + len(grp)], spec))
        k += len(grp)
    return out[0] if was_int else tuple(out)


def _detach_tree(tree, keep: bool):
    if keep:
        return tree
    return tree_map(lambda x: x.detach() if isinstance(x, _T.Tensor) else x, tree)


def _flat_outputs(out, api: str):
    leaves, spec = tree_flatten(out)
    for x in leaves:
        check_tensor(x, api, "outputs of the function")
    return leaves, spec


# -- grad ------------------------------------------------------------------------------------------
def grad_and_value(func, argnums=0, has_aux: bool = False):
    """Like :func:`grad`, but the returned function gives ``(gradient, value)`` (or
    ``((gradient, (value, aux))`` with ``has_aux=True``)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        api = "grad_and_value"
        outer = is_grad_enabled()
        with transform_level(), enable_grad():
            new_args, inner, specs, was_int = prepare_args(args, argnums, api)
            out = func(*new_args, **kwargs)
            out, aux = split_aux(out, has_aux, api)
            if not isinstance(out, _T.Tensor):
                raise RuntimeError(f"{api}(f)(*args): Expected f(*args) to return a Tensor, "
                                   f"got {type(out)}")
            if out.dim() != 0:
                raise RuntimeError(f"{api}(f)(*args): Expected f(*args) to return a scalar "
                                   f"Tensor, got tensor with {out.dim()} dims. Maybe you wanted "
                                   "to use the vjp or jacrev APIs instead?")
            flat_inner = [x for grp in inner for x in grp]
            keep = needs_graph([out], flat_inner, outer)
            if out.requires_grad and flat_inner:
                grads = _autograd_grad([out], flat_inner, None, keep)
            else:
                grads = [None] * len(flat_inner)
            grads = maybe_detach(_zeros_for_none(grads, flat_inner), keep)
        g = _regroup(grads, inner, specs, was_int)
        value = out if keep else out.detach()
        if has_aux:
            return g, (value, _detach_tree(aux, keep))
        return g, value

    return wrapper


def grad(func, argnums=0, has_aux: bool = False):
    """``grad(func)`` is a function returning the gradient of the scalar ``func`` with
    respect to the argument(s) ``argnums`` (each may be a pytree of Tensors: tuples, lists,
    dicts). With ``has_aux=True``, ``func`` returns ``(output, aux)`` and the new function
    returns ``(gradient, aux)``. Composes with itself, ``vmap`` and the other transforms."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g

    return wrapper


# -- vjp / jvp / linearize -------------------------------------------------------------------------
def vjp(func, *primals, has_aux: bool = False):
    """``(func(*primals), vjp_fn)`` (plus ``aux`` with ``has_aux=True``). ``vjp_fn(cotangents)``
    takes a pytree shaped like the output and returns a tuple with one gradient pytree per
    primal; it may be called several times."""
    api = "vjp"
    outer = is_grad_enabled()
    with transform_level(), enable_grad():
        new_args, inner, specs, _ = prepare_args(primals, tuple(range(len(primals))), api)
        out = func(*new_args)
        out, aux = split_aux(out, has_aux, api)
        out_leaves, out_spec = _flat_outputs(out, api)
        flat_inner = [x for grp in inner for x in grp]
        keep = needs_graph(out_leaves, flat_inner, outer)

    def vjp_fn(cotangents):
        """The vector-Jacobian product of ``func`` at the primals with ``cotangents``."""
        ct_leaves, ct_spec = tree_flatten(cotangents)
        if ct_spec != out_spec or len(ct_leaves) != len(out_leaves):
            raise RuntimeError("Expected pytree structure of cotangents to be the same as "
                               "pytree structure of outputs to the function.")
        for o, c in zip(out_leaves, ct_leaves):
            check_tensor(c, api, "cotangents")
            if tuple(o.shape) != tuple(c.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output has a shape of {c.shape} "
                                   f"and output has a shape of {o.shape}.")
        cg = keep or (is_grad_enabled() and any(c.requires_grad for c in ct_leaves))
        pairs = [(o, c) for o, c in zip(out_leaves, ct_leaves) if o.requires_grad]
        with transform_level(), enable_grad():
            if pairs and flat_inner:
                grads = _autograd_grad([o for o, _ in pairs], flat_inner,
                                       [c for _, c in pairs], cg)
            else:
                grads = [None] * len(flat_inner)
            grads = maybe_detach(_zeros_for_none(grads, flat_inner), cg)
        return _regroup(grads, inner, specs, False)

    out = tree_unflatten(maybe_detach(out_leaves, keep), out_spec)
    if has_aux:
        return out, vjp_fn, _detach_tree(aux, keep)
    return out, vjp_fn


def _check_primals_tangents(primals, tangents, api: str):
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{api}(f, primals, tangents): Expected primals to be a tuple. E.g. "
                           "it should be valid to call f(*primals).")
    if tangents is None:
        return None
    if not isinstance(tangents, tuple):
        raise RuntimeError(f"{api}(f, primals, tangents): Expected tangents to be a tuple.")
    p_leaves, p_spec = tree_flatten(primals)
    t_leaves, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(f"{api}(f, primals, tangents): Expected primals and tangents to "
                           "have the same python structure.")
    for p, t in zip(p_leaves, t_leaves):
        check_tensor(t, api, "tangents")
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(f"{api}(f, primals, tangents): Expected primals and tangents to "
                               f"have the same shape, got {tuple(p.shape)} and "
                               f"{tuple(t.shape)}.")
    return t_leaves


class _DoubleVjp:
    """The vjp of ``outs`` w.r.t. ``inputs`` with dummy cotangents ``us`` (kept as a graph);
    ``apply(tangents)`` differentiates it along ``tangents``: the jvp."""

    def __init__(self, outs, inputs):
        from .._creation import zeros_like

        self.outs = outs
        self.diff = [i for i, o in enumerate(outs) if o.requires_grad]
        self.us = [zeros_like(outs[i]).requires_grad_() for i in self.diff]
        if self.diff and inputs:
            self.gs = _autograd_grad([outs[i] for i in self.diff], inputs, self.us, True)
        else:
            self.gs = [None] * len(inputs)

    def apply(self, tangents, create_graph: bool):
        from .._creation import zeros_like

        res = [None] * len(self.outs)
        pairs = [(g, t) for g, t in zip(self.gs, tangents) if g is not None and g.requires_grad]
        if pairs:
            r = _autograd_grad([g for g, _ in pairs], self.us, [t for _, t in pairs],
                               create_graph)
            for i, v in zip(self.diff, r):
                res[i] = v
        return [zeros_like(o) if v is None else v for o, v in zip(self.outs, res)]


def jvp(func, primals, tangents, *, strict: bool = False, has_aux: bool = False):
    """``(func(*primals), J @ tangents)`` (plus ``aux`` with ``has_aux=True``): the
    Jacobian-vector product. ``primals`` and ``tangents`` are tuples with the same structure.

    Departure: computed with the double-vjp trick over reverse mode (ember has no dual-number
    forward mode); the values are PyTorch's."""
    api = "jvp"
    if strict:
        raise RuntimeError("jvp(f, primals, tangents, strict=True): strict is not implemented")
    t_leaves = _check_primals_tangents(primals, tangents, api)
    outer = is_grad_enabled()
    with transform_level(), enable_grad():
        new_args, inner, specs, _ = prepare_args(primals, tuple(range(len(primals))), api)
        out = func(*new_args)
        out, aux = split_aux(out, has_aux, api)
        out_leaves, out_spec = _flat_outputs(out, api)
        flat_inner = [x for grp in inner for x in grp]
        keep = needs_graph(out_leaves, flat_inner, outer) or (
            outer and any(t.requires_grad for t in t_leaves))
        jv = _DoubleVjp(out_leaves, flat_inner).apply(t_leaves, keep)
    res = (tree_unflatten(maybe_detach(out_leaves, keep), out_spec),
           tree_unflatten(maybe_detach(jv, keep), out_spec))
    if has_aux:
        return res + (_detach_tree(aux, keep),)
    return res


def linearize(func, *primals):
    """``(func(*primals), jvp_fn)``: ``jvp_fn(*tangents)`` gives the jvp at ``primals``
    without rerunning ``func`` (the double-vjp graph is built once)."""
    api = "linearize"
    outer = is_grad_enabled()
    with transform_level(), enable_grad():
        new_args, inner, specs, _ = prepare_args(primals, tuple(range(len(primals))), api)
        out = func(*new_args)
        out_leaves, out_spec = _flat_outputs(out, api)
        flat_inner = [x for grp in inner for x in grp]
        keep = needs_graph(out_leaves, flat_inner, outer)
        dv = _DoubleVjp(out_leaves, flat_inner)

    def jvp_fn(*tangents):
        """The jvp of ``func`` at the primals along ``tangents``."""
        t_leaves = _check_primals_tangents(primals, tangents, "linearize")
        cg = keep or (is_grad_enabled() and any(t.requires_grad for t in t_leaves))
        with transform_level(), enable_grad():
            jv = dv.apply(t_leaves, cg)
        return tree_unflatten(maybe_detach(jv, cg), out_spec)

    return tree_unflatten(maybe_detach(out_leaves, keep), out_spec), jvp_fn


# -- Jacobians -------------------------------------------------------------------------------------
def _jacobian(func, argnums, has_aux: bool, api: str):
    from .._creation import eye, zeros
    from ..ops.shape import stack

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        outer = is_grad_enabled()
        with transform_level(), enable_grad():
            new_args, inner, specs, was_int = prepare_args(args, argnums, api)
            out = func(*new_args, **kwargs)
            out, aux = split_aux(out, has_aux, api)
            out_leaves, out_spec = _flat_outputs(out, api)
            flat_inner = [x for grp in inner for x in grp]
            keep = needs_graph(out_leaves, flat_inner, outer)
            jacs = []
            for o in out_leaves:
                n = o.numel()
                rows = [[] for _ in flat_inner]
                if o.requires_grad and n:
                    basis = eye(n, dtype=o.dtype, device=o.device)
                    for j in range(n):
                        gs = _autograd_grad([o], flat_inner, [basis[j].reshape(o.shape)], keep)
                        for r, g in zip(rows, gs):
                            r.append(g)
                per_input = []
                for x, r in zip(flat_inner, rows):
                    shape = tuple(o.shape) + tuple(x.shape)
                    if not r or all(g is None for g in r):
                        per_input.append(zeros(shape, dtype=x.dtype, device=x.device))
                    else:
                        r = _zeros_for_none(r, [x] * len(r))
                        per_input.append(stack(r, 0).reshape(shape))
                jacs.append(_regroup(maybe_detach(per_input, keep), inner, specs, was_int))
        res = tree_unflatten(jacs, out_spec)
        if has_aux:
            return res, _detach_tree(aux, keep)
        return res

    return wrapper


def jacrev(func, argnums=0, *, has_aux: bool = False, chunk_size=None,
           _preallocate_and_copy: bool = False):
    """``jacrev(func)`` computes the Jacobian of ``func`` with respect to ``argnums`` in
    reverse mode: for an output ``o`` and input ``x``, a Tensor of shape
    ``o.shape + x.shape``; pytrees of outputs map to pytrees of such Jacobians.
    ``chunk_size`` is accepted (rows are always computed one at a time)."""
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")
    return _jacobian(func, argnums, has_aux, "jacrev")


def jacfwd(func, argnums=0, has_aux: bool = False, *, randomness: str = "error"):
    """``jacfwd(func)``: the Jacobian of ``func`` with respect to ``argnums``, laid out as
    :func:`jacrev`'s.

    Departure: ember has no forward-mode AD, so this is computed in reverse mode, one
    backward per output element; the values are the same."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    return _jacobian(func, argnums, has_aux, "jacfwd")


def hessian(func, argnums=0):
    """The Hessian of the scalar ``func`` with respect to ``argnums``:
    ``jacfwd(jacrev(func, argnums), argnums)``."""
    return jacfwd(jacrev(func, argnums), argnums)
