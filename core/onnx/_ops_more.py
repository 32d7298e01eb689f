"""More ONNX mappings: transposed convolution, scans, arg/indexed reductions, norms,
gathers, repeats and rolls, and the less common activations and elementwise ops."""

from __future__ import annotations

import numpy as np

from ._context import register
from ._ops_nn import _onnx_pads


def _c(ctx, node, value, i: int = 0) -> str:
    """A scalar constant of input ``i``'s dtype."""
    return ctx.const(np.asarray(value, ctx.np_dtype(node.inputs[i])))


def _reduce(ctx, op_type, x, axes, keepdims):
    """``op_type`` over ``axes`` (None: all), with the axes as an input from opset 18."""
    if axes is None:
        return ctx.node(op_type, [x], keepdims=int(keepdims))
    axes = [int(a) for a in axes]
    if op_type == "ReduceSum" or ctx.opset >= 18:
        return ctx.node(op_type, [x, ctx.ints(axes)], keepdims=int(keepdims))
    return ctx.node(op_type, [x], axes=axes, keepdims=int(keepdims))


# -- convolution -----------------------------------------------------------------------------


@register("convolution_backward_input")
def _conv_transpose(ctx, node, ins):
    """The transposed convolution (``nn.ConvTranspose*d``): the weight (C_in, C_out/g, *k)
    is already ONNX's layout; ``output_padding`` makes up the traced output size."""
    a = node.attrs
    k = ctx.shape(node.inputs[1])[2:]
    in_sp = ctx.shape(node.inputs[0])[2:]
    pads = [tuple(p) if isinstance(p, (tuple, list)) else (p, p) for p in a["pads"]]
    out_pad = [int(o) - ((i - 1) * s - lo - hi + d * (kk - 1) + 1)
               for o, i, s, (lo, hi), d, kk in zip(a["in_shape"], in_sp, a["stride"], pads,
                                                  a["dilation"], k)]
    if any(p < 0 for p in out_pad):
        raise NotImplementedError(f"transposed convolution with output size {a['in_shape']}")
    return ctx.node("ConvTranspose", ins, kernel_shape=list(k), strides=list(a["stride"]),
                    pads=_onnx_pads(pads), dilations=list(a["dilation"]),
                    group=int(a["groups"]),
                    output_padding=out_pad if any(out_pad) else None)


# -- scans and reductions --------------------------------------------------------------------


@register("cumsum")
def _cumsum(ctx, node, ins):
    src, dst = ctx.np_dtype(node.inputs[0]), ctx.np_dtype(node.outputs[0])
    x = ctx.cast(ins[0], src, dst)
    if not ctx.shape(node.inputs[0]):
        return ctx.node("Identity", [x])
    return ctx.node("CumSum", [x, ctx.const(np.asarray(int(node.attrs["dim"]), np.int64))])


@register("max")
def _max_dim(ctx, node, ins):
    """``max``/``min`` over one dim with indices."""
    a = node.attrs
    d, keep = int(a["dim"]), int(bool(a["keepdim"]))
    if not ctx.shape(node.inputs[0]):
        return [ctx.node("Identity", ins), ctx.const(np.asarray(0, np.int64))]
    vals = _reduce(ctx, "ReduceMax" if a["is_max"] else "ReduceMin", ins[0], [d], keep)
    idx = ctx.node("ArgMax" if a["is_max"] else "ArgMin", ins, axis=d, keepdims=keep)
    return [vals, idx]


@register("argmax")
def _argmax(ctx, node, ins):
    a = node.attrs
    op = "ArgMax" if a["is_max"] else "ArgMin"
    shape = ctx.shape(node.inputs[0])
    if a["dim"] is None:
        flat = ctx.node("Reshape", [ins[0], ctx.ints([-1])])
        r = ctx.node(op, [flat], axis=0, keepdims=0)
        if a["keepdim"]:
            r = ctx.node("Reshape", [r, ctx.ints([1] * len(shape))])
        return r
    return ctx.node(op, ins, axis=int(a["dim"]), keepdims=int(bool(a["keepdim"])))


@register("all")
def _all_any(ctx, node, ins):
    a = node.attrs
    x = ctx.node("Cast", ins, to=ctx.onnx_type(np.int32))
    r = _reduce(ctx, "ReduceMin" if a["is_all"] else "ReduceMax", x, a["dims"], a["keepdim"])
    return ctx.node("Cast", [r], to=ctx.onnx_type(ctx.np_dtype(node.outputs[0])))


@register("logsumexp")
def _logsumexp(ctx, node, ins):
    a = node.attrs
    return _reduce(ctx, "ReduceLogSumExp", ins[0], a["dims"], a["keepdim"])


