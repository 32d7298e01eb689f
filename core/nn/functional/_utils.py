"""Argument helpers shared by ``ember.nn.functional``: tuples of ints for spatial
arguments, the reduction argument (and PyTorch's legacy ``size_average``/``reduce``)."""

from __future__ import annotations

import collections.abc
from itertools import repeat

__all__ = ["_single", "_pair", "_triple", "_quadruple", "_ntuple", "_spatial", "legacy_reduction",
           "reduce_loss"]


def _ntuple(n: int, name: str = "parse", expand_single: bool = False):
    """A parser of ``n`` ints: a number is repeated, a sequence kept as a tuple (with
    ``expand_single``, a one-element sequence is repeated too, as ATen expands
    ``padding=(1,)`` for a 2-D convolution)."""

    def parse(x):
        if isinstance(x, collections.abc.Iterable) and not isinstance(x, str):
            t = tuple(x)
            return t * n if expand_single and len(t) == 1 and n > 1 else t
        return tuple(repeat(x, n))
    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _spatial(n: int):
    """The parser of the convolution and pooling functions' spatial arguments (kernel size,
    stride, padding, dilation) for ``n`` dims: one-element sequences expand, as in ATen."""
    return _ntuple(n, "_spatial", expand_single=True)


def _list_with_default(out_size, defaults):
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [v if v is not None else d for v, d in zip(out_size, defaults[-len(out_size):])]


def legacy_reduction(size_average, reduce, reduction: str = "mean") -> str:
    """The reduction string for PyTorch's deprecated ``size_average``/``reduce`` pair."""
    if size_average is None and reduce is None:
        return reduction
    if size_average is None:
        size_average = True
    if reduce is None:
        reduce = True
    if size_average and reduce:
        return "mean"
    if reduce:
        return "sum"
    return "none"


def reduce_loss(loss, reduction: str):
    """Applies ``'none'``, ``'mean'`` or ``'sum'`` to an elementwise loss."""
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"{reduction} is not a valid value for reduction")
