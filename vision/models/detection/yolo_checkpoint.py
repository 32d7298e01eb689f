"""Reading Ultralytics checkpoints (``yolov8n.pt``...) without torch and without running them.

An Ultralytics checkpoint is a ``torch.save`` archive of a dict such as
``{'model': <DetectionModel>, 'ema': None, 'train_args': {...}, 'version': '8.x', ...}``,
where the model is the whole pickled ``nn.Module`` object tree (usually half precision).
``ember.load(weights_only=True)`` refuses it, rightly: the pickle names Ultralytics and torch
classes, which an ordinary unpickler would import and run.

:func:`load_ultralytics_checkpoint` reads it with :class:`PlaceholderUnpickler`, an opt-in
mode of ember's safe unpickler:

- tensors are rebuilt only by ember's allow-listed tensor rebuild functions, as
  ``ember.load`` does;
- every other class or function the pickle names becomes an inert :class:`PickledGlobal`;
  "creating" or "calling" one gives a :class:`PickledObject` that only records the
  arguments and the state the pickle gives it. Nothing named by the file is imported or
  called, and no ``__setstate__`` runs;
- names that no model checkpoint needs and that attackers use (``os``, ``subprocess``,
  ``builtins.eval``, ``pickle``...) are refused outright with ``UnpicklingError``.

:func:`ultralytics_state_dict` then walks the placeholders' ``_parameters``, ``_buffers`` and
``_modules`` as ``nn.Module.state_dict`` would, giving Ultralytics' key names
(``model.0.conv.weight``, ``model.22.dfl.conv.weight``...).
"""

from __future__ import annotations

import collections
import functools
import pickle
from dataclasses import dataclass, field
from typing import Any

from ember import Tensor
from ember.serialization import UnpicklingError
from ember.serialization import _api as _ser
from ember.serialization._pickle_allowlist import (
    _BLOCKED_BUILTINS,
    _BLOCKED_MODULES,
    SafeUnpickler,
    _fix_name,
)
from ember.serialization._storage import CheckpointError

__all__ = ["PickledGlobal", "PickledObject", "PlaceholderUnpickler", "UltralyticsCheckpoint",
           "load_ultralytics_checkpoint", "ultralytics_state_dict"]

# refused even as placeholders: nothing a model checkpoint needs, all of it attack tooling
_REFUSED_MODULES = frozenset(_BLOCKED_MODULES) | {
    "builtins", "__builtin__", "pickle", "_pickle", "dill", "cloudpickle", "code", "codeop",
    "pdb", "webbrowser", "multiprocessing", "threading", "_thread", "asyncio", "signal",
    "tempfile", "glob", "io", "_io", "posixpath", "ntpath"}


class PickledGlobal:
    """An inert stand-in for a class or function named by a pickle (``module.name``). It is
    never imported nor called: "calling" it through the pickle gives a :class:`PickledObject`.
    """

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"

    def __repr__(self) -> str:
        return f"<pickled global {self.qualname}>"


@dataclass(eq=False)
class PickledObject:
    """An inert record of an object the pickle built from a :class:`PickledGlobal`:
    ``cls`` (the global), ``args``/``kwargs`` (what it would have been called with), and the
    ``state`` plus list/dict items the pickle then gave it. For a pickled ``nn.Module``,
    ``state`` is its ``__dict__`` (``_parameters``, ``_buffers``, ``_modules``, ...)."""

    cls: PickledGlobal
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    state: Any = None
    listitems: list = field(default_factory=list)
    dictitems: dict = field(default_factory=dict)

    @property
    def attributes(self) -> dict:
        """The instance dictionary the pickle set (``{}`` if none)."""
        st = self.state
        if isinstance(st, tuple) and len(st) == 2:  # (__dict__, slot state)
            merged = dict(st[0] or {})
            merged.update(st[1] or {})
            return merged
        return st if isinstance(st, dict) else {}

    def __repr__(self) -> str:
        return f"<{self.cls.qualname} placeholder>"


