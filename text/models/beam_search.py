"""Beam search for ``GenerationMixin.generate(num_beams > 1)``, with transformers' rules.

Every prompt keeps ``num_beams`` running hypotheses. At each step the logits of all of
them (one batched model step over the key/value cache) become log-probabilities, the logits
processors act on those, and each candidate continuation is scored by the running sum of
its log-probabilities. Per prompt the best ``K = max(2, 1 + number of eos ids) * num_beams``
candidates over all its beams are kept:

* those that end with an end-of-sequence id (or reach the maximum length) and rank among the
  first ``num_beams`` of the ``K`` become finished hypotheses, scored
  ``sum_logprobs / new_tokens ** length_penalty`` where ``new_tokens`` counts the tokens
  after the prompt, the end-of-sequence id included; each prompt keeps its ``num_beams``
  best finished hypotheses;
* the best ``num_beams`` candidates that did not end carry on, and the cache rows are
  reordered to follow them.

A prompt stops accepting hypotheses once it holds ``num_beams`` finished ones and either
``early_stopping=True``, or its best running beam can no longer beat its worst finished one:
with ``early_stopping=False`` the running score is divided by the current new length to the
``length_penalty``, with ``"never"`` (and a positive length penalty) by the longest possible
new length. Generation ends when no prompt can improve, when (``early_stopping=True``)
every prompt is full, or when every candidate has ended.

Beam sampling (``do_sample=True``) differs in one point, as in transformers: the ``K``
candidates are drawn without replacement from the softmax of the candidate scores over all
``num_beams * V`` continuations of a prompt (the sampling warpers, temperature, top-k and
top-p, being among the processors applied to the log-probabilities), then sorted by score;
everything else is the same.

Everything is vectorized over prompts and beams; the only loop is over generation steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ember
import ember.nn.functional as F
from ember import Tensor

from .cache import DynamicCache
from .outputs import ModelOutput

__all__ = ["GenerateBeamDecoderOnlyOutput", "beam_search", "candidate_scores",
           "candidate_distribution", "select_candidates"]

_NEG = -1.0e9  # the score that keeps a slot or a candidate out of every selection


@dataclass(repr=False)
class GenerateBeamDecoderOnlyOutput(ModelOutput):
    """``generate(num_beams > 1, return_dict_in_generate=True)``.

    Attributes:
        sequences: (B * num_return_sequences, S) the best finished hypotheses per prompt,
            best first; shorter ones are padded.
        sequences_scores: (B * num_return_sequences,) their length-penalized scores (with
            ``output_scores``).
        scores: per step the processed log-probabilities, each (B * num_beams, V) (with
            ``output_scores``).
        logits: per step the raw logits, each (B * num_beams, V) (with ``output_logits``).
        beam_indices: (B * num_return_sequences, S - prompt) for every new token the flat
            beam row (``prompt * num_beams + beam``) it was chosen from, -1 past the end.
        past_key_values: the cache after the last step.
    """

    sequences: Any = None
    sequences_scores: Any = None
    scores: Any = None
    logits: Any = None
    beam_indices: Any = None
    past_key_values: Any = None


def _gather_beams(x: Tensor, index: Tensor) -> Tensor:
    """``x`` (B, N, ...) reduced to the beams ``index`` (B, K) of each row: (B, K, ...)."""
    b, n = x.shape[0], x.shape[1]
    k = index.shape[1]
    offset = ember.arange(b, device=index.device)[:, None] * n
    flat = (index + offset).reshape(-1)
    return x.reshape((b * n,) + tuple(x.shape[2:])).index_select(0, flat).reshape(
        (b, k) + tuple(x.shape[2:]))


def _positions(mask: Tensor) -> Tensor:
    """Position ids counting real tokens only (padding gets 1, as transformers)."""
    pos = mask.cumsum(-1) - 1
    return pos.masked_fill(mask == 0, 1)


def candidate_scores(log_probs: Tensor, running_scores: Tensor) -> Tensor:
    """The score of every continuation of every beam: the processed log-probabilities
    ``log_probs`` (B * num_beams, V) plus each beam's running score (B, num_beams), as
    (B, num_beams * V) with candidate ``beam * V + token``."""
    batch, nb = running_scores.shape
    vocab = log_probs.shape[-1]
    total = log_probs.reshape(batch, nb, vocab) + running_scores[:, :, None]
    return total.reshape(batch, nb * vocab)


def candidate_distribution(scores: Tensor) -> Tensor:
    """Beam sampling's distribution over the candidates of each prompt: the softmax of their
    scores (B, num_beams * V) (:func:`candidate_scores`) over all beams together."""
    return F.softmax(scores, dim=-1)


def select_candidates(scores: Tensor, keep: int, do_sample: bool = False,
                      generator=None) -> tuple[Tensor, Tensor]:
    """``keep`` candidates per row of ``scores`` (B, N): the highest, or with ``do_sample``
    ``keep`` draws without replacement from :func:`candidate_distribution`. Returns their
    scores and flat indices, both (B, keep), highest score first."""
    if not do_sample:
        return scores.topk(keep, dim=-1)
    picked = ember.multinomial(candidate_distribution(scores), keep, generator=generator)
    picked_scores = scores.gather(1, picked)
    picked_scores, order = picked_scores.sort(dim=-1, descending=True)
    return picked_scores, picked.gather(1, order)


def beam_search(model, input_ids: Tensor, attention_mask: Tensor, *, num_beams: int,
                max_new_tokens: int, eos: list[int], pad_token_id: int | None,
                length_penalty: float = 1.0, early_stopping: bool | str = False,
                num_return_sequences: int = 1, logits_processor=None, use_cache: bool = True,
                return_dict_in_generate: bool = False, output_scores: bool = False,
                output_logits: bool = False, do_sample: bool = False, generator=None):
    """Beam search over ``input_ids`` (B * num_beams, T), each prompt already repeated
    ``num_beams`` times in consecutive rows, as transformers' ``_beam_search``.

    Args:
        model: a decoder taking ``input_ids``, ``attention_mask``, ``position_ids``,
            ``past_key_values``, ``use_cache``, ``logits_to_keep`` and returning ``logits``.
        input_ids, attention_mask: the expanded prompts and their mask (0 on left padding).
        num_beams: beams per prompt.
        max_new_tokens: the most tokens added after the prompt.
        eos: end-of-sequence ids (may be empty).
        pad_token_id: pads hypotheses shorter than the longest returned one.
        length_penalty: finished scores are divided by ``new_tokens ** length_penalty``.
        early_stopping: True, False or ``"never"`` (see the module docstring).
        num_return_sequences: the best finished hypotheses returned per prompt.
        logits_processor: applied to the (B * num_beams, V) log-probabilities.
        use_cache: reuse keys and values (reordered by beam each step); else rerun the
            whole sequence each step.
        return_dict_in_generate, output_scores, output_logits: return a
            :class:`GenerateBeamDecoderOnlyOutput`.
        do_sample: beam sampling: draw the candidates of each step (see
            :func:`select_candidates`) instead of taking the best ones.
        generator: the random generator of beam sampling.

    Returns:
        (B * num_return_sequences, T + new) token ids, or the output object.
    """
    flat_b, prompt_len = input_ids.shape
    nb = num_beams
    batch = flat_b // nb
    dev = input_ids.device
    max_length = prompt_len + max_new_tokens
    # transformers fills unused positions with `pad or eos[0]` (so a pad id of 0 gives eos)
    if eos:
        fill = pad_token_id if pad_token_id else eos[0]
    else:
        fill = -1
    keep = max(2, 1 + len(eos)) * nb  # candidates kept per prompt and step
    top_nb = ember.arange(keep, device=dev) < nb  # only these may become finished
    eos_t = ember.tensor(eos, dtype=ember.long, device=dev) if eos else None

    running_seq = ember.full((batch, nb, max_length), fill, dtype=ember.long, device=dev)
    running_seq[:, :, :prompt_len] = input_ids.long().reshape(batch, nb, prompt_len)
    done_seq = running_seq.clone()
    running_scores = ember.zeros(batch, nb, dtype=ember.float32, device=dev)
    running_scores[:, 1:] = _NEG  # the beams start equal: only the first one may expand
    done_scores = ember.full((batch, nb), _NEG, dtype=ember.float32, device=dev)
    done = ember.zeros(batch, nb, dtype=ember.bool, device=dev)
    can_improve = ember.ones(batch, 1, dtype=ember.bool, device=dev)
    running_idx = ember.full((batch, nb, max(max_new_tokens, 0)), -1, dtype=ember.long,
                             device=dev)
    done_idx = running_idx.clone()
    row_offset = ember.arange(batch, device=dev)[:, None] * nb

    scores_out: list = []
    logits_out: list = []
    mask = attention_mask.long()
    cache = DynamicCache() if use_cache else None
    step_ids, step_pos = input_ids, _positions(mask)
    cur_len = prompt_len
    with ember.no_grad():
        while cur_len < max_length:
            out = model(step_ids, past_key_values=cache, attention_mask=mask,
                        position_ids=step_pos, use_cache=use_cache, logits_to_keep=1,
                        return_dict=True)
            logits = out.logits[:, -1, :].float()  # (B * nb, V)
            del out
            vocab = logits.shape[-1]
            log_probs = F.log_softmax(logits, dim=-1)
            if logits_processor:
                seq_so_far = running_seq[:, :, :cur_len].reshape(flat_b, cur_len)
                log_probs = logits_processor(seq_so_far, log_probs)
            if output_logits:
                logits_out.append(logits)
            if output_scores:
                scores_out.append(log_probs)

            # the best (or, sampling, `keep` drawn) continuations over all beams of each prompt
            total = candidate_scores(log_probs, running_scores)
            top_scores, top_flat = select_candidates(total, keep, do_sample=do_sample,
                                                     generator=generator)
            top_beam = top_flat // vocab
            top_tok = top_flat % vocab
            top_seq = _gather_beams(running_seq, top_beam)
            top_seq[:, :, cur_len] = top_tok
            top_idx = _gather_beams(running_idx, top_beam)
            top_idx[:, :, cur_len - prompt_len] = top_beam + row_offset

            # which candidates end here
            ended = ember.zeros(batch, keep, dtype=ember.bool, device=dev)
            if cur_len + 1 >= max_length:
                ended = ~ended
            elif eos_t is not None:
                ended = ember.isin(top_tok, eos_t)

            # the best candidates that go on become the running beams
            live_scores = top_scores + ended.float() * _NEG
            pick = live_scores.topk(nb, dim=-1)[1]
            running_seq = _gather_beams(top_seq, pick)
            running_scores = _gather_beams(live_scores, pick)
            running_idx = _gather_beams(top_idx, pick)

            # ended candidates among the first `nb` compete with the finished hypotheses
            new_done = ended & top_nb[None, :]
            cand = top_scores / ((cur_len + 1 - prompt_len) ** length_penalty)
            if early_stopping is True:
                cand = cand + done.all(dim=-1, keepdim=True).float() * _NEG
            cand = cand + (~can_improve).float() * _NEG
            cand = cand + (~new_done).float() * _NEG
            merged_scores = ember.cat([done_scores, cand], dim=1)
            best = merged_scores.topk(nb, dim=-1)[1]
            done_seq = _gather_beams(ember.cat([done_seq, top_seq], dim=1), best)
            done_scores = _gather_beams(merged_scores, best)
            done_idx = _gather_beams(ember.cat([done_idx, top_idx], dim=1), best)
            done = _gather_beams(ember.cat([done, new_done], dim=1), best)

            # the next step: cache rows follow their beams
            if use_cache:
                cache.reorder_cache(running_idx[:, :, cur_len - prompt_len].reshape(-1))
            cur_len += 1
            if early_stopping == "never" and length_penalty > 0.0:
                best_len = max_length - prompt_len
            else:
                best_len = cur_len - prompt_len
            best_running = running_scores[:, :1] / (best_len ** length_penalty)
            worst_done = ember.where(done, done_scores.min(dim=1, keepdim=True)[0],
                                     ember.full_like(done_scores, _NEG))
            can_improve = can_improve & (best_running > worst_done).any(dim=-1, keepdim=True)
            if not bool(can_improve.any()):
                break
            if early_stopping is True and bool(done.all()):
                break
            if bool(ended.all()):
                break

            mask = ember.cat([mask, ember.ones(flat_b, 1, dtype=mask.dtype, device=dev)], dim=1)
            last = running_seq[:, :, cur_len - 1].reshape(flat_b, 1)
            if use_cache:
                step_ids, step_pos = last, step_pos[:, -1:] + 1
            else:
                step_ids = running_seq[:, :, :cur_len].reshape(flat_b, cur_len)
                step_pos = _positions(mask)

    n = num_return_sequences
    sequences = done_seq[:, :n].reshape(batch * n, max_length)
    seq_scores = done_scores[:, :n].reshape(batch * n)
    beam_indices = done_idx[:, :n].reshape(batch * n, done_idx.shape[-1])
    generated = int((beam_indices != -1).long().sum(dim=1).max()) if beam_indices.numel() else 0
    sequences = sequences[:, :prompt_len + generated]
    beam_indices = beam_indices[:, :generated]
    if return_dict_in_generate:
        return GenerateBeamDecoderOnlyOutput(
            sequences=sequences, sequences_scores=seq_scores if output_scores else None,
            scores=tuple(scores_out) if output_scores else None,
            logits=tuple(logits_out) if output_logits else None,
            beam_indices=beam_indices, past_key_values=cache)
    return sequences
