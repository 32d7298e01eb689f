"""Text generation for decoder models: ``GenerationMixin.generate``, the logits processors
it applies, and streamers that print tokens as they come.

``generate`` follows transformers: greedy decoding, sampling (temperature, top-k, top-p),
beam search or beam sampling (:mod:`~ember.text.models.beam_search`), repetition penalty,
end-of-sequence handling with padding of finished rows, several sequences per prompt, and
left-padded batches (the attention mask hides the padding and the position ids count real
tokens only). The prompt is run once; each new token then costs one model step over the
key/value cache (:class:`~ember.text.models.cache.DynamicCache`).
"""

from __future__ import annotations

import numbers
import sys
from dataclasses import dataclass
from typing import Any

import ember
import ember.nn.functional as F
from ember import Tensor

from .beam_search import GenerateBeamDecoderOnlyOutput, beam_search
from .cache import DynamicCache
from .outputs import ModelOutput

__all__ = ["GenerationMixin", "LogitsProcessor", "LogitsProcessorList",
           "RepetitionPenaltyLogitsProcessor", "NoRepeatNGramLogitsProcessor",
           "NoBadWordsLogitsProcessor", "MinLengthLogitsProcessor",
           "MinNewTokensLengthLogitsProcessor", "TemperatureLogitsWarper", "TopKLogitsWarper",
           "TopPLogitsWarper", "BaseStreamer", "TextStreamer", "GenerateDecoderOnlyOutput",
           "GenerateBeamDecoderOnlyOutput"]


class LogitsProcessor:
    """Maps ``(input_ids (B, S), scores (B, V))`` to new scores."""

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:  # pragma: no cover
        raise NotImplementedError


class LogitsProcessorList(list):
    """Applies its processors in order."""

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:
        for processor in self:
            scores = processor(input_ids, scores)
        return scores


class RepetitionPenaltyLogitsProcessor(LogitsProcessor):
    """Divides the positive scores (multiplies the negative ones) of tokens already in the
    sequence by ``penalty`` (Keskar et al., 2019).

    ``prompt_ignore_length`` (an int, or one per row as a 1-D tensor) leaves that many leading
    tokens out: ``generate`` passes each row's left padding, as transformers does.
    """

    def __init__(self, penalty: float, prompt_ignore_length: int | Tensor | None = None) -> None:
        if not penalty > 0:
            raise ValueError(f"`penalty` has to be a strictly positive float, but is {penalty}")
        self.penalty = penalty
        self.prompt_ignore_length = prompt_ignore_length

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:
        ignore = self.prompt_ignore_length
        if isinstance(ignore, int):
            input_ids = input_ids[:, ignore:]
        kept = ember.ones(input_ids.shape, dtype=ember.long, device=input_ids.device)
        if ignore is not None and not isinstance(ignore, int):
            pos = ember.arange(input_ids.shape[1], device=input_ids.device)[None]
            kept = (pos >= ignore.to(input_ids.device)[:, None]).long()
        # a token is penalized when it occurs at least once outside the ignored prefix
        counts = ember.zeros(scores.shape, dtype=ember.long, device=scores.device)
        penalized = counts.scatter_add(1, input_ids, kept) > 0
        penalty = ember.where(scores < 0, scores * self.penalty, scores / self.penalty)
        return ember.where(penalized, penalty, scores)


class NoRepeatNGramLogitsProcessor(LogitsProcessor):
    """Bans every token that would repeat an n-gram of ``ngram_size`` tokens already in the
    sequence (prompt included), setting its score to ``-inf``."""

    def __init__(self, ngram_size: int) -> None:
        if not isinstance(ngram_size, int) or ngram_size <= 0:
            raise ValueError(f"`ngram_size` has to be a strictly positive integer, but is "
                             f"{ngram_size}")
        self.ngram_size = ngram_size

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:
        n, cur = self.ngram_size, input_ids.shape[1]
        if cur < n:
            return scores
        banned = []
        for b, row in enumerate(input_ids.tolist()):
            prefix = row[cur + 1 - n:]  # the last n - 1 tokens
            banned += [(b, row[i + n - 1]) for i in range(cur + 1 - n)
                       if row[i:i + n - 1] == prefix]
        return _ban(scores, banned)


