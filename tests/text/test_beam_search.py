"""Beam search (``generate(num_beams > 1)``) against transformers' ``generate`` on small
random GPT-2 models: the same sequences, beam indices, per-step scores and sequence scores,
under every ``early_stopping`` mode and several length penalties, with end-of-sequence ids
that finish hypotheses early, left-padded batches, and the logits processors."""

import ember
import numpy as np
import pytest
from beam_helpers import EOS, PROMPT, TOL, finite, model_pair, prompts
from ember.text.models import generation as G
from text_helpers import random_batch, to_ember, to_torch

torch = pytest.importorskip("torch")

@pytest.fixture(scope="module")
def pair(transformers):
    return model_pair(transformers)


@pytest.fixture(scope="module")
def eos_pair(transformers):
    return model_pair(transformers, eos_boost=0.3)


def _compare(pair, ids, mask, **kwargs):
    """Run both generates; assert equal sequences and beam indices, close scores and
    logits. Returns ember's and transformers' outputs."""
    ref, ours = pair
    with torch.no_grad():
        r = ref.generate(to_torch(ids), attention_mask=to_torch(mask), do_sample=False,
                         return_dict_in_generate=True, output_scores=True, output_logits=True,
                         **kwargs)
    o = ours.generate(to_ember(ids), attention_mask=to_ember(mask),
                      return_dict_in_generate=True, output_scores=True, output_logits=True,
                      **kwargs)
    assert isinstance(o, G.GenerateBeamDecoderOnlyOutput)
    np.testing.assert_array_equal(o.sequences.numpy(), r.sequences.numpy())
    np.testing.assert_array_equal(o.beam_indices.numpy(), r.beam_indices.numpy())
    np.testing.assert_allclose(o.sequences_scores.numpy(), r.sequences_scores.numpy(), **TOL)
    assert len(o.scores) == len(r.scores) and len(o.logits) == len(r.logits)
    for a, b in zip(o.scores, r.scores):
        np.testing.assert_allclose(finite(a), finite(b), **TOL)
    for a, b in zip(o.logits, r.logits):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)
    return o, r


@pytest.mark.parametrize("kwargs", [
    dict(num_beams=3, max_new_tokens=8),
    dict(num_beams=4, max_new_tokens=8, length_penalty=0.5, num_return_sequences=2),
    dict(num_beams=4, max_length=PROMPT + 6, length_penalty=2.0, num_return_sequences=4),
    dict(num_beams=3, max_new_tokens=8, no_repeat_ngram_size=2),
    dict(num_beams=3, max_new_tokens=8, repetition_penalty=1.5, bad_words_ids=[[5], [3, 4]]),
    dict(num_beams=2, max_new_tokens=8, min_new_tokens=4, eos_token_id=[40, EOS]),
])
def test_beam_search_matches_transformers(pair, kwargs):
    ids, mask = prompts()
    _compare(pair, ids, mask, pad_token_id=EOS, **kwargs)


@pytest.mark.parametrize("early_stopping", [False, True, "never"])
@pytest.mark.parametrize("length_penalty", [0.5, 1.0, 2.0])
def test_hypotheses_finishing_early(eos_pair, early_stopping, length_penalty):
    ids, mask = prompts(pad=0)
    # pad_token_id=0 also checks transformers' filler: `pad or eos`, hence EOS here
    o, _ = _compare(eos_pair, ids, mask, num_beams=4, max_new_tokens=10, pad_token_id=0,
                    length_penalty=length_penalty, early_stopping=early_stopping,
                    num_return_sequences=2)
    new = o.sequences.numpy()[:, PROMPT:]
    assert (new == EOS).any()  # hypotheses did finish
    if early_stopping is True:
        assert len(o.scores) < 10  # stopped once every prompt held num_beams hypotheses


def test_early_stopping_modes_differ(eos_pair):
    """The test model exercises all three stopping rules: with length_penalty=1 the
    heuristic (False) stops sooner than 'never', and True sooner still."""
    ids, mask = prompts(pad=0)
    _, ours = eos_pair
    steps = {}
    for mode in (True, False, "never"):
        out = ours.generate(to_ember(ids), attention_mask=to_ember(mask), num_beams=4,
                            max_new_tokens=10, pad_token_id=0, early_stopping=mode,
                            return_dict_in_generate=True, output_scores=True)
        steps[mode] = len(out.scores)
    assert steps[True] < steps[False] < steps["never"]


def test_several_eos_ids_and_pad(eos_pair):
    ids, mask = prompts(pad=0)
    o, _ = _compare(eos_pair, ids, mask, num_beams=3, max_new_tokens=9, pad_token_id=7,
                    eos_token_id=[EOS, 12], num_return_sequences=3)
    assert (o.sequences.numpy()[:, PROMPT:] == 7).any()  # shorter hypotheses padded


def test_cache_reorder_equals_no_cache(eos_pair):
    ids, mask = prompts(pad=0)
    _, ours = eos_pair
    kw = dict(attention_mask=to_ember(mask), num_beams=4, max_new_tokens=8, pad_token_id=0,
              early_stopping="never", num_return_sequences=3)
    a = ours.generate(to_ember(ids), **kw)
    b = ours.generate(to_ember(ids), use_cache=False, **kw)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_one_beam_is_greedy(pair):
    _, ours = pair
    ids, mask = prompts()
    kw = dict(attention_mask=to_ember(mask), max_new_tokens=6, pad_token_id=EOS)
    np.testing.assert_array_equal(ours.generate(to_ember(ids), num_beams=1, **kw).numpy(),
                                  ours.generate(to_ember(ids), **kw).numpy())


def test_plain_tensor_output_and_single_prompt(pair):
    ref, ours = pair
    ids = random_batch(3, 1, 5, EOS - 1)
    with torch.no_grad():
        r = ref.generate(to_torch(ids), num_beams=3, max_new_tokens=5, do_sample=False,
                         pad_token_id=EOS)
    o = ours.generate(to_ember(ids[0]), num_beams=3, max_new_tokens=5, pad_token_id=EOS)
    assert isinstance(o, ember.Tensor)
    np.testing.assert_array_equal(o.numpy(), r.numpy())


def test_bad_beam_arguments(pair):
    _, ours = pair
    ids = to_ember(random_batch(1, 1, 3, EOS))
    with pytest.raises(ValueError, match="num_return_sequences"):
        ours.generate(ids, max_new_tokens=2, num_beams=2, do_sample=True,
                      num_return_sequences=3)
    with pytest.raises(ValueError, match="num_return_sequences"):
        ours.generate(ids, max_new_tokens=2, num_beams=2, num_return_sequences=3)
    with pytest.raises(ValueError, match="streamer"):
        ours.generate(ids, max_new_tokens=2, num_beams=2, streamer=G.BaseStreamer())
    with pytest.raises(ValueError, match="early_stopping"):
        ours.generate(ids, max_new_tokens=2, num_beams=2, early_stopping="soon")
    with pytest.raises(ValueError, match="num_beams"):
        ours.generate(ids, max_new_tokens=2, num_beams=0)
