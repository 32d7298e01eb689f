"""``ReduceOp``: how collectives combine values, as ``torch.distributed.ReduceOp``."""

from __future__ import annotations

import enum

import numpy as np

__all__ = ["ReduceOp", "reduce_op", "apply_op"]


class _RedOpType(enum.Enum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8
    UNUSED = 9

    def __repr__(self) -> str:
        return f"<RedOpType.{self.name}: {self.value}>"

    def __str__(self) -> str:
        return f"RedOpType.{self.name}"


_RedOpType.__name__ = _RedOpType.__qualname__ = "RedOpType"


class ReduceOp:
    """The reduction of ``all_reduce``, ``reduce`` and ``reduce_scatter``: ``SUM``,
    ``PRODUCT``, ``MIN``, ``MAX``, ``AVG`` (sum divided by the group size; integer tensors
    get floor division), ``BAND``, ``BOR``, ``BXOR`` (integer and bool tensors)."""

    RedOpType = _RedOpType
    SUM = _RedOpType.SUM
    AVG = _RedOpType.AVG
    PRODUCT = _RedOpType.PRODUCT
    MIN = _RedOpType.MIN
    MAX = _RedOpType.MAX
    BAND = _RedOpType.BAND
    BOR = _RedOpType.BOR
    BXOR = _RedOpType.BXOR
    PREMUL_SUM = _RedOpType.PREMUL_SUM
    UNUSED = _RedOpType.UNUSED

    def __new__(cls, op=_RedOpType.SUM):
        return check(op)


class reduce_op:  # noqa: N801  (deprecated PyTorch name)
    """Deprecated alias of ``ReduceOp`` (SUM, PRODUCT, MIN, MAX)."""

    SUM = _RedOpType.SUM
    PRODUCT = _RedOpType.PRODUCT
    MIN = _RedOpType.MIN
    MAX = _RedOpType.MAX


def check(op) -> _RedOpType:
    """``op`` as a ``ReduceOp`` member, or a ValueError."""
    if isinstance(op, _RedOpType):
        if op in (_RedOpType.PREMUL_SUM, _RedOpType.UNUSED):
            raise ValueError(f"ReduceOp.{op.name} is not supported by ember.distributed")
        return op
    if isinstance(op, str) and op.upper() in _RedOpType.__members__:
        return check(_RedOpType[op.upper()])
    raise ValueError(f"Invalid ``op``. Expected ``op`` to be of type "
                     f"``torch.distributed.ReduceOp``, but got {op!r}.")


_BINARY = {
    _RedOpType.SUM: np.add, _RedOpType.AVG: np.add, _RedOpType.PRODUCT: np.multiply,
    _RedOpType.MIN: np.minimum, _RedOpType.MAX: np.maximum, _RedOpType.BAND: np.bitwise_and,
    _RedOpType.BOR: np.bitwise_or, _RedOpType.BXOR: np.bitwise_xor,
}


def apply_op(op: _RedOpType, acc, x) -> None:
    """``acc = acc (op) x`` in place (numpy or cupy arrays)."""
    ufunc = _BINARY[op]
    if acc.dtype.kind == "f" and op in (_RedOpType.BAND, _RedOpType.BOR, _RedOpType.BXOR):
        raise RuntimeError(f"ReduceOp.{op.name} is only supported for integer and bool "
                           f"tensors, got dtype {acc.dtype}")
    if isinstance(acc, np.ndarray):
        ufunc(acc, x, out=acc)
    else:  # cupy: its ufuncs carry the same names
        import cupy

        getattr(cupy, ufunc.__name__)(acc, x, out=acc)


def finish_avg(op: _RedOpType, acc, n: int):
    """Divides a summed ``acc`` by ``n`` for ``AVG`` (floor division for integers)."""
    if op is not _RedOpType.AVG:
        return acc
    if acc.dtype.kind in "fc" or acc.dtype.kind == "V":
        acc /= n
    else:
        acc //= n
    return acc
