"""ONNX mappings of ember's recurrent layers: one ``rnn_layer`` node (one layer, one
direction of ``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN``) becomes one ONNX ``LSTM`` / ``GRU`` /
``RNN`` node.

ember's layer takes time-major ``x`` (T, B, I), the states ``h0`` (B, H) [and ``c0``] and
PyTorch's weights; its outputs are the hidden states (T, B, H), ``h_T`` and [``c_T``].
The ONNX node takes the weights with one leading direction axis and its gates in ONNX's
order (PyTorch's LSTM gates i, f, g, o are ONNX's i, o, f, c; GRU's r, z, n are z, r, h,
with ``linear_before_reset=1`` for PyTorch's ``r * (W_hn h + b_hn)``), the two biases
packed as ``[Wb, Rb]``, and the states with a direction axis; its outputs ``Y``
(T, 1, B, H), ``Y_h`` and ``Y_c`` (1, B, H) are squeezed back. ``batch_first`` and the
stacking of layers and directions are ordinary traced ops around the layers.
"""

from __future__ import annotations

import numpy as np

from ._context import register

_GATE_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN_TANH": [0], "RNN_RELU": [0]}
_ONNX_OP = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}


def _reordered(ctx, vid, name, order, hint):
    """Weight (G*H, K) or bias (G*H,) ``vid`` with its G gate blocks in ``order`` and a
    leading axis of 1; folded into an initializer when the weight is a constant."""
    arr = ctx.const_value(vid)
    n = len(order)
    if arr is not None:
        blocks = np.split(arr, n, axis=0)
        return ctx.const(np.concatenate([blocks[k] for k in order], 0)[None], hint=hint)
    x = name
    if order != list(range(n)):
        parts = ctx.node("Split", [name, ctx.ints([ctx.shape(vid)[0] // n] * n)], n_out=n,
                         axis=0)
        x = ctx.node("Concat", [parts[k] for k in order], axis=0)
    return ctx.node("Unsqueeze", [x, ctx.ints([0])])


def _state(ctx, vid, name):
    """An initial state (B, H) as ONNX's (1, B, H); "" (zeros, the default) for a constant
    zero state, so that a different batch size still runs."""
    arr = ctx.const_value(vid)
    if arr is not None and not np.any(arr):
        return ""
    return ctx.node("Unsqueeze", [name, ctx.ints([0])])


@register("rnn_layer")
def _rnn_layer(ctx, node, ins):
    a = node.attrs
    mode = a["mode"]
    if a.get("proj"):
        raise NotImplementedError("LSTM with proj_size > 0 (ONNX LSTM has no projection)")
    lstm = mode == "LSTM"
    vids = list(node.inputs)
    x, h0 = ins[0], ins[1]
    k = 3 if lstm else 2
    order = _GATE_ORDER[mode]
    w = _reordered(ctx, vids[k], ins[k], order, "W")
    r = _reordered(ctx, vids[k + 1], ins[k + 1], order, "R")
    hidden = ctx.shape(vids[k + 1])[1]
    if len(ins) > k + 2:
        bi = ctx.const_value(vids[k + 2])
        bh = ctx.const_value(vids[k + 3])
        if bi is not None and bh is not None:
            blocks = [np.split(b, len(order)) for b in (bi, bh)]
            packed = np.concatenate([blk[j] for blk in blocks for j in order])
            b = ctx.const(packed[None], hint="B")
        else:
            bs = [_reordered(ctx, v, n, order, "B") for v, n in
                  ((vids[k + 2], ins[k + 2]), (vids[k + 3], ins[k + 3]))]
            b = ctx.node("Concat", bs, axis=1)
    else:
        b = ""
    lengths = a.get("lengths")
    seq = "" if lengths is None else ctx.const(np.asarray(lengths, np.int32), hint="lens")
    inputs = [x, w, r, b, seq, _state(ctx, vids[1], h0)]
    if lstm:
        inputs.append(_state(ctx, vids[2], ins[2]))
    while inputs[-1] == "":
        inputs.pop()
    attrs = {"hidden_size": int(hidden),
             "direction": "reverse" if a.get("reverse") else "forward"}
    if mode == "GRU":
        attrs["linear_before_reset"] = 1
    elif mode == "RNN_RELU":
        attrs["activations"] = ["Relu"]
    outs = ctx.node(_ONNX_OP[mode], inputs, n_out=3 if lstm else 2, **attrs)
    y = ctx.node("Squeeze", [outs[0], ctx.ints([1])])
    states = [ctx.node("Squeeze", [o, ctx.ints([0])]) for o in outs[1:]]
    return [y] + states
