"""``AutoTokenizer.from_pretrained``: the tokenizer class a folder or hub model needs."""

from __future__ import annotations

import json
import os

from .base import PreTrainedTokenizerFast
from .bert import BertTokenizerFast
from .gpt2 import GPT2TokenizerFast

__all__ = ["AutoTokenizer"]

_BY_NAME = {"BertTokenizer": BertTokenizerFast, "BertTokenizerFast": BertTokenizerFast,
            "GPT2Tokenizer": GPT2TokenizerFast, "GPT2TokenizerFast": GPT2TokenizerFast}
_BY_MODEL_TYPE = {"bert": BertTokenizerFast, "gpt2": GPT2TokenizerFast}


class AutoTokenizer:
    """Picks the class from ``tokenizer_config.json`` (``tokenizer_class``), else
    ``config.json`` (``model_type``), else the files present (``vocab.txt`` -> BERT,
    ``vocab.json``/``encoder.json`` -> GPT-2, ``tokenizer.json``'s model type)."""

    @staticmethod
    def from_pretrained(name_or_path, revision: str | None = None,
                        **kwargs) -> PreTrainedTokenizerFast:
        from ..models.hub import resolve_file

        path = os.fspath(name_or_path)

        def read(name):
            f = resolve_file(path, name, revision=revision, required=False)
            if f is None:
                return None
            with open(f, encoding="utf-8") as fh:
                return json.load(fh)

        cls = None
        tc = read("tokenizer_config.json") or {}
        cls = _BY_NAME.get(tc.get("tokenizer_class"))
        if cls is None:
            cls = _BY_MODEL_TYPE.get((read("config.json") or {}).get("model_type"))
        if cls is None:
            tj = read("tokenizer.json")
            if tj is not None:
                cls = {"WordPiece": BertTokenizerFast, "BPE": GPT2TokenizerFast}.get(
                    tj.get("model", {}).get("type"))
        if cls is None and os.path.isdir(path):
            if os.path.isfile(os.path.join(path, "vocab.txt")):
                cls = BertTokenizerFast
            elif any(os.path.isfile(os.path.join(path, f)) for f in ("vocab.json",
                                                                      "encoder.json")):
                cls = GPT2TokenizerFast
        if cls is None:
            raise ValueError(f"cannot tell which tokenizer {path} needs")
        return cls.from_pretrained(path, revision=revision, **kwargs)
