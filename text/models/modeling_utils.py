"""``PreTrainedModel``: construction, weight initialisation, tied weights, and
``from_pretrained``/``save_pretrained`` in transformers' folder layout.

A model folder holds ``config.json`` and the weights as ``model.safetensors`` (preferred) or
``pytorch_model.bin`` (PyTorch's pickle, read by ``ember.load`` without torch), possibly
sharded with a ``*.index.json``. Checkpoints are accepted the way the publishers wrote them:

* with or without the base-model prefix (``bert.``/``transformer.``);
* BERT's legacy LayerNorm names ``gamma``/``beta``;
* GPT-2's causal-mask buffers ``attn.bias``/``attn.masked_bias`` (dropped: ember builds
  the mask on the fly);
* tied weights as transformers 5 loads them: a pair tied by the config (the output
  embedding and the input embedding, BERT's decoder bias and its head's bias) takes the
  value of whichever of its two keys the checkpoint holds; a checkpoint holding both keys
  with equal values (transformers 4 wrote both) keeps them tied, one holding different
  values unties them (and saving then writes both).

Parameters the checkpoint lacks (a new classification head) are initialised as the model's
``_init_weights`` says and listed in a warning, as transformers does.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import warnings
from typing import Any, ClassVar

import ember
from ember import nn

from .configuration import PretrainedConfig

__all__ = ["PreTrainedModel", "no_init_weights", "skip_weight_init", "load_checkpoint",
           "WEIGHTS_NAME", "SAFE_WEIGHTS_NAME"]

WEIGHTS_NAME = "pytorch_model.bin"
SAFE_WEIGHTS_NAME = "model.safetensors"
_INIT_FUNCS = ("uniform_", "normal_", "trunc_normal_", "kaiming_uniform_", "kaiming_normal_",
               "xavier_uniform_", "xavier_normal_", "constant_", "ones_", "zeros_",
               "orthogonal_")
_local = threading.local()
_patch_lock = threading.RLock()
_patch_depth = [0]


@contextlib.contextmanager
def no_init_weights():
    """Within this block, ``ember.nn.init`` functions leave tensors untouched (transformers'
    ``no_init_weights``): layers are built without drawing random values that would be
    overwritten anyway."""
    import ember.nn.init as init

    with _patch_lock:
        if _patch_depth[0] == 0:
            _local.saved = {n: getattr(init, n) for n in _INIT_FUNCS}
            for n in _INIT_FUNCS:
                setattr(init, n, _skip)
        _patch_depth[0] += 1
    try:
        yield
    finally:
        with _patch_lock:
            _patch_depth[0] -= 1
            if _patch_depth[0] == 0:
                for n, f in _local.saved.items():
                    setattr(init, n, f)


def _skip(tensor, *args, **kwargs):
    return tensor


@contextlib.contextmanager
def skip_weight_init():
    """Models built in this block draw no weights at all (their values are undefined until
    loaded): for callers that load every weight themselves, as ``from_pretrained`` does."""
    before = getattr(_local, "loading", False)
    _local.loading = True
    try:
        yield
    finally:
        _local.loading = before


class PreTrainedModel(nn.Module):
    """Base class of the text models (transformers' ``PreTrainedModel``).

    Subclasses set ``config_class`` and ``base_model_prefix`` and implement
    ``_init_weights(module)``. Building a model from a config draws every weight once with
    ``_init_weights`` (after the layers are built) and ties the output embedding to the input
    embedding when ``config.tie_word_embeddings``.
    """

    config_class: ClassVar[type[PretrainedConfig]] = PretrainedConfig
    base_model_prefix: ClassVar[str] = ""
    # {parameter path: parameter path it is tied to} when config.tie_word_embeddings
    _tied_weights: ClassVar[dict[str, str]] = {}
    # {parameter path: parameter path} always shared, whatever the config
    _shared_weights: ClassVar[dict[str, str]] = {}
    # checkpoint keys that are dropped silently (buffers ember builds itself)
    _keys_to_ignore_on_load_unexpected: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _wrap_init(cls.__dict__["__init__"])

    def __init__(self, config: PretrainedConfig, *args, **kwargs) -> None:
        super().__init__()
        if not isinstance(config, PretrainedConfig):
            raise TypeError(f"{type(self).__name__}(config): config must be a PretrainedConfig, "
                            f"got {type(config).__name__}")
        self.config = config

    # -- weights ---------------------------------------------------------------------
    def _init_weights(self, module: nn.Module) -> None:  # pragma: no cover - overridden
        pass

    def init_weights(self) -> None:
        """Draw every weight with ``_init_weights`` and tie the embeddings."""
        with ember.no_grad():
            for module in self.modules():
                self._init_weights(module)
        self.tie_weights()

    def post_init(self) -> None:
        """Kept for transformers compatibility; construction already initialises."""

    def get_input_embeddings(self) -> nn.Module:
        base = getattr(self, self.base_model_prefix, self)
        if base is self:
            raise NotImplementedError
        return base.get_input_embeddings()

    def get_output_embeddings(self) -> nn.Module | None:
        return None

    def _tied_pairs(self) -> dict[str, str]:
        """``{target: source}``: the parameters this model's config ties."""
        pairs = dict(self._shared_weights)
        if getattr(self.config, "tie_word_embeddings", True):
            pairs.update(self._tied_weights)
        return pairs

    def _tie(self, pairs: dict[str, str]) -> None:
        for target, source in pairs.items():
            src_mod, src_name = _resolve(self, source)
            dst_mod, dst_name = _resolve(self, target)
            setattr(dst_mod, dst_name, getattr(src_mod, src_name))

    def tie_weights(self) -> None:
        """Share the input embedding matrix with the output projection (and any other pairs
        named in ``_tied_weights``) when ``config.tie_word_embeddings``."""
        self._tie(self._tied_pairs())

    @property
    def base_model(self) -> nn.Module:
        return getattr(self, self.base_model_prefix, self)

    @property
    def device(self):
        for p in self.parameters():
            return p.device
        return ember.device("cpu")

    @property
    def dtype(self):
        for p in self.parameters():
            return p.dtype
        return ember.get_default_dtype()

    def num_parameters(self, only_trainable: bool = False) -> int:
        """The number of (distinct) parameters."""
        return sum(p.numel() for p in self.parameters()
                   if p.requires_grad or not only_trainable)

    # -- loading ---------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike[str], *,
                        config: PretrainedConfig | None = None, revision: str | None = None,
                        state_dict: dict | None = None, output_loading_info: bool = False,
                        torch_dtype=None, ignore_mismatched_sizes: bool = False, **kwargs):
        """Build the model from ``config.json`` and load its weights.

        Args:
            pretrained_model_name_or_path: a folder, or a model name on the Hugging Face hub
                (``"gpt2"``, ``"bert-base-uncased"``, ...) resolved to a pinned revision and
                downloaded once through ``ember.hub``.
            config: use this config instead of the folder's ``config.json``.
            revision: another commit of a hub repository.
            state_dict: use these weights instead of the folder's.
            output_loading_info: also return ``{"missing_keys", "unexpected_keys",
                "mismatched_keys"}`` (mismatched: ``(key, checkpoint shape, model shape)``).
            torch_dtype: cast the floating-point weights to this dtype.
            ignore_mismatched_sizes: initialise weights whose checkpoint shape differs (a
                head with another ``num_labels``) instead of raising ``RuntimeError``.
            **kwargs: override config attributes (``num_labels=3``, ...).

        Returns the model in eval mode, as transformers does.
        """
        path = os.fspath(pretrained_model_name_or_path)
        if config is None:
            config = cls.config_class.from_pretrained(path, revision=revision)
        for key, value in kwargs.items():
            setattr(config, key, value)
        with skip_weight_init():
            model = cls(config)
        if state_dict is None:
            state_dict = load_checkpoint(path, revision=revision)
        info = model._load_pretrained_state(state_dict, ignore_mismatched_sizes)
        if torch_dtype is not None:
            model.to(torch_dtype)
        model.eval()
        if output_loading_info:
            return model, info
        return model

    def _load_pretrained_state(self, state_dict: dict,
                               ignore_mismatched_sizes: bool = True) -> dict[str, list]:
        state = self._convert_checkpoint(dict(state_dict))
        own = self.state_dict()
        mismatched = [(k, tuple(v.shape), tuple(own[k].shape)) for k, v in state.items()
                      if k in own and tuple(v.shape) != tuple(own[k].shape)]
        if mismatched and not ignore_mismatched_sizes:
            report = "\n".join(f"- {k}: found shape {a} in the checkpoint and {b} in the "
                               "model instantiated" for k, a, b in mismatched)
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n"
                               f"{report}\nYou may consider adding `ignore_mismatched_sizes="
                               "True` to `from_pretrained`.")
        mismatched_names = [k for k, _, _ in mismatched]
        for k in mismatched_names:
            del state[k]
        tied = self._tied_pairs()
        # as transformers 5: a tied pair whose two keys both come, with different values,
        # is untied (the target gets a parameter of its own); the other pairs are shared
        # while loading, so that either key fills both
        untied = [t for t, src in tied.items()
                  if t in state and src in state and not _same_values(state[t], state[src])]
        for target in untied:
            del tied[target]
            mod, name = _resolve(self, target)
            old = getattr(mod, name)
            setattr(mod, name, nn.Parameter(old.detach().clone(),
                                            requires_grad=old.requires_grad))
        self._tie(tied)
        result = self.load_state_dict(state, strict=False)
        not_loaded = set(result.missing_keys) | set(mismatched_names)
        partners: dict[str, set[str]] = {}
        for target, source in tied.items():
            partners.setdefault(target, set()).add(source)
            partners.setdefault(source, set()).add(target)
        # a tied weight is missing only when every key it is tied to is missing too
        missing = [k for k in result.missing_keys
                   if k not in mismatched_names and partners.get(k, set()) <= not_loaded]
        unexpected = list(result.unexpected_keys)
        if missing or mismatched:  # a tied target shares its source's (new) values
            self._init_missing([k for k in missing if k not in tied] + mismatched_names)
        self._tie(tied)
        if unexpected:
            warnings.warn(f"Some weights of the checkpoint were not used when initializing "
                          f"{type(self).__name__}: {unexpected}", stacklevel=3)
        if missing or mismatched:
            warnings.warn(f"Some weights of {type(self).__name__} were not initialized from "
                          f"the checkpoint and are newly initialized: "
                          f"{missing + mismatched_names}. "
                          "You should probably train this model on a down-stream task.",
                          stacklevel=3)
        return {"missing_keys": missing, "unexpected_keys": unexpected,
                "mismatched_keys": mismatched}

    def _init_missing(self, keys: list[str]) -> None:
        """Initialise the parameters ``keys`` with ``_init_weights`` of their modules, keeping
        the values the checkpoint gave their siblings."""
        owners: dict[str, set[str]] = {}
        for k in keys:
            owner, _, leaf = k.rpartition(".")
            owners.setdefault(owner, set()).add(leaf)
        with ember.no_grad():
            for name, module in self.named_modules():
                if name not in owners:
                    continue
                own = list(module.named_parameters(recurse=False)) + \
                    list(module.named_buffers(recurse=False))
                kept = [(t, t.detach().clone()) for leaf, t in own
                        if leaf not in owners[name] and t is not None]
                self._init_weights(module)
                for t, value in kept:
                    t.copy_(value)

    def _convert_checkpoint(self, state: dict) -> dict:
        """Rename a publisher's checkpoint keys to this model's ``state_dict`` keys."""
        renamed = {}
        for key, value in state.items():
            if key.endswith(".gamma"):
                key = key[:-6] + ".weight"
            elif key.endswith(".beta"):
                key = key[:-5] + ".bias"
            if any(key.endswith(s) for s in self._keys_to_ignore_on_load_unexpected):
                continue
            renamed[key] = value
        own = set(self.state_dict().keys())
        prefix = self.base_model_prefix + "."
        has_prefix = any(k.startswith(prefix) for k in own)
        ckpt_prefixed = any(k.startswith(prefix) for k in renamed)
        # keys that do not fit keep the checkpoint's name (reported as unexpected, as in
        # transformers)
        if has_prefix and not ckpt_prefixed:  # a base-model checkpoint into a head model
            renamed = {(prefix + k if k not in own and prefix + k in own else k): v
                       for k, v in renamed.items()}
        elif not has_prefix and ckpt_prefixed:  # a head-model checkpoint into the base model
            renamed = {(k[len(prefix):] if k.startswith(prefix) else k): v
                       for k, v in renamed.items()}
        return renamed

    # -- saving ----------------------------------------------------------------------
    def save_pretrained(self, save_directory: str | os.PathLike[str],
                        safe_serialization: bool = True, state_dict: dict | None = None) -> None:
        """Write ``config.json`` and the weights (``model.safetensors``, or
        ``pytorch_model.bin`` with ``safe_serialization=False``) into ``save_directory``.

        A tensor shared by several keys (tied embeddings) is written once, under its first
        key, as transformers does.
        """
        os.makedirs(save_directory, exist_ok=True)
        cfg = self.config
        cfg.architectures = [type(self).__name__]
        cfg.torch_dtype = str(self.dtype).replace("ember.", "")
        cfg.save_pretrained(save_directory)
        if state_dict is None:
            state_dict = self.state_dict(keep_vars=True)
        seen: set[int] = set()
        out = {}
        for key, t in state_dict.items():
            if id(t) in seen:
                continue
            seen.add(id(t))
            out[key] = t.detach().contiguous()
        if safe_serialization:
            from ember.serialization import save_safetensors

            save_safetensors(out, os.path.join(save_directory, SAFE_WEIGHTS_NAME),
                             metadata={"format": "pt"})
            stale = os.path.join(save_directory, WEIGHTS_NAME)
        else:
            ember.save(out, os.path.join(save_directory, WEIGHTS_NAME))
            stale = os.path.join(save_directory, SAFE_WEIGHTS_NAME)
        if os.path.exists(stale):  # the folder must not hold two versions of the weights
            os.remove(stale)


