"""``ember.onnx.export``: traces a model and writes it as an ONNX ``ModelProto``.

The model runs once on ``args`` under the ember tracer (``ember.jit._tracer``), in eval
mode and without autograd. Nodes whose inputs are all constants (batch norm's folded
statistics, transposed weights) are computed by ember and stored as initializers; dead
nodes are dropped; each remaining op goes through its mapping in ``_ops_nn``,
``_ops_tensor``, ``_ops_rnn`` or ``_ops_more``. An op without a mapping raises
``OnnxExporterError`` naming it before anything is written, and the file is written
atomically after ``onnx.checker`` accepts it.
"""

from __future__ import annotations

import os

from . import _ops_more, _ops_nn, _ops_rnn, _ops_tensor  # noqa: F401 - op mappings
from ._context import MAPPINGS, ExportContext

__all__ = ["export", "OnnxExporterError", "is_in_onnx_export", "DEFAULT_OPSET", "ONNXProgram"]

DEFAULT_OPSET = 17
_IR_FOR_OPSET = {13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10}
_NO_FOLD = {"sample", "dropout", "bernoulli", "multinomial"}  # random: never folded
_EXPORTING = [False]


class OnnxExporterError(RuntimeError):
    """Raised when a model cannot be exported to ONNX."""


def is_in_onnx_export() -> bool:
    """True while ``ember.onnx.export`` runs the model."""
    return _EXPORTING[0]


def _require_onnx():
    try:
        import onnx
    except ImportError as exc:
        raise ImportError("ember.onnx.export needs the onnx package: pip install "
                          "ember[onnx]") from exc
    return onnx


def export(model, args=(), f=None, *, kwargs=None, input_names=None, output_names=None,
           opset_version=None, dynamic_axes=None, export_params: bool = True,
           do_constant_folding: bool = True, verbose=False, dynamo: bool = True,
           dynamic_shapes=None, training=None, keep_initializers_as_inputs=None, **ignored):
    """Exports ``model`` (a module or function) run on ``args`` to the ONNX file ``f`` (a
    path or a binary file object), with ember's tracer whichever exporter ``dynamo``
    names. As in PyTorch, ``dynamo=True`` (the default) returns an ``ONNXProgram`` (and
    ``f`` may then be left out: ``program.save(path)`` writes it), ``dynamo=False``
    returns None.

    The model is traced (control flow frozen at the example's path) in eval mode.
    ``dynamic_axes`` maps input/output names to the axes (a list, or a dict axis -> name)
    that may change size; reshapes and expands keep the dims they pass through so that a
    different batch size still runs. ``dynamic_shapes`` (``torch.export``'s form: per
    positional input, by position or by ``forward``'s parameter name, a dict or list of
    ``Dim``/name/``None`` per axis) is turned into ``dynamic_axes`` of those inputs.
    ``export_params=False`` makes the parameters graph inputs instead of initializers.
    Default opset: 17 (13 to 21 are accepted).
    """
    onnx = _require_onnx()
    from ..jit._tracer import trace_graph
    from ..nn.modules.module import Module

    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if opset not in _IR_FOR_OPSET:
        raise OnnxExporterError(f"ember.onnx.export supports opset versions 13 to 21, got "
                                f"{opset}")
    if f is None and not dynamo:
        raise ValueError("ember.onnx.export needs a destination f (a path or a file)")
    args, kwargs = _split_args(args, kwargs)
    if dynamic_shapes is not None:
        if dynamic_axes:
            raise OnnxExporterError("ember.onnx.export: give dynamic_shapes or dynamic_axes, "
                                    "not both")
        dynamic_axes = _axes_from_shapes(model, args, dynamic_shapes, input_names)
    modes = [(m, m.training) for m in model.modules()] if isinstance(model, Module) else []
    from ..autograd.grad_mode import no_grad

    try:
        if isinstance(model, Module) and training is not True and \
                str(training) != "TrainingMode.TRAINING":
            model.eval()
        _EXPORTING[0] = True
        with no_grad():
            graph, _ = trace_graph(model, args, kwargs, input_names)
    finally:
        _EXPORTING[0] = False
        for m, mode in modes:
            m.training = mode
    model_proto = _build(onnx, graph, opset, input_names, output_names, dynamic_axes or {},
                         export_params, do_constant_folding)
    if verbose:
        print(onnx.helper.printable_graph(model_proto.graph))
    onnx.checker.check_model(model_proto)
    if f is not None:
        _write(model_proto, f)
    return ONNXProgram(model_proto) if dynamo else None


