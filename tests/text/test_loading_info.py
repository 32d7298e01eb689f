"""from_pretrained's loading report against transformers': missing, unexpected and
mismatched keys when a checkpoint of one architecture loads into another, and
``ignore_mismatched_sizes``."""

import warnings

import numpy as np
import pytest
from ember.text import models as M

BERT = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
            intermediate_size=37, max_position_embeddings=64)
GPT = dict(vocab_size=99, n_embd=32, n_layer=2, n_head=4, n_positions=64)


def _info_pair(transformers, tmp_path, src, dst, cfg):
    config_cls = transformers.GPT2Config if src.startswith("GPT2") else transformers.BertConfig
    getattr(transformers, src)(config_cls(**cfg)).save_pretrained(tmp_path)
    _, ref = getattr(transformers, dst).from_pretrained(tmp_path, output_loading_info=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, ours = getattr(M, dst).from_pretrained(tmp_path, output_loading_info=True)
    return model, ours, ref


@pytest.mark.parametrize("src,dst,cfg", [
    ("BertForPreTraining", "BertModel", BERT),  # head checkpoint into the base model
    ("BertModel", "BertForMaskedLM", BERT),  # base checkpoint (with pooler) into a head
    ("BertForMaskedLM", "BertForSequenceClassification", BERT),
    ("GPT2LMHeadModel", "GPT2Model", dict(GPT, tie_word_embeddings=False)),
])
def test_missing_and_unexpected_keys_match_transformers(transformers, tmp_path, src, dst,
                                                        cfg):
    _, ours, ref = _info_pair(transformers, tmp_path, src, dst, cfg)
    assert sorted(ours["missing_keys"]) == sorted(ref["missing_keys"])
    assert sorted(ours["unexpected_keys"]) == sorted(ref["unexpected_keys"])


def test_base_checkpoint_into_masked_lm_keeps_tied_embeddings(transformers, tmp_path):
    model, _, _ = _info_pair(transformers, tmp_path, "BertModel", "BertForMaskedLM", BERT)
    again = M.BertModel.from_pretrained(tmp_path)
    emb = model.bert.embeddings.word_embeddings.weight
    assert model.cls.predictions.decoder.weight is emb
    np.testing.assert_array_equal(emb.detach().numpy(),
                                  again.embeddings.word_embeddings.weight.detach().numpy())


def test_mismatched_sizes_raise_unless_ignored(transformers, tmp_path):
    transformers.BertForSequenceClassification(
        transformers.BertConfig(**BERT, num_labels=2)).save_pretrained(tmp_path)
    with pytest.raises(RuntimeError):
        transformers.BertForSequenceClassification.from_pretrained(tmp_path, num_labels=3)
    with pytest.raises(RuntimeError, match="(?s)classifier.weight.*ignore_mismatched_sizes"):
        M.BertForSequenceClassification.from_pretrained(tmp_path, num_labels=3)
    _, ref = transformers.BertForSequenceClassification.from_pretrained(
        tmp_path, num_labels=3, ignore_mismatched_sizes=True, output_loading_info=True)
    with pytest.warns(UserWarning, match="newly initialized"):
        model, ours = M.BertForSequenceClassification.from_pretrained(
            tmp_path, num_labels=3, ignore_mismatched_sizes=True, output_loading_info=True)
    assert sorted(ours["missing_keys"]) == sorted(ref["missing_keys"]) == []
    assert sorted(ours["mismatched_keys"]) == sorted(
        (k, tuple(a), tuple(b)) for k, a, b in ref["mismatched_keys"])
    assert model.classifier.weight.shape == (3, 32)
    assert not hasattr(model.config, "ignore_mismatched_sizes")  # not a config attribute
