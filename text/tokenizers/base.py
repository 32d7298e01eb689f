"""``PreTrainedTokenizerFast``: transformers' tokenizer API over a Hugging Face
``tokenizers.Tokenizer`` (the Rust library does the splitting; this class does the
bookkeeping: special tokens, padding, truncation, overflow windows, tensors, files).

``tokenizer(text)`` returns a :class:`BatchEncoding` with ``input_ids``, ``attention_mask``
and (where the model uses them) ``token_type_ids``: lists, numpy arrays with
``return_tensors="np"``, or ember tensors with ``return_tensors="pt"``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import numpy as np

__all__ = ["PreTrainedTokenizerFast", "BatchEncoding", "SPECIAL_TOKENS_ATTRIBUTES",
           "import_tokenizers"]

SPECIAL_TOKENS_ATTRIBUTES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
                             "cls_token", "mask_token")
TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_MAP_FILE = "special_tokens_map.json"
VERY_LARGE_INTEGER = int(1e30)


def import_tokenizers():
    """The ``tokenizers`` package, or an ImportError naming the install command."""
    try:
        import tokenizers
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("ember.text tokenizers need the 'tokenizers' package: "
                          "pip install 'ember[text]'") from e
    return tokenizers


class BatchEncoding(dict):
    """The tokenizer's output: a dict (``enc["input_ids"]``) with attribute access
    (``enc.input_ids``) and the backend ``encodings`` (``enc.encodings[i]``)."""

    def __init__(self, data: dict | None = None, encoding=None, tensor_type: str | None = None,
                 n_sequences: int | None = None) -> None:
        super().__init__(data or {})
        self._encodings = encoding
        self._n_sequences = n_sequences
        if tensor_type is not None:
            self.convert_to_tensors(tensor_type)

    def __getattr__(self, item: str):
        try:
            return self[item]
        except KeyError:
            raise AttributeError(item) from None

    def __getitem__(self, item):
        if isinstance(item, str):
            return super().__getitem__(item)
        if isinstance(item, int) and self._encodings is not None:
            return self._encodings[item]
        raise KeyError(item)

    @property
    def data(self) -> dict:
        return dict(self)

    @property
    def encodings(self):
        return self._encodings

    def tokens(self, batch_index: int = 0) -> list[str]:
        return self._encodings[batch_index].tokens

    def word_ids(self, batch_index: int = 0) -> list[int | None]:
        return self._encodings[batch_index].word_ids

    def sequence_ids(self, batch_index: int = 0) -> list[int | None]:
        return self._encodings[batch_index].sequence_ids

    def convert_to_tensors(self, tensor_type: str | None) -> BatchEncoding:
        """Turn the lists into numpy arrays (``"np"``) or ember tensors (``"pt"``)."""
        if tensor_type is None:
            return self
        if tensor_type not in ("np", "pt"):
            raise ValueError(f"return_tensors={tensor_type!r}: ember supports 'np' and 'pt'")
        for key, value in list(self.items()):
            if key == "overflowing_tokens" or value is None:
                continue
            try:
                arr = np.asarray(value)
            except ValueError:
                arr = None
            if arr is None or arr.dtype == object:
                raise ValueError(f"Unable to create tensor for {key!r}: the sequences have "
                                 "different lengths; use padding=True or truncation=True")
            if arr.dtype.kind in "iu":
                arr = arr.astype(np.int64)
            if tensor_type == "pt":
                import ember

                arr = ember.from_numpy(np.ascontiguousarray(arr))
            self[key] = arr
        return self

    def to(self, device) -> BatchEncoding:
        """Move ember tensors to ``device``."""
        for key, value in self.items():
            if hasattr(value, "to") and not isinstance(value, np.ndarray):
                self[key] = value.to(device)
        return self


def _clean_up_tokenization(text: str) -> str:
    """transformers' ``clean_up_tokenization``: no space before punctuation/contractions."""
    for a, b in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"),
                 (" n't", "n't"), (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"),
                 (" 're", "'re")):
        text = text.replace(a, b)
    return text


