"""Minimal pytrees for ``ember.func``: nested tuples, lists, namedtuples and dicts of leaves.

A spec is ``None`` for a leaf, or ``(kind, keys, children)`` for a container: ``kind`` is the
container's type, ``keys`` its dict keys (None for sequences), ``children`` the child specs.
"""

from __future__ import annotations

__all__ = ["tree_flatten", "tree_unflatten", "tree_map", "broadcast_prefix"]


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def tree_flatten(tree):
    """``(leaves, spec)``: the leaves of ``tree`` in order and a spec to rebuild it."""
    leaves: list = []

    def rec(t):
        if isinstance(t, (tuple, list)):
            return (type(t), None, tuple(rec(c) for c in t))
        if isinstance(t, dict):
            keys = tuple(t.keys())
            return (type(t), keys, tuple(rec(t[k]) for k in keys))
        leaves.append(t)
        return None

    spec = rec(tree)
    return leaves, spec


def tree_unflatten(leaves, spec):
    """Rebuilds the tree described by ``spec`` from ``leaves``."""
    it = iter(leaves)

    def rec(s):
        if s is None:
            return next(it)
        kind, keys, children = s
        vals = [rec(c) for c in children]
        if keys is not None:
            return kind(zip(keys, vals))
        if kind is tuple or kind is list:
            return kind(vals)
        if issubclass(kind, tuple) and hasattr(kind, "_fields"):
            return kind(*vals)
        return kind(vals)

    return rec(spec)


def tree_map(fn, tree):
    """``tree`` with every leaf ``x`` replaced by ``fn(x)``."""
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


def broadcast_prefix(prefix, tree, what: str = "in_dims"):
    """One value per leaf of ``tree``: ``prefix`` is a tree whose leaves (ints or None) apply
    to the whole matching subtree of ``tree``."""
    out: list = []

    def rec(p, t):
        if p is None or isinstance(p, int):
            out.extend([p] * len(tree_flatten(t)[0]))
            return
        if isinstance(p, (tuple, list)) and isinstance(t, (tuple, list)) and len(p) == len(t):
            for pc, tc in zip(p, t):
                rec(pc, tc)
            return
        if isinstance(p, dict) and isinstance(t, dict) and set(p) == set(t):
            for k in t:
                rec(p[k], t[k])
            return
        raise ValueError(f"vmap: {what} is not compatible with the structure of the "
                         f"inputs/outputs: got {what}={prefix!r}; each entry must be an int, "
                         "None, or a container with the same structure as the value it "
                         "applies to.")

    rec(prefix, tree)
    return out
