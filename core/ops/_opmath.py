"""Half-precision math in float32, rounded once, as PyTorch's kernels do ("opmath").

PyTorch computes float16/bfloat16 elementwise math, reductions, softmax, normalizations,
activations and losses in float32 and rounds each op's result to the input dtype once: a
sum of bfloat16 values accumulates in float32, a sigmoid is not rounded at every step of its
formula, a layer norm's statistics are float32. numpy would do each of those steps in the
half type (``np.sum`` of 1001 bfloat16 values in [-3, 3] gives 236 instead of 0).

Op classes that declare ``opmath = True`` are run here when an input is float16 or
bfloat16: those inputs are cast to float32 (differentiable casts, so the gradients come
back in the input dtype), the op runs in float32, and its float32 outputs are cast back.
The backward then runs in float32 too, as PyTorch's backward kernels do.

``scalar_operand`` keeps a Python number (or a 0-dim tensor of a wider float type) that
multiplies or divides a half tensor in float32 instead of rounding it to the half type
first, as PyTorch's kernels read such a scalar in opmath precision (``x * 0.1`` in float16:
``x * 0.1f`` rounded once, not ``x * 0.0999755859375``); an added or subtracted scalar and
``add``'s ``alpha`` are rounded to the half type first, as PyTorch does. Ops that PyTorch
composes of half ops (``logsumexp``) or whose kernels round intermediate values
(``log_softmax``'s log-sum, batch norm's mean and inverse deviation) do the same in their
own code.
"""

from __future__ import annotations

import numpy as np

__all__ = ["low_dtype", "is_low", "rounded", "half_value", "opmath_apply", "scalar_operand",
           "in_float32"]

_F32 = np.dtype(np.float32)


def is_low(d) -> bool:
    """Whether numpy dtype ``d`` is float16 or bfloat16."""
    return d.itemsize == 2 and (d.kind == "f" or d.name == "bfloat16")


def half_value(value, low) -> float:
    """A Python number rounded to the half dtype ``low`` (as a float)."""
    return float(np.asarray(value, dtype=_F32).astype(low).astype(_F32))


def rounded(a, low):
    """Float32 array ``a`` rounded to the half dtype ``low`` and widened back."""
    return a.astype(low).astype(_F32)


def low_dtype(tensors):
    """The float16/bfloat16 dtype (numpy's) of the first such tensor, or None."""
    for t in tensors:
        d = t._data.dtype
        if d.itemsize == 2 and (d.kind == "f" or d.name == "bfloat16"):
            return d
    return None


def _narrow(t, low):
    from ._prep import cast

    return cast(t, low) if t._data.dtype == _F32 else t


def opmath_apply(apply, cls, inputs, attrs, low):
    """Runs ``cls`` through ``apply`` on float32 copies of the ``low``-dtype inputs and
    rounds its float32 outputs back to ``low``."""
    from ._prep import cast

    wide = [cast(t, _F32) if t._data.dtype == low else t for t in inputs]
    out = apply(cls, wide, attrs)
    if isinstance(out, tuple):
        return tuple(_narrow(o, low) for o in out)
    return _narrow(out, low)


def in_float32(fn, *tensors):
    """``fn(*tensors)`` with the tensors of the first one's dtype cast to float32 when that
    is float16/bfloat16, and a float32 result cast back (a composite op rounded once, e.g.
    ``addcmul``); unchanged otherwise."""
    low = low_dtype(tensors[:1]) if hasattr(tensors[0], "_data") else None
    if low is None:
        return fn(*tensors)
    from ._prep import cast

    wide = [cast(t, _F32) if hasattr(t, "_data") and t._data.dtype == low else t
            for t in tensors]
    return _narrow(fn(*wide), low)


def scalar_operand(a, b, other):
    """``b`` (the promoted second operand of a product or quotient of ``a``) as a float32 0-dim
    tensor holding ``other``'s value when the op runs in a half dtype and ``other`` is a
    Python number or a 0-dim tensor of a wider float dtype; else ``b``."""
    d = a._data.dtype
    if not is_low(d) or b._data.dtype != d or a._data.ndim == 0:
        return b
    from .._tensor import Tensor
    from ._prep import cast

    if isinstance(other, Tensor):
        od = other._data.dtype
        if other._data.ndim or od.kind != "f" or od.itemsize <= 2:
            return b
        return cast(other, _F32)
    if isinstance(other, (bool, np.bool_)) or \
            not isinstance(other, (int, float, np.integer, np.floating)):
        return b
    from .op import xp_of

    with np.errstate(over="ignore"):
        value = np.float32(other)
    return Tensor._make(xp_of(a._data).asarray(value, dtype=_F32))
