"""The unpicklers of ``ember.load``.

``SafeUnpickler`` (``weights_only=True``) is a security boundary: a global that is not on
the allow-list raises ``UnpicklingError`` naming it before anything is called, and the
opcodes that call or build objects (REDUCE, NEWOBJ, BUILD, INST, OBJ) accept only
allow-listed callables and plain containers. The allow-list holds what checkpoints of
tensors, ``state_dict``\\ s and optimizer states need: ``collections.OrderedDict``, PyTorch's
tensor rebuild functions and storage types, ``torch.Size``, ``torch.device``, torch
dtypes, and a few builtins (``set``, ``complex``, ``bytearray``, ``_codecs.encode`` for
bytes): never more than ``torch.load(weights_only=True)`` allows (no ``frozenset``,
``slice`` or ``range``, which PyTorch refuses too).

``TrustedUnpickler`` (``weights_only=False``) unpickles anything (it runs the file's code:
use it only on files you trust), mapping PyTorch classes to their ember counterparts.
"""

from __future__ import annotations

import _compat_pickle
import codecs
import collections
import importlib
import io
import pickle

from .. import _device, _dtype
from .._tensor import Size, Tensor
from . import _storage as st

__all__ = ["UnpicklingError", "SafeUnpickler", "TrustedUnpickler", "add_safe_globals",
           "get_safe_globals", "clear_safe_globals", "safe_globals"]

_BLOCKED_MODULES = ("os", "posix", "nt", "sys", "subprocess", "shutil", "socket", "ctypes",
                    "importlib", "runpy", "pty", "marshal", "types")
_BLOCKED_BUILTINS = ("eval", "exec", "compile", "open", "getattr", "setattr", "delattr",
                     "__import__", "globals", "locals", "vars", "input", "breakpoint")

UNSAFE_HINT = ("Load the file with weights_only=False only if you trust its source: that "
               "runs the code the file names.")


class UnpicklingError(pickle.UnpicklingError):
    """``ember.load(weights_only=True)`` refused a global or an operation of the pickle."""


UnpicklingError.__module__ = "ember.serialization"


def _encode(obj, encoding="utf-8"):
    # protocol-2 pickles write bytes as _codecs.encode(str, 'latin1')
    if not isinstance(obj, str) or codecs.lookup(encoding).name not in (
            "latin-1", "iso8859-1", "utf-8", "ascii"):
        raise UnpicklingError(f"_codecs.encode({type(obj).__name__}, {encoding!r}) is not "
                              "allowed")
    return obj.encode(encoding)


def _torch_device(type_or_str, index=None):
    return _device.device(type_or_str, index)


def _allowed_globals() -> dict[str, object]:
    g: dict[str, object] = {
        "collections.OrderedDict": collections.OrderedDict,
        "collections.Counter": collections.Counter,
        "torch.Size": Size,
        "torch.device": _torch_device,
        "torch.Tensor": Tensor,
        "torch.nn.parameter.Parameter": st.ParameterType,
        "torch._utils._rebuild_tensor": st.rebuild_tensor,
        "torch._utils._rebuild_tensor_v2": st.rebuild_tensor_v2,
        "torch._utils._rebuild_tensor_v3": st.rebuild_tensor_v3,
        "torch._utils._rebuild_parameter": st.rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": st.rebuild_parameter_with_state,
        "torch._utils._rebuild_device_tensor_from_cpu_tensor":
            st.rebuild_device_tensor_from_cpu_tensor,
        "torch._utils._rebuild_meta_tensor_no_storage": st.rebuild_meta_tensor_no_storage,
        "torch._tensor._rebuild_from_type_v2": st.rebuild_from_type_v2,
        "torch.serialization._get_layout": st.get_layout,
        "_codecs.encode": _encode,
        "builtins.set": set,
        "builtins.complex": complex,
        "builtins.bytearray": bytearray,
    }
    for kind in ("qtensor", "sparse_tensor", "nested_tensor", "wrapper_subclass",
                 "device_tensor_from_numpy"):
        g[f"torch._utils._rebuild_{kind}"] = st.unsupported_rebuild(kind.replace("_", " "))
    for name, stype in st.storage_types().items():
        g[f"torch.{name}"] = stype
        if name != "UntypedStorage":  # checkpoints of CUDA tensors saved before PyTorch 1.6
            g[f"torch.cuda.{name}"] = stype
    g["torch.storage.UntypedStorage"] = g["torch.UntypedStorage"]
    g["torch.storage.TypedStorage"] = g["torch.UntypedStorage"]
    for torch_name, ember_name in st.TORCH_DTYPE_NAMES.items():
        d = _dtype._BY_NAME.get(ember_name)
        g[f"torch.{torch_name}"] = d if d is not None else st.UnsupportedDtype(torch_name)
    for name in st.UNSUPPORTED_TORCH_DTYPES:
        g[f"torch.{name}"] = st.UnsupportedDtype(name)
    return g


_ALLOWED = _allowed_globals()
_ALLOWED_IDS = {id(v) for v in _ALLOWED.values()}
_CONTAINERS = (dict, collections.OrderedDict, collections.Counter)
_user_globals: dict[str, object] = {}