class PreTrainedTokenizerFast:
    """transformers' fast-tokenizer API over a ``tokenizers.Tokenizer``.

    Args:
        tokenizer_object: the backend ``tokenizers.Tokenizer``.
        tokenizer_file: or the path of a ``tokenizer.json`` to load it from.
        model_max_length: the longest input the model accepts (``truncation=True`` and
            ``padding="max_length"`` use it when ``max_length`` is not given).
        padding_side, truncation_side: ``"right"`` or ``"left"``.
        clean_up_tokenization_spaces: remove the space before punctuation when decoding.
        bos_token ... mask_token: the special tokens (strings).
    """

    model_input_names: ClassVar[list[str]] = ["input_ids", "token_type_ids", "attention_mask"]
    vocab_files_names: ClassVar[dict[str, str]] = {}
    default_model_max_length: ClassVar[int] = VERY_LARGE_INTEGER
    default_clean_up_tokenization_spaces: ClassVar[bool] = False

    def __init__(self, tokenizer_object=None, *, tokenizer_file: str | None = None,
                 model_max_length: int | None = None, padding_side: str = "right",
                 truncation_side: str = "right",
                 clean_up_tokenization_spaces: bool | None = None,
                 name_or_path: str = "", **kwargs) -> None:
        tk = import_tokenizers()
        if tokenizer_object is None:
            if tokenizer_file is None:
                raise ValueError(f"{type(self).__name__} needs tokenizer_object or "
                                 "tokenizer_file (or use from_pretrained)")
            tokenizer_object = tk.Tokenizer.from_file(os.fspath(tokenizer_file))
        self._tokenizer = tokenizer_object
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.model_max_length = (self.default_model_max_length if model_max_length is None
                                 else int(model_max_length))
        self.padding_side = padding_side
        self.truncation_side = truncation_side
        self.clean_up_tokenization_spaces = (self.default_clean_up_tokenization_spaces
                                             if clean_up_tokenization_spaces is None
                                             else clean_up_tokenization_spaces)
        self.name_or_path = name_or_path
        self.init_kwargs = dict(kwargs)
        for attr in SPECIAL_TOKENS_ATTRIBUTES:
            value = kwargs.pop(attr, None)
            if isinstance(value, dict):
                value = value.get("content")
            setattr(self, "_" + attr, value)
        self._register_special_tokens()

    # -- special tokens --------------------------------------------------------------
    def _register_special_tokens(self) -> None:
        tk = import_tokenizers()
        present = {t.content for t in self._tokenizer.get_added_tokens_decoder().values()}
        new = [tk.AddedToken(t, special=True, normalized=False)
               for t in self.all_special_tokens if t not in present]
        if new:
            self._tokenizer.add_special_tokens(new)

    @property
    def all_special_tokens(self) -> list[str]:
        """The special tokens set on this tokenizer (each once)."""
        out: list[str] = []
        for attr in SPECIAL_TOKENS_ATTRIBUTES:
            t = getattr(self, "_" + attr)
            if t is not None and t not in out:
                out.append(t)
        return out

    @property
    def all_special_ids(self) -> list[int]:
        return self.convert_tokens_to_ids(self.all_special_tokens)

    @property
    def special_tokens_map(self) -> dict[str, str]:
        return {a: getattr(self, "_" + a) for a in SPECIAL_TOKENS_ATTRIBUTES
                if getattr(self, "_" + a) is not None}

    def add_special_tokens(self, special_tokens_dict: dict[str, str]) -> int:
        """Set special tokens (``{"pad_token": "[PAD]"}``), adding new ones to the
        vocabulary; returns how many were added."""
        before = len(self)
        for attr, value in special_tokens_dict.items():
            if attr not in SPECIAL_TOKENS_ATTRIBUTES:
                raise ValueError(f"{attr!r} is not a special token attribute")
            setattr(self, "_" + attr, str(value))
        self._register_special_tokens()
        return len(self) - before

    def add_tokens(self, new_tokens: str | Sequence[str], special_tokens: bool = False) -> int:
        """Add ordinary (or special) tokens to the vocabulary; returns how many were new."""
        if isinstance(new_tokens, str):
            new_tokens = [new_tokens]
        if special_tokens:
            return self._tokenizer.add_special_tokens(list(new_tokens))
        return self._tokenizer.add_tokens(list(new_tokens))

    # -- vocabulary ------------------------------------------------------------------
    @property
    def backend_tokenizer(self):
        """The ``tokenizers.Tokenizer`` doing the work."""
        return self._tokenizer

    @property
    def vocab_size(self) -> int:
        """Size of the base vocabulary (without added tokens)."""
        return self._tokenizer.get_vocab_size(with_added_tokens=False)

    def __len__(self) -> int:
        return self._tokenizer.get_vocab_size(with_added_tokens=True)

    def get_vocab(self) -> dict[str, int]:
        return self._tokenizer.get_vocab(with_added_tokens=True)

    @property
    def vocab(self) -> dict[str, int]:
        return self.get_vocab()

    def convert_tokens_to_ids(self, tokens: str | Sequence[str]):
        if isinstance(tokens, str):
            i = self._tokenizer.token_to_id(tokens)
            return self.unk_token_id if i is None else i
        return [self.convert_tokens_to_ids(t) for t in tokens]

    def convert_ids_to_tokens(self, ids, skip_special_tokens: bool = False):
        if isinstance(ids, (int, np.integer)):
            return self._tokenizer.id_to_token(int(ids))
        special = set(self.all_special_ids) if skip_special_tokens else set()
        return [self._tokenizer.id_to_token(int(i)) for i in _to_list(ids)
                if int(i) not in special]

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        return self._tokenizer.decoder.decode(tokens)

    def tokenize(self, text: str, pair: str | None = None,
                 add_special_tokens: bool = False) -> list[str]:
        """The tokens of ``text`` (no special tokens unless asked)."""
        return self._tokenizer.encode(text, pair, add_special_tokens=add_special_tokens).tokens

    # -- encoding --------------------------------------------------------------------
    def _set_truncation_and_padding(self, padding, truncation, max_length, stride,
                                    pad_to_multiple_of) -> None:
        tok = self._tokenizer
        if truncation in (True, "longest_first"):
            strategy = "longest_first"
        elif truncation in ("only_first", "only_second"):
            strategy = truncation
        elif truncation in (False, None, "do_not_truncate"):
            strategy = None
        else:
            raise ValueError(f"truncation={truncation!r} is not a truncation strategy")
        if strategy is not None:
            length = self.model_max_length if max_length is None else max_length
            if length >= VERY_LARGE_INTEGER:
                raise ValueError("truncation=True needs max_length: this tokenizer has no "
                                 "model_max_length")
            tok.enable_truncation(length, stride=stride, strategy=strategy,
                                  direction=self.truncation_side)
        else:
            tok.no_truncation()
        if padding in (True, "longest"):
            length = None
        elif padding == "max_length":
            length = self.model_max_length if max_length is None else max_length
        elif padding in (False, None, "do_not_pad"):
            tok.no_padding()
            return
        else:
            raise ValueError(f"padding={padding!r} is not a padding strategy")
        if self.pad_token_id is None:
            raise ValueError("Asking to pad but the tokenizer does not have a padding token. "
                             "Set one with tokenizer.pad_token = tokenizer.eos_token or "
                             "tokenizer.add_special_tokens({'pad_token': '[PAD]'}).")
        tok.enable_padding(direction=self.padding_side, pad_id=self.pad_token_id,
                           pad_type_id=0, pad_token=self.pad_token, length=length,
                           pad_to_multiple_of=pad_to_multiple_of)

    def __call__(self, text=None, text_pair=None, add_special_tokens: bool = True,
                 padding: bool | str = False, truncation: bool | str | None = None,
                 max_length: int | None = None, stride: int = 0,
                 is_split_into_words: bool = False, pad_to_multiple_of: int | None = None,
                 return_tensors: str | None = None, return_token_type_ids: bool | None = None,
                 return_attention_mask: bool | None = None,
                 return_overflowing_tokens: bool = False,
                 return_special_tokens_mask: bool = False,
                 return_offsets_mapping: bool = False, return_length: bool = False,
                 verbose: bool = True) -> BatchEncoding:
        """Tokenize a string, a pair, or a batch of strings or pairs.

        A single input gives flat lists (``input_ids: [101, ...]``); a batch gives one list
        per input. ``return_overflowing_tokens=True`` with truncation splits long inputs into
        windows of ``max_length`` overlapping by ``stride`` tokens, one row each, and adds
        ``overflow_to_sample_mapping``.
        """
        if text is None:
            raise ValueError("You need to specify `text`")
        batched = isinstance(text, (list, tuple)) and not (
            is_split_into_words and text and not isinstance(text[0], (list, tuple)))
        if truncation is None:  # transformers: a max_length alone (no padding) truncates
            truncation = "longest_first" if (max_length is not None
                                             and padding in (False, None)) else False
        if batched:
            if text_pair is not None:
                if len(text_pair) != len(text):
                    raise ValueError("text and text_pair must have the same batch size")
                inputs = list(zip(text, text_pair))
            else:
                inputs = [tuple(t) if (isinstance(t, (list, tuple)) and not
                                       is_split_into_words) else t for t in text]
        else:
            inputs = [(text, text_pair) if text_pair is not None else text]
        self._set_truncation_and_padding(padding, truncation, max_length, stride,
                                         pad_to_multiple_of)
        try:
            encodings = self._tokenizer.encode_batch(inputs,
                                                     add_special_tokens=add_special_tokens,
                                                     is_pretokenized=is_split_into_words)
        finally:
            self._tokenizer.no_truncation()
            self._tokenizer.no_padding()
        want_types = ("token_type_ids" in self.model_input_names
                      if return_token_type_ids is None else return_token_type_ids)
        want_mask = ("attention_mask" in self.model_input_names
                     if return_attention_mask is None else return_attention_mask)
        rows: list = []
        mapping: list[int] = []
        for i, enc in enumerate(encodings):
            parts = [enc] + (list(enc.overflowing) if return_overflowing_tokens else [])
            rows.extend(parts)
            mapping.extend([i] * len(parts))
        data: dict[str, Any] = {"input_ids": [e.ids for e in rows]}
        if want_types:
            data["token_type_ids"] = [e.type_ids for e in rows]
        if want_mask:
            data["attention_mask"] = [e.attention_mask for e in rows]
        if return_special_tokens_mask:
            data["special_tokens_mask"] = [e.special_tokens_mask for e in rows]
        if return_offsets_mapping:
            data["offset_mapping"] = [e.offsets for e in rows]
        if return_length:
            data["length"] = [len(e.ids) for e in rows]
        if return_overflowing_tokens:
            data["overflow_to_sample_mapping"] = mapping
        if not batched and not return_overflowing_tokens and return_tensors is None:
            # as transformers: only per-token lists lose the batch level ("length" stays [n])
            data = {k: (v[0] if v and isinstance(v[0], list) else v) for k, v in data.items()}
        return BatchEncoding(data, rows, tensor_type=return_tensors)

    def encode(self, text, text_pair=None, add_special_tokens: bool = True, **kwargs):
        """The ids of one input (a list; a (1, T) tensor/array with ``return_tensors``)."""
        enc = self(text, text_pair, add_special_tokens=add_special_tokens, **kwargs)
        return enc["input_ids"]

    def encode_plus(self, text, text_pair=None, **kwargs) -> BatchEncoding:
        return self(text, text_pair, **kwargs)

    def batch_encode_plus(self, batch_text_or_text_pairs, **kwargs) -> BatchEncoding:
        return self(list(batch_text_or_text_pairs), **kwargs)

    def pad(self, encoded_inputs, padding: bool | str = True, max_length: int | None = None,
            pad_to_multiple_of: int | None = None, return_attention_mask: bool | None = None,
            return_tensors: str | None = None) -> BatchEncoding:
        """Pad already-encoded inputs (a dict of lists, or a list of dicts) to the longest
        (or ``max_length``) on ``padding_side``."""
        if isinstance(encoded_inputs, (list, tuple)):
            keys = encoded_inputs[0].keys()
            encoded_inputs = {k: [e[k] for e in encoded_inputs] for k in keys}
        ids = [list(_to_list(x)) for x in encoded_inputs["input_ids"]]
        if padding in (False, "do_not_pad"):
            target = None
        elif padding == "max_length":
            target = self.model_max_length if max_length is None else max_length
        else:
            target = max(len(x) for x in ids)
        if target is not None and pad_to_multiple_of:
            target = -(-target // pad_to_multiple_of) * pad_to_multiple_of
        out: dict[str, list] = {k: [] for k in encoded_inputs}
        want_mask = return_attention_mask is not False
        if want_mask:
            out.setdefault("attention_mask", [])
        for i, row in enumerate(ids):
            n = 0 if target is None else max(0, target - len(row))
            for key in encoded_inputs:
                if key == "attention_mask":
                    continue
                vals = list(_to_list(encoded_inputs[key][i]))
                fill = {"input_ids": self.pad_token_id, "token_type_ids": 0,
                        "special_tokens_mask": 1}.get(key, 0)
                out[key].append(_pad_row(vals, n, fill, self.padding_side))
            if want_mask:
                mask = list(_to_list(encoded_inputs["attention_mask"][i])) \
                    if "attention_mask" in encoded_inputs else [1] * len(row)
                out["attention_mask"].append(_pad_row(mask, n, 0, self.padding_side))
        return BatchEncoding(out, tensor_type=return_tensors)

    # -- decoding --------------------------------------------------------------------
    def decode(self, token_ids, skip_special_tokens: bool = False,
               clean_up_tokenization_spaces: bool | None = None) -> str:
        """The text of ``token_ids`` (an int, a list, an array or a 1-D tensor)."""
        ids = [int(token_ids)] if isinstance(token_ids, (int, np.integer)) else \
            [int(i) for i in _to_list(token_ids)]
        text = self._tokenizer.decode(ids, skip_special_tokens=skip_special_tokens)
        clean = self.clean_up_tokenization_spaces if clean_up_tokenization_spaces is None \
            else clean_up_tokenization_spaces
        return _clean_up_tokenization(text) if clean else text

    def batch_decode(self, sequences, skip_special_tokens: bool = False,
                     clean_up_tokenization_spaces: bool | None = None) -> list[str]:
        return [self.decode(s, skip_special_tokens, clean_up_tokenization_spaces)
                for s in _rows(sequences)]

    # -- files -----------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike[str], *,
                        revision: str | None = None, **kwargs):
        """Load from a folder or a hub model name: ``tokenizer.json`` when present, else
        the class's vocabulary files; ``tokenizer_config.json`` and
        ``special_tokens_map.json`` give the settings (``kwargs`` override them)."""
        from ..models.hub import resolve_file

        path = os.fspath(name_or_path)

        def find(name):
            return resolve_file(path, name, revision=revision, required=False)

        settings = _read_json(find(TOKENIZER_CONFIG_FILE))
        for key, value in _read_json(find(SPECIAL_TOKENS_MAP_FILE)).items():
            settings.setdefault(key, value)
        settings.pop("tokenizer_class", None)
        settings.pop("added_tokens_decoder", None)
        settings.pop("auto_map", None)
        settings.update(kwargs)
        settings.setdefault("name_or_path", path)
        file = find(TOKENIZER_FILE)
        if file is not None:
            tk = import_tokenizers()
            return cls(tk.Tokenizer.from_file(file), **_init_args(settings))
        files = {}
        for key, name in cls.vocab_files_names.items():
            f = find(name)
            if f is None:
                raise FileNotFoundError(f"{path} has neither {TOKENIZER_FILE} nor {name}")
            files[key] = f
        return cls.from_vocab_files(**files, **_init_args(settings))

    @classmethod
    def from_vocab_files(cls, **kwargs):  # pragma: no cover - overridden
        raise NotImplementedError(f"{cls.__name__} cannot be built from vocabulary files")

    def save_pretrained(self, save_directory: str | os.PathLike[str]) -> tuple[str, ...]:
        """Write ``tokenizer.json``, ``tokenizer_config.json`` and
        ``special_tokens_map.json`` (plus the model's vocabulary files)."""
        os.makedirs(save_directory, exist_ok=True)
        out = []
        tok_file = os.path.join(save_directory, TOKENIZER_FILE)
        self._tokenizer.save(tok_file)
        out.append(tok_file)
        config = {k: v for k, v in self.init_kwargs.items() if isinstance(
            v, (str, int, float, bool, type(None)))}
        config.update(self.special_tokens_map)
        config.update({"model_max_length": self.model_max_length,
                       "padding_side": self.padding_side,
                       "truncation_side": self.truncation_side,
                       "clean_up_tokenization_spaces": self.clean_up_tokenization_spaces,
                       "tokenizer_class": type(self).__name__})
        for name, data in ((TOKENIZER_CONFIG_FILE, config),
                           (SPECIAL_TOKENS_MAP_FILE, self.special_tokens_map)):
            file = os.path.join(save_directory, name)
            with open(file, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=2, ensure_ascii=False)
                f.write("\n")
            out.append(file)
        out.extend(self._tokenizer.model.save(os.fspath(save_directory)))
        return tuple(out)

    def train_new_from_iterator(self, text_iterator: Iterable[str], vocab_size: int,
                                min_frequency: int = 2, show_progress: bool = False):
        """A tokenizer of the same kind (normalisation, pre-tokenization, special tokens)
        with a new vocabulary of ``vocab_size`` learnt from ``text_iterator``."""
        from .training import retrain

        return retrain(self, text_iterator, vocab_size, min_frequency, show_progress)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(name_or_path={self.name_or_path!r}, "
                f"vocab_size={self.vocab_size}, model_max_length={self.model_max_length}, "
                f"padding_side={self.padding_side!r}, special_tokens={self.special_tokens_map})")


