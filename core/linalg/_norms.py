"""Norms and products of ``ember.linalg``: vector_norm, matrix_norm, norm, cond, cross,
vecdot, multi_dot, diagonal, vander, matmul."""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap_dim
from ..ops._prep import binary_operands, cast, unbroadcast
from ..ops.linalg import matmul
from ..ops.op import Op, xp_of
from ..ops.spectral import sgn
from ._common import LinAlgError, check_float, check_matrix, pt_name
from ._common import diagonal as _diag

__all__ = ["vector_norm", "matrix_norm", "norm", "cond", "cross", "vecdot", "multi_dot",
           "diagonal", "vander", "matmul"]

_INF = math.inf


def _real_np(dt) -> np.dtype:
    return np.dtype(np.float32) if dt == np.complex64 else (
        np.dtype(np.float64) if dt == np.complex128 else dt)


def _dims(dim, ndim: int):
    """``dim`` as a sorted tuple of non-negative dims, or None for all."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:
        return None
    out = tuple(sorted(_wrap_dim(d, ndim) for d in dims))
    if len(set(out)) != len(out):
        raise RuntimeError("dim appears multiple times in the list of dims")
    return out


class VectorNorm(Op):
    """``sum(|x|^ord) ^ (1/ord)`` over ``dims`` (None: all), with the ``inf``, ``-inf`` and
    0 special cases; the result is real."""

    _name = "linalg_vector_norm"
    save_inputs = (0,)
    save_output = True

    def forward(self, x):
        xp = xp_of(x)
        p = self.ord
        ax = self.dims
        kd = self.keepdim
        a = xp.abs(x)
        if a.dtype.kind in "fV" and a.dtype.itemsize < 4:  # half types accumulate in float32
            a = a.astype(np.float32)
        if p == _INF:
            r = a.max(axis=ax, keepdims=kd)
        elif p == -_INF:
            r = a.min(axis=ax, keepdims=kd)
        elif p == 0:
            r = (a != 0).sum(axis=ax, keepdims=kd)
        elif p == 1:
            r = a.sum(axis=ax, keepdims=kd)
        elif p == 2:
            r = xp.sqrt((a * a).sum(axis=ax, keepdims=kd))
        else:
            r = (a ** p).sum(axis=ax, keepdims=kd) ** (1.0 / p)
        return xp.asarray(r).astype(_real_np(x.dtype), copy=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        nrm = self.saved_output()
        p = self.ord
        if not self.keepdim:
            shape = [1 if (self.dims is None or i in self.dims) else s
                     for i, s in enumerate(x.shape)]
            g = g.reshape(shape)
            nrm = nrm.reshape(shape)
        if p == 0:
            return x * 0
        if p == 1:
            return sgn(x) * g
        zero = nrm == 0
        safe = nrm.masked_fill(zero, 1)
        if p == 2:
            return x * (g / safe).masked_fill(zero, 0)
        if p in (_INF, -_INF):
            mask = (x.abs() == nrm)
            m = cast(mask, nrm.dtype)
            count = m.sum(dim=self.dims, keepdim=True) if self.dims is not None else m.sum()
            return sgn(x) * m * (g / count)
        ax = x.abs()
        if p < 1:
            scaled = (ax ** (p - 1)).masked_fill(ax == 0, 0)
        else:
            scaled = ax ** (p - 1)
        return (sgn(x) * scaled) * (g / safe ** (p - 1)).masked_fill(zero, 0)


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None,
                out=None) -> Tensor:
    """The vector ``ord``-norm of ``x`` over ``dim`` (all elements when None); real for
    complex input."""
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg_vector_norm(): argument 'input' (position 1) must be Tensor, "
                        f"not {type(x).__name__}")
    if dtype is not None:
        x = cast(x, _dtype.to_dtype(dtype))
    if x._data.dtype.kind not in "fcV":  # float, complex, or bfloat16 (ml_dtypes kind "V")
        check_float(x, "linalg.vector_norm")
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, but got {ord}")
    ord = float(ord)
    dims = _dims(dim, x.ndim)
    if x.numel() == 0 and ord < 0 or (x.numel() == 0 and ord == _INF):
        raise RuntimeError(f"linalg.vector_norm cannot compute the {ord:g} norm on an empty "
                           "tensor because the operation does not have an identity")
    if dims is None and x.ndim == 0:
        dims = None
    return VectorNorm.apply(x, ord=ord, dims=dims, keepdim=keepdim)


_MATRIX_ORDS = ("fro", "nuc", _INF, -_INF, 1, -1, 2, -2)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None,
                out=None) -> Tensor:
    """The matrix norm of each matrix in ``dim``: ``'fro'``, ``'nuc'``, ``inf``, ``-inf``,
    1, -1 (max/min absolute column or row sums), 2, -2 (largest/smallest singular value)."""
    if dtype is not None:
        A = cast(A, _dtype.to_dtype(dtype))
    check_matrix(A, "linalg.matrix_norm")
    if isinstance(dim, int) or len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                           f"{dim if isinstance(dim, int) else ' '.join(str(d) for d in dim)}")
    d0, d1 = (_wrap_dim(d, A.ndim) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, "
                           f"{dim[1]})")
    if ord not in _MATRIX_ORDS:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        from ._decomp import svdvals

        s = svdvals(A.movedim((d0, d1), (-2, -1)))
        r = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
        if keepdim:
            for d in sorted((d0, d1)):
                r = r.unsqueeze(d)
        return r
    a = A.abs()
    if ord in (1, -1):
        summed, reduced = d0, d1
    else:
        summed, reduced = d1, d0
    s = a.sum(dim=summed, keepdim=True)
    r = s.amax(dim=reduced, keepdim=True) if ord in (1, _INF) else \
        s.amin(dim=reduced, keepdim=True)
    if not keepdim:
        r = r.squeeze(max(d0, d1)).squeeze(min(d0, d1))
    return r


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None,
         out=None) -> Tensor:
    """A vector or matrix norm, as ``torch.linalg.norm``: with ``dim`` of length 1 a vector
    norm, of length 2 a matrix norm; without ``dim`` the 2-norm of all elements when ``ord``
    is None, else a vector norm of a 1-D or matrix norm of a 2-D input."""
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 1:
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                           f"Got {list(dims)}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                           f"be 1D or 2D. Got {A.ndim}D.")
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)


def cond(A: Tensor, p=None, *, out=None) -> Tensor:
    """The condition number of A in the ``p`` norm (2 by default: s_max / s_min)."""
    check_matrix(A, "linalg.cond")
    if p is None or p in (2, -2):
        from ._decomp import svdvals

        s = svdvals(A)
        big, small = s.narrow(-1, 0, 1).squeeze(-1), s.narrow(-1, s.shape[-1] - 1, 1).squeeze(-1)
        return big / small if p != -2 else small / big
    if p not in _MATRIX_ORDS:
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.cond: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    from ._solve import inv

    try:
        return matrix_norm(A, p) * matrix_norm(inv(A), p)
    except LinAlgError:
        xp = xp_of(A._data)
        return Tensor._make(xp.full(A.shape[:-2], xp.inf, _real_np(A._data.dtype)))


class Cross(Op):
    _name = "linalg_cross"
    save_inputs = (0, 1)

    def forward(self, a, b):
        xp = xp_of(a)
        self.shapes = (a.shape, b.shape)
        shape = np.broadcast_shapes(a.shape, b.shape)
        return xp.cross(xp.broadcast_to(a, shape), xp.broadcast_to(b, shape), axis=self.dim)

    def backward(self, g):
        a, b = self.saved_tensors
        sa, sb = self.shapes
        ga = gb = None
        if self.next_functions[0][0] is not None:
            ga = unbroadcast(Cross.apply(b.conj(), g, dim=self.dim), sa)
        if self.next_functions[1][0] is not None:
            gb = unbroadcast(Cross.apply(g, a.conj(), dim=self.dim), sb)
        return ga, gb


def cross(input: Tensor, other: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (batch dims broadcast)."""
    a, b = binary_operands(input, other, "linalg.cross")
    if a.ndim != b.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions. Got "
                           f"{a.ndim} and {b.ndim}")
    nd = max(a.ndim, 1)
    d = _wrap_dim(dim, nd)
    for i, (sa, sb) in enumerate(zip(a.shape, b.shape)):
        if sa != sb and sa != 1 and sb != 1:
            raise RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b "
                               f"({sb}) at non-singleton dimension {i}")
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{a.shape[d]} and {b.shape[d]}")
    return Cross.apply(a, b, dim=d)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """``sum(conj(x) * y, dim)``: the dot product along ``dim`` (batch dims broadcast)."""
    from .._autocast_state import lower, state

    if state.on:
        x, y = lower("linalg_vecdot", x, y)
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found "
                           f"x of type {pt_name(x)} and y of type {pt_name(y)} instead.")
    return (x.conj() * y).sum(dim)


