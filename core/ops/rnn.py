"""Recurrent layers as fused ops: one LSTM, GRU or Elman RNN layer over a whole sequence.

Forward: the input projections of every time step come from ONE matrix product
(``x (T*B, I) @ W_ih^T``); each step then adds ``h @ W_hh^T`` (one product for all gates)
and applies the gate nonlinearities in a few vectorised array ops. Backward through time
walks the steps in reverse collecting the gate gradients of all steps, then forms the
weight gradients with one product each (``dgates^T @ h_prev`` and ``dgates^T @ x``) and
the input gradient with one product (``dgates @ W_ih``). No loop touches the batch.
An LSTM with a projection (``proj_size > 0``) multiplies each step's hidden state by
``W_hr^T``; its gradient is again one product over all steps.

Variable-length batches (packed sequences) pass per-sequence ``lengths``: a step leaves
the state of finished sequences unchanged and writes zeros to their outputs.

When a graph of the gradient is wanted (``create_graph=True``) the backward recomputes
the layer with ember ops and differentiates that, so double backward works too.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import _State
from . import _parallel
from .op import Op, xp_of

__all__ = ["rnn_layer"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _mm(xp, a, b):
    """``a @ b``: numpy products go through ``_parallel.matmul`` (oneDNN where it applies,
    so that OpenBLAS's threads and oneDNN's do not spin against each other)."""
    return _parallel.matmul(a, b) if xp is np else xp.matmul(a, b)


def _sigmoid(xp, x):
    out = xp.negative(x)
    xp.exp(out, out=out)
    out += 1
    xp.reciprocal(out, out=out)
    return out


class RNNLayer(Op):
    """One recurrent layer over (T, B, I) input. Inputs: x, h0, [c0], w_ih, w_hh, [b_ih,
    b_hh]; outputs: (T, B, H) hidden states, h_T, [c_T]."""

    _name = "rnn_layer"
    n_outputs = 2

    def forward(self, x, h0, *rest):
        xp = xp_of(x)
        mode = self.mode
        lstm = mode == "LSTM"
        if lstm:
            c0, rest = rest[0], rest[1:]
        w_hr = None
        if self.proj:
            rest, w_hr = rest[:-1], rest[-1]
        w_ih, w_hh = rest[0], rest[1]
        b_ih, b_hh = (rest[2], rest[3]) if len(rest) > 2 else (None, None)
        t_len, b, _ = x.shape
        h_size = w_hh.shape[0] // _GATES[mode]  # the gates' (and the cell's) size
        s_size = w_hh.shape[1]  # the state's: the projection size with proj_size > 0
        xw = _mm(xp, x.reshape(t_len * b, -1), w_ih.T).reshape(t_len, b, -1)
        if b_ih is not None:
            xw += b_ih
            if mode != "GRU":
                xw += b_hh
        self.n_out = 3 if lstm else 2
        order = range(t_len - 1, -1, -1) if self.reverse else range(t_len)
        mask = None
        if self.lengths is not None:
            mask = xp.arange(t_len)[:, None] < xp.asarray(self.lengths)[None, :]  # (T, B)
        hs = xp.empty((t_len, b, s_size), dtype=x.dtype)
        h_prev = xp.empty((t_len, b, s_size), dtype=x.dtype)  # the state each step read
        h_raw = xp.empty((t_len, b, h_size), dtype=x.dtype) if w_hr is not None else None
        acts = xp.empty((t_len, b, _GATES[mode] * h_size), dtype=x.dtype)
        cs = xp.empty((t_len, b, h_size), dtype=x.dtype) if lstm else None
        c_prev = xp.empty((t_len, b, h_size), dtype=x.dtype) if lstm else None
        hn_gru = xp.empty((t_len, b, h_size), dtype=x.dtype) if mode == "GRU" else None
        h = h0
        c = c0 if lstm else None
        for t in order:
            h_prev[t] = h
            hw = _mm(xp, h, w_hh.T)
            if lstm:
                c_prev[t] = c
                gates = xw[t] + hw
                a = acts[t]
                a[:, :2 * h_size] = _sigmoid(xp, gates[:, :2 * h_size])
                a[:, 2 * h_size:3 * h_size] = xp.tanh(gates[:, 2 * h_size:3 * h_size])
                a[:, 3 * h_size:] = _sigmoid(xp, gates[:, 3 * h_size:])
                i, f, g, o = (a[:, k * h_size:(k + 1) * h_size] for k in range(4))
                c_new = f * c + i * g
                h_new = o * xp.tanh(c_new)
                if w_hr is not None:
                    h_raw[t] = h_new
                    h_new = _mm(xp, h_new, w_hr.T)
            elif mode == "GRU":
                if b_hh is not None:
                    hw += b_hh
                hn_gru[t] = hw[:, 2 * h_size:]
                a = acts[t]
                a[:, :2 * h_size] = _sigmoid(xp, xw[t, :, :2 * h_size] + hw[:, :2 * h_size])
                r, z = a[:, :h_size], a[:, h_size:2 * h_size]
                a[:, 2 * h_size:] = xp.tanh(xw[t, :, 2 * h_size:] + r * hw[:, 2 * h_size:])
                n = a[:, 2 * h_size:]
                h_new = n + z * (h - n)
            else:
                pre = xw[t] + hw
                h_new = xp.tanh(pre) if mode == "RNN_TANH" else xp.maximum(pre, 0)
                acts[t] = h_new
            if mask is not None:
                m = mask[t][:, None]
                h_new = xp.where(m, h_new, h)
                hs[t] = h_new * m
                if lstm:
                    c_new = xp.where(m, c_new, c)
            else:
                hs[t] = h_new
            if lstm:
                cs[t] = c_new
                c = c_new
            h = h_new
        self.state = (hs, h_prev, acts, cs, c_prev, hn_gru, mask, h_raw)
        outs = (hs, xp.array(h, copy=True))
        if lstm:
            outs = outs + (xp.array(c, copy=True),)
        return outs

    def backward(self, *grads):
        if _State.enabled:
            return _recompute_backward(self, grads)
        return _bptt(self, grads)

    def _release(self) -> None:
        super()._release()
        self.state = None


def _bptt(op, grads):
    """Backward through time on arrays (see the module docstring)."""
    data = [t._data for t in op.saved_tensors]
    x = data[0]
    mode = op.mode
    lstm = mode == "LSTM"
    rest = data[3:] if lstm else data[2:]
    w_hr = None
    if op.proj:
        rest, w_hr = rest[:-1], rest[-1]
    w_ih, w_hh = rest[0], rest[1]
    has_bias = len(rest) > 2
    xp = xp_of(x)
    hs, h_prev, acts, cs, c_prev, hn_gru, mask, h_raw = op.state
    t_len, b, _ = x.shape
    h_size = w_hh.shape[0] // _GATES[mode]
    s_size = w_hh.shape[1]
    dt = x.dtype

    def arr(g, shape):
        return g._data if g is not None else xp.zeros(shape, dtype=dt)

    d_out = arr(grads[0], hs.shape)
    dh = arr(grads[1], (b, s_size)).copy()
    dc = arr(grads[2], (b, h_size)).copy() if lstm else None
    ng = _GATES[mode]
    dgates = xp.empty((t_len, b, ng * h_size), dtype=dt)
    dproj = xp.empty((t_len, b, s_size), dtype=dt) if w_hr is not None else None
    dgh = xp.empty((t_len, b, h_size), dtype=dt) if mode == "GRU" else None
    order = range(t_len) if op.reverse else range(t_len - 1, -1, -1)
    for t in order:
        m = mask[t][:, None] if mask is not None else None
        dh_t = dh + (d_out[t] if m is None else d_out[t] * m)
        a = acts[t]
        dg = dgates[t]
        if lstm:
            i, f, g, o = (a[:, k * h_size:(k + 1) * h_size] for k in range(4))
            tc = xp.tanh(cs[t])
            dh_act = dh_t * m if m is not None else dh_t
            if w_hr is not None:
                dproj[t] = dh_act
                dh_act = _mm(xp, dh_act, w_hr)
            dc_t = dc + dh_act * o * (1 - tc * tc)
            if m is not None:
                dc_t = dc_t * m
            dg[:, :h_size] = dc_t * g * i * (1 - i)
            dg[:, h_size:2 * h_size] = dc_t * c_prev[t] * f * (1 - f)
            dg[:, 2 * h_size:3 * h_size] = dc_t * i * (1 - g * g)
            dg[:, 3 * h_size:] = dh_act * tc * o * (1 - o)
            dc_new = dc_t * f
            if m is not None:
                dc_new = dc_new + dc * (~m)
            dc = dc_new
        elif mode == "GRU":
            r, z, n = a[:, :h_size], a[:, h_size:2 * h_size], a[:, 2 * h_size:]
            dh_act = dh_t * m if m is not None else dh_t
            dn = dh_act * (1 - z)
            dpre_n = dn * (1 - n * n)
            dg[:, 2 * h_size:] = dpre_n
            dg[:, h_size:2 * h_size] = dh_act * (h_prev[t] - n) * z * (1 - z)
            dr = dpre_n * hn_gru[t]
            dg[:, :h_size] = dr * r * (1 - r)
            dgh[t] = dpre_n * r  # gradient of the hidden part of the n gate
        else:
            dh_act = dh_t * m if m is not None else dh_t
            h_new = a
            if mode == "RNN_TANH":
                dg[...] = dh_act * (1 - h_new * h_new)
            else:
                dg[...] = dh_act * (h_new > 0)
        # gradient reaching the previous state
        if mode == "GRU":
            dhw = xp.concatenate([dg[:, :2 * h_size], dgh[t]], axis=1)
            dh_prev = _mm(xp, dhw, w_hh) + dh_act * a[:, h_size:2 * h_size]
        else:
            dh_prev = _mm(xp, dg, w_hh)
        if m is not None:
            dh_prev = dh_prev + dh_t * (~m)
        dh = dh_prev
    tb = t_len * b
    dg2 = dgates.reshape(tb, -1)
    nf = op.next_functions
    out = []
    out.append(Tensor._make(_mm(xp, dg2, w_ih).reshape(x.shape)) if nf[0][0] else None)
    out.append(Tensor._make(dh))
    if lstm:
        out.append(Tensor._make(dc))
    hprev2 = h_prev.reshape(tb, s_size)
    if mode == "GRU":
        dgh_all = xp.concatenate([dgates[:, :, :2 * h_size], dgh], axis=2).reshape(tb, -1)
    else:
        dgh_all = dg2
    k = len(out)
    out.append(Tensor._make(_mm(xp, dg2.T, x.reshape(tb, -1))) if nf[k][0] else None)
    out.append(Tensor._make(_mm(xp, dgh_all.T, hprev2)) if nf[k + 1][0] else None)
    if has_bias:
        out.append(Tensor._make(dg2.sum(axis=0)))
        out.append(Tensor._make(dgh_all.sum(axis=0)))
    if w_hr is not None:
        out.append(Tensor._make(_mm(xp, dproj.reshape(tb, s_size).T,
                                          h_raw.reshape(tb, h_size))) if nf[-1][0] else None)
    return tuple(out)


def _recompute_backward(op, grads):
    """The gradient as a differentiable graph: the layer recomputed with ember ops."""
    from ..autograd import grad as autograd_grad
    from ..autograd.grad_mode import enable_grad

    inputs = op.saved_tensors
    with enable_grad():
        outs = reference_layer(op.mode, inputs, op.reverse, op.lengths, op.proj)
        pairs = [(o, g) for o, g in zip(outs, grads) if g is not None]
        want = [t for t in inputs if t.requires_grad]
        got = autograd_grad([o for o, _ in pairs], want, [g for _, g in pairs],
                            create_graph=True, allow_unused=True)
    it = iter(got)
    return tuple(next(it) if t.requires_grad else None for t in inputs)


def reference_layer(mode: str, inputs, reverse: bool, lengths, proj: bool = False):
    """The same layer in ember ops (used for double backward)."""
    from .elementwise import sigmoid, tanh, where
    from .shape import stack

    lstm = mode == "LSTM"
    x, h = inputs[0], inputs[1]
    c = inputs[2] if lstm else None
    rest = inputs[3:] if lstm else inputs[2:]
    w_hr = None
    if proj:
        rest, w_hr = rest[:-1], rest[-1]
    w_ih, w_hh = rest[0], rest[1]
    b_ih, b_hh = (rest[2], rest[3]) if len(rest) > 2 else (None, None)
    t_len = x.shape[0]
    h_size = w_hh.shape[0] // _GATES[mode]
    xw = x.matmul(w_ih.t())
    if b_ih is not None:
        xw = xw + b_ih
        if mode != "GRU":
            xw = xw + b_hh
    xp = xp_of(x._data)
    mask = None
    if lengths is not None:
        mask = Tensor._make(xp.arange(t_len)[:, None] < xp.asarray(lengths)[None, :])
    outs = [None] * t_len
    order = range(t_len - 1, -1, -1) if reverse else range(t_len)
    for t in order:
        hw = h.matmul(w_hh.t())
        if lstm:
            gates = xw[t] + hw
            i = sigmoid(gates[:, :h_size])
            f = sigmoid(gates[:, h_size:2 * h_size])
            g = tanh(gates[:, 2 * h_size:3 * h_size])
            o = sigmoid(gates[:, 3 * h_size:])
            c_new = f * c + i * g
            h_new = o * tanh(c_new)
            if w_hr is not None:
                h_new = h_new.matmul(w_hr.t())
        elif mode == "GRU":
            if b_hh is not None:
                hw = hw + b_hh
            r = sigmoid(xw[t][:, :h_size] + hw[:, :h_size])
            z = sigmoid(xw[t][:, h_size:2 * h_size] + hw[:, h_size:2 * h_size])
            n = tanh(xw[t][:, 2 * h_size:] + r * hw[:, 2 * h_size:])
            h_new = (1 - z) * n + z * h
        else:
            pre = xw[t] + hw
            h_new = tanh(pre) if mode == "RNN_TANH" else pre.relu()
        if mask is not None:
            m = mask[t].unsqueeze(1)
            h_new = where(m, h_new, h)
            outs[t] = h_new * m
            if lstm:
                c_new = where(m, c_new, c)
        else:
            outs[t] = h_new
        h = h_new
        if lstm:
            c = c_new
    res = (stack(outs, 0), h)
    return res + (c,) if lstm else res


def rnn_layer(mode: str, x: Tensor, h0: Tensor, c0: Tensor | None, w_ih: Tensor,
              w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None, reverse: bool = False,
              lengths=None, w_hr: Tensor | None = None):
    """Runs one layer (``mode`` in LSTM, GRU, RNN_TANH, RNN_RELU) over (T, B, I) input;
    returns (outputs (T, B, H), h_T) and c_T for LSTM. ``w_hr`` (P, H), LSTM only,
    projects the hidden state: ``h_t = (o_t * tanh(c_t)) @ w_hr^T`` of size P."""
    inputs = [x, h0] + ([c0] if mode == "LSTM" else []) + [w_ih, w_hh]
    if b_ih is not None:
        inputs += [b_ih, b_hh]
    if w_hr is not None:
        inputs.append(w_hr)
    node_attrs = {"mode": mode, "reverse": bool(reverse), "lengths": lengths,
                  "proj": w_hr is not None}
    return _apply_layer(inputs, node_attrs)


def _apply_layer(inputs, attrs):
    from .op import apply

    cls = _LAYER_CLASSES[attrs["mode"]]
    attrs = dict(attrs)
    attrs["save_inputs"] = tuple(range(len(inputs)))
    return apply(cls, inputs, attrs)


class LSTMLayer(RNNLayer):
    n_outputs = 3


class TwoOutputLayer(RNNLayer):
    n_outputs = 2


_LAYER_CLASSES = {"LSTM": LSTMLayer, "GRU": TwoOutputLayer, "RNN_TANH": TwoOutputLayer,
                  "RNN_RELU": TwoOutputLayer}
