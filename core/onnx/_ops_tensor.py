"""ONNX mappings of ember's tensor ops: elementwise arithmetic and comparisons,
reductions, shape ops (reshape, permute, cat...), indexing, casts and padding."""

from __future__ import annotations

import numpy as np

from ._context import register

# -- elementwise -----------------------------------------------------------------------------

_BINARY = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "maximum": "Max",
           "minimum": "Min", "eq": "Equal", "lt": "Less", "gt": "Greater",
           "le": "LessOrEqual", "ge": "GreaterOrEqual", "logical_and": "And",
           "logical_or": "Or", "logical_xor": "Xor", "pow": "Pow"}
_COMPARE = {"eq", "lt", "gt", "le", "ge", "logical_and", "logical_or", "logical_xor"}


def _binary_fn(name, op_type):
    def fn(ctx, node, ins):
        if name == "pow" and len(ins) == 1:  # x ** python_number
            dt = ctx.np_dtype(node.inputs[0])
            return ctx.node("Pow", [ins[0], ctx.const(np.asarray(node.attrs["exponent"], dt))])
        if node.attrs.get("alpha", 1) != 1 or node.attrs.get("rounding_mode"):
            raise NotImplementedError(f"{name} with alpha or rounding_mode")
        if name in _COMPARE:
            a, b = node.inputs
            da, db = ctx.np_dtype(a), ctx.np_dtype(b)
            common = np.promote_types(da, db)
            return ctx.node(op_type, [ctx.cast(ins[0], da, common), ctx.cast(ins[1], db, common)])
        out = ctx.np_dtype(node.outputs[0])
        args = [ctx.cast(n, ctx.np_dtype(v), out) for n, v in zip(ins, node.inputs)]
        return ctx.node(op_type, args)
    return fn


for _name, _op in _BINARY.items():
    register(_name)(_binary_fn(_name, _op))


@register("ne")
def _ne(ctx, node, ins):
    return ctx.node("Not", [_binary_fn("eq", "Equal")(ctx, node, ins)])


@register("where")
def _where(ctx, node, ins):
    out = ctx.np_dtype(node.outputs[0])
    a = ctx.cast(ins[1], ctx.np_dtype(node.inputs[1]), out)
    b = ctx.cast(ins[2], ctx.np_dtype(node.inputs[2]), out)
    return ctx.node("Where", [ins[0], a, b])


@register("masked_fill")
def _masked_fill(ctx, node, ins):
    out = ctx.np_dtype(node.outputs[0])
    v = ctx.cast(ins[2], ctx.np_dtype(node.inputs[2]), out)
    return ctx.node("Where", [ins[1], v, ins[0]])


@register("clamp")
def _clamp(ctx, node, ins):
    dt = ctx.np_dtype(node.inputs[0])
    if len(ins) == 3:  # tensor bounds: min(max(x, lo), hi)
        return ctx.node("Min", [ctx.node("Max", [ins[0], ins[1]]), ins[2]])
    lo, hi = node.attrs.get("min"), node.attrs.get("max")
    args = [ins[0], "" if lo is None else ctx.const(np.asarray(lo, dt)),
            "" if hi is None else ctx.const(np.asarray(hi, dt))]
    while args[-1] == "":
        args.pop()
    return ctx.node("Clip", args)


@register("to_copy")
def _to_copy(ctx, node, ins):
    return ctx.node("Cast", ins, to=ctx.onnx_type(node.attrs["dst"]))


@register("alias", "contiguous", "clone", "to_memory_format")
def _identity(ctx, node, ins):
    return ctx.node("Identity", ins)


# -- reductions ------------------------------------------------------------------------------


def _axes(node, ndim):
    dims = node.attrs.get("dims")
    return list(range(ndim)) if dims is None else [int(d) % max(ndim, 1) for d in dims]


def _reduce_fn(op_type):
    def fn(ctx, node, ins):
        if op_type == "ReduceMax" and not node.attrs.get("is_max", True):
            return _reduce_fn("ReduceMin")(ctx, node, ins)  # amin is amax with is_max=False
        nd = len(ctx.shape(node.inputs[0]))
        axes = _axes(node, nd)
        keep = int(bool(node.attrs.get("keepdim", False)))
        src, dst = ctx.np_dtype(node.inputs[0]), ctx.np_dtype(node.outputs[0])
        if src != dst:  # sum of bools or ints -> int64, mean with a dtype
            ins = [ctx.cast(ins[0], src, dst)] + list(ins[1:])
        if op_type == "ReduceMean" and keep and nd >= 3 and axes == list(range(2, nd)):
            return ctx.node("GlobalAveragePool", ins)  # adaptive_avg_pool to 1
        if op_type == "ReduceSum" or ctx.opset >= 18:
            return ctx.node(op_type, [ins[0], ctx.ints(axes)], keepdims=keep)
        return ctx.node(op_type, ins, axes=axes, keepdims=keep)
    return fn


register("mean")(_reduce_fn("ReduceMean"))
register("sum")(_reduce_fn("ReduceSum"))
register("amax")(_reduce_fn("ReduceMax"))
register("prod")(_reduce_fn("ReduceProd"))


# -- shape -----------------------------------------------------------------------------------


