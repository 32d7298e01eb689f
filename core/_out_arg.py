"""PyTorch's ``out=`` argument for functions computed out of place: ``fills_out`` runs the
function, then writes its result (a tensor, or each tensor of a tuple result) into ``out``,
resizing it as PyTorch does, and returns ``out``. Functions that handle ``out`` themselves
are unaffected by it (the argument never reaches them)."""

from __future__ import annotations

import functools
import inspect

from ._tensor import Tensor

__all__ = ["fills_out", "write_out", "wrap_out_functions"]


def write_out(out, result):
    """``result`` written into ``out`` (a tensor, or a tuple/list of tensors for a tuple
    result); returns ``out`` (as the result's tuple type)."""
    from .ops.shape import resize_out

    if isinstance(result, Tensor):
        if not isinstance(out, Tensor):
            raise TypeError(f"out must be a Tensor, got {type(out).__name__}")
        _check_cast(result, out)
        return resize_out(out, result)
    if not isinstance(out, (tuple, list)) or len(out) != len(result):
        raise TypeError(f"out must be a tuple of {len(result)} Tensors")
    written = []
    for o, r in zip(out, result):
        if r is None:
            written.append(o)
            continue
        _check_cast(r, o)
        written.append(resize_out(o, r))
    return type(result)(*written) if hasattr(result, "_fields") else tuple(written)


def _check_cast(result: Tensor, out: Tensor) -> None:
    from . import _dtype

    if not _dtype.can_cast(result.dtype, out.dtype):
        names = _dtype._TORCH_NAMES
        raise RuntimeError(f"result type {names.get(result.dtype.name, result.dtype.name)} "
                           f"can't be cast to the desired output type "
                           f"{names.get(out.dtype.name, out.dtype.name)}")


def fills_out(fn):
    """Decorates ``fn`` (which has an ``out`` keyword it does not use) so that ``out=``
    receives the result; a factory with a ``dtype`` argument computes in ``out``'s dtype
    when none is given (``arange(3, out=float_tensor)``), as PyTorch."""
    takes_dtype = "dtype" in inspect.signature(fn).parameters

    @functools.wraps(fn)
    def run(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        if takes_dtype and kwargs.get("dtype") is None and isinstance(out, Tensor):
            kwargs["dtype"] = out.dtype
        return write_out(out, fn(*args, **kwargs))

    return run


def wrap_out_functions(namespace: dict, names) -> None:
    """Replaces each function of ``namespace`` named in ``names`` that takes ``out`` with
    ``fills_out(function)``."""
    for name in names:
        fn = namespace.get(name)
        if callable(fn) and not isinstance(fn, type):
            try:
                params = inspect.signature(fn).parameters
            except (TypeError, ValueError):
                continue
            if "out" in params:
                namespace[name] = fills_out(fn)
