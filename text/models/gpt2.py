"""GPT-2 (Radford et al., 2019) with transformers' class and parameter names.

``GPT2Model`` is the decoder trunk (``wte``, ``wpe``, blocks ``h.N``, ``ln_f``);
``GPT2LMHeadModel`` adds ``lm_head`` tied to ``wte`` and generation;
``GPT2ForSequenceClassification`` scores the last non-padding token. The projections are
``Conv1D`` layers whose weight is stored (in, out), as in OpenAI's and Hugging Face's
checkpoints, so those load unchanged. Shapes: B batch, T new tokens, S = past + T keys,
C = n_embd, nh heads, hs = C / nh.
"""

from __future__ import annotations

import math

import ember
import ember.nn.functional as F
from ember import Tensor, nn

from ._kernels import dense
from .attention import attend, causal_padding_mask, get_activation, merge_heads, split_heads
from .cache import Cache, DynamicCache
from .configuration import PretrainedConfig
from .generation import GenerationMixin
from .losses import classification_loss
from .modeling_utils import PreTrainedModel
from .outputs import (
    BaseModelOutputWithPastAndCrossAttentions,
    CausalLMOutputWithCrossAttentions,
    SequenceClassifierOutputWithPast,
)

__all__ = ["GPT2Config", "GPT2Model", "GPT2PreTrainedModel", "GPT2LMHeadModel",
           "GPT2ForSequenceClassification", "Conv1D"]


class GPT2Config(PretrainedConfig):
    """GPT-2's hyper-parameters; the defaults are GPT-2 small's (124M)."""

    model_type = "gpt2"
    attribute_map = {"hidden_size": "n_embd", "max_position_embeddings": "n_positions",
                     "num_attention_heads": "n_head", "num_hidden_layers": "n_layer"}

    def __init__(self, vocab_size: int = 50257, n_positions: int = 1024, n_embd: int = 768,
                 n_layer: int = 12, n_head: int = 12, n_inner: int | None = None,
                 activation_function: str = "gelu_new", resid_pdrop: float = 0.1,
                 embd_pdrop: float = 0.1, attn_pdrop: float = 0.1,
                 layer_norm_epsilon: float = 1e-5, initializer_range: float = 0.02,
                 summary_type: str = "cls_index", summary_use_proj: bool = True,
                 summary_activation: str | None = None, summary_proj_to_labels: bool = True,
                 summary_first_dropout: float = 0.1, scale_attn_weights: bool = True,
                 use_cache: bool = True, bos_token_id: int = 50256, eos_token_id: int = 50256,
                 scale_attn_by_inverse_layer_idx: bool = False,
                 reorder_and_upcast_attn: bool = False, **kwargs) -> None:
        super().__init__(bos_token_id=bos_token_id, eos_token_id=eos_token_id,
                         use_cache=use_cache, **kwargs)
        self.vocab_size = vocab_size
        self.n_positions = n_positions
        self.n_embd = n_embd
        self.n_layer = n_layer
        self.n_head = n_head
        self.n_inner = n_inner
        self.activation_function = activation_function
        self.resid_pdrop = resid_pdrop
        self.embd_pdrop = embd_pdrop
        self.attn_pdrop = attn_pdrop
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range
        self.summary_type = summary_type
        self.summary_use_proj = summary_use_proj
        self.summary_activation = summary_activation
        self.summary_first_dropout = summary_first_dropout
        self.summary_proj_to_labels = summary_proj_to_labels
        self.scale_attn_weights = scale_attn_weights
        self.scale_attn_by_inverse_layer_idx = scale_attn_by_inverse_layer_idx
        self.reorder_and_upcast_attn = reorder_and_upcast_attn


class Conv1D(nn.Module):
    """A linear layer whose weight is stored transposed, (nx, nf): ``y = x @ W + b``
    (transformers' ``Conv1D``, named after OpenAI's original code).

    Args:
        nf: output features.
        nx: input features.
    """

    def __init__(self, nf: int, nx: int) -> None:
        super().__init__()
        self.nf = nf
        self.nx = nx
        self.weight = nn.Parameter(ember.empty(nx, nf))
        self.bias = nn.Parameter(ember.zeros(nf))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x: Tensor) -> Tensor:
        return dense(x, self.weight, self.bias)  # (..., nf)

    def extra_repr(self) -> str:
        return f"nf={self.nf}, nx={self.nx}"