@register("var")
def _var(ctx, node, ins):
    """``sum((x - mean)^2) / (n - correction)`` over ``dims``."""
    a = node.attrs
    shape = ctx.shape(node.inputs[0])
    dims = a["dims"]
    axes = list(range(len(shape))) if dims is None else [int(d) % len(shape) for d in dims]
    n = int(np.prod([shape[d] for d in axes]))
    x = ins[0]
    dev = ctx.node("Sub", [x, _reduce(ctx, "ReduceMean", x, axes, 1)])
    s = _reduce(ctx, "ReduceSum", ctx.node("Mul", [dev, dev]), axes, a["keepdim"])
    denom = max(n - float(a["correction"]), 0)
    return ctx.node("Div", [s, _c(ctx, node, denom)])


@register("linalg_vector_norm")
def _vector_norm(ctx, node, ins):
    a = node.attrs
    p, dims, keep = float(a["ord"]), a["dims"], a["keepdim"]
    x = ins[0]
    if p == 2:
        r = _reduce(ctx, "ReduceL2", x, dims, keep)
    elif p == 1:
        r = _reduce(ctx, "ReduceL1", x, dims, keep)
    elif p == float("inf"):
        r = _reduce(ctx, "ReduceMax", ctx.node("Abs", [x]), dims, keep)
    elif p == float("-inf"):
        r = _reduce(ctx, "ReduceMin", ctx.node("Abs", [x]), dims, keep)
    elif p == 0:
        nz = ctx.node("Cast", [ctx.node("Not", [ctx.node("Equal", [x, _c(ctx, node, 0)])])],
                      to=ctx.onnx_type(ctx.np_dtype(node.inputs[0])))
        r = _reduce(ctx, "ReduceSum", nz, dims, keep)
    else:
        pw = ctx.node("Pow", [ctx.node("Abs", [x]), _c(ctx, node, p)])
        r = ctx.node("Pow", [_reduce(ctx, "ReduceSum", pw, dims, keep), _c(ctx, node, 1 / p)])
    return ctx.cast(r, ctx.np_dtype(node.inputs[0]), ctx.np_dtype(node.outputs[0]))


@register("argsort")
def _argsort(ctx, node, ins):
    a = node.attrs
    d = int(a["dim"])
    n = ctx.shape(node.inputs[0])[d]
    _, idx = ctx.node("TopK", [ins[0], ctx.ints([n])], n_out=2, axis=d,
                      largest=int(bool(a["descending"])), sorted=1)
    return idx


# -- indexing and shape ----------------------------------------------------------------------


@register("gather")
def _gather(ctx, node, ins):
    idx = ctx.cast(ins[1], ctx.np_dtype(node.inputs[1]), np.int64)
    return ctx.node("GatherElements", [ins[0], idx], axis=int(node.attrs["dim"]))


@register("repeat")
def _repeat(ctx, node, ins):
    reps = [int(r) for r in node.attrs["reps"]]
    nd = len(ctx.shape(node.inputs[0]))
    x = ins[0]
    if len(reps) > nd:
        x = ctx.node("Unsqueeze", [x, ctx.ints(range(len(reps) - nd))])
    return ctx.node("Tile", [x, ctx.ints(reps)])


@register("roll")
def _roll(ctx, node, ins):
    a = node.attrs
    shape = ctx.shape(node.inputs[0])
    x = ins[0]
    if a["dims"] is None:
        x = ctx.node("Reshape", [x, ctx.ints([-1])])
        pairs, sizes = [(int(a["shifts"]), 0)], [int(np.prod(shape))]
    else:
        pairs = list(zip(a["shifts"], a["dims"]))
        sizes = [shape[d] for _, d in pairs]
    for (s, d), n in zip(pairs, sizes):
        s = int(s) % n if n else 0
        if not s:
            continue
        tail = ctx.node("Slice", [x, ctx.ints([n - s]), ctx.ints([n]), ctx.ints([d])])
        head = ctx.node("Slice", [x, ctx.ints([0]), ctx.ints([n - s]), ctx.ints([d])])
        x = ctx.node("Concat", [tail, head], axis=int(d))
    if a["dims"] is None:
        return ctx.node("Reshape", [x, ctx.ints(shape)])
    return x if x != ins[0] else ctx.node("Identity", [x])


@register("add_scaled")
def _add_scaled(ctx, node, ins):
    """``beta * c + alpha * p`` (baddbmm, addbmm, addmv...)."""
    a = node.attrs
    c, p = ins
    alpha, beta = float(a.get("alpha", 1)), float(a.get("beta", 1))
    if alpha != 1:
        p = ctx.node("Mul", [p, _c(ctx, node, alpha, 1)])
    if beta == 0:
        shape = ctx.node("Shape", [ctx.node("Add", [c, p])])
        return ctx.node("Expand", [p, shape])
    if beta != 1:
        c = ctx.node("Mul", [c, _c(ctx, node, beta)])
    return ctx.node("Add", [p, c])


# -- activations and elementwise -------------------------------------------------------------


