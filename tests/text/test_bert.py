"""BertModel and every BERT head against transformers with the same random weights."""

import ember
import numpy as np
import pytest
from ember.text import models as M
from text_helpers import (
    assert_close,
    copy_weights,
    random_batch,
    right_padded_mask,
    to_ember,
    to_torch,
)

VOCAB = 99
CONFIG = dict(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
              intermediate_size=37, max_position_embeddings=64, type_vocab_size=2,
              num_labels=3)
HEADS = ["BertModel", "BertForMaskedLM", "BertForSequenceClassification",
         "BertForTokenClassification", "BertForQuestionAnswering",
         "BertForNextSentencePrediction", "BertForPreTraining"]


def _pair(transformers, name, **overrides):
    if name == "BertForQuestionAnswering":
        overrides.setdefault("num_labels", 2)  # span start and end
    cfg = dict(CONFIG, **overrides)
    ref = getattr(transformers, name)(transformers.BertConfig(**cfg,
                                                              attn_implementation="eager"))
    ref.eval()
    ours = getattr(M, name)(M.BertConfig(**cfg)).eval()
    copy_weights(ref, ours)
    return ref, ours


def _inputs(masked: bool):
    ids = random_batch(0, 3, 9, VOCAB, low=1)
    types = np.zeros_like(ids)
    types[:, 5:] = 1
    mask = right_padded_mask([9, 6, 3], 9) if masked else None
    return ids, types, mask


def _outputs_of(out):
    names = ("last_hidden_state", "pooler_output", "logits", "start_logits", "end_logits",
             "prediction_logits", "seq_relationship_logits")
    return {n: getattr(out, n) for n in names if getattr(out, n, None) is not None}


@pytest.mark.parametrize("name", HEADS)
@pytest.mark.parametrize("masked", [False, True])
def test_bert_matches_transformers(transformers, name, masked):
    import torch

    ref, ours = _pair(transformers, name)
    ids, types, mask = _inputs(masked)
    with torch.no_grad():
        r = ref(input_ids=to_torch(ids), token_type_ids=to_torch(types),
                attention_mask=to_torch(mask), output_hidden_states=True,
                output_attentions=True)
    with ember.no_grad():
        o = ours(input_ids=to_ember(ids), token_type_ids=to_ember(types),
                 attention_mask=to_ember(mask), output_hidden_states=True,
                 output_attentions=True)
    ro, oo = _outputs_of(r), _outputs_of(o)
    assert ro.keys() == oo.keys()
    for key in ro:
        assert_close(oo[key], ro[key])
    assert len(o.hidden_states) == len(r.hidden_states) == CONFIG["num_hidden_layers"] + 1
    for a, b in zip(o.hidden_states, r.hidden_states):
        assert_close(a, b)
    for a, b in zip(o.attentions, r.attentions):
        assert_close(a, b)


def test_padding_does_not_change_real_tokens(transformers):
    _, ours = _pair(transformers, "BertModel")
    ids = random_batch(1, 1, 5, VOCAB, low=1)
    padded = np.concatenate([ids, np.zeros((1, 3), dtype=ids.dtype)], axis=1)
    with ember.no_grad():
        short = ours(to_ember(ids)).last_hidden_state
        long = ours(to_ember(padded),
                    attention_mask=to_ember(right_padded_mask([5], 8))).last_hidden_state
    np.testing.assert_allclose(long.numpy()[:, :5], short.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,label_kw", [
    ("BertForMaskedLM", "labels"),
    ("BertForSequenceClassification", "labels"),
    ("BertForTokenClassification", "labels"),
    ("BertForNextSentencePrediction", "labels"),
])
def test_head_losses_match(transformers, name, label_kw):
    import torch

    ref, ours = _pair(transformers, name)
    ids, types, mask = _inputs(True)
    rng = np.random.default_rng(3)
    if name == "BertForMaskedLM":
        labels = rng.integers(0, VOCAB, ids.shape)
        labels[:, ::2] = -100
    elif name == "BertForTokenClassification":
        labels = rng.integers(0, 3, ids.shape)
    elif name == "BertForNextSentencePrediction":
        labels = rng.integers(0, 2, (3,))
    else:
        labels = rng.integers(0, 3, (3,))
    with torch.no_grad():
        r = ref(input_ids=to_torch(ids), attention_mask=to_torch(mask),
                **{label_kw: to_torch(labels)})
    o = ours(input_ids=to_ember(ids), attention_mask=to_ember(mask),
             **{label_kw: to_ember(labels)})
    assert_close(o.loss, r.loss)
    o.loss.backward()  # the loss is differentiable
    assert ours.bert.embeddings.word_embeddings.weight.grad is not None