class GPT2Attention(nn.Module):
    """Causal multi-head self-attention with the fused ``c_attn`` (q, k, v) projection."""

    def __init__(self, config: GPT2Config, layer_idx: int | None = None) -> None:
        super().__init__()
        self.embed_dim = config.n_embd
        self.num_heads = config.n_head
        self.head_dim = self.embed_dim // self.num_heads
        if self.head_dim * self.num_heads != self.embed_dim:
            raise ValueError(f"`embed_dim` must be divisible by num_heads (got `embed_dim`: "
                             f"{self.embed_dim} and `num_heads`: {self.num_heads}).")
        self.layer_idx = layer_idx
        scale = 1.0 / math.sqrt(self.head_dim) if config.scale_attn_weights else 1.0
        if config.scale_attn_by_inverse_layer_idx:
            scale /= float((layer_idx or 0) + 1)
        self.scale = scale
        self.c_attn = Conv1D(3 * self.embed_dim, self.embed_dim)
        self.c_proj = Conv1D(self.embed_dim, self.embed_dim)
        self.attn_dropout = nn.Dropout(config.attn_pdrop)
        self.resid_dropout = nn.Dropout(config.resid_pdrop)

    def forward(self, hidden_states: Tensor, past_key_values: Cache | None = None,
                attention_mask: Tensor | None = None, head_mask: Tensor | None = None,
                output_attentions: bool = False) -> tuple[Tensor, Tensor | None]:
        q, k, v = self.c_attn(hidden_states).split(self.embed_dim, dim=2)  # (B, T, C) each
        nh = self.num_heads
        q, k, v = split_heads(q, nh), split_heads(k, nh), split_heads(v, nh)  # (B, nh, T, hs)
        if past_key_values is not None:
            k, v = past_key_values.update(k, v, self.layer_idx)  # (B, nh, S, hs)
        p = self.attn_dropout.p if self.training else 0.0
        out, probs = attend(q, k, v, attention_mask, self.scale, p, head_mask,
                            output_attentions)
        out = self.resid_dropout(self.c_proj(merge_heads(out)))  # (B, T, C)
        return out, probs


class GPT2MLP(nn.Module):
    def __init__(self, intermediate_size: int, config: GPT2Config) -> None:
        super().__init__()
        self.c_fc = Conv1D(intermediate_size, config.n_embd)
        self.c_proj = Conv1D(config.n_embd, intermediate_size)
        self.act = get_activation(config.activation_function)
        self.dropout = nn.Dropout(config.resid_pdrop)

    def forward(self, hidden_states: Tensor) -> Tensor:
        return self.dropout(self.c_proj(self.act(self.c_fc(hidden_states))))


