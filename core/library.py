"""``ember.library``: user-defined ops, as ``torch.library.custom_op``.

``@custom_op("mylib::name", mutates_args=())`` turns a function of tensors into an op that
runs the function (or the kernel registered for the inputs' device type). With
``register_autograd(backward, setup_context=...)`` the op becomes differentiable through an
``ember.autograd.Function``; ``register_fake`` is recorded (ember has no fake tensors, the
real kernel always runs). Registered ops are reachable as ``ember.ops.mylib.name`` like
``torch.ops.mylib.name``. Schema strings (``Library.define``) are not parsed: ``Library``
raises.
"""

from __future__ import annotations

import functools

__all__ = ["custom_op", "register_fake", "register_autograd", "register_kernel", "impl",
           "CustomOpDef", "Library", "define", "get_ctx", "infer_schema", "impl_abstract"]

_REGISTRY: dict = {}  # "namespace::name" -> CustomOpDef


class CustomOpDef:
    """A custom op: call it like its function."""

    def __init__(self, qualname: str, fn, mutates_args, device_types):
        if "::" not in qualname:
            raise ValueError(f"custom_op: expected a name of the form 'namespace::op_name', "
                             f"got {qualname!r}")
        if mutates_args is None:
            raise ValueError("custom_op: mutates_args is required (use () if the op mutates "
                             "no argument)")
        self._qualname = qualname
        self._namespace, self._name = qualname.split("::", 1)
        self._fn = fn
        self._mutates = mutates_args
        self._kernels: dict = {}
        if device_types is not None:
            kinds = [device_types] if isinstance(device_types, str) else list(device_types)
            for k in kinds:
                self._kernels[k] = fn
        self._fake = None
        self._backward = None
        self._setup_context = None
        functools.update_wrapper(self, fn)
        _REGISTRY[qualname] = self

    # registration -------------------------------------------------------------------------
    def register_fake(self, fn):
        """Records the shape function (ember runs the real kernel instead)."""
        self._fake = fn
        return fn

    def register_kernel(self, device_types, fn=None):
        """Registers ``fn`` as the kernel for ``device_types`` (``"cpu"``, ``"cuda"``)."""
        def register(f):
            for k in [device_types] if isinstance(device_types, str) else device_types:
                self._kernels[k] = f
            return f

        return register if fn is None else register(fn)

    def register_autograd(self, backward, /, *, setup_context=None):
        """Makes the op differentiable: ``setup_context(ctx, inputs, output)`` saves what
        ``backward(ctx, *grads)`` needs; ``backward`` returns one gradient per input."""
        self._backward = backward
        self._setup_context = setup_context

    # calling ------------------------------------------------------------------------------
    def _kernel(self, args):
        for a in args:
            if hasattr(a, "_data"):
                return self._kernels.get(a.device.type, self._fn)
        return self._fn

    def __call__(self, *args, **kwargs):
        kernel = self._kernel(args)
        if self._backward is None:
            return kernel(*args, **kwargs)
        return _autograd_call(self, kernel, args, kwargs)

    def __repr__(self) -> str:
        return f"<CustomOpDef({self._qualname})>"


def _autograd_call(op: CustomOpDef, kernel, args, kwargs):
    from .autograd import Function
    from .autograd.grad_mode import no_grad

    class _Op(Function):
        @staticmethod
        def forward(ctx, *inputs):
            with no_grad():
                out = kernel(*inputs, **kwargs)
            if op._setup_context is not None:
                op._setup_context(ctx, inputs, out)
            return out

        @staticmethod
        def backward(ctx, *grads):
            g = op._backward(ctx, *grads)
            g = g if isinstance(g, tuple) else (g,)
            if len(g) != len(args):
                raise RuntimeError(f"{op._qualname}: backward returned {len(g)} gradients for "
                                   f"{len(args)} inputs")
            return g

    return _Op.apply(*args)


def custom_op(name: str, fn=None, /, *, mutates_args, device_types=None, schema=None,
              tags=None):
    """Declares a custom op from ``fn`` (usable as a decorator)."""
    def wrap(f):
        return CustomOpDef(name, f, mutates_args, device_types)

    return wrap if fn is None else wrap(fn)


def _lookup(op):
    if isinstance(op, CustomOpDef):
        return op
    if op not in _REGISTRY:
        raise ValueError(f"ember.library: no custom op named {op!r}")
    return _REGISTRY[op]


def register_fake(op, func=None, /, *, lib=None, _stacklevel: int = 1):
    """``op.register_fake`` by op or qualified name."""
    target = _lookup(op)
    return target.register_fake if func is None else target.register_fake(func)


impl_abstract = register_fake


def register_autograd(op, backward, /, *, setup_context=None, lib=None) -> None:
    """``op.register_autograd`` by op or qualified name."""
    _lookup(op).register_autograd(backward, setup_context=setup_context)


def register_kernel(op, device_types, func=None, /, *, lib=None):
    """``op.register_kernel`` by op or qualified name."""
    return _lookup(op).register_kernel(device_types, func)


def impl(qualname, types, func=None, *, lib=None):
    """Registers a kernel for an op declared with ``custom_op`` (by qualified name)."""
    return register_kernel(qualname, types, func)


def get_ctx():
    """Not available: ember has no fake-tensor context."""
    raise RuntimeError("ember.library.get_ctx: ember runs no fake-tensor propagation")


def infer_schema(prototype_function, /, *, mutates_args, op_name=None) -> str:
    """A readable signature of ``prototype_function`` (ember does not parse schemas)."""
    import inspect

    return f"{op_name or prototype_function.__name__}{inspect.signature(prototype_function)}"


class Library:
    """Not supported: ember does not parse TorchScript schema strings; declare ops with
    ``custom_op`` instead."""

    def __init__(self, ns: str, kind: str, dispatch_key: str = ""):
        raise NotImplementedError("ember.library.Library: schema-string registration is not "
                                  "supported; use @ember.library.custom_op")


def define(qualname, schema, *, lib=None, tags=()):
    """Not supported (see ``Library``)."""
    raise NotImplementedError("ember.library.define: schema-string registration is not "
                              "supported; use @ember.library.custom_op")


class _Namespace:
    """``ember.ops.<namespace>``: the custom ops registered under one namespace."""

    def __init__(self, ns: str):
        self._ns = ns

    def __getattr__(self, name: str):
        op = _REGISTRY.get(f"{self._ns}::{name}")
        if op is None:
            raise AttributeError(f"'_OpNamespace' '{self._ns}' object has no attribute "
                                 f"'{name}'")
        return op


def namespace(ns: str):
    """The namespace object of ``ember.ops.<ns>`` if a custom op was registered under it."""
    if any(q.split("::", 1)[0] == ns for q in _REGISTRY):
        return _Namespace(ns)
    return None
