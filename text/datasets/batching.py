"""Batching text for training: language-model streams cut into BPTT windows (PyTorch's
word_language_model example) and a collate function that pads token sequences and builds
attention masks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import ember
import numpy as np
from ember import Tensor

__all__ = ["batchify", "get_batch", "bptt_batches", "pad_batch", "PaddingCollator"]


def batchify(data: Tensor, bsz: int) -> Tensor:
    """Cut a 1-D token stream into ``bsz`` columns -> (N // bsz, bsz), dropping the tail
    that does not fill a row (column j is a contiguous piece of the stream)."""
    if data.ndim != 1:
        raise ValueError(f"batchify: expected a 1-D token stream, got shape {list(data.shape)}")
    nbatch = data.shape[0] // bsz
    if nbatch == 0:
        raise ValueError(f"batchify: {data.shape[0]} tokens are fewer than bsz={bsz}")
    return data[:nbatch * bsz].view(bsz, -1).t().contiguous()


def get_batch(source: Tensor, i: int, bptt: int = 35) -> tuple[Tensor, Tensor]:
    """The window of ``source`` (N, B) starting at row ``i``: inputs (L, B) and the next
    tokens as targets, flattened (L * B), with L = min(bptt, N - 1 - i)."""
    seq_len = min(bptt, source.shape[0] - 1 - i)
    if seq_len <= 0:
        raise IndexError(f"get_batch: row {i} leaves no target in {source.shape[0]} rows")
    return source[i:i + seq_len], source[i + 1:i + 1 + seq_len].reshape(-1)


def bptt_batches(source: Tensor, bptt: int = 35) -> Iterator[tuple[Tensor, Tensor]]:
    """Every :func:`get_batch` window of ``source``, in order."""
    for i in range(0, source.shape[0] - 1, bptt):
        yield get_batch(source, i, bptt)


def pad_batch(sequences: Sequence[Sequence[int]], pad_token_id: int = 0,
              padding_side: str = "right", max_length: int | None = None,
              pad_to_multiple_of: int | None = None) -> tuple[Tensor, Tensor]:
    """Pad token-id sequences into ``input_ids`` (B, T) and ``attention_mask`` (B, T) of
    1 on tokens, 0 on padding (``padding_side="left"`` for decoder prompts); sequences
    longer than ``max_length`` are cut."""
    if padding_side not in ("right", "left"):
        raise ValueError(f"padding_side={padding_side!r}; expected 'right' or 'left'")
    rows = [np.asarray(s.tolist() if hasattr(s, "tolist") else s, dtype=np.int64).reshape(-1)
            for s in sequences]
    if max_length is not None:
        rows = [r[:max_length] for r in rows]
    t = max((len(r) for r in rows), default=0)
    if pad_to_multiple_of:
        t = -(-t // pad_to_multiple_of) * pad_to_multiple_of
    ids = np.full((len(rows), t), pad_token_id, dtype=np.int64)
    mask = np.zeros((len(rows), t), dtype=np.int64)
    for i, r in enumerate(rows):  # one slice assignment per sequence
        if padding_side == "right":
            ids[i, :len(r)], mask[i, :len(r)] = r, 1
        else:
            ids[i, t - len(r):], mask[i, t - len(r):] = r, 1
    return ember.from_numpy(ids), ember.from_numpy(mask)


class PaddingCollator:
    """``collate_fn`` for a ``DataLoader`` over tokenized examples.

    Each example is a sequence of token ids, a ``(ids, label)`` pair, or a mapping with
    ``input_ids`` (and optionally ``label``/``labels``, ``token_type_ids``). The batch is a
    dict with ``input_ids`` and ``attention_mask`` (B, T), ``token_type_ids`` when given,
    and ``labels`` stacked as a tensor (sequence labels are padded with -100).

    Args:
        pad_token_id: the padding id (or pass ``tokenizer`` to use its ``pad_token_id``).
        padding_side: ``"right"`` or ``"left"``.
        max_length: cut longer sequences.
        pad_to_multiple_of: round the padded length up.
    """

    def __init__(self, pad_token_id: int | None = None, tokenizer=None,
                 padding_side: str = "right", max_length: int | None = None,
                 pad_to_multiple_of: int | None = None) -> None:
        if pad_token_id is None:
            pad_token_id = getattr(tokenizer, "pad_token_id", None)
        self.pad_token_id = 0 if pad_token_id is None else pad_token_id
        self.padding_side = padding_side
        self.max_length = max_length
        self.pad_to_multiple_of = pad_to_multiple_of

    def _pad(self, seqs, value):
        ids, mask = pad_batch(seqs, value, self.padding_side, self.max_length,
                              self.pad_to_multiple_of)
        return ids, mask

    def __call__(self, examples: Sequence[Any]) -> dict[str, Tensor]:
        if not examples:
            raise ValueError("PaddingCollator: empty batch")
        first = examples[0]
        labels = None
        types = None
        if isinstance(first, Mapping):
            ids = [e["input_ids"] for e in examples]
            key = "labels" if "labels" in first else ("label" if "label" in first else None)
            labels = [e[key] for e in examples] if key else None
            if "token_type_ids" in first:
                types = [e["token_type_ids"] for e in examples]
        elif isinstance(first, tuple) and len(first) == 2:
            ids = [e[0] for e in examples]
            labels = [e[1] for e in examples]
        else:
            ids = list(examples)
        input_ids, mask = self._pad(ids, self.pad_token_id)
        batch = {"input_ids": input_ids, "attention_mask": mask}
        if types is not None:
            batch["token_type_ids"] = self._pad(types, 0)[0]
        if labels is not None:
            if all(_is_scalar(lbl) for lbl in labels):
                batch["labels"] = ember.tensor([_scalar(lbl) for lbl in labels])
            else:
                batch["labels"] = self._pad(labels, -100)[0]
        return batch


def _is_scalar(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) or getattr(x, "ndim", None) == 0


def _scalar(x):
    return x.item() if hasattr(x, "item") else x