@register("prelu")
def _prelu(ctx, node, ins):
    wshape = [int(s) for s in node.attrs["wshape"]]
    arr = ctx.const_value(node.inputs[1])
    w = ctx.const(arr.reshape(wshape)) if arr is not None else \
        ctx.node("Reshape", [ins[1], ctx.ints(wshape)])
    return ctx.node("PRelu", [ins[0], w])


@register("log_sigmoid")
def _log_sigmoid(ctx, node, ins):
    return ctx.node("Neg", [ctx.node("Softplus", [ctx.node("Neg", ins)])])


@register("threshold")
def _threshold(ctx, node, ins):
    a = node.attrs
    gt = ctx.node("Greater", [ins[0], _c(ctx, node, a["threshold"])])
    return ctx.node("Where", [gt, ins[0], _c(ctx, node, a["value"])])


@register("hardshrink")
def _hardshrink(ctx, node, ins):
    return ctx.node("Shrink", ins, lambd=float(node.attrs["lambd"]), bias=0.0)


@register("softshrink")
def _softshrink(ctx, node, ins):
    lam = float(node.attrs["lambd"])
    return ctx.node("Shrink", ins, lambd=lam, bias=lam)


@register("expm1")
def _expm1(ctx, node, ins):
    return ctx.node("Sub", [ctx.node("Exp", ins), _c(ctx, node, 1)])


@register("log1p")
def _log1p(ctx, node, ins):
    return ctx.node("Log", [ctx.node("Add", [ins[0], _c(ctx, node, 1)])])


@register("exp2")
def _exp2(ctx, node, ins):
    return ctx.node("Pow", [_c(ctx, node, 2), ins[0]])


@register("logit")
def _logit(ctx, node, ins):
    x = ins[0]
    eps = node.attrs.get("eps")
    if eps is not None:
        x = ctx.node("Clip", [x, _c(ctx, node, eps), _c(ctx, node, 1 - eps)])
    return ctx.node("Log", [ctx.node("Div", [x, ctx.node("Sub", [_c(ctx, node, 1), x])])])


@register("nan_to_num")
def _nan_to_num(ctx, node, ins):
    dt = ctx.np_dtype(node.inputs[0])
    if dt.kind != "f":
        return ctx.node("Identity", ins)
    a = node.attrs
    info = np.finfo(dt)
    pos = info.max if a.get("posinf") is None else a["posinf"]
    neg = info.min if a.get("neginf") is None else a["neginf"]
    x = ins[0]
    x = ctx.node("Where", [ctx.node("IsNaN", [x]), _c(ctx, node, a.get("nan", 0.0)), x])
    x = ctx.node("Where", [ctx.node("IsInf", [x], detect_negative=0), _c(ctx, node, pos), x])
    return ctx.node("Where", [ctx.node("IsInf", [x], detect_positive=0), _c(ctx, node, neg), x])


@register("remainder")
def _remainder(ctx, node, ins):
    """Python's modulo (the sign of the divisor)."""
    out = ctx.np_dtype(node.outputs[0])
    a, b = (ctx.cast(n, ctx.np_dtype(v), out) for n, v in zip(ins, node.inputs))
    if out.kind in "iu":
        return ctx.node("Mod", [a, b], fmod=0)
    q = ctx.node("Floor", [ctx.node("Div", [a, b])])
    return ctx.node("Sub", [a, ctx.node("Mul", [q, b])])


@register("floor_divide")
def _floor_divide(ctx, node, ins):
    out = ctx.np_dtype(node.outputs[0])
    a, b = (ctx.cast(n, ctx.np_dtype(v), out) for n, v in zip(ins, node.inputs))
    if out.kind in "iu":  # exact: (a - a mod b) / b
        return ctx.node("Div", [ctx.node("Sub", [a, ctx.node("Mod", [a, b], fmod=0)]), b])
    return ctx.node("Floor", [ctx.node("Div", [a, b])])


@register("fill")
def _fill(ctx, node, ins):
    """``x`` overwritten by a value (an in-place op's traced result, as ``relu6(x,
    inplace=True)`` or ``fill_``): the value broadcast to ``x``'s shape and dtype."""
    dt = ctx.np_dtype(node.outputs[0])
    if len(ins) > 1:
        v = ctx.cast(ins[1], ctx.np_dtype(node.inputs[1]), dt)
    else:
        v = ctx.const(np.asarray(node.attrs["value"], dt))
    return ctx.node("Expand", [v, ctx.node("Shape", [ins[0]])])


@register("fmod")
def _fmod(ctx, node, ins):
    """C's remainder (the sign of the dividend)."""
    out = ctx.np_dtype(node.outputs[0])
    a, b = (ctx.cast(n, ctx.np_dtype(v), out) for n, v in zip(ins, node.inputs))
    return ctx.node("Mod", [a, b], fmod=1)
