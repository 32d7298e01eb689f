"""BERT (Devlin et al., 2018) with transformers' class and parameter names.

``BertModel`` is the encoder; the heads (masked LM, next-sentence prediction, sequence and
token classification, extractive question answering, pre-training) sit on it under the
``bert.`` prefix, so the publishers' checkpoints load as they are. Shapes: B batch, T
tokens, C hidden size, nh heads, hs = C / nh.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import ember
import ember.nn.functional as F
from ember import Tensor, nn

from .attention import attend, get_activation, merge_heads, padding_mask, split_heads
from .configuration import PretrainedConfig
from .losses import classification_loss
from .modeling_utils import PreTrainedModel
from .outputs import (
    BaseModelOutputWithPoolingAndCrossAttentions,
    MaskedLMOutput,
    ModelOutput,
    NextSentencePredictorOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)

__all__ = ["BertConfig", "BertModel", "BertPreTrainedModel", "BertForMaskedLM",
           "BertForNextSentencePrediction", "BertForPreTraining",
           "BertForSequenceClassification", "BertForTokenClassification",
           "BertForQuestionAnswering", "BertForPreTrainingOutput"]


class BertConfig(PretrainedConfig):
    """BERT's hyper-parameters; the defaults are bert-base-uncased's."""

    model_type = "bert"

    def __init__(self, vocab_size: int = 30522, hidden_size: int = 768,
                 num_hidden_layers: int = 12, num_attention_heads: int = 12,
                 intermediate_size: int = 3072, hidden_act: str = "gelu",
                 hidden_dropout_prob: float = 0.1, attention_probs_dropout_prob: float = 0.1,
                 max_position_embeddings: int = 512, type_vocab_size: int = 2,
                 initializer_range: float = 0.02, layer_norm_eps: float = 1e-12,
                 pad_token_id: int = 0, position_embedding_type: str = "absolute",
                 classifier_dropout: float | None = None, **kwargs) -> None:
        super().__init__(pad_token_id=pad_token_id, **kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.max_position_embeddings = max_position_embeddings
        self.type_vocab_size = type_vocab_size
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        self.position_embedding_type = position_embedding_type
        self.classifier_dropout = classifier_dropout


class BertEmbeddings(nn.Module):
    """Word + position + token-type embeddings, then LayerNorm and dropout."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        if config.position_embedding_type != "absolute":
            raise NotImplementedError(f"position_embedding_type="
                                      f"{config.position_embedding_type!r}: only 'absolute' "
                                      "is implemented")
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size,
                                            padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings,
                                                config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        n = config.max_position_embeddings
        self.register_buffer("position_ids", ember.arange(n).expand(1, n), persistent=False)
        self.register_buffer("token_type_ids", ember.zeros(1, n, dtype=ember.long),
                             persistent=False)

    def forward(self, input_ids: Tensor | None = None, token_type_ids: Tensor | None = None,
                position_ids: Tensor | None = None, inputs_embeds: Tensor | None = None,
                past_key_values_length: int = 0) -> Tensor:
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)  # (B, T, C)
        b, t = inputs_embeds.shape[:2]
        if position_ids is None:
            position_ids = self.position_ids[:, past_key_values_length:past_key_values_length + t]
        if token_type_ids is None:
            token_type_ids = self.token_type_ids[:, :t].expand(b, t)
        x = inputs_embeds + self.token_type_embeddings(token_type_ids)
        x = x + self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    """Multi-head self-attention: ``query``/``key``/``value`` projections and the scaled
    dot product."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        if config.hidden_size % config.num_attention_heads:
            raise ValueError(f"The hidden size ({config.hidden_size}) is not a multiple of the "
                             f"number of attention heads ({config.num_attention_heads})")
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.all_head_size = config.hidden_size
        self.query = nn.Linear(config.hidden_size, self.all_head_size)
        self.key = nn.Linear(config.hidden_size, self.all_head_size)
        self.value = nn.Linear(config.hidden_size, self.all_head_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def forward(self, hidden_states: Tensor, attention_mask: Tensor | None = None,
                head_mask: Tensor | None = None,
                output_attentions: bool = False) -> tuple[Tensor, Tensor | None]:
        nh = self.num_attention_heads
        q = split_heads(self.query(hidden_states), nh)  # (B, nh, T, hs)
        k = split_heads(self.key(hidden_states), nh)
        v = split_heads(self.value(hidden_states), nh)
        p = self.dropout.p if self.training else 0.0
        out, probs = attend(q, k, v, attention_mask, 1.0 / math.sqrt(self.attention_head_size),
                            p, head_mask, output_attentions)
        return merge_heads(out), probs  # (B, T, C)


class BertSelfOutput(nn.Module):
    """``LayerNorm(dropout(dense(x)) + residual)``."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: Tensor, input_tensor: Tensor) -> Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class BertAttention(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config)

    def forward(self, hidden_states: Tensor, attention_mask: Tensor | None = None,
                head_mask: Tensor | None = None, output_attentions: bool = False):
        context, probs = self.self(hidden_states, attention_mask, head_mask, output_attentions)
        return self.output(context, hidden_states), probs


