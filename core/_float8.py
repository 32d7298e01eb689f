"""Conversion into PyTorch's 8-bit float types where its rounding differs from a plain
``ml_dtypes`` cast: ``float8_e4m3fn`` saturates (out-of-range values and infinities become
+-448, NaN stays NaN) and ``float8_e8m0fnu`` (a bare exponent) ignores the sign and maps
zero and values below its range to its smallest value 2**-127. The other float8 types
convert as ``ml_dtypes`` does, which is PyTorch's rounding."""

from __future__ import annotations

import numpy as np

from . import _dtype

__all__ = ["astype"]

_E4M3FN_MAX = 448.0
_E8M0_MIN = 2.0 ** -127


def astype(xp, x, dst):
    """``x.astype(dst)`` with PyTorch's float8 conversion rules (``dst`` a numpy dtype)."""
    d = _dtype._FROM_NP.get(dst)
    if d is _dtype.float8_e4m3fn:
        return xp.clip(_as_float(xp, x), -_E4M3FN_MAX, _E4M3FN_MAX).astype(dst)
    if d is _dtype.float8_e8m0fnu:
        a = xp.abs(_as_float(xp, x))
        return xp.where(a < _E8M0_MIN, _E8M0_MIN, a).astype(dst)  # NaN/inf stay NaN
    return x.astype(dst)


def _as_float(xp, x):
    """``x`` as float32 or float64 (clip and abs need a numpy float type)."""
    if x.dtype == np.float64 or x.dtype == np.float32:
        return x
    return x.astype(np.float32)
