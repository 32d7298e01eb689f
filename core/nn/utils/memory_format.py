"""``convert_conv2d_weight_memory_format`` / ``convert_conv3d_weight_memory_format``, as
``torch.nn.utils.memory_format``. ember tensors are always row-major (see the
``memory_format`` row of docs/compatibility.md), so these return the module unchanged."""

from __future__ import annotations

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def convert_conv2d_weight_memory_format(module, memory_format):
    """Accepted for compatibility: returns ``module`` (layouts are always row-major)."""
    return module


def convert_conv3d_weight_memory_format(module, memory_format):
    """Accepted for compatibility: returns ``module`` (layouts are always row-major)."""
    return module
