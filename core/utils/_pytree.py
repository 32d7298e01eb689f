"""``ember.utils._pytree``: nested containers of leaves, as ``torch.utils._pytree``.

A *pytree* is a leaf or a registered container (node) of pytrees. Lists, tuples,
namedtuples, dicts, ``OrderedDict``, ``defaultdict`` and ``deque`` are registered already;
``register_pytree_node`` adds a type (``register_dataclass`` a dataclass). Flattening a tree
gives its leaves in order and a ``TreeSpec`` that rebuilds the same shape from new leaves.
``None`` is a leaf, as in PyTorch 2.13.

Each node type registers ``flatten(node) -> (children, context)`` and
``unflatten(children, context) -> node``; ``context`` is what the rebuild needs besides the
children (dict keys, the namedtuple class). ``flatten_with_keys`` also names each child with
a key (``SequenceKey``, ``MappingKey``, ``GetAttrKey``) for the ``*_with_path`` functions.
"""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = [
    "PyTree", "Context", "TreeSpec", "LeafSpec", "SequenceKey", "MappingKey", "GetAttrKey",
    "register_pytree_node", "register_dataclass", "SUPPORTED_NODES", "tree_flatten",
    "tree_unflatten", "tree_leaves", "tree_structure", "tree_iter", "tree_is_leaf",
    "tree_map", "tree_map_", "tree_map_only", "tree_map_only_", "tree_all", "tree_any",
    "tree_all_only", "tree_any_only", "tree_flatten_with_path", "tree_leaves_with_path",
    "tree_map_with_path", "keystr", "key_get", "treespec_dumps", "treespec_loads",
    "treespec_pprint", "is_namedtuple", "is_namedtuple_class", "is_namedtuple_instance",
]

PyTree = Any
Context = Any


class NodeDef(NamedTuple):
    """How one container type is taken apart and put back together."""

    type: type
    flatten_fn: Callable
    unflatten_fn: Callable
    flatten_with_keys_fn: Callable | None
    serialized_type_name: str | None


SUPPORTED_NODES: dict = {}  # type -> NodeDef
_BY_SERIALIZED_NAME: dict = {}  # serialized name -> type


# ---------------------------------------------------------------------------- key entries
@dataclasses.dataclass(frozen=True)
class SequenceKey:
    """The position of a child in a sequence node: prints as ``[idx]``."""

    idx: int

    def __str__(self) -> str:
        return f"[{self.idx!r}]"

    def get(self, parent):
        """The child of ``parent`` this key names."""
        return parent[self.idx]


@dataclasses.dataclass(frozen=True)
class MappingKey:
    """The key of a child in a mapping node: prints as ``[key]``."""

    key: Any

    def __str__(self) -> str:
        return f"[{self.key!r}]"

    def get(self, parent):
        """The child of ``parent`` this key names."""
        return parent[self.key]


@dataclasses.dataclass(frozen=True)
class GetAttrKey:
    """The attribute holding a child (namedtuples, dataclasses): prints as ``.name``."""

    name: str

    def __str__(self) -> str:
        return f".{self.name}"

    def get(self, parent):
        """The child of ``parent`` this key names."""
        return getattr(parent, self.name)


def keystr(kp) -> str:
    """A key path as source text, e.g. ``['a'][0].x``."""
    return "".join(str(k) for k in kp)


def key_get(obj, kp):
    """The subtree of ``obj`` that the key path ``kp`` points to."""
    for k in kp:
        obj = k.get(obj)
    return obj


# ---------------------------------------------------------------------------- registry
def register_pytree_node(cls: type, flatten_fn: Callable, unflatten_fn: Callable, *,
                         serialized_type_name: str | None = None,
                         to_dumpable_context: Callable | None = None,
                         from_dumpable_context: Callable | None = None,
                         flatten_with_keys_fn: Callable | None = None) -> None:
    """Registers ``cls`` as a pytree node type.

    ``flatten_fn(node) -> (children, context)``, ``unflatten_fn(children, context) -> node``;
    ``flatten_with_keys_fn(node) -> ([(key, child), ...], context)`` enables the
    ``*_with_path`` functions. The dumpable-context hooks are accepted and unused (ember's
    ``treespec_dumps`` writes contexts as JSON as they are).
    """
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    name = serialized_type_name or f"{cls.__module__}.{cls.__qualname__}"
    SUPPORTED_NODES[cls] = NodeDef(cls, flatten_fn, unflatten_fn, flatten_with_keys_fn, name)
    _BY_SERIALIZED_NAME[name] = cls


