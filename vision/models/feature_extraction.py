"""Feature extraction by graph node, as ``torchvision.models.feature_extraction``.

The model is traced with ``ember.fx`` (once in train mode, once in eval mode) and every node
gets a *qualified name*: a module call is named by the module's path (``layer1.0.conv1``),
any other operation by the path of the module whose ``forward`` ran it plus the operation
(``layer1.0.add``; ``flatten`` at the top level), and a name seen before in the same trace
gets the suffix ``_<k>`` (``layer1.0.relu_1`` is the second call of ``layer1.0.relu``). These
are torchvision's names for the same architecture. ``create_feature_extractor`` returns a
module that runs the graph only as far as the requested nodes and returns their values in a
dict.

A requested name may also be a prefix of qualified names (``"layer1"``): it selects the
last node under that path, i.e. the output of module ``layer1``.
"""

from __future__ import annotations

import copy
import re
import warnings
from collections import OrderedDict
from typing import Any

from ember import fx, nn

__all__ = ["create_feature_extractor", "get_graph_node_names"]

_NUMBERED = re.compile(r"_\d+$")


class NodePathTracer(fx.Tracer):
    """An ``ember.fx.Tracer`` that records each node's qualified name (see the module
    docstring) in ``node_to_qualname``. ``leaf_modules`` adds module classes that are
    recorded as one call instead of being traced through."""

    def __init__(self, *args, leaf_modules: list | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.leaf_modules = tuple(leaf_modules or ())
        self.node_to_qualname: OrderedDict = OrderedDict()
        self._scope: list[str] = []
        self._seen: dict[str, int] = {}

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if self.leaf_modules and isinstance(m, self.leaf_modules):
            return True
        if type(m).__module__.startswith("ember.vision.ops"):
            return True  # torchvision keeps its ops' modules (Conv2dNormActivation, MLP, ...)
        return super().is_leaf_module(m, module_qualified_name)

    def call_module(self, m: nn.Module, forward, args, kwargs):
        self._scope.append(self.path_of_module(m))
        try:
            return super().call_module(m, forward, args, kwargs)
        finally:
            self._scope.pop()

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        node = super().create_node(kind, target, args, kwargs, name, type_expr)
        if kind == "output":
            return node
        if kind == "call_module":
            qualname = target
        elif kind == "placeholder":
            qualname = node.name
        else:
            base = _NUMBERED.sub("", node.name)
            scope = self._scope[-1] if self._scope else ""
            qualname = f"{scope}.{base}" if scope else base
        count = self._seen.get(qualname, 0)
        self._seen[qualname] = count + 1
        self.node_to_qualname[node] = f"{qualname}_{count}" if count else qualname
        return node


def _trace(model: nn.Module, training: bool, tracer_kwargs: dict | None,
           concrete_args: dict | None) -> tuple[fx.Graph, NodePathTracer]:
    was_training = model.training
    model.train(training)
    try:
        tracer = NodePathTracer(**(tracer_kwargs or {}))
        graph = tracer.trace(model, concrete_args=concrete_args)
    finally:
        model.train(was_training)
    return graph, tracer


def get_graph_node_names(model: nn.Module, tracer_kwargs: dict | None = None,
                         suppress_diff_warning: bool = False,
                         concrete_args: dict | None = None) -> tuple[list[str], list[str]]:
    """The qualified names of ``model``'s graph nodes, in execution order, as traced in
    train mode and in eval mode (see the module docstring); the names that
    :func:`create_feature_extractor` accepts.

    Example::

        >>> train_nodes, eval_nodes = get_graph_node_names(ember.vision.models.resnet18())
        >>> train_nodes[:4]
        ['x', 'conv1', 'bn1', 'relu']
    """
    names = []
    for training in (True, False):
        _, tracer = _trace(model, training, tracer_kwargs, concrete_args)
        names.append(list(tracer.node_to_qualname.values()))
    if names[0] != names[1] and not suppress_diff_warning:
        warnings.warn("the model's graph differs between train and eval mode: when choosing "
                      "nodes for feature extraction you may need to give train_return_nodes and "
                      "eval_return_nodes separately", stacklevel=2)
    return names[0], names[1]


def _parse_nodes(return_nodes) -> OrderedDict:
    if isinstance(return_nodes, (list, tuple)):
        return OrderedDict((str(n), str(n)) for n in return_nodes)
    return OrderedDict((str(k), str(v)) for k, v in return_nodes.items())


def _select(graph: fx.Graph, tracer: NodePathTracer, return_nodes: OrderedDict) -> None:
    """Makes ``graph`` return ``{user name: node}`` for the requested nodes and drops what
    they don't need."""
    qualnames = tracer.node_to_qualname
    chosen: dict[str, fx.Node] = {}
    for query, out_name in return_nodes.items():
        found = None
        for node, qualname in qualnames.items():  # the last match: a module's output
            if qualname == query or qualname.startswith(query + "."):
                found = node
        if found is None:
            raise ValueError(f"node: '{query}' is not present in model. Hint: use "
                             "`get_graph_node_names` to make sure the `return_nodes` you "
                             "specified are present. It may even be that you need to specify "
                             "`train_return_nodes` and `eval_return_nodes` separately.")
        chosen[out_name] = found
    for node in list(graph.nodes):
        if node.op == "output":
            graph.erase_node(node)
    graph.output(dict(chosen))
    graph.eliminate_dead_code()
    graph.lint()


def _copy_target(src: nn.Module, dst: nn.Module, target: str) -> None:
    """Puts ``src``'s attribute at dotted path ``target`` at the same path of ``dst``."""
    *parents, field = target.split(".")
    for part in parents:
        src = getattr(src, part)
        child = dst._modules.get(part)
        if child is None:
            child = nn.Module()
            child.training = src.training
            dst.add_module(part, child)
        dst = child
    if field in dst._modules or field in dst._parameters or field in dst._buffers:
        return
    value = getattr(src, field)
    if isinstance(value, nn.Module) or isinstance(value, nn.Parameter):
        setattr(dst, field, value)
    else:
        dst.register_buffer(field, value)


class DualGraphModule(fx.GraphModule):
    """A module with one graph for train mode and one for eval mode: ``forward`` runs the one
    of the current mode. It holds the submodules and attributes either graph uses, at their
    paths in ``root`` (so ``state_dict`` keys are the model's)."""

    def __init__(self, root: nn.Module, train_graph: fx.Graph, eval_graph: fx.Graph,
                 class_name: str = "GraphModule") -> None:
        nn.Module.__init__(self)
        type(self).__name__ = type(self).__qualname__ = class_name
        for graph in (train_graph, eval_graph):
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    _copy_target(root, self, node.target)
        self.meta: dict[str, Any] = {}
        self.train_graph = train_graph
        self.eval_graph = eval_graph
        self.training = root.training
        self.recompile()

    @property
    def graph(self) -> fx.Graph:
        """The graph of the current mode."""
        return self.train_graph if self.training else self.eval_graph

    @graph.setter
    def graph(self, g: fx.Graph) -> None:
        if self.training:
            self.train_graph = g
        else:
            self.eval_graph = g
        self.recompile()

    @property
    def code(self) -> str:
        """The generated source of the current mode's graph."""
        return self.__dict__["_codes"][bool(self.training)]

    def recompile(self):
        """Regenerates both modes' forward functions from their graphs."""
        forwards, codes = {}, {}
        for training, graph in ((True, self.train_graph), (False, self.eval_graph)):
            graph.owning_module = self
            pc = graph.python_code(root_module="self")
            scope = dict(pc.globals)
            source = compile(pc.src, f"<feature extractor, train={training}>", "exec")
            exec(source, scope)  # noqa: S102 - code generated from our own graph
            forwards[training], codes[training] = scope["forward"], pc.src
        self.__dict__["_forwards"] = forwards
        self.__dict__["_codes"] = codes
        return None

    def forward(self, *args, **kwargs):
        return self.__dict__["_forwards"][bool(self.training)](self, *args, **kwargs)

    def __deepcopy__(self, memo):
        base = type(self).__bases__[0]
        new = base.__new__(base)
        memo[id(self)] = new
        state = {k: v for k, v in self.__dict__.items() if k not in ("_forwards", "_codes")}
        new.__dict__.update(copy.deepcopy(state, memo))
        type(new).__name__ = type(new).__qualname__ = type(self).__name__
        new.recompile()
        return new


def create_feature_extractor(model: nn.Module, return_nodes=None, train_return_nodes=None,
                             eval_return_nodes=None, tracer_kwargs: dict | None = None,
                             suppress_diff_warning: bool = False,
                             concrete_args: dict | None = None) -> fx.GraphModule:
    """Creates a new module that returns intermediate outputs of ``model`` in a dict,
    keyed by the user-given names.

    Args:
        model (nn.Module): model on which we will extract the features
        return_nodes (list or dict, optional): either a ``List`` or a ``Dict`` containing the
            names (or partial names - see note above) of the nodes for which the activations
            will be returned. If it is a ``Dict``, the keys are the node names, and the
            values are the user-specified keys for the graph module's returned dictionary.
            If it is a ``List``, it is treated as a ``Dict`` mapping node specification
            strings directly to output names.
        train_return_nodes (list or dict, optional): similar to ``return_nodes``. This can
            be used if the return nodes for train mode are different than those from eval
            mode. If this is specified, ``eval_return_nodes`` must also be specified, and
            ``return_nodes`` should not be specified.
        eval_return_nodes (list or dict, optional): similar to ``return_nodes``.
        tracer_kwargs (dict, optional): keyword arguments for the ``NodePathTracer``
            (``leaf_modules``, ``autowrap_modules``, ``autowrap_functions``).
        suppress_diff_warning (bool): don't warn when train and eval graphs differ.
        concrete_args (dict, optional): passed to the tracer (``ember.fx`` concrete_args).

    Node names are the qualified names of the module docstring (those
    :func:`get_graph_node_names` lists).

    Examples::

        >>> m = ember.vision.models.resnet18()
        >>> extractor = create_feature_extractor(m, {'layer1': 'feat1', 'layer3': 'feat2'})
        >>> out = extractor(ember.rand(1, 3, 224, 224))
    """
    if return_nodes is None and (train_return_nodes is None or eval_return_nodes is None):
        raise ValueError("Either `return_nodes` or `train_return_nodes` and "
                         "`eval_return_nodes` together, should be specified")
    if return_nodes is not None and (train_return_nodes is not None
                                     or eval_return_nodes is not None):
        raise ValueError("If `train_return_nodes` and `eval_return_nodes` are specified, "
                         "then both should be specified")
    if return_nodes is not None:
        train_return_nodes = eval_return_nodes = return_nodes
    graphs = {}
    for training, wanted in ((True, train_return_nodes), (False, eval_return_nodes)):
        graph, tracer = _trace(model, training, tracer_kwargs, concrete_args)
        _select(graph, tracer, _parse_nodes(wanted))
        graphs[training] = graph
    return DualGraphModule(model, graphs[True], graphs[False], type(model).__name__)
