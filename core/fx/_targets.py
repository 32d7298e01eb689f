"""The ember functions FX records as ``call_function`` targets, and how targets are named.

``torch.fx`` sees torch functions called on proxies through ``__torch_function__``. ember
functions are plain Python, so instead, while a trace runs, ember.fx swaps the functions of
the public op namespaces (``ember``, ``ember.nn.functional``, ``ember.linalg``,
``ember.fft``, ``ember.special``) for thin recorders (see ``_patching``). This module builds
that table once: for each function object its public dotted name (``ember.relu``,
``ember.nn.functional.relu``), which is also how printed graphs and generated code refer to
it. Nothing here runs on ember's op path.
"""

from __future__ import annotations

import importlib
import inspect
import types

__all__ = ["NAMESPACES", "public_functions", "qualified_name", "global_name"]

NAMESPACES = ("ember", "ember.nn.functional", "ember.linalg", "ember.fft", "ember.special")

# functions that answer questions about their argument rather than compute with it:
# FX leaves them alone (torch.is_tensor(proxy) is False under torch.fx too)
_NEVER_RECORDED = frozenset({"is_tensor", "is_storage", "typename", "compile", "load", "save",
                             "is_grad_enabled", "is_inference_mode_enabled",
                             "get_default_dtype", "get_default_device", "set_default_dtype",
                             "set_default_device", "manual_seed", "seed", "initial_seed"})

_TABLE: dict[int, tuple[str, str, object]] | None = None  # id(fn) -> (namespace, attr, fn)


def _recordable(value) -> bool:
    return isinstance(value, (types.FunctionType, types.BuiltinFunctionType)) and \
        not inspect.isclass(value)


def public_functions() -> dict[int, tuple[str, str, object]]:
    """``id(fn) -> (namespace, attribute, fn)`` for every recordable function of the op
    namespaces. A function reachable under several names keeps the one equal to its
    ``__name__`` in the first namespace that has it."""
    global _TABLE
    if _TABLE is None:
        table: dict[int, tuple[str, str, object]] = {}
        for ns in NAMESPACES:
            mod = importlib.import_module(ns)
            for attr, value in list(vars(mod).items()):
                if (attr.startswith("_") and attr not in _PRIVATE_RECORDED) or \
                        attr in _NEVER_RECORDED or not _recordable(value):
                    continue
                old = table.get(id(value))
                if old is None or (old[1] != value.__name__ and attr == value.__name__
                                   and old[0] == ns):
                    table[id(value)] = (ns, attr, value)
        _TABLE = table
    return _TABLE


# private names recorded all the same, as torch records them (``torch._assert`` checks shapes
# in traced models such as torchvision's ViT)
_PRIVATE_RECORDED = frozenset({"_assert"})


def qualified_name(target) -> str:
    """The dotted name printed for a ``call_function`` target: ``ember.relu``,
    ``ember.nn.functional.relu``, ``operator.add``, ``builtins.getattr``,
    ``module.function`` for other functions."""
    if isinstance(target, str):
        return target
    entry = public_functions().get(id(target))
    if entry is not None and entry[2] is target:
        return f"{entry[0]}.{entry[1]}"
    module = getattr(target, "__module__", None) or "builtins"
    if module == "_operator":
        module = "operator"
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", repr(target))
    return f"{module}.{name}"


def code_reference(target) -> str | None:
    """How generated code can reach ``target`` through the global ``ember`` (``ember.relu``,
    ``ember.fx._symbolic_trace._assert``), or None when it can't."""
    entry = public_functions().get(id(target))
    if entry is not None and entry[2] is target:
        return f"{entry[0]}.{entry[1]}"
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__name__", "")
    if module.startswith("ember.fx") and name and \
            getattr(importlib.import_module(module), name, None) is target:
        return f"{module}.{name}"
    return None


def global_name(target) -> str:
    """The global variable name generated code uses for a function it can't reach through
    ``ember``: the qualified name with dots as underscores (``math_sqrt``,
    ``__main___myfn``, ``_operator_abs``)."""
    module = getattr(target, "__module__", None) or "builtins"
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", "fn")
    return f"{module}.{name}".replace(".", "_").replace("<", "_").replace(">", "_")
