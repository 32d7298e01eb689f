"""``Interpreter`` and ``Transformer``: run a graph node by node, as
``torch.fx.Interpreter``/``torch.fx.Transformer``.

``Interpreter.run`` evaluates each node with the method named after its opcode
(``placeholder``, ``get_attr``, ``call_function``, ``call_method``, ``call_module``,
``output``); override them to observe or change execution. ``Transformer`` runs the same
methods on proxies, so that overriding them rewrites the graph, and ``transform()`` returns
the new ``GraphModule``.
"""

from __future__ import annotations

import copy
import inspect
import types
from typing import Any

from .graph import Graph
from .graph_module import GraphModule
from .node import Argument, Node, Target, map_aggregate, map_arg
from .proxy import GraphAppendingTracer, Proxy

__all__ = ["Interpreter", "Transformer"]


def _last_uses(graph: Graph) -> dict[Node, list[Node]]:
    """For each node, the values no later node reads (free them once it has run)."""
    seen: set = set()
    out: dict[Node, list[Node]] = {}
    for node in reversed(graph.nodes):
        for inp in node.all_input_nodes:
            if inp not in seen:
                seen.add(inp)
                out.setdefault(node, []).append(inp)
    return out


class Interpreter:
    """Runs ``module``'s graph (or ``graph``) on concrete values, one node at a time.

    Args:
        module: the module whose attributes and submodules the graph refers to.
        garbage_collect_values: free each value after its last use.
        graph: the graph to run instead of ``module.graph``.
    """

    def __init__(self, module, garbage_collect_values: bool = True,
                 graph: Graph | None = None) -> None:
        self.module = module
        self.submodules = dict(module.named_modules())
        self.graph = graph if graph is not None else module.graph
        self.env: dict[Node, Any] = {}
        self.name = "Interpreter"
        self.garbage_collect_values = garbage_collect_values
        self.extra_traceback = True
        self.user_to_last_uses = _last_uses(self.graph) if garbage_collect_values else {}

    def run(self, *args, initial_env: dict[Node, Any] | None = None,
            enable_io_processing: bool = True) -> Any:
        """Runs the graph with ``args`` as its inputs and returns its output.
        ``initial_env`` gives precomputed values for some nodes (they are not run)."""
        self.env = {} if initial_env is None else initial_env
        self.args_iter = iter(args)
        for node in self.graph.nodes:
            if node in self.env:
                continue
            try:
                value = self.run_node(node)
                self.env[node] = value
            except Exception as exc:
                if self.extra_traceback:
                    exc.add_note(f"While executing {node.format_node()}")
                raise
            if self.garbage_collect_values:
                for dead in self.user_to_last_uses.get(node, ()):
                    self.env.pop(dead, None)
            if node.op == "output":
                return self.env[node]
        return None

    def run_node(self, n: Node) -> Any:
        """Runs one node: fetches its argument values and calls the method of its
        opcode."""
        handler = getattr(self, n.op)
        node_args, node_kwargs = self.fetch_args_kwargs_from_env(n)
        return handler(n.target, node_args, node_kwargs)

    # -- one method per opcode ---------------------------------------------------------------
    def placeholder(self, target: Target, args: tuple[Argument, ...],
                    kwargs: dict[str, Any]) -> Any:
        """The next input (all remaining ones for ``*args``; the default when exhausted)."""
        if target.startswith("**"):
            return {}
        if target.startswith("*"):
            return list(self.args_iter)
        try:
            return next(self.args_iter)
        except StopIteration:
            if args:
                return args[0]
            raise RuntimeError(f"Expected positional argument for parameter {target}, but "
                               "one was not passed in!") from None

    def get_attr(self, target: Target, args: tuple[Argument, ...],
                 kwargs: dict[str, Any]) -> Any:
        """The module attribute at dotted path ``target``."""
        return self.fetch_attr(target)

    def call_function(self, target: Target, args: tuple[Argument, ...],
                      kwargs: dict[str, Any]) -> Any:
        """``target(*args, **kwargs)``."""
        return target(*args, **kwargs)

    def call_method(self, target: Target, args: tuple[Argument, ...],
                    kwargs: dict[str, Any]) -> Any:
        """``args[0].<target>(*args[1:], **kwargs)``."""
        obj, *rest = args
        return getattr(obj, target)(*rest, **kwargs)

    def call_module(self, target: Target, args: tuple[Argument, ...],
                    kwargs: dict[str, Any]) -> Any:
        """Calls the submodule at dotted path ``target``."""
        return self.fetch_attr(target)(*args, **kwargs)

    def output(self, target: Target, args: tuple[Argument, ...],
               kwargs: dict[str, Any]) -> Any:
        """The graph's result."""
        return args[0]

    # -- helpers -------------------------------------------------------------------------
    def fetch_attr(self, target: str) -> Any:
        """The attribute of ``self.module`` at dotted path ``target``."""
        obj = self.module
        parts = target.split(".")
        for i, part in enumerate(parts):
            if not hasattr(obj, part):
                raise RuntimeError("Node referenced nonexistent target "
                                   f"{'.'.join(parts[:i + 1])}")
            obj = getattr(obj, part)
        return obj

    def fetch_args_kwargs_from_env(self, n: Node) -> tuple[tuple, dict]:
        """``n``'s args and kwargs with every node replaced by its computed value."""
        return (tuple(self.map_nodes_to_values(n.args, n)),
                dict(self.map_nodes_to_values(n.kwargs, n)))

    def map_nodes_to_values(self, args: Argument, n: Node) -> Argument:
        """``args`` with every node replaced by its value in ``self.env``."""
        def value_of(node: Node):
            if node not in self.env:
                raise RuntimeError(f"Node {n} referenced nonexistent value {node}! Run "
                                   "Graph.lint() to diagnose such issues")
            return self.env[node]

        return map_arg(args, value_of)


