"""``ember.onnx``: the ``torch.onnx`` namespace.

``export`` traces a model with ember's tracer (control flow frozen at the example's path,
as PyTorch's TorchScript-based exporter does) and writes an ONNX model with the ``onnx``
package (``pip install ember[onnx]``). An op with no ONNX mapping raises
``OnnxExporterError`` naming it, and no file is written.
"""

from __future__ import annotations

import enum

from ._export import DEFAULT_OPSET, OnnxExporterError, ONNXProgram, export, is_in_onnx_export

__all__ = ["export", "is_in_onnx_export", "OnnxExporterError", "ONNXProgram", "TrainingMode",
           "OperatorExportTypes", "DEFAULT_OPSET"]


class TrainingMode(enum.IntEnum):
    """``training=`` of ``export``: ember exports in eval mode unless TRAINING is given."""

    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


class OperatorExportTypes(enum.IntEnum):
    """Accepted for compatibility; ember always exports standard ONNX ops."""

    ONNX = 0
    ONNX_ATEN = 1
    ONNX_ATEN_FALLBACK = 2
    ONNX_FALLTHROUGH = 3