def _deregister_pytree_node(cls: type) -> None:
    node = SUPPORTED_NODES.pop(cls, None)
    if node is not None:
        _BY_SERIALIZED_NAME.pop(node.serialized_type_name, None)


def register_dataclass(cls: type, *, field_names=None, drop_field_names=None,
                       serialized_type_name: str | None = None) -> None:
    """Registers a dataclass: its fields (all, or ``field_names``) are the children."""
    if field_names is None:
        drop = set(drop_field_names or ())
        field_names = [f.name for f in dataclasses.fields(cls) if f.init and f.name not in drop]
    names = list(field_names)

    def flatten(obj):
        return [getattr(obj, n) for n in names], [names, []]

    def unflatten(values, context):
        return cls(**dict(zip(context[0], values)))

    def flatten_with_keys(obj):
        return [(GetAttrKey(n), getattr(obj, n)) for n in names], [names, []]

    register_pytree_node(cls, flatten, unflatten, serialized_type_name=serialized_type_name,
                         flatten_with_keys_fn=flatten_with_keys)


# The built-in node types. Each context holds exactly what the rebuild needs.
def _seq_with_keys(flatten):
    def with_keys(node):
        children, ctx = flatten(node)
        return [(SequenceKey(i), c) for i, c in enumerate(children)], ctx
    return with_keys


def _list_flatten(d):
    return list(d), None


def _list_unflatten(values, context):
    return list(values)


def _tuple_flatten(d):
    return list(d), None


def _tuple_unflatten(values, context):
    return tuple(values)


def _deque_flatten(d):
    return list(d), d.maxlen


def _deque_unflatten(values, context):
    return deque(values, maxlen=context)


def _dict_flatten(d):
    """``(values, keys)`` of a dict."""
    return list(d.values()), list(d.keys())


def _dict_unflatten(values, context):
    """The dict with keys ``context`` and ``values``."""
    return dict(zip(context, values))


def _dict_flatten_with_keys(d):
    """``([(MappingKey(k), v), ...], keys)`` of a dict (or any mapping-like node)."""
    values, keys = _dict_flatten(d)
    return [(MappingKey(k), v) for k, v in zip(keys, values)], keys


def _ordereddict_unflatten(values, context):
    return OrderedDict(zip(context, values))


def _defaultdict_flatten(d):
    return list(d.values()), [d.default_factory, list(d.keys())]


def _defaultdict_unflatten(values, context):
    factory, keys = context
    return defaultdict(factory, zip(keys, values))


def _defaultdict_flatten_with_keys(d):
    values, ctx = _defaultdict_flatten(d)
    return [(MappingKey(k), v) for k, v in zip(ctx[1], values)], ctx


def _namedtuple_flatten(d):
    return list(d), type(d)


def _namedtuple_unflatten(values, context):
    return context(*values)


def _namedtuple_flatten_with_keys(d):
    return [(GetAttrKey(f), getattr(d, f)) for f in d._fields], type(d)


class _NamedTupleNode:
    """Registry key of every namedtuple class (their specs print as ``namedtuple``)."""


_NamedTupleNode.__name__ = _NamedTupleNode.__qualname__ = "namedtuple"
_NamedTupleNode.__module__ = "collections"


for _cls, _fl, _un, _wk in (
        (tuple, _tuple_flatten, _tuple_unflatten, _seq_with_keys(_tuple_flatten)),
        (list, _list_flatten, _list_unflatten, _seq_with_keys(_list_flatten)),
        (dict, _dict_flatten, _dict_unflatten, _dict_flatten_with_keys),
        (_NamedTupleNode, _namedtuple_flatten, _namedtuple_unflatten,
         _namedtuple_flatten_with_keys),
        (OrderedDict, _dict_flatten, _ordereddict_unflatten, _dict_flatten_with_keys),
        (defaultdict, _defaultdict_flatten, _defaultdict_unflatten,
         _defaultdict_flatten_with_keys),
        (deque, _deque_flatten, _deque_unflatten, _seq_with_keys(_deque_flatten))):
    register_pytree_node(_cls, _fl, _un, flatten_with_keys_fn=_wk,
                         serialized_type_name=f"{_cls.__module__}.{_cls.__qualname__}")


