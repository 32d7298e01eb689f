"""ONNX mappings of ember's neural-network ops: linear, convolution, pooling,
normalization, activations, softmax, embedding."""

from __future__ import annotations

import math

import numpy as np

from ._context import register

# -- linear algebra --------------------------------------------------------------------------


@register("linear")
def _linear(ctx, node, ins):
    x, w = ins[0], ins[1]
    xs = ctx.shape(node.inputs[0])
    if len(xs) == 2:
        return ctx.node("Gemm", ins, transB=1)
    wt = ctx.node("Transpose", [w], perm=[1, 0])
    if len(xs) == 1:
        y = ctx.node("MatMul", [x, wt])
    else:
        y = ctx.node("MatMul", [x, wt])
    return ctx.node("Add", [y, ins[2]]) if len(ins) > 2 else y


@register("matmul")
def _matmul(ctx, node, ins):
    return ctx.node("MatMul", ins)


@register("addmm")
def _addmm(ctx, node, ins):
    c, a, b = ins
    return ctx.node("Gemm", [a, b, c], alpha=float(node.attrs.get("alpha", 1)),
                    beta=float(node.attrs.get("beta", 1)))


@register("einsum")
def _einsum(ctx, node, ins):
    a = node.attrs
    eq = a.get("equation")
    if not isinstance(eq, str) and isinstance(a.get("ins"), (list, tuple)) and \
            isinstance(a.get("out"), str):
        eq = ",".join(a["ins"]) + "->" + a["out"]
    if not isinstance(eq, str):
        raise NotImplementedError("einsum without an equation attribute")
    return ctx.node("Einsum", ins, equation=eq)


# -- convolution and pooling -----------------------------------------------------------------


def _onnx_pads(pads) -> list:
    """ember's ((before, after), ...) per spatial dim -> ONNX [b1, b2, ..., a1, a2, ...]."""
    pads = [tuple(p) if isinstance(p, (tuple, list)) else (p, p) for p in pads]
    return [int(p[0]) for p in pads] + [int(p[1]) for p in pads]


@register("convolution")
def _conv(ctx, node, ins):
    a = node.attrs
    w_shape = ctx.shape(node.inputs[1])
    return ctx.node("Conv", ins, kernel_shape=list(w_shape[2:]), strides=list(a["stride"]),
                    pads=_onnx_pads(a["pads"]), dilations=list(a["dilation"]),
                    group=int(a["groups"]))


@register("max_pool")
def _max_pool(ctx, node, ins):
    a = node.attrs
    n = len(a["k"])
    pads = a["padding"]
    return ctx.node("MaxPool", ins, kernel_shape=list(a["k"]), strides=list(a["stride"]),
                    pads=[int(p) for p in pads] * 2 if len(pads) == n else _onnx_pads(pads),
                    dilations=list(a["dilation"]), ceil_mode=int(bool(a["ceil_mode"])))


@register("avg_pool")
def _avg_pool(ctx, node, ins):
    a = node.attrs
    if a.get("divisor_override"):
        raise NotImplementedError("avg_pool with divisor_override")
    return ctx.node("AveragePool", ins, kernel_shape=list(a["k"]), strides=list(a["stride"]),
                    pads=[int(p) for p in a["padding"]] * 2,
                    ceil_mode=int(bool(a["ceil_mode"])),
                    count_include_pad=int(bool(a["count_include_pad"])))


# -- normalization ---------------------------------------------------------------------------


@register("channel_affine")
def _channel_affine(ctx, node, ins):
    """``x * scale[c] + shift[c]`` (eval-mode batch norm, its statistics folded into scale
    and shift) as a ``BatchNormalization`` with mean 0, variance 1 and epsilon 0."""
    x, scale, shift = ins
    c = ctx.shape(node.inputs[0])[1]
    dt = ctx.np_dtype(node.inputs[0])
    if ctx.np_dtype(node.inputs[1]) != dt or ctx.np_dtype(node.inputs[2]) != dt:
        scale = ctx.cast(scale, ctx.np_dtype(node.inputs[1]), dt)
        shift = ctx.cast(shift, ctx.np_dtype(node.inputs[2]), dt)
    mean = ctx.const(np.zeros(c, dt), hint="bn_mean")
    var = ctx.const(np.ones(c, dt), hint="bn_var")
    return ctx.node("BatchNormalization", [x, scale, shift, mean, var], epsilon=0.0)


@register("layer_norm")
def _layer_norm(ctx, node, ins):
    a = node.attrs
    nd = int(a["nd"])
    x = ins[0]
    norm_shape = ctx.shape(node.inputs[0])[-nd:]
    dt = ctx.np_dtype(node.inputs[0])
    scale = ins[1] if len(ins) > 1 else ctx.const(np.ones(norm_shape, dt), hint="ln_scale")
    bias = ins[2] if len(ins) > 2 else None
    if ctx.opset >= 17:
        return ctx.node("LayerNormalization", [x, scale] + ([bias] if bias else []),
                        axis=-nd, epsilon=float(a["eps"]))
    axes = list(range(-nd, 0))
    mean = _reduce_mean(ctx, x, axes)
    xc = ctx.node("Sub", [x, mean])
    var = _reduce_mean(ctx, ctx.node("Mul", [xc, xc]), axes)
    eps = ctx.const(np.asarray(a["eps"], dt), hint="eps")
    y = ctx.node("Div", [xc, ctx.node("Sqrt", [ctx.node("Add", [var, eps])])])
    y = ctx.node("Mul", [y, scale])
    return ctx.node("Add", [y, bias]) if bias else y


