"""GPT-2 generation against transformers' generate: step logits, greedy tokens, padding,
end-of-sequence handling, and the logits processors of sampling."""

import io

import ember
import numpy as np
import pytest
from ember.text import models as M
from ember.text.models import generation as G
from text_helpers import copy_weights, left_padded_mask, random_batch, to_ember, to_torch

VOCAB, EOS = 99, 98
CONFIG = dict(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=4, n_positions=64,
              bos_token_id=EOS, eos_token_id=EOS)
NEAR_TIE = 1e-4


@pytest.fixture(scope="module")
def pair(transformers):
    import torch

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


def test_greedy_matches_transformers_step_by_step(pair):
    import torch

    ref, ours = pair
    ids, mask = _prompts()
    with torch.no_grad():
        r = ref.generate(to_torch(ids), attention_mask=to_torch(mask), max_new_tokens=12,
                         do_sample=False, pad_token_id=EOS, eos_token_id=EOS,
                         output_logits=True, return_dict_in_generate=True)
    o = ours.generate(to_ember(ids), attention_mask=to_ember(mask), max_new_tokens=12,
                      pad_token_id=EOS, eos_token_id=EOS, output_logits=True,
                      return_dict_in_generate=True)
    ref_seq = r.sequences.numpy()
    ours_seq = o.sequences.numpy()
    assert ours_seq.shape == ref_seq.shape
    # The logits of every step, computed from the same tokens (until a near tie could
    # legitimately pick another token), agree; so do the chosen tokens.
    for step, (a, b) in enumerate(zip(o.logits, r.logits)):
        b = b.numpy()
        top2 = np.sort(b, axis=-1)[:, -2:]
        if (top2[:, 1] - top2[:, 0] < NEAR_TIE).any():
            break
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(ours_seq[:, 7 + step], ref_seq[:, 7 + step])
    else:
        np.testing.assert_array_equal(ours_seq, ref_seq)


def test_step_logits_equal_a_forward_over_transformers_tokens(pair):
    """Feed transformers' generated tokens into ember's cached forward: each step's
    logits equal transformers' for that step."""
    import torch

    ref, ours = pair
    ids = random_batch(6, 1, 5, EOS)
    with torch.no_grad():
        r = ref.generate(to_torch(ids), max_new_tokens=8, do_sample=False, pad_token_id=EOS,
                         output_logits=True, return_dict_in_generate=True)
    seq = r.sequences.numpy()
    cache = M.DynamicCache()
    with ember.no_grad():
        out = ours(to_ember(seq[:, :5]), past_key_values=cache)
        for step in range(len(r.logits)):
            np.testing.assert_allclose(out.logits[:, -1].numpy(), r.logits[step].numpy(),
                                       rtol=1e-4, atol=1e-5)
            if 5 + step < seq.shape[1]:
                out = ours(to_ember(seq[:, 5 + step:6 + step]), past_key_values=cache)


def test_cache_and_no_cache_generate_the_same(pair):
    _, ours = pair
    ids, mask = _prompts()
    a = ours.generate(to_ember(ids), attention_mask=to_ember(mask), max_new_tokens=6)
    b = ours.generate(to_ember(ids), attention_mask=to_ember(mask), max_new_tokens=6,
                      use_cache=False)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_finished_rows_are_padded(pair):
    import torch

    ref, ours = pair
    ids = random_batch(7, 2, 4, EOS)
    free = ours.generate(to_ember(ids), max_new_tokens=6, eos_token_id=[]).numpy()
    stop = int(free[0, 4])  # the first token row 0 makes becomes an eos id
    o = ours.generate(to_ember(ids), max_new_tokens=6, eos_token_id=stop, pad_token_id=0)
    with torch.no_grad():
        r = ref.generate(to_torch(ids), max_new_tokens=6, do_sample=False, eos_token_id=stop,
                         pad_token_id=0)
    np.testing.assert_array_equal(o.numpy(), r.numpy())
    assert o.numpy()[0, 4] == stop and (o.numpy()[0, 5:] == 0).all()


