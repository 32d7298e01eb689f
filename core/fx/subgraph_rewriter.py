"""``replace_pattern``: find every occurrence of a small graph in a ``GraphModule`` and
replace it with another, as ``torch.fx.subgraph_rewriter``.

The pattern and its replacement are functions (or GraphModules) with the same inputs. The
pattern's placeholders match any value; its other nodes match nodes with the same opcode,
target and arguments. An occurrence is replaced only when none of its inner values is used
outside it. Matches don't overlap; they are found in program order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from .graph import Graph
from .graph_module import GraphModule
from .node import Node, map_arg

__all__ = ["Match", "replace_pattern"]


class Match(NamedTuple):
    """One replaced occurrence: ``anchor`` is the pattern's output node, ``nodes_map``
    maps each pattern node to the graph node it matched."""

    anchor: Node
    nodes_map: dict[Node, Node]


def _as_graph(fn_or_gm) -> Graph:
    if isinstance(fn_or_gm, GraphModule):
        return fn_or_gm.graph
    from ._symbolic_trace import symbolic_trace

    return symbolic_trace(fn_or_gm).graph


def _returned_nodes(graph: Graph) -> tuple[list[Node], Node]:
    out = next(n for n in reversed(graph.nodes) if n.op == "output")
    value = out.args[0]
    values = list(value) if isinstance(value, (tuple, list)) else [value]
    return values, out


class _Matcher:
    """Matches the pattern graph backwards from its returned value(s)."""

    def __init__(self, pattern: Graph) -> None:
        self.pattern = pattern
        self.returns, _ = _returned_nodes(pattern)
        self.placeholders = [n for n in pattern.nodes if n.op == "placeholder"]

    def match_at(self, anchors: list[Node]) -> dict | None:
        mapping: dict = {}
        for p, g in zip(self.returns, anchors):
            if not self._match_value(p, g, mapping):
                return None
        inner = {id(g) for p, g in mapping.items()
                 if isinstance(p, Node) and p.op != "placeholder"}
        returned = {id(mapping[p]) for p in self.returns}
        for p, g in mapping.items():
            if not isinstance(p, Node) or p.op == "placeholder" or id(g) in returned:
                continue
            if any(id(u) not in inner for u in g.users):
                return None  # an inner value is used outside the occurrence
        return mapping

    def _match_value(self, p, g, mapping: dict) -> bool:
        if isinstance(p, Node):
            if p in mapping:
                return mapping[p] is g if isinstance(g, Node) else mapping[p] == g
            if p.op == "placeholder":
                mapping[p] = g
                return True
            if not isinstance(g, Node) or g.op != p.op or g.target != p.target:
                return False
            if len(g.args) != len(p.args) or set(g.kwargs) != set(p.kwargs):
                return False
            mapping[p] = g
            ok = all(self._match_value(pa, ga, mapping) for pa, ga in zip(p.args, g.args)) and \
                all(self._match_value(p.kwargs[k], g.kwargs[k], mapping) for k in p.kwargs)
            if not ok:
                del mapping[p]
            return ok
        if isinstance(p, (tuple, list)):
            return isinstance(g, (tuple, list)) and len(p) == len(g) and \
                all(self._match_value(a, b, mapping) for a, b in zip(p, g))
        if isinstance(p, dict):
            return isinstance(g, dict) and p.keys() == g.keys() and \
                all(self._match_value(p[k], g[k], mapping) for k in p)
        return not isinstance(g, Node) and type(p) is type(g) and p == g


def replace_pattern(gm: GraphModule, pattern: Callable | GraphModule,
                    replacement: Callable | GraphModule) -> list[Match]:
    """Replaces each occurrence of ``pattern`` in ``gm`` with ``replacement`` (see the
    module docstring), recompiles ``gm`` and returns the matches."""
    pattern_graph = _as_graph(pattern)
    replacement_graph = _as_graph(replacement)
    matcher = _Matcher(pattern_graph)
    n_returns = len(matcher.returns)
    graph = gm.graph
    used: set = set()
    matches: list[Match] = []
    for node in list(graph.nodes):
        if node.op in ("placeholder", "output") or id(node) in used or node._erased:
            continue
        if n_returns != 1:
            continue_multi = _multi_anchor(node, matcher, used)
            if continue_multi is None:
                continue
            anchors, mapping = continue_multi
        else:
            anchors = [node]
            mapping = matcher.match_at(anchors)
            if mapping is None:
                continue
        inner = [g for p, g in mapping.items() if isinstance(p, Node) and p.op != "placeholder"]
        if any(id(g) in used for g in inner):
            continue
        used.update(id(g) for g in inner)
        matches.append(Match(anchor=anchors[-1], nodes_map=dict(mapping)))
        _substitute(graph, matcher, replacement_graph, mapping, anchors, inner)
    gm.recompile()
    return matches


def _multi_anchor(node: Node, matcher: _Matcher, used: set):
    """Matches a pattern that returns several values, with ``node`` as its last one."""
    mapping: dict = {}
    last = matcher.returns[-1]
    if not matcher._match_value(last, node, mapping):
        return None
    anchors = []
    for p in matcher.returns:
        g = mapping.get(p)
        if g is None:
            return None
        anchors.append(g)
    mapping = matcher.match_at(anchors)
    return None if mapping is None else (anchors, mapping)


def _substitute(graph: Graph, matcher: _Matcher, replacement: Graph, mapping: dict,
                anchors: list[Node], inner: list[Node]) -> None:
    inputs = [n for n in replacement.nodes if n.op == "placeholder"]
    if len(inputs) != len(matcher.placeholders):
        raise ValueError("replace_pattern: the pattern and the replacement must take the same "
                         "number of inputs")
    val_map: dict = {r: mapping[p] for r, p in zip(inputs, matcher.placeholders)}
    first = min(anchors, key=lambda a: _position(graph, a))
    with graph.inserting_before(first):
        for n in replacement.nodes:
            if n.op == "placeholder":
                continue
            if n.op == "output":
                value = map_arg(n.args[0], lambda x: val_map[x])
                break
            val_map[n] = graph.node_copy(n, lambda x: val_map[x])
    values = list(value) if isinstance(value, (tuple, list)) else [value]
    for old, new in zip(anchors, values):
        if isinstance(new, Node):
            old.replace_all_uses_with(new)
    for g in sorted(inner, key=lambda n: _position(graph, n), reverse=True):
        if not g.users:
            graph.erase_node(g)


def _position(graph: Graph, node: Node) -> int:
    for i, n in enumerate(graph.nodes):
        if n is node:
            return i
    return -1
