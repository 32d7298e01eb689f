"""generate's constraint processors against transformers': n-gram blocking, bad words,
minimum lengths, and the repetition penalty that ignores left padding."""

import numpy as np
import pytest
from ember.text import models as M
from ember.text.models import generation as G
from text_helpers import copy_weights, left_padded_mask, random_batch, to_ember, to_torch

torch = pytest.importorskip("torch")

VOCAB, EOS = 99, 98
CONFIG = dict(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=4, n_positions=64,
              bos_token_id=EOS, eos_token_id=EOS)


@pytest.fixture(scope="module")
def pair(transformers):
    torch.manual_seed(0)
    ref = transformers.GPT2LMHeadModel(transformers.GPT2Config(**CONFIG)).eval()
    ours = M.GPT2LMHeadModel(M.GPT2Config(**CONFIG)).eval()
    copy_weights(ref, ours)
    return ref, ours


def _prompts():
    ids = random_batch(5, 3, 7, EOS)
    mask = left_padded_mask([7, 4, 2], 7)
    ids[mask == 0] = EOS  # left padding with the pad (= eos) id
    return ids, mask


def _scores(steps):
    out = np.stack([s.detach().numpy() for s in steps])
    return np.where(np.isinf(out), -1e30, out)


@pytest.mark.parametrize("kwargs", [
    dict(repetition_penalty=1.3),  # the left padding (eos) is not penalized
    dict(no_repeat_ngram_size=2),
    dict(bad_words_ids=[[30], [5, 6], [EOS]]),
    dict(min_new_tokens=5, eos_token_id=[40, EOS]),
    dict(min_length=10),
])
def test_generate_matches_transformers(pair, kwargs):
    ref, ours = pair
    ids, mask = _prompts()
    if "bad_words_ids" in kwargs:
        kwargs["bad_words_ids"][0] = [int(ids[0, -1])]
    with torch.no_grad():
        r = ref.generate(to_torch(ids), attention_mask=to_torch(mask), max_new_tokens=8,
                         do_sample=False, pad_token_id=EOS, output_scores=True,
                         return_dict_in_generate=True, **kwargs)
    o = ours.generate(to_ember(ids), attention_mask=to_ember(mask), max_new_tokens=8,
                      pad_token_id=EOS, output_scores=True, return_dict_in_generate=True,
                      **kwargs)
    np.testing.assert_array_equal(o.sequences.numpy(), r.sequences.numpy())
    np.testing.assert_allclose(_scores(o.scores), _scores(r.scores), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name,args", [
    ("NoRepeatNGramLogitsProcessor", (2,)),
    ("NoRepeatNGramLogitsProcessor", (3,)),
    ("NoBadWordsLogitsProcessor", ([[3], [4, 7], [1, 2, 4], [5]], 5)),
    ("MinLengthLogitsProcessor", (10, [3, 4])),
    ("MinNewTokensLengthLogitsProcessor", (5, 5, 4)),
    ("RepetitionPenaltyLogitsProcessor", (1.5, 2)),
    ("RepetitionPenaltyLogitsProcessor", (1.5, [0, 4, 8])),
])
def test_processors_match_transformers(transformers, name, args):
    rng = np.random.default_rng(10)
    scores = rng.standard_normal((3, 50)).astype(np.float32) * 3
    ids = rng.integers(0, 6, (3, 9))
    ids[1, -2:] = ids[1, 2:4]  # a repeated bigram
    ids[0, -1] = 4  # so that the bad word [4, 7] applies
    if name == "RepetitionPenaltyLogitsProcessor" and isinstance(args[1], list):
        t_args, e_args = (args[0], torch.tensor(args[1])), (args[0], to_ember(args[1]))
    elif name.startswith("Min"):
        t_args = args[:-1] + (torch.tensor(args[-1]),)
        e_args = args
    else:
        t_args = e_args = args
    ref = getattr(transformers, name)(*t_args)(to_torch(ids), to_torch(scores.copy()))
    ours = getattr(G, name)(*e_args)(to_ember(ids), to_ember(scores.copy()))
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def test_beam_sampling_applies_the_constraints(pair):
    """Beam sampling (once refused) runs the constraint processors with the warpers: banned
    words and repeated bigrams never appear, whatever is drawn."""
    import ember

    _, ours = pair
    ids, mask = _prompts()
    out = ours.generate(to_ember(ids), attention_mask=to_ember(mask), max_new_tokens=10,
                        num_beams=3, do_sample=True, temperature=1.5, top_k=0,
                        bad_words_ids=[[30], [31]], no_repeat_ngram_size=2, pad_token_id=EOS,
                        num_return_sequences=2, generator=ember.Generator().manual_seed(0))
    new = out.numpy()[:, 7:]
    assert out.shape[0] == 6 and new.shape[1] > 0
    assert not np.isin(new, [30, 31]).any()
    for row in out.numpy():
        bigrams = [tuple(row[i:i + 2]) for i in range(len(row) - 1)
                   if row[i] != EOS and row[i + 1] != EOS]
        assert len(bigrams) == len(set(bigrams))
