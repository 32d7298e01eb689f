"""``torch._foreach_*``: one op applied to every tensor of a list (what multi-tensor
optimizers, EMA updates and gradient clipping call). Each function walks the list once —
a loop over parameters, never over their elements — with the same operand rules as
PyTorch: the second operand may be a scalar, a list of scalars, a list of tensors or (for
add/sub/mul/div) one tensor; out-of-place forms return a tuple, in-place forms (trailing
underscore) update the tensors and return the list.
"""

from __future__ import annotations

from numbers import Number

from . import _dtype
from ._tensor import Tensor

__all__: list[str] = []  # the _foreach_* names are set on ember by _install()

_UNARY = ["abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp",
          "expm1", "floor", "frac", "lgamma", "log", "log10", "log1p", "log2", "neg",
          "reciprocal", "round", "rsqrt", "sigmoid", "sign", "sin", "sinh", "sqrt", "tan",
          "tanh", "trunc"]
_BINARY = {"add": "add", "sub": "sub", "mul": "mul", "div": "div", "maximum": "maximum",
           "minimum": "minimum", "pow": "pow", "clamp_min": "clamp_min",
           "clamp_max": "clamp_max"}
_WITH_ALPHA = ("add", "sub")


def _check_list(name: str, tensors) -> list:
    if isinstance(tensors, Tensor) or not hasattr(tensors, "__len__"):
        raise TypeError(f"_foreach_{name}(): argument 'self' must be a list of tensors, not "
                        f"{type(tensors).__name__}")
    if len(tensors) == 0:
        raise RuntimeError(f"_foreach_{name}(): Tensor list must have at least one tensor.")
    return list(tensors)


def _others(name: str, tensors: list, other) -> list:
    """The second operand spread to one item per tensor."""
    if isinstance(other, (Number, Tensor)) and not (isinstance(other, Tensor) and
                                                    name in ("pow",) and other.ndim):
        return [other] * len(tensors)
    other = list(other)
    if len(other) != len(tensors):
        kind = "scalar" if other and isinstance(other[0], Number) else "tensor"
        raise RuntimeError(f"Tensor list must have same number of elements as {kind} list.")
    return other


def _unary(op: str):
    def out_of_place(self):
        return tuple(getattr(t, op)() for t in _check_list(op, self))

    def in_place(self):
        for t in _check_list(op + "_", self):
            getattr(t, op + "_")()
        return self

    return out_of_place, in_place


def _binary(name: str, method: str):
    def call(t, o, alpha, suffix):
        fn = getattr(t, method + suffix)
        if alpha is not None and name in _WITH_ALPHA:
            return fn(o, alpha=alpha)
        return fn(o)

    def out_of_place(self, other=None, *, alpha=None, scalar=None, scalars=None,
                     other_tensor=None):
        tensors = _check_list(name, self)
        other = _pick(other, scalar, scalars, other_tensor)
        return tuple(call(t, o, alpha, "") for t, o in zip(tensors,
                                                            _others(name, tensors, other)))

    def in_place(self, other=None, *, alpha=None, scalar=None, scalars=None,
                 other_tensor=None):
        tensors = _check_list(name + "_", self)
        other = _pick(other, scalar, scalars, other_tensor)
        for t, o in zip(tensors, _others(name, tensors, other)):
            call(t, o, alpha, "_")
        return self

    return out_of_place, in_place


def _pick(other, *named):
    """The second operand, given positionally or under one of PyTorch's keyword names."""
    for v in named:
        if v is not None:
            return v
    if other is None:
        raise TypeError("missing the second operand")
    return other


def _pointwise(name: str):  # addcmul / addcdiv
    def out_of_place(self, tensor1, tensor2, value=1, *, scalars=None):
        tensors = _check_list(name, self)
        values = _others(name, tensors, value if scalars is None else scalars)
        return tuple(getattr(t, name)(a, b, value=_number(v))
                     for t, a, b, v in zip(tensors, tensor1, tensor2, _scalar_items(values)))

    def in_place(self, tensor1, tensor2, value=1, *, scalars=None):
        tensors = _check_list(name + "_", self)
        values = _others(name, tensors, value if scalars is None else scalars)
        for t, a, b, v in zip(tensors, tensor1, tensor2, _scalar_items(values)):
            getattr(t, name + "_")(a, b, value=_number(v))
        return self

    return out_of_place, in_place


