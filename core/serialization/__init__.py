"""``ember.serialization``: checkpoints that move both ways between ember and PyTorch.

``ember.save`` writes PyTorch's zip checkpoint layout; ``ember.load`` reads it, PyTorch's
older stream format and safetensors files, without torch, through an unpickler whose
allow-list is a security boundary (``weights_only=True``, the default). safetensors files
are written and read with ``save_safetensors``/``load_safetensors``.

Only ``save`` and ``load`` are imported with ember; the rest loads on first use.
"""

import importlib

from ._api import DEFAULT_PROTOCOL, load, save

_LAZY = {
    "UnpicklingError": "._pickle_allowlist",
    "add_safe_globals": "._pickle_allowlist",
    "clear_safe_globals": "._pickle_allowlist",
    "get_safe_globals": "._pickle_allowlist",
    "safe_globals": "._pickle_allowlist",
    "LoadedStorage": "._storage",
    "save_safetensors": ".safetensors_io",
    "load_safetensors": ".safetensors_io",
    "safetensors_metadata": ".safetensors_io",
}

__all__ = ["save", "load", "DEFAULT_PROTOCOL", *_LAZY]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ember.serialization' has no attribute '{name}'")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