class NoBadWordsLogitsProcessor(LogitsProcessor):
    """Never completes one of ``bad_words_ids`` (lists of token ids): a one-token word is
    always banned, a longer one when the sequence ends with all but its last token.
    End-of-sequence ids given as one-token bad words are not banned."""

    def __init__(self, bad_words_ids: list[list[int]], eos_token_id=None) -> None:
        if not isinstance(bad_words_ids, list) or len(bad_words_ids) == 0:
            raise ValueError(f"`bad_words_ids` has to be a non-empty list, but is "
                             f"{bad_words_ids}.")
        if any(not isinstance(w, list) or any(not isinstance(t, numbers.Integral) or t < 0
                                              for t in w) for w in bad_words_ids):
            raise ValueError(f"`bad_words_ids` has to be a list of lists of positive integers, "
                             f"but is {bad_words_ids}.")
        eos = _as_list(eos_token_id)
        words = [[int(t) for t in w] for w in bad_words_ids]
        self.bad_words_ids = [w for w in words if not (len(w) == 1 and w[0] in eos)]

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:
        banned = []
        rows = input_ids.tolist()
        for word in self.bad_words_ids:
            k = len(word) - 1
            if k > len(rows[0]):
                continue
            banned += [(b, word[-1]) for b, row in enumerate(rows)
                       if k == 0 or row[len(row) - k:] == word[:-1]]
        return _ban(scores, banned)


class MinLengthLogitsProcessor(LogitsProcessor):
    """Bans the end-of-sequence ids while the sequence is shorter than ``min_length``
    (prompt included)."""

    def __init__(self, min_length: int, eos_token_id) -> None:
        if not isinstance(min_length, int) or min_length < 0:
            raise ValueError(f"`min_length` has to be a non-negative integer, but is "
                             f"{min_length}")
        self.min_length = min_length
        self.eos_token_id = _as_list(eos_token_id)

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:
        if input_ids.shape[-1] >= self.min_length:
            return scores
        return _ban(scores, [(b, e) for b in range(scores.shape[0]) for e in self.eos_token_id])


class MinNewTokensLengthLogitsProcessor(LogitsProcessor):
    """Bans the end-of-sequence ids until ``min_new_tokens`` tokens follow the prompt of
    ``prompt_length_to_skip`` tokens."""

    def __init__(self, prompt_length_to_skip: int, min_new_tokens: int, eos_token_id) -> None:
        for name, value in (("prompt_length_to_skip", prompt_length_to_skip),
                            ("min_new_tokens", min_new_tokens)):
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"`{name}` has to be a positive integer, but is {value}")
        self.prompt_length_to_skip = prompt_length_to_skip
        self.min_new_tokens = min_new_tokens
        self.eos_token_id = _as_list(eos_token_id)

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:
        if input_ids.shape[-1] - self.prompt_length_to_skip >= self.min_new_tokens:
            return scores
        return _ban(scores, [(b, e) for b in range(scores.shape[0]) for e in self.eos_token_id])


def _ban(scores: Tensor, pairs: list[tuple[int, int]]) -> Tensor:
    """``scores`` with the (row, token) entries in ``pairs`` set to ``-inf``."""
    if not pairs:
        return scores
    mask = ember.zeros(scores.shape, dtype=ember.bool, device=scores.device)
    rows = ember.tensor([r for r, _ in pairs], dtype=ember.long, device=scores.device)
    cols = ember.tensor([c for _, c in pairs], dtype=ember.long, device=scores.device)
    mask[rows, cols] = True
    return scores.masked_fill(mask, -float("inf"))


class TemperatureLogitsWarper(LogitsProcessor):
    """Divides the scores by ``temperature``."""

    def __init__(self, temperature: float) -> None:
        if not (isinstance(temperature, (int, float)) and temperature > 0):
            raise ValueError(f"`temperature` (={temperature}) has to be a strictly positive "
                             "float, otherwise your next token scores will be invalid.")
        self.temperature = temperature

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:
        return scores / self.temperature


