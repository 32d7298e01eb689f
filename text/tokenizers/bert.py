"""``BertTokenizerFast``: BERT's WordPiece tokenizer (transformers' names and behaviour).

Built from a ``tokenizer.json`` or from a ``vocab.txt`` (one token per line) as transformers
converts it: BERT normalisation (clean-up, CJK spacing, optional lower-casing and accent
stripping), BERT pre-tokenization (whitespace and punctuation), WordPiece with the ``##``
continuation prefix, and the ``[CLS] A [SEP] B [SEP]`` template with token types 0/1.
"""

from __future__ import annotations

import os
from typing import ClassVar

from .base import PreTrainedTokenizerFast, import_tokenizers

__all__ = ["BertTokenizerFast", "BertTokenizer", "bert_backend"]


def bert_backend(vocab: str | dict[str, int], do_lower_case: bool = True,
                 strip_accents: bool | None = None, tokenize_chinese_chars: bool = True,
                 unk_token: str = "[UNK]", sep_token: str = "[SEP]", cls_token: str = "[CLS]",
                 wordpiece_prefix: str = "##"):
    """A ``tokenizers.Tokenizer`` doing BERT's WordPiece (``vocab``: a vocab.txt path or a
    token -> id dict). ``strip_accents=None`` strips accents exactly when lower-casing."""
    tk = import_tokenizers()
    if not isinstance(vocab, dict):
        vocab = tk.models.WordPiece.read_file(os.fspath(vocab))
    tok = tk.Tokenizer(tk.models.WordPiece(vocab, unk_token=unk_token,
                                           continuing_subword_prefix=wordpiece_prefix,
                                           max_input_chars_per_word=100))
    tok.normalizer = tk.normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=tokenize_chinese_chars,
        strip_accents=strip_accents, lowercase=do_lower_case)
    tok.pre_tokenizer = tk.pre_tokenizers.BertPreTokenizer()
    cls_id, sep_id = vocab.get(cls_token), vocab.get(sep_token)
    if cls_id is not None and sep_id is not None:
        tok.post_processor = tk.processors.TemplateProcessing(
            single=f"{cls_token}:0 $A:0 {sep_token}:0",
            pair=f"{cls_token}:0 $A:0 {sep_token}:0 $B:1 {sep_token}:1",
            special_tokens=[(cls_token, cls_id), (sep_token, sep_id)])
    tok.decoder = tk.decoders.WordPiece(prefix=wordpiece_prefix)
    return tok


class BertTokenizerFast(PreTrainedTokenizerFast):
    """BERT's WordPiece tokenizer.

    Args:
        tokenizer_object: a backend ``tokenizers.Tokenizer`` (else built from ``vocab_file``).
        vocab_file: ``vocab.txt``.
        do_lower_case: lower-case the input (uncased models).
        strip_accents: strip accents (``None``: when lower-casing).
        tokenize_chinese_chars: put spaces around CJK characters.
        unk_token, sep_token, pad_token, cls_token, mask_token: the special tokens.
    """

    vocab_files_names: ClassVar[dict[str, str]] = {"vocab_file": "vocab.txt"}
    model_input_names: ClassVar[list[str]] = ["input_ids", "token_type_ids", "attention_mask"]
    default_model_max_length: ClassVar[int] = 512
    default_clean_up_tokenization_spaces: ClassVar[bool] = False

    def __init__(self, tokenizer_object=None, vocab_file: str | None = None, *,
                 tokenizer_file: str | None = None, do_lower_case: bool = True,
                 strip_accents: bool | None = None, tokenize_chinese_chars: bool = True,
                 unk_token: str = "[UNK]", sep_token: str = "[SEP]", pad_token: str = "[PAD]",
                 cls_token: str = "[CLS]", mask_token: str = "[MASK]", **kwargs) -> None:
        if tokenizer_object is None and tokenizer_file is None:
            if vocab_file is None:
                raise ValueError("BertTokenizerFast needs a vocab_file, a tokenizer_file or a "
                                 "tokenizer_object")
            tokenizer_object = bert_backend(vocab_file, do_lower_case, strip_accents,
                                            tokenize_chinese_chars, unk_token, sep_token,
                                            cls_token)
        super().__init__(tokenizer_object, tokenizer_file=tokenizer_file, unk_token=unk_token,
                         sep_token=sep_token, pad_token=pad_token, cls_token=cls_token,
                         mask_token=mask_token, do_lower_case=do_lower_case,
                         strip_accents=strip_accents,
                         tokenize_chinese_chars=tokenize_chinese_chars, **kwargs)
        self.do_lower_case = do_lower_case

    @classmethod
    def from_vocab_files(cls, vocab_file: str, **kwargs) -> BertTokenizerFast:
        return cls(vocab_file=vocab_file, **kwargs)

    def build_inputs_with_special_tokens(self, token_ids_0: list[int],
                                         token_ids_1: list[int] | None = None) -> list[int]:
        """``[CLS] A [SEP]`` or ``[CLS] A [SEP] B [SEP]``."""
        out = [self.cls_token_id] + list(token_ids_0) + [self.sep_token_id]
        if token_ids_1 is not None:
            out += list(token_ids_1) + [self.sep_token_id]
        return out


BertTokenizer = BertTokenizerFast  # ember has only the fast (Rust-backed) implementation
