"""Symbolic tracing: ``Tracer``, ``symbolic_trace`` and ``wrap``, as in
``torch.fx._symbolic_trace``.

``Tracer.trace`` calls the module's ``forward`` (or a function) with a ``Proxy`` for each
input. Submodule calls reach ``call_module``, which records leaf modules (ember's own
``ember.nn`` layers by default) as ``call_module`` nodes and runs the ``forward`` of the
others, so the graph shows their insides. Parameters read in ``forward`` become ``get_attr``
nodes; tensors the program uses without computing them become ``get_attr`` nodes of the
attribute that holds them (or of a new ``_tensor_constant<N>`` attribute of the root).
"""

from __future__ import annotations

import inspect
import math
import types
from collections.abc import Callable
from typing import Any

from .._tensor import Tensor
from ._patching import Patcher
from ._targets import NAMESPACES, public_functions
from .graph import Graph
from .node import Argument, has_side_effect
from .proxy import ParameterProxy, Proxy, TracerBase

__all__ = ["Tracer", "symbolic_trace", "wrap", "is_fx_tracing", "PH"]

_TRACING = [0]  # how many traces are running
_is_fx_tracing_flag = False  # torch's module-level spelling of is_fx_tracing()
_WRAPPED: dict[tuple[int, str], dict] = {}  # (id(module globals), name) -> module globals


def is_fx_tracing() -> bool:
    """True while ``symbolic_trace``/``Tracer.trace`` runs (models use it to skip checks
    that need concrete values)."""
    return _TRACING[0] > 0


def is_fx_symbolic_tracing() -> bool:
    """True while ``symbolic_trace`` runs (ember has no other FX-based tracer)."""
    return _TRACING[0] > 0


class _PlaceholderSentinel:
    """``PH``: in ``concrete_args``, marks an argument that stays a graph input."""

    def __repr__(self) -> str:
        return "PH"


PH = _PlaceholderSentinel()


@has_side_effect
def _assert(condition, message: str = "") -> None:
    """Raises ``AssertionError(message)`` unless ``condition`` (the check that guards a
    specialized ``concrete_args`` value)."""
    if not condition:
        raise AssertionError(message)


@has_side_effect
def _assert_is_none(value, message: str) -> None:
    """Raises ``AssertionError(message)`` unless ``value`` is None."""
    if value is not None:
        raise AssertionError(message)


def wrap(fn_or_name: str | Callable) -> str | Callable:
    """Makes calls to a module-level function part of traced graphs as one
    ``call_function`` node instead of being traced through (for code that can't be traced,
    such as control flow on values). Call it at module scope, with the function or its
    name (``ember.fx.wrap('len')`` records ``len`` in that module); usable as a decorator.
    """
    if callable(fn_or_name):
        name = fn_or_name.__name__
        if name == "<lambda>":
            raise NotImplementedError("wrap() does not support lambda functions")
    elif isinstance(fn_or_name, str):
        name = fn_or_name
    else:
        raise AssertionError("Unsupported type for global function! Must be either a callable "
                             "or string name")
    frame = inspect.currentframe().f_back
    if frame is None or frame.f_code.co_name != "<module>":
        raise NotImplementedError("wrap must be called at the top level of a module")
    _WRAPPED[(id(frame.f_globals), name)] = frame.f_globals
    return fn_or_name