class TopKLogitsWarper(LogitsProcessor):
    """Keeps the ``top_k`` highest scores, setting the others to ``filter_value``."""

    def __init__(self, top_k: int, filter_value: float = -float("inf"),
                 min_tokens_to_keep: int = 1) -> None:
        if not (isinstance(top_k, int) and top_k > 0):
            raise ValueError(f"`top_k` has to be a strictly positive integer, but is {top_k}")
        self.top_k = max(top_k, min_tokens_to_keep)
        self.filter_value = filter_value

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:
        k = min(self.top_k, scores.shape[-1])
        kth = scores.topk(k, dim=-1)[0][..., -1:]  # (B, 1)
        return scores.masked_fill(scores < kth, self.filter_value)


class TopPLogitsWarper(LogitsProcessor):
    """Nucleus sampling: keeps the smallest set of tokens whose probabilities add up to
    ``top_p`` (Holtzman et al., 2019)."""

    def __init__(self, top_p: float, filter_value: float = -float("inf"),
                 min_tokens_to_keep: int = 1) -> None:
        top_p = float(top_p)
        if not 0 <= top_p <= 1.0:
            raise ValueError(f"`top_p` has to be a float >= 0 and <= 1, but is {top_p}")
        self.top_p = top_p
        self.filter_value = filter_value
        self.min_tokens_to_keep = min_tokens_to_keep

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:
        sorted_logits, sorted_indices = scores.sort(dim=-1, descending=False)
        cumulative = F.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
        remove_sorted = cumulative <= (1 - self.top_p)
        remove_sorted[..., -self.min_tokens_to_keep:] = False
        remove = remove_sorted.scatter(1, sorted_indices, remove_sorted)
        return scores.masked_fill(remove, self.filter_value)


