"""Training new tokenizers from text: byte-level BPE (GPT-2 style) and WordPiece (BERT
style), returned as ready-to-use ``GPT2TokenizerFast``/``BertTokenizerFast``."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from .base import PreTrainedTokenizerFast, import_tokenizers
from .bert import BertTokenizerFast
from .gpt2 import GPT2TokenizerFast

__all__ = ["train_bpe", "train_wordpiece", "retrain"]


def _lines(files: str | os.PathLike[str] | Sequence) -> Iterable[str]:
    if isinstance(files, (str, os.PathLike)):
        files = [files]
    for path in files:
        with open(path, encoding="utf-8") as f:
            yield from f


def train_bpe(files=None, vocab_size: int = 30000, min_frequency: int = 2,
              special_tokens: Sequence[str] = ("<|endoftext|>",), *, iterator=None,
              add_prefix_space: bool = False, show_progress: bool = False,
              model_max_length: int = 1024) -> GPT2TokenizerFast:
    """Learn a GPT-2-style byte-level BPE from text ``files`` (or an ``iterator`` of
    strings). The first special token is the beginning/end/unknown token."""
    tk = import_tokenizers()
    tok = tk.Tokenizer(tk.models.BPE(continuing_subword_prefix="", end_of_word_suffix="",
                                     fuse_unk=False))
    tok.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space)
    tok.decoder = tk.decoders.ByteLevel()
    tok.post_processor = tk.processors.ByteLevel(trim_offsets=False)
    trainer = tk.trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency,
        special_tokens=list(special_tokens), show_progress=show_progress,
        initial_alphabet=tk.pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(iterator if iterator is not None else _lines(files), trainer)
    eot = special_tokens[0] if special_tokens else None
    return GPT2TokenizerFast(tok, unk_token=eot, bos_token=eot, eos_token=eot,
                             add_prefix_space=add_prefix_space,
                             model_max_length=model_max_length)


def train_wordpiece(files=None, vocab_size: int = 30522, min_frequency: int = 2,
                    special_tokens: Sequence[str] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]",
                                                     "[MASK]"),
                    *, iterator=None, lowercase: bool = True,
                    strip_accents: bool | None = None, show_progress: bool = False,
                    model_max_length: int = 512) -> BertTokenizerFast:
    """Learn a BERT-style WordPiece vocabulary from text ``files`` (or an ``iterator`` of
    strings). ``special_tokens`` are [PAD], [UNK], [CLS], [SEP], [MASK] in that order."""
    tk = import_tokenizers()
    tok = tk.Tokenizer(tk.models.WordPiece(unk_token=special_tokens[1]))
    tok.normalizer = tk.normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                   strip_accents=strip_accents,
                                                   lowercase=lowercase)
    tok.pre_tokenizer = tk.pre_tokenizers.BertPreTokenizer()
    tok.decoder = tk.decoders.WordPiece(prefix="##")
    trainer = tk.trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                           special_tokens=list(special_tokens),
                                           show_progress=show_progress,
                                           continuing_subword_prefix="##")
    tok.train_from_iterator(iterator if iterator is not None else _lines(files), trainer)
    pad, unk, cls, sep, mask = special_tokens[:5]
    tok.post_processor = tk.processors.TemplateProcessing(
        single=f"{cls}:0 $A:0 {sep}:0", pair=f"{cls}:0 $A:0 {sep}:0 $B:1 {sep}:1",
        special_tokens=[(cls, tok.token_to_id(cls)), (sep, tok.token_to_id(sep))])
    return BertTokenizerFast(tok, do_lower_case=lowercase, strip_accents=strip_accents,
                             unk_token=unk, sep_token=sep, pad_token=pad, cls_token=cls,
                             mask_token=mask, model_max_length=model_max_length)


def retrain(tokenizer: PreTrainedTokenizerFast, iterator: Iterable[str], vocab_size: int,
            min_frequency: int = 2, show_progress: bool = False) -> PreTrainedTokenizerFast:
    """``tokenizer.train_new_from_iterator``: same kind of tokenizer, new vocabulary."""
    settings = dict(model_max_length=tokenizer.model_max_length, show_progress=show_progress,
                    iterator=iterator, vocab_size=vocab_size, min_frequency=min_frequency)
    if isinstance(tokenizer, BertTokenizerFast):
        specials = [tokenizer.pad_token, tokenizer.unk_token, tokenizer.cls_token,
                    tokenizer.sep_token, tokenizer.mask_token]
        return train_wordpiece(special_tokens=specials, lowercase=tokenizer.do_lower_case,
                               strip_accents=tokenizer.init_kwargs.get("strip_accents"),
                               **settings)
    if isinstance(tokenizer, GPT2TokenizerFast):
        return train_bpe(special_tokens=[tokenizer.eos_token], **settings,
                         add_prefix_space=tokenizer.add_prefix_space)
    raise TypeError(f"cannot retrain a {type(tokenizer).__name__}")