def test_max_length_default_and_streamer(pair):
    _, ours = pair
    ids = to_ember(random_batch(8, 1, 5, EOS))

    class Collect(G.BaseStreamer):
        def __init__(self):
            self.calls = []

        def put(self, value):
            self.calls.append(value.numpy().reshape(-1).tolist())

        def end(self):
            self.calls.append("end")

    streamer = Collect()
    out = ours.generate(ids, eos_token_id=[], streamer=streamer)
    assert out.shape == (1, 25)  # transformers' default: 20 new tokens
    assert streamer.calls[0] == ids.numpy()[0].tolist() and streamer.calls[-1] == "end"
    assert [c[0] for c in streamer.calls[1:-1]] == out.numpy()[0, 5:].tolist()


@pytest.mark.parametrize("length", [5, 50])
def test_default_length_is_twenty_new_tokens_within_the_positions(pair, length):
    """Without max_length/max_new_tokens, transformers 5 adds 20 tokens, capped by the model's
    positions (n_positions=64: a 50-token prompt gets 14)."""
    ref, ours = pair
    ids = random_batch(9, 1, length, EOS)
    want = ref.generate(to_torch(ids), do_sample=False, pad_token_id=0).numpy()
    got = ours.generate(to_ember(ids), pad_token_id=0).numpy()
    assert got.shape == want.shape == (1, min(length + 20, CONFIG["n_positions"]))
    np.testing.assert_array_equal(got, want)


def test_text_streamer_prints_words():
    class Tok:
        words = {1: "Hello", 2: " big", 3: " world", 4: "\n"}

        def decode(self, ids, **kw):
            return "".join(self.words[i] for i in ids)

    buf = io.StringIO()
    s = G.TextStreamer(Tok(), skip_prompt=True, file=buf)
    s.put(ember.tensor([[1]]))  # the prompt: skipped
    for i in (2, 3, 4, 2):
        s.put(ember.tensor([i]))
    s.end()
    assert buf.getvalue() == " big world\n big\n"


def test_sampling_is_seeded_and_top_k_1_is_greedy(pair):
    _, ours = pair
    ids = to_ember(random_batch(9, 2, 5, EOS))
    greedy = ours.generate(ids, max_new_tokens=5, eos_token_id=[])
    top1 = ours.generate(ids, max_new_tokens=5, do_sample=True, top_k=1, eos_token_id=[])
    np.testing.assert_array_equal(top1.numpy(), greedy.numpy())
    ember.manual_seed(3)
    a = ours.generate(ids, max_new_tokens=5, do_sample=True, temperature=0.7, top_p=0.9,
                      repetition_penalty=1.3, num_return_sequences=3, eos_token_id=[])
    ember.manual_seed(3)
    b = ours.generate(ids, max_new_tokens=5, do_sample=True, temperature=0.7, top_p=0.9,
                      repetition_penalty=1.3, num_return_sequences=3, eos_token_id=[])
    assert a.shape == (6, 10)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(a.numpy()[:3, :5], np.repeat(ids.numpy()[:1], 3, 0))


@pytest.mark.parametrize("name,args", [
    ("RepetitionPenaltyLogitsProcessor", (1.7,)),
    ("TemperatureLogitsWarper", (0.6,)),
    ("TopKLogitsWarper", (7,)),
    ("TopPLogitsWarper", (0.8,)),
])
def test_logits_processors_match_transformers(transformers, name, args):
    import torch

    rng = np.random.default_rng(10)
    scores = rng.standard_normal((3, 50)).astype(np.float32) * 3
    ids = rng.integers(0, 50, (3, 6))
    ref = getattr(transformers, name)(*args)(to_torch(ids), to_torch(scores.copy()))
    ours = getattr(G, name)(*args)(to_ember(ids), to_ember(scores.copy()))
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6)
    assert isinstance(ref, torch.Tensor)


def test_bad_sampling_arguments_raise():
    with pytest.raises(ValueError, match="temperature"):
        G.TemperatureLogitsWarper(0.0)
    with pytest.raises(ValueError, match="top_k"):
        G.TopKLogitsWarper(0)
    with pytest.raises(ValueError, match="top_p"):
        G.TopPLogitsWarper(1.5)


def test_greedy_with_several_sequences_raises(pair):
    _, ours = pair
    with pytest.raises(ValueError, match="num_return_sequences"):
        ours.generate(to_ember(random_batch(11, 1, 3, EOS)), max_new_tokens=2,
                      num_return_sequences=2)
