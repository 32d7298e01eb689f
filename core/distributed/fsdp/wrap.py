"""``ember.distributed.fsdp.wrap``: FSDP's auto-wrap policies. A policy answers, for each
submodule, whether FSDP should wrap it (``recurse=True``: whether to look inside it). They
are plain predicates, so they work as in PyTorch; the FSDP wrapper itself is not supported
by ember."""

from __future__ import annotations

from collections.abc import Callable, Iterable

__all__ = ["always_wrap_policy", "lambda_auto_wrap_policy", "transformer_auto_wrap_policy",
           "size_based_auto_wrap_policy", "ModuleWrapPolicy"]


def always_wrap_policy(*args, **kwargs) -> bool:
    """Wraps every submodule."""
    return True


def lambda_auto_wrap_policy(module, recurse: bool, nonwrapped_numel: int,
                            lambda_fn: Callable) -> bool:
    """Wraps the submodules for which ``lambda_fn(module)`` is true."""
    return True if recurse else bool(lambda_fn(module))


def transformer_auto_wrap_policy(module, recurse: bool, nonwrapped_numel: int,
                                 transformer_layer_cls) -> bool:
    """Wraps the instances of the ``transformer_layer_cls`` classes."""
    return True if recurse else isinstance(module, tuple(transformer_layer_cls))


def _default_leaf_modules() -> set:
    from ...nn import MultiheadAttention

    return {MultiheadAttention}


def _default_excluded_modules() -> set:
    from ...nn import ModuleDict, ModuleList

    return {ModuleList, ModuleDict}


def size_based_auto_wrap_policy(module, recurse: bool, nonwrapped_numel: int,
                                min_num_params: int = int(1e8), force_leaf_modules=None,
                                exclude_wrap_modules=None) -> bool:
    """Looks inside and wraps only submodules whose parameters not yet wrapped number at
    least ``min_num_params``; never looks inside ``force_leaf_modules`` nor wraps
    ``exclude_wrap_modules`` (by default MultiheadAttention, and ModuleList/ModuleDict)."""
    if nonwrapped_numel < min_num_params:
        return False
    if recurse:
        leaves = _default_leaf_modules() if force_leaf_modules is None else force_leaf_modules
        return not isinstance(module, tuple(leaves))
    excluded = _default_excluded_modules() if exclude_wrap_modules is None \
        else exclude_wrap_modules
    return not isinstance(module, tuple(excluded))


class ModuleWrapPolicy:
    """Wraps the submodules of the given classes."""

    def __init__(self, module_classes: Iterable[type]):
        self._module_classes = set(module_classes)

    def __call__(self, module, recurse: bool, *args, **kwargs) -> bool:
        return True if recurse else isinstance(module, tuple(self._module_classes))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._module_classes})"