class BaseStreamer:
    """Receives the prompt (``put`` once), each new batch of tokens (``put``), then
    ``end()``."""

    def put(self, value: Tensor) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def end(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class TextStreamer(BaseStreamer):
    """Prints the decoded text of a single sequence as words complete.

    Args:
        tokenizer: decodes token ids (``tokenizer.decode``).
        skip_prompt: do not print the prompt.
        file: where to print (default ``sys.stdout``).
        **decode_kwargs: passed to ``tokenizer.decode`` (``skip_special_tokens=True``...).
    """

    def __init__(self, tokenizer, skip_prompt: bool = False, file=None, **decode_kwargs):
        self.tokenizer = tokenizer
        self.skip_prompt = skip_prompt
        self.decode_kwargs = decode_kwargs
        self.file = file
        self.token_cache: list[int] = []
        self.print_len = 0
        self.next_tokens_are_prompt = True

    def put(self, value: Tensor) -> None:
        if value.ndim > 1 and value.shape[0] > 1:
            raise ValueError("TextStreamer only supports batch size 1")
        ids = [int(i) for i in value.reshape(-1).tolist()]
        if self.skip_prompt and self.next_tokens_are_prompt:
            self.next_tokens_are_prompt = False
            return
        self.next_tokens_are_prompt = False
        self.token_cache.extend(ids)
        text = self.tokenizer.decode(self.token_cache, **self.decode_kwargs)
        if text.endswith("\n"):
            printable = text[self.print_len:]
            self.token_cache, self.print_len = [], 0
        elif text and text[-1] == "\ufffd":  # an incomplete multi-byte character
            return
        else:
            cut = text.rfind(" ") + 1
            printable = text[self.print_len:cut]
            self.print_len += len(printable)
        self.on_finalized_text(printable)

    def end(self) -> None:
        text = ""
        if self.token_cache:
            text = self.tokenizer.decode(self.token_cache, **self.decode_kwargs)
            text = text[self.print_len:]
        self.token_cache, self.print_len = [], 0
        self.next_tokens_are_prompt = True
        self.on_finalized_text(text, stream_end=True)

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        """Print ``text`` (override to send it elsewhere)."""
        print(text, flush=True, end="" if not stream_end else None,
              file=self.file if self.file is not None else sys.stdout)


@dataclass(repr=False)
class GenerateDecoderOnlyOutput(ModelOutput):
    """``generate(..., return_dict_in_generate=True)``: the sequences, and per step the
    processed ``scores`` and raw ``logits`` (each (B, V)) when asked for."""

    sequences: Any = None
    scores: Any = None
    logits: Any = None
    past_key_values: Any = None


def _as_list(x) -> list[int]:
    if x is None:
        return []
    return [int(i) for i in x] if isinstance(x, (list, tuple)) else [int(x)]


def _repeat_rows(x: Tensor, n: int) -> Tensor:
    """Each batch row repeated ``n`` times in place: rows (a, b) -> (a, a, b, b)."""
    if n == 1:
        return x
    b = x.shape[0]
    idx = ember.arange(b, device=x.device)[:, None].expand(b, n).reshape(-1)
    return x.index_select(0, idx)


class GenerationMixin:
    """``generate`` for models whose forward takes ``input_ids``, ``attention_mask``,
    ``position_ids``, ``past_key_values``, ``use_cache`` and ``logits_to_keep`` and returns
    ``logits`` and ``past_key_values``."""

    def _logits_processors(self, do_sample: bool, temperature: float, top_k: int | None,
                           top_p: float, repetition_penalty: float,
                           padding_lengths: Tensor | None = None,
                           no_repeat_ngram_size: int | None = None,
                           bad_words_ids: list[list[int]] | None = None,
                           eos: list[int] | None = None, min_length: int | None = None,
                           min_new_tokens: int | None = None,
                           prompt_length: int = 0,
                           min_tokens_to_keep: int = 1) -> LogitsProcessorList:
        """The processors ``generate`` applies, in transformers' order (the top-k and top-p
        warpers keep at least ``min_tokens_to_keep`` tokens)."""
        procs = LogitsProcessorList()
        if repetition_penalty is not None and repetition_penalty != 1.0:
            procs.append(RepetitionPenaltyLogitsProcessor(repetition_penalty, padding_lengths))
        if no_repeat_ngram_size is not None and no_repeat_ngram_size > 0:
            procs.append(NoRepeatNGramLogitsProcessor(no_repeat_ngram_size))
        if bad_words_ids is not None:
            procs.append(NoBadWordsLogitsProcessor(bad_words_ids, eos))
        if eos and min_length is not None and min_length > 0:
            procs.append(MinLengthLogitsProcessor(min_length, eos))
        if eos and min_new_tokens is not None and min_new_tokens > 0:
            procs.append(MinNewTokensLengthLogitsProcessor(prompt_length, min_new_tokens, eos))
        if do_sample:
            if temperature is not None and temperature != 1.0:
                procs.append(TemperatureLogitsWarper(temperature))
            if top_k is not None and top_k != 0:
                procs.append(TopKLogitsWarper(top_k, min_tokens_to_keep=min_tokens_to_keep))
            if top_p is not None and top_p < 1.0:
                procs.append(TopPLogitsWarper(top_p, min_tokens_to_keep=min_tokens_to_keep))
        return procs

    def generate(self, input_ids: Tensor, attention_mask: Tensor | None = None,
                 max_new_tokens: int | None = None, do_sample: bool = False,
                 temperature: float = 1.0, top_k: int | None = 50, top_p: float = 1.0,
                 repetition_penalty: float = 1.0, eos_token_id=None,
                 pad_token_id: int | None = None, num_return_sequences: int = 1,
                 streamer: BaseStreamer | None = None, max_length: int | None = None,
                 use_cache: bool = True, return_dict_in_generate: bool = False,
                 output_scores: bool = False, output_logits: bool = False,
                 logits_processor: LogitsProcessorList | None = None,
                 generator: ember.Generator | None = None, min_length: int | None = None,
                 min_new_tokens: int | None = None, no_repeat_ngram_size: int | None = None,
                 bad_words_ids: list[list[int]] | None = None, num_beams: int = 1,
                 length_penalty: float = 1.0, early_stopping: bool | str = False):
        """Continue each row of ``input_ids`` (B, T) and return the sequences
        (B * num_return_sequences, T + new), as transformers' ``generate``.

        Args:
            input_ids: the prompts; left-pad a batch of different lengths.
            attention_mask: (B, T), 0 on padding. Default: ``input_ids != pad_token_id``
                when the pad id occurs and differs from the end-of-sequence id, else ones.
            max_new_tokens: tokens to add (default: up to ``max_length``, counting the
                prompt; without either, 20 new tokens within the model's positions, as
                transformers 5).
            do_sample: sample from the processed distribution instead of taking the argmax.
            temperature, top_k, top_p: the sampling warpers (top_k=50 by default, as in
                transformers; 0 or None disables it).
            repetition_penalty: > 1 discourages tokens already present.
            eos_token_id: an id or list of ids ending a sequence (default: the config's);
                rows that ended are continued with ``pad_token_id``.
            pad_token_id: default: the config's, else the end-of-sequence id.
            num_return_sequences: sequences per prompt (needs ``do_sample`` or beam search;
                at most ``num_beams`` with beam search).
            streamer: gets the prompt and then every new token (``put``), then ``end()``.
            return_dict_in_generate, output_scores, output_logits: return a
                :class:`GenerateDecoderOnlyOutput` with the per-step scores/logits.
            generator: the random generator for sampling.
            min_length, min_new_tokens: ban the end-of-sequence ids until the sequence (prompt
                included) or the continuation has that many tokens.
            no_repeat_ngram_size: no n-gram of this size occurs twice (prompt included).
            bad_words_ids: token sequences never to generate.
            num_beams: > 1 runs beam search (see :mod:`~ember.text.models.beam_search`); with
                ``return_dict_in_generate`` it returns a
                :class:`~ember.text.models.beam_search.GenerateBeamDecoderOnlyOutput`.
                With ``do_sample=True`` it runs beam sampling: each step draws the
                candidates from the warped distribution over all beams (the top-k and top-p
                warpers then keep at least one token more than there are end-of-sequence
                ids, as transformers).
            length_penalty: beam search divides a finished hypothesis' summed log-probability
                by its number of new tokens to this power (> 0 favours longer ones).
            early_stopping: beam search stops a prompt as soon as it has ``num_beams``
                finished hypotheses (True), when a heuristic says none can improve (False),
                or only when none can improve by the exact bound (``"never"``).
        """
        if not isinstance(num_beams, int) or num_beams < 1:
            raise ValueError(f"`num_beams` has to be a strictly positive integer, but is "
                             f"{num_beams}")
        if num_beams > 1:
            if streamer is not None:
                raise ValueError("`streamer` cannot be used with beam search (yet!). Make "
                                 "sure that `num_beams` is set to 1.")
            if num_return_sequences > num_beams:
                raise ValueError(f"`num_return_sequences` ({num_return_sequences}) has to be "
                                 f"smaller or equal to `num_beams` ({num_beams}).")
            if early_stopping not in (True, False, "never"):
                raise ValueError(f"`early_stopping` has to be True, False or 'never', but is "
                                 f"{early_stopping!r}")
        cfg = self.config
        if input_ids.ndim == 1:
            input_ids = input_ids[None]
        b, t = input_ids.shape
        eos = _as_list(eos_token_id if eos_token_id is not None else cfg.eos_token_id)
        if pad_token_id is None:
            pad_token_id = cfg.pad_token_id if cfg.pad_token_id is not None else \
                (eos[0] if eos else None)
        if max_new_tokens is None:
            if max_length is None:  # transformers' default: 20 new tokens, within the positions
                limit = getattr(cfg, "max_position_embeddings", None) or \
                    getattr(cfg, "n_positions", None)
                max_length = t + 20 if limit is None else min(t + 20, limit)
            max_new_tokens = max(0, max_length - t)
        if attention_mask is None:
            if (pad_token_id is not None and pad_token_id not in eos
                    and bool((input_ids == pad_token_id).any())):
                attention_mask = (input_ids != pad_token_id).long()
            else:
                attention_mask = ember.ones(b, t, dtype=ember.long, device=input_ids.device)
        if num_beams > 1:
            input_ids = _repeat_rows(input_ids, num_beams)
            attention_mask = _repeat_rows(attention_mask, num_beams)
            pad_lengths = (attention_mask != 0).long().argmax(dim=1)
            # beam sampling's warpers keep a token besides every end-of-sequence id, so
            # that each beam has a continuation that goes on (as transformers)
            procs = self._logits_processors(do_sample, temperature, top_k, top_p,
                                            repetition_penalty, pad_lengths,
                                            no_repeat_ngram_size, bad_words_ids, eos,
                                            min_length, min_new_tokens, t,
                                            min_tokens_to_keep=len(eos) + 1)
            if logits_processor is not None:
                procs = LogitsProcessorList(list(logits_processor) + list(procs))
            return beam_search(self, input_ids, attention_mask, num_beams=num_beams,
                               max_new_tokens=max_new_tokens, eos=eos,
                               pad_token_id=pad_token_id, length_penalty=length_penalty,
                               early_stopping=early_stopping,
                               num_return_sequences=num_return_sequences,
                               logits_processor=procs, use_cache=use_cache,
                               return_dict_in_generate=return_dict_in_generate,
                               output_scores=output_scores, output_logits=output_logits,
                               do_sample=do_sample, generator=generator)
        if num_return_sequences > 1:
            if not do_sample:
                raise ValueError("Greedy methods without beam search do not support "
                                 "`num_return_sequences` different than 1 (got "
                                 f"{num_return_sequences}).")
            input_ids = _repeat_rows(input_ids, num_return_sequences)
            attention_mask = _repeat_rows(attention_mask, num_return_sequences)
            b = input_ids.shape[0]
        pad_lengths = (attention_mask != 0).long().argmax(dim=1)  # (B,) left padding
        procs = self._logits_processors(do_sample, temperature, top_k, top_p,
                                        repetition_penalty, pad_lengths, no_repeat_ngram_size,
                                        bad_words_ids, eos, min_length, min_new_tokens, t)
        if logits_processor is not None:
            procs = LogitsProcessorList(list(logits_processor) + list(procs))
        if streamer is not None:
            streamer.put(input_ids)

        scores_out: list = []
        logits_out: list = []
        ids_steps = [input_ids]
        sequences = input_ids
        unfinished = ember.ones(b, dtype=ember.bool, device=input_ids.device)
        eos_t = ember.tensor(eos, dtype=input_ids.dtype, device=input_ids.device) \
            if eos else None
        mask = attention_mask.long()
        positions = mask.cumsum(-1) - 1
        positions = positions.masked_fill(mask == 0, 1)  # (B, T)
        cache = DynamicCache() if use_cache else None
        step_ids, step_pos = input_ids, positions
        with ember.no_grad():
            for _ in range(max_new_tokens):
                out = self(step_ids, past_key_values=cache, attention_mask=mask,
                           position_ids=step_pos, use_cache=use_cache, logits_to_keep=1,
                           return_dict=True)
                raw = out.logits[:, -1, :].float()  # (B, V)
                scores = procs(sequences, raw) if procs else raw
                if output_logits:
                    logits_out.append(raw)
                if output_scores:
                    scores_out.append(scores)
                if do_sample:
                    probs = F.softmax(scores, dim=-1)
                    nxt = ember.multinomial(probs, 1, generator=generator).reshape(-1)
                else:
                    nxt = scores.argmax(dim=-1)  # (B,)
                nxt = nxt.to(input_ids.dtype)
                if eos_t is not None and pad_token_id is not None:
                    nxt = ember.where(unfinished, nxt, ember.full_like(nxt, pad_token_id))
                nxt = nxt[:, None]  # (B, 1)
                ids_steps.append(nxt)
                sequences = ember.cat([sequences, nxt], dim=1) if procs else None
                if streamer is not None:
                    streamer.put(nxt.reshape(-1))
                if eos_t is not None:
                    unfinished = unfinished & ~(nxt == eos_t[None]).any(-1)
                    if not bool(unfinished.any()):
                        break
                mask = ember.cat([mask, ember.ones_like(nxt)], dim=1)
                if use_cache:
                    step_ids, step_pos = nxt, step_pos[:, -1:] + 1
                else:
                    step_ids = ember.cat(ids_steps, dim=1)
                    step_pos = mask.cumsum(-1) - 1
                    step_pos = step_pos.masked_fill(mask == 0, 1)
        if streamer is not None:
            streamer.end()
        result = ember.cat(ids_steps, dim=1)
        if return_dict_in_generate:
            return GenerateDecoderOnlyOutput(
                sequences=result, scores=tuple(scores_out) if output_scores else None,
                logits=tuple(logits_out) if output_logits else None,
                past_key_values=cache)
        return result