class GPT2Block(nn.Module):
    """Pre-LayerNorm block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(self, config: GPT2Config, layer_idx: int | None = None) -> None:
        super().__init__()
        inner = config.n_inner if config.n_inner is not None else 4 * config.n_embd
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.attn = GPT2Attention(config, layer_idx)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.mlp = GPT2MLP(inner, config)

    def forward(self, hidden_states: Tensor, past_key_values: Cache | None = None,
                attention_mask: Tensor | None = None, head_mask: Tensor | None = None,
                output_attentions: bool = False) -> tuple[Tensor, Tensor | None]:
        a, probs = self.attn(self.ln_1(hidden_states), past_key_values, attention_mask,
                             head_mask, output_attentions)
        x = hidden_states + a
        return x + self.mlp(self.ln_2(x)), probs


class GPT2PreTrainedModel(PreTrainedModel):
    """Weight initialisation and checkpoint naming shared by the GPT-2 models."""

    config_class = GPT2Config
    base_model_prefix = "transformer"
    _keys_to_ignore_on_load_unexpected = (".attn.bias", ".attn.masked_bias")

    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.initializer_range
        if isinstance(module, (nn.Linear, Conv1D)):
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
        if isinstance(module, (GPT2Attention, GPT2MLP)):
            # GPT-2's scaled residual projections: std / sqrt(2 * n_layer)
            nn.init.normal_(module.c_proj.weight, 0.0,
                            std / math.sqrt(2 * self.config.n_layer))


class GPT2Model(GPT2PreTrainedModel):
    """The GPT-2 trunk: token and position embeddings, ``n_layer`` blocks, final LayerNorm."""

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.embed_dim = config.n_embd
        self.wte = nn.Embedding(config.vocab_size, self.embed_dim)
        self.wpe = nn.Embedding(config.n_positions, self.embed_dim)
        self.drop = nn.Dropout(config.embd_pdrop)
        self.h = nn.ModuleList([GPT2Block(config, layer_idx=i) for i in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(self.embed_dim, eps=config.layer_norm_epsilon)

    def get_input_embeddings(self) -> nn.Embedding:
        return self.wte

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.wte = value

    def forward(self, input_ids: Tensor | None = None, past_key_values=None,
                attention_mask: Tensor | None = None, token_type_ids: Tensor | None = None,
                position_ids: Tensor | None = None, head_mask: Tensor | None = None,
                inputs_embeds: Tensor | None = None, use_cache: bool | None = None,
                output_attentions: bool | None = None, output_hidden_states: bool | None = None,
                return_dict: bool | None = None):
        """Run the trunk over ``input_ids`` (B, T) after the ``past_key_values`` cache.

        ``attention_mask`` (B, past + T) is 1 for real tokens and 0 for padding;
        ``position_ids`` (B, T) default to ``past, past + 1, ...``. With ``use_cache`` the
        output's ``past_key_values`` is a :class:`DynamicCache` holding all positions.
        """
        cfg = self.config
        output_attentions = cfg.output_attentions if output_attentions is None \
            else output_attentions
        output_hidden_states = cfg.output_hidden_states if output_hidden_states is None \
            else output_hidden_states
        use_cache = cfg.use_cache if use_cache is None else use_cache
        return_dict = cfg.use_return_dict if return_dict is None else return_dict
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("You have to specify exactly one of input_ids or inputs_embeds")
        if inputs_embeds is None:
            inputs_embeds = self.wte(input_ids)  # (B, T, C)
        t = inputs_embeds.shape[1]
        if isinstance(past_key_values, (tuple, list)):
            past_key_values = DynamicCache.from_legacy_cache(past_key_values)
        if use_cache and past_key_values is None:
            past_key_values = DynamicCache()
        cache = past_key_values
        past_len = 0 if cache is None else cache.get_seq_length()
        if past_len + t > cfg.n_positions:
            raise ValueError(f"GPT2Model: {past_len + t} positions exceed n_positions="
                             f"{cfg.n_positions}")
        if position_ids is None:
            position_ids = ember.arange(past_len, past_len + t,
                                        device=inputs_embeds.device)[None]  # (1, T)
        x = inputs_embeds + self.wpe(position_ids)
        if token_type_ids is not None:
            x = x + self.wte(token_type_ids)
        x = self.drop(x)
        mask = causal_padding_mask(attention_mask, t, past_len, x.dtype, x.device)
        head_masks = None
        if head_mask is not None:
            hm = head_mask.to(x.dtype)
            if hm.ndim == 1:
                hm = hm[None].expand(cfg.n_layer, hm.shape[0])
            head_masks = [hm[i][None, :, None, None] for i in range(cfg.n_layer)]
        all_hidden = () if output_hidden_states else None
        all_attn = () if output_attentions else None
        for i, block in enumerate(self.h):
            if output_hidden_states:
                all_hidden += (x,)
            x, probs = block(x, cache, mask, None if head_masks is None else head_masks[i],
                             output_attentions)
            if output_attentions:
                all_attn += (probs,)
        x = self.ln_f(x)
        if output_hidden_states:
            all_hidden += (x,)
        present = cache if use_cache else None
        if not return_dict:
            return tuple(v for v in (x, present, all_hidden, all_attn) if v is not None)
        return BaseModelOutputWithPastAndCrossAttentions(
            last_hidden_state=x, past_key_values=present, hidden_states=all_hidden,
            attentions=all_attn)


class GPT2LMHeadModel(GPT2PreTrainedModel, GenerationMixin):
    """GPT-2 with the language-modelling head ``lm_head`` (tied to ``transformer.wte``)."""

    _tied_weights = {"lm_head.weight": "transformer.wte.weight"}

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.transformer = GPT2Model(config)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def forward(self, input_ids: Tensor | None = None, past_key_values=None,
                attention_mask: Tensor | None = None, token_type_ids: Tensor | None = None,
                position_ids: Tensor | None = None, head_mask: Tensor | None = None,
                inputs_embeds: Tensor | None = None, labels: Tensor | None = None,
                use_cache: bool | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None,
                logits_to_keep: int = 0):
        """Next-token logits (B, T, V). With ``labels`` (B, T; -100 = ignored) also the
        loss of predicting token t+1 from tokens up to t. ``logits_to_keep=n`` computes the
        logits of the last ``n`` positions only (0: all)."""
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        out = self.transformer(input_ids, past_key_values, attention_mask, token_type_ids,
                               position_ids, head_mask, inputs_embeds, use_cache,
                               output_attentions, output_hidden_states, True)
        h = out.last_hidden_state
        if logits_to_keep:
            h = h[:, -logits_to_keep:]
        logits = dense(h, self.lm_head.weight, self.lm_head.bias, transposed=True)  # (B, T, V)
        loss = None
        if labels is not None:
            shift_logits = logits[:, :-1].reshape(-1, logits.shape[-1])
            shift_labels = labels[:, 1:].reshape(-1)
            loss = F.cross_entropy(shift_logits, shift_labels)
        if not return_dict:
            rest = tuple(v for v in (out.past_key_values, out.hidden_states, out.attentions)
                         if v is not None)
            return ((loss,) if loss is not None else ()) + (logits,) + rest
        return CausalLMOutputWithCrossAttentions(
            loss=loss, logits=logits, past_key_values=out.past_key_values,
            hidden_states=out.hidden_states, attentions=out.attentions)


class GPT2ForSequenceClassification(GPT2PreTrainedModel):
    """GPT-2 with a linear ``score`` head on the last non-padding token."""

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.transformer = GPT2Model(config)
        self.score = nn.Linear(config.n_embd, self.num_labels, bias=False)

    def forward(self, input_ids: Tensor | None = None, past_key_values=None,
                attention_mask: Tensor | None = None, token_type_ids: Tensor | None = None,
                position_ids: Tensor | None = None, head_mask: Tensor | None = None,
                inputs_embeds: Tensor | None = None, labels: Tensor | None = None,
                use_cache: bool | None = None, output_attentions: bool | None = None,
                output_hidden_states: bool | None = None, return_dict: bool | None = None):
        """Logits (B, num_labels) of the last token that is not ``config.pad_token_id``
        (the last token when there is no padding id)."""
        return_dict = self.config.use_return_dict if return_dict is None else return_dict
        out = self.transformer(input_ids, past_key_values, attention_mask, token_type_ids,
                               position_ids, head_mask, inputs_embeds, use_cache,
                               output_attentions, output_hidden_states, True)
        logits = self.score(out.last_hidden_state)  # (B, T, num_labels)
        b, t = logits.shape[:2]
        pad = self.config.pad_token_id
        if pad is None and b != 1:
            raise ValueError("Cannot handle batch sizes > 1 if no padding token is defined.")
        if pad is None or input_ids is None:
            last = ember.full((b,), t - 1, dtype=ember.long, device=logits.device)
        else:
            positions = ember.arange(t, device=logits.device)[None]  # (1, T)
            last = (positions * (input_ids != pad).long()).argmax(-1)  # (B,)
        pooled = logits[ember.arange(b, device=logits.device), last]  # (B, num_labels)
        loss = None if labels is None else classification_loss(self.config, pooled, labels)
        if not return_dict:
            rest = tuple(v for v in (out.past_key_values, out.hidden_states, out.attentions)
                         if v is not None)
            return ((loss,) if loss is not None else ()) + (pooled,) + rest
        return SequenceClassifierOutputWithPast(
            loss=loss, logits=pooled, past_key_values=out.past_key_values,
            hidden_states=out.hidden_states, attentions=out.attentions)
