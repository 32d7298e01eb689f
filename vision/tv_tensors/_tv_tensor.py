"""The ``TVTensor`` base class: an ``ember.Tensor`` subclass that tags a tensor with what
it holds (image, video, mask, boxes, key points), as ``torchvision.tv_tensors.TVTensor``.

Ordinary tensor ops on a TVTensor give plain ``Tensor`` results (the tag says nothing
about the result of, say, ``boxes + 1``), except ``clone``, ``to``, ``detach``,
``requires_grad_`` and ``pin_memory``, which keep the type and its metadata. Inside
``set_return_type("TVTensor")`` every tensor method (and operator) called on a TVTensor
returns a TVTensor of the same type, with the metadata of the tensor it was called on.

ember has no ``__torch_function__`` protocol: the rule applies to methods and operators of
a TVTensor, while module-level functions (``ember.add(img, 1)``) always return plain
tensors.
"""

from __future__ import annotations

import inspect
from typing import Any

import ember
from ember import Tensor

__all__ = ["TVTensor", "set_return_type"]

_RETURN_TYPE = {"value": "Tensor"}

# methods whose result keeps the TVTensor type and metadata whatever the return type
_KEEP_TYPE = frozenset({"clone", "to", "detach", "requires_grad_", "pin_memory"})

# dunders that compute a tensor from the tensor (operators, indexing)
_OPERATOR_DUNDERS = frozenset({
    "__add__", "__radd__", "__iadd__", "__sub__", "__rsub__", "__isub__", "__mul__",
    "__rmul__", "__imul__", "__truediv__", "__rtruediv__", "__itruediv__", "__floordiv__",
    "__rfloordiv__", "__ifloordiv__", "__mod__", "__rmod__", "__imod__", "__pow__",
    "__rpow__", "__ipow__", "__matmul__", "__rmatmul__", "__and__", "__rand__", "__iand__",
    "__or__", "__ror__", "__ior__", "__xor__", "__rxor__", "__ixor__", "__lshift__",
    "__rlshift__", "__ilshift__", "__rshift__", "__rrshift__", "__irshift__", "__neg__",
    "__pos__", "__abs__", "__invert__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__",
    "__ge__", "__getitem__",
})

# methods that never return tensors or that must keep Tensor's own behaviour
_NOT_WRAPPED = frozenset({"numpy", "tolist", "item", "size", "dim", "ndimension", "nelement",
                          "numel", "element_size", "is_floating_point", "is_complex",
                          "data_ptr", "stride", "storage_offset", "is_contiguous",
                          "get_device", "register_hook", "backward", "retain_grad",
                          "untyped_storage", "storage", "type", "__iter__"})


class _RestoreReturnType:
    """What ``set_return_type`` returns: it has set the return type already, and used as a
    context manager it restores the previous one on exit."""

    def __init__(self, previous: str) -> None:
        self._previous = previous

    def __enter__(self) -> _RestoreReturnType:
        return self

    def __exit__(self, *args) -> None:
        _RETURN_TYPE["value"] = self._previous


def set_return_type(return_type: str):
    """Choose what tensor methods and operators return when called on a TVTensor.

    "Tensor" (the default) gives plain ``ember.Tensor`` results; "TVTensor" gives results
    of the TVTensor's own type and metadata. The v2 transforms and functionals are not
    affected: they always return the type they were given. The call changes the setting
    at once; used in a ``with`` statement, it restores the previous setting on exit::

        with set_return_type("TVTensor"):
            shifted = boxes + 4  # still BoundingBoxes

    Args:
        return_type (str): "Tensor" or "TVTensor" (any case).
    """
    key = return_type.lower() if isinstance(return_type, str) else return_type
    names = {"tvtensor": "TVTensor", "tensor": "Tensor"}
    if key not in names:
        raise ValueError(f"return_type must be 'TVTensor' or 'Tensor', got {return_type}")
    previous = _RETURN_TYPE["value"]
    _RETURN_TYPE["value"] = names[key]
    return _RestoreReturnType(previous)


def _must_return_tv_tensor() -> bool:
    return _RETURN_TYPE["value"] == "TVTensor"


def _plain_view(t: Tensor) -> Tensor:
    """A plain ``Tensor`` sharing ``t``'s data, version counter and graph position."""
    out = Tensor._make(t._data, t.requires_grad, t.grad_fn, t._out_nr)
    out._vc = t._vc
    return out


