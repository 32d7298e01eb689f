"""``PretrainedConfig``: a model's hyper-parameters, read from and written to
``config.json`` in transformers' layout.

Known keys become attributes; unknown keys are kept as attributes too and written back, so a
config survives a load/save round trip. ``attribute_map`` gives the generic aliases
(GPT-2's ``n_embd`` is also ``hidden_size``).
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any, ClassVar

__all__ = ["PretrainedConfig", "CONFIG_NAME"]

CONFIG_NAME = "config.json"

# Keys every config has (transformers' PretrainedConfig defaults).
_COMMON_DEFAULTS: dict[str, Any] = {
    "return_dict": True,
    "output_hidden_states": False,
    "output_attentions": False,
    "use_cache": True,
    "architectures": None,
    "problem_type": None,
    "pad_token_id": None,
    "bos_token_id": None,
    "eos_token_id": None,
    "tie_word_embeddings": True,
    "is_decoder": False,
    "add_cross_attention": False,
    "torch_dtype": None,
}

# Written only when set to something other than the default.
_QUIET = {"return_dict", "output_hidden_states", "output_attentions", "is_decoder",
          "add_cross_attention", "torch_dtype", "problem_type", "architectures"}


class PretrainedConfig:
    """Base class of model configurations (transformers' ``PretrainedConfig``).

    Args:
        **kwargs: any hyper-parameter; ``num_labels``, ``id2label`` and ``label2id`` set the
            classification labels (``num_labels`` defaults to 2).
    """

    model_type: ClassVar[str] = ""
    attribute_map: ClassVar[dict[str, str]] = {}

    def __init__(self, **kwargs) -> None:
        for key, value in _COMMON_DEFAULTS.items():
            setattr(self, key, kwargs.pop(key, copy.copy(value)))
        id2label = kwargs.pop("id2label", None)
        num_labels = kwargs.pop("num_labels", None)
        kwargs.pop("label2id", None)
        if id2label is not None:
            self.id2label = {int(k): v for k, v in id2label.items()}
        else:
            n = 2 if num_labels is None else num_labels
            self.id2label = {i: f"LABEL_{i}" for i in range(n)}
        if num_labels is not None and num_labels != len(self.id2label):
            self.id2label = {i: f"LABEL_{i}" for i in range(num_labels)}
        kwargs.pop("model_type", None)
        kwargs.pop("transformers_version", None)
        for key, value in kwargs.items():
            setattr(self, key, value)

    # aliases: GPT-2's hidden_size -> n_embd, ...
    def __setattr__(self, key: str, value) -> None:
        key = type(self).attribute_map.get(key, key)
        object.__setattr__(self, key, value)

    def __getattr__(self, key: str):
        amap = type(self).attribute_map
        if key in amap:
            return getattr(self, amap[key])
        raise AttributeError(f"{type(self).__name__} has no attribute {key!r}")

    @property
    def num_labels(self) -> int:
        """The number of classification labels (``len(id2label)``)."""
        return len(self.id2label)

    @num_labels.setter
    def num_labels(self, n: int) -> None:
        if n != len(self.id2label):
            self.id2label = {i: f"LABEL_{i}" for i in range(n)}

    @property
    def label2id(self) -> dict[str, int]:
        return {v: k for k, v in self.id2label.items()}

    @property
    def use_return_dict(self) -> bool:
        return self.return_dict

    # -- (de)serialisation -----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """All attributes as a JSON-ready dict, with ``model_type`` and the labels."""
        out: dict[str, Any] = {}
        for key, value in sorted(self.__dict__.items()):
            if key.startswith("_"):
                continue
            if key in _QUIET and value == _COMMON_DEFAULTS.get(key):
                continue
            out[key] = value
        out["id2label"] = {str(k): v for k, v in self.id2label.items()}
        out["label2id"] = self.label2id
        out["model_type"] = self.model_type
        return out

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **kwargs):
        """A config from a dict (``kwargs`` override its entries)."""
        data = dict(config_dict)
        data.update(kwargs)
        return cls(**data)

    @classmethod
    def from_json_file(cls, path: str | os.PathLike[str]):
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike[str], *,
                        revision: str | None = None, **kwargs):
        """Read ``config.json`` from a folder, a file, or a model name on the Hugging Face
        hub (downloaded through ``ember.hub``)."""
        from .hub import resolve_file

        path = os.fspath(name_or_path)
        if os.path.isfile(path):
            file = path
        else:
            file = resolve_file(path, CONFIG_NAME, revision=revision)
        with open(file, encoding="utf-8") as f:
            data = json.load(f)
        mt = data.get("model_type")
        if cls.model_type and mt and mt != cls.model_type:
            raise ValueError(f"{path} holds a {mt!r} config, not a {cls.model_type!r} one")
        return cls.from_dict(data, **kwargs)

    def save_pretrained(self, save_directory: str | os.PathLike[str]) -> None:
        """Write ``config.json`` into ``save_directory`` (created if needed)."""
        from ._files import atomic_write_text

        os.makedirs(save_directory, exist_ok=True)
        atomic_write_text(os.path.join(save_directory, CONFIG_NAME), self.to_json_string())

    def __eq__(self, other) -> bool:
        return isinstance(other, PretrainedConfig) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"{type(self).__name__} {self.to_json_string()}"
