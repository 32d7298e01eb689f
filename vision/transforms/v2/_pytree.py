"""Flattening of nested samples (tuples, lists, dicts, named tuples) into a list of leaves
and back, so a transform sees every tensor and image of a sample at once."""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from typing import Any

__all__ = []


class _Spec:
    """How to rebuild one container: its kind, keys (dicts) and the specs of its
    children; a leaf has kind ``None``."""

    __slots__ = ("kind", "keys", "children", "factory")

    def __init__(self, kind=None, keys=None, children=(), factory=None):
        self.kind = kind
        self.keys = keys
        self.children = children
        self.factory = factory

    def num_leaves(self) -> int:
        if self.kind is None:
            return 1
        return sum(c.num_leaves() for c in self.children)


def _is_namedtuple(obj) -> bool:
    return isinstance(obj, tuple) and hasattr(type(obj), "_fields")


def tree_flatten(obj: Any) -> tuple[list, _Spec]:
    """Leaves of ``obj`` in depth-first order (dict values in insertion order) and the
    spec that rebuilds it with :func:`tree_unflatten`."""
    leaves: list = []
    return leaves, _flatten(obj, leaves)


def _flatten(obj: Any, leaves: list) -> _Spec:
    if isinstance(obj, dict):
        keys = list(obj.keys())
        children = tuple(_flatten(obj[k], leaves) for k in keys)
        if isinstance(obj, defaultdict):
            return _Spec("defaultdict", keys, children, obj.default_factory)
        kind = type(obj) if isinstance(obj, OrderedDict) else dict
        return _Spec(kind, keys, children)
    if _is_namedtuple(obj):
        return _Spec(type(obj), None, tuple(_flatten(v, leaves) for v in obj))
    if type(obj) in (tuple, list):
        return _Spec(type(obj), None, tuple(_flatten(v, leaves) for v in obj))
    leaves.append(obj)
    return _Spec()


def tree_unflatten(leaves: list, spec: _Spec) -> Any:
    """The inverse of :func:`tree_flatten`."""
    it = iter(leaves)
    return _build(spec, it)


def _build(spec: _Spec, it) -> Any:
    if spec.kind is None:
        return next(it)
    values = [_build(c, it) for c in spec.children]
    if spec.kind == "defaultdict":
        return defaultdict(spec.factory, zip(spec.keys, values))
    if spec.keys is not None:
        return spec.kind(zip(spec.keys, values))
    if spec.kind in (tuple, list):
        return spec.kind(values)
    return spec.kind(*values)  # named tuple
