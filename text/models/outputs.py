"""Model outputs: dataclasses readable by attribute, key and index, as transformers'
``ModelOutput``.

``out.logits``, ``out["logits"]`` and ``out[0]`` name the same tensor. Fields left ``None``
are skipped by key and index access, so ``out[0]`` is the loss when labels were given and
the logits otherwise, exactly as in transformers. ``out.to_tuple()`` gives the tuple that
``return_dict=False`` returns.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

__all__ = [
    "ModelOutput",
    "BaseModelOutputWithPoolingAndCrossAttentions",
    "BaseModelOutputWithPastAndCrossAttentions",
    "CausalLMOutputWithCrossAttentions",
    "MaskedLMOutput",
    "SequenceClassifierOutput",
    "SequenceClassifierOutputWithPast",
    "TokenClassifierOutput",
    "QuestionAnsweringModelOutput",
    "NextSentencePredictorOutput",
]


class ModelOutput:
    """Base class of model outputs: a dataclass that also behaves like an ordered mapping
    of its non-``None`` fields and like the tuple of their values."""

    def _present(self) -> list[tuple[str, Any]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self)
                if getattr(self, f.name) is not None]

    def to_tuple(self) -> tuple:
        """The non-``None`` field values, in declaration order."""
        return tuple(v for _, v in self._present())

    def keys(self) -> list[str]:
        return [k for k, _ in self._present()]

    def values(self) -> list:
        return [v for _, v in self._present()]

    def items(self) -> list[tuple[str, Any]]:
        return self._present()

    def get(self, key: str, default=None):
        value = getattr(self, key, None)
        return default if value is None else value

    def __getitem__(self, key):
        if isinstance(key, str):
            value = getattr(self, key, None) if key in self._names() else None
            if value is None:
                raise KeyError(key)
            return value
        return self.to_tuple()[key]

    def __setitem__(self, key: str, value) -> None:
        if key not in self._names():
            raise KeyError(f"{type(self).__name__} has no field {key!r}")
        setattr(self, key, value)

    def _names(self) -> set[str]:
        return {f.name for f in fields(self)}

    def __contains__(self, key) -> bool:
        return key in self.keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._present())

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={type(v).__name__}" for k, v in self._present())
        return f"{type(self).__name__}({body})"


@dataclass(repr=False)
class BaseModelOutputWithPoolingAndCrossAttentions(ModelOutput):
    """BERT's encoder output: ``last_hidden_state`` (B, T, C), ``pooler_output`` (B, C)."""

    last_hidden_state: Any = None
    pooler_output: Any = None
    hidden_states: Any = None
    past_key_values: Any = None
    attentions: Any = None
    cross_attentions: Any = None


@dataclass(repr=False)
class BaseModelOutputWithPastAndCrossAttentions(ModelOutput):
    """GPT-2's trunk output: ``last_hidden_state`` (B, T, C) and the KV cache."""

    last_hidden_state: Any = None
    past_key_values: Any = None
    hidden_states: Any = None
    attentions: Any = None
    cross_attentions: Any = None


@dataclass(repr=False)
class CausalLMOutputWithCrossAttentions(ModelOutput):
    """Language-model output: ``logits`` (B, T, V) and the loss when labels were given."""

    loss: Any = None
    logits: Any = None
    past_key_values: Any = None
    hidden_states: Any = None
    attentions: Any = None
    cross_attentions: Any = None


@dataclass(repr=False)
class MaskedLMOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    hidden_states: Any = None
    attentions: Any = None


@dataclass(repr=False)
class SequenceClassifierOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    hidden_states: Any = None
    attentions: Any = None


@dataclass(repr=False)
class SequenceClassifierOutputWithPast(ModelOutput):
    loss: Any = None
    logits: Any = None
    past_key_values: Any = None
    hidden_states: Any = None
    attentions: Any = None


@dataclass(repr=False)
class TokenClassifierOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    hidden_states: Any = None
    attentions: Any = None


@dataclass(repr=False)
class QuestionAnsweringModelOutput(ModelOutput):
    loss: Any = None
    start_logits: Any = None
    end_logits: Any = None
    hidden_states: Any = None
    attentions: Any = None


@dataclass(repr=False)
class NextSentencePredictorOutput(ModelOutput):
    loss: Any = None
    logits: Any = None
    hidden_states: Any = None
    attentions: Any = None
