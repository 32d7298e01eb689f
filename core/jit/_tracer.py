"""Records a ``Graph`` by running a function once on example inputs.

While a ``Tracer`` is active, ``ember.ops.op.apply`` hands every op to ``Tracer.record``
(one ``is not None`` test on the op path otherwise), and in-place ops commit through
``commit_inplace``, which calls ``Tracer.rebind``. A tensor the traced code uses without
computing it through an op is a constant of the graph: a parameter or buffer (named after
it when the module is known), or any other tensor (frozen at its traced value).

Tracing sees ops, not Python: control flow, Python numbers read from tensors
(``.item()``, ``.tolist()``, shapes) and tensors built from plain arrays are frozen at the
values of the example inputs, as with ``torch.jit.trace``.
"""

from __future__ import annotations

import warnings

from .._tensor import Tensor
from ..ops import op as _op
from ._graph import ArrayRef, Graph, GraphNode

__all__ = ["Tracer", "TracingError", "TracerWarning", "trace_graph", "is_tracing", "flatten",
           "unflatten"]


class TracingError(RuntimeError):
    """Raised when a program cannot be recorded as a graph."""


class TracerWarning(UserWarning):
    """A traced program did something the graph records as a constant."""


def is_tracing() -> bool:
    """True while ember is recording a graph (``ember.jit.trace``, ``ember.onnx.export``)."""
    return _op._TRACER is not None


class Tracer:
    """Maps the tensors a traced program touches to values of ``graph``."""

    def __init__(self, graph: Graph, names: dict | None = None):
        self.graph = graph
        self.names = names or {}  # id(tensor) -> qualified name of parameters and buffers
        self._by_tensor: dict = {}  # id(Tensor) -> value id
        self._by_array: dict = {}  # id(array) -> value id (aliases such as .detach())
        self._keep: list = []  # keeps traced objects alive, so their ids stay unique
        self._consts = 0

    def bind_input(self, t: Tensor, name: str) -> int:
        """Makes tensor ``t`` a graph input."""
        v = self.graph.add_value("input", t.shape, t.dtype, name)
        self.graph.inputs.append(v.id)
        self._bind(t, v.id)
        return v.id

    def value_of(self, t: Tensor) -> int:
        """The value of tensor ``t``, adding it as a constant if it is new."""
        vid = self._by_tensor.get(id(t))
        if vid is None:
            vid = self._by_array.get(id(t._data))
            if vid is None:
                name = self.names.get(id(t))
                if name is None:
                    name = f"const_{self._consts}"
                    self._consts += 1
                vid = self.graph.add_value("const", t.shape, t.dtype, name).id
                self.graph.constants[vid] = t
            self._bind(t, vid)
        return vid

    def _bind(self, t: Tensor, vid: int) -> None:
        self._by_tensor[id(t)] = vid
        self._by_array[id(t._data)] = vid
        self._keep.append(t)

    def record(self, cls, inputs, attrs, run):
        """Runs op ``cls`` through ``run`` and records it as a node."""
        in_ids = [self.value_of(t) for t in inputs]
        out = run(cls, inputs, attrs)
        outs = out if isinstance(out, tuple) else (out,)
        g = self.graph
        out_ids = []
        for o in outs:
            v = g.add_value("op", o.shape, o.dtype, f"{len(g.values)}")
            self._bind(o, v.id)
            out_ids.append(v.id)
        g.nodes.append(GraphNode(cls._name, cls, self._link(cls, attrs), in_ids, out_ids,
                                 len(outs) if isinstance(out, tuple) else None))
        return out

    def _link(self, cls, attrs) -> dict:
        """A copy of ``attrs`` where arrays of traced tensors are ``ArrayRef``s."""
        return {k: self._link_one(cls, k, v) for k, v in attrs.items()}

    def _link_one(self, cls, key, v):
        if isinstance(v, (tuple, list)):
            r = [self._link_one(cls, key, x) for x in v]
            return tuple(r) if isinstance(v, tuple) else r
        if hasattr(v, "__array__") and hasattr(v, "dtype") and hasattr(v, "shape") and \
                not isinstance(v, Tensor):
            vid = self._by_array.get(id(v))
            if vid is not None:
                return ArrayRef(vid)
            if getattr(v, "size", 0) > 1:
                warnings.warn(
                    f"ember.jit.trace: op '{cls._name}' got an array for '{key}' that no traced "
                    "op computed; the graph keeps its traced value as a constant",
                    TracerWarning, stacklevel=4)
        return v

    def rebind(self, t: Tensor, result: Tensor) -> None:
        """``t`` now holds ``result``'s value (an in-place op committed it)."""
        if t._base is not None and id(t._base) in self._by_tensor:
            raise TracingError(
                "ember.jit.trace: an in-place op on a view of a traced tensor can't be "
                "recorded (its base changes too); write it out of place (y = x.op(...))")
        self._bind(t, self.value_of(result))

    def __enter__(self):
        if _op._TRACER is not None:
            raise TracingError("ember.jit.trace: a trace is already running (traces don't nest)")
        _op._TRACER = self
        return self

    def __exit__(self, *exc):
        _op._TRACER = None