class Tracer(TracerBase):
    """Records a module's or function's forward as a ``Graph`` (see the module docstring).

    Subclass it to change what is a leaf (``is_leaf_module``), how module calls and
    attribute reads are recorded (``call_module``, ``getattr``) or what every node carries
    (``create_proxy``, ``create_node``).

    Args:
        autowrap_modules: modules whose functions are recorded as ``call_function`` nodes
            when called on proxies (``math`` by default).
        autowrap_functions: more such functions.
        param_shapes_constant: when True, ``shape``/``size()`` of a parameter give its real
            shape instead of being recorded.
    """

    def __init__(self, autowrap_modules: tuple = (math,),
                 autowrap_functions: tuple[Callable[..., Any], ...] = (),
                 param_shapes_constant: bool = False) -> None:
        super().__init__()
        self._autowrap_modules = tuple(autowrap_modules)
        self._autowrap_functions = tuple(autowrap_functions)
        self.param_shapes_constant = param_shapes_constant
        self.submodule_paths: dict[int, str] | None = None
        self.root = None
        self.graph: Graph | None = None
        self.tensor_attrs: dict[int, str] = {}
        self.scope = None
        self.module_stack: dict = {}
        self._patcher: Patcher | None = None

    # -- what to record --------------------------------------------------------------------
    def is_leaf_module(self, m, module_qualified_name: str) -> bool:
        """True for ember's built-in layers (classes from ``ember.nn``), except
        ``Sequential``: their calls are recorded as ``call_module`` nodes."""
        from ..nn import Sequential

        module = type(m).__module__ or ""
        return (module == "ember.nn" or module.startswith("ember.nn.")) and \
            not isinstance(m, Sequential)

    def path_of_module(self, mod) -> str:
        """The dotted path of submodule ``mod`` in the traced root."""
        if self.submodule_paths is None:
            self.submodule_paths = {id(m): n for n, m in self.root.named_modules()}
        path = self.submodule_paths.get(id(mod))
        if path is None:
            for n, m in self.root.named_modules():
                if m is mod:
                    return n
            raise NameError("module is not installed as a submodule")
        return path

    def call_module(self, m, forward: Callable[..., Any], args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Any:
        """A call of submodule ``m``: a ``call_module`` node for a leaf, otherwise
        ``forward(*args, **kwargs)`` traced through."""
        path = self.path_of_module(m)
        if self.is_leaf_module(m, path):
            return self.create_proxy("call_module", path, args, kwargs)
        if self._patcher is not None:
            fwd = getattr(type(m), "forward", None)
            globals_dict = getattr(fwd, "__globals__", None)
            if globals_dict is not None:
                self._patcher.patch_globals(globals_dict, self._autowrap_table)
        self.module_stack[path] = type(m)
        try:
            return forward(*args, **kwargs)
        finally:
            self.module_stack.pop(path, None)

    def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: dict[str, Any]):
        """What reading attribute ``attr`` of a module gives during tracing: parameters of
        the root become (cached) ``get_attr`` proxies, other values are returned as they
        are."""
        from ..nn import Parameter

        if not isinstance(attr_val, Parameter):
            return attr_val
        for name, p in self.root.named_parameters():
            if p is attr_val:
                if name not in parameter_proxy_cache:
                    if self.param_shapes_constant:
                        def factory(node, name=name, p=p):
                            return ParameterProxy(self, node, name, p)
                        proxy = self.create_proxy("get_attr", name, (), {},
                                                  proxy_factory_fn=factory)
                    else:
                        proxy = self.create_proxy("get_attr", name, (), {})
                    parameter_proxy_cache[name] = proxy
                return parameter_proxy_cache[name]
        return attr_val

    def create_arg(self, a: Any) -> Argument:
        """Like ``TracerBase.create_arg``, plus tensors: a parameter, buffer or tensor
        attribute of the root becomes a ``get_attr`` node of its path; any other tensor is
        stored on the root as ``_tensor_constant<N>`` and read the same way."""
        from ..nn import Module, Parameter

        if isinstance(a, Parameter):
            for name, p in self.root.named_parameters():
                if p is a:
                    return self.create_node("get_attr", name, (), {})
            raise NameError("parameter is not a member of this module")
        if isinstance(a, Tensor):
            for name, b in self.root.named_buffers():
                if b is a:
                    return self.create_node("get_attr", name, (), {})
            name = self.tensor_attrs.get(id(a))
            if name is None:
                i = 0
                while hasattr(self.root, f"_tensor_constant{i}"):
                    i += 1
                name = f"_tensor_constant{i}"
                setattr(self.root, name, a)
                self.tensor_attrs[id(a)] = name
            return self.create_node("get_attr", name, (), {})
        if isinstance(a, Module):
            raise NotImplementedError(f"argument of type: {type(a)}")
        return super().create_arg(a)

    # -- tracing -------------------------------------------------------------------------
    def create_args_for_root(self, root_fn: Callable, is_module: bool,
                             concrete_args: dict[str, Any] | None = None):
        """The proxies (and concrete values) ``root_fn`` is called with: one placeholder per
        parameter of its signature, except those fixed by ``concrete_args``."""
        params = list(inspect.signature(root_fn).parameters.values())
        if is_module:
            params = params[1:]  # self
        concrete_args = dict(concrete_args or {})
        unknown = set(concrete_args) - {p.name for p in params}
        if unknown:
            raise RuntimeError(f"concrete_args names {sorted(unknown)} are not parameters of "
                               "the traced function")
        positional, keyword = [], {}
        for p in params:
            value = self._argument_for(p, concrete_args)
            if p.kind is inspect.Parameter.VAR_POSITIONAL:
                continue
            if p.kind is inspect.Parameter.VAR_KEYWORD:
                continue
            if p.kind is inspect.Parameter.KEYWORD_ONLY:
                keyword[p.name] = value
            else:
                positional.append(value)
        return positional, keyword

    def _argument_for(self, p: inspect.Parameter, concrete_args: dict):
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            self.create_node("placeholder", f"*{p.name}", (), {}, name=f"_{p.name}")
            return None
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            self.create_node("placeholder", f"**{p.name}", (), {}, name=f"_{p.name}")
            return None
        default = () if p.default is inspect.Parameter.empty else (p.default,)
        if p.name not in concrete_args:
            return self.proxy(self.create_node("placeholder", p.name, default, {}))
        value = concrete_args[p.name]
        node = self.graph.create_node("placeholder", "", (), {}, name=f"{p.name}_1")
        node.target = node.name
        if value is PH:
            node.args = default
            return self.proxy(node)
        node.args = (value,) if _is_plain_constant(value) else default
        message = f"{p.name} has been specialized to have value {value} but got another value"
        if value is None:
            self.create_proxy("call_function", _assert_is_none, (self.proxy(node), message), {})
        elif _is_plain_constant(value):
            eq = self.proxy(node) == value
            self.create_proxy("call_function", _assert, (eq, message), {})
        return value

    def trace(self, root, concrete_args: dict[str, Any] | None = None) -> Graph:
        """Records ``root`` (a module's ``forward``, or a function) and returns the graph.
        ``concrete_args`` fixes some arguments to Python values (the graph checks at run
        time that they still have them); ``PH`` keeps one as an input."""
        from ..nn import Module

        if isinstance(root, Module):
            self.root = root
            fn = type(root).forward
            is_module = True
        else:
            self.root = Module()
            fn = root
            is_module = False
        self.graph = Graph(tracer_cls=type(self))
        self.submodule_paths = {id(m): n for n, m in self.root.named_modules()}
        self.tensor_attrs = _tensor_attributes(self.root)
        cache: dict[str, Any] = {}
        global _is_fx_tracing_flag
        _TRACING[0] += 1
        _is_fx_tracing_flag = True
        try:
            positional, keyword = self.create_args_for_root(fn, is_module, concrete_args)
            auto = self._autowrap_callables()
            with Patcher(frozenset(auto)) as patcher:
                self._patcher = patcher
                self._install(patcher, fn, cache, auto)
                result = fn(self.root, *positional, **keyword) if is_module else \
                    fn(*positional, **keyword)
            self.create_node("output", "output", (self.create_arg(result),), {},
                             type_expr=getattr(fn, "__annotations__", {}).get("return"))
        finally:
            self._patcher = None
            _TRACING[0] -= 1
            _is_fx_tracing_flag = _TRACING[0] > 0
        self.submodule_paths = None
        return self.graph

    def _autowrap_callables(self) -> dict[int, Callable]:
        """``id -> fn`` of the functions of the autowrap modules and the autowrap
        functions: their calls on proxies are recorded as wrapped ``call_function`` nodes."""
        auto: dict[int, Callable] = {}
        for mod in self._autowrap_modules:
            for value in vars(mod).values():
                if callable(value) and not isinstance(value, type):
                    auto[id(value)] = value
        for f in self._autowrap_functions:
            auto[id(f)] = f
        return auto

    def _install(self, patcher: Patcher, fn: Callable, cache: dict,
                 auto: dict[int, Callable]) -> None:
        """Makes module calls, parameter reads, tensor operators and function calls on
        proxies reach this tracer (undone when ``patcher`` exits)."""
        from ..nn import Module

        tracer = self
        original_call = Module.__call__
        original_getattr = Module.__getattr__

        def module_call(mod, *args, **kwargs):
            def forward(*a, **k):
                return original_call(mod, *a, **k)
            return tracer.call_module(mod, forward, args, kwargs)

        def module_getattr(mod, name):
            return tracer.getattr(name, original_getattr(mod, name), cache)

        patcher.set_attr(Module, "__call__", module_call)
        patcher.set_attr(Module, "__getattr__", module_getattr)
        patcher.patch_tensor_operators()
        ember_functions = [entry[2] for entry in public_functions().values()]
        patcher.swap_function_code(ember_functions)
        table = {id(f): f for f in ember_functions if not isinstance(f, types.FunctionType)}
        table.update(auto)
        self._autowrap_table = table
        patcher.patch_namespaces(table, NAMESPACES + self._autowrap_modules)  # builtins
        for globals_dict, name in [(g, k[1]) for k, g in _WRAPPED.items()]:
            patcher.patch_wrapped_name(globals_dict, name)
        globals_dict = getattr(fn, "__globals__", None)
        if globals_dict is not None:
            patcher.patch_globals(globals_dict, table)


def _is_plain_constant(value) -> bool:
    return isinstance(value, (bool, int, float, complex, str)) or value is None


def _tensor_attributes(root) -> dict[int, str]:
    """``id(tensor) -> path`` of the plain tensor attributes of ``root``'s modules."""
    found: dict[int, str] = {}
    for mod_name, mod in root.named_modules():
        for attr, value in vars(mod).items():
            if isinstance(value, Tensor):
                found.setdefault(id(value), f"{mod_name}.{attr}" if mod_name else attr)
    return found


def symbolic_trace(root, concrete_args: dict[str, Any] | None = None):
    """Traces ``root`` (an ``nn.Module`` or a function) with a ``Tracer`` and returns a
    ``GraphModule`` whose ``forward`` is the recorded graph.

    Example::

        >>> gm = ember.fx.symbolic_trace(model)
        >>> print(gm.code)
    """
    from ..nn import Module
    from .graph_module import GraphModule

    tracer = Tracer()
    graph = tracer.trace(root, concrete_args)
    name = type(root).__name__ if isinstance(root, Module) else root.__name__
    return GraphModule(tracer.root, graph, name)


# keep Proxy importable from here, as torch.fx._symbolic_trace re-exports it
__all__ += ["Proxy"]
