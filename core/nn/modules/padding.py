"""Padding layers: constant, zero, reflection, replication and circular padding of 1, 2 or
3 trailing spatial dims."""

from __future__ import annotations

from ..._tensor import Tensor
from .. import functional as F
from ..functional._utils import _ntuple
from .module import Module

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d",
           "ZeroPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
           "CircularPad2d", "CircularPad3d"]


class _PadNd(Module):
    _nd = 1
    _mode = "constant"

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _ntuple(2 * self._nd)(padding)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


def _make(name, base, nd, mode, doc):
    return type(name, (base,), {"_nd": nd, "_mode": mode, "__doc__": doc,
                                "__module__": __name__})


ConstantPad1d = _make("ConstantPad1d", _ConstantPadNd, 1, "constant",
                      "Pads the last dim with a constant ``value``.")
ConstantPad2d = _make("ConstantPad2d", _ConstantPadNd, 2, "constant",
                      "Pads the last 2 dims with a constant ``value``.")
ConstantPad3d = _make("ConstantPad3d", _ConstantPadNd, 3, "constant",
                      "Pads the last 3 dims with a constant ``value``.")


class _ZeroPad:
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """Pads the last dim with zeros."""


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """Pads the last 2 dims with zeros."""


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    """Pads the last 3 dims with zeros."""


ReflectionPad1d = _make("ReflectionPad1d", _PadNd, 1, "reflect",
                        "Pads the last dim with its reflection.")
ReflectionPad2d = _make("ReflectionPad2d", _PadNd, 2, "reflect",
                        "Pads the last 2 dims with their reflection.")
ReflectionPad3d = _make("ReflectionPad3d", _PadNd, 3, "reflect",
                        "Pads the last 3 dims with their reflection.")
ReplicationPad1d = _make("ReplicationPad1d", _PadNd, 1, "replicate",
                         "Pads the last dim by repeating its edge values.")
ReplicationPad2d = _make("ReplicationPad2d", _PadNd, 2, "replicate",
                         "Pads the last 2 dims by repeating their edge values.")
ReplicationPad3d = _make("ReplicationPad3d", _PadNd, 3, "replicate",
                         "Pads the last 3 dims by repeating their edge values.")
CircularPad1d = _make("CircularPad1d", _PadNd, 1, "circular",
                      "Pads the last dim by wrapping around.")
CircularPad2d = _make("CircularPad2d", _PadNd, 2, "circular",
                      "Pads the last 2 dims by wrapping around.")
CircularPad3d = _make("CircularPad3d", _PadNd, 3, "circular",
                      "Pads the last 3 dims by wrapping around.")
