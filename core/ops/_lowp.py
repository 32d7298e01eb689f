"""Matrix products of half-precision CPU arrays, computed in float32 and rounded back.

numpy has no BLAS for float16 and (through ml_dtypes) answers a bfloat16 product in float32.
PyTorch's CPU GEMMs accumulate bfloat16/float16 in float32 and round the result to the input
dtype; ``float32_gemm`` does the same around an op's ``forward``, so the output keeps the
input dtype and the product runs on BLAS.
"""

from __future__ import annotations

import functools

import numpy as np

from .._dtype import _BF16

__all__ = ["float32_gemm"]

_LOW = tuple(d for d in (np.dtype(np.float16), _BF16) if d is not None)
_F32 = np.dtype(np.float32)


def float32_gemm(forward):
    """Decorates an op's ``forward(self, *arrays)``: numpy float16/bfloat16 operands are
    widened to float32 and the (single) result is rounded back to their dtype."""

    @functools.wraps(forward)
    def wrapper(self, *arrays):
        a0 = arrays[0]
        if type(a0) is np.ndarray and a0.dtype in _LOW:
            low = a0.dtype
            wide = [a.astype(_F32) if type(a) is np.ndarray and a.dtype == low else a
                    for a in arrays]
            return forward(self, *wide).astype(low, copy=False)
        return forward(self, *arrays)

    return wrapper
