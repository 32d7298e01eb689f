"""Runs a traced ``Graph`` on new inputs by applying its ops again, in order."""

from __future__ import annotations

from ._graph import ArrayRef, Graph
from ._tracer import flatten, unflatten

__all__ = ["run_graph"]


def _resolve(v, env):
    if isinstance(v, ArrayRef):
        return env[v.id]._data
    if isinstance(v, (tuple, list)):
        r = [_resolve(x, env) for x in v]
        return tuple(r) if isinstance(v, tuple) else r
    return v


def _attrs(node, env) -> dict:
    attrs = node.attrs
    if node.has_refs is None:
        node.has_refs = any(_has_ref(v) for v in attrs.values())
    if not node.has_refs:
        return attrs
    return {k: _resolve(v, env) for k, v in attrs.items()}


def _has_ref(v) -> bool:
    if isinstance(v, ArrayRef):
        return True
    return isinstance(v, (tuple, list)) and any(_has_ref(x) for x in v)


def run_graph(graph: Graph, args, constants: dict | None = None):
    """``graph`` applied to ``args`` (nested like the example inputs); ``constants`` (value
    id -> Tensor) replaces the graph's own constants where given."""
    if not isinstance(args, tuple):
        args = (args,)
    leaves, _ = flatten(args, "inputs")
    if len(leaves) != len(graph.inputs):
        raise RuntimeError(f"the traced graph takes {len(graph.inputs)} input tensors, got "
                           f"{len(leaves)}")
    env = dict(graph.constants)
    if constants:
        env.update(constants)
    for vid, t in zip(graph.inputs, leaves):
        want = graph.values[vid]
        if tuple(t.shape) != want.shape:
            raise RuntimeError(
                f"traced graph input '{want.name}' was traced with shape {list(want.shape)}, "
                f"got {list(t.shape)}; a trace replays the shapes it saw (trace again for "
                "other shapes)")
        env[vid] = t
    for node in graph.nodes:
        out = node.cls.apply(*[env[i] for i in node.inputs], **_attrs(node, env))
        if node.out_struct is None:
            env[node.outputs[0]] = out
        else:
            for vid, o in zip(node.outputs, out):
                env[vid] = o
    return unflatten([env[i] for i in graph.outputs], graph.output_spec)
