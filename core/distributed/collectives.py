"""Collectives on tensors, in place, as ``torch.distributed.all_reduce`` and kin.

Every rank of the group must call the same collectives in the same order with matching
tensors. ``src``/``dst`` are global ranks (``group_src``/``group_dst`` are ranks within
``group``). With ``async_op=True`` the call returns a ``Work`` (already complete: these
backends run collectives to completion).
"""

from __future__ import annotations

import numpy as np

from ._tensors import (
    array_of,
    check_tensor,
    check_tensor_list,
    finish,
    group_root,
    resolve_or_warn,
    to_impl,
    write,
)
from .reduce_op import ReduceOp, check

__all__ = ["all_reduce", "all_reduce_coalesced", "broadcast", "reduce", "all_gather",
           "all_gather_into_tensor", "_all_gather_base", "gather", "scatter", "reduce_scatter",
           "reduce_scatter_tensor", "_reduce_scatter_base", "all_to_all", "all_to_all_single",
           "barrier", "monitored_barrier"]


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduces ``tensor`` across the group with ``op``; every rank gets the result in place."""
    check_tensor(tensor, "tensor")
    op = check(op)
    pg = resolve_or_warn(group, "all_reduce")
    if pg is None:
        return None
    write(tensor, pg._impl.all_reduce(array_of(pg, tensor), op))
    return finish(async_op, [tensor])


def all_reduce_coalesced(tensors, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """``all_reduce`` of several tensors in one message."""
    check_tensor_list(tensors, "tensors")
    for t in tensors:
        all_reduce(t, op, group)
    return finish(async_op, tensors)


def broadcast(tensor, src: int | None = None, group=None, async_op: bool = False,
              group_src: int | None = None):
    """Copies ``tensor`` of rank ``src`` into ``tensor`` on every rank of the group."""
    check_tensor(tensor, "tensor")
    pg = resolve_or_warn(group, "broadcast")
    if pg is None:
        return None
    root = group_root(pg, src, group_src, "src")
    out = pg._impl.broadcast(array_of(pg, tensor), root)
    if pg.rank() != root:
        write(tensor, out)
    return finish(async_op, [tensor])


def reduce(tensor, dst: int | None = None, op=ReduceOp.SUM, group=None,
           async_op: bool = False, group_dst: int | None = None):
    """Reduces ``tensor`` across the group into ``tensor`` of rank ``dst`` (the others keep
    theirs)."""
    check_tensor(tensor, "tensor")
    op = check(op)
    pg = resolve_or_warn(group, "reduce")
    if pg is None:
        return None
    root = group_root(pg, dst, group_dst, "dst")
    out = pg._impl.reduce(array_of(pg, tensor), root, op)
    if out is not None:
        write(tensor, out)
    return finish(async_op, [tensor])


def all_gather(tensor_list, tensor, group=None, async_op: bool = False):
    """Fills ``tensor_list[r]`` with ``tensor`` of rank ``r``, on every rank."""
    check_tensor_list(tensor_list, "tensor_list")
    check_tensor(tensor, "tensor")
    pg = resolve_or_warn(group, "all_gather")
    if pg is None:
        return None
    if len(tensor_list) != pg.size():
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors, expected "
                         f"the group size {pg.size()}")
    for t, a in zip(tensor_list, pg._impl.all_gather(array_of(pg, tensor))):
        write(t, a)
    return finish(async_op, tensor_list)


def _chunks(big, n: int, what: str, small_shape):
    """``big`` (concatenated along dim 0, or stacked) split into ``n`` chunks."""
    shape = tuple(big._data.shape)
    small = tuple(small_shape)
    if shape == (n,) + small:
        return [big._data[i] for i in range(n)]
    if small and shape == (small[0] * n,) + small[1:]:
        k = small[0]
        return [big._data[i * k:(i + 1) * k] for i in range(n)]
    raise ValueError(f"{what}: the big tensor has shape {list(shape)}, expected world_size "
                     f"({n}) times the shape {list(small)}")


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op: bool = False):
    """Gathers every rank's ``input_tensor`` into ``output_tensor`` (concatenated along dim 0,
    or stacked on a new leading dim)."""
    check_tensor(output_tensor, "output_tensor")
    check_tensor(input_tensor, "input_tensor")
    pg = resolve_or_warn(group, "all_gather_into_tensor")
    if pg is None:
        return None
    parts = pg._impl.all_gather(array_of(pg, input_tensor))
    views = _chunks(output_tensor, pg.size(), "all_gather_into_tensor", input_tensor.shape)
    for v, a in zip(views, parts):
        v[...] = to_impl_like(v, a)
    output_tensor._bump()
    return finish(async_op, [output_tensor])


_all_gather_base = all_gather_into_tensor


def to_impl_like(view, arr):
    """``arr`` in the memory of ``view`` (numpy or cupy)."""
    if isinstance(view, np.ndarray):
        return arr if isinstance(arr, np.ndarray) else arr.get()
    import cupy

    return cupy.asarray(arr)


def gather(tensor, gather_list=None, dst: int | None = None, group=None,
           async_op: bool = False, group_dst: int | None = None):
    """Gathers ``tensor`` of every rank into ``gather_list`` on rank ``dst`` (default 0)."""
    check_tensor(tensor, "tensor")
    pg = resolve_or_warn(group, "gather")
    if pg is None:
        return None
    if dst is None and group_dst is None:
        dst = pg._ranks[0]
    root = group_root(pg, dst, group_dst, "dst")
    if pg.rank() == root:
        check_tensor_list(gather_list, "gather_list")
        if len(gather_list) != pg.size():
            raise ValueError("Argument ``gather_list`` must be specified on destination rank "
                             f"and hold {pg.size()} tensors.")
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination "
                         "ranks.")
    out = pg._impl.gather(array_of(pg, tensor), root)
    if out is not None:
        for t, a in zip(gather_list, out):
            write(t, a)
    return finish(async_op, gather_list or [])


def scatter(tensor, scatter_list=None, src: int | None = None, group=None,
            async_op: bool = False, group_src: int | None = None):
    """Sends ``scatter_list[r]`` of rank ``src`` (default 0) into ``tensor`` on rank ``r``."""
    check_tensor(tensor, "tensor")
    pg = resolve_or_warn(group, "scatter")
    if pg is None:
        return None
    if src is None and group_src is None:
        src = pg._ranks[0]
    root = group_root(pg, src, group_src, "src")
    arrs = None
    if pg.rank() == root:
        check_tensor_list(scatter_list, "scatter_list")
        if len(scatter_list) != pg.size():
            raise ValueError("Argument ``scatter_list`` must be specified on source rank and "
                             f"hold {pg.size()} tensors.")
        arrs = [array_of(pg, t) for t in scatter_list]
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    like = array_of(pg, tensor)
    write(tensor, pg._impl.scatter(arrs, root, like))
    return finish(async_op, [tensor])


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduces ``input_list[r]`` across the group into ``output`` of rank ``r``."""
    check_tensor(output, "output")
    check_tensor_list(input_list, "input_list")
    op = check(op)
    pg = resolve_or_warn(group, "reduce_scatter")
    if pg is None:
        return None
    if len(input_list) != pg.size():
        raise ValueError(f"reduce_scatter: input_list has {len(input_list)} tensors, expected "
                         f"the group size {pg.size()}")
    write(output, pg._impl.reduce_scatter([array_of(pg, t) for t in input_list], op))
    return finish(async_op, [output])


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None,  # noqa: A002
                          async_op: bool = False):
    """``reduce_scatter`` with the inputs concatenated (or stacked) in one tensor."""
    check_tensor(output, "output")
    check_tensor(input, "input")
    op = check(op)
    pg = resolve_or_warn(group, "reduce_scatter_tensor")
    if pg is None:
        return None
    parts = [to_impl(pg, c) for c in _chunks(input, pg.size(), "reduce_scatter_tensor",
                                                output.shape)]
    write(output, pg._impl.reduce_scatter(parts, op))
    return finish(async_op, [output])