@pytest.mark.parametrize("problem", ["regression", "multi_label_classification"])
def test_sequence_classification_problem_types(transformers, problem):
    import torch

    n = 1 if problem == "regression" else 3
    ref, ours = _pair(transformers, "BertForSequenceClassification", num_labels=n)
    ids, _, mask = _inputs(True)
    rng = np.random.default_rng(4)
    labels = rng.standard_normal((3,)).astype(np.float32) if n == 1 else \
        rng.integers(0, 2, (3, n)).astype(np.float32)
    with torch.no_grad():
        r = ref(input_ids=to_torch(ids), attention_mask=to_torch(mask), labels=to_torch(labels))
    o = ours(input_ids=to_ember(ids), attention_mask=to_ember(mask), labels=to_ember(labels))
    assert ours.config.problem_type == problem
    assert_close(o.loss, r.loss)


def test_question_answering_loss(transformers):
    import torch

    ref, ours = _pair(transformers, "BertForQuestionAnswering", num_labels=2)
    ids, _, mask = _inputs(True)
    start, end = np.array([1, 4, 20]), np.array([3, 5, 2])  # 20: outside -> ignored
    with torch.no_grad():
        r = ref(input_ids=to_torch(ids), attention_mask=to_torch(mask),
                start_positions=to_torch(start), end_positions=to_torch(end))
    o = ours(input_ids=to_ember(ids), attention_mask=to_ember(mask),
             start_positions=to_ember(start), end_positions=to_ember(end))
    assert_close(o.loss, r.loss)


def test_return_dict_false_gives_transformers_tuple(transformers):
    import torch

    ref, ours = _pair(transformers, "BertForSequenceClassification")
    ids, _, mask = _inputs(True)
    labels = np.array([0, 1, 2])
    with torch.no_grad():
        r = ref(input_ids=to_torch(ids), labels=to_torch(labels), return_dict=False,
                output_hidden_states=True)
    o = ours(input_ids=to_ember(ids), labels=to_ember(labels), return_dict=False,
             output_hidden_states=True)
    assert isinstance(o, tuple) and len(o) == len(r) == 3
    assert_close(o[0].detach(), r[0])
    assert_close(o[1].detach(), r[1])


def test_state_dict_keys_match_transformers(transformers):
    for name in HEADS:
        ref, ours = _pair(transformers, name)
        assert list(ours.state_dict()) == list(ref.state_dict()), name


def test_masked_lm_decoder_is_tied_to_word_embeddings():
    model = M.BertForMaskedLM(M.BertConfig(**CONFIG))
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight
    assert model.cls.predictions.decoder.bias is model.cls.predictions.bias


def test_head_mask_keeps_or_drops_heads():
    """transformers 5 dropped ``head_mask``; ember keeps v4's meaning (1 keeps a head)."""
    model = M.BertModel(M.BertConfig(**CONFIG)).eval()
    ids, _, mask = _inputs(True)
    ones = np.ones((2, 4), dtype=np.float32)
    dropped = ones.copy()
    dropped[0, 1] = 0
    with ember.no_grad():
        base = model(to_ember(ids), to_ember(mask)).last_hidden_state.numpy()
        same = model(to_ember(ids), to_ember(mask), head_mask=to_ember(ones))
        other = model(to_ember(ids), to_ember(mask), head_mask=to_ember(dropped))
    np.testing.assert_allclose(same.last_hidden_state.numpy(), base, rtol=1e-5, atol=1e-6)
    assert np.abs(other.last_hidden_state.numpy() - base).max() > 1e-4


def test_training_mode_gradients_match(transformers):
    """Gradients through the fused attention and GELU kernels equal torch's."""

    ref, ours = _pair(transformers, "BertForSequenceClassification", hidden_dropout_prob=0.0,
                      attention_probs_dropout_prob=0.0)
    ref.train()
    ours.train()
    ids, _, mask = _inputs(True)
    labels = np.array([0, 1, 2])
    ref(input_ids=to_torch(ids), attention_mask=to_torch(mask),
        labels=to_torch(labels)).loss.backward()
    ours(input_ids=to_ember(ids), attention_mask=to_ember(mask),
         labels=to_ember(labels)).loss.backward()
    for (name, p), (ref_name, q) in zip(ours.named_parameters(), ref.named_parameters()):
        assert name == ref_name
        assert_close(p.grad, q.grad, rtol=1e-3, atol=1e-5)


def test_bad_config_raises():
    with pytest.raises(ValueError, match="not a multiple"):
        M.BertModel(M.BertConfig(hidden_size=30, num_attention_heads=4))
    with pytest.raises(ValueError, match="exactly one"):
        M.BertModel(M.BertConfig(**CONFIG))()
