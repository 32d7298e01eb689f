"""Temporary substitutions that let a trace see the calls a program makes.

While ``Tracer.trace`` runs, a ``Patcher`` replaces

- ``ember.nn.Module.__call__`` and ``__getattr__``, so that module calls reach
  ``Tracer.call_module`` and parameter reads become ``get_attr`` nodes;
- the binary operators and ``__getitem__`` of ``ember.Tensor``, so that ``tensor + proxy``
  is recorded as ``tensor.add(proxy)`` (as PyTorch records it);
- the *code* of the Python functions of ember's op namespaces (``ember.relu``,
  ``ember.nn.functional.relu``, ...) with a trampoline: a call that has a Proxy among its
  arguments is recorded as a ``call_function`` node, any other call runs a clone of the
  original. The function objects stay the same, so ``F.relu is F.relu`` still holds and
  references stored before the trace (``self.act = F.gelu``, ``from ember import cat``) are
  recorded too;
- the functions of the autowrap modules (``math``), the autowrap functions and the names
  given to ``ember.fx.wrap`` with *recorders* in the module namespaces and globals that hold
  them (as PyTorch does).

Everything is put back when the trace ends, so ember's op path carries no tracing check at
all outside a trace. The substitutions are process-wide while a trace runs (as PyTorch's
are): trace from one thread at a time.
"""

from __future__ import annotations

import functools
import importlib
import types
from collections.abc import Callable

from ._call_forms import normalize_call
from .proxy import Proxy

__all__ = ["Patcher", "find_proxy", "make_recorder"]

_MISSING = object()

# Tensor operator -> the method name PyTorch's FX records for ``tensor <op> proxy``
TENSOR_OPERATORS = {
    "__add__": "add", "__sub__": "sub", "__mul__": "mul", "__truediv__": "div",
    "__floordiv__": "floor_divide", "__mod__": "remainder", "__pow__": "pow",
    "__matmul__": "matmul", "__and__": "bitwise_and", "__or__": "bitwise_or",
    "__xor__": "bitwise_xor", "__lshift__": "__lshift__", "__rshift__": "__rshift__",
    "__eq__": "eq", "__ne__": "ne", "__lt__": "lt", "__le__": "le", "__gt__": "gt",
    "__ge__": "ge", "__getitem__": "__getitem__"}


def find_proxy(args, kwargs) -> Proxy | None:
    """The first Proxy among ``args``/``kwargs`` (looking into tuples, lists and dicts)."""
    stack = [args, kwargs]
    while stack:
        item = stack.pop()
        if isinstance(item, Proxy):
            return item
        if isinstance(item, (tuple, list)):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
    return None


def make_recorder(fn: Callable, is_wrapped: bool = False) -> Callable:
    """``fn``, except that a call with a Proxy argument is recorded as a ``call_function``
    node of ``fn`` (marked ``meta['is_wrapped']`` for ``ember.fx.wrap`` functions)."""
    @functools.wraps(fn)
    def recorder(*args, **kwargs):
        proxy = find_proxy(args, kwargs)
        if proxy is None:
            return fn(*args, **kwargs)
        out = proxy.tracer.create_proxy("call_function", fn, args, kwargs)
        if is_wrapped:
            out.node.meta["is_wrapped"] = True
        return out

    recorder.__ember_fx_original__ = fn
    return recorder


def _tensor_operator(original: Callable, method: str) -> Callable:
    def operator_with_proxy(self, other):
        if isinstance(other, Proxy):
            return other.tracer.create_proxy("call_method", method, (self, other), {})
        return original(self, other)

    operator_with_proxy.__name__ = original.__name__
    operator_with_proxy.__doc__ = original.__doc__
    return operator_with_proxy


