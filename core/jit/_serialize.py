"""``ember.jit.save`` / ``ember.jit.load``: traced programs in a portable zip.

The archive holds ``graph.json`` (the values, the nodes with their op names and JSON-encoded
attributes, input and output structure) and ``weights.pt`` (the constants and array
attributes, written by ``ember.save`` and read back with ``weights_only=True``). Loading
never unpickles arbitrary objects: ops are looked up among ember's own ``Op`` subclasses by
module and name, and every attribute is rebuilt from plain JSON.

This is ember's own format: it does not read TorchScript archives written by PyTorch.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import zipfile

import numpy as np

from .._dtype import to_dtype
from ..ops.op import Op
from ._graph import ArrayRef, Graph, GraphNode
from ._traced import ScriptFunction, ScriptModule

__all__ = ["save", "load"]

_FORMAT = "ember.jit"
_VERSION = 1


def save(m, f, _extra_files=None) -> None:
    """Saves a traced module or function (from ``ember.jit.trace``) to path or binary file
    ``f``; ``_extra_files`` maps archive names to str/bytes stored beside it."""
    from ..serialization import save as ember_save

    if not isinstance(m, (ScriptModule, ScriptFunction)):
        raise TypeError("ember.jit.save expects a traced module or function (from "
                        f"ember.jit.trace), got {type(m).__name__}; ember.jit.script returns "
                        "its argument unchanged, so save its weights with ember.save instead")
    g = m._graph
    tensors: dict = {}
    state = []  # a module's parameters and buffers: [name, is_parameter]
    if isinstance(m, ScriptModule):
        from ..nn.parameter import Parameter

        named = [(n, t, True) for n, t in m.named_parameters()] + \
            [(n, t, False) for n, t in m.named_buffers()]
        for i, (n, t, is_param) in enumerate(named):
            state.append([n, is_param and isinstance(t, Parameter)])
            tensors[f"s{i}"] = t.detach()
    state_names = {n for n, _ in state}
    for vid, t in g.constants.items():
        if g.values[vid].name not in state_names:
            tensors[f"v{vid}"] = t.detach()
    arrays: list = []
    doc = {
        "format": _FORMAT, "version": _VERSION,
        "kind": "module" if isinstance(m, ScriptModule) else "function",
        "name": getattr(m, "original_name", None) or getattr(m, "name", "traced"),
        "values": [[v.id, v.kind, list(v.shape), _dtype_name(v.dtype), v.name]
                   for v in g.values.values()],
        "inputs": g.inputs, "outputs": g.outputs,
        "input_spec": _enc_spec(getattr(g, "input_spec", None)),
        "output_spec": _enc_spec(g.output_spec),
        "constants": sorted(g.constants), "state": state,
        "nodes": [{"op": n.op, "module": n.cls.__module__, "class": n.cls.__qualname__,
                   "attrs": {k: _enc(v, arrays, n.op, k) for k, v in n.attrs.items()},
                   "inputs": n.inputs, "outputs": n.outputs, "out_struct": n.out_struct}
                  for n in g.nodes],
    }
    for i, a in enumerate(arrays):
        tensors[f"a{i}"] = a
    buf = io.BytesIO()
    ember_save(tensors, buf)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("graph.json", json.dumps(doc))
        z.writestr("weights.pt", buf.getvalue())
        for name, data in (_extra_files or {}).items():
            z.writestr(f"extra/{name}", data.encode() if isinstance(data, str) else data)
    _write(f, out.getvalue())


def _write(f, data: bytes) -> None:
    if isinstance(f, (str, os.PathLike)):
        from ..serialization._atomic import atomic_open

        with atomic_open(f) as fh:
            fh.write(data)
    else:
        f.write(data)


def load(f, map_location=None, _extra_files=None):
    """Loads a program saved by ``ember.jit.save`` (a ``ScriptModule`` or
    ``ScriptFunction``); ``_extra_files`` (a dict of names) is filled with their contents."""
    from ..serialization import load as ember_load

    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            data = fh.read()
    else:
        data = f.read()
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        doc = json.loads(z.read("graph.json"))
        weights = z.read("weights.pt")
    except (zipfile.BadZipFile, KeyError) as exc:
        raise RuntimeError("ember.jit.load: not an ember.jit archive (PyTorch TorchScript "
                           "files can't be read; export the weights with torch.save)") from exc
    if doc.get("format") != _FORMAT or doc.get("version", 0) > _VERSION:
        raise RuntimeError(f"ember.jit.load: unknown format {doc.get('format')!r} version "
                           f"{doc.get('version')!r}")
    if _extra_files is not None:
        for name in list(_extra_files):
            try:
                _extra_files[name] = z.read(f"extra/{name}").decode()
            except KeyError:
                pass
    tensors = ember_load(io.BytesIO(weights), map_location=map_location, weights_only=True)
    g = Graph()
    for vid, kind, shape, dt, name in doc["values"]:
        v = g.add_value(kind, tuple(shape), to_dtype(dt), name)
        if v.id != vid:
            raise RuntimeError("ember.jit.load: corrupt graph (value numbering)")
    g.inputs, g.outputs = list(doc["inputs"]), list(doc["outputs"])
    g.input_spec = _dec_spec(doc["input_spec"])
    g.output_spec = _dec_spec(doc["output_spec"])
    from ..nn.parameter import Parameter

    named = {}
    for i, (name, is_param) in enumerate(doc.get("state", ())):
        t = tensors[f"s{i}"]
        named[name] = Parameter(t) if is_param else t
    for vid in doc["constants"]:
        name = g.values[vid].name
        g.constants[vid] = named[name] if name in named else tensors[f"v{vid}"]
    for nd in doc["nodes"]:
        cls = _op_class(nd["module"], nd["class"], nd["op"])
        attrs = {k: _dec(v, tensors) for k, v in nd["attrs"].items()}
        g.nodes.append(GraphNode(nd["op"], cls, attrs, list(nd["inputs"]),
                                 list(nd["outputs"]), nd["out_struct"]))
    if doc["kind"] == "function":
        return ScriptFunction(g, doc.get("name") or "traced_function")
    return ScriptModule(g, None, named, doc.get("name") or "ScriptModule")


def _op_class(module: str, qualname: str, name: str):
    """The ``Op`` subclass saved as ``module.qualname`` with op name ``name``, looked up
    among the loaded subclasses of ``Op`` (ops made by factories have no importable
    path); only ember's own modules are imported for it."""
    if not (module == "ember" or module.startswith("ember.")):
        raise RuntimeError(f"ember.jit.load: op '{name}' names module {module!r}, which is "
                           "not part of ember")
    importlib.import_module(module)
    found = [c for c in _op_subclasses() if c.__module__ == module and
             c.__qualname__ == qualname and getattr(c, "_name", None) == name]
    if len(found) != 1:
        raise RuntimeError(f"ember.jit.load: op '{name}' ({module}.{qualname}) is not an "
                           "ember op" if not found else f"ember.jit.load: op '{name}' "
                           f"({module}.{qualname}) is ambiguous")
    return found[0]


