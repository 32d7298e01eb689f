"""``torch.sym_int``, ``sym_float``, ``sym_max``, ``sym_min``, ``sym_not``, ``sym_ite``,
``sym_sqrt`` and ``sym_sum``: PyTorch's helpers for code that may see symbolic sizes under
``torch.compile``. ember runs eagerly, so sizes are plain Python numbers and each helper is
its Python counterpart (``sym_max(2, 3.0)`` is ``3.0``: a float operand makes a float, as in
PyTorch). 0-dim tensors are taken by value.
"""

from __future__ import annotations

import builtins
import math

__all__ = ["sym_int", "sym_float", "sym_max", "sym_min", "sym_not", "sym_ite", "sym_sqrt",
           "sym_sum"]


def _value(a):
    return a.item() if hasattr(a, "item") and not isinstance(a, (int, float, bool)) else a


def sym_int(a) -> int:
    """``int(a)``, truncating toward zero."""
    return int(math.trunc(_value(a)))


def sym_float(a) -> float:
    """``float(a)``."""
    return float(_value(a))


def _extreme(pick, a, b):
    a, b = _value(a), _value(b)
    r = pick(a, b)
    return float(r) if isinstance(a, float) or isinstance(b, float) else r


def sym_max(a, b):
    """The larger of ``a`` and ``b`` (a float when either is)."""
    return _extreme(builtins.max, a, b)


def sym_min(a, b):
    """The smaller of ``a`` and ``b`` (a float when either is)."""
    return _extreme(builtins.min, a, b)


def sym_not(a) -> bool:
    """``not a``."""
    return not _value(a)


def sym_ite(b, t, f):
    """``t if b else f``."""
    return t if _value(b) else f


def sym_sqrt(a) -> float:
    """``math.sqrt(a)``."""
    return math.sqrt(_value(a))


def sym_sum(args):
    """The sum of the numbers in ``args`` (starting from 0)."""
    return builtins.sum(_value(a) for a in args)