def _write(model_proto, f) -> None:
    data = model_proto.SerializeToString()
    if isinstance(f, (str, os.PathLike)):
        from ..serialization._atomic import atomic_open

        with atomic_open(f) as fh:
            fh.write(data)
    else:
        f.write(data)


class ONNXProgram:
    """What ``export(..., dynamo=True)`` returns: the exported ``model_proto``, ``save``
    to write it, and calling it to run it with onnxruntime (a list of tensors)."""

    def __init__(self, model_proto):
        self.model_proto = model_proto
        self._session = None

    def save(self, destination, *, include_initializers: bool = True,
             keep_initializers_as_inputs: bool = False, external_data=None) -> None:
        """Writes the model to ``destination`` (a path or a binary file object)."""
        proto = self.model_proto
        if not include_initializers:
            proto = type(proto)()
            proto.CopyFrom(self.model_proto)
            del proto.graph.initializer[:]
        _write(proto, destination)

    def optimize(self) -> None:
        """A no-op: ember folds constants while exporting."""

    def initialize_inference_session(self, initializer=None) -> None:
        """Creates the onnxruntime session that calls use."""
        import onnxruntime

        if initializer is not None:
            self._session = initializer(self.model_proto.SerializeToString())
        else:
            self._session = onnxruntime.InferenceSession(
                self.model_proto.SerializeToString(), providers=["CPUExecutionProvider"])

    def release(self) -> None:
        """Drops the onnxruntime session."""
        self._session = None

    def __call__(self, *args, **kwargs) -> list:
        """Runs the model on ``args`` (tensors, flattened in order) with onnxruntime."""
        import numpy as np

        from .._tensor import Tensor
        from ..jit._tracer import flatten

        if self._session is None:
            self.initialize_inference_session()
        leaves, _ = flatten(args, "inputs")
        feed = {i.name: np.asarray(t.detach().cpu().numpy())
                for i, t in zip(self._session.get_inputs(), leaves)}
        return [Tensor._make(np.ascontiguousarray(o)) for o in self._session.run(None, feed)]

    def __repr__(self) -> str:
        return f"ONNXProgram(model_proto=<{len(self.model_proto.graph.node)} nodes>)"


def _axes_from_shapes(model, args, dynamic_shapes, input_names) -> dict:
    """``dynamic_axes`` (by input name) from a ``dynamic_shapes`` spec over the positional
    tensor inputs ``args``."""
    import inspect

    from .._tensor import Tensor

    if not all(isinstance(a, Tensor) for a in args):
        raise OnnxExporterError("ember.onnx.export: dynamic_shapes is supported for tensor "
                                "arguments only; use dynamic_axes with input_names")
    if isinstance(dynamic_shapes, dict):
        try:
            params = [p for p in inspect.signature(
                model.forward if hasattr(model, "forward") else model).parameters]
        except (TypeError, ValueError):
            params = []
        unknown = set(dynamic_shapes) - set(params[:len(args)])
        if unknown:
            raise OnnxExporterError(f"ember.onnx.export: dynamic_shapes names {sorted(unknown)}"
                                    f", which are not among the inputs {params[:len(args)]}")
        specs = [dynamic_shapes.get(p) for p in params[:len(args)]]
    else:
        specs = list(dynamic_shapes)
    axes = {}
    for i, spec in enumerate(specs):
        name = input_names[i] if input_names and i < len(input_names) else f"input_{i}"
        items = spec.items() if isinstance(spec, dict) else enumerate(spec or ())
        dims = {}
        for axis, dim in items:
            if dim is None or getattr(dim, "type", None) == "STATIC":
                continue
            dims[int(axis)] = dim if isinstance(dim, str) else getattr(dim, "__name__", None)
        if dims:
            axes[name] = dims
    return axes


