"""``ember.export``: ``torch.export``'s entry points over ember's tracer.

``export(model, args)`` records the ops the model runs on ``args`` (``ember.jit.trace``'s
recorder) and returns an ``ExportedProgram``; ``.module()`` replays it, ``save``/``load``
use ember's portable zip format (a JSON graph and the weights; loading unpickles nothing).
Departures from PyTorch: the program keeps the example's shapes, so ``dynamic_shapes``
raises rather than giving a program that silently fails on other shapes; keyword example
inputs are not supported; the saved file is ember's format, not PyTorch's ``.pt2``.
"""

from __future__ import annotations

from ._program import Dim, ExportedProgram, export, load, save

__all__ = ["export", "ExportedProgram", "save", "load", "Dim"]
