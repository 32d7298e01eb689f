"""The state of one ONNX export: the traced graph, the ONNX nodes and initializers built so
far, and helpers the op mappings call (``ctx.node``, ``ctx.const``, ``ctx.shape``...)."""

from __future__ import annotations

import numpy as np

__all__ = ["ExportContext", "register", "MAPPINGS"]

MAPPINGS: dict = {}  # ember op name -> fn(ctx, node, inputs) -> list of ONNX output names


def register(*names):
    """Declares ``fn(ctx, node, inputs)`` as the ONNX mapping of the ember ops ``names``;
    it returns the ONNX names of the node's outputs (or one name)."""
    def deco(fn):
        for n in names:
            MAPPINGS[n] = fn
        return fn
    return deco


class ExportContext:
    """Builds the ONNX graph for a traced ``Graph`` (see ``ember.onnx._export``)."""

    def __init__(self, onnx, graph, opset: int, dynamic: bool):
        self.onnx = onnx
        self.graph = graph
        self.opset = opset
        self.dynamic = dynamic  # some input axes are dynamic: emit shape-agnostic nodes
        self.nodes: list = []
        self.initializers: list = []
        self.names: dict = {}  # value id -> ONNX name
        self.folded: dict = {}  # value id -> Tensor (constants, folded values)
        self._used: set = set()
        self._counter = 0

    # -- values ----------------------------------------------------------------------------
    def shape(self, vid: int) -> tuple:
        """The traced shape of value ``vid``."""
        return self.graph.values[vid].shape

    def np_dtype(self, vid: int):
        """The numpy dtype of value ``vid``."""
        return np.dtype(self.graph.values[vid].dtype.np)

    def const_value(self, vid: int):
        """The numpy array of value ``vid`` when it is a constant, else None."""
        t = self.folded.get(vid)
        return None if t is None else np.asarray(t.detach().cpu()._data)

    def fresh(self, hint: str) -> str:
        """A new unique ONNX value name."""
        self._counter += 1
        return f"/{hint}_{self._counter}"

    # -- building --------------------------------------------------------------------------
    def node(self, op_type: str, inputs, outputs=None, n_out: int = 1, **attrs):
        """Adds an ONNX node; returns its output name (or the list of names when
        ``n_out`` > 1 or ``outputs`` is a list)."""
        if outputs is None:
            outputs = [self.fresh(op_type) for _ in range(n_out)]
        elif isinstance(outputs, str):
            outputs = [outputs]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(self.onnx.helper.make_node(
            op_type, list(inputs), list(outputs), name=f"/{op_type}_{len(self.nodes)}",
            **attrs))
        return outputs[0] if len(outputs) == 1 and n_out == 1 else outputs

    def const(self, value, dtype=None, hint: str = "const") -> str:
        """An initializer holding ``value`` (array-like); returns its name."""
        arr = np.asarray(value, dtype=dtype)
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(arr, name))
        return name

    def ints(self, values) -> str:
        """A 1-D int64 initializer (shapes, axes, starts...)."""
        return self.const(np.asarray(list(values), dtype=np.int64), hint="ints")

    def cast(self, name: str, src, dst) -> str:
        """``name`` cast from numpy dtype ``src`` to ``dst`` (no node when they agree)."""
        if np.dtype(src) == np.dtype(dst):
            return name
        return self.node("Cast", [name], to=self.onnx_type(dst))

    def onnx_type(self, np_dtype) -> int:
        """The ONNX ``TensorProto`` element type of a numpy dtype."""
        return self.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(np_dtype))

    def input(self, node, i: int) -> str:
        """The ONNX name of input ``i`` of ``node``."""
        return self.name_of(node.inputs[i])

    def name_of(self, vid: int) -> str:
        """The ONNX name of value ``vid``, adding the initializer of a constant on first
        use."""
        name = self.names[vid]
        if vid in self.folded and vid not in self._used:
            self._used.add(vid)
            arr = np.asarray(self.folded[vid].detach().cpu()._data)
            self.initializers.append(self.onnx.numpy_helper.from_array(arr, name))
        return name

    def _array_of(self, v):
        from ..jit._graph import ArrayRef

        return (None, v.id) if isinstance(v, ArrayRef) else (np.asarray(v), None)

    def array_ndim(self, v) -> int:
        """The rank of an array attribute (an array or an ``ArrayRef``)."""
        arr, vid = self._array_of(v)
        return arr.ndim if vid is None else len(self.shape(vid))

    def index_array(self, v, dtype=np.int64):
        """The ONNX name of an integer index attribute (an array, or the ``ArrayRef`` of a
        traced tensor), cast to ``dtype``; None for a boolean mask."""
        arr, vid = self._array_of(v)
        if vid is None:
            if arr.dtype == bool:
                return None
            return self.const(arr.astype(dtype), hint="index")
        src = self.np_dtype(vid)
        if src == np.bool_:
            return None
        return self.cast(self.name_of(vid), src, dtype)

    def array_attr(self, node, key: str, dtype=np.int64) -> str:
        """``index_array`` of attribute ``key`` of ``node``, raising for a mask."""
        r = self.index_array(node.attrs[key], dtype)
        if r is None:
            raise NotImplementedError(f"{node.op} with a boolean '{key}'")
        return r

    def reshape_shape(self, in_shape, out_shape) -> list:
        """The ``Reshape`` target for ``in_shape`` -> ``out_shape``: the traced shape, or,
        when some axes are dynamic, ``0`` (copy) for leading dims that keep their size and
        ``-1`` for the first dim after them, so a different batch size still fits."""
        out = list(out_shape)
        if not self.dynamic or not out:
            return out
        k = 0
        while k < min(len(in_shape), len(out)) and in_shape[k] == out[k]:
            k += 1
        res = [0] * k + out[k:]
        if k < len(res) and -1 not in res:
            res[k] = -1
        return res
