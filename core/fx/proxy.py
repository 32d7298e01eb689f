"""``Proxy``: the stand-in value a traced program computes with, as ``torch.fx.Proxy``.

Each Proxy wraps the ``Node`` that produces its value. Whatever the program does to it is
recorded as a new node instead of being computed: operators become ``call_function`` nodes
on the ``operator`` functions (``x + y`` -> ``operator.add``), attribute reads become
``getattr`` nodes and method calls ``call_method`` nodes (``x.view(...)``). Python control
flow that needs a concrete value (``if proxy:``, ``for v in proxy``) can't be recorded and
raises ``TraceError``; unpacking a fixed number of values (``b, c, h, w = x.shape``) works.
"""

from __future__ import annotations

import builtins
import dis
import inspect
import operator
from collections.abc import Callable
from typing import Any

from .graph import Graph
from .node import Argument, Node, Target

__all__ = ["Proxy", "Attribute", "ParameterProxy", "TraceError", "TracerBase",
           "GraphAppendingTracer"]


class TraceError(ValueError):
    """A traced program did something a graph can't record (control flow on a Proxy)."""


_CONTROL_FLOW = "symbolically traced variables cannot be used as inputs to control flow"
_ITERATION = ("Proxy object cannot be iterated. This can be attempted when the Proxy is used "
              "in a loop or as a *args or **kwargs function argument. See the torch.fx docs on "
              "pytorch.org for a more detailed explanation of what types of control flow can "
              "be traced, and check out the Proxy docstring for help troubleshooting Proxy "
              "iteration errors")
_LEAF_TYPES = (str, int, float, bool, complex, type(None), type(...), range)


class TracerBase:
    """What a Proxy needs from whoever records it: a ``graph`` to add nodes to, and the
    conversions between proxies and node arguments."""

    graph: Graph
    record_stack_traces: bool = False
    check_mutable_operations: bool = False
    trace_asserts: bool = False
    proxy_buffer_attributes: bool = False
    traced_func_name: str = "forward"

    def create_node(self, kind: str, target: Target, args: tuple[Argument, ...],
                    kwargs: dict[str, Argument], name: str | None = None,
                    type_expr: Any | None = None) -> Node:
        """Adds one node to ``self.graph`` (overridable to annotate every node)."""
        made = self.graph.create_node(kind, target, args, kwargs, name, type_expr)
        if self.record_stack_traces:
            made.stack_trace = "".join(_user_frames())
        return made

    def proxy(self, node: Node) -> Proxy:
        """The Proxy for a freshly made node (overridable to return a Proxy subclass)."""
        return Proxy(node, self)

    def create_proxy(self, kind: str, target: Target, args: tuple[Any, ...],
                     kwargs: dict[str, Any], name: str | None = None,
                     type_expr: Any | None = None,
                     proxy_factory_fn: Callable[[Node], Proxy] | None = None) -> Proxy:
        """Records ``target`` applied to ``args``/``kwargs`` (which may hold proxies) as a
        node of opcode ``kind`` and returns the Proxy of its result."""
        node_args = self.create_arg(args)
        node_kwargs = self.create_arg(kwargs)
        if not isinstance(node_args, tuple) or not isinstance(node_kwargs, dict):
            raise TypeError("create_proxy: args must be a tuple and kwargs a dict")
        node = self.create_node(kind, target, node_args, node_kwargs, name, type_expr)
        return self.proxy(node) if proxy_factory_fn is None else proxy_factory_fn(node)

    def create_arg(self, a: Any) -> Argument:
        """Converts a value the traced program passed to something a node can hold: proxies
        become their nodes, containers are converted element by element."""
        if isinstance(a, Proxy):
            return a.node
        hook = getattr(type(a), "__fx_create_arg__", None)
        if hook is not None:
            return hook(a, self)
        if isinstance(a, Node) or isinstance(a, _LEAF_TYPES):
            return a
        if isinstance(a, tuple):
            items = [self.create_arg(x) for x in a]
            return type(a)(*items) if hasattr(a, "_fields") else tuple(items)
        if isinstance(a, list):
            return [self.create_arg(x) for x in a]
        if isinstance(a, dict):
            out = {}
            for k, v in a.items():
                key = self.create_arg(k)
                if isinstance(key, Node):
                    raise RuntimeError("Keys for dictionaries used as an argument cannot "
                                       f"contain a Node. Got key: {k}")
                out[key] = self.create_arg(v)
            return out
        if isinstance(a, slice):
            return slice(self.create_arg(a.start), self.create_arg(a.stop),
                         self.create_arg(a.step))
        if _is_ember_constant(a):
            return a
        raise NotImplementedError(f"argument of type: {type(a)}")

    def to_bool(self, obj: Proxy) -> bool:
        """Called for ``bool(proxy)``: control flow can't be recorded, so this raises."""
        raise TraceError(_CONTROL_FLOW)

    def iter(self, obj: Proxy):
        """Called for ``iter(proxy)`` outside a fixed-size unpacking: raises."""
        raise TraceError(_ITERATION)

    def keys(self, obj: Proxy):
        """Called for ``**proxy``: records ``proxy.keys()``."""
        return Attribute(obj, "keys")()


def _is_ember_constant(a) -> bool:
    import ember

    return isinstance(a, (ember.dtype, ember.device))


