"""``ember.nn.attention.bias``: causal attention masks aligned to the upper-left or the
lower-right corner, as ``torch.nn.attention.bias``; ``scaled_dot_product_attention``
accepts them as ``attn_mask``."""

from __future__ import annotations

import enum

__all__ = ["CausalVariant", "CausalBias", "causal_upper_left", "causal_lower_right"]


class CausalVariant(enum.IntEnum):
    """Where the causal diagonal starts."""

    UPPER_LEFT = 1
    LOWER_RIGHT = 2


class CausalBias:
    """A causal mask of shape (seq_len_q, seq_len_kv) that keeps key j for query i when
    j <= i (upper left) or j <= i + seq_len_kv - seq_len_q (lower right)."""

    def __init__(self, variant: CausalVariant, seq_len_q: int, seq_len_kv: int):
        if not isinstance(variant, CausalVariant):
            raise AssertionError("variant must be a CausalVariant")
        self.variant = variant
        self.seq_len_q = seq_len_q
        self.seq_len_kv = seq_len_kv

    def _materialize(self, device=None):
        """The boolean mask (True: attend) as a tensor."""
        from ... import ones

        offset = 0 if self.variant == CausalVariant.UPPER_LEFT else \
            self.seq_len_kv - self.seq_len_q
        full = ones(self.seq_len_q, self.seq_len_kv, dtype=bool_dtype(), device=device)
        return full.tril(offset)

    def __repr__(self) -> str:
        return f"CausalBias({self.variant.name}, {self.seq_len_q}, {self.seq_len_kv})"


def bool_dtype():
    from ... import bool as ember_bool

    return ember_bool


def causal_upper_left(*size) -> CausalBias:
    """The causal mask aligned to the upper-left corner."""
    if len(size) != 2:
        raise AssertionError("causal_upper_left only supports 2D tensors")
    return CausalBias(CausalVariant.UPPER_LEFT, size[0], size[1])


def causal_lower_right(*size) -> CausalBias:
    """The causal mask aligned to the lower-right corner."""
    if len(size) != 2:
        raise AssertionError("causal_lower_right only supports 2D tensors")
    return CausalBias(CausalVariant.LOWER_RIGHT, size[0], size[1])