class BertIntermediate(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = get_activation(config.hidden_act)

    def forward(self, hidden_states: Tensor) -> Tensor:
        return self.intermediate_act_fn(self.dense(hidden_states))


class BertOutput(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: Tensor, input_tensor: Tensor) -> Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class BertLayer(nn.Module):
    """One encoder block: attention, then the feed-forward network, each with a residual
    connection and a post-LayerNorm."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(self, hidden_states: Tensor, attention_mask: Tensor | None = None,
                head_mask: Tensor | None = None, output_attentions: bool = False):
        x, probs = self.attention(hidden_states, attention_mask, head_mask, output_attentions)
        return self.output(self.intermediate(x), x), probs


class BertEncoder(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.layer = nn.ModuleList([BertLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(self, hidden_states: Tensor, attention_mask: Tensor | None = None,
                head_mask: list | None = None, output_attentions: bool = False,
                output_hidden_states: bool = False):
        all_hidden = (hidden_states,) if output_hidden_states else None
        all_attn = () if output_attentions else None
        for i, layer in enumerate(self.layer):
            hm = None if head_mask is None else head_mask[i]
            hidden_states, probs = layer(hidden_states, attention_mask, hm, output_attentions)
            if output_hidden_states:
                all_hidden += (hidden_states,)
            if output_attentions:
                all_attn += (probs,)
        return hidden_states, all_hidden, all_attn


class BertPooler(nn.Module):
    """``tanh(dense(h[:, 0]))``: the [CLS] token's state, projected."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden_states: Tensor) -> Tensor:
        return self.activation(self.dense(hidden_states[:, 0]))


class BertPreTrainedModel(PreTrainedModel):
    """Weight initialisation and checkpoint naming shared by the BERT models."""

    config_class = BertConfig
    base_model_prefix = "bert"
    # older checkpoints saved the position ids as a persistent buffer
    _keys_to_ignore_on_load_unexpected = ("embeddings.position_ids",)

    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0.0, std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, 0.0, std)
            if module.padding_idx is not None:
                module.weight[module.padding_idx].fill_(0.0)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, BertLMPredictionHead):
            nn.init.zeros_(module.bias)


def _head_mask(head_mask: Tensor | None, n_layers: int, dtype) -> list | None:
    """(nh,) or (L, nh) of 1 (keep) / 0 (drop) -> one (1, nh, 1, 1) multiplier per layer."""
    if head_mask is None:
        return None
    hm = head_mask.to(dtype)
    if hm.ndim == 1:
        hm = hm[None].expand(n_layers, hm.shape[0])
    return [hm[i][None, :, None, None] for i in range(n_layers)]


class BertModel(BertPreTrainedModel):
    """The BERT encoder: embeddings, ``num_hidden_layers`` blocks, and (optionally) the
    pooler over the [CLS] token."""

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True) -> None:
        super().__init__(config)
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embeddings.word_embeddings = value

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                token_type_ids: Tensor | None = None, position_ids: Tensor | None = None,
                head_mask: Tensor | None = None, inputs_embeds: Tensor | None = None,
                output_attentions: bool | None = None, output_hidden_states: bool | None = None,
                return_dict: bool | None = None):
        """Encode ``input_ids`` (B, T); ``attention_mask`` (B, T) is 1 for tokens to attend
        to and 0 for padding. Returns ``last_hidden_state`` (B, T, C) and ``pooler_output``
        (B, C)."""
        cfg = self.config
        output_attentions = cfg.output_attentions if output_attentions is None \
            else output_attentions
        output_hidden_states = cfg.output_hidden_states if output_hidden_states is None \
            else output_hidden_states
        return_dict = cfg.use_return_dict if return_dict is None else return_dict
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("You have to specify exactly one of input_ids or inputs_embeds")
        x = self.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds)
        mask = None
        if attention_mask is not None and not bool(attention_mask.all()):
            mask = padding_mask(attention_mask, x.dtype)  # (B, 1, 1, T)
        hm = _head_mask(head_mask, cfg.num_hidden_layers, x.dtype)
        seq, hidden, attn = self.encoder(x, mask, hm, output_attentions, output_hidden_states)
        pooled = self.pooler(seq) if self.pooler is not None else None
        if not return_dict:
            return tuple(v for v in (seq, pooled, hidden, attn) if v is not None)
        return BaseModelOutputWithPoolingAndCrossAttentions(
            last_hidden_state=seq, pooler_output=pooled, hidden_states=hidden, attentions=attn)