def _special_property(attr: str):
    def get(self):
        return getattr(self, "_" + attr)

    def set_(self, value):
        setattr(self, "_" + attr, None if value is None else str(value))
        if value is not None:
            self._register_special_tokens()

    def get_id(self):
        token = getattr(self, "_" + attr)
        return None if token is None else self._tokenizer.token_to_id(token)

    def set_id(self, value):
        setattr(self, "_" + attr, None if value is None else self._tokenizer.id_to_token(value))

    return property(get, set_, doc=f"The {attr.replace('_', ' ')}."), property(get_id, set_id)


for _attr in SPECIAL_TOKENS_ATTRIBUTES:
    _tok, _id = _special_property(_attr)
    setattr(PreTrainedTokenizerFast, _attr, _tok)
    setattr(PreTrainedTokenizerFast, _attr + "_id", _id)


def _init_args(settings: dict) -> dict:
    keep = {"model_max_length", "padding_side", "truncation_side",
            "clean_up_tokenization_spaces", "name_or_path", "do_lower_case", "strip_accents",
            "tokenize_chinese_chars", "add_prefix_space", "add_bos_token", "errors",
            *SPECIAL_TOKENS_ATTRIBUTES}
    out = {k: v for k, v in settings.items() if k in keep}
    if "model_max_length" in out and (out["model_max_length"] is None
                                      or out["model_max_length"] > VERY_LARGE_INTEGER):
        out["model_max_length"] = VERY_LARGE_INTEGER
    return out


def _read_json(path: str | None) -> dict:
    if path is None:
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _to_list(x) -> list:
    if hasattr(x, "tolist"):
        return x.tolist()
    return list(x)


def _rows(sequences) -> list:
    if hasattr(sequences, "tolist"):
        sequences = sequences.tolist()
    return list(sequences)


def _pad_row(values: list, n: int, fill, side: str) -> list:
    return values + [fill] * n if side == "right" else [fill] * n + values
