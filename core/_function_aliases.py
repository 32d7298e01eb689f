"""``ember.*`` functions that are spellings of Tensor methods or trivial predicates:

- the in-place functions ``ember.exp_(t)``, ``ember.clamp_(t, 0, 1)``, ... (each is
  ``t.exp_()``, ...), ``fill_``, ``zero_``, ``detach_`` and the out-of-place ``fill``;
- ``positive``, ``is_signed``, ``is_same_size``, ``is_nonzero``, ``is_distributed`` and
  ``adjoint``;
- the conjugate/negative-bit API. Departure from PyTorch (docstrings below): ember's
  ``conj`` is always physical (it copies), so there is no lazy conjugate or negative bit:
  ``is_conj``/``is_neg`` are always False and ``resolve_conj``/``resolve_neg`` return their
  input;
- ``typename`` and the deprecated ``range`` (``arange`` with an inclusive end).
"""

from __future__ import annotations

import math
import warnings

from . import _dtype
from ._tensor import Tensor
from .ops.inplace import commit_inplace, needs_graph
from .ops.op import xp_of

_INPLACE_NAMES = (
    "abs", "acos", "acosh", "asin", "asinh", "atan", "atanh", "arccos", "arccosh", "arcsin",
    "arcsinh", "arctan", "arctanh", "ceil", "floor", "round", "trunc", "fix", "frac", "cos",
    "cosh", "sin", "sinh", "sinc", "tan", "tanh", "exp", "exp2", "expm1", "log", "log10",
    "log1p", "log2", "logit", "sqrt", "rsqrt", "square", "reciprocal", "neg", "negative",
    "sigmoid", "relu", "erf", "erfc", "i0", "deg2rad", "rad2deg", "nan_to_num", "clamp",
    "clamp_min", "clamp_max", "clip", "xlogy", "fill", "zero", "detach", "gcd", "lcm",
    "ldexp", "addmv", "index_put")

__all__ = [n + "_" for n in _INPLACE_NAMES] + [
    "fill", "positive", "is_signed", "is_same_size", "is_conj", "is_neg", "resolve_conj",
    "resolve_neg", "conj_physical", "conj_physical_", "typename", "range", "adjoint",
    "is_distributed"]


def _inplace_function(method: str):
    def f(input: Tensor, *args, **kwargs) -> Tensor:
        return getattr(input, method)(*args, **kwargs)
    f.__name__ = f.__qualname__ = method
    f.__doc__ = f"``input.{method}(...)``: the in-place op on ``input``, which it returns."
    return f


for _n in _INPLACE_NAMES:
    globals()[_n + "_"] = _inplace_function(_n + "_")


def fill(input: Tensor, value) -> Tensor:
    """A new tensor of ``input``'s shape, dtype and device holding ``value`` (a number or a
    0-dim tensor, which gets the summed gradient); ``input`` itself gets a zero gradient."""
    from ._tensor_methods import _Fill

    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        return _Fill.apply(input, value)
    return _Fill.apply(input, value=value)


def positive(input: Tensor) -> Tensor:
    """``input`` itself (unary plus); bool tensors are rejected, as in PyTorch."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def is_signed(input: Tensor) -> bool:
    """True for dtypes that hold negative values (everything but bool and unsigned)."""
    return input._data.dtype.kind not in "ub"


def is_same_size(input: Tensor, other: Tensor) -> bool:
    """True if both tensors have the same shape."""
    if not isinstance(other, Tensor):
        raise TypeError(f"is_same_size(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    return tuple(input.shape) == tuple(other.shape)


def is_nonzero(input: Tensor) -> bool:
    """The truth value of a one-element tensor (raises for any other size)."""
    n = input.numel()
    if n != 1:
        raise RuntimeError("Boolean value of Tensor with " +
                           ("no values" if n == 0 else "more than one value") +
                           " is ambiguous")
    return bool(input.item())


def is_conj(input: Tensor) -> bool:
    """Always False: ember has no lazy conjugate bit (departure from PyTorch, where
    ``x.conj()`` of a complex tensor is a lazy view with the bit set)."""
    return False


def is_neg(input: Tensor) -> bool:
    """Always False: ember has no lazy negative bit (departure from PyTorch, see
    ``is_conj``)."""
    return False


def resolve_conj(input: Tensor) -> Tensor:
    """``input`` itself: ember's conjugates are always materialized (see ``is_conj``)."""
    return input


def resolve_neg(input: Tensor) -> Tensor:
    """``input`` itself: ember has no lazy negative bit (see ``is_neg``)."""
    return input


def conj_physical(input: Tensor, *, out=None) -> Tensor:
    """The complex conjugate, materialized (``input`` itself for real dtypes)."""
    r = input.conj() if input._data.dtype.kind == "c" else input
    if out is not None:
        from .ops.shape import resize_out

        return resize_out(out, r)
    return r


def conj_physical_(input: Tensor) -> Tensor:
    """Conjugates a complex tensor in place (a no-op for real dtypes)."""
    if input._data.dtype.kind != "c":
        return input
    if needs_graph(input):
        return commit_inplace(input, input.conj(), "conj_physical_")
    xp_of(input._data).conjugate(input._data, out=input._data)
    input._vc[0] += 1
    return input


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims (``input.mH``)."""
    return input.mH


def is_distributed(input: Tensor) -> bool:
    """False: ember tensors are never distributed (sharded) tensors."""
    return False


def typename(obj, /) -> str:
    """The fully qualified type name of ``obj``; for a tensor, ``obj.type()``
    (``'torch.FloatTensor'``)."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def range(start, end, step=1, *, out=None, dtype=None, layout=None, device=None,  # noqa: A001
          requires_grad: bool = False) -> Tensor:
    """Deprecated (use ``arange``): ``start, start + step, ...`` up to and including
    ``end``, in the default float dtype unless ``dtype`` is given."""
    from ._creation import arange

    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    n = int(math.floor((end - start) / step)) + 1
    d = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    r = (arange(n, dtype=_dtype.float64, device=device) * step + start).to(d)
    if out is not None:
        from .ops.shape import resize_out

        return resize_out(out, r)
    return r.requires_grad_(True) if requires_grad else r
