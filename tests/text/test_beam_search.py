"""Beam search (``generate(num_beams > 1)``) against transformers' ``generate`` on small
random GPT-2 models: the same sequences, beam indices, per-step scores and sequence scores,
under every ``early_stopping`` mode and several length penalties, with end-of-sequence ids
that finish hypotheses early, left-padded batches, and the logits processors."""

import ember
import numpy as np
import pytest
from ember.text import models as M
from ember.text.models import generation as G
from text_helpers import copy_weights, left_padded_mask, random_batch, to_ember, to_torch

torch = pytest.importorskip("torch")

VOCAB, EOS = 99, 98
CONFIG = dict(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=4, n_positions=64,
              bos_token_id=EOS, eos_token_id=EOS)
PROMPT = 7
TOL = dict(rtol=1e-5, atol=1e-5)


def _pair(transformers, eos_boost: float = 0.0):
    """A random transformers GPT-2 and the ember copy. ``eos_boost`` > 0 raises the
    end-of-sequence logit (a final-norm bias along the direction added to EOS's tied
    embedding row), so that hypotheses finish early."""
    torch.manual_seed(0)
    ref = transformers.GPT2LMHeadModel(transformers.GPT2Config(**CONFIG)).eval()
    if eos_boost:
        with torch.no_grad():
            u = torch.randn(CONFIG["n_embd"])
            u /= u.norm()
            ref.transformer.ln_f.bias.copy_(u)
            ref.transformer.wte.weight[EOS] += eos_boost * u
    ours = M.GPT2LMHeadModel(M.GPT2Config(**CONFIG)).eval()
    copy_weights(ref, ours)
    return ref, ours


@pytest.fixture(scope="module")
def pair(transformers):
    return _pair(transformers)


@pytest.fixture(scope="module")
def eos_pair(transformers):
    return _pair(transformers, eos_boost=0.3)


def _prompts(pad: int = EOS):
    ids = random_batch(5, 3, PROMPT, EOS - 1)
    mask = left_padded_mask([PROMPT, 4, 2], PROMPT)
    ids[mask == 0] = pad
    return ids, mask


def _finite(x):
    x = x.detach().numpy() if hasattr(x, "detach") else x.numpy()
    return np.where(np.isinf(x), np.sign(x) * 1e30, x)


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
        np.testing.assert_allclose(_finite(a), _finite(b), **TOL)
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
    ids, mask = _prompts()
    _compare(pair, ids, mask, pad_token_id=EOS, **kwargs)


@pytest.mark.parametrize("early_stopping", [False, True, "never"])
@pytest.mark.parametrize("length_penalty", [0.5, 1.0, 2.0])
def test_hypotheses_finishing_early(eos_pair, early_stopping, length_penalty):
    ids, mask = _prompts(pad=0)
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
    ids, mask = _prompts(pad=0)
    _, ours = eos_pair
    steps = {}
    for mode in (True, False, "never"):
        out = ours.generate(to_ember(ids), attention_mask=to_ember(mask), num_beams=4,
                            max_new_tokens=10, pad_token_id=0, early_stopping=mode,
                            return_dict_in_generate=True, output_scores=True)
        steps[mode] = len(out.scores)
    assert steps[True] < steps[False] < steps["never"]


def test_several_eos_ids_and_pad(eos_pair):
    ids, mask = _prompts(pad=0)
    o, _ = _compare(eos_pair, ids, mask, num_beams=3, max_new_tokens=9, pad_token_id=7,
                    eos_token_id=[EOS, 12], num_return_sequences=3)
    assert (o.sequences.numpy()[:, PROMPT:] == 7).any()  # shorter hypotheses padded


def test_cache_reorder_equals_no_cache(eos_pair):
    ids, mask = _prompts(pad=0)
    _, ours = eos_pair
    kw = dict(attention_mask=to_ember(mask), num_beams=4, max_new_tokens=8, pad_token_id=0,
              early_stopping="never", num_return_sequences=3)
    a = ours.generate(to_ember(ids), **kw)
    b = ours.generate(to_ember(ids), use_cache=False, **kw)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_one_beam_is_greedy(pair):
    _, ours = pair
    ids, mask = _prompts()
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