def _reduce_mean(ctx, x, axes, keepdims: int = 1):
    if ctx.opset >= 18:
        return ctx.node("ReduceMean", [x, ctx.ints(axes)], keepdims=keepdims)
    return ctx.node("ReduceMean", [x], axes=list(axes), keepdims=keepdims)


# -- activations -----------------------------------------------------------------------------

_UNARY = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "exp": "Exp", "log": "Log",
          "sqrt": "Sqrt", "neg": "Neg", "abs": "Abs", "erf": "Erf", "sin": "Sin",
          "cos": "Cos", "reciprocal": "Reciprocal", "floor": "Floor", "ceil": "Ceil",
          "sign": "Sign", "softsign": "Softsign", "logical_not": "Not", "tan": "Tan",
          "asin": "Asin", "acos": "Acos", "atan": "Atan", "sinh": "Sinh", "cosh": "Cosh",
          "round": "Round", "bitwise_not": "BitwiseNot"}


def _unary_fn(op_type):
    return lambda ctx, node, ins: ctx.node(op_type, ins)


for _name, _op in _UNARY.items():
    register(_name)(_unary_fn(_op))


@register("square")
def _square(ctx, node, ins):
    return ctx.node("Mul", [ins[0], ins[0]])


@register("rsqrt")
def _rsqrt(ctx, node, ins):
    return ctx.node("Reciprocal", [ctx.node("Sqrt", ins)])


@register("gelu")
def _gelu(ctx, node, ins):
    x = ins[0]
    dt = ctx.np_dtype(node.inputs[0])
    approx = node.attrs.get("approximate", "none")
    if ctx.opset >= 20:
        return ctx.node("Gelu", [x], approximate=approx)
    half = ctx.const(np.asarray(0.5, dt), hint="half")
    one = ctx.const(np.asarray(1.0, dt), hint="one")
    if approx == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        x3 = ctx.node("Mul", [ctx.node("Mul", [x, x]), x])
        inner = ctx.node("Add", [x, ctx.node("Mul", [x3, ctx.const(np.asarray(0.044715, dt))])])
        t = ctx.node("Tanh", [ctx.node("Mul", [inner, ctx.const(
            np.asarray(math.sqrt(2 / math.pi), dt))])])
    else:  # 0.5 x (1 + erf(x / sqrt 2))
        t = ctx.node("Erf", [ctx.node("Div", [x, ctx.const(np.asarray(math.sqrt(2), dt))])])
    return ctx.node("Mul", [ctx.node("Mul", [x, half]), ctx.node("Add", [t, one])])


@register("silu")
def _silu(ctx, node, ins):
    return ctx.node("Mul", [ins[0], ctx.node("Sigmoid", ins)])


@register("mish")
def _mish(ctx, node, ins):
    return ctx.node("Mul", [ins[0], ctx.node("Tanh", [ctx.node("Softplus", ins)])])


@register("leaky_relu")
def _leaky_relu(ctx, node, ins):
    return ctx.node("LeakyRelu", ins, alpha=float(node.attrs["slope"]))


@register("elu")
def _elu(ctx, node, ins):
    a = node.attrs
    alpha = float(a.get("alpha", 1.0))
    scale, in_scale = float(a.get("scale", 1)), float(a.get("input_scale", 1))
    if scale == 1 and in_scale == 1:
        return ctx.node("Elu", ins, alpha=alpha)
    if in_scale == 1:  # selu
        return ctx.node("Selu", ins, alpha=alpha, gamma=scale)
    if scale == 1 and alpha != 0 and abs(in_scale * alpha - 1) < 1e-12:  # celu
        return ctx.node("Celu", ins, alpha=alpha)
    # scale * (x > 0 ? x : alpha * (exp(input_scale * x) - 1))
    dt = ctx.np_dtype(node.inputs[0])
    x = ins[0]
    neg = ctx.node("Elu", [ctx.node("Mul", [x, ctx.const(np.asarray(in_scale, dt))])],
                   alpha=alpha)
    y = ctx.node("Where", [ctx.node("Greater", [x, ctx.const(np.asarray(0, dt))]), x, neg])
    return ctx.node("Mul", [y, ctx.const(np.asarray(scale, dt))])


@register("hardtanh")
def _hardtanh(ctx, node, ins):
    dt = ctx.np_dtype(node.inputs[0])
    a = node.attrs
    return ctx.node("Clip", [ins[0], ctx.const(np.asarray(a["lo"], dt)),
                             ctx.const(np.asarray(a["hi"], dt))])


@register("hardsigmoid")
def _hardsigmoid(ctx, node, ins):
    return ctx.node("HardSigmoid", ins, alpha=1.0 / 6, beta=0.5)


@register("hardswish")
def _hardswish(ctx, node, ins):
    return ctx.node("HardSwish", ins)


@register("softplus")
def _softplus(ctx, node, ins):
    a = node.attrs
    beta = float(a.get("beta", 1))
    if beta == 1:
        return ctx.node("Softplus", ins)
    dt = ctx.np_dtype(node.inputs[0])
    b = ctx.const(np.asarray(beta, dt))
    return ctx.node("Div", [ctx.node("Softplus", [ctx.node("Mul", [ins[0], b])]), b])


@register("softmax")
def _softmax(ctx, node, ins):
    return ctx.node("Softmax", ins, axis=int(node.attrs["dim"]))


@register("log_softmax")
def _log_softmax(ctx, node, ins):
    return ctx.node("LogSoftmax", ins, axis=int(node.attrs["dim"]))


# -- embedding -------------------------------------------------------------------------------


@register("embedding")
def _embedding(ctx, node, ins):
    idx = ctx.array_attr(node, "idx", np.int64)
    return ctx.node("Gather", [ins[0], idx], axis=0)
