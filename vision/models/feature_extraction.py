"""Feature extraction by module path, as ``torchvision.models.feature_extraction``.

torchvision traces the model with torch.fx and names every node; ember has no FX, so a
return node here is a *module path* (``"layer1"``, ``"layer4.1.conv2"``) and its value is
that module's output, captured with a forward hook. A module called more than once in one
forward is addressed FX-style with a suffix: ``"layer1.0.relu"`` is its first call,
``"layer1.0.relu_1"`` its second. ``"x"`` names the model input. Function nodes (``add``,
``flatten``) are not available: wrap such computations in a module. The whole forward runs
(torchvision's graph stops after the last requested node).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

from ember import nn

__all__ = ["create_feature_extractor", "get_graph_node_names"]


def get_graph_node_names(model: nn.Module, tracer_kwargs: dict | None = None,
                         suppress_diff_warning: bool = False,
                         concrete_args: dict | None = None) -> tuple[list[str], list[str]]:
    """The node names that :func:`create_feature_extractor` accepts for ``model``, for
    train and eval mode: ``"x"`` and every module path, in registration order.

    Unlike torchvision, repeated calls (``relu_1``) and function nodes are not listed,
    since ember finds nodes without tracing.
    """
    names = ["x"] + [name for name, _ in model.named_modules() if name]
    return list(names), list(names)


def _parse_nodes(return_nodes) -> OrderedDict:
    if isinstance(return_nodes, (list, tuple)):
        return OrderedDict((str(n), str(n)) for n in return_nodes)
    return OrderedDict((str(k), str(v)) for k, v in return_nodes.items())


_SUFFIX = re.compile(r"^(.*)_(\d+)$")


class FeatureExtractor(nn.Module):
    """``model`` whose forward returns a dict of intermediate outputs (see the module
    docstring). The wrapped model is kept as ``self.model``; ``state_dict`` and
    ``load_state_dict`` are the model's own, so the keys are unchanged (as torchvision's
    graph module keeps them)."""

    def __init__(self, model: nn.Module, train_nodes: OrderedDict, eval_nodes: OrderedDict):
        super().__init__()
        self.model = model
        self.train_return_nodes = train_nodes
        self.eval_return_nodes = eval_nodes
        modules = dict(model.named_modules())
        for nodes in (train_nodes, eval_nodes):
            for node in nodes:
                self._resolve(node, modules)
        self.train(model.training)

    @staticmethod
    def _resolve(node: str, modules: dict) -> tuple[str, int]:
        if node == "x":
            return "x", 0
        if node in modules and node:
            return node, 0
        m = _SUFFIX.match(node)
        if m and m.group(1) in modules and m.group(1):
            return m.group(1), int(m.group(2))
        avail = [n for n in modules if n][:40]
        raise ValueError(f"node: '{node}' is not present in model. ember.vision addresses "
                         "nodes by module path (with '_<k>' for the k-th repeated call); "
                         f"some available nodes are: {avail}")

    def state_dict(self, *args, **kwargs):
        return self.model.state_dict(*args, **kwargs)

    def load_state_dict(self, *args, **kwargs):
        return self.model.load_state_dict(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> dict:
        nodes = self.train_return_nodes if self.training else self.eval_return_nodes
        modules = dict(self.model.named_modules())
        wanted: dict[str, dict[int, str]] = {}
        out: dict[str, Any] = {}
        for node, name in nodes.items():
            path, k = self._resolve(node, modules)
            if path == "x":
                out[name] = args[0] if args else next(iter(kwargs.values()))
                continue
            wanted.setdefault(path, {})[k] = name
        calls = dict.fromkeys(wanted, 0)
        handles = []

        def make_hook(path):
            def hook(module, inputs, output):
                k = calls[path]
                calls[path] = k + 1
                if k in wanted[path]:
                    out[wanted[path][k]] = output
            return hook

        for path in wanted:
            handles.append(modules[path].register_forward_hook(make_hook(path)))
        try:
            self.model(*args, **kwargs)
        finally:
            for h in handles:
                h.remove()
        missing = [n for n in nodes.values() if n not in out]
        if missing:
            raise RuntimeError(f"create_feature_extractor: nodes {missing} were not reached "
                               "in the forward pass")
        return OrderedDict((name, out[name]) for name in nodes.values())


def create_feature_extractor(model: nn.Module, return_nodes=None, train_return_nodes=None,
                             eval_return_nodes=None, tracer_kwargs: dict | None = None,
                             suppress_diff_warning: bool = False,
                             concrete_args: dict | None = None) -> nn.Module:
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

    Node names are module paths (see the module docstring for how they differ from
    torchvision's FX node names).

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
    return FeatureExtractor(model, _parse_nodes(train_return_nodes),
                            _parse_nodes(eval_return_nodes))