def is_namedtuple_class(cls) -> bool:
    """True for classes made by ``collections.namedtuple`` / ``typing.NamedTuple``."""
    return isinstance(cls, type) and issubclass(cls, tuple) and isinstance(
        getattr(cls, "_fields", None), tuple) and hasattr(cls, "_make")


def is_namedtuple_instance(obj) -> bool:
    """True for instances of namedtuple classes."""
    return is_namedtuple_class(type(obj))


is_namedtuple = is_namedtuple_instance


def _node_type(tree):
    cls = type(tree)
    if cls in SUPPORTED_NODES:
        return cls
    if is_namedtuple_class(cls):
        return _NamedTupleNode
    return None


def _get_node_type(tree):
    """The key of ``tree``'s node in ``SUPPORTED_NODES``, or ``type(tree)`` for a leaf (not
    in it), as torch's private helper answers (Lightning flattens with it)."""
    kind = _node_type(tree)
    return type(tree) if kind is None else kind


def tree_is_leaf(tree, is_leaf: Callable | None = None) -> bool:
    """True when ``tree`` is a leaf: not a registered node, or ``is_leaf(tree)`` says so."""
    if is_leaf is not None and is_leaf(tree):
        return True
    return _node_type(tree) is None


# ---------------------------------------------------------------------------- TreeSpec
class TreeSpec:
    """The shape of a pytree: the node ``type``, its ``context`` and one spec per child.

    A leaf's spec has ``type`` None and no children (``LeafSpec()``).
    """

    def __init__(self, type, context, children_specs):  # noqa: A002 - PyTorch's name
        self.type = type
        self.context = context
        self.children_specs = list(children_specs)
        self.num_children = len(self.children_specs)
        if type is None:
            self.num_leaves, self.num_nodes = 1, 1
        else:
            self.num_leaves = sum(c.num_leaves for c in self.children_specs)
            self.num_nodes = 1 + sum(c.num_nodes for c in self.children_specs)

    def is_leaf(self) -> bool:
        """True for the spec of a single leaf."""
        return self.type is None

    def child(self, index: int) -> TreeSpec:
        """The spec of child ``index``."""
        return self.children_specs[index]

    def children(self) -> list:
        """The specs of all children."""
        return list(self.children_specs)

    def unflatten(self, leaves) -> PyTree:
        """The pytree of this shape holding ``leaves`` (in order)."""
        leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} "
                             f"but the spec refers to a pytree that holds {self.num_leaves} "
                             f"items ({self}).")
        it = iter(leaves)
        return self._build(it)

    def _build(self, it):
        if self.type is None:
            return next(it)
        node = SUPPORTED_NODES[self.type]
        return node.unflatten_fn([c._build(it) for c in self.children_specs], self.context)

    def flatten_up_to(self, tree) -> list:
        """The subtrees of ``tree`` that sit where this spec has its leaves."""
        out: list = []
        self._cut(tree, out)
        return out

    def _cut(self, tree, out: list) -> None:
        if self.type is None:
            out.append(tree)
            return
        kind = _node_type(tree)
        if kind is not self.type:
            raise ValueError(f"Node type mismatch; expected {self.type}, but got {type(tree)}.")
        children, context = SUPPORTED_NODES[kind].flatten_fn(tree)
        if kind is dict and context != self.context and set(context) == set(self.context):
            children, context = [tree[k] for k in self.context], self.context  # key order
        if len(children) != self.num_children:
            raise ValueError(f"Node arity mismatch; expected {self.num_children}, but got "
                             f"{len(children)}.")
        if context != self.context:
            raise ValueError(f"Node context mismatch for node type {self.type!r}; expected "
                             f"{self.context!r}, but got {context!r}.")
        for spec, child in zip(self.children_specs, children):
            spec._cut(child, out)

    def __eq__(self, other) -> bool:
        if not isinstance(other, TreeSpec):
            return NotImplemented
        return (self.type is other.type and self.context == other.context
                and self.children_specs == other.children_specs)

    def __hash__(self) -> int:
        ctx = self.context
        try:
            hash(ctx)
        except TypeError:
            ctx = repr(ctx)
        return hash((self.type, ctx, tuple(self.children_specs)))

    def __repr__(self, indent: int = 0) -> str:
        if self.type is None:
            return "*"
        name = getattr(self.type, "__name__", str(self.type))
        ctx = repr(self.context)
        pad = "\n" + " " * (indent + 2)
        kids = ("," + pad).join(c.__repr__(indent + 2) for c in self.children_specs)
        return f"TreeSpec({name}, {ctx}, [{kids}])"


