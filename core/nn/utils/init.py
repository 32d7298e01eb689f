"""``skip_init``: building a module without running its parameter initialisation."""

from __future__ import annotations

import inspect

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """A ``module_cls(*args, **kwargs)`` whose parameters and buffers hold uninitialized
    memory on ``device`` (default CPU), as ``torch.nn.utils.skip_init``.

    Departure from PyTorch: ember has no ``meta`` device, so the module is built (and
    initialised) on the CPU, then its tensors are replaced by empty ones.
    """
    from ..modules.module import Module

    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    final_device = kwargs.pop("device", "cpu")
    return module_cls(*args, **kwargs).to_empty(device=final_device)