def _full_name(obj) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def add_safe_globals(safe_globals) -> None:
    """Allow-lists more globals for ``weights_only=True`` (``torch.serialization.
    add_safe_globals``): classes or functions, or ``(obj, "module.name")`` pairs. Only do
    this for code you trust: an allow-listed callable runs with the file's arguments."""
    for item in safe_globals:
        obj, name = item if isinstance(item, tuple) else (item, _full_name(item))
        module = name.rpartition(".")[0]
        if module.split(".")[0] in _BLOCKED_MODULES:
            raise ValueError(f"{name}: globals of module {module} can never be allow-listed")
        _user_globals[name] = obj


def get_safe_globals() -> list:
    """The globals added with ``add_safe_globals``."""
    return list(_user_globals.values())


def clear_safe_globals() -> None:
    """Removes every global added with ``add_safe_globals``."""
    _user_globals.clear()


class safe_globals:  # noqa: N801 - PyTorch's name
    """Context manager: ``add_safe_globals`` for the duration of a ``with`` block."""

    def __init__(self, globals_list):
        self.globals_list = list(globals_list)
        self._saved: dict = {}

    def __enter__(self):
        self._saved = dict(_user_globals)
        add_safe_globals(self.globals_list)

    def __exit__(self, *exc):
        _user_globals.clear()
        _user_globals.update(self._saved)


def _fix_name(module: str, name: str, proto: int) -> tuple[str, str]:
    if proto < 3:
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
    return module, name


_P = pickle._Unpickler


class SafeUnpickler(_P):
    """The weights-only unpickler (pure Python, so that every opcode is checked).

    ``persistent_load`` is the reader's storage loader: ``fn(pid) -> LoadedStorage``.
    """

    def __init__(self, file, persistent_load, encoding: str = "utf-8"):
        super().__init__(file, encoding=encoding)
        self._load_storage = persistent_load

    def find_class(self, module, name):
        module, name = _fix_name(module, name, self.proto)
        full = f"{module}.{name}"
        obj = _ALLOWED.get(full)
        if obj is None and module.split(".")[0] not in _BLOCKED_MODULES and not (
                module == "builtins" and name in _BLOCKED_BUILTINS):
            obj = _user_globals.get(full)
            if obj is None and module.split(".")[0] == "torch":
                obj = self._allowed_ember_for_torch(module, name)
        if obj is None:
            raise UnpicklingError(
                f"Weights only load failed: unsupported global {full} (GLOBAL {full} is not "
                "on ember.load's allow-list, so it was not loaded and nothing it names was "
                f"run). If you trust {full}, allow it with ember.serialization."
                f"add_safe_globals([{full}]) or the ember.serialization.safe_globals"
                f"([{full}]) context manager. {UNSAFE_HINT}")
        return obj

    @staticmethod
    def _allowed_ember_for_torch(module: str, name: str):
        """The ember counterpart of a torch global in a file saved by PyTorch, if the user
        allow-listed that counterpart (``safe_globals([torch.nn.Linear])`` under ember
        names ``ember.nn.modules.linear.Linear``); else None."""
        if not _user_globals:
            return None
        try:
            obj = _ember_for_torch(module, name)
        except pickle.UnpicklingError:
            return None
        return obj if any(obj is v for v in _user_globals.values()) else None

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or _ascii(pid[0]) != "storage":
            raise UnpicklingError(f"persistent id {pid!r} is not a storage reference")
        return self._load_storage(pid)

    # -- the opcodes that call or build objects, restricted -----------------------------
    def _allowed(self, obj) -> bool:
        return id(obj) in _ALLOWED_IDS or any(obj is v for v in _user_globals.values())

    def load_reduce(self):
        stack = self.stack
        args = stack.pop()
        func = stack[-1]
        if not self._allowed(func) or not isinstance(args, tuple):
            raise UnpicklingError(f"Weights only load failed: calling {func!r} is not "
                                  f"allowed. {UNSAFE_HINT}")
        stack[-1] = func(*args)

    def load_newobj(self):
        args = self.stack.pop()
        cls = self.stack.pop()
        self._new(cls, args, {})

    def load_newobj_ex(self):
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        self._new(cls, args, kwargs)

    def _new(self, cls, args, kwargs):
        if not isinstance(cls, type) or not self._allowed(cls):
            raise UnpicklingError(f"Weights only load failed: creating {cls!r} is not "
                                  f"allowed. {UNSAFE_HINT}")
        if issubclass(cls, Tensor):
            raise UnpicklingError("Weights only load failed: tensors are rebuilt only by the "
                                  "tensor rebuild functions")
        else:
            self.append(cls.__new__(cls, *args, **kwargs))

    def load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if not isinstance(inst, _CONTAINERS + (Tensor,)) and not (
                not isinstance(inst, type) and self._allowed(type(inst))):
            raise UnpicklingError(f"Weights only load failed: setting the state of a "
                                  f"{type(inst).__name__} is not allowed. {UNSAFE_HINT}")
        if isinstance(inst, Tensor) and not isinstance(state, (dict, tuple)):
            raise UnpicklingError("Weights only load failed: legacy Tensor.set_ state is "
                                  "not supported")
        setstate = None
        if not isinstance(inst, _CONTAINERS + (Tensor,)):  # an allow-listed class
            setstate = getattr(inst, "__setstate__", None)
        if setstate is not None:
            setstate(state)  # as pickle and torch.load do (numpy.dtype needs it)
        else:
            st.set_obj_state(inst, state)

    def load_append(self):
        self._check_target(list, "append to", depth=2)
        super().load_append()

    def load_appends(self):
        items = self.pop_mark()
        self._check_target(list, "extend")
        self.stack[-1].extend(items)

    def load_setitem(self):
        self._check_target(_CONTAINERS, "set items of", depth=3)
        super().load_setitem()

    def load_setitems(self):
        items = self.pop_mark()
        self._check_target(_CONTAINERS, "set items of")
        target = self.stack[-1]
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]

    def load_additems(self):
        items = self.pop_mark()
        self._check_target(set, "add items to")
        self.stack[-1].update(items)

    def _check_target(self, types, what: str, depth: int = 1) -> None:
        target = self.stack[-depth] if len(self.stack) >= depth else None
        if type(target) not in (types if isinstance(types, tuple) else (types,)):
            raise UnpicklingError(f"Weights only load failed: cannot {what} a "
                                  f"{type(target).__name__}. {UNSAFE_HINT}")

    def load_inst(self):
        raise UnpicklingError("Weights only load failed: the INST opcode is not allowed")

    load_obj = load_inst

    def load_frozenset(self):
        if not any(v is frozenset for v in _user_globals.values()):
            raise UnpicklingError("Weights only load failed: frozenset is not allowed (as in "
                                  "torch.load) unless add_safe_globals([frozenset]) allows "
                                  f"it. {UNSAFE_HINT}")
        super().load_frozenset()

    def load_ext(self):
        raise UnpicklingError("Weights only load failed: extension codes are not allowed")

    dispatch = dict(_P.dispatch)
    dispatch[pickle.REDUCE[0]] = load_reduce
    dispatch[pickle.NEWOBJ[0]] = load_newobj
    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex
    dispatch[pickle.BUILD[0]] = load_build
    dispatch[pickle.APPEND[0]] = load_append
    dispatch[pickle.APPENDS[0]] = load_appends
    dispatch[pickle.SETITEM[0]] = load_setitem
    dispatch[pickle.SETITEMS[0]] = load_setitems
    dispatch[pickle.ADDITEMS[0]] = load_additems
    dispatch[pickle.INST[0]] = load_inst
    dispatch[pickle.OBJ[0]] = load_inst
    dispatch[pickle.FROZENSET[0]] = load_frozenset
    for _op in (pickle.EXT1, pickle.EXT2, pickle.EXT4):
        dispatch[_op[0]] = load_ext
    del _op