class BertPredictionHeadTransform(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.transform_act_fn = get_activation(config.hidden_act)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden_states: Tensor) -> Tensor:
        return self.LayerNorm(self.transform_act_fn(self.dense(hidden_states)))


class BertLMPredictionHead(nn.Module):
    """Transform, then the vocabulary projection ``decoder``. With
    ``config.tie_word_embeddings`` (the default) the model ties the decoder's weight to the
    word embeddings and its bias to this module's ``bias``; otherwise the decoder keeps a
    weight and a bias of its own (and ``bias`` is unused), as in transformers 5."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.transform = BertPredictionHeadTransform(config)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        self.bias = nn.Parameter(ember.zeros(config.vocab_size))

    def forward(self, hidden_states: Tensor) -> Tensor:
        return self.decoder(self.transform(hidden_states))


class BertOnlyMLMHead(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.predictions = BertLMPredictionHead(config)

    def forward(self, sequence_output: Tensor) -> Tensor:
        return self.predictions(sequence_output)


class BertOnlyNSPHead(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.seq_relationship = nn.Linear(config.hidden_size, 2)

    def forward(self, pooled_output: Tensor) -> Tensor:
        return self.seq_relationship(pooled_output)


class BertPreTrainingHeads(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.predictions = BertLMPredictionHead(config)
        self.seq_relationship = nn.Linear(config.hidden_size, 2)

    def forward(self, sequence_output: Tensor, pooled_output: Tensor):
        return self.predictions(sequence_output), self.seq_relationship(pooled_output)


def _ce(logits: Tensor, labels: Tensor, n: int) -> Tensor:
    return F.cross_entropy(logits.reshape(-1, n), labels.reshape(-1))


def _finish(return_dict: bool, cls, loss, main: tuple, outputs):
    """The head's output object, or transformers' tuple for ``return_dict=False``."""
    extras = tuple(v for v in (outputs.hidden_states, outputs.attentions) if v is not None)
    if not return_dict:
        out = main + extras
        return ((loss,) + out) if loss is not None else out
    names = [f for f in cls.__dataclass_fields__ if f != "loss"]
    values = dict(zip(names, main))
    return cls(loss=loss, hidden_states=outputs.hidden_states, attentions=outputs.attentions,
               **values)


_MODEL_ARGS = ("attention_mask", "token_type_ids", "position_ids", "head_mask",
               "inputs_embeds", "output_attentions", "output_hidden_states")


class BertForMaskedLM(BertPreTrainedModel):
    """BERT with the masked-language-modelling head ``cls.predictions``."""

    _tied_weights = {"cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight",
                     "cls.predictions.decoder.bias": "cls.predictions.bias"}

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(config)

    def get_output_embeddings(self) -> nn.Linear:
        return self.cls.predictions.decoder

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None,
                position_ids=None, head_mask=None, inputs_embeds=None, labels=None,
                output_attentions=None, output_hidden_states=None, return_dict=None):
        """Vocabulary logits (B, T, V); with ``labels`` (B, T; -100 = ignored) also the
        cross-entropy loss."""
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        out = self.bert(input_ids, attention_mask, token_type_ids, position_ids, head_mask,
                        inputs_embeds, output_attentions, output_hidden_states, True)
        logits = self.cls(out.last_hidden_state)
        loss = None if labels is None else _ce(logits, labels, self.config.vocab_size)
        return _finish(return_dict, MaskedLMOutput, loss, (logits,), out)


class BertForNextSentencePrediction(BertPreTrainedModel):
    """BERT with the next-sentence head ``cls.seq_relationship`` on the pooled output."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config)
        self.cls = BertOnlyNSPHead(config)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None,
                position_ids=None, head_mask=None, inputs_embeds=None, labels=None,
                output_attentions=None, output_hidden_states=None, return_dict=None):
        """Logits (B, 2): 0 = sentence B follows sentence A, 1 = it is random."""
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        out = self.bert(input_ids, attention_mask, token_type_ids, position_ids, head_mask,
                        inputs_embeds, output_attentions, output_hidden_states, True)
        logits = self.cls(out.pooler_output)
        loss = None if labels is None else _ce(logits, labels, 2)
        return _finish(return_dict, NextSentencePredictorOutput, loss, (logits,), out)


@dataclass(repr=False)
class BertForPreTrainingOutput(ModelOutput):
    """Both pre-training heads' logits: (B, T, V) and (B, 2)."""

    loss: Any = None
    prediction_logits: Any = None
    seq_relationship_logits: Any = None
    hidden_states: Any = None
    attentions: Any = None


