"""``autocast``: regions where the ops on PyTorch's autocast lists run in lower precision.

Inside ``with ember.autocast("cpu"):`` (bfloat16 by default; ``"cuda"``: float16) matrix
products and convolutions cast their floating inputs to the autocast dtype and losses run
in float32, as in PyTorch; other ops run in whatever dtype their inputs have. Gradients flow
back through the casts to the float32 weights.
"""

from __future__ import annotations

import functools
import warnings

from .. import _autocast_state as _state
from .. import _device, _dtype
from .._autocast_state import state

__all__ = ["autocast", "is_autocast_available", "custom_fwd", "custom_bwd"]

_SUPPORTED = {"cpu": (_dtype.bfloat16, _dtype.float16),
              "cuda": (_dtype.float16, _dtype.bfloat16)}


def is_autocast_available(device_type: str) -> bool:
    """True for the device types ember can autocast (``cpu`` and ``cuda``)."""
    return device_type in _SUPPORTED


class autocast:
    """Context manager and decorator for mixed precision, as ``torch.autocast``.

    Args:
        device_type: ``"cpu"`` or ``"cuda"``.
        dtype: the lower precision (default bfloat16 on CPU, float16 on CUDA).
        enabled: False makes the region a no-op (and disables an enclosing one).
        cache_enabled: reuse the casts of leaf weights within the region (default True).
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True,
                 cache_enabled: bool | None = None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type not in _SUPPORTED:
            raise RuntimeError(f"User specified an unsupported autocast device_type "
                               f"'{device_type}'")
        self.device = device_type
        self.fast_dtype = state.dtype[device_type] if dtype is None else dtype
        self._cache_enabled = state.cache_enabled if cache_enabled is None else cache_enabled
        enabled = bool(enabled)
        if enabled and device_type == "cuda" and not _device.cuda_available():
            warnings.warn("User provided device_type of 'cuda', but CUDA is not available. "
                          "Disabling", stacklevel=2)
            enabled = False
        if enabled and self.fast_dtype not in _SUPPORTED[device_type]:
            names = " and ".join(d.name.capitalize() for d in _SUPPORTED[device_type])
            warnings.warn(f"In {device_type.upper()} autocast, but the target dtype is not "
                          f"supported. Disabling autocast.\n{device_type.upper()} Autocast "
                          f"only supports dtypes of {names} currently.", stacklevel=2)
            enabled = False
        self._enabled = enabled

    def __enter__(self):
        self._prev = (state.enabled[self.device], state.dtype[self.device],
                      state.cache_enabled)
        state.enabled[self.device] = self._enabled
        state.dtype[self.device] = self.fast_dtype
        state.cache_enabled = self._cache_enabled
        state.nesting += 1
        state.refresh()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        state.nesting -= 1
        if state.nesting == 0:
            _state.clear_cache()
        state.enabled[self.device], state.dtype[self.device], state.cache_enabled = self._prev
        state.refresh()
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return decorate_autocast


def custom_fwd(fwd=None, *, device_type: str = "cuda", cast_inputs=None):
    """Decorates a custom Function's ``forward``: with ``cast_inputs`` set, the forward runs
    with autocast off and its floating tensor inputs cast to ``cast_inputs``; otherwise it
    runs under the caller's autocast state, which backward (``custom_bwd``) then reuses."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(ctx, *args, **kwargs):
        ctx._fwd_used_autocast = state.enabled[device_type]
        ctx._dtype = state.dtype[device_type]
        if cast_inputs is None or not state.enabled[device_type]:
            return fwd(ctx, *args, **kwargs)
        args = tuple(_cast(a, cast_inputs, device_type) for a in args)
        kwargs = {k: _cast(v, cast_inputs, device_type) for k, v in kwargs.items()}
        with autocast(device_type, enabled=False):
            return fwd(ctx, *args, **kwargs)

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str = "cuda"):
    """Decorates a custom Function's ``backward`` to run under the autocast state its
    forward saw."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(ctx, *args, **kwargs):
        with autocast(device_type, enabled=getattr(ctx, "_fwd_used_autocast", False),
                      dtype=getattr(ctx, "_dtype", None)):
            return bwd(ctx, *args, **kwargs)

    return decorate_bwd


def _cast(value, dtype, device_type):
    if hasattr(value, "_data"):
        if value.is_floating_point() and value.device.type == device_type \
                and value.dtype != _dtype.float64:
            return value.to(dtype)
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, dtype, device_type) for v in value)
    if isinstance(value, dict):
        return {k: _cast(v, dtype, device_type) for k, v in value.items()}
    return value


# the torch.* state functions ------------------------------------------------------------

def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for ``device_type`` (default ``cuda``, as PyTorch)."""
    return state.enabled.get(device_type or "cuda", False)


def set_autocast_enabled(device_type, enabled=None) -> None:
    """``set_autocast_enabled(device_type, enabled)``; the one-argument form is for CUDA."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    state.enabled[device_type] = bool(enabled)
    state.refresh()


def get_autocast_dtype(device_type: str):
    """The autocast dtype of ``device_type``."""
    return state.dtype[device_type]


def set_autocast_dtype(device_type: str, dtype) -> None:
    """Sets the autocast dtype of ``device_type``."""
    state.dtype[device_type] = dtype


def is_autocast_cache_enabled() -> bool:
    """Whether casts of leaf weights are reused within an autocast region."""
    return state.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    """Turns the weight-cast cache on or off."""
    state.cache_enabled = bool(enabled)


def clear_autocast_cache() -> None:
    """Drops the cached weight casts."""
    _state.clear_cache()


def autocast_increment_nesting() -> int:
    """Enters one level of autocast nesting; returns the new depth."""
    state.nesting += 1
    return state.nesting


def autocast_decrement_nesting() -> int:
    """Leaves one level of autocast nesting; returns the new depth."""
    state.nesting -= 1
    return state.nesting


TORCH_FUNCTIONS = {
    "is_autocast_enabled": is_autocast_enabled,
    "set_autocast_enabled": set_autocast_enabled,
    "get_autocast_dtype": get_autocast_dtype,
    "set_autocast_dtype": set_autocast_dtype,
    "is_autocast_cpu_enabled": lambda: state.enabled["cpu"],
    "set_autocast_cpu_enabled": lambda enabled: set_autocast_enabled("cpu", enabled),
    "get_autocast_cpu_dtype": lambda: state.dtype["cpu"],
    "set_autocast_cpu_dtype": lambda dtype: set_autocast_dtype("cpu", dtype),
    "get_autocast_gpu_dtype": lambda: state.dtype["cuda"],
    "set_autocast_gpu_dtype": lambda dtype: set_autocast_dtype("cuda", dtype),
    "is_autocast_cache_enabled": is_autocast_cache_enabled,
    "set_autocast_cache_enabled": set_autocast_cache_enabled,
    "clear_autocast_cache": clear_autocast_cache,
    "autocast_increment_nesting": autocast_increment_nesting,
    "autocast_decrement_nesting": autocast_decrement_nesting,
}
