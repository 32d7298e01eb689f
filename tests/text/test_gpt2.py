"""GPT2Model, GPT2LMHeadModel and GPT2ForSequenceClassification against transformers with
the same random weights; the key/value cache against the full recomputation."""

import ember
import numpy as np
import pytest
from ember.text import models as M
from text_helpers import (
    assert_close,
    copy_weights,
    left_padded_mask,
    random_batch,
    right_padded_mask,
    to_ember,
    to_torch,
)

VOCAB, EOS = 99, 98
CONFIG = dict(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=4, n_positions=64,
              bos_token_id=EOS, eos_token_id=EOS, num_labels=3)


def _pair(transformers, name, **overrides):
    cfg = dict(CONFIG, **overrides)
    ref = getattr(transformers, name)(transformers.GPT2Config(**cfg,
                                                              attn_implementation="eager"))
    ref.eval()
    ours = getattr(M, name)(M.GPT2Config(**cfg)).eval()
    copy_weights(ref, ours)
    return ref, ours


@pytest.mark.parametrize("name", ["GPT2Model", "GPT2LMHeadModel"])
@pytest.mark.parametrize("padding", [None, "left", "right"])
def test_gpt2_matches_transformers(transformers, name, padding):
    import torch

    ref, ours = _pair(transformers, name)
    ids = random_batch(0, 3, 8, EOS)
    lengths = [8, 5, 2]
    mask = {None: None, "left": left_padded_mask(lengths, 8),
            "right": right_padded_mask(lengths, 8)}[padding]
    with torch.no_grad():
        r = ref(input_ids=to_torch(ids), attention_mask=to_torch(mask),
                output_hidden_states=True, output_attentions=True)
    with ember.no_grad():
        o = ours(input_ids=to_ember(ids), attention_mask=to_ember(mask),
                 output_hidden_states=True, output_attentions=True)
    real = np.ones(ids.shape, bool) if mask is None else mask.astype(bool)
    key = "last_hidden_state" if name == "GPT2Model" else "logits"
    assert_close(o[key], r[key], where=real)
    assert len(o.hidden_states) == len(r.hidden_states) == CONFIG["n_layer"] + 1
    for a, b in zip(o.hidden_states, r.hidden_states):
        assert_close(a, b, where=real)
    for a, b in zip(o.attentions, r.attentions):  # (B, nh, T, S): rows of real queries
        assert_close(a.permute(0, 2, 1, 3), b.permute(0, 2, 1, 3), where=real)
    assert np.isfinite(o[key].numpy()).all()  # padding rows stay finite


def test_lm_loss_matches(transformers):
    import torch

    ref, ours = _pair(transformers, "GPT2LMHeadModel")
    ids = random_batch(1, 2, 10, EOS)
    labels = ids.copy()
    labels[0, :3] = -100
    with torch.no_grad():
        r = ref(input_ids=to_torch(ids), labels=to_torch(labels))
    o = ours(input_ids=to_ember(ids), labels=to_ember(labels))
    assert_close(o.loss, r.loss)
    o.loss.backward()
    assert ours.transformer.wte.weight.grad is not None


@pytest.mark.parametrize("pad_token_id", [None, 0])
def test_sequence_classification_uses_last_real_token(transformers, pad_token_id):
    import torch

    ref, ours = _pair(transformers, "GPT2ForSequenceClassification", pad_token_id=pad_token_id)
    if pad_token_id is None:
        ids, mask = random_batch(2, 1, 6, EOS, low=1), None
    else:
        ids = random_batch(2, 3, 6, EOS, low=1)
        mask = right_padded_mask([6, 4, 2], 6)
        ids[mask == 0] = 0
    labels = np.array([1, 0, 2])[:ids.shape[0]]
    with torch.no_grad():
        r = ref(input_ids=to_torch(ids), attention_mask=to_torch(mask), labels=to_torch(labels))
    o = ours(input_ids=to_ember(ids), attention_mask=to_ember(mask), labels=to_ember(labels))
    assert_close(o.logits.detach(), r.logits)
    assert_close(o.loss.detach(), r.loss)


