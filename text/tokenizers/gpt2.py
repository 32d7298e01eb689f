"""``GPT2TokenizerFast``: GPT-2's byte-level BPE (transformers' names and behaviour).

Built from a ``tokenizer.json``, from ``vocab.json`` + ``merges.txt`` (Hugging Face's
files), or from OpenAI's original ``encoder.json`` + ``vocab.bpe`` (the same data under
other names): the byte-level pre-tokenizer (GPT-2's regex, bytes mapped to printable
characters), BPE over it, the byte-level decoder, and ``<|endoftext|>`` as the beginning,
end and unknown token.
"""

from __future__ import annotations

import json
import os
from typing import ClassVar

from .base import PreTrainedTokenizerFast, import_tokenizers

__all__ = ["GPT2TokenizerFast", "GPT2Tokenizer", "gpt2_backend", "read_merges"]


def read_merges(path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """The merge rules of a ``merges.txt``/``vocab.bpe`` (a ``#version`` line is skipped)."""
    merges = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#version"):
                continue
            a, b = line.split(" ")
            merges.append((a, b))
    return merges


def gpt2_backend(vocab: str | dict[str, int], merges: str | list[tuple[str, str]],
                 add_prefix_space: bool = False, add_bos_token: bool = False,
                 bos_token: str = "<|endoftext|>"):
    """A ``tokenizers.Tokenizer`` doing GPT-2's byte-level BPE (``vocab``: a
    vocab.json/encoder.json path or dict; ``merges``: a merges.txt/vocab.bpe path or list)."""
    tk = import_tokenizers()
    if not isinstance(vocab, dict):
        with open(vocab, encoding="utf-8") as f:
            vocab = json.load(f)
    if not isinstance(merges, list):
        merges = read_merges(merges)
    tok = tk.Tokenizer(tk.models.BPE(vocab, merges, dropout=None, continuing_subword_prefix="",
                                     end_of_word_suffix="", fuse_unk=False))
    tok.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space)
    tok.decoder = tk.decoders.ByteLevel()
    if add_bos_token and bos_token in vocab:
        tok.post_processor = tk.processors.TemplateProcessing(
            single=f"{bos_token}:0 $A:0", pair=f"{bos_token}:0 $A:0 {bos_token}:0 $B:1",
            special_tokens=[(bos_token, vocab[bos_token])])
    else:
        tok.post_processor = tk.processors.ByteLevel(trim_offsets=False)
    return tok


class GPT2TokenizerFast(PreTrainedTokenizerFast):
    """GPT-2's byte-level BPE tokenizer.

    Args:
        tokenizer_object: a backend ``tokenizers.Tokenizer`` (else built from the files).
        vocab_file: ``vocab.json`` (or OpenAI's ``encoder.json``).
        merges_file: ``merges.txt`` (or OpenAI's ``vocab.bpe``).
        add_prefix_space: treat the input as if it started with a space.
        unk_token, bos_token, eos_token: default ``<|endoftext|>``; ``pad_token`` default
            none (set ``tokenizer.pad_token = tokenizer.eos_token`` to pad).
    """

    vocab_files_names: ClassVar[dict[str, str]] = {"vocab_file": "vocab.json",
                                                   "merges_file": "merges.txt"}
    model_input_names: ClassVar[list[str]] = ["input_ids", "attention_mask"]
    default_model_max_length: ClassVar[int] = 1024

    def __init__(self, tokenizer_object=None, vocab_file: str | None = None,
                 merges_file: str | None = None, *, tokenizer_file: str | None = None,
                 unk_token: str = "<|endoftext|>", bos_token: str = "<|endoftext|>",
                 eos_token: str = "<|endoftext|>", pad_token: str | None = None,
                 add_prefix_space: bool = False, add_bos_token: bool = False,
                 **kwargs) -> None:
        if tokenizer_object is None and tokenizer_file is None:
            if vocab_file is None or merges_file is None:
                raise ValueError("GPT2TokenizerFast needs vocab_file and merges_file, a "
                                 "tokenizer_file or a tokenizer_object")
            tokenizer_object = gpt2_backend(vocab_file, merges_file, add_prefix_space,
                                            add_bos_token, bos_token)
        super().__init__(tokenizer_object, tokenizer_file=tokenizer_file, unk_token=unk_token,
                         bos_token=bos_token, eos_token=eos_token, pad_token=pad_token,
                         add_prefix_space=add_prefix_space, add_bos_token=add_bos_token,
                         **kwargs)
        self.add_prefix_space = add_prefix_space

    @classmethod
    def from_vocab_files(cls, vocab_file: str, merges_file: str, **kwargs):
        return cls(vocab_file=vocab_file, merges_file=merges_file, **kwargs)

    @classmethod
    def from_openai_files(cls, encoder_json: str, vocab_bpe: str, **kwargs):
        """From OpenAI's original ``encoder.json`` and ``vocab.bpe``."""
        return cls(vocab_file=encoder_json, merges_file=vocab_bpe, **kwargs)

    @classmethod
    def from_pretrained(cls, name_or_path, **kwargs):
        path = os.fspath(name_or_path)
        if os.path.isdir(path) and not any(os.path.isfile(os.path.join(path, f)) for f in
                                           ("tokenizer.json", "vocab.json")):
            enc, bpe = os.path.join(path, "encoder.json"), os.path.join(path, "vocab.bpe")
            if os.path.isfile(enc) and os.path.isfile(bpe):
                kwargs.setdefault("name_or_path", path)
                return cls.from_openai_files(enc, bpe, **kwargs)
        return super().from_pretrained(name_or_path, **kwargs)


GPT2Tokenizer = GPT2TokenizerFast  # ember has only the fast (Rust-backed) implementation