def _split_args(args, kwargs):
    from .._tensor import Tensor

    if isinstance(args, Tensor):
        return (args,), kwargs
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    if args and isinstance(args[-1], dict) and kwargs is None:
        return args[:-1], args[-1]
    return args, kwargs


def _resolve_refs(v, env):
    from ..jit._graph import ArrayRef

    if isinstance(v, ArrayRef):
        t = env.get(v.id)
        if t is None:
            raise KeyError(v.id)
        return t._data
    if isinstance(v, (tuple, list)):
        r = [_resolve_refs(x, env) for x in v]
        return tuple(r) if isinstance(v, tuple) else r
    return v


def _fold(graph, foldable: dict, enabled: bool) -> set:
    """Computes the nodes whose inputs are all constants; returns the folded nodes' ids."""
    done = set()
    if not enabled:
        return done
    for node in graph.nodes:
        if node.op in _NO_FOLD or not all(i in foldable for i in node.inputs):
            continue
        try:
            attrs = {k: _resolve_refs(v, foldable) for k, v in node.attrs.items()}
        except KeyError:
            continue  # an array attribute comes from a graph input
        out = node.cls.apply(*[foldable[i] for i in node.inputs], **attrs)
        outs = out if node.out_struct is not None else (out,)
        for vid, o in zip(node.outputs, outs):
            foldable[vid] = o
        done.add(id(node))
    return done


def _live_nodes(graph, folded: set) -> list:
    from ..jit._graph import ArrayRef

    need = set(graph.outputs)
    live = []
    for node in reversed(graph.nodes):
        if id(node) in folded or not any(o in need for o in node.outputs):
            continue
        live.append(node)
        need.update(node.inputs)

        def refs(v):
            if isinstance(v, ArrayRef):
                need.add(v.id)
            elif isinstance(v, (tuple, list)):
                for x in v:
                    refs(x)
        for v in node.attrs.values():
            refs(v)
    live.reverse()
    return live, need


def _dims(shape, axes, what):
    dims = list(shape)
    if isinstance(axes, dict):
        items = axes.items()
    else:
        items = ((a, None) for a in axes)
    for a, name in items:
        a = int(a)
        if not -len(dims) <= a < len(dims):
            raise OnnxExporterError(f"dynamic_axes: axis {a} is out of range for {what} of "
                                    f"rank {len(dims)}")
        dims[a] = str(name) if name is not None else f"{what}_dynamic_axes_{a % len(dims) + 1}"
    return dims


