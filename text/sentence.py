"""Sentence embeddings as sentence-transformers computes them: a BERT encoder, pooling of
the token states with the attention mask (mean, CLS or max), and L2 normalisation.

``SentenceEmbedder.from_pretrained`` reads a sentence-transformers folder (``modules.json``,
``1_Pooling/config.json``, ``sentence_bert_config.json``) or hub name such as
``"sentence-transformers/all-MiniLM-L6-v2"``; ``encode`` returns one vector per sentence.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import ember
import ember.nn.functional as F
import numpy as np
from ember import Tensor

__all__ = ["mean_pooling", "cls_pooling", "max_pooling", "SentenceEmbedder"]


def mean_pooling(token_embeddings: Tensor, attention_mask: Tensor) -> Tensor:
    """The mean of the token states (B, T, C) over the real tokens (``attention_mask`` (B,
    T) = 1) -> (B, C); the denominator is clamped at 1e-9 as in sentence-transformers."""
    mask = attention_mask[..., None].to(token_embeddings.dtype)  # (B, T, 1)
    summed = (token_embeddings * mask).sum(1)
    return summed / mask.sum(1).clamp(min=1e-9)


def cls_pooling(token_embeddings: Tensor, attention_mask: Tensor | None = None) -> Tensor:
    """The first token's state (B, C)."""
    return token_embeddings[:, 0]


def max_pooling(token_embeddings: Tensor, attention_mask: Tensor) -> Tensor:
    """The element-wise maximum over the real tokens (B, C)."""
    mask = attention_mask[..., None].bool()
    return token_embeddings.masked_fill(~mask, -1e9).max(1)[0]


_POOLERS = {"mean": mean_pooling, "cls": cls_pooling, "max": max_pooling}


class SentenceEmbedder:
    """A BERT encoder with pooling and optional normalisation (sentence-transformers'
    ``SentenceTransformer`` for BERT models).

    Args:
        model: a ``BertModel``.
        tokenizer: its tokenizer.
        pooling: ``"mean"``, ``"cls"`` or ``"max"``.
        normalize: L2-normalise the embeddings.
        max_seq_length: inputs are truncated to this many tokens.
    """

    def __init__(self, model, tokenizer, pooling: str = "mean", normalize: bool = True,
                 max_seq_length: int | None = None) -> None:
        if pooling not in _POOLERS:
            raise ValueError(f"pooling={pooling!r}; choose one of {sorted(_POOLERS)}")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.normalize = normalize
        self.max_seq_length = max_seq_length or tokenizer.model_max_length

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike[str],
                        revision: str | None = None) -> SentenceEmbedder:
        """Load a sentence-transformers folder or hub model name."""
        from .models import BertModel
        from .models.hub import resolve_file
        from .tokenizers import AutoTokenizer

        path = os.fspath(name_or_path)

        def read(name):
            f = resolve_file(path, name, revision=revision, required=False)
            if f is None:
                return None
            with open(f, encoding="utf-8") as fh:
                return json.load(fh)

        modules = read("modules.json") or []
        types = [m.get("type", "") for m in modules]
        pool_cfg = read("1_Pooling/config.json") or {"pooling_mode_mean_tokens": True}
        if pool_cfg.get("pooling_mode_cls_token"):
            pooling = "cls"
        elif pool_cfg.get("pooling_mode_max_tokens"):
            pooling = "max"
        else:
            pooling = "mean"
        st_cfg = read("sentence_bert_config.json") or {}
        normalize = any(t.endswith("Normalize") for t in types)
        model = BertModel.from_pretrained(path, revision=revision)
        tokenizer = AutoTokenizer.from_pretrained(path, revision=revision)
        return cls(model, tokenizer, pooling, normalize, st_cfg.get("max_seq_length"))

    def __call__(self, sentences: str | Sequence[str], **kwargs):
        return self.encode(sentences, **kwargs)

    def encode(self, sentences: str | Sequence[str], batch_size: int = 32,
               convert_to_numpy: bool = True, normalize_embeddings: bool | None = None):
        """Embed ``sentences`` -> (N, C) (a single string gives (C,)); numpy by default,
        an ember tensor with ``convert_to_numpy=False``."""
        single = isinstance(sentences, str)
        items = [sentences] if single else list(sentences)
        normalize = self.normalize if normalize_embeddings is None else normalize_embeddings
        order = np.argsort([-len(s) for s in items], kind="stable")  # similar lengths batch
        chunks = []
        with ember.no_grad():
            for start in range(0, len(items), batch_size):
                batch = [items[i] for i in order[start:start + batch_size]]
                enc = self.tokenizer(batch, padding=True, truncation=True,
                                     max_length=self.max_seq_length, return_tensors="pt")
                out = self.model(input_ids=enc["input_ids"],
                                 attention_mask=enc["attention_mask"],
                                 token_type_ids=enc.get("token_type_ids"))
                emb = _POOLERS[self.pooling](out.last_hidden_state, enc["attention_mask"])
                if normalize:
                    emb = F.normalize(emb, p=2, dim=1)
                chunks.append(emb)
        emb = ember.cat(chunks, dim=0) if chunks else ember.zeros(0)
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        emb = emb.index_select(0, ember.from_numpy(inverse.astype(np.int64)))
        if single:
            emb = emb[0]
        return emb.numpy() if convert_to_numpy else emb
