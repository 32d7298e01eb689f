"""``GraphModule``: an ``nn.Module`` whose ``forward`` is generated from a ``Graph``, as
``torch.fx.GraphModule``.

The module keeps only what its graph uses from the root it was built from: the submodules
of ``call_module`` nodes and the attributes of ``get_attr`` nodes, at the same dotted paths
(intermediate modules become plain ``nn.Module``s), so ``state_dict`` keys are the root's
keys for those parts. Setting ``graph`` (or calling ``recompile()`` after editing it)
regenerates ``forward`` and ``code``.
"""

from __future__ import annotations

import copy
import itertools
import linecache
from typing import Any

from .._tensor import Tensor
from ..nn import Module, Parameter
from ._codegen import PythonCode
from .graph import Graph

__all__ = ["GraphModule"]

_SOURCE_IDS = itertools.count()


def _walk_copy(src: Module, dst: Module, target: str) -> None:
    """Installs ``src``'s attribute at dotted path ``target`` on ``dst`` at the same path."""
    *parents, field = target.split(".")
    for part in parents:
        src_child = getattr(src, part)
        dst_child = getattr(dst, part, None)
        if dst_child is None:
            dst_child = Module()
            dst_child.training = getattr(src_child, "training", dst.training)
            setattr(dst, part, dst_child)
        src, dst = src_child, dst_child
    value = getattr(src, field)
    _install(dst, field, value, persistent=field not in getattr(src, "_non_persistent_buffers_set",
                                                                 ()))


def _install(dst: Module, field: str, value: Any, persistent: bool = True) -> None:
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        dst.register_buffer(field, value, persistent=persistent)
    else:
        setattr(dst, field, value)


def _install_path(value: Any, dst: Module, target: str) -> None:
    *parents, field = target.split(".")
    for part in parents:
        child = getattr(dst, part, None)
        if child is None:
            child = Module()
            setattr(dst, part, child)
        dst = child
    _install(dst, field, value)


