"""CUDA graphs (``ember.cuda.CUDAGraph``, ``graph``): declared, not supported.

ember does not capture CUDA graphs. The names exist so that code which annotates with them or
guards their use behind ``torch.cuda.is_available()`` imports; using them raises.
``is_current_stream_capturing()`` is False.
"""

from __future__ import annotations

__all__ = ["CUDAGraph", "graph", "graph_pool_handle", "is_current_stream_capturing",
           "make_graphed_callables"]

_MSG = ("{} is not supported by ember: ember does not capture CUDA graphs; run the work "
        "eagerly instead")


def is_current_stream_capturing() -> bool:
    """False: ember never captures a CUDA graph."""
    return False


class CUDAGraph:
    """A captured CUDA graph (not supported by ember: constructing one raises)."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(_MSG.format("ember.cuda.CUDAGraph"))


class graph:  # noqa: N801 - PyTorch's name
    """``with ember.cuda.graph(g):`` capture context (not supported: raises)."""

    def __init__(self, cuda_graph=None, pool=None, stream=None, capture_error_mode="global"):
        raise NotImplementedError(_MSG.format("ember.cuda.graph"))


def graph_pool_handle():
    """Not supported (see ``CUDAGraph``)."""
    raise NotImplementedError(_MSG.format("ember.cuda.graph_pool_handle"))


def make_graphed_callables(callables, sample_args, **kwargs):
    """Not supported (see ``CUDAGraph``)."""
    raise NotImplementedError(_MSG.format("ember.cuda.make_graphed_callables"))