def multi_dot(tensors, *, out=None) -> Tensor:
    """The product of a chain of matrices, multiplied in the cheapest order; the first may
    be a row vector (1-D) and the last a column vector (1-D)."""
    ts = list(tensors)
    n = len(ts)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    first_1d = ts[0].ndim == 1
    last_1d = ts[-1].ndim == 1
    for i, t in enumerate(ts):
        if t._data.dtype != ts[0]._data.dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but "
                               f"tensor 0 is {pt_name(ts[0])} and tensor {i} is {pt_name(t)}")
        if i == 0 and t.ndim not in (1, 2):
            raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got "
                               f"{t.ndim}D")
        elif i == n - 1 and t.ndim not in (1, 2):
            raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got "
                               f"{t.ndim}D")
        elif 0 < i < n - 1 and t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    if first_1d:
        ts[0] = ts[0].unsqueeze(0)
    if last_1d:
        ts[-1] = ts[-1].unsqueeze(-1)
    for i in range(n - 1):
        if ts[i].shape[1] != ts[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(ts[i].shape)} and {list(ts[i + 1].shape)} cannot be "
                               "multiplied")
    dims = [t.shape[0] for t in ts] + [ts[-1].shape[1]]
    order = _chain_order(dims)

    def build(i: int, j: int) -> Tensor:
        if i == j:
            return ts[i]
        k = order[i][j]
        return matmul(build(i, k), build(k + 1, j))

    r = build(0, n - 1)
    if first_1d and last_1d:
        return r.reshape(())
    if first_1d:
        return r.squeeze(0)
    if last_1d:
        return r.squeeze(-1)
    return r


def _chain_order(dims):
    """The classic matrix-chain dynamic programme: split points of the cheapest order."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j] = c
                    split[i][j] = k
    return split


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonal (``offset`` above it when positive) of the matrices in ``dim1, dim2``,
    as a new last dim."""
    d1, d2 = _wrap_dim(dim1, A.ndim), _wrap_dim(dim2, A.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _diag(A.movedim((d1, d2), (-2, -1)), offset)


def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """The Vandermonde matrix ``[x^0, x^1, ..., x^(N-1)]`` along a new last dim."""
    if x.ndim < 1:
        raise RuntimeError("linalg.vander: x must have at least one dimension")
    n = x.shape[-1] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    from .._creation import arange

    if x._data.dtype.kind == "b":
        x = cast(x, _dtype.int64)
    powers = arange(n, device=x.device).to(x.dtype)
    return x.unsqueeze(-1) ** powers


# -- out=: these compute out of place; the result is written into ``out`` when given ---------
from .._out_arg import wrap_out_functions  # noqa: E402

wrap_out_functions(globals(), [
    'vector_norm', 'matrix_norm', 'norm', 'cond', 'cross', 'vecdot', 'multi_dot'])