class PlaceholderUnpickler(SafeUnpickler):
    """``ember.load``'s weights-only unpickler, extended to whole pickled objects: globals off
    the allow-list become :class:`PickledGlobal` placeholders instead of raising (unless
    their module is refused, see :data:`_REFUSED_MODULES`), and the opcodes that would call
    or initialise them build inert :class:`PickledObject` records instead."""

    def __init__(self, file, persistent_load, encoding: str = "utf-8"):
        super().__init__(file, persistent_load, encoding=encoding)
        self._globals: dict[str, PickledGlobal] = {}

    def find_class(self, module, name):
        try:
            return super().find_class(module, name)
        except UnpicklingError:
            pass
        module, name = _fix_name(module, name, self.proto)
        top = module.split(".")[0]
        if module in _REFUSED_MODULES or top in _REFUSED_MODULES or (
                module == "builtins" and name in _BLOCKED_BUILTINS):
            raise UnpicklingError(
                f"refused global {module}.{name}: a model checkpoint has no use for it, and "
                "loading it is how malicious pickles run code. Nothing in the file was run. "
                "Only load this file (with torch) if you trust its source.")
        full = f"{module}.{name}"
        if full not in self._globals:
            self._globals[full] = PickledGlobal(module, name)
        return self._globals[full]

    def load_reduce(self):
        func = self.stack[-2]
        if isinstance(func, PickledGlobal):
            args = self.stack.pop()
            self.stack[-1] = PickledObject(func, args if isinstance(args, tuple) else (args,))
            return
        super().load_reduce()

    def _new(self, cls, args, kwargs):
        if isinstance(cls, PickledGlobal):
            self.append(PickledObject(cls, tuple(args), dict(kwargs or {})))
            return
        super()._new(cls, args, kwargs)

    def load_build(self):
        if isinstance(self.stack[-2], PickledObject):
            state = self.stack.pop()
            self.stack[-1].state = state
            return
        super().load_build()

    def load_append(self):
        if isinstance(self.stack[-2], PickledObject):
            self.stack[-2].listitems.append(self.stack.pop())
            return
        super().load_append()

    def load_appends(self):
        mark = self.metastack[-1] if self.metastack else []
        if mark and isinstance(mark[-1], PickledObject):
            items = self.pop_mark()
            self.stack[-1].listitems.extend(items)
            return
        super().load_appends()

    def load_setitem(self):
        if isinstance(self.stack[-3], PickledObject):
            value = self.stack.pop()
            key = self.stack.pop()
            self.stack[-1].dictitems[key] = value
            return
        super().load_setitem()

    def load_setitems(self):
        mark = self.metastack[-1] if self.metastack else []
        if mark and isinstance(mark[-1], PickledObject):
            items = self.pop_mark()
            self.stack[-1].dictitems.update(zip(items[::2], items[1::2]))
            return
        super().load_setitems()

    dispatch = dict(SafeUnpickler.dispatch)
    dispatch[pickle.REDUCE[0]] = load_reduce
    dispatch[pickle.BUILD[0]] = load_build
    dispatch[pickle.APPEND[0]] = load_append
    dispatch[pickle.APPENDS[0]] = load_appends
    dispatch[pickle.SETITEM[0]] = load_setitem
    dispatch[pickle.SETITEMS[0]] = load_setitems


def _is_module(obj) -> bool:
    return isinstance(obj, PickledObject) and "_modules" in obj.attributes