def _retype(result, like: TVTensor, keep: bool):
    if isinstance(result, Tensor):
        if keep:
            return result if type(result) is type(like) else type(like)._wrap(
                result, **like._metadata())
        return _plain_view(result) if type(result) is not Tensor else result
    if isinstance(result, (tuple, list)) and any(isinstance(r, Tensor) for r in result):
        items = [_retype(r, like, keep) for r in result]
        if hasattr(result, "_fields"):  # named tuples (values, indices)
            return type(result)(*items)
        return type(result)(items)
    return result


def _method_wrapper(name: str, method):
    keep_always = name in _KEEP_TYPE

    def wrapped(self, *args, **kwargs):
        result = method(self, *args, **kwargs)
        if result is NotImplemented:
            return result
        return _retype(result, self, keep_always or _must_return_tv_tensor())

    wrapped.__name__ = name
    wrapped.__qualname__ = f"TVTensor.{name}"
    wrapped.__doc__ = method.__doc__
    return wrapped


def _tensor_methods():
    for name in dir(Tensor):
        if name in _NOT_WRAPPED:
            continue
        if name.startswith("_") and name not in _OPERATOR_DUNDERS:
            continue
        attr = inspect.getattr_static(Tensor, name)
        if inspect.isfunction(attr):
            yield name, attr


class TVTensor(Tensor):
    """The common base of ``Image``, ``Video``, ``Mask``, ``BoundingBoxes`` and
    ``KeyPoints``; subclass it for a custom type, register kernels for it with
    :func:`~ember.vision.transforms.v2.functional.register_kernel`, build instances with
    ``_wrap`` and return the metadata that ``wrap`` must carry over from ``_metadata``.
    """

    @staticmethod
    def _as_plain(data: Any, dtype=None, device=None, requires_grad: bool | None = None
                  ) -> Tensor:
        """``data`` as a plain tensor of the given dtype and device (no copy when it is
        already one); ``requires_grad`` None keeps a tensor's flag (False otherwise)."""
        if not isinstance(data, Tensor):
            out = ember.as_tensor(data, dtype=dtype, device=device)
        elif dtype is None and device is None:
            out = _plain_view(data) if type(data) is not Tensor else data
        else:
            out = data.to(device=device, dtype=dtype)
            out = _plain_view(out) if type(out) is not Tensor else out
        wanted = out.requires_grad if requires_grad is None else bool(requires_grad)
        if wanted and not out.requires_grad:
            out.requires_grad_(True)
        elif out.requires_grad and not wanted:
            out = out.detach()
        return out

    @classmethod
    def _wrap(cls, tensor: Tensor, **metadata):
        """A ``cls`` sharing ``tensor``'s data (no copy), with the given metadata."""
        out = cls._make(tensor._data, tensor.requires_grad, tensor.grad_fn, tensor._out_nr)
        out._vc = tensor._vc
        for key, value in metadata.items():
            setattr(out, key, value)
        return out

    def _metadata(self) -> dict:
        """The metadata ``wrap`` copies to a new tensor (none for images, masks, videos)."""
        return {}

    def _extra_repr(self) -> str | None:
        return None

    def __repr__(self) -> str:
        body = repr(_plain_view(self))  # "tensor(...)"
        name = type(self).__name__
        shift = len(name) - len("tensor")
        lines = body[len("tensor("):-1].split("\n")
        lines[1:] = [(" " * shift + ln) if shift >= 0 else ln[-shift:] if ln else ln
                     for ln in lines[1:]]
        inner = "\n".join(lines)
        extra = self._extra_repr()
        if extra is None:
            return f"{name}({inner})"
        return f"{name}({inner}, {extra})"

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (_rebuild_tv_tensor, (type(self), _plain_view(self), self._metadata()))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        import copy

        out = type(self)._wrap(copy.deepcopy(_plain_view(self), memo),
                               **copy.deepcopy(self._metadata(), memo))
        memo[id(self)] = out
        return out


def _rebuild_tv_tensor(cls, tensor: Tensor, metadata: dict) -> TVTensor:
    return cls._wrap(tensor, **metadata)


for _name, _method in _tensor_methods():
    setattr(TVTensor, _name, _method_wrapper(_name, _method))
del _name, _method