class _TransformTracer(GraphAppendingTracer):
    def __init__(self, graph: Graph, root) -> None:
        super().__init__(graph)
        self.root = root


class Transformer(Interpreter):
    """Rewrites a ``GraphModule``: runs its graph on proxies so that each overridden opcode
    method can record something else; ``transform()`` returns the new ``GraphModule``."""

    def __init__(self, module: GraphModule) -> None:
        super().__init__(module)
        self.new_graph = Graph()
        self.tracer = _TransformTracer(self.new_graph, module)

    def placeholder(self, target: Target, args: tuple[Argument, ...],
                    kwargs: dict[str, Any]) -> Proxy:
        """A placeholder of the new graph with the same name and default."""
        default = args[0] if args else inspect.Signature.empty
        return Proxy(self.new_graph.placeholder(target, default_value=default), self.tracer)

    def get_attr(self, target: Target, args: tuple[Argument, ...],
                 kwargs: dict[str, Any]) -> Proxy:
        """Records a ``get_attr`` node of the same target."""
        return self.tracer.create_proxy("get_attr", target, args, kwargs=kwargs)

    def call_module(self, target: Target, args: tuple[Argument, ...],
                    kwargs: dict[str, Any]) -> Proxy:
        """Records a ``call_module`` node of the same target."""
        return self.tracer.create_proxy("call_module", target, args, kwargs)

    def call_function(self, target: Target, args: tuple[Argument, ...],
                      kwargs: dict[str, Any]) -> Proxy:
        """Records a ``call_function`` node of the same target."""
        return self.tracer.create_proxy("call_function", target, args, kwargs=kwargs)

    def run_node(self, n: Node) -> Any:
        result = super().run_node(n)
        if isinstance(result, Proxy) and not result.node.meta:
            result.node.meta = copy.copy(n.meta)
        return result

    def transform(self) -> GraphModule:
        """Runs the transformation and returns the resulting ``GraphModule``."""
        from ._patching import Patcher
        from ._targets import NAMESPACES, public_functions

        functions = [entry[2] for entry in public_functions().values()]
        builtin = {id(f): f for f in functions if not isinstance(f, types.FunctionType)}
        with Patcher() as patcher:  # ember functions called on proxies are recorded
            patcher.patch_tensor_operators()
            patcher.swap_function_code(functions)
            patcher.patch_namespaces(builtin, NAMESPACES)
            result = Interpreter.run(self, enable_io_processing=False)
        if result is not None:
            def as_node(value):
                return value.node if isinstance(value, Proxy) else value
            self.new_graph.output(map_aggregate(result, as_node))
        return GraphModule(self.module, self.new_graph)