_reduce_scatter_base = reduce_scatter_tensor


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op: bool = False):
    """Sends ``input_tensor_list[r]`` to rank ``r``, which receives it in its
    ``output_tensor_list[this rank]``."""
    check_tensor_list(output_tensor_list, "output_tensor_list")
    check_tensor_list(input_tensor_list, "input_tensor_list")
    pg = resolve_or_warn(group, "all_to_all")
    if pg is None:
        return None
    out = pg._impl.all_to_all([array_of(pg, t) for t in input_tensor_list],
                              [array_of(pg, t) for t in output_tensor_list])
    for t, a in zip(output_tensor_list, out):
        write(t, a)
    return finish(async_op, output_tensor_list)


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None,  # noqa: A002
                      group=None, async_op: bool = False):
    """``all_to_all`` on single tensors split along dim 0 (evenly, or by the split sizes)."""
    check_tensor(output, "output")
    check_tensor(input, "input")
    pg = resolve_or_warn(group, "all_to_all_single")
    if pg is None:
        return None
    n = pg.size()

    def split(t, sizes):
        a = t._data
        if sizes is None:
            if a.shape[0] % n:
                raise ValueError(f"all_to_all_single: dim 0 ({a.shape[0]}) is not divisible "
                                 f"by the group size {n}")
            sizes = [a.shape[0] // n] * n
        offs = np.cumsum([0] + list(sizes))
        return [a[offs[i]:offs[i + 1]] for i in range(n)]

    ins = [to_impl(pg, x) for x in split(input, input_split_sizes)]
    outs = split(output, output_split_sizes)
    res = pg._impl.all_to_all(ins, [to_impl(pg, x) for x in outs])
    for v, a in zip(outs, res):
        v[...] = to_impl_like(v, a)
    output._bump()
    return finish(async_op, [output])


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Blocks until every rank of the group has reached this call."""
    pg = resolve_or_warn(group, "barrier")
    if pg is None:
        return None
    pg._impl.barrier()
    return finish(async_op)


def monitored_barrier(group=None, timeout=None, wait_all_ranks: bool = False) -> None:
    """A barrier that raises (after the group's timeout) if a rank does not arrive."""
    barrier(group)
