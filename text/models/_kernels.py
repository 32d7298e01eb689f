"""Fused kernels of the text models, written as ember ops (a forward on arrays, a backward
with ember ops) where core's general-purpose ops are slow for these shapes.

* :func:`fused_attention`: ``softmax(q k^T * scale + mask) v`` as one op. Its batched matrix
  products run with a single BLAS thread: (B * nh) small products split over BLAS threads
  cost far more in thread hand-offs than they save (OpenBLAS on 2 cores: 10-100x slower
  when the machine is busy). The softmax is computed in place on the score buffer.
* :func:`dense`: ``x @ W (+ b)`` for weights stored (in, out) (GPT-2's ``Conv1D``) or
  (out, in) (``nn.Linear``); a product with few rows (a decoding step) runs as a
  matrix-vector product on one BLAS thread, several times faster than numpy's ``matmul``
  of a (1, K) matrix split over threads.
* :func:`gelu`: the exact (erf) GELU through a float32 rational ``erfc`` (Numerical
  Recipes' ``erfcc``, fractional error < 1.2e-7 everywhere), evaluated in cache-sized
  blocks, instead of ``scipy.special.erf``: ~20x faster on BERT's activations.

Both fall back to plain ember ops for arrays that are not numpy's (CUDA keeps its own path).
"""

from __future__ import annotations

import contextlib
import math

import ember
import ember.nn.functional as F
import numpy as np
from ember import Tensor
from ember.ops.op import Op

__all__ = ["fused_attention", "gelu", "dense", "single_blas_thread"]

# Products with at most this many rows are matrix-vector-like (a decoding step): memory-bound,
# faster on one BLAS thread than split over several, and run as gemv when there is one row.
SMALL_ROWS = 8

_SQRT_HALF = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_blas: list = []  # [BLAS thread-pool controllers], found on first use


def _blas_controllers() -> list:
    """numpy's BLAS controllers (threadpoolctl); all BLAS libraries loaded when numpy's
    cannot be told apart; none without threadpoolctl."""
    if not _blas:
        found: list = []
        try:
            from threadpoolctl import ThreadpoolController

            libs = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
            mine = [c for c in libs if "numpy" in (c.filepath or "")]
            found = mine or libs
        except Exception:  # noqa: BLE001 - threadpoolctl missing or unusable: no limit
            found = []
        _blas.append(found)
    return _blas[0]


@contextlib.contextmanager
def single_blas_thread():
    """Run the block with one BLAS thread (the previous counts are restored afterwards)."""
    changed = []
    for ctl in _blas_controllers():
        n = ctl.get_num_threads()
        if n != 1:
            ctl.set_num_threads(1)
            changed.append((ctl, n))
    try:
        yield
    finally:
        for ctl, n in changed:
            ctl.set_num_threads(n)


class _Attention(Op):
    """``softmax(q @ k^T * scale + mask) @ v``; the mask (additive, constant) is an
    attribute, so it gets no gradient."""

    _name = "scaled_dot_product_attention"
    save_inputs = (0, 1, 2)

    def forward(self, q, k, v):
        with single_blas_thread():
            s = np.matmul(q, np.swapaxes(k, -1, -2))  # (B, nh, T, S)
            if self.scale != 1.0:
                s *= s.dtype.type(self.scale)
            if self.mask is not None:
                s += self.mask
            s -= s.max(axis=-1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(axis=-1, keepdims=True)
            return np.matmul(s, v)  # (B, nh, T, hs)

    def backward(self, g):
        q, k, v = self.saved_tensors
        scores = q.matmul(k.mT) * self.scale
        if self.mask is not None:
            scores = scores + Tensor._make(self.mask)
        p = F.softmax(scores, dim=-1)
        gv = p.mT.matmul(g)
        gp = g.matmul(v.mT)
        gs = p * (gp - (gp * p).sum(-1, keepdim=True)) * self.scale
        return gs.matmul(k), gs.mT.matmul(q), gv


def fused_attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None,
                    scale: float) -> Tensor:
    """``softmax(q k^T * scale + mask) v`` for (B, nh, T, hs) queries and (B, nh, S, hs)
    keys/values on the CPU; ``mask`` is additive and broadcastable to (B, nh, T, S)."""
    if not (isinstance(q._data, np.ndarray) and q.dtype == k.dtype == v.dtype):
        scores = q.matmul(k.mT) * scale
        if mask is not None:
            scores = scores + mask
        return F.softmax(scores, dim=-1).matmul(v)
    m = None
    if mask is not None:
        m = mask.detach().numpy().astype(q._data.dtype, copy=False)
    return _Attention.apply(q, k, v, mask=m, scale=float(scale))