def LeafSpec() -> TreeSpec:  # noqa: N802 - PyTorch's name
    """The spec of a single leaf."""
    return TreeSpec(None, None, [])


def treespec_leaf() -> TreeSpec:
    """The spec of a single leaf."""
    return LeafSpec()


# ---------------------------------------------------------------------------- flatten
def _flatten(tree, is_leaf, leaves: list, paths: list | None, path: tuple) -> TreeSpec:
    kind = None if is_leaf is not None and is_leaf(tree) else _node_type(tree)
    if kind is None:
        leaves.append(tree)
        if paths is not None:
            paths.append(path)
        return TreeSpec(None, None, [])
    node = SUPPORTED_NODES[kind]
    if paths is None:
        children, context = node.flatten_fn(tree)
        keys = [None] * len(children)
    else:
        if node.flatten_with_keys_fn is None:
            raise ValueError(f"Did not find a flatten_with_keys_fn for type: {kind}. Please "
                             "pass a flatten_with_keys_fn argument to register_pytree_node.")
        pairs, context = node.flatten_with_keys_fn(tree)
        keys = [k for k, _ in pairs]
        children = [c for _, c in pairs]
    specs = [_flatten(c, is_leaf, leaves, paths, path + (k,)) for c, k in zip(children, keys)]
    return TreeSpec(kind, context, specs)


def tree_flatten(tree: PyTree, is_leaf: Callable | None = None) -> tuple[list, TreeSpec]:
    """``(leaves, treespec)``: the leaves of ``tree`` in order, and its shape."""
    leaves: list = []
    spec = _flatten(tree, is_leaf, leaves, None, ())
    return leaves, spec


def tree_unflatten(leaves, treespec: TreeSpec) -> PyTree:
    """The pytree of shape ``treespec`` holding ``leaves``."""
    if not isinstance(treespec, TreeSpec):
        raise TypeError(f"tree_unflatten(leaves, treespec): Expected `treespec` to be instance "
                        f"of TreeSpec but got item of type {type(treespec)}.")
    return treespec.unflatten(leaves)


def tree_leaves(tree: PyTree, is_leaf: Callable | None = None) -> list:
    """The leaves of ``tree``, in order."""
    return tree_flatten(tree, is_leaf)[0]


def tree_iter(tree: PyTree, is_leaf: Callable | None = None):
    """An iterator over the leaves of ``tree``."""
    return iter(tree_leaves(tree, is_leaf))


def tree_structure(tree: PyTree, is_leaf: Callable | None = None) -> TreeSpec:
    """The ``TreeSpec`` of ``tree``."""
    return tree_flatten(tree, is_leaf)[1]


def tree_flatten_with_path(tree: PyTree, is_leaf: Callable | None = None):
    """``([(key_path, leaf), ...], treespec)``; a key path is a tuple of key entries."""
    leaves: list = []
    paths: list = []
    spec = _flatten(tree, is_leaf, leaves, paths, ())
    return list(zip(paths, leaves)), spec


def tree_leaves_with_path(tree: PyTree, is_leaf: Callable | None = None) -> list:
    """``[(key_path, leaf), ...]`` of ``tree``."""
    return tree_flatten_with_path(tree, is_leaf)[0]


# ---------------------------------------------------------------------------- map / test
def tree_map(func: Callable, tree: PyTree, *rests: PyTree, is_leaf: Callable | None = None):
    """``tree`` with each leaf ``x`` replaced by ``func(x, *matching leaves of rests)``; each
    of ``rests`` must have ``tree``'s shape (or a leaf where ``tree`` has one)."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [spec.flatten_up_to(r) for r in rests]
    return spec.unflatten([func(*xs) for xs in zip(leaves, *others)])


def tree_map_(func: Callable, tree: PyTree, *rests: PyTree, is_leaf: Callable | None = None):
    """Calls ``func`` on each leaf (for its side effects) and returns ``tree`` itself."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [spec.flatten_up_to(r) for r in rests]
    for xs in zip(leaves, *others):
        func(*xs)
    return tree


def tree_map_with_path(func: Callable, tree: PyTree, *rests: PyTree,
                       is_leaf: Callable | None = None):
    """Like ``tree_map``, with ``func(key_path, leaf, *rest_leaves)``."""
    pairs, spec = tree_flatten_with_path(tree, is_leaf)
    others = [spec.flatten_up_to(r) for r in rests]
    return spec.unflatten([func(kp, x, *xs) for (kp, x), *xs in zip(pairs, *others)])