def _build(onnx, graph, opset, input_names, output_names, dynamic_axes, export_params,
           do_constant_folding):
    helper = onnx.helper
    in_names = [graph.values[v].name for v in graph.inputs]
    out_names = list(output_names or [])
    out_names += [f"output_{i}" if len(graph.outputs) > 1 or i else "output"
                  for i in range(len(out_names), len(graph.outputs))]
    out_names = out_names[:len(graph.outputs)]
    unknown = set(dynamic_axes) - set(in_names) - set(out_names)
    if unknown:
        raise OnnxExporterError(f"dynamic_axes names {sorted(unknown)} that are neither "
                                f"inputs {in_names} nor outputs {out_names}")
    ctx = ExportContext(onnx, graph, opset, dynamic=bool(dynamic_axes))
    param_inputs = []
    for vid, t in graph.constants.items():
        name = graph.values[vid].name
        ctx.names[vid] = name
        if not export_params and not name.startswith("const_"):
            param_inputs.append(vid)
        else:
            ctx.folded[vid] = t
    for vid, name in zip(graph.inputs, in_names):
        ctx.names[vid] = name
    folded = _fold(graph, ctx.folded, do_constant_folding)
    live, _ = _live_nodes(graph, folded)
    missing = sorted({n.op for n in live if n.op not in MAPPINGS})
    if missing:
        raise OnnxExporterError(
            f"ember.onnx.export: no ONNX mapping for op(s) {', '.join(missing)} (opset "
            f"{opset}); nothing was written")
    for vid in ctx.folded:
        if vid not in ctx.names:
            ctx.names[vid] = f"/folded_{vid}"
    for node in live:
        ins = [ctx.name_of(i) for i in node.inputs]
        try:
            res = MAPPINGS[node.op](ctx, node, ins)
        except NotImplementedError as exc:
            raise OnnxExporterError(f"ember.onnx.export: op '{node.op}' can't be exported "
                                    f"as used here: {exc}; nothing was written") from None
        res = res if isinstance(res, list) else [res]
        for vid, name in zip(node.outputs, res):
            ctx.names[vid] = name
    _name_outputs(ctx, graph, out_names)
    _drop_unused_initializers(ctx)

    def info(vid, name):
        v = graph.values[vid]
        shape = _dims(v.shape, dynamic_axes[name], name) if name in dynamic_axes else \
            list(v.shape)
        return helper.make_tensor_value_info(name, ctx.onnx_type(v.dtype.np), shape)

    inputs = [info(v, n) for v, n in zip(graph.inputs, in_names)]
    inputs += [info(v, graph.values[v].name) for v in param_inputs]
    outputs = [info(v, n) for v, n in zip(graph.outputs, out_names)]
    g = helper.make_graph(ctx.nodes, "main_graph", inputs, outputs, ctx.initializers)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="ember", ir_version=_IR_FOR_OPSET[opset])
    if dynamic_axes:
        _infer_output_shapes(onnx, model, [n for n in out_names if n not in dynamic_axes])
    return model


def _infer_output_shapes(onnx, model, names) -> None:
    """Replaces the traced shapes of the outputs ``names`` (those ``dynamic_axes`` does not
    name) with ONNX shape inference's, as PyTorch's exporter does: an output computed from
    a dynamic input axis gets that axis' symbolic name instead of the example's size. Dims
    inference cannot tell are left unnamed."""
    if not names:
        return
    by_name = {o.name: o for o in model.graph.output}
    ranks = {}
    for n in names:
        ranks[n] = len(by_name[n].type.tensor_type.shape.dim)
        by_name[n].type.tensor_type.ClearField("shape")
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
        got = {o.name: o for o in inferred.graph.output}
    except Exception:  # noqa: BLE001 - keep the rank only
        got = {}
    for n in names:
        tt = by_name[n].type.tensor_type
        src = got.get(n)
        if src is not None and src.type.tensor_type.HasField("shape"):
            tt.shape.CopyFrom(src.type.tensor_type.shape)
        else:
            for _ in range(ranks[n]):
                tt.shape.dim.add()


def _name_outputs(ctx, graph, out_names) -> None:
    """Gives the graph outputs their names: the producing node's output is renamed, or an
    ``Identity`` is added (an input or constant returned as it is, a repeated output)."""
    produced = {o for n in ctx.nodes for o in n.output}
    taken = set()
    for vid, want in zip(graph.outputs, out_names):
        cur = ctx.name_of(vid) if vid in ctx.folded else ctx.names[vid]
        if cur in produced and cur not in taken and cur not in _graph_io(ctx, graph):
            for n in ctx.nodes:
                for i, x in enumerate(n.output):
                    if x == cur:
                        n.output[i] = want
                for i, x in enumerate(n.input):
                    if x == cur:
                        n.input[i] = want
            ctx.names[vid] = want
            taken.add(want)
            produced.discard(cur)
            produced.add(want)
        else:
            ctx.node("Identity", [cur], outputs=want)
            taken.add(want)


def _drop_unused_initializers(ctx) -> None:
    """Removes the initializers no node reads (a mapping that folded a weight into a new
    constant, such as a recurrent layer's reordered gates, leaves the original unread)."""
    used = {i for n in ctx.nodes for i in n.input}
    ctx.initializers[:] = [t for t in ctx.initializers if t.name in used]


def _graph_io(ctx, graph) -> set:
    return {ctx.names[v] for v in graph.inputs}
