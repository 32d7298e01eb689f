"""Beam sampling (``generate(num_beams > 1, do_sample=True)``) against transformers 5.

Random draws cannot be compared with torch's, so the checks are:

* with multinomial replaced, in both libraries, by the same deterministic draw (a Gumbel
  top-k whose noise is fixed by the call number), generation follows transformers step for
  step: the distributions handed to the draw, the sequences, beam indices and scores;
* the candidate distribution of one step equals the one transformers computes from the same
  logits;
* top_k=1 (which beam sampling widens to 2 per beam, as transformers) leaves nothing to
  chance with 2 beams: it equals transformers' beam sampling and beam search;
* runs repeat under ``ember.manual_seed`` or a generator;
* over many draws, the sets of candidates follow sampling without replacement from the
  candidate distribution.
"""

import itertools

import ember
import numpy as np
import pytest
from beam_helpers import EOS, TOL, VOCAB, finite, model_pair, prompts
from ember.text.models import beam_search as BS
from ember.text.models import generation as G
from text_helpers import to_ember, to_torch

torch = pytest.importorskip("torch")

@pytest.fixture(scope="module")
def pair(transformers):
    return model_pair(transformers)


@pytest.fixture(scope="module")
def eos_pair(transformers):
    return model_pair(transformers, eos_boost=0.3)


class _FixedDraws:
    """A deterministic stand-in for ``multinomial`` without replacement: the Gumbel top-k
    trick (the ``k`` largest ``log p + g``), with the noise ``g`` drawn from a numpy
    generator seeded by the call number. Equal probabilities give equal draws in torch and
    ember; the probabilities of every call are recorded."""

    def __init__(self, wrap):
        self.wrap = wrap
        self.probs = []

    def __call__(self, probs, num_samples, replacement=False, *, generator=None, out=None):
        assert not replacement
        p = probs.detach().cpu().numpy() if hasattr(probs, "detach") else probs.numpy()
        p = p.astype(np.float64)
        self.probs.append(p)
        noise = np.random.default_rng(len(self.probs)).gumbel(size=p.shape)
        with np.errstate(divide="ignore"):
            keys = np.log(p) + noise
        idx = np.argsort(-keys, axis=-1, kind="stable")[..., :num_samples]
        return self.wrap(np.ascontiguousarray(idx.astype(np.int64)))


def _fixed_draws(monkeypatch):
    theirs = _FixedDraws(torch.from_numpy)
    ours = _FixedDraws(ember.from_numpy)
    monkeypatch.setattr(torch, "multinomial", theirs)
    monkeypatch.setattr(ember, "multinomial", ours)
    return theirs, ours