def _ascii(x):
    return x.decode("ascii") if isinstance(x, bytes) else x


def _torch_parameter(data=None, requires_grad=True):
    P = st.parameter_class()
    if P is None:
        raise UnpicklingError("torch.nn.Parameter needs ember.nn, which is unavailable")
    return P(data, requires_grad)


# torch names whose ember counterpart is not found by replacing the "torch" prefix
_TORCH_TO_EMBER = {
    ("torch.nn.parameter", "Parameter"): lambda: st.parameter_class() or _torch_parameter,
    ("torch", "device"): lambda: _device.device,
}


class TrustedUnpickler(pickle.Unpickler):
    """The ``weights_only=False`` unpickler: any global, with torch names mapped to ember
    (``torch.nn.Parameter`` -> ``ember.nn.Parameter``, ``torch.Size`` -> ``ember.Size``,
    torch dtypes -> ember dtypes, ``torch.X.Y`` -> ``ember.X.Y`` where that exists)."""

    def __init__(self, file, persistent_load, encoding: str = "utf-8"):
        super().__init__(file, encoding=encoding)
        self._load_storage = persistent_load

    def find_class(self, module, name):
        if module == "torch" or module.startswith("torch."):
            return _ember_for_torch(module, name)
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or _ascii(pid[0]) != "storage":
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        return self._load_storage(pid)


def _ember_for_torch(module: str, name: str):
    special = _TORCH_TO_EMBER.get((module, name))
    if special is not None:
        return special()
    full = f"{module}.{name}"
    if full in _ALLOWED:
        return _ALLOWED[full]
    parts = ("ember" + module[len("torch"):]).split(".")
    while parts:
        try:
            mod = importlib.import_module(".".join(parts))
        except ImportError:
            mod = None
        if mod is not None and hasattr(mod, name):
            return getattr(mod, name)
        parts.pop()
    raise pickle.UnpicklingError(f"{full} has no ember counterpart, so this checkpoint "
                                 "cannot be loaded without PyTorch")


def safe_loads(data: bytes):
    """Unpickles plain data (no storages) through the allow-list."""

    def no_storage(pid):
        raise UnpicklingError("unexpected storage reference")

    return SafeUnpickler(io.BytesIO(data), no_storage).load()