def _op_subclasses() -> list:
    out, todo, seen = [], [Op], set()
    while todo:
        c = todo.pop()
        for s in c.__subclasses__():
            if s not in seen:
                seen.add(s)
                out.append(s)
                todo.append(s)
    return out


def _dtype_name(d) -> str:
    s = str(d)
    for p in ("torch.", "ember."):
        if s.startswith(p):
            s = s[len(p):]
    return s


def _enc(v, arrays, op, key):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, tuple):
        return {"tuple": [_enc(x, arrays, op, key) for x in v]}
    if isinstance(v, list):
        return {"list": [_enc(x, arrays, op, key) for x in v]}
    if isinstance(v, dict) and all(isinstance(k, str) for k in v):
        return {"dict": {k: _enc(x, arrays, op, key) for k, x in v.items()}}
    if isinstance(v, slice):
        return {"slice": [_enc(x, arrays, op, key) for x in (v.start, v.stop, v.step)]}
    if v is Ellipsis:
        return {"ellipsis": True}
    if isinstance(v, complex):
        return {"complex": [v.real, v.imag]}
    if isinstance(v, ArrayRef):
        return {"ref": v.id}
    if isinstance(v, np.generic):
        return {"scalar": v.item(), "npdtype": v.dtype.str}
    if isinstance(v, np.dtype):
        return {"npdtype": v.str}
    if type(v).__name__ == "dtype" and type(v).__module__.startswith("ember"):
        return {"dtype": _dtype_name(v)}
    if hasattr(v, "__array__") and hasattr(v, "dtype") and hasattr(v, "shape"):
        from .._tensor import Tensor

        arrays.append(Tensor._make(np.asarray(v) if isinstance(v, np.ndarray) else v))
        return {"array": len(arrays) - 1}
    raise RuntimeError(f"ember.jit.save: op '{op}' has attribute '{key}' of type "
                       f"{type(v).__name__}, which the ember.jit format can't store")


def _dec(v, tensors):
    if not isinstance(v, dict):
        return v
    if "tuple" in v:
        return tuple(_dec(x, tensors) for x in v["tuple"])
    if "list" in v:
        return [_dec(x, tensors) for x in v["list"]]
    if "dict" in v:
        return {k: _dec(x, tensors) for k, x in v["dict"].items()}
    if "slice" in v:
        return slice(*[_dec(x, tensors) for x in v["slice"]])
    if "ellipsis" in v:
        return Ellipsis
    if "complex" in v:
        return complex(*v["complex"])
    if "ref" in v:
        return ArrayRef(int(v["ref"]))
    if "scalar" in v:
        return np.dtype(v["npdtype"]).type(v["scalar"])
    if "npdtype" in v:
        return np.dtype(v["npdtype"])
    if "dtype" in v:
        return to_dtype(v["dtype"])
    if "array" in v:
        return tensors[f"a{v['array']}"]._data
    raise RuntimeError(f"ember.jit.load: unknown attribute encoding {sorted(v)}")


def _enc_spec(spec):
    if spec is None:
        return None
    kind = spec[0]
    if kind == "none":
        return ["none"]
    if kind == "dict":
        return ["dict", [[k, n, _enc_spec(s)] for k, n, s in spec[1]]]
    return [kind, [[n, _enc_spec(s)] for n, s in spec[1]]]


def _dec_spec(spec):
    if spec is None:
        return None
    kind = spec[0]
    if kind == "none":
        return ("none",)
    if kind == "dict":
        return ("dict", [(k, n, _dec_spec(s)) for k, n, s in spec[1]])
    return (kind, [(n, _dec_spec(s)) for n, s in spec[1]])