def _user_frames() -> list[str]:
    import traceback

    frames = [f for f in traceback.extract_stack()[:-2]
              if "/ember/fx/" not in f.filename.replace("\\", "/")
              and "/core/fx/" not in f.filename.replace("\\", "/")]
    return traceback.format_list(frames[-1:])


class GraphAppendingTracer(TracerBase):
    """The minimal tracer of a Proxy built around a node of an existing graph: new nodes are
    appended to that graph."""

    def __init__(self, graph: Graph) -> None:
        super().__init__()
        self.graph = graph
        self.scope = None
        self.module_stack: dict = {}
        self.node_name_to_scope: dict = {}


class Proxy:
    """The value of ``node`` during tracing (see the module docstring)."""

    def __init__(self, node: Node, tracer: TracerBase | None = None) -> None:
        if tracer is None:
            tracer = GraphAppendingTracer(node.graph)
        self.tracer = tracer
        self.node = node

    def __repr__(self) -> str:
        return f"Proxy({self.node.name})"

    def __getattr__(self, name: str) -> Attribute:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # protocols (copy, pickle) look these up
        if name == "_data":
            raise TraceError(
                "an ember function that ember.fx doesn't record received a Proxy; call it "
                "through its public namespace (ember.X, ember.nn.functional.X) or mark it with "
                "ember.fx.wrap so that it is recorded as one call")
        return Attribute(self, name)

    def __call__(self, *args, **kwargs) -> Proxy:
        return self.tracer.create_proxy("call_method", "__call__", (self,) + args, kwargs)

    def __iter__(self):
        caller = inspect.currentframe().f_back
        count = _unpack_count(caller)
        if count is not None:
            return iter([self[i] for i in range(count)])
        return self.tracer.iter(self)

    def __bool__(self) -> bool:
        return self.tracer.to_bool(self)

    def __len__(self) -> int:
        raise RuntimeError("'len' is not supported in symbolic tracing by default. If you want "
                           "this call to be recorded, please call torch.fx.wrap('len') at "
                           "module scope")

    def keys(self):
        """``proxy.keys()``, recorded (used by ``**proxy``)."""
        return self.tracer.keys(self)

    def __deepcopy__(self, memo):
        raise TraceError("a Proxy can't be deep-copied while tracing")

    __hash__ = object.__hash__


def _unpack_count(frame) -> int | None:
    """The number of targets when ``frame`` is executing ``a, b, ... = <proxy>``."""
    if frame is None:
        return None
    for ins in dis.get_instructions(frame.f_code):
        if ins.offset == frame.f_lasti:
            return ins.argval if ins.opname == "UNPACK_SEQUENCE" else None
    return None


class Attribute(Proxy):
    """``proxy.name``: becomes a ``getattr`` node when used as a value, or a
    ``call_method`` node when called (``proxy.view(...)``)."""

    def __init__(self, root: Proxy, attr: str) -> None:
        self.root = root
        self.attr = attr
        self.tracer = root.tracer
        self._node: Node | None = None

    @property
    def node(self) -> Node:  # type: ignore[override]
        """The ``getattr`` node, made on first use."""
        if self._node is None:
            self._node = self.tracer.create_proxy("call_function", builtins.getattr,
                                                  (self.root, self.attr), {}).node
        return self._node

    def __call__(self, *args, **kwargs) -> Proxy:
        return self.tracer.create_proxy("call_method", self.attr, (self.root,) + args, kwargs)


class ParameterProxy(Proxy):
    """The Proxy of a module parameter when the tracer has ``param_shapes_constant`` set:
    its shape queries answer with the parameter's real shape instead of being recorded."""

    def __init__(self, tracer: TracerBase, node: Node, name: str, param) -> None:
        super().__init__(node, tracer)
        self.param = param
        self.name = name

    def __repr__(self) -> str:
        return f"ParameterProxy({self.name})"

    @property
    def shape(self):
        return self.param.shape

    def size(self, dim: int | None = None):
        return self.param.size() if dim is None else self.param.size(dim)

    def dim(self) -> int:
        return self.param.dim()

    @property
    def ndim(self) -> int:
        return self.param.ndim

    def numel(self) -> int:
        return self.param.numel()

    def nelement(self) -> int:
        return self.param.nelement()


# -- operators: each records the matching ``operator`` function ----------------------------
_BINARY_OPS = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "lshift",
               "rshift", "and_", "or_", "xor")
_COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")
_UNARY_OPS = ("neg", "pos", "invert", "abs")


def _dunder(name: str) -> str:
    return f"__{name.rstrip('_')}__"


def _install_operators() -> None:
    def forward_op(fn):
        def method(self, *args):
            return self.tracer.create_proxy("call_function", fn, (self,) + args, {})
        return method

    def reflected_op(fn):
        def method(self, other):
            return self.tracer.create_proxy("call_function", fn, (other, self), {})
        return method

    for name in _BINARY_OPS + _COMPARISONS + _UNARY_OPS + ("getitem",):
        fn = getattr(operator, name)
        method = forward_op(fn)
        method.__name__ = _dunder(name)
        method.__doc__ = f"Records ``operator.{name}`` on this Proxy."
        setattr(Proxy, _dunder(name), method)
    for name in _BINARY_OPS:
        fn = getattr(operator, name)
        method = reflected_op(fn)
        method.__name__ = "__r" + _dunder(name)[2:]
        method.__doc__ = f"Records ``operator.{name}`` with this Proxy on the right."
        setattr(Proxy, method.__name__, method)


_install_operators()
