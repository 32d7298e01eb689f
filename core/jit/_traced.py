"""``ScriptModule`` and ``ScriptFunction``: callables that replay a traced graph.

A traced module keeps the traced module's submodules, parameters and buffers as its own (so
``state_dict()`` keys and shared weights are those of the original, as with
``torch.jit.trace``), and each call reads the current parameter and buffer tensors by name:
``load_state_dict`` and ``.to(dtype)`` on it are seen by the next call.
"""

from __future__ import annotations

from ..nn.modules.module import Module
from ..nn.parameter import Parameter
from ._replay import run_graph

__all__ = ["ScriptModule", "ScriptFunction", "TracedModule", "RecursiveScriptModule"]


class _Replays:
    """What traced modules and functions share: ``graph``, ``code``, ``save``."""

    @property
    def graph(self):
        """The recorded graph (printable)."""
        return self._graph

    @property
    def inlined_graph(self):
        """The recorded graph (a trace has no calls left to inline)."""
        return self._graph

    @property
    def code(self) -> str:
        """The recorded graph as text."""
        return str(self._graph)

    def save(self, f, _extra_files=None) -> None:
        """Saves this traced program to ``f`` (see ``ember.jit.save``)."""
        from ._serialize import save

        save(self, f, _extra_files=_extra_files)


class ScriptModule(_Replays, Module):
    """A module whose ``forward`` replays a traced graph (``ember.jit.trace`` of a module,
    ``ember.jit.load``). Control flow and shapes are those seen while tracing."""

    def __init__(self, graph=None, module=None, tensors=None, name: str = "ScriptModule"):
        super().__init__()
        self._graph = graph
        self.original_name = name
        if module is not None:  # share the traced module's children, parameters, buffers
            for n, child in module.named_children():
                self.add_module(n, child)
            for n, p in module._parameters.items():
                self.register_parameter(n, p)
            for n, b in module._buffers.items():
                self.register_buffer(n, b, persistent=n not in getattr(
                    module, "_non_persistent_buffers_set", ()))
            self.training = module.training
        for n, t in (tensors or {}).items():
            _attach(self, n, t)

    def _constants(self) -> dict:
        g = self._graph
        named = dict(self.named_parameters(remove_duplicate=False))
        named.update(dict(self.named_buffers(remove_duplicate=False)))
        out = {}
        for vid in g.constants:
            t = named.get(g.values[vid].name)
            if t is not None:
                out[vid] = t
        return out

    def forward(self, *args):
        """Replays the traced graph on ``args`` (shaped as the example inputs)."""
        return run_graph(self._graph, args, self._constants())

    def extra_repr(self) -> str:
        return f"original_name={self.original_name}"


TracedModule = ScriptModule
RecursiveScriptModule = ScriptModule


class ScriptFunction(_Replays):
    """A function that replays a traced graph (``ember.jit.trace`` of a function)."""

    def __init__(self, graph, name: str = "traced_function"):
        self._graph = graph
        self.name = name
        self.__name__ = name

    def __call__(self, *args):
        """Replays the traced graph on ``args`` (shaped as the example inputs)."""
        return run_graph(self._graph, args)

    def __repr__(self) -> str:
        return f"<ScriptFunction {self.name}>"


def _attach(root: Module, name: str, t) -> None:
    """Registers tensor ``t`` at dotted ``name`` under ``root``, making plain ``Module``
    containers for the missing levels."""
    *path, leaf = name.split(".")
    m = root
    for part in path:
        child = m._modules.get(part)
        if child is None:
            child = Module()
            m.add_module(part, child)
        m = child
    if isinstance(t, Parameter):
        m.register_parameter(leaf, t)
    else:
        m.register_buffer(leaf, t)
