"""Python source for a graph: the ``forward`` a ``GraphModule`` compiles and shows as
``code``.

Every node becomes one statement that binds the node's name. Operators and attribute reads
are written as Python writes them (``add = x + y``, ``getattr_1 = x.shape``,
``getitem = t[0]``), ember functions through the global ``ember`` (``ember.relu(x)``),
modules and attributes through ``self``. After the statement that uses a value for the last
time, the value is released (``;  x = None``) so that intermediate tensors are freed as early
as when the original model ran.
"""

from __future__ import annotations

import builtins
import math
import operator
from dataclasses import dataclass, field
from typing import Any

from ._targets import code_reference, global_name

__all__ = ["PythonCode", "generate"]

_BINARY = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
           operator.floordiv: "//", operator.mod: "%", operator.pow: "**",
           operator.matmul: "@", operator.lshift: "<<", operator.rshift: ">>",
           operator.and_: "&", operator.or_: "|", operator.xor: "^", operator.eq: "==",
           operator.ne: "!=", operator.lt: "<", operator.le: "<=", operator.gt: ">",
           operator.ge: ">=", operator.is_: "is", operator.is_not: "is not"}
_UNARY = {operator.neg: "-", operator.pos: "+", operator.invert: "~", operator.not_: "not "}


@dataclass
class PythonCode:
    """The generated source of a graph's function and the globals it needs to run."""

    src: str
    globals: dict[str, Any] = field(default_factory=dict)
    _lineno_map: dict[int, int] | None = None


def _attr_path(base: str, dotted: str) -> str:
    """``self.layer1[0].conv`` written as attribute reads (``getattr(self.layer1, "0")``
    for the parts that aren't identifiers)."""
    out = base
    for part in dotted.split("."):
        out = f"{out}.{part}" if part.isidentifier() else f'getattr({out}, "{part}")'
    return out


class _Writer:
    """Turns argument values into source text, collecting the globals they need."""

    def __init__(self, taken: set[str]) -> None:
        import ember

        self.globals: dict[str, Any] = {"ember": ember, "torch": ember, "inf": math.inf,
                                        "nan": math.nan, "device": ember.device,
                                        "NoneType": type(None)}
        self._taken = taken
        self.wrapped: list[str] = []

    def add_global(self, name: str, value: Any) -> str:
        base, n = name, 0
        while name in self._taken or (name in self.globals and self.globals[name] is not value):
            n += 1
            name = f"{base}_{n}"
        self.globals[name] = value
        return name

    def callable_ref(self, fn, wrapped: bool = False) -> str:
        ref = code_reference(fn)
        if ref is not None:
            return ref
        if getattr(builtins, getattr(fn, "__name__", ""), None) is fn:
            return fn.__name__
        name = self.add_global(global_name(fn), fn)
        if wrapped and name not in self.wrapped:
            self.wrapped.append(name)
        return name

    def arg(self, a) -> str:
        from .node import Node

        if isinstance(a, Node):
            return a.name
        if isinstance(a, tuple) and hasattr(a, "_fields"):  # a namedtuple
            cls = self.add_global(global_name(type(a)), type(a))
            return f"{cls}({', '.join(self.arg(x) for x in a)})"
        if isinstance(a, tuple):
            inner = ", ".join(self.arg(x) for x in a)
            return f"({inner},)" if len(a) == 1 else f"({inner})"
        if isinstance(a, list):
            return "[" + ", ".join(self.arg(x) for x in a) + "]"
        if isinstance(a, dict):
            return "{" + ", ".join(f"{self.arg(k)}: {self.arg(v)}" for k, v in a.items()) + "}"
        if isinstance(a, slice):
            return f"slice({self.arg(a.start)}, {self.arg(a.stop)}, {self.arg(a.step)})"
        if isinstance(a, float) and not math.isfinite(a):
            return "nan" if math.isnan(a) else ("inf" if a > 0 else "-inf")
        if a is None or isinstance(a, (bool, int, float, complex, str, range)) or a is ...:
            return repr(a)
        return self._object(a)

    def _object(self, a) -> str:
        import ember

        if isinstance(a, ember.dtype):
            return repr(a)
        if isinstance(a, ember.device):
            return f"device({str(a)!r})"
        if isinstance(a, type) or callable(a):
            return self.callable_ref(a)
        return repr(a)

    def call(self, args, kwargs) -> str:
        parts = [self.arg(a) for a in args]
        parts += [f"{k} = {self.arg(v)}" for k, v in kwargs.items()]
        return ", ".join(parts)


