"""``vmap``, as ``torch.func.vmap`` / ``torch.vmap``.

``vmap`` first runs ``func`` once on batched stand-ins (``_batched.BatchedTensor``): each
behaves as one element of the batch while holding the whole batch, so elementwise
arithmetic, comparisons, logic, conversions and integer indexing of unbatched tensors run as
single broadcast ops, nested ``vmap`` included. If ``func`` uses an op the stand-ins have no
batched form for (or draws random numbers with ``randomness='different'``), ``vmap`` calls
``func`` once per batch element on the unbatched slices and stacks the results instead: the
values are PyTorch's either way, the loop is just slower. ``chunk_size`` has no effect.

Departure: when the batched run meets an unsupported op, ``func``'s Python side effects
(appending to a list, printing) happen in that run and again in the loop.
"""

from __future__ import annotations

import functools
import threading

from .. import _tensor as _T
from ._batched import BatchedTensor, from_batched, to_batched
from ._pytree import broadcast_prefix, tree_flatten, tree_unflatten

__all__ = ["vmap"]


def _check_dim(d, what: str):
    if d is not None and (not isinstance(d, int) or isinstance(d, bool)):
        raise ValueError(f"vmap: {what} must be an int, None or a pytree of those, got {d!r}")


def _rng_state():
    from .._random import get_rng_state

    return get_rng_state()


def _set_rng_state(state) -> None:
    from .._random import set_rng_state

    set_rng_state(state)


def _same_state(a, b) -> bool:
    return a.shape == b.shape and bool((a == b).all())


def _in_dims_for(args, in_dims):
    if isinstance(in_dims, int) or in_dims is None:
        return broadcast_prefix(tuple([in_dims] * len(args)), args)
    if not isinstance(in_dims, tuple):
        raise ValueError(f"vmap(f, in_dims={in_dims!r}, ...): expected `in_dims` to be int or a "
                         f"(potentially nested) tuple matching the structure of inputs, got: "
                         f"{type(in_dims)}.")
    if len(in_dims) != len(args):
        raise ValueError(f"vmap(f, in_dims={in_dims!r}, ...)(<inputs>): in_dims is not "
                         f"compatible with the structure of `inputs`. in_dims has structure "
                         f"of length {len(in_dims)} but inputs has length {len(args)}.")
    return broadcast_prefix(in_dims, args)


def _batch_size(flat_args, flat_dims):
    sizes = []
    norm = []
    for x, d in zip(flat_args, flat_dims):
        _check_dim(d, "in_dims")
        if d is None:
            norm.append(None)
            continue
        if not isinstance(x, _T.Tensor):
            raise ValueError(f"vmap: Got in_dim={d} for an input but the input is of type "
                             f"{type(x)}. We cannot vmap over non-Tensor arguments, please use "
                             "None as the respective in_dim")
        nd = x.dim()
        if not -nd <= d < nd:
            raise ValueError(f"vmap: Got in_dim={d} for some input, but that input is a Tensor "
                             f"of dimensionality {nd} so expected in_dim to satisfy "
                             f"-{nd} <= in_dim < {nd}.")
        d %= nd
        norm.append(d)
        sizes.append(x.shape[d])
    if not sizes:
        raise ValueError("vmap: at least one input must be batched over (all in_dims are None "
                         "or there are no Tensor inputs)")
    if len(set(sizes)) != 1:
        raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sizes} for the mapped dimension")
    return sizes[0], norm


def _slice(flat_args, dims, i):
    return [x if d is None else x.select(d, i) for x, d in zip(flat_args, dims)]


def _zero_slices(flat_args, dims):
    """Stand-ins for the (missing) elements of an empty batch: zeros of the element shape."""
    from .._creation import zeros

    out = []
    for x, d in zip(flat_args, dims):
        if d is None:
            out.append(x)
        else:
            shape = tuple(x.shape[:d]) + tuple(x.shape[d + 1:])
            out.append(zeros(shape, dtype=x.dtype, device=x.device))
    return out


def _flat_out_dims(out_dims, result, n: int) -> list:
    if isinstance(out_dims, tuple) and not isinstance(result, tuple):
        if len(out_dims) == 1:
            out_dims = out_dims[0]
    if isinstance(out_dims, int) or out_dims is None:
        return [out_dims] * n
    return broadcast_prefix(out_dims, result, "out_dims")


_LEVEL = threading.local()  # the depth of nested batched vmap runs in this thread