class BertForPreTraining(BertPreTrainedModel):
    """BERT with both pre-training heads (masked LM and next sentence), the layout of the
    original bert-base checkpoints."""

    _tied_weights = BertForMaskedLM._tied_weights

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config)
        self.cls = BertPreTrainingHeads(config)

    def get_output_embeddings(self) -> nn.Linear:
        return self.cls.predictions.decoder

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None,
                position_ids=None, head_mask=None, inputs_embeds=None, labels=None,
                next_sentence_label=None, output_attentions=None, output_hidden_states=None,
                return_dict=None):
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        out = self.bert(input_ids, attention_mask, token_type_ids, position_ids, head_mask,
                        inputs_embeds, output_attentions, output_hidden_states, True)
        mlm, nsp = self.cls(out.last_hidden_state, out.pooler_output)
        loss = None
        if labels is not None and next_sentence_label is not None:
            loss = _ce(mlm, labels, self.config.vocab_size) + _ce(nsp, next_sentence_label, 2)
        return _finish(return_dict, BertForPreTrainingOutput, loss, (mlm, nsp), out)


class BertForSequenceClassification(BertPreTrainedModel):
    """BERT with a linear ``classifier`` on the pooled output (dropout first)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config)
        p = config.classifier_dropout
        self.dropout = nn.Dropout(config.hidden_dropout_prob if p is None else p)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None,
                position_ids=None, head_mask=None, inputs_embeds=None, labels=None,
                output_attentions=None, output_hidden_states=None, return_dict=None):
        """Logits (B, num_labels); with ``labels`` the loss chosen by
        ``config.problem_type`` (MSE, cross-entropy or BCE with logits)."""
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        out = self.bert(input_ids, attention_mask, token_type_ids, position_ids, head_mask,
                        inputs_embeds, output_attentions, output_hidden_states, True)
        logits = self.classifier(self.dropout(out.pooler_output))
        loss = None if labels is None else classification_loss(self.config, logits, labels)
        return _finish(return_dict, SequenceClassifierOutput, loss, (logits,), out)


class BertForTokenClassification(BertPreTrainedModel):
    """BERT with a linear ``classifier`` on every token (named-entity tagging)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config, add_pooling_layer=False)
        p = config.classifier_dropout
        self.dropout = nn.Dropout(config.hidden_dropout_prob if p is None else p)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None,
                position_ids=None, head_mask=None, inputs_embeds=None, labels=None,
                output_attentions=None, output_hidden_states=None, return_dict=None):
        """Logits (B, T, num_labels); with ``labels`` (B, T; -100 = ignored) the
        cross-entropy loss."""
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        out = self.bert(input_ids, attention_mask, token_type_ids, position_ids, head_mask,
                        inputs_embeds, output_attentions, output_hidden_states, True)
        logits = self.classifier(self.dropout(out.last_hidden_state))
        loss = None if labels is None else _ce(logits, labels, self.num_labels)
        return _finish(return_dict, TokenClassifierOutput, loss, (logits,), out)


class BertForQuestionAnswering(BertPreTrainedModel):
    """BERT with ``qa_outputs``, a linear layer giving span start and end logits."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config, add_pooling_layer=False)
        self.qa_outputs = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None,
                position_ids=None, head_mask=None, inputs_embeds=None, start_positions=None,
                end_positions=None, output_attentions=None, output_hidden_states=None,
                return_dict=None):
        """``start_logits`` and ``end_logits`` (B, T); with ``start_positions`` and
        ``end_positions`` (B,) the mean of their cross-entropies (positions outside the
        sequence are ignored)."""
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        out = self.bert(input_ids, attention_mask, token_type_ids, position_ids, head_mask,
                        inputs_embeds, output_attentions, output_hidden_states, True)
        logits = self.qa_outputs(out.last_hidden_state)  # (B, T, 2)
        start_logits, end_logits = logits.split(1, dim=-1)
        start_logits = start_logits.squeeze(-1).contiguous()
        end_logits = end_logits.squeeze(-1).contiguous()
        loss = None
        if start_positions is not None and end_positions is not None:
            ignored = start_logits.shape[1]
            s = start_positions.reshape(-1).clamp(0, ignored)
            e = end_positions.reshape(-1).clamp(0, ignored)
            loss = (F.cross_entropy(start_logits, s, ignore_index=ignored)
                    + F.cross_entropy(end_logits, e, ignore_index=ignored)) / 2
        return _finish(return_dict, QuestionAnsweringModelOutput, loss,
                       (start_logits, end_logits), out)