class _Dense(Op):
    """``x2 @ W + b`` (``transposed``: W stored (out, in), so ``x2 @ W.T + b``)."""

    _name = "linear"
    save_inputs = (0, 1)

    def forward(self, x, w, b=None):
        wm = w.T if self.transposed else w  # (in, out)
        rows = x.shape[0]
        if rows <= SMALL_ROWS:
            with single_blas_thread():
                y = np.dot(x[0], wm)[None] if rows == 1 else np.dot(x, wm)
        else:
            y = np.matmul(x, wm)
        if b is not None:
            y += b
        return y

    def backward(self, g):
        x, w = self.saved_tensors
        nf = self.next_functions
        gx = gw = gb = None
        if nf[0][0] is not None:
            gx = g.matmul(w) if self.transposed else g.matmul(w.mT)
        if nf[1][0] is not None:
            gw = g.mT.matmul(x) if self.transposed else x.mT.matmul(g)
        if len(nf) > 2 and nf[2][0] is not None:
            gb = g.sum(0)
        return (gx, gw, gb)[:len(nf)]


def dense(x: Tensor, weight: Tensor, bias: Tensor | None = None,
          transposed: bool = False) -> Tensor:
    """``x @ weight + bias`` over the last dim of ``x`` (``transposed=True``: ``weight`` is
    (out, in) as in ``nn.Linear``, so ``x @ weight.T + bias``)."""
    k = x.shape[-1]
    n = weight.shape[0] if transposed else weight.shape[1]
    if not isinstance(x._data, np.ndarray) or x.dtype != weight.dtype:
        w = weight.mT if transposed else weight
        y = x.reshape(-1, k).matmul(w)
        return (y if bias is None else y + bias).view(x.shape[:-1] + (n,))
    x2 = x.reshape(-1, k)  # (rows, in)
    args = (x2, weight) if bias is None else (x2, weight, bias)
    return _Dense.apply(*args, transposed=transposed).view(x.shape[:-1] + (n,))


# erfc(z) = t * exp(-z^2 + P(t)), t = 1 / (1 + z/2): Numerical Recipes' erfcc coefficients,
# highest power first, then the constant term.
_ERFC = (0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806,
         0.09678418, 0.37409196, 1.00002368)
_ERFC0 = -1.26551223
GELU_CHUNK = 1 << 16  # elements per pass: the temporaries stay in the CPU cache


def _gelu_block(x, out) -> None:
    """``out = x * Phi(x)`` for one block of float32 values, in about 30 in-cache passes."""
    dt = x.dtype.type
    t = np.abs(x)
    t *= dt(_SQRT_HALF * 0.5)
    t += dt(1.0)
    np.reciprocal(t, out=t)  # t = 1 / (1 + z/2), z = |x| / sqrt2
    z2 = np.multiply(x, x)
    z2 *= dt(0.5)  # z^2
    p = t * dt(_ERFC[0])
    for c in _ERFC[1:]:
        p += dt(c)
        p *= t
    p += dt(_ERFC0)
    p -= z2
    np.exp(p, out=p)
    p *= t
    p *= dt(0.5)  # erfc(z) / 2 = Phi(-|x|)
    np.subtract(dt(0.5), p, out=p)
    np.copysign(p, x, out=p)
    p += dt(0.5)  # Phi(x)
    np.multiply(p, x, out=out)


class _Gelu(Op):
    _name = "gelu"
    save_inputs = (0,)

    def forward(self, x):
        flat = np.ascontiguousarray(x).reshape(-1)
        out = np.empty_like(flat)
        for i in range(0, flat.size, GELU_CHUNK):  # blocks of the array, not of the batch
            _gelu_block(flat[i:i + GELU_CHUNK], out[i:i + GELU_CHUNK])
        return out.reshape(x.shape)

    def backward(self, g):
        (x,) = self.saved_tensors
        cdf = 0.5 * (1 + (x * _SQRT_HALF).erf())
        pdf = ember.exp(x * x * -0.5) * _INV_SQRT_2PI
        return g * (cdf + x * pdf)


def gelu(x: Tensor) -> Tensor:
    """The exact GELU, ``x * Phi(x)`` (``F.gelu(x)``), fast on float32 CPU tensors."""
    if isinstance(x._data, np.ndarray) and x._data.dtype == np.float32:
        return _Gelu.apply(x)
    return F.gelu(x)