def _statement(node, w: _Writer, root: str) -> str:
    op, target, args, kwargs = node.op, node.target, node.args, node.kwargs
    if op == "get_attr":
        return f"{node.name} = {_attr_path(root, target)}"
    if op == "call_module":
        return f"{node.name} = {_attr_path(root, target)}({w.call(args, kwargs)})"
    if op == "call_method":
        return f"{node.name} = {w.arg(args[0])}.{target}({w.call(args[1:], kwargs)})"
    if op == "output":
        return f"return {w.arg(args[0])}" if args else "return None"
    # call_function
    if not kwargs:
        if target in _BINARY and len(args) == 2:
            return f"{node.name} = {w.arg(args[0])} {_BINARY[target]} {w.arg(args[1])}"
        if target in _UNARY and len(args) == 1:
            return f"{node.name} = {_UNARY[target]}{w.arg(args[0])}"
        if target is operator.getitem and len(args) == 2:
            return f"{node.name} = {w.arg(args[0])}[{w.arg(args[1])}]"
        if target is builtins.getattr and len(args) == 2 and isinstance(args[1], str) and \
                args[1].isidentifier():
            return f"{node.name} = {w.arg(args[0])}.{args[1]}"
    fn = w.callable_ref(target, wrapped=node.meta.get("is_wrapped", False))
    return f"{node.name} = {fn}({w.call(args, kwargs)})"


def _releases(nodes) -> dict:
    """For each node, the values whose last use it is (they are set to None after it)."""
    seen: set = set()
    free: dict = {}
    for node in reversed(nodes):
        names = []
        for inp in node.all_input_nodes:
            if inp not in seen:
                seen.add(inp)
                if node.op != "output":
                    names.append(inp.name)
        if not node.users and node.op not in ("output", "placeholder") and node not in seen:
            names.append(node.name)
        seen.add(node)
        free[node] = names
    return free


def _signature_part(node, w: _Writer) -> str:
    t = node.target
    if t.startswith("*"):
        return t
    return f"{t} = {w.arg(node.args[0])}" if node.args else t


def generate(graph, root_module: str = "self", fn_name: str = "forward") -> PythonCode:
    """The source of ``graph`` as a function ``fn_name(self, <placeholders>)``."""
    nodes = list(graph.nodes)
    w = _Writer({n.name for n in nodes})
    free = _releases(nodes)
    params, body, lineno_map = [root_module], [], {}
    for index, node in enumerate(nodes):
        if node.op == "placeholder":
            params.append(_signature_part(node, w))
            if node.name != node.target.lstrip("*"):  # a placeholder renamed (input_1)
                body.append(f"    {node.name} = {node.target.lstrip('*')}")
            continue
        line = _statement(node, w, root_module)
        if free[node]:
            line += ";  " + " = ".join(free[node]) + " = None"
        lineno_map[len(body)] = index
        body.append("    " + line)
    if not body:
        body.append("    pass")
    wraps = "\n".join(f'ember.fx._symbolic_trace.wrap("{name}")' for name in w.wrapped)
    src = f"\n{wraps}\n\ndef {fn_name}({', '.join(params)}):\n" + "\n".join(body) + "\n    "
    return PythonCode(src, w.globals, lineno_map)
