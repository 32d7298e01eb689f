"""Converting Hugging Face ``transformers`` wav2vec 2.0 / HuBERT models
(``torchaudio.models.wav2vec2.utils.import_huggingface_model``).

The conversion reads only ``original.config`` and ``original.state_dict()``, so it takes a
transformers model in PyTorch (its tensors are turned into ember tensors; ember never imports
torch) or any object carrying the same config and state dict (numpy arrays or ember tensors
as values). The Hugging Face names are torchaudio's under other prefixes
(``wav2vec2.`` / ``hubert.`` is dropped first in a ``*ForCTC`` model):

* ``feature_extractor.*`` -> ``feature_extractor.*``
* ``feature_projection.*`` -> ``encoder.feature_projection.*``
* ``encoder.*`` -> ``encoder.transformer.*``
* ``lm_head.*`` (``*ForCTC``) -> ``aux.*``
* ``masked_spec_embed`` (used only for SpecAugment in training) is left out.
"""

from __future__ import annotations

import logging
from typing import Any

import ember
import numpy as np

from ..model import Wav2Vec2Model, wav2vec2_model

__all__ = ["import_huggingface_model"]

_LG = logging.getLogger(__name__)

_PREFIXES = ("wav2vec2.", "hubert.")
_RENAMES = (("feature_extractor.", "feature_extractor."),
            ("feature_projection.", "encoder.feature_projection."),
            ("encoder.", "encoder.transformer."))
_IGNORED = ("masked_spec_embed",)  # used only for SpecAugment masking while training


def _get_config(cfg: Any) -> dict:
    """``wav2vec2_model``'s arguments (without ``aux_num_out``) from a transformers config."""
    return {
        "extractor_mode": f"{cfg.feat_extract_norm}_norm",
        "extractor_conv_layer_config": list(zip(cfg.conv_dim, cfg.conv_kernel, cfg.conv_stride)),
        "extractor_conv_bias": cfg.conv_bias,
        "encoder_embed_dim": cfg.hidden_size,
        "encoder_projection_dropout": cfg.feat_proj_dropout,
        "encoder_pos_conv_kernel": cfg.num_conv_pos_embeddings,
        "encoder_pos_conv_groups": cfg.num_conv_pos_embedding_groups,
        "encoder_num_layers": cfg.num_hidden_layers,
        "encoder_num_heads": cfg.num_attention_heads,
        "encoder_attention_dropout": cfg.attention_dropout,
        "encoder_ff_interm_features": cfg.intermediate_size,
        "encoder_ff_interm_dropout": cfg.activation_dropout,
        "encoder_dropout": cfg.hidden_dropout,
        "encoder_layer_norm_first": cfg.do_stable_layer_norm,
        "encoder_layer_drop": cfg.layerdrop,
    }


def _check_supported(cfg: Any) -> None:
    """Raises for config options whose model the torchaudio architecture cannot express
    (instead of loading it into a model that computes something else)."""
    problems = []
    for name in ("feat_extract_activation", "hidden_act"):
        value = getattr(cfg, name, "gelu")
        if value != "gelu":
            problems.append(f"{name}={value!r} (only 'gelu')")
    if getattr(cfg, "feat_extract_norm", None) not in ("group", "layer"):
        problems.append(f"feat_extract_norm={getattr(cfg, 'feat_extract_norm', None)!r} "
                        f"(only 'group' or 'layer')")
    checks = (("feat_proj_layer_norm", True), ("add_adapter", False),
              ("conv_pos_batch_norm", False))
    for name, supported in checks:
        if bool(getattr(cfg, name, supported)) != supported:
            problems.append(f"{name}={getattr(cfg, name)!r}")
    eps = getattr(cfg, "layer_norm_eps", 1e-5)
    if eps != 1e-5:
        problems.append(f"layer_norm_eps={eps!r} (only 1e-05)")
    if problems:
        raise ValueError("import_huggingface_model: unsupported config option(s): "
                         + ", ".join(problems))


def _to_ember(value: Any) -> ember.Tensor:
    """A copy of ``value`` (a torch tensor, numpy array or ember tensor) as an ember tensor."""
    if isinstance(value, ember.Tensor):
        return value.detach().clone()
    if hasattr(value, "detach"):  # a torch tensor, converted without importing torch
        value = value.detach().cpu().numpy()
    return ember.from_numpy(np.array(value, copy=True))


def _convert_state_dict(state: dict) -> tuple[dict, bool]:
    """Renames Hugging Face keys to torchaudio's; returns the new dict and whether it holds
    a CTC head (``aux``)."""
    converted = {}
    has_head = False
    for key, value in state.items():
        name = key
        for prefix in _PREFIXES:
            if name.startswith(prefix):
                name = name[len(prefix):]
                break
        if name in _IGNORED:
            continue
        if name.startswith("lm_head."):
            has_head = True
            converted["aux." + name[len("lm_head."):]] = _to_ember(value)
            continue
        for old, new in _RENAMES:
            if name.startswith(old):
                name = new + name[len(old):]
                break
        else:
            raise ValueError(f"import_huggingface_model: unexpected parameter {key!r}")
        converted[name] = _to_ember(value)
    return converted, has_head


def import_huggingface_model(original: Any) -> Wav2Vec2Model:
    """Builds a ``Wav2Vec2Model`` from the corresponding model of `Transformers
    <https://huggingface.co/transformers/>`_.

    Args:
        original: a ``Wav2Vec2Model``, ``Wav2Vec2ForCTC``, ``HubertModel`` or
            ``HubertForCTC`` from ``transformers`` (or any object with the same ``config``
            and ``state_dict()``). A CTC model's ``lm_head`` becomes ``aux``
            (``aux_num_out = config.vocab_size``).

    Returns:
        Wav2Vec2Model: the imported model, in training mode like any new module (call
        ``.eval()`` for inference).

    Raises:
        ValueError: for a config the architecture cannot express (another activation, an
            adapter, no feature-projection LayerNorm...) or a parameter it has no place for.

    Example
        >>> from transformers import Wav2Vec2ForCTC
        >>> original = Wav2Vec2ForCTC.from_pretrained("facebook/wav2vec2-base-960h")
        >>> model = import_huggingface_model(original).eval()
        >>> logits, _ = model(waveforms)
    """
    cfg = original.config
    _check_supported(cfg)
    config = _get_config(cfg)
    _LG.debug("import_huggingface_model config: %s", config)
    state, has_head = _convert_state_dict(original.state_dict())
    if not has_head:
        _LG.warning("The model has no CTC head (lm_head): none is imported.")
    aux_num_out = cfg.vocab_size if has_head else None
    imported = wav2vec2_model(**config, aux_num_out=aux_num_out)
    imported.load_state_dict(state, strict=True)
    return imported