def _run_batched(func, flat_args, dims, spec, kwargs, out_dims, batch: int):
    """``func`` run once on stand-ins; raises if any op has no batched form."""
    level = getattr(_LEVEL, "depth", 0) + 1
    _LEVEL.depth = level
    try:
        args = [x if d is None else to_batched(x, d, level) for x, d in zip(flat_args, dims)]
        result = func(*tree_unflatten(args, spec), **kwargs)
        leaves, out_spec = tree_flatten(result)
        if not leaves or not all(isinstance(x, _T.Tensor) for x in leaves):
            raise TypeError("vmap: outputs must be tensors")  # the loop reports it
        out = []
        for x, d in zip(leaves, _flat_out_dims(out_dims, result, len(leaves))):
            _check_dim(d, "out_dims")
            if d is None:
                if isinstance(x, BatchedTensor) and level in x._levels:
                    raise ValueError("vmap: out_dims=None for a batched output")
                out.append(x)
                continue
            nd = x.dim() + 1
            if not -nd <= d < nd:
                raise ValueError("vmap: out_dim out of range")  # the loop reports it
            out.append(from_batched(x, level, d, batch))
        return tree_unflatten(out, out_spec)
    finally:
        _LEVEL.depth = level - 1


def _stack_outputs(results, out_dims, batch: int):
    from ..ops.shape import stack

    leaves0, spec0 = tree_flatten(results[0])
    per_elem = []
    for r in results:
        leaves, spec = tree_flatten(r)
        if spec != spec0:
            raise ValueError("vmap: the function returned outputs of different structure for "
                             "different batch elements")
        per_elem.append(leaves)
    for x in leaves0:
        if not isinstance(x, _T.Tensor):
            raise ValueError(f"vmap: `{type(x).__name__}` is not a Tensor: vmap can only "
                             "return Tensors (or pytrees of Tensors) from the function")
    flat_out_dims = _flat_out_dims(out_dims, results[0], len(leaves0))
    out = []
    for k, d in enumerate(flat_out_dims):
        _check_dim(d, "out_dims")
        if d is None:
            out.append(leaves0[k])
            continue
        nd = leaves0[k].dim() + 1
        if not -nd <= d < nd:
            raise ValueError(f"vmap: Got out_dim={d} for an output of dimensionality {nd - 1}, "
                             f"expected -{nd} <= out_dim < {nd}")
        cols = [leaves[k] for leaves in per_elem]
        st = stack(cols, 0) if batch else stack(cols, 0)[:0]
        out.append(st.movedim(0, d % nd))
    return tree_unflatten(out, spec0)


_RANDOM_ERROR = ("vmap: called random operation while in randomness error mode. Please either "
                 "use the 'same' or 'different' randomness flags on vmap or perform the "
                 "randomness operation out of vmap")


def vmap(func, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size=None):
    """``vmap(func)`` maps ``func`` over dimension ``in_dims`` of its inputs and stacks the
    results along ``out_dims``.

    ``in_dims`` is an int or None for every positional argument, or a tuple with one entry
    per argument (each an int, None, or a pytree matching that argument); ``out_dims``
    likewise for the outputs. Keyword arguments are passed unbatched. ``randomness``:
    ``'error'`` raises if ``func`` drew random numbers, ``'different'`` gives each element
    its own draw, ``'same'`` gives every element the same draw.

    Departure: batching covers elementwise, comparison, logic, conversion and integer
    indexing ops; a function using anything else runs once per element (see the module
    docstring). ``chunk_size`` has no effect. ``randomness='error'`` checks the CPU generator
    only.
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got "
                         f"{chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        flat_args, spec = tree_flatten(args)
        batch, dims = _batch_size(flat_args, _in_dims_for(args, in_dims))
        state = _rng_state() if randomness in ("error", "same") else None
        if batch and randomness != "different":
            try:
                out = _run_batched(func, flat_args, dims, spec, kwargs, out_dims, batch)
            except Exception:  # an op without a batched form: map element by element
                _set_rng_state(state)
            else:
                if randomness == "error" and not _same_state(state, _rng_state()):
                    raise RuntimeError(_RANDOM_ERROR)
                return out
        results = []
        if batch == 0:
            results.append(func(*tree_unflatten(_zero_slices(flat_args, dims), spec), **kwargs))
        for i in range(batch):
            if randomness == "same" and i:
                _set_rng_state(state)
            results.append(func(*tree_unflatten(_slice(flat_args, dims, i), spec), **kwargs))
        if randomness == "error" and not _same_state(state, _rng_state()):
            raise RuntimeError(_RANDOM_ERROR)
        return _stack_outputs(results, out_dims, batch)

    return wrapped
