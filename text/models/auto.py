"""``AutoConfig`` and ``AutoModel*``: pick the class from a folder's ``config.json``
(``model_type``, ``architectures``)."""

from __future__ import annotations

import json
import os

from .hub import resolve_file

__all__ = ["AutoConfig", "AutoModel", "AutoModelForCausalLM", "AutoModelForMaskedLM",
           "AutoModelForSequenceClassification"]


def _config_classes():
    from .bert import BertConfig
    from .gpt2 import GPT2Config

    return {"bert": BertConfig, "gpt2": GPT2Config}


def _read(name_or_path: str, revision: str | None) -> dict:
    path = os.fspath(name_or_path)
    file = path if os.path.isfile(path) else resolve_file(path, "config.json",
                                                          revision=revision)
    with open(file, encoding="utf-8") as f:
        return json.load(f)


class AutoConfig:
    """``AutoConfig.from_pretrained(name_or_path)``: the config class its ``model_type``
    names."""

    @staticmethod
    def from_pretrained(name_or_path, revision: str | None = None, **kwargs):
        data = _read(name_or_path, revision)
        classes = _config_classes()
        mt = data.get("model_type")
        if mt not in classes:
            raise ValueError(f"model_type {mt!r} is not supported; known: {sorted(classes)}")
        return classes[mt].from_dict(data, **kwargs)


class _AutoModel:
    _mapping: dict[str, str] = {}

    @classmethod
    def _class_for(cls, model_type: str):
        from . import bert, gpt2

        name = cls._mapping.get(model_type)
        if name is None:
            raise ValueError(f"{cls.__name__} does not support model_type {model_type!r}")
        return getattr(bert if model_type == "bert" else gpt2, name)

    @classmethod
    def from_config(cls, config):
        return cls._class_for(config.model_type)(config)

    @classmethod
    def from_pretrained(cls, name_or_path, revision: str | None = None, **kwargs):
        config = AutoConfig.from_pretrained(name_or_path, revision=revision)
        return cls._class_for(config.model_type).from_pretrained(
            name_or_path, config=config, revision=revision, **kwargs)


class AutoModel(_AutoModel):
    """The base model (``BertModel``, ``GPT2Model``)."""

    _mapping = {"bert": "BertModel", "gpt2": "GPT2Model"}


class AutoModelForCausalLM(_AutoModel):
    _mapping = {"gpt2": "GPT2LMHeadModel"}


class AutoModelForMaskedLM(_AutoModel):
    _mapping = {"bert": "BertForMaskedLM"}


class AutoModelForSequenceClassification(_AutoModel):
    _mapping = {"bert": "BertForSequenceClassification",
                "gpt2": "GPT2ForSequenceClassification"}