def flatten(obj, what: str):
    """The tensors of a nest of tuples/lists/dicts, and a spec to rebuild it."""
    if isinstance(obj, Tensor):
        return [obj], None
    if isinstance(obj, (tuple, list)):
        leaves, specs = [], []
        for x in obj:
            lv, s = flatten(x, what)
            leaves += lv
            specs.append((len(lv), s))
        return leaves, ("tuple" if isinstance(obj, tuple) else "list", specs)
    if isinstance(obj, dict):
        leaves, specs = [], []
        for k, x in obj.items():
            lv, s = flatten(x, what)
            leaves += lv
            specs.append((k, len(lv), s))
        return leaves, ("dict", specs)
    if obj is None:
        return [], ("none",)
    raise TracingError(f"ember.jit.trace: {what} must be tensors or tuples, lists and dicts "
                       f"of tensors, got {type(obj).__name__}")


def unflatten(leaves, spec):
    """Rebuilds the nest that ``flatten`` described from its tensors."""
    if spec is None:
        return leaves[0]
    kind = spec[0]
    if kind == "none":
        return None
    out, pos = [], 0
    if kind == "dict":
        d = {}
        for k, n, s in spec[1]:
            d[k] = unflatten(leaves[pos:pos + n], s)
            pos += n
        return d
    for n, s in spec[1]:
        out.append(unflatten(leaves[pos:pos + n], s))
        pos += n
    return tuple(out) if kind == "tuple" else out


def _param_names(fn) -> dict:
    names = {}
    if not hasattr(fn, "named_parameters"):
        fn = getattr(fn, "__self__", None)  # a bound method of a module
    if hasattr(fn, "named_parameters") and hasattr(fn, "named_buffers"):
        for n, p in fn.named_parameters(remove_duplicate=False):
            names.setdefault(id(p), n)
        for n, b in fn.named_buffers(remove_duplicate=False):
            if b is not None:
                names.setdefault(id(b), n)
    return names


def trace_graph(fn, args, kwargs=None, input_names=None) -> tuple:
    """Runs ``fn(*args, **kwargs)`` once and returns ``(graph, outputs)``. The graph's
    inputs are the tensors of ``args`` (flattened), its outputs those of the result."""
    if not isinstance(args, tuple):
        args = (args,)
    graph = Graph()
    tracer = Tracer(graph, _param_names(fn))
    leaves, graph.input_spec = flatten(args, "example inputs")
    for i, t in enumerate(leaves):
        name = input_names[i] if input_names and i < len(input_names) else f"input_{i}"
        tracer.bind_input(t, name)
    with tracer:
        out = fn(*args, **(kwargs or {}))
    outs, graph.output_spec = flatten(out, "traced outputs")
    graph.outputs = [tracer.value_of(t) for t in outs]
    return graph, out
