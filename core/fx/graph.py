"""``Graph``: the ordered list of ``Node``s FX records, as ``torch.fx.Graph``.

Nodes live in a circular doubly linked list closed by a sentinel, so inserting before or
after any node and erasing a node take constant time, and iterating over ``graph.nodes``
while erasing the current node is safe. New nodes go to the *insertion point*: the end of the
graph unless ``inserting_before``/``inserting_after`` moved it.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterator
from typing import Any

from ._codegen import PythonCode, generate
from ._namespace import Namespace, snake_case
from .node import Argument, Node, Target, map_arg

__all__ = ["Graph", "PythonCode"]


class _NodeList:
    """A live view of a graph's nodes (``len``, iteration, ``reversed``)."""

    def __init__(self, graph: Graph, backwards: bool = False) -> None:
        self._graph = graph
        self._backwards = backwards

    def __len__(self) -> int:
        return self._graph._len

    def __iter__(self) -> Iterator[Node]:
        head = self._graph._head
        step = "_before" if self._backwards else "_after"
        node = getattr(head, step)
        while node is not head:
            following = getattr(node, step)  # read first: the caller may erase `node`
            if not node._erased:
                yield node
            node = following

    def __reversed__(self) -> Iterator[Node]:
        return iter(_NodeList(self._graph, not self._backwards))

    def __repr__(self) -> str:
        return repr(list(self))


class _InsertionPoint:
    """Moves a graph's insertion point until ``__exit__`` (or for good, without ``with``)."""

    def __init__(self, graph: Graph, insert: Callable[[Node], None]) -> None:
        self._graph = graph
        self._saved = graph._insert
        graph._insert = insert

    def __enter__(self) -> _InsertionPoint:
        return self

    def __exit__(self, *exc) -> None:
        self._graph._insert = self._saved


def _name_for(target) -> str:
    if callable(target) and not isinstance(target, str):
        name = getattr(target, "__name__", None) or type(target).__name__
    else:
        name = str(target)
        if name.startswith("__") and name.endswith("__") and len(name) > 4:
            name = name[2:-2]  # __getitem__ -> getitem
    return snake_case(name)


