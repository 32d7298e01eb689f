"""Argument helpers under PyTorch's path ``torch.nn.modules.utils`` (``_pair`` and
friends), which user code and torchvision-style ops import."""

from __future__ import annotations

from ..functional._utils import _ntuple, _pair, _quadruple, _single, _triple

__all__ = ["_single", "_pair", "_triple", "_quadruple", "_ntuple", "_reverse_repeat_tuple"]


def _reverse_repeat_tuple(t, n: int) -> tuple:
    """``t`` reversed with each element repeated ``n`` times: (1, 2) -> (2, 2, 1, 1)."""
    return tuple(x for x in reversed(t) for _ in range(n))
