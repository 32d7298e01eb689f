"""``ember._dynamo.eval_frame``: where PyTorch defines ``OptimizedModule`` (libraries test
``isinstance(m, torch._dynamo.eval_frame.OptimizedModule)`` to unwrap compiled models)."""

from __future__ import annotations

from . import OptimizedModule

__all__ = ["OptimizedModule"]
