"""Multi-head attention pieces shared by BERT and GPT-2: head split/merge, the additive
masks, and the attention product itself.

Attention is two batched matrix products over (B, nh, T, hs) and one softmax over the last
dimension; masks are additive (0 where a key may be seen, the dtype's most negative finite
value where not), so a row whose keys are all masked (a left-padding position) stays finite
instead of turning into NaN that would leak into other rows through the value product.
"""

from __future__ import annotations

import ember
import ember.nn.functional as F
from ember import Tensor

from ._kernels import fused_attention, gelu

__all__ = ["ACT2FN", "get_activation", "split_heads", "merge_heads", "attend",
           "padding_mask", "causal_padding_mask"]


def _gelu_tanh(x: Tensor) -> Tensor:
    return F.gelu(x, approximate="tanh")


def _quick_gelu(x: Tensor) -> Tensor:
    return x * ember.sigmoid(1.702 * x)


ACT2FN = {
    "gelu": gelu,
    "gelu_new": _gelu_tanh,
    "gelu_pytorch_tanh": _gelu_tanh,
    "gelu_fast": _gelu_tanh,
    "quick_gelu": _quick_gelu,
    "relu": F.relu,
    "silu": F.silu,
    "swish": F.silu,
    "tanh": ember.tanh,
    "sigmoid": ember.sigmoid,
}


def get_activation(name):
    """The activation function called ``name`` in a transformers config."""
    if callable(name):
        return name
    try:
        return ACT2FN[name]
    except KeyError:
        raise KeyError(f"activation {name!r} not found; known: {sorted(ACT2FN)}") from None


def split_heads(x: Tensor, n_head: int) -> Tensor:
    """(B, T, C) -> (B, nh, T, hs)."""
    b, t, c = x.shape
    return x.view(b, t, n_head, c // n_head).transpose(1, 2)


def merge_heads(x: Tensor) -> Tensor:
    """(B, nh, T, hs) -> (B, T, C)."""
    b, nh, t, hs = x.shape
    return x.transpose(1, 2).reshape(b, t, nh * hs)


def attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None, scale: float = 1.0,
           dropout_p: float = 0.0, head_mask: Tensor | None = None,
           need_weights: bool = False) -> tuple[Tensor, Tensor | None]:
    """``softmax(q k^T * scale + mask) v``.

    Args:
        q: (B, nh, T, hs) queries; k, v: (B, nh, S, hs) keys and values.
        mask: additive mask broadcastable to (B, nh, T, S), or None.
        scale: multiplies the scores.
        dropout_p: dropout on the attention probabilities (training only).
        head_mask: multiplies the probabilities, broadcastable to (B, nh, T, S).
        need_weights: also return the probabilities.

    Returns ``(out (B, nh, T, hs), probs (B, nh, T, S) or None)``.
    """
    if not need_weights and dropout_p == 0.0 and head_mask is None:
        return fused_attention(q, k, v, mask, scale), None
    scores = q.matmul(k.transpose(-1, -2))  # (B, nh, T, S)
    if scale != 1.0:
        scores = scores * scale
    if mask is not None:
        scores = scores + mask
    probs = F.softmax(scores, dim=-1)
    if dropout_p > 0.0:
        probs = F.dropout(probs, dropout_p, True)
    if head_mask is not None:
        probs = probs * head_mask
    return probs.matmul(v), (probs if need_weights else None)


def padding_mask(attention_mask: Tensor, dtype) -> Tensor:
    """(B, S) of 1 (attend) / 0 (padding) -> additive (B, 1, 1, S)."""
    keep = attention_mask[:, None, None, :].to(dtype)
    return (1.0 - keep) * ember.finfo(dtype).min


def causal_padding_mask(attention_mask: Tensor | None, q_len: int, past_len: int, dtype,
                        device=None) -> Tensor | None:
    """The additive mask letting query ``i`` (at absolute position ``past_len + i``) see key
    ``j`` when ``j <= past_len + i`` and the key is not padding.

    ``attention_mask`` is (B, past_len + q_len) or None; the result is (B or 1, 1, q_len,
    past_len + q_len), or None when nothing needs masking (one query, no padding).
    """
    s = past_len + q_len
    neg = ember.finfo(dtype).min
    keep = None
    if q_len > 1:
        keep = ember.ones(q_len, s, dtype=ember.bool, device=device).tril(past_len)
        keep = keep[None, None]  # (1, 1, T, S)
    if attention_mask is not None:
        pad = attention_mask[:, None, None, :].bool()  # (B, 1, 1, S)
        if bool(pad.all()):
            pad = None
        if pad is not None:
            keep = pad if keep is None else keep & pad
    if keep is None:
        return None
    zero = ember.zeros((), dtype=dtype, device=device)
    return ember.where(keep, zero, ember.full((), neg, dtype=dtype, device=device))
