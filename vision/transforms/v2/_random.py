"""Random draws of the v2 transforms, all from ember's default generator (so
``ember.manual_seed`` reproduces a pipeline), with torch's calls' semantics."""

from __future__ import annotations

import ember

__all__ = []


def uniform(low: float, high: float) -> float:
    """A float uniform on [low, high) (``torch.empty(1).uniform_(low, high)``)."""
    return float(ember.empty(1).uniform_(float(low), float(high)).item())


def randint(low: int, high: int) -> int:
    """An int uniform on [low, high) (``torch.randint(low, high, ())``)."""
    return int(ember.randint(int(low), int(high), size=(1,)).item())


def rand() -> float:
    """A float uniform on [0, 1) (``torch.rand(1)``)."""
    return float(ember.rand(1).item())


def rand_pair() -> tuple[float, float]:
    """Two floats uniform on [0, 1) (``torch.rand(2)``)."""
    a, b = ember.rand(2).tolist()
    return float(a), float(b)