class Graph:
    """A program as a list of ``Node``s: ``placeholder`` inputs, operations, one
    ``output``. Build one with the methods below or get one from ``symbolic_trace``."""

    def __init__(self, owning_module=None, tracer_cls: type | None = None,
                 tracer_extras: dict[str, Any] | None = None) -> None:
        self._head = Node(self, "", "root", "", (), {})
        self._head._erased = True
        self._insert: Callable[[Node], None] = self._head.prepend
        self._len = 0
        self._names = Namespace()
        self._owning_module = owning_module
        self._tracer_cls = tracer_cls
        self._tracer_extras = tracer_extras

    @property
    def owning_module(self):
        """The ``GraphModule`` whose code this graph is (None for a free graph)."""
        return self._owning_module

    @owning_module.setter
    def owning_module(self, mod) -> None:
        self._owning_module = mod

    @property
    def nodes(self) -> _NodeList:
        """The nodes in program order (a live view; supports ``len`` and ``reversed``)."""
        return _NodeList(self)

    def find_nodes(self, *, op: str, target: Target | None = None,
                   sort: bool = True) -> list[Node]:
        """The nodes with opcode ``op`` (and ``target``, when given), in program order."""
        return [n for n in self.nodes if n.op == op and (target is None or n.target == target)]

    # -- building ------------------------------------------------------------------------
    def create_node(self, op: str, target: Target, args: tuple[Argument, ...] | None = None,
                    kwargs: dict[str, Argument] | None = None, name: str | None = None,
                    type_expr: Any | None = None) -> Node:
        """Adds a node at the insertion point and returns it; ``name`` (made unique) defaults
        to one derived from ``target``."""
        args = () if args is None else args
        kwargs = {} if kwargs is None else kwargs
        if not isinstance(args, tuple):
            raise TypeError(f"args must be a tuple, got {type(args).__name__}")
        if not isinstance(kwargs, dict):
            raise TypeError(f"kwargs must be a dict, got {type(kwargs).__name__}")
        unique = self._names.create_name(name if name is not None else _name_for(target))
        node = Node(self, unique, op, target, args, kwargs, type_expr)
        self._insert(node)
        self._len += 1
        return node

    def placeholder(self, name: str, type_expr: Any | None = None,
                    default_value: Any = inspect.Signature.empty) -> Node:
        """An input of the graph named ``name`` (``*args``/``**kwargs`` style names make
        variadic inputs); ``default_value`` makes it optional."""
        has_default = default_value is not inspect.Signature.empty
        return self.create_node("placeholder", name, (default_value,) if has_default else (),
                                name=name.lstrip("*"), type_expr=type_expr)

    def get_attr(self, qualified_name: str, type_expr: Any | None = None) -> Node:
        """Reads the attribute at dotted path ``qualified_name`` of the owning module."""
        return self.create_node("get_attr", qualified_name, type_expr=type_expr)

    def call_module(self, module_name: str, args: tuple | None = None,
                    kwargs: dict | None = None, type_expr: Any | None = None) -> Node:
        """Calls the submodule at dotted path ``module_name``."""
        return self.create_node("call_module", module_name, args, kwargs, type_expr=type_expr)

    def call_method(self, method_name: str, args: tuple | None = None,
                    kwargs: dict | None = None, type_expr: Any | None = None) -> Node:
        """Calls method ``method_name`` on ``args[0]``."""
        return self.create_node("call_method", method_name, args, kwargs, type_expr=type_expr)

    def call_function(self, the_function: Callable[..., Any], args: tuple | None = None,
                      kwargs: dict | None = None, type_expr: Any | None = None,
                      name: str | None = None) -> Node:
        """Calls the free function ``the_function``."""
        return self.create_node("call_function", the_function, args, kwargs, name=name,
                                type_expr=type_expr)

    def output(self, result: Argument, type_expr: Any | None = None) -> Node:
        """The ``output`` node: what the graph's function returns."""
        return self.create_node("output", "output", (result,), type_expr=type_expr)

    def node_copy(self, node: Node,
                  arg_transform: Callable[[Node], Argument] = lambda x: x) -> Node:
        """Copies ``node`` (from any graph) into this one at the insertion point, mapping its
        input nodes through ``arg_transform``."""
        new = self.create_node(node.op, node.target, map_arg(node.args, arg_transform),
                               map_arg(node.kwargs, arg_transform), node.name, node.type)
        new.meta = copy.copy(node.meta)
        return new

    def graph_copy(self, g: Graph, val_map: dict[Node, Node],
                   return_output_node: bool = False):
        """Copies the nodes of ``g`` (except its output) into this graph; ``val_map`` maps
        ``g``'s nodes to their copies (prefilled entries are used instead of copying).
        Returns the copied output value, or ``(value, output node)``."""
        for node in g.nodes:
            if node in val_map:
                continue
            if node.op == "output":
                value = map_arg(node.args[0], lambda n: val_map[n])
                return (value, node) if return_output_node else value
            val_map[node] = self.node_copy(node, val_map.__getitem__)
        return None

    def __deepcopy__(self, memo) -> Graph:
        new = Graph(tracer_cls=self._tracer_cls, tracer_extras=self._tracer_extras)
        out = new.graph_copy(self, {}, return_output_node=True)
        if out is not None:
            value, node = out
            new.output(value, node.type).meta = copy.copy(node.meta)
        return new

    # -- insertion point -------------------------------------------------------------------
    def inserting_before(self, n: Node | None = None) -> _InsertionPoint:
        """Makes new nodes go just before ``n`` (the start of the graph when None); use as a
        context manager to restore the previous point afterwards."""
        if n is None:
            return self.inserting_after(self._head)
        if n.graph is not self:
            raise AssertionError("Node to insert before is not in graph.")
        return _InsertionPoint(self, n.prepend)

    def inserting_after(self, n: Node | None = None) -> _InsertionPoint:
        """Makes each new node go just after ``n`` (at the end of the graph when None), so
        successive new nodes end up in reverse order; use as a context manager."""
        if n is None:
            return self.inserting_before(self._head)
        if n.graph is not self:
            raise AssertionError("Node to insert after is not in graph.")
        return _InsertionPoint(self, n.append)

    # -- editing -------------------------------------------------------------------------
    def erase_node(self, to_erase: Node) -> None:
        """Removes ``to_erase``, which nothing may use any more."""
        if to_erase.users:
            raise RuntimeError(f"Tried to erase Node {to_erase} but it still had "
                               f"{len(to_erase.users)} users in the graph: {to_erase.users}!")
        if to_erase.graph is not self:
            raise RuntimeError(f"Attempting to remove {to_erase} from wrong graph!")
        if to_erase._erased:
            return
        to_erase._unlink()
        to_erase._erased = True
        self._len -= 1
        to_erase._set_inputs((), {})  # it no longer uses its inputs

    def eliminate_dead_code(self, is_impure_node: Callable[[Node], bool] | None = None
                            ) -> bool:
        """Erases the nodes nothing uses, except impure ones (``Node.is_impure``, or
        ``is_impure_node(node)`` when given). Returns True when the graph changed."""
        impure = is_impure_node if is_impure_node is not None else Node.is_impure
        changed = False
        for node in reversed(self.nodes):
            if not node.users and not impure(node):
                self.erase_node(node)
                changed = True
        return changed

    def lint(self) -> None:
        """Checks the graph's invariants (names unique, arguments defined before use and in
        this graph, users in step, module targets present) and raises on the first broken
        one."""
        seen: set = set()
        names: set = set()
        for node in self.nodes:
            if node.graph is not self:
                raise RuntimeError(f"Node '{node}' does not belong to this Graph!")
            if node.name in names:
                raise RuntimeError(f"Node redefined name {node.name}!")
            names.add(node.name)
            for inp in node.all_input_nodes:
                if inp.graph is not self:
                    raise RuntimeError(f"Argument '{inp}' of Node '{node}' does not belong to "
                                       "this Graph, but was used as an argument! If you are "
                                       "copying nodes from another graph, make sure to use "
                                       "``arg_transform`` on node_copy() to remap values")
                if inp not in seen:
                    raise RuntimeError(f"Argument '{inp}' of Node '{node}' was used before it "
                                       "has been defined! Please check that Nodes in the graph "
                                       "are topologically ordered")
                if node not in inp.users:
                    raise RuntimeError(f"Node '{node}' reads '{inp}' but is not among its "
                                       "users")
            seen.add(node)
        owner = self._owning_module
        if owner is not None:
            for node in self.nodes:
                if node.op in ("get_attr", "call_module"):
                    _check_target(owner, node)

    # -- output --------------------------------------------------------------------------
    def python_code(self, root_module: str, *, verbose: bool = False,
                    include_stride: bool = False, include_device: bool = False,
                    colored: bool = False, **kwargs) -> PythonCode:
        """The Python source of this graph as a ``forward(<root_module>, ...)`` function
        and the globals it needs."""
        return generate(self, root_module)

    def __str__(self) -> str:
        lines = ["graph():"]
        for node in self.nodes:
            text = node.format_node()
            if text is not None:
                lines.append("    " + text)
        return "\n".join(lines)

    def print_tabular(self) -> None:
        """Prints the nodes as a table: opcode, name, target, args, kwargs."""
        rows = [["opcode", "name", "target", "args", "kwargs"]]
        for n in self.nodes:
            from ._targets import qualified_name

            target = qualified_name(n.target) if n.op == "call_function" else str(n.target)
            rows.append([n.op, n.name, target, str(n.args), str(n.kwargs)])
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        rows.insert(1, ["-" * w for w in widths])
        for r in rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def _check_target(owner, node: Node) -> None:
    obj = owner
    walked = []
    for part in node.target.split("."):
        walked.append(part)
        if not hasattr(obj, part):
            kind = "module" if node.op == "call_module" else "attribute"
            raise RuntimeError(f"Node {node} target {node.target} references nonexistent "
                               f"{kind} {'.'.join(walked)}")
        obj = getattr(obj, part)
