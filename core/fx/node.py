"""``Node``: one operation of an FX ``Graph``, as ``torch.fx.Node``.

A node has an opcode ``op`` (``placeholder``, ``get_attr``, ``call_function``,
``call_method``, ``call_module``, ``output``), a ``target`` (a function, a method name, a
module path or an attribute path), its ``args``/``kwargs`` (which refer to earlier nodes) and
a ``name`` that is unique in its graph and becomes the variable of its value in the
generated code. Each node knows the nodes it reads (``all_input_nodes``) and the nodes that
read it (``users``); both are kept up to date whenever the arguments change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .immutable_collections import immutable_dict, immutable_list

__all__ = ["Node", "Argument", "Target", "map_arg", "map_aggregate", "has_side_effect"]

Target = Callable[..., Any] | str

_OPCODES = ("placeholder", "get_attr", "call_function", "call_method", "call_module",
            "output", "root")

_SIDE_EFFECTS: set = set()  # functions whose call nodes dead-code elimination must keep


def has_side_effect(fn: Callable) -> Callable:
    """Marks ``fn`` as having side effects: ``Graph.eliminate_dead_code`` keeps its calls even
    when nothing uses their result. Returns ``fn`` (usable as a decorator)."""
    _SIDE_EFFECTS.add(fn)
    return fn


def map_aggregate(a: Any, fn: Callable[[Any], Any]) -> Any:
    """Applies ``fn`` to every leaf of the nest of tuples, lists, dicts and slices ``a``.
    Lists and dicts come back as ``immutable_list``/``immutable_dict``."""
    kind = type(a)
    if kind is tuple or isinstance(a, tuple):
        items = [map_aggregate(x, fn) for x in a]
        if kind is tuple:
            return tuple(items)
        return kind(*items) if hasattr(a, "_fields") else kind(items)  # namedtuples
    if isinstance(a, list):
        return immutable_list([map_aggregate(x, fn) for x in a])
    if isinstance(a, dict):
        return immutable_dict((k, map_aggregate(v, fn)) for k, v in a.items())
    if isinstance(a, slice):
        return slice(map_aggregate(a.start, fn), map_aggregate(a.stop, fn),
                     map_aggregate(a.step, fn))
    return fn(a)


def map_arg(a: Any, fn: Callable[[Node], Any]) -> Any:
    """Applies ``fn`` to every ``Node`` inside the argument nest ``a`` (other leaves are
    kept)."""
    if not callable(fn):
        raise TypeError("torch.fx.map_arg(a, fn): fn must be a callable")
    return map_aggregate(a, lambda x: fn(x) if isinstance(x, Node) else x)


def _nodes_in(a: Any, found: dict) -> None:
    """Adds the nodes referenced by argument nest ``a`` to ``found`` (in order)."""
    if isinstance(a, Node):
        found.setdefault(a)
    elif isinstance(a, (tuple, list)):
        for x in a:
            _nodes_in(x, found)
    elif isinstance(a, dict):
        for x in a.values():
            _nodes_in(x, found)
    elif isinstance(a, slice):
        _nodes_in(a.start, found)
        _nodes_in(a.stop, found)
        _nodes_in(a.step, found)


class Node:
    """One operation of a ``Graph`` (see the module docstring). Build nodes through the
    ``Graph`` methods (``placeholder``, ``call_function``, ...) rather than directly."""

    def __init__(self, graph, name: str, op: str, target: Target, args: tuple,
                 kwargs: dict, return_type: Any | None = None) -> None:
        if op not in _OPCODES:
            raise ValueError(f"unknown node opcode '{op}'")
        if op == "call_function" and not callable(target):
            raise ValueError(f"Node [graph = {graph}, name = '{name}'] target {target} has "
                             f"type {type(target)} but a Callable is expected")
        if op in ("call_method", "call_module", "get_attr", "placeholder") and \
                not isinstance(target, str):
            raise ValueError(f"Node [graph = {graph}, name = '{name}'] target {target} has "
                             f"type {type(target)} but a str is expected")
        self.graph = graph
        self.name = name
        self.op = op
        self.target = target
        self.type = return_type
        self.meta: dict = {}
        self.users: dict[Node, None] = {}
        self._input_nodes: dict[Node, None] = {}
        self._args: tuple = ()
        self._kwargs: dict = {}
        self._before: Node = self  # neighbours in the graph's circular node list
        self._after: Node = self
        self._erased = False
        self._set_inputs(args, kwargs)

    # -- arguments -----------------------------------------------------------------------
    @property
    def args(self) -> tuple:
        """The positional arguments; assigning a new tuple updates ``users`` of the nodes
        involved."""
        return self._args

    @args.setter
    def args(self, value: tuple) -> None:
        self._set_inputs(value, self._kwargs)

    @property
    def kwargs(self) -> dict:
        """The keyword arguments; assigning a new dict updates ``users`` as ``args`` does."""
        return self._kwargs

    @kwargs.setter
    def kwargs(self, value: dict) -> None:
        self._set_inputs(self._args, value)

    def _set_inputs(self, args, kwargs) -> None:
        for old in self._input_nodes:
            old.users.pop(self, None)
        self._args = map_aggregate(tuple(args), _check_arg)
        self._kwargs = map_aggregate(dict(kwargs), _check_arg)
        found: dict = {}
        _nodes_in(self._args, found)
        _nodes_in(self._kwargs, found)
        self._input_nodes = found
        for new in found:
            new.users.setdefault(self)

    @property
    def all_input_nodes(self) -> list[Node]:
        """The distinct nodes this node reads, in the order its arguments name them."""
        return list(self._input_nodes)

    def update_arg(self, idx: int, arg: Argument) -> None:
        """Sets positional argument ``idx`` to ``arg``."""
        args = list(self._args)
        args[idx] = arg
        self.args = tuple(args)

    def insert_arg(self, idx: int, arg: Argument) -> None:
        """Inserts ``arg`` at position ``idx`` of the positional arguments."""
        args = list(self._args)
        args.insert(idx, arg)
        self.args = tuple(args)

    def update_kwarg(self, key: str, arg: Argument) -> None:
        """Sets keyword argument ``key`` to ``arg``."""
        kwargs = dict(self._kwargs)
        kwargs[key] = arg
        self.kwargs = kwargs

    def replace_input_with(self, old_input: Node, new_input: Node) -> None:
        """Makes this node read ``new_input`` wherever it read ``old_input``."""
        def swap(n):
            return new_input if n is old_input else n

        self._set_inputs(map_arg(self._args, swap), map_arg(self._kwargs, swap))

    def replace_all_uses_with(self, replace_with: Node,
                              delete_user_cb: Callable[[Node], bool] | None = None, *,
                              propagate_meta: bool = False) -> list[Node]:
        """Makes every user of this node read ``replace_with`` instead (only the users for
        which ``delete_user_cb(user)`` is true, when given). Returns the users changed."""
        if propagate_meta:
            if replace_with.meta:
                raise AssertionError("Called node.replace_all_uses_with(replace_with, "
                                     "propagate_meta=True), but replace_with already has "
                                     ".meta keys")
            replace_with.meta.update(self.meta)
        changed = []
        for user in list(self.users):
            if delete_user_cb is not None and not delete_user_cb(user):
                continue
            user.replace_input_with(self, replace_with)
            changed.append(user)
        return changed

    # -- position in the graph -------------------------------------------------------------
    @property
    def next(self) -> Node:
        """The node after this one (the graph's sentinel after the last node)."""
        return self._after

    @property
    def prev(self) -> Node:
        """The node before this one (the graph's sentinel before the first node)."""
        return self._before

    def _unlink(self) -> None:
        self._before._after = self._after
        self._after._before = self._before
        self._before = self._after = self

    def prepend(self, x: Node) -> None:
        """Moves (or inserts) node ``x`` to just before this node."""
        if x is self:
            raise AssertionError("Cannot prepend self")
        if x.graph is not self.graph:
            raise AssertionError("Attempting to move a Node into a different Graph")
        x._unlink()
        x._before, x._after = self._before, self
        self._before._after = x
        self._before = x

    def append(self, x: Node) -> None:
        """Moves (or inserts) node ``x`` to just after this node."""
        if self._after is not x:
            self._after.prepend(x)

    # -- properties ----------------------------------------------------------------------
    @property
    def stack_trace(self) -> str | None:
        """The Python stack trace recorded for this node while tracing, if any."""
        return self.meta.get("stack_trace")

    @stack_trace.setter
    def stack_trace(self, trace: str | None) -> None:
        self.meta["stack_trace"] = trace

    def is_impure(self, impure_random: bool = True) -> bool:
        """True when dead-code elimination must keep this node although nothing uses it:
        inputs and outputs, functions marked with ``has_side_effect``, in-place method calls
        (ember's choice: a method named ``op_`` writes its receiver) and modules with
        ``_is_impure`` set."""
        if self.op in ("placeholder", "output"):
            return True
        if self.op == "call_function":
            return self.target in _SIDE_EFFECTS
        if self.op == "call_method":
            t = self.target
            return t.endswith("_") and not t.endswith("__")
        if self.op == "call_module":
            owner = self.graph.owning_module
            if owner is not None:
                try:
                    mod = owner.get_submodule(self.target)
                except AttributeError:
                    return False
                return bool(getattr(mod, "_is_impure", False))
        return False

    def format_node(self, placeholder_names: list | None = None,
                    maybe_return_typename: list | None = None) -> str | None:
        """This node as one line of ``str(graph)``."""
        if self.op == "output":
            return f"return {self._args[0]}" if self._args else "return None"
        head = f"%{self.name} : [num_users={len(self.users)}] = {self.op}[target="
        head += f"{_target_text(self)}]"
        if self.op == "placeholder":
            if self._args:
                head += f"(default={_arg_text(self._args[0])})"
            return head
        if self.op == "get_attr":
            return head
        return head + f"(args = {_arg_text(self._args)}, kwargs = {_arg_text(self._kwargs)})"

    def __repr__(self) -> str:
        return self.name


# what a node's args/kwargs may hold (nested in tuples, lists, dicts and slices)
Argument = tuple | list | dict | slice | range | Node | str | int | float | bool | complex | None


def _check_arg(a):
    if isinstance(a, Node) and a._erased:
        raise RuntimeError(f"node {a.name} was erased from its graph and can't be used as an "
                           "argument")
    return a


def _target_text(node: Node) -> str:
    if node.op == "call_function":
        from ._targets import qualified_name

        return qualified_name(node.target)
    return str(node.target)


def _arg_text(a) -> str:
    if isinstance(a, Node):
        return f"%{a.name}"
    if isinstance(a, tuple):
        inner = ", ".join(_arg_text(x) for x in a)
        return f"({inner},)" if len(a) == 1 else f"({inner})"
    if isinstance(a, list):
        return "[" + ", ".join(_arg_text(x) for x in a) + "]"
    if isinstance(a, dict):
        return "{" + ", ".join(f"{k}: {_arg_text(v)}" for k, v in a.items()) + "}"
    if isinstance(a, slice):
        return f"slice({_arg_text(a.start)}, {_arg_text(a.stop)}, {_arg_text(a.step)})"
    return str(a)

