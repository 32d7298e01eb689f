"""``ember._subclasses.fake_tensor``: ``FakeTensor`` and ``FakeTensorMode``, declared only.

ember has no fake (shape-only) tensors: no ember tensor is a ``FakeTensor``, and entering a
``FakeTensorMode`` raises NotImplementedError.
"""

from __future__ import annotations

from .._tensor import Tensor

__all__ = ["FakeTensor", "FakeTensorMode", "is_fake"]

_MSG = ("{} is not supported by ember: ember has no fake tensors (every op runs its real "
        "kernel)")


class FakeTensor(Tensor):
    """A tensor with metadata but no data (none exists in ember: constructing one raises)."""

    __slots__ = ()

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(_MSG.format("ember._subclasses.FakeTensor"))


class FakeTensorMode:
    """The mode that makes ops produce FakeTensors (not supported: constructing it raises)."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(_MSG.format("ember._subclasses.FakeTensorMode"))


def is_fake(x: object) -> bool:
    """Whether ``x`` is a fake tensor: always False in ember, which has none."""
    return isinstance(x, FakeTensor)
