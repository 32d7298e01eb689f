"""``ember._dynamo.config``: dynamo's settings, kept as plain attributes with no effect
(ember compiles nothing). Unknown names can be set too, so scripts that tune dynamo run.
``patch`` changes settings for a block or a decorated function, as PyTorch's does."""

from __future__ import annotations

import contextlib
import copy
import functools
import sys

cache_size_limit = 8
recompile_limit = 8
accumulated_cache_size_limit = 256
accumulated_recompile_limit = 256
capture_scalar_outputs = False
capture_dynamic_output_shape_ops = False
suppress_errors = False
verbose = False
optimize_ddp = True
automatic_dynamic_shapes = True
assume_static_by_default = True
inline_inbuilt_nn_modules = True
specialize_int = False
specialize_float = False
force_parameter_static_shapes = True
error_on_recompile = False
allow_unspec_int_on_nn_module = False
cache_size_limit_warn = True


class _Patch(contextlib.ContextDecorator):
    """What ``patch`` returns: a context manager and decorator that sets the settings on
    entry and restores them on exit (names that did not exist are removed again)."""

    def __init__(self, module, changes: dict):
        self._module = module
        self._changes = changes
        self._saved: list = []

    def __enter__(self):
        missing = object()
        saved = []
        for k, v in self._changes.items():
            saved.append((k, getattr(self._module, k, missing)))
            setattr(self._module, k, v)
        self._saved.append((saved, missing))
        return self

    def __exit__(self, *exc):
        saved, missing = self._saved.pop()
        for k, v in reversed(saved):
            if v is missing:
                delattr(self._module, k)
            else:
                setattr(self._module, k, v)
        return False

    def __call__(self, func):
        if isinstance(func, type):  # a decorated class: its test methods run patched
            for name, attr in list(vars(func).items()):
                if name.startswith("test") and callable(attr):
                    setattr(func, name, self(attr))
            return func
        return functools.wraps(func)(super().__call__(func))


def _settings(module) -> dict:
    return {k: v for k, v in vars(module).items()
            if not k.startswith("_") and not callable(v)
            and not isinstance(v, type(sys)) and k not in ("annotations",)}


def _make_patch(module_name: str):
    def patch(arg1=None, arg2=None, **kwargs):
        """Sets settings for a ``with`` block or a decorated function: ``patch("name",
        value)``, ``patch({"name": value})`` or ``patch(name=value)``."""
        if isinstance(arg1, str):
            changes = {arg1: arg2}
        elif isinstance(arg1, dict):
            changes = dict(arg1)
        elif arg1 is None:
            changes = {}
        else:
            raise TypeError(f"patch: expected a setting name or a dict, got "
                            f"{type(arg1).__name__}")
        changes.update(kwargs)
        return _Patch(sys.modules[module_name], changes)

    def get_config_copy() -> dict:
        """A deep copy of the current settings (name -> value)."""
        return copy.deepcopy(_settings(sys.modules[module_name]))

    def load_config(config) -> None:
        """Restores settings from ``get_config_copy()`` / ``save_config()``'s dict."""
        for k, v in dict(config).items():
            setattr(sys.modules[module_name], k, v)

    return patch, get_config_copy, load_config


patch, get_config_copy, load_config = _make_patch(__name__)
save_config = get_config_copy
to_dict = get_config_copy