def _only(types, func: Callable) -> Callable:
    if isinstance(types, tuple) and not types:
        return lambda x: x
    if isinstance(types, (type, tuple)):
        return lambda x: func(x) if isinstance(x, types) else x
    raise TypeError(f"tree_map_only: expected a type or a tuple of types, got {types!r}")


def tree_map_only(type_or_types, func: Callable, tree: PyTree,
                  is_leaf: Callable | None = None):
    """``tree_map`` applying ``func`` only to leaves of the given type(s)."""
    return tree_map(_only(type_or_types, func), tree, is_leaf=is_leaf)


def tree_map_only_(type_or_types, func: Callable, tree: PyTree,
                   is_leaf: Callable | None = None):
    """``tree_map_`` applying ``func`` only to leaves of the given type(s)."""
    return tree_map_(_only(type_or_types, func), tree, is_leaf=is_leaf)


def tree_all(pred: Callable, tree: PyTree, is_leaf: Callable | None = None) -> bool:
    """True when ``pred`` holds for every leaf."""
    return all(pred(x) for x in tree_leaves(tree, is_leaf))


def tree_any(pred: Callable, tree: PyTree, is_leaf: Callable | None = None) -> bool:
    """True when ``pred`` holds for some leaf."""
    return any(pred(x) for x in tree_leaves(tree, is_leaf))


def tree_all_only(type_or_types, pred: Callable, tree: PyTree,
                  is_leaf: Callable | None = None) -> bool:
    """``tree_all`` over the leaves of the given type(s) only."""
    return all(pred(x) for x in tree_leaves(tree, is_leaf) if isinstance(x, type_or_types))


def tree_any_only(type_or_types, pred: Callable, tree: PyTree,
                  is_leaf: Callable | None = None) -> bool:
    """``tree_any`` over the leaves of the given type(s) only."""
    return any(pred(x) for x in tree_leaves(tree, is_leaf) if isinstance(x, type_or_types))


# ---------------------------------------------------------------------------- text forms
def treespec_pprint(treespec: TreeSpec) -> str:
    """The spec drawn as the tree itself with ``*`` for each leaf, e.g. ``(*, {'a': *})``."""
    return repr(treespec.unflatten([_Star()] * treespec.num_leaves))


class _Star:
    def __repr__(self) -> str:
        return "*"


def _spec_to_obj(spec: TreeSpec) -> dict:
    if spec.type is None:
        return {"type": None, "context": None, "children_spec": []}
    node = SUPPORTED_NODES[spec.type]
    ctx = spec.context
    if spec.type is _NamedTupleNode:
        ctx = SUPPORTED_NODES[ctx].serialized_type_name if ctx in SUPPORTED_NODES else \
            f"{ctx.__module__}.{ctx.__qualname__}"
    return {"type": node.serialized_type_name, "context": json.dumps(ctx),
            "children_spec": [_spec_to_obj(c) for c in spec.children_specs]}


def treespec_dumps(treespec: TreeSpec, protocol: int | None = None) -> str:
    """The spec as a JSON string (``[protocol, tree]``); contexts must be JSON-able."""
    try:
        return json.dumps([1 if protocol is None else protocol, _spec_to_obj(treespec)])
    except TypeError as e:
        raise TypeError(f"treespec_dumps: a context of {treespec} cannot be written as JSON "
                        f"({e})") from None


def _obj_to_spec(obj: dict) -> TreeSpec:
    if obj["type"] is None:
        return TreeSpec(None, None, [])
    name = obj["type"]
    if name not in _BY_SERIALIZED_NAME:
        raise NotImplementedError(f"treespec_loads: no pytree node type is registered under "
                                  f"the name {name!r}")
    kind = _BY_SERIALIZED_NAME[name]
    ctx = json.loads(obj["context"])
    if kind is _NamedTupleNode:
        raise NotImplementedError("treespec_loads: namedtuple classes cannot be rebuilt from "
                                  f"their name ({ctx!r})")
    return TreeSpec(kind, ctx, [_obj_to_spec(c) for c in obj["children_spec"]])


def treespec_loads(serialized: str) -> TreeSpec:
    """The spec written by ``treespec_dumps``."""
    protocol, obj = json.loads(serialized)
    return _obj_to_spec(obj)