def _scalar_items(values: list) -> list:
    """A 1-D tensor of scalars (PyTorch accepts one for addcmul/addcdiv) as its items."""
    if len(values) and isinstance(values[0], Tensor) and values[0].ndim == 1:
        return values[0].tolist()
    return values


def _number(v):
    return v.item() if isinstance(v, Tensor) else v


def _foreach_lerp(self, tensors1, weight):
    tensors = _check_list("lerp", self)
    weights = _others("lerp", tensors, weight)
    return tuple(t.lerp(e, w) for t, e, w in zip(tensors, tensors1, weights))


def _foreach_lerp_(self, tensors1, weight):
    tensors = _check_list("lerp_", self)
    for t, e, w in zip(tensors, tensors1, _others("lerp", tensors, weight)):
        t.lerp_(e, w)
    return self


def _foreach_norm(self, ord=2, dtype=None):  # noqa: A002 - PyTorch's name
    """The vector ``ord``-norm of each tensor (0-dim tensors)."""
    from .linalg import vector_norm

    d = None if dtype is None else _dtype.to_dtype(dtype)
    return tuple(vector_norm(t, ord, dtype=d) for t in _check_list("norm", self))


def _foreach_powsum(self, ord=2, dtype=None):  # noqa: A002 - PyTorch's name
    """``sum(|x| ** ord)`` of each tensor (the norm before its root)."""
    d = None if dtype is None else _dtype.to_dtype(dtype)
    out = []
    for t in _check_list("powsum", self):
        a = t.abs() if d is None else t.abs().to(d)
        out.append(a.pow(ord).sum())
    return tuple(out)


def _foreach_mm(self, mat2):
    tensors = _check_list("mm", self)
    return tuple(a.mm(b) for a, b in zip(tensors, _others("mm", tensors, mat2)))


def _foreach_max(self):
    return tuple(t.max() for t in _check_list("max", self))


def _foreach_zero_(self):
    for t in _check_list("zero_", self):
        t.zero_()
    return self


def _foreach_copy_(self, src, non_blocking: bool = False):
    tensors = _check_list("copy_", self)
    for t, s in zip(tensors, _others("copy_", tensors, src)):
        t.copy_(s)
    return self


def _foreach_clone(self):
    return tuple(t.clone() for t in _check_list("clone", self))


def _foreach_pow_scalar_base(base, exponent):
    return tuple(Tensor.__rpow__(t, base) for t in exponent)


def _install(namespace: dict) -> None:
    """Defines the ``_foreach_*`` functions in ``namespace`` (ember's)."""
    made = {"_foreach_lerp": _foreach_lerp, "_foreach_lerp_": _foreach_lerp_,
            "_foreach_norm": _foreach_norm, "_foreach_max": _foreach_max,
            "_foreach_zero_": _foreach_zero_, "_foreach_copy_": _foreach_copy_,
            "_foreach_clone": _foreach_clone, "_foreach_powsum": _foreach_powsum,
            "_foreach_mm": _foreach_mm}
    for op in _UNARY:
        made[f"_foreach_{op}"], made[f"_foreach_{op}_"] = _unary(op)
    for name, method in _BINARY.items():
        made[f"_foreach_{name}"], made[f"_foreach_{name}_"] = _binary(name, method)
    for name in ("addcmul", "addcdiv"):
        made[f"_foreach_{name}"], made[f"_foreach_{name}_"] = _pointwise(name)
    binary_pow = made["_foreach_pow"]

    def _foreach_pow(self, exponent=None, **kw):
        if isinstance(self, Number):  # _foreach_pow(2.0, tensors)
            return _foreach_pow_scalar_base(self, _check_list("pow", exponent))
        return binary_pow(self, exponent, **kw)

    made["_foreach_pow"] = _foreach_pow
    for key, fn in made.items():
        fn.__name__ = fn.__qualname__ = key
        fn.__doc__ = fn.__doc__ or f"``torch.{key}``: applied to each tensor of a list."
        namespace[key] = fn
    __all__.extend(sorted(made))
