"""Direct GEMM calls into the OpenBLAS that numpy links, for the products numpy's ``matmul``
cannot express: operands given as a start offset and a leading dimension inside a larger
buffer (the shifted windows of one padded image), and accumulation into the output
(``beta = 1``), so a sum of products needs no temporaries.

The library is found through threadpoolctl (a dependency) among the loaded shared
libraries; its symbol prefix/suffix and integer width (ILP64 or not) are read from the
library itself. Where no OpenBLAS is found (numpy built on MKL or Accelerate) ``gemm``
returns None and callers keep their numpy path. ``EMBER_DIRECT_BLAS=0`` turns it off.

Every call checks that each operand's extent lies inside its array (a wrong offset would
otherwise read or write outside the buffer) and that the dtypes agree.
"""

from __future__ import annotations

import ctypes
import os

import numpy as np

__all__ = ["gemm", "set_enabled"]

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_NAMES = (("scipy_", "64_"), ("", "64_"), ("", ""), ("scipy_", ""))
_loaded = False
_funcs: dict = {}
_enabled = os.environ.get("EMBER_DIRECT_BLAS", "1") != "0"


def set_enabled(flag: bool) -> None:
    """Turns the direct BLAS path on or off (tests compare both paths)."""
    global _enabled
    _enabled = bool(flag)


def _openblas_paths() -> list:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return []
    paths = [i["filepath"] for i in threadpool_info() if i.get("internal_api") == "openblas"]
    return sorted(paths, key=lambda p: "numpy" not in p)  # numpy's own library first


def _bind(path: str) -> dict:
    lib = ctypes.CDLL(path)
    for prefix, suffix in _NAMES:
        config = getattr(lib, f"{prefix}openblas_get_config{suffix}", None)
        sgemm = getattr(lib, f"{prefix}cblas_sgemm{suffix}", None)
        dgemm = getattr(lib, f"{prefix}cblas_dgemm{suffix}", None)
        if config is None or sgemm is None or dgemm is None:
            continue
        config.restype = ctypes.c_char_p
        integer = ctypes.c_int64 if b"USE64BITINT" in (config() or b"") else ctypes.c_int
        out = {}
        for fn, scalar, dtype in ((sgemm, ctypes.c_float, np.float32),
                                  (dgemm, ctypes.c_double, np.float64)):
            fn.restype = None
            fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, integer, integer,
                           integer, scalar, ctypes.c_void_p, integer, ctypes.c_void_p,
                           integer, scalar, ctypes.c_void_p, integer]
            out[np.dtype(dtype)] = _Gemm(fn, np.dtype(dtype), integer)
        return out
    return {}


def _load() -> None:
    global _loaded, _funcs
    _loaded = True
    for path in _openblas_paths():
        try:
            _funcs = _bind(path)
        except OSError:
            continue
        if _funcs:
            return


def _check(name, arr, off, rows, cols, ld) -> None:
    if type(arr) is not np.ndarray or not arr.flags.c_contiguous:
        raise RuntimeError(f"gemm: operand {name} must be a C-contiguous numpy array")
    if rows <= 0 or cols <= 0:
        return
    if off < 0 or ld < cols or off + (rows - 1) * ld + cols > arr.size:
        raise RuntimeError(f"gemm: operand {name} ({rows}x{cols}, offset {off}, leading "
                           f"dimension {ld}) runs outside its buffer of {arr.size} elements")


class _Gemm:
    """``C[c_off:] = alpha * op(A) @ op(B) + beta * C`` on row-major operands given by
    (array, element offset, leading dimension)."""

    def __init__(self, fn, dtype, integer=ctypes.c_int64):
        self._fn = fn
        self.dtype = dtype
        # the largest dimension, leading dimension or offset the library's integers hold
        self.max_index = 2 ** (8 * ctypes.sizeof(integer) - 1) - 1

    def __call__(self, m, n, k, a, a_off, lda, b, b_off, ldb, c, c_off, ldc, beta=0.0,
                 trans_a=False, trans_b=False, alpha=1.0):
        for name, arr in (("A", a), ("B", b), ("C", c)):
            if arr.dtype != self.dtype:
                raise RuntimeError(f"gemm: operand {name} is {arr.dtype}, expected "
                                   f"{self.dtype}")
        _check("A", a, a_off, k if trans_a else m, m if trans_a else k, lda)
        _check("B", b, b_off, n if trans_b else k, k if trans_b else n, ldb)
        _check("C", c, c_off, m, n, ldc)
        if max(m, n, k, lda, ldb, ldc) > self.max_index:
            raise RuntimeError(f"gemm: a dimension exceeds this BLAS's {self.max_index}")
        if not c.flags.writeable:
            raise RuntimeError("gemm: the output operand is read-only")
        if m <= 0 or n <= 0:
            return
        it = self.dtype.itemsize
        if k <= 0:
            c_view = c.reshape(-1)[c_off:c_off + (m - 1) * ldc + n]
            if beta == 0.0:
                for i in range(m):  # rows of an empty product (k = 0), never a hot path
                    c_view[i * ldc:i * ldc + n] = 0
            return
        self._fn(_ROW_MAJOR, _TRANS if trans_a else _NO_TRANS,
                 _TRANS if trans_b else _NO_TRANS, m, n, k, alpha,
                 a.ctypes.data + it * a_off, lda, b.ctypes.data + it * b_off, ldb, beta,
                 c.ctypes.data + it * c_off, ldc)


def gemm(dtype: np.dtype):
    """The direct GEMM for float32/float64 numpy arrays (``dtype`` a numpy dtype), or None
    where it is off or no OpenBLAS was found."""
    if not _enabled:
        return None
    if not _loaded:
        _load()
    return _funcs.get(dtype)