@register("reshape", "view")
def _reshape(ctx, node, ins):
    shape = ctx.reshape_shape(ctx.shape(node.inputs[0]), node.attrs["shape"])
    return ctx.node("Reshape", [ins[0], ctx.ints(shape)])


@register("permute")
def _permute(ctx, node, ins):
    return ctx.node("Transpose", ins, perm=[int(d) for d in node.attrs["dims"]])


@register("expand")
def _expand(ctx, node, ins):
    in_shape = ctx.shape(node.inputs[0])
    out = list(node.attrs["shape"])
    lead = len(out) - len(in_shape)
    # 1 where the input keeps its size: Expand broadcasts, so dynamic dims still fit
    tgt = [1 if i >= lead and in_shape[i - lead] == s else s for i, s in enumerate(out)]
    return ctx.node("Expand", [ins[0], ctx.ints(tgt)])


@register("cat")
def _cat(ctx, node, ins):
    skip = node.attrs.get("skip") or [False] * len(ins)
    kept = [n for n, s in zip(ins, skip) if not s]
    return ctx.node("Concat", kept, axis=int(node.attrs["dim"]))


@register("stack")
def _stack(ctx, node, ins):
    d = int(node.attrs["dim"])
    axes = ctx.ints([d])
    return ctx.node("Concat", [ctx.node("Unsqueeze", [x, axes]) for x in ins], axis=d)


@register("narrow")
def _narrow(ctx, node, ins):
    a = node.attrs
    start = int(a["start"])
    return ctx.node("Slice", [ins[0], ctx.ints([start]), ctx.ints([start + int(a["length"])]),
                              ctx.ints([int(a["dim"])])])


@register("select")
def _select(ctx, node, ins):
    a = node.attrs
    return ctx.node("Gather", [ins[0], ctx.const(np.asarray(int(a["index"]), np.int64))],
                    axis=int(a["dim"]))


@register("flip")
def _flip(ctx, node, ins):
    dims = [int(d) for d in node.attrs["dims"]]
    n = len(dims)
    big = np.iinfo(np.int64).max
    return ctx.node("Slice", [ins[0], ctx.ints([-1] * n), ctx.ints([-big] * n), ctx.ints(dims),
                              ctx.ints([-1] * n)])


@register("constant_pad_nd")
def _pad(ctx, node, ins):
    pads = node.attrs["pads"]
    nd = len(ctx.shape(node.inputs[0]))
    lead = nd - len(pads)
    before = [0] * lead + [int(p[0]) for p in pads]
    after = [0] * lead + [int(p[1]) for p in pads]
    dt = ctx.np_dtype(node.inputs[0])
    return ctx.node("Pad", [ins[0], ctx.ints(before + after),
                            ctx.const(np.asarray(node.attrs.get("value", 0), dt))],
                    mode="constant")


# -- indexing --------------------------------------------------------------------------------


@register("index_select")
def _index_select(ctx, node, ins):
    return ctx.node("Gather", [ins[0], ctx.cast(ins[1], ctx.np_dtype(node.inputs[1]),
                                                np.int64)], axis=int(node.attrs["dim"]))


@register("index")
def _getitem(ctx, node, ins):
    """Basic indexing (ints, slices, None, Ellipsis) and one integer array index."""
    index = node.attrs["index"]
    if not isinstance(index, tuple):
        index = (index,)
    nd = len(ctx.shape(node.inputs[0]))
    n_real = sum(1 for i in index if i is not None and i is not Ellipsis)
    expanded = []
    for i in index:
        if i is Ellipsis:
            expanded += [slice(None)] * (nd - n_real)
        else:
            expanded.append(i)
    x = ins[0]
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    gathers = []
    dim = 0  # input dim
    out_dim = 0  # output dim after this index entry
    for i in expanded:
        if i is None:
            unsqueeze.append(out_dim)
            out_dim += 1
            continue
        size = ctx.shape(node.inputs[0])[dim]
        if isinstance(i, slice):
            s, e, st = i.indices(size)
            if (s, e, st) != (0, size, 1):
                if st < 0:
                    raise NotImplementedError("index with a negative step")
                starts.append(s)
                ends.append(e)
                axes.append(dim)
                steps.append(st)
            out_dim += 1
        elif isinstance(i, (int, np.integer)):
            ii = int(i) % size
            starts.append(ii)
            ends.append(ii + 1)
            axes.append(dim)
            steps.append(1)
            squeeze.append(dim)
        else:
            gathers.append((dim, i))
            out_dim += ctx.array_ndim(i)
        dim += 1
    if len(gathers) > 1 or (gathers and (squeeze or unsqueeze)):
        raise NotImplementedError("index mixing an array index with ints, None or other "
                                  "array indices")
    if starts:
        x = ctx.node("Slice", [x, ctx.ints(starts), ctx.ints(ends), ctx.ints(axes),
                               ctx.ints(steps)])
    if gathers:
        d, arr = gathers[0]
        idx = ctx.index_array(arr)
        if idx is None:
            raise NotImplementedError("index with a boolean mask")
        x = ctx.node("Gather", [x, idx], axis=d)
    if squeeze:
        x = ctx.node("Squeeze", [x, ctx.ints(squeeze)])
    if unsqueeze:
        x = ctx.node("Unsqueeze", [x, ctx.ints(unsqueeze)])
    if x is ins[0]:
        x = ctx.node("Identity", [x])
    return x
