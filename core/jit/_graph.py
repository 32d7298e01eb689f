"""The traced graph: what ``ember.jit.trace`` records and ``ember.onnx.export`` maps.

A ``Graph`` is a straight-line program over numbered values. Each value is a graph input,
a constant (a parameter, a buffer, or any other tensor the traced code used without
computing it through an op) or an output of one ``GraphNode``. A node names its op by the
op's stable ``_name`` and holds the op class and the keyword attributes the op was applied
with, so running the node again means ``op_class.apply(*inputs, **attrs)``.
"""

from __future__ import annotations

__all__ = ["ArrayRef", "Graph", "GraphNode", "Value"]


class ArrayRef:
    """An op attribute that is the array of graph value ``id`` (``Embedding``'s ``idx`` is
    its index tensor's array): replaying the node passes that value's array in its place."""

    __slots__ = ("id",)

    def __init__(self, id: int):
        self.id = id

    def __repr__(self) -> str:
        return f"%{self.id}"


class Value:
    """One value of a graph: its number, kind (``"input"``, ``"const"`` or ``"op"``),
    shape and dtype (as seen while tracing) and a readable name."""

    __slots__ = ("id", "kind", "shape", "dtype", "name")

    def __init__(self, id: int, kind: str, shape: tuple, dtype, name: str):
        self.id = id
        self.kind = kind
        self.shape = tuple(shape)
        self.dtype = dtype
        self.name = name

    def __repr__(self) -> str:
        return f"%{self.name} : {_dtype_str(self.dtype)}{list(self.shape)}"


class GraphNode:
    """One op application: ``outputs = op(*inputs, **attrs)`` (values by number).
    ``out_struct`` is ``None`` when the op returned a single tensor, else the number of
    tensors it returned as a tuple."""

    __slots__ = ("op", "cls", "attrs", "inputs", "outputs", "out_struct", "has_refs")

    def __init__(self, op: str, cls, attrs: dict, inputs: list, outputs: list, out_struct):
        self.op = op
        self.cls = cls
        self.attrs = attrs
        self.inputs = inputs
        self.outputs = outputs
        self.out_struct = out_struct
        self.has_refs = None  # whether attrs hold ArrayRefs (found on first replay)

    def __repr__(self) -> str:
        return f"GraphNode({self.op}, inputs={self.inputs}, outputs={self.outputs})"


class Graph:
    """A traced program: ``inputs`` and ``outputs`` (lists of value numbers), ``nodes`` in
    execution order, ``values`` (number -> ``Value``) and ``constants`` (number -> Tensor).
    ``output_spec`` describes how the flat outputs nest (see ``_flatten``)."""

    def __init__(self):
        self.values: dict = {}
        self.nodes: list = []
        self.inputs: list = []
        self.outputs: list = []
        self.constants: dict = {}
        self.output_spec = None

    def add_value(self, kind: str, shape, dtype, name: str | None = None) -> Value:
        """Adds a new value and returns it."""
        vid = len(self.values)
        v = Value(vid, kind, shape, dtype, name or str(vid))
        self.values[vid] = v
        return v

    def __str__(self) -> str:
        vals = self.values
        ins = ", ".join(repr(vals[i]) for i in self.inputs)
        lines = [f"graph({ins}):"]
        for vid in self.constants:
            lines.append(f"  {vals[vid]!r} = constant()")
        for n in self.nodes:
            outs = ", ".join(repr(vals[o]) for o in n.outputs)
            args = ", ".join(f"%{vals[i].name}" for i in n.inputs)
            attrs = ", ".join(f"{k}={_attr_str(v, vals)}" for k, v in n.attrs.items())
            sep = ", " if args and attrs else ""
            lines.append(f"  {outs} = {n.op}({args}{sep}{attrs})")
        lines.append("  return (" + ", ".join(f"%{vals[o].name}" for o in self.outputs) + ")")
        return "\n".join(lines)

    __repr__ = __str__


def _dtype_str(dtype) -> str:
    s = str(dtype)
    return s[len("torch."):] if s.startswith("torch.") else s


def _attr_str(v, vals) -> str:
    if isinstance(v, ArrayRef):
        return f"%{vals[v.id].name}"
    if hasattr(v, "shape") and hasattr(v, "dtype") and not isinstance(v, (int, float)):
        return f"array{list(v.shape)}"
    s = repr(v)
    return s if len(s) <= 60 else s[:57] + "..."