@pytest.mark.parametrize("model,kwargs", [
    ("pair", dict(num_beams=3, max_new_tokens=8)),
    ("pair", dict(num_beams=2, max_new_tokens=8, temperature=0.7, top_k=5)),
    ("pair", dict(num_beams=4, max_new_tokens=7, top_k=0, top_p=0.8, temperature=1.3,
                  num_return_sequences=3, length_penalty=0.5)),
    ("pair", dict(num_beams=3, max_new_tokens=8, top_k=4, repetition_penalty=1.5,
                  no_repeat_ngram_size=2)),
    ("pair", dict(num_beams=2, max_new_tokens=8, top_k=3, eos_token_id=[40, EOS],
                  min_new_tokens=2)),
    ("eos_pair", dict(num_beams=4, max_new_tokens=10, num_return_sequences=2,
                      early_stopping=True, top_k=20)),
    ("eos_pair", dict(num_beams=3, max_new_tokens=10, early_stopping="never",
                      length_penalty=2.0, temperature=0.8, top_p=0.9)),
    ("eos_pair", dict(num_beams=3, max_new_tokens=9, top_k=None, eos_token_id=[EOS, 12],
                      pad_token_id=7, num_return_sequences=3)),
])
def test_follows_transformers_draw_for_draw(request, monkeypatch, model, kwargs):
    ref, ours = request.getfixturevalue(model)
    ids, mask = prompts()
    kwargs = dict(pad_token_id=EOS, **kwargs) if "pad_token_id" not in kwargs else kwargs
    theirs_draw, ours_draw = _fixed_draws(monkeypatch)
    with torch.no_grad():
        r = ref.generate(to_torch(ids), attention_mask=to_torch(mask), do_sample=True,
                         return_dict_in_generate=True, output_scores=True, **kwargs)
    o = ours.generate(to_ember(ids), attention_mask=to_ember(mask), do_sample=True,
                      return_dict_in_generate=True, output_scores=True, **kwargs)
    # transformers asked for exactly these draws, from these distributions
    assert len(ours_draw.probs) == len(theirs_draw.probs) == len(r.scores)
    for a, b in zip(ours_draw.probs, theirs_draw.probs):
        assert a.shape == b.shape == (3, kwargs["num_beams"] * VOCAB)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-8)
    np.testing.assert_array_equal(o.sequences.numpy(), r.sequences.numpy())
    np.testing.assert_array_equal(o.beam_indices.numpy(), r.beam_indices.numpy())
    np.testing.assert_allclose(o.sequences_scores.numpy(), r.sequences_scores.numpy(), **TOL)
    assert len(o.scores) == len(r.scores)
    for a, b in zip(o.scores, r.scores):
        np.testing.assert_allclose(finite(a), finite(b), **TOL)


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(temperature=0.5, top_k=7),
    dict(top_k=0, top_p=0.6, temperature=2.0),
    dict(top_k=1, eos_token_id=[3, 4, 5]),  # keeps 4 tokens per beam
    dict(top_p=0.01, repetition_penalty=1.4),
])
def test_candidate_distribution_matches_transformers(transformers, pair, kwargs):
    """One step from the same logits, running scores and sequences: ember's processed
    log-probabilities, candidate scores and distribution against those transformers builds
    (its own processor list for the generation config, then its formula)."""
    ref, ours = pair
    batch, nb, length = 2, 3, 6
    rng = np.random.default_rng(3)
    logits = (rng.standard_normal((batch * nb, VOCAB)) * 3).astype(np.float32)
    running = np.array([[0.0, -1.5, -2.0], [-0.5, -0.7, -4.0]], dtype=np.float32)
    seqs = rng.integers(0, VOCAB, (batch * nb, length))
    eos = kwargs.pop("eos_token_id", [EOS])
    kwargs.setdefault("top_k", 50)  # generate's default (a bare GenerationConfig has none)

    cfg = transformers.GenerationConfig(do_sample=True, num_beams=nb, eos_token_id=eos,
                                        pad_token_id=EOS, **kwargs)
    cfg._eos_token_tensor = torch.tensor(eos)
    cfg._pad_token_tensor = torch.tensor(EOS)
    procs = ref._get_logits_processor(cfg, input_ids_seq_length=length,
                                      logits_processor=transformers.LogitsProcessorList(),
                                      device="cpu")
    t_logp = procs(to_torch(seqs), torch.log_softmax(to_torch(logits), dim=-1))
    t_total = (t_logp.reshape(batch, nb, VOCAB) + to_torch(running)[:, :, None]).reshape(
        batch, -1)
    t_probs = torch.softmax(t_total, dim=-1)

    e_procs = ours._logits_processors(
        True, kwargs.get("temperature", 1.0), kwargs.get("top_k", 50), kwargs.get("top_p", 1.0),
        kwargs.get("repetition_penalty", 1.0), eos=eos, min_tokens_to_keep=len(eos) + 1)
    e_logp = e_procs(to_ember(seqs), ember.log_softmax(to_ember(logits), dim=-1))
    e_total = BS.candidate_scores(e_logp, to_ember(running))
    e_probs = BS.candidate_distribution(e_total)
    np.testing.assert_allclose(finite(e_logp), finite(t_logp), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(finite(e_total), finite(t_total), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(e_probs.numpy(), t_probs.numpy(), rtol=1e-5, atol=1e-9)
    assert (e_probs.numpy() == 0).sum() == (t_probs.numpy() == 0).sum()


def test_top_k_one_leaves_nothing_to_chance(pair):
    """top_k=1 keeps 2 tokens per beam (one more than the end-of-sequence ids): with 2 beams
    the 4 drawn candidates are all there are, so beam sampling equals beam search with a
    top-2 filter, and transformers' beam sampling, whatever the random state."""
    ref, ours = pair
    ids, mask = prompts()
    kw = dict(num_beams=2, max_new_tokens=8, pad_token_id=EOS, num_return_sequences=2)
    outs = []
    for seed in (0, 1, 2):
        ember.manual_seed(seed)
        outs.append(ours.generate(to_ember(ids), attention_mask=to_ember(mask),
                                  do_sample=True, top_k=1, **kw).numpy())
    search = ours.generate(to_ember(ids), attention_mask=to_ember(mask),
                           logits_processor=G.LogitsProcessorList([G.TopKLogitsWarper(2)]),
                           **kw).numpy()
    torch.manual_seed(5)
    with torch.no_grad():
        theirs = ref.generate(to_torch(ids), attention_mask=to_torch(mask), do_sample=True,
                              top_k=1, **kw).numpy()
    for out in outs:
        np.testing.assert_array_equal(out, search)
        np.testing.assert_array_equal(out, theirs)
    # on this model no third-best token of a beam would have made the cut: plain beam
    # search gives the same
    plain = ours.generate(to_ember(ids), attention_mask=to_ember(mask), **kw).numpy()
    np.testing.assert_array_equal(plain, search)


def test_reproducible_with_seed_and_generator(pair):
    _, ours = pair
    ids, mask = prompts()
    kw = dict(attention_mask=to_ember(mask), num_beams=3, max_new_tokens=8, do_sample=True,
              top_k=0, temperature=1.5, pad_token_id=EOS, num_return_sequences=2)

    def run(seed=None, generator=None):
        if seed is not None:
            ember.manual_seed(seed)
        return ours.generate(to_ember(ids), generator=generator, **kw).numpy()

    a, b, c = run(seed=11), run(seed=11), run(seed=12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    g1 = run(seed=0, generator=ember.Generator().manual_seed(7))
    g2 = run(seed=1, generator=ember.Generator().manual_seed(7))  # the global seed is unused
    np.testing.assert_array_equal(g1, g2)
    g3 = run(generator=ember.Generator().manual_seed(8))
    assert not np.array_equal(g1, g3)


def _subset_law(p: np.ndarray, k: int) -> dict:
    """The probability of every set of ``k`` indices drawn one by one without replacement,
    each with probability proportional to ``p`` among those left."""
    law = {}
    for seq in itertools.permutations(np.flatnonzero(p), k):
        prob, left = 1.0, 1.0
        for i in seq:
            prob *= p[i] / left
            left -= p[i]
        key = tuple(sorted(seq))
        law[key] = law.get(key, 0.0) + prob
    return law


def test_drawn_candidates_follow_the_distribution():
    """Many draws of one step (2 beams, 4 tokens each kept by top-k, 4 candidates drawn
    among 8): the frequencies of the candidate sets match sampling without replacement from
    the candidate distribution (chi-square), and the candidates come sorted by score."""
    nb, vocab, keep, draws = 2, 6, 4, 20000
    rng = np.random.default_rng(0)
    logits = (rng.standard_normal((nb, vocab)) * 1.5).astype(np.float32)
    logp = G.TopKLogitsWarper(4, min_tokens_to_keep=2)(
        None, ember.log_softmax(to_ember(logits), dim=-1))
    total = BS.candidate_scores(logp, to_ember(np.array([[-0.3, -1.1]], np.float32)))
    p = BS.candidate_distribution(total).numpy()[0].astype(np.float64)
    assert (p > 0).sum() == 8
    rows = total.expand(draws, nb * vocab)
    gen = ember.Generator().manual_seed(123)
    scores, picked = BS.select_candidates(rows, keep, do_sample=True, generator=gen)
    scores, picked = scores.numpy(), picked.numpy()
    assert (np.diff(scores, axis=1) <= 0).all()
    np.testing.assert_array_equal(scores, total.numpy()[0][picked])
    assert (p[picked] > 0).all()

    law = _subset_law(p, keep)
    counts = {}
    for row in map(tuple, np.sort(picked, axis=1)):
        counts[row] = counts.get(row, 0) + 1
    assert set(counts) <= set(law)
    expected = np.array([law[s] * draws for s in law])
    observed = np.array([counts.get(s, 0) for s in law])
    chi2 = float((((observed - expected) ** 2) / expected).sum())
    dof = len(law) - 1  # 69; the 0.999 quantile is about 111
    assert chi2 < 111, (chi2, dof)
    # each candidate's inclusion frequency, within 5 standard errors
    incl = np.array([sum(v for s, v in law.items() if i in s) for i in range(nb * vocab)])
    freq = np.bincount(picked.reshape(-1), minlength=nb * vocab) / draws
    se = np.sqrt(incl * (1 - incl) / draws) + 1e-12
    assert (np.abs(freq - incl) <= 5 * se).all()


def test_beam_sampling_cache_equals_no_cache(eos_pair):
    _, ours = eos_pair
    ids, mask = prompts(pad=0)
    kw = dict(attention_mask=to_ember(mask), num_beams=3, max_new_tokens=8, pad_token_id=0,
              do_sample=True, temperature=1.2, num_return_sequences=2)
    a = ours.generate(to_ember(ids), generator=ember.Generator().manual_seed(4), **kw)
    b = ours.generate(to_ember(ids), use_cache=False,
                      generator=ember.Generator().manual_seed(4), **kw)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