def _same_values(a, b) -> bool:
    """Whether two checkpoint tensors hold the same shape and values."""
    a = a.detach().cpu().numpy() if hasattr(a, "detach") else a
    b = b.detach().cpu().numpy() if hasattr(b, "detach") else b
    return a.shape == b.shape and bool((a == b).all())


def _resolve(root: nn.Module, dotted: str) -> tuple[nn.Module, str]:
    mod_path, _, name = dotted.rpartition(".")
    return (root.get_submodule(mod_path) if mod_path else root), name


def _wrap_init(init):
    """Run a model's ``__init__`` without drawing weights, then (outermost model only, and
    not while loading a checkpoint) draw them once with ``init_weights``."""

    def __init__(self, *args, **kwargs):
        depth = getattr(_local, "depth", 0)
        _local.depth = depth + 1
        try:
            with no_init_weights():
                init(self, *args, **kwargs)
        finally:
            _local.depth = depth
        if depth == 0 and not getattr(_local, "loading", False):
            self.init_weights()
        elif depth == 0:
            self.tie_weights()

    __init__.__doc__ = init.__doc__
    __init__.__wrapped__ = init
    return __init__


def load_checkpoint(name_or_path: str, revision: str | None = None) -> dict[str, Any]:
    """The state dict of a model folder or hub name: ``model.safetensors`` if present, else
    ``pytorch_model.bin`` (each possibly sharded with an ``.index.json``)."""
    from .hub import resolve_file

    for single, loader in ((SAFE_WEIGHTS_NAME, _load_safetensors), (WEIGHTS_NAME, _load_bin)):
        file = resolve_file(name_or_path, single, revision=revision, required=False)
        if file is not None:
            return loader(file)
        index = resolve_file(name_or_path, single + ".index.json", revision=revision,
                             required=False)
        if index is not None:
            with open(index, encoding="utf-8") as f:
                shards = sorted(set(json.load(f)["weight_map"].values()))
            state: dict[str, Any] = {}
            for shard in shards:
                state.update(loader(resolve_file(name_or_path, shard, revision=revision)))
            return state
    raise FileNotFoundError(f"{name_or_path} has neither {SAFE_WEIGHTS_NAME} nor {WEIGHTS_NAME}")


def _load_safetensors(file: str) -> dict:
    from ember.serialization import load_safetensors

    return dict(load_safetensors(file))


def _load_bin(file: str) -> dict:
    return dict(ember.load(file, map_location="cpu", weights_only=True))