class GraphModule(Module):
    """A module built from ``root`` (a module, or a dict from target paths to values) whose
    ``forward`` runs ``graph`` (see the module docstring)."""

    def __new__(cls, *args, **kwargs):
        # each instance gets a class of its own: recompile() sets `forward` on it
        if not cls.__dict__.get("_graph_module_instance_class", False):
            cls = type(cls.__name__, (cls,), {"_graph_module_instance_class": True,
                                              "__module__": cls.__module__})
        return object.__new__(cls)

    def __init__(self, root: Module | dict[str, Any], graph: Graph,
                 class_name: str = "GraphModule") -> None:
        super().__init__()
        type(self).__name__ = class_name
        type(self).__qualname__ = class_name
        if isinstance(root, Module):
            self.training = root.training
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    _walk_copy(root, self, node.target)
        elif isinstance(root, dict):
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    if node.target not in root:
                        raise RuntimeError(f"Node {node} referenced target {node.target} but "
                                           "that target was not provided in ``root``!")
                    _install_path(root[node.target], self, node.target)
        else:
            raise RuntimeError(f"Unsupported type {root} passed for root!")
        self.meta: dict[str, Any] = {}
        self._tracer_cls = graph._tracer_cls
        self.graph = graph

    # -- graph and code ------------------------------------------------------------------
    @property
    def graph(self) -> Graph:
        """The graph this module runs; assigning one regenerates ``forward``."""
        return self.__dict__["_graph"]

    @graph.setter
    def graph(self, g: Graph) -> None:
        if not isinstance(g, Graph):
            raise TypeError(f"Expected a Graph instance, but got {type(g)}")
        self.__dict__["_graph"] = g
        g.owning_module = self
        self.recompile()

    @property
    def code(self) -> str:
        """The Python source of the generated ``forward``."""
        return self.__dict__["_code"]

    def recompile(self) -> PythonCode:
        """Regenerates ``forward`` (and ``code``) from ``graph``, after it was edited."""
        pc = self.graph.python_code(root_module="self")
        src = pc.src
        filename = f"<eval_with_key>.{next(_SOURCE_IDS)}"
        linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
        scope = dict(pc.globals)
        exec(compile(src, filename, "exec"), scope)  # noqa: S102 - our own generated code
        self.__dict__["_code"] = src
        self.__dict__["_source_file"] = filename
        type(self).forward = scope["forward"]
        return pc

    def print_readable(self, print_output: bool = True, include_stride: bool = False,
                       include_device: bool = False, colored: bool = False, **kwargs) -> str:
        """The generated code as a class definition (with any GraphModule submodules nested
        in it); printed unless ``print_output`` is False."""
        text = self._readable(type(self).__name__)
        if print_output:
            print(text)
        return text

    def _readable(self, name: str) -> str:
        lines = [f"class {name}(ember.nn.Module):"]
        for line in self.code.strip("\n").splitlines():
            lines.append(("    " + line).rstrip())
        for child_name, child in self.named_children():
            if isinstance(child, GraphModule):
                nested = child._readable(child_name)
                lines += ["", *("    " + ln if ln else ln for ln in nested.splitlines())]
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return Module.__repr__(self) + "\n\n" + self.code.strip("\n") + "\n" + \
            "# To see more debug info, please use `graph_module.print_readable()`"

    # -- submodules ----------------------------------------------------------------------
    def add_submodule(self, target: str, m: Module) -> bool:
        """Installs ``m`` at dotted path ``target``, creating empty intermediate modules;
        False when a part of the path exists but is not a module."""
        *parents, field = target.split(".")
        mod: Module = self
        for part in parents:
            child = getattr(mod, part, None)
            if child is None:
                child = Module()
                mod.add_module(part, child)
            if not isinstance(child, Module):
                return False
            mod = child
        mod.add_module(field, m)
        return True

    def delete_submodule(self, target: str) -> bool:
        """Removes the submodule at dotted path ``target``; False when there is none."""
        *parents, field = target.split(".")
        mod: Module = self
        for part in parents:
            mod = getattr(mod, part, None)
            if not isinstance(mod, Module):
                return False
        if not isinstance(getattr(mod, field, None), Module):
            return False
        delattr(mod, field)
        return True

    def delete_all_unused_submodules(self) -> None:
        """Removes the submodules that no ``call_module`` or ``get_attr`` node reaches."""
        used: set[str] = set()
        for node in self.graph.nodes:
            if node.op in ("call_module", "get_attr"):
                parts = node.target.split(".")
                used.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
                if node.op == "call_module":  # everything inside a called module is used
                    sub = self.get_submodule(node.target)
                    used.update(f"{node.target}.{n}" for n, _ in sub.named_modules() if n)
        for name, _ in reversed(list(self.named_modules())):
            if name and name not in used:
                self.delete_submodule(name)

    # -- copies --------------------------------------------------------------------------
    def __deepcopy__(self, memo):
        base = type(self).__bases__[0]
        new = base.__new__(base)
        memo[id(self)] = new
        state = {k: v for k, v in self.__dict__.items() if k not in ("_code", "_source_file")}
        new.__dict__.update(copy.deepcopy(state, memo))
        type(new).__name__ = type(new).__qualname__ = type(self).__name__
        new.graph = new.__dict__["_graph"]
        return new

    def __copy__(self):
        base = type(self).__bases__[0]
        new = base.__new__(base)
        new.__dict__.update(self.__dict__)
        type(new).__name__ = type(new).__qualname__ = type(self).__name__
        type(new).forward = type(self).forward  # the same graph, the same code
        return new

    def __reduce__(self):
        pc = self.graph.python_code(root_module="self")
        state = {k: v for k, v in self.__dict__.items()
                 if k not in ("_graph", "_code", "_source_file")}
        refs = {k: v for k, v in pc.globals.items() if k not in ("ember", "torch")}
        return (_rebuild, (state, pc.src, refs, type(self).__name__))


def _rebuild(state: dict, src: str, refs: dict, class_name: str) -> GraphModule:
    """Unpickles a GraphModule: runs its code once through a tracer that keeps every
    module call as a ``call_module`` node, which gives back the graph."""
    import ember

    from ._symbolic_trace import Tracer

    scope = dict(refs, ember=ember, torch=ember)
    exec(compile(src, "<fx-unpickle>", "exec"), scope)  # noqa: S102 - pickled by GraphModule
    holder_cls = type("_CodeOnly", (Module,), {"forward": scope["forward"]})
    holder = holder_cls.__new__(holder_cls)
    holder.__dict__.update(state)

    class _KeepModules(Tracer):
        def is_leaf_module(self, m, qualified_name: str) -> bool:
            return True

    graph = _KeepModules().trace(holder)
    return GraphModule(holder, graph, class_name)