def ultralytics_state_dict(obj, prefix: str = "") -> collections.OrderedDict[str, Tensor]:
    """The ``state_dict`` of a pickled ``nn.Module`` read by :class:`PlaceholderUnpickler`
    (or of the model of an Ultralytics checkpoint dict: its ``'ema'`` if set, else its
    ``'model'``, as Ultralytics loads them), with the original key names and dtypes.

    As ``nn.Module.state_dict``: per module its parameters, then its persistent buffers,
    then its children in order; ``None`` entries are skipped.
    """
    if isinstance(obj, dict):
        model = obj.get("ema") or obj.get("model")
        if model is None:
            raise ValueError("not an Ultralytics checkpoint: the dict has neither 'ema' nor "
                             f"'model' (keys: {sorted(map(str, obj))})")
        obj = model
    if not _is_module(obj):
        raise ValueError(f"expected a pickled nn.Module, got {obj!r}")
    out: collections.OrderedDict[str, Tensor] = collections.OrderedDict()
    todo = [(prefix, obj)]
    while todo:  # depth first, children in order (as state_dict recurses)
        pre, mod = todo.pop()
        attrs = mod.attributes
        skip = set(attrs.get("_non_persistent_buffers_set") or ())
        for group in ("_parameters", "_buffers"):
            for name, value in (attrs.get(group) or {}).items():
                if value is None or (group == "_buffers" and name in skip):
                    continue
                if not isinstance(value, Tensor):
                    raise ValueError(f"{pre}{name}: expected a tensor, got {value!r}")
                out[pre + name] = value.detach()
        children = [(f"{pre}{name}.", child) for name, child in
                    (attrs.get("_modules") or {}).items() if child is not None]
        for child_prefix, child in reversed(children):
            if not _is_module(child):
                raise ValueError(f"{child_prefix[:-1]}: expected a pickled nn.Module, got "
                                 f"{child!r}")
            todo.append((child_prefix, child))
    return out


@dataclass
class UltralyticsCheckpoint:
    """What :func:`load_ultralytics_checkpoint` read: the model's ``state_dict`` (original
    keys and dtypes), its class name, its configuration (``yaml``: the layer lists, ``nc``,
    ``scales``/``scale``...), class ``names``, the Ultralytics ``version`` that saved it,
    and the ``raw`` object tree (dicts, tensors and placeholders)."""

    state_dict: collections.OrderedDict
    model_class: str
    yaml: dict
    names: Any
    version: str | None
    raw: Any

    @property
    def num_classes(self) -> int:
        """Number of classes, from the configuration (else from ``names``)."""
        if isinstance(self.yaml, dict) and "nc" in self.yaml:
            return int(self.yaml["nc"])
        return len(self.names or ())


def load_ultralytics_checkpoint(f, map_location="cpu") -> UltralyticsCheckpoint:
    """Reads an Ultralytics ``.pt`` checkpoint (or a ``torch.save``\\ d Ultralytics model)
    without torch and without running its pickle (see the module docstring).

    Args:
        f: a path or a readable binary file object.
        map_location: as ``ember.load`` (default ``'cpu'``).

    Raises:
        UnpicklingError: the pickle names a refused global (``os.system``...).
        RuntimeError: the file is not a readable checkpoint.
        ValueError: it holds no pickled model.
    """
    name = _ser._name_of(f)
    unpickler = functools.partial(PlaceholderUnpickler, encoding="utf-8")
    try:
        with _ser._opened(f) as fh:
            raw = _ser._load_stream(fh, name, unpickler, _ser._device_chooser(map_location),
                                    None)
    except UnpicklingError as e:
        raise UnpicklingError(f"load_ultralytics_checkpoint: {name}: {e}") from None
    except CheckpointError as e:
        raise RuntimeError(f"load_ultralytics_checkpoint: {name}: {e}") from None
    except _ser._corrupt_errors() as e:
        raise RuntimeError(f"load_ultralytics_checkpoint: {name}: the file is corrupted or "
                           f"not a checkpoint ({type(e).__name__}: {e})") from e
    model = raw
    if isinstance(raw, dict):
        model = raw.get("ema") or raw.get("model")
    if not _is_module(model):
        raise ValueError(f"load_ultralytics_checkpoint: {name}: no pickled model found")
    attrs = model.attributes
    version = raw.get("version") if isinstance(raw, dict) else None
    return UltralyticsCheckpoint(ultralytics_state_dict(model), model.cls.qualname,
                                 attrs.get("yaml") or {}, attrs.get("names"),
                                 version if isinstance(version, str) else None, raw)
