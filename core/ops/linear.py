"""The affine map of ``nn.Linear`` as one op: ``y = x @ W^T + b``.

Leading dims of ``x`` are folded into one, so forward and both weight and input gradients
are each a single matrix product on BLAS (never a batch of small products). The backward
is written with ember ops, so double backward works.
"""

from __future__ import annotations

import numpy as np

from .._autocast_state import lower as _amp_lower
from .._autocast_state import state as _amp
from .._tensor import Tensor
from . import _parallel
from ._lowp import float32_gemm
from .op import FLOAT32_64, Op, graphless, xp_of

__all__ = ["linear"]


class Linear(Op):
    _name = "linear"
    save_inputs = (0, 1)

    @float32_gemm
    def forward(self, x, w, b=None):
        if type(x) is np.ndarray and x.ndim >= 2:
            return _numpy_linear(x, w, b)
        xp = xp_of(x)
        if x.ndim == 2:
            y = xp.matmul(x, w.T)
        elif x.ndim == 1:
            y = xp.matmul(w, x)
        else:
            y = xp.matmul(x.reshape(-1, x.shape[-1]), w.T).reshape(x.shape[:-1] + (w.shape[0],))
        if b is not None:
            y += b
        return y

    def backward(self, g):
        x, w = self.saved_tensors
        nf = self.next_functions
        gx = gw = gb = None
        if x.ndim == 1:
            if nf[0][0] is not None:
                gx = g.matmul(w)
            if nf[1][0] is not None:
                gw = g.unsqueeze(1).matmul(x.unsqueeze(0))
            if len(nf) > 2 and nf[2][0] is not None:
                gb = g
            return (gx, gw, gb)[:len(nf)]
        g2 = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
        if nf[0][0] is not None:
            gx = g2.matmul(w)
            if x.ndim != 2:
                gx = gx.reshape(x.shape)
        if nf[1][0] is not None:
            x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
            gw = g2.t().matmul(x2)
        if len(nf) > 2 and nf[2][0] is not None:
            gb = g2.sum(0)
        return (gx, gw, gb)[:len(nf)]


def _numpy_linear(x, w, b):
    """``x @ w.T + b`` for a numpy ``x`` of at least 2 dims: its leading dims folded into
    one, the product split over threads (``_parallel.matmul``)."""
    if x.ndim == 2:
        return _parallel.matmul(x, w.T, b)
    y = _parallel.matmul(x.reshape(-1, x.shape[-1]), w.T, b)
    return y.reshape(x.shape[:-1] + (w.shape[0],))


def _pt(t: Tensor) -> str:
    return {"float32": "float", "float64": "double", "float16": "c10::Half",
            "int64": "long"}.get(t.dtype.name, t.dtype.name)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``."""
    if _amp.on:
        input, weight, bias = _amp_lower("linear", input, weight, bias)
    xd, wd = input._data, weight._data
    if xd.dtype != wd.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_pt(input)} and "
                           f"{_pt(weight)}")
    if wd.ndim != 2:
        raise RuntimeError(f"linear: weight must be 2-D, got {weight.ndim}-D")
    if xd.ndim == 0 or xd.shape[-1] != wd.shape[1]:
        rows = 1
        for s in input.shape[:-1]:
            rows *= s
        a = f"{rows}x{input.shape[-1] if input.ndim else 1}"
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a} and "
                           f"{weight.shape[1]}x{weight.shape[0]})")
    if type(xd) is np.ndarray and xd.ndim >= 2 and xd.dtype in FLOAT32_64 and \
            type(wd) is np.ndarray and graphless():  # no graph node (e.g. a decoding step)
        if bias is None:
            return Tensor._make(_numpy_linear(xd, wd, None))
        bd = bias._data
        if type(bd) is np.ndarray and bd.dtype == xd.dtype and bd.shape == wd.shape[:1]:
            return Tensor._make(_numpy_linear(xd, wd, bd))
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)