class Patcher:
    """Records every substitution it makes and undoes them all on ``__exit__``."""

    def __init__(self, wrapped_ids: frozenset = frozenset()) -> None:
        self._undo: list[tuple[object, str, object, bool]] = []
        self._done: set[tuple[int, str]] = set()
        self._recorders: dict[int, Callable] = {}  # id(fn) -> its recorder
        self._wrapped_ids = wrapped_ids  # functions whose calls are marked is_wrapped

    def __enter__(self) -> Patcher:
        return self

    def __exit__(self, *exc) -> None:
        self.restore()

    def restore(self) -> None:
        """Puts back every original value, newest first."""
        while self._undo:
            where, name, old, is_dict = self._undo.pop()
            if is_dict:
                if old is _MISSING:
                    where.pop(name, None)
                else:
                    where[name] = old
            elif old is _MISSING:
                delattr(where, name)
            else:
                setattr(where, name, old)
        self._done.clear()

    def set_attr(self, obj, name: str, value) -> None:
        """``setattr(obj, name, value)`` until restore (once per ``obj``/``name``)."""
        key = (id(obj), name)
        if key in self._done:
            return
        self._done.add(key)
        old = obj.__dict__.get(name, _MISSING) if isinstance(obj, type) else \
            getattr(obj, name, _MISSING)
        self._undo.append((obj, name, old, False))
        setattr(obj, name, value)

    def set_global(self, globals_dict: dict, name: str, value) -> None:
        """``globals_dict[name] = value`` until restore (once per dict/name)."""
        key = (id(globals_dict), name)
        if key in self._done:
            return
        self._done.add(key)
        self._undo.append((globals_dict, name, globals_dict.get(name, _MISSING), True))
        globals_dict[name] = value

    def set_code(self, fn: types.FunctionType, code: types.CodeType) -> None:
        """``fn.__code__ = code`` until restore (once per function)."""
        key = (id(fn), "__code__")
        if key in self._done:
            return
        self._done.add(key)
        self._undo.append((fn, "__code__", fn.__code__, False))
        fn.__code__ = code

    # -- the substitutions ---------------------------------------------------------------
    def swap_function_code(self, functions) -> None:
        """Gives each Python function of ``functions`` the recording trampoline as code
        (see the module docstring); other callables are left alone."""
        for fn in functions:
            if type(fn) is types.FunctionType and id(fn.__code__) not in _TRAMPOLINE_CODES:
                self.set_code(fn, _trampoline_for(fn))  # (already swapped by an outer trace)

    def patch_tensor_operators(self) -> None:
        """``tensor <op> proxy`` records ``tensor.<method>(proxy)``."""
        from .._tensor import Tensor

        for dunder, method in TENSOR_OPERATORS.items():
            original = getattr(Tensor, dunder, None)
            if original is not None:
                self.set_attr(Tensor, dunder, _tensor_operator(original, method))

    def patch_namespaces(self, functions: dict, modules) -> None:
        """Replaces, in each module of ``modules``, every attribute that holds one of
        ``functions`` (``id -> fn``) with a recorder."""
        for mod in modules:
            if isinstance(mod, str):
                mod = importlib.import_module(mod)
            for attr, value in list(vars(mod).items()):
                fid = id(value)
                if fid in functions and functions[fid] is value:
                    self.set_attr(mod, attr, self._recorder(fid, value))

    def _recorder(self, fid: int, fn):
        """The one recorder standing in for function ``fn`` (id ``fid``) in this trace."""
        rec = self._recorders.get(fid)
        if rec is None:
            rec = self._recorders[fid] = make_recorder(fn, fid in self._wrapped_ids)
        return rec

    def patch_globals(self, globals_dict: dict, functions: dict) -> None:
        """Replaces the globals of one module (``from math import sqrt``; ``from ember import
        cat``) that hold one of ``functions`` with recorders."""
        for name, value in list(globals_dict.items()):
            fid = id(value)
            if fid in functions and functions[fid] is value:
                self.set_global(globals_dict, name, self._recorder(fid, value))

    def patch_wrapped_name(self, globals_dict: dict, name: str) -> None:
        """Makes the function called ``name`` in module globals ``globals_dict`` (or the
        builtin of that name, as for ``wrap("len")``) a recorder."""
        import builtins

        fn = globals_dict.get(name, _MISSING)
        if fn is _MISSING:
            fn = getattr(builtins, name, _MISSING)
        if fn is _MISSING or not callable(fn):
            return
        fn = getattr(fn, "__ember_fx_original__", fn)
        self.set_global(globals_dict, name, make_recorder(fn, is_wrapped=True))


# -- trampolines: code objects that route a function's calls through a _Dispatch ------------
_SENTINEL = "__ember_fx_dispatch__"
_TEMPLATES: dict[int, types.CodeType] = {}
_TRAMPOLINES: dict[int, tuple[types.FunctionType, types.CodeType, types.CodeType]] = {}
_TRAMPOLINE_CODES: set[int] = set()  # ids of the trampolines' code objects (kept alive above)


class _Dispatch:
    """Called by a trampoline with the call's arguments: records the call when a Proxy is
    among them, else runs ``run``, a clone of the function with its original code."""

    __slots__ = ("fn", "run")

    def __init__(self, fn: types.FunctionType, run: types.FunctionType) -> None:
        self.fn = fn
        self.run = run

    def __call__(self, args: tuple, kwargs: dict):
        proxy = find_proxy(args, kwargs)
        if proxy is None:
            return self.run(*args, **kwargs)
        args, kwargs = normalize_call(self.fn, args, kwargs, self.run)
        return proxy.tracer.create_proxy("call_function", self.fn, args, kwargs)


def _template(n_free: int) -> types.CodeType:
    """A ``(*args, **kwargs)`` body that passes them to the constant ``_SENTINEL`` (replaced
    by a ``_Dispatch``), with ``n_free`` free variables so it fits a closure of that size."""
    code = _TEMPLATES.get(n_free)
    if code is None:
        names = [f"_v{i}" for i in range(n_free)]
        refs = f"        if False:\n            {', '.join(names)}\n" if names else ""
        src = (f"def _outer({', '.join(names)}):\n"
               "    def trampoline(*args, **kwargs):\n"
               f"{refs}"
               f"        dispatch = {_SENTINEL!r}\n"
               "        return dispatch(args, kwargs)\n"
               "    return trampoline\n")
        scope: dict = {}
        exec(compile(src, "<ember.fx trampoline>", "exec"), scope)  # noqa: S102 - fixed text
        code = next(c for c in scope["_outer"].__code__.co_consts
                    if isinstance(c, types.CodeType))
        _TEMPLATES[n_free] = code
    return code


def _trampoline_for(fn: types.FunctionType) -> types.CodeType:
    cached = _TRAMPOLINES.get(id(fn))
    if cached is not None and cached[0] is fn and cached[1] is fn.__code__:
        return cached[2]
    original = fn.__code__
    run = types.FunctionType(original, fn.__globals__, fn.__name__, fn.__defaults__,
                             fn.__closure__)
    run.__kwdefaults__ = fn.__kwdefaults__
    run.__qualname__ = fn.__qualname__
    dispatch = _Dispatch(fn, run)
    template = _template(len(original.co_freevars))
    consts = tuple(dispatch if c == _SENTINEL else c for c in template.co_consts)
    code = template.replace(co_consts=consts, co_name=original.co_name,
                            co_qualname=getattr(original, "co_qualname", original.co_name))
    _TRAMPOLINES[id(fn)] = (fn, original, code)
    _TRAMPOLINE_CODES.add(id(code))
    return code
