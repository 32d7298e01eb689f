"""``ember.utils``: utilities, as ``torch.utils`` (``ember.utils.data`` holds the data
loading machinery)."""

from . import data

__all__ = ["data"]


def __getattr__(name: str):
    # ``ember.utils.checkpoint`` and friends load on first use
    if name in ("checkpoint", "model_zoo", "hooks", "benchmark", "dlpack", "_pytree",
                "tensorboard", "flop_counter", "cpp_extension"):
        import importlib

        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'ember.utils' has no attribute '{name}'")
