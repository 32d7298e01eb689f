"""Shared pieces of ``ember.linalg``: the error type, the named tuples, input checks, the
array-module back ends and small structural ops (diagonal, diag_embed, tril/triu)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .._tensor import Tensor
from ..autograd.graph import _FREED_MSG
from ..ops.op import Op, xp_of

__all__ = ["LinAlgError", "check_matrix", "check_same_dtype", "out_tensor", "diagonal",
           "diag_embed", "tril", "triu", "eye_like", "pt_name", "batch_prefix",
           "scipy_linalg", "is_numpy"]


class LinAlgError(RuntimeError):
    """Raised when a linear-algebra routine fails on its input (a singular matrix, a matrix
    that is not positive-definite), as ``torch.linalg.LinAlgError``."""


LinAlgError.__module__ = "ember.linalg"


def _rt(name: str, fields: str):
    cls = namedtuple(name, fields)
    cls.__module__ = "ember.linalg"
    cls.__doc__ = (f"``torch.return_types.{name}``: a named tuple "
                   f"({fields.replace(' ', ', ')}).")
    return cls


# PyTorch's return types of torch.linalg (torch.return_types.linalg_*)
linalg_slogdet = _rt("linalg_slogdet", "sign logabsdet")
linalg_qr = _rt("linalg_qr", "Q R")
linalg_svd = _rt("linalg_svd", "U S Vh")
linalg_eigh = _rt("linalg_eigh", "eigenvalues eigenvectors")
linalg_eig = _rt("linalg_eig", "eigenvalues eigenvectors")
linalg_inv_ex = _rt("linalg_inv_ex", "inverse info")
linalg_cholesky_ex = _rt("linalg_cholesky_ex", "L info")
linalg_solve_ex = _rt("linalg_solve_ex", "result info")
linalg_lu_factor = _rt("linalg_lu_factor", "LU pivots")
linalg_lu_factor_ex = _rt("linalg_lu_factor_ex", "LU pivots info")
linalg_lu = _rt("linalg_lu", "P L U")
linalg_lstsq = _rt("linalg_lstsq", "solution residuals rank singular_values")

_PT = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
       "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
       "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def pt_name(t: Tensor) -> str:
    """PyTorch's scalar-type name of ``t``'s dtype (``Float``, ``Long``...)."""
    return _PT.get(t.dtype.name, t.dtype.name)


def check_matrix(A, op: str, square: bool = False, name: str = "A") -> None:
    """PyTorch's checks on a (batch of) matrix input: a Tensor of at least 2 dims, of a
    float or complex dtype of at least single precision, square if ``square``."""
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(A).__name__}")
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")
    check_float(A, op)
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: {name} must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


def check_float(A: Tensor, op: str) -> None:
    k = A._data.dtype.kind
    name = pt_name(A)
    if name in ("Half", "BFloat16"):
        raise RuntimeError(f"{op}: Low precision dtypes not supported. Got {name}")
    if k not in "fc":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{name}")


def check_same_dtype(A: Tensor, B: Tensor, op: str, a: str = "A", b: str = "B") -> None:
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"{op}: Expected {a} and {b} to have the same dtype, but found {a} "
                           f"of type {pt_name(A)} and {b} of type {pt_name(B)} instead")
    if A.device != B.device:
        raise RuntimeError("Expected all tensors to be on the same device, but found at least "
                           f"two devices, {A.device} and {B.device}!")


def batch_prefix(shape, flat_index: int) -> str:
    """``'(Batch element i): '`` for batched inputs, as PyTorch's linalg errors say."""
    return f"(Batch element {flat_index}): " if len(shape) > 2 else ""


def is_numpy(arr) -> bool:
    return isinstance(arr, np.ndarray)


def scipy_linalg(arr):
    """scipy.linalg for numpy arrays, cupyx.scipy.linalg for cupy arrays (lazily)."""
    if is_numpy(arr):
        import scipy.linalg

        return scipy.linalg
    import cupyx.scipy.linalg  # pragma: no cover - cuda

    return cupyx.scipy.linalg


def host(arr) -> np.ndarray:
    """``arr`` as a numpy array (copied from the GPU if needed)."""
    return arr if is_numpy(arr) else arr.get()


def out_tensor(node: Op, i: int) -> Tensor:
    """Output ``i`` of multi-output op ``node`` (saved in ``node._out_data`` by its forward)
    as a tensor of the graph, for use in its backward (so double backward works)."""
    if node._freed:
        raise RuntimeError(_FREED_MSG)
    arr = node._out_data[i]
    if isinstance(arr, np.generic):
        arr = np.asarray(arr)
    return Tensor._make(arr, arr.dtype.kind in "fc", node, i)


def eye_like(n: int, like: Tensor) -> Tensor:
    """The (n, n) identity with ``like``'s dtype and device."""
    xp = xp_of(like._data)
    return Tensor._make(xp.eye(n, dtype=like._data.dtype))


# -- structural ops ------------------------------------------------------------------------
class Diagonal(Op):
    """The ``offset`` diagonal of the last two dims: (..., m, n) -> (..., k)."""

    _name = "diagonal"

    def forward(self, x):
        self.shape = x.shape
        return xp_of(x).diagonal(x, self.offset, -2, -1).copy()

    def backward(self, g):
        return DiagEmbed.apply(g, offset=self.offset, m=self.shape[-2], n=self.shape[-1])


class DiagEmbed(Op):
    """(..., k) -> (..., m, n) zero matrices with ``x`` on their ``offset`` diagonal."""

    _name = "diag_embed"

    def forward(self, x):
        xp = xp_of(x)
        out = xp.zeros(x.shape[:-1] + (self.m, self.n), x.dtype)
        k = x.shape[-1]
        o = self.offset
        rows = xp.arange(k) + (-o if o < 0 else 0)
        cols = xp.arange(k) + (o if o > 0 else 0)
        out[..., rows, cols] = x
        return out

    def backward(self, g):
        return Diagonal.apply(g, offset=self.offset)


def diagonal(x: Tensor, offset: int = 0) -> Tensor:
    """The diagonal of the last two dims (differentiable)."""
    return Diagonal.apply(x, offset=offset)


def diag_embed(x: Tensor, offset: int = 0) -> Tensor:
    """Square matrices with ``x`` (..., k) on their diagonal (differentiable)."""
    k = x.shape[-1] + abs(offset)
    return DiagEmbed.apply(x, offset=offset, m=k, n=k)


class Tri(Op):
    """``tril``/``triu`` of the last two dims (``upper`` selects triu), diagonal ``k``."""

    _name = "tri"

    def forward(self, x):
        xp = xp_of(x)
        return xp.triu(x, self.k) if self.upper else xp.tril(x, self.k)

    def backward(self, g):
        return Tri.apply(g, upper=self.upper, k=self.k)


def tril(x: Tensor, k: int = 0) -> Tensor:
    return Tri.apply(x, upper=False, k=k)


def triu(x: Tensor, k: int = 0) -> Tensor:
    return Tri.apply(x, upper=True, k=k)
