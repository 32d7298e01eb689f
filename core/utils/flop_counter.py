"""``torch.utils.flop_counter``: declared so that libraries importing ``FlopCounterMode``
(Lightning's model summary and ``measure_flops``) load. Counting needs PyTorch's dispatcher,
which ember does not have: entering a ``FlopCounterMode`` raises, saying so; a mode never
entered reports no counts, as PyTorch's does."""

from __future__ import annotations

__all__ = ["FlopCounterMode", "register_flop_formula"]


class FlopCounterMode:
    """Declared; using it raises ``NotImplementedError`` (ember has no op dispatcher to
    count through)."""

    def __init__(self, mods=None, depth: int = 2, display: bool = True,
                 custom_mapping=None) -> None:
        self.depth = depth
        self.display = display

    def __enter__(self):
        raise NotImplementedError("FlopCounterMode is not supported by ember: it counts "
                                  "through PyTorch's op dispatcher, which ember does not have")

    def __exit__(self, *exc):
        return False

    def get_total_flops(self) -> int:
        """0: nothing has been counted (the mode cannot be entered in ember)."""
        return 0

    def get_flop_counts(self) -> dict:
        """Per-module counts: empty, as nothing has been counted."""
        return {}


def register_flop_formula(targets, get_raw: bool = False):
    """A decorator that leaves the formula as it is (nothing counts flops in ember)."""
    def decorator(fn):
        return fn
    return decorator
