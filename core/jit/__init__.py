"""``ember.jit``: the ``torch.jit`` namespace.

``trace`` records the tensor ops a module or function runs on example inputs and returns a
``ScriptModule``/``ScriptFunction`` that replays them (``.graph`` prints the recording,
``.save`` / ``ember.jit.save`` write it to a portable zip that ``ember.jit.load`` reads
without unpickling arbitrary objects). As with ``torch.jit.trace``, control flow is frozen
at the path the example inputs took, and in ember the shapes are too.

``script`` returns its argument unchanged: ember runs Python, so there is nothing to compile,
and ``@torch.jit.script``-decorated helpers simply run as Python. ``ignore``, ``unused`` and
``export`` are no-op decorators, ``annotate`` returns its value, ``is_scripting()`` is False
and ``is_tracing()`` is True only while a trace records. ``fork`` runs its call at once and
returns a finished future for ``wait``.
"""

from __future__ import annotations

import importlib as _importlib

from ._script import (
    Final,
    Future,
    annotate,
    enable_onednn_fusion,
    export,
    fork,
    freeze,
    fuser,
    ignore,
    interface,
    is_scripting,
    isinstance,
    onednn_fusion_enabled,
    optimize_for_inference,
    optimized_execution,
    script,
    script_if_tracing,
    set_fusion_strategy,
    unused,
    wait,
)
from ._serialize import load, save
from ._trace import trace, trace_module
from ._traced import RecursiveScriptModule, ScriptFunction, ScriptModule, TracedModule
from ._tracer import TracerWarning, TracingError, is_tracing

# ``torch.jit.annotations`` is a submodule; ``from __future__ import annotations`` above bound
# that name to the future flag, which ``from . import annotations`` would return
annotations = _importlib.import_module(".annotations", __name__)  # noqa: F811

__all__ = ["trace", "trace_module", "script", "save", "load", "ignore", "unused", "export",
           "is_scripting", "is_tracing", "annotate", "Final", "fork", "wait", "Future",
           "ScriptModule", "ScriptFunction", "TracedModule", "RecursiveScriptModule",
           "TracerWarning", "TracingError", "script_if_tracing", "interface", "isinstance",
           "optimize_for_inference", "freeze", "enable_onednn_fusion",
           "onednn_fusion_enabled", "CompilationUnit", "Attribute", "optimized_execution",
           "fuser", "set_fusion_strategy"]


class CompilationUnit:
    """Not supported: ember compiles no TorchScript source (raises on construction)."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("ember.jit.CompilationUnit: ember does not compile "
                                  "TorchScript source; write the code as Python")


def Attribute(value, type=None):  # noqa: N802 - torch.jit.Attribute
    """Returns ``value`` (a type hint for the TorchScript compiler)."""
    return value