def test_state_dict_matches_transformers_and_lm_head_is_tied(transformers):
    for name in ("GPT2Model", "GPT2LMHeadModel", "GPT2ForSequenceClassification"):
        ref, ours = _pair(transformers, name)
        assert list(ours.state_dict()) == list(ref.state_dict())
        assert [tuple(v.shape) for v in ours.state_dict().values()] == \
            [tuple(v.shape) for v in ref.state_dict().values()]
    model = M.GPT2LMHeadModel(M.GPT2Config(**CONFIG))
    assert model.lm_head.weight is model.transformer.wte.weight
    untied = M.GPT2LMHeadModel(M.GPT2Config(**CONFIG, tie_word_embeddings=False))
    assert untied.lm_head.weight is not untied.transformer.wte.weight


@pytest.mark.parametrize("padding", [False, True])
def test_cache_path_equals_full_recomputation(padding):
    ember.manual_seed(0)
    model = M.GPT2LMHeadModel(M.GPT2Config(**CONFIG)).eval()
    ids = to_ember(random_batch(3, 2, 12, EOS))
    mask = to_ember(left_padded_mask([12, 7], 12)) if padding else None
    with ember.no_grad():
        full = model(ids, attention_mask=mask, use_cache=False).logits.numpy()
        cache = M.DynamicCache()
        pieces = []
        for a, b in ((0, 5), (5, 6), (6, 9), (9, 10), (10, 12)):  # prompt, then steps
            m = None if mask is None else mask[:, :b]
            pos = None
            if mask is not None:
                pos = (mask[:, :b].cumsum(-1) - 1).masked_fill(mask[:, :b] == 0, 1)[:, a:b]
            out = model(ids[:, a:b], past_key_values=cache, attention_mask=m, position_ids=pos)
            pieces.append(out.logits.numpy())
            assert out.past_key_values is cache and cache.get_seq_length() == b
    stepped = np.concatenate(pieces, axis=1)
    real = np.ones((2, 12), bool) if mask is None else mask.numpy().astype(bool)
    if mask is not None:  # full pass: positions as generate counts them
        with ember.no_grad():
            pos = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
            full = model(ids, attention_mask=mask, position_ids=pos).logits.numpy()
    np.testing.assert_allclose(stepped[real], full[real], rtol=1e-4, atol=1e-5)


def test_legacy_tuple_cache_is_accepted():
    model = M.GPT2LMHeadModel(M.GPT2Config(**CONFIG)).eval()
    ids = to_ember(random_batch(4, 1, 6, EOS))
    with ember.no_grad():
        first = model(ids[:, :4])
        legacy = first.past_key_values.to_legacy_cache()
        assert len(legacy) == CONFIG["n_layer"] and legacy[0][0].shape == (1, 4, 4, 8)
        a = model(ids[:, 4:], past_key_values=legacy).logits.numpy()
        b = model(ids).logits.numpy()[:, 4:]
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_too_many_positions_raise():
    model = M.GPT2Model(M.GPT2Config(**CONFIG))
    with pytest.raises(ValueError, match="n_positions"):
        model(ember.zeros(1, 65, dtype=ember.long))


def test_config_aliases_and_round_trip(tmp_path):
    cfg = M.GPT2Config(**CONFIG)
    assert cfg.hidden_size == 32 and cfg.num_hidden_layers == 2 and cfg.num_attention_heads == 4
    cfg.save_pretrained(tmp_path)
    again = M.GPT2Config.from_pretrained(tmp_path)
    assert again.to_dict() == cfg.to_dict() and again.num_labels == 3
    with pytest.raises(ValueError, match="gpt2"):
        M.BertConfig.from_pretrained(tmp_path)
