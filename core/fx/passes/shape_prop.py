"""``ShapeProp``: run a ``GraphModule`` on example inputs and record each node's result
shape and dtype in ``node.meta['tensor_meta']``, as ``torch.fx.passes.shape_prop``."""

from __future__ import annotations

from typing import Any, NamedTuple

from ..._tensor import Tensor
from ..interpreter import Interpreter
from ..node import Node, map_aggregate

__all__ = ["ShapeProp", "TensorMetadata"]


class TensorMetadata(NamedTuple):
    """What ``ShapeProp`` records about a tensor value."""

    shape: Any
    dtype: Any
    requires_grad: bool
    stride: tuple
    memory_format: Any
    is_quantized: bool
    qparams: dict


def _extract_tensor_metadata(t: Tensor) -> TensorMetadata:
    memory_format = "torch.contiguous_format" if t.is_contiguous() else None
    return TensorMetadata(t.shape, t.dtype, t.requires_grad, t.stride(), memory_format,
                          False, {})


class ShapeProp(Interpreter):
    """Runs the graph and stores ``TensorMetadata`` (or a nest of them, for nodes that give
    tuples/lists/dicts of tensors) in ``node.meta['tensor_meta']``, and the result's type in
    ``node.meta['type']``.

    Example::

        >>> ShapeProp(gm).propagate(ember.randn(2, 3))
        >>> [n.meta["tensor_meta"].shape for n in gm.graph.nodes if n.op != "output"]
    """

    def __init__(self, gm, fake_mode=None) -> None:
        super().__init__(gm)

    def run_node(self, n: Node) -> Any:
        result = super().run_node(n)
        found = []

        def describe(x):
            if isinstance(x, Tensor):
                found.append(True)
                return _extract_tensor_metadata(x)
            return x

        meta = map_aggregate(result, describe)
        if found:
            n.meta["tensor_meta"] = meta
        n.meta["type"] = type(result)
        return result

    def propagate(self, *args) -> Any:
        """Runs the module on ``args`` (recording the metadata) and returns its result."""
        return super().run(*args)
