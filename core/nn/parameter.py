"""``ember.nn.Parameter`` and ``ember.nn.Buffer``: tensors that a ``Module`` registers when
they are assigned as its attributes.

A Parameter is a Tensor subclass sharing memory with the data it was made from; ops on it
return plain Tensors. ``Buffer`` is a marker: ``self.x = Buffer(t)`` registers ``t`` as a
buffer of the module (``persistent=False`` keeps it out of ``state_dict``), as
``torch.nn.Buffer``.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer", "is_lazy"]


class Parameter(Tensor):
    """A kind of Tensor that is to be considered a module parameter.

    When assigned as a ``Module`` attribute it is added to the module's parameters (and
    appears in ``parameters()`` and ``state_dict()``). ``requires_grad`` defaults to True,
    also under ``no_grad``.

    Args:
        data (Tensor): parameter tensor (shared, not copied).
        requires_grad (bool): whether the parameter requires gradient. Default: True.
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            from .._creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter: expected a Tensor as data, got {type(data).__name__}")
        self = Tensor.__new__(cls)
        Tensor._init(self, data._data, False)
        self._vc = data._vc
        if requires_grad:
            self.requires_grad_(True)
        return self

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True):
        pass  # everything happens in __new__ (Tensor.__init__ would rebuild the data)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        import copy

        # as PyTorch, the copy has no .grad (a deep-copied model starts without gradients)
        result = type(self)(self.data.clone(), self.requires_grad)
        for k, v in self.__dict__.items():
            result.__dict__[k] = copy.deepcopy(v, memo)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (type(self), self.detach().__array__(), self.requires_grad,
                                     self.__dict__ or None))


def _rebuild_parameter(cls, arr, requires_grad, state):
    import numpy as np

    from .._tensor import from_numpy

    p = cls(from_numpy(np.array(arr)), requires_grad)
    if state:
        p.__dict__.update(state)
    return p


class _BufferMeta(type):
    def __instancecheck__(cls, instance) -> bool:
        if cls is Buffer:
            return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)
        return type.__instancecheck__(cls, instance)


class Buffer(metaclass=_BufferMeta):
    """A marker for tensors that should be registered as module buffers.

    ``self.running_mean = Buffer(ember.zeros(3))`` registers a buffer, as
    ``register_buffer`` does. ``persistent=False`` keeps it out of ``state_dict``.
    """

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        if data is None:
            from .._creation import empty

            data = empty(0)
        t = data.detach()
        t.requires_grad = data.requires_grad
        t._is_buffer = True
        t.persistent = persistent
        return t


class _UnsetArray(np.ndarray):
    """The (empty) array of an uninitialized parameter or buffer on the CPU: any numpy
    computation on it raises PyTorch's ValueError, so an op on a lazy module's parameter
    before its first forward fails instead of computing on an empty array. Moving it
    (``astype``, ``copy``, views) keeps the marker."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise _unset_error(f"{ufunc.__name__}.{method}" if method != "__call__" else
                           ufunc.__name__)

    def __array_function__(self, func, types, args, kwargs):
        raise _unset_error(func.__name__)


def _unset_error(what: str) -> ValueError:
    return ValueError(f"Attempted to use an uninitialized parameter in {what}. This error "
                      f"happens when you are using a `LazyModule` or explicitly manipulating "
                      f"`torch.nn.parameter.UninitializedParameter` objects. When using "
                      f"LazyModules Call `forward` with a dummy batch to initialize the "
                      f"parameters before calling torch functions")


def _unset(data):
    """``data`` (an empty array) marked uninitialized when it is a numpy array."""
    return data.view(_UnsetArray) if type(data) is np.ndarray else data


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (used by the ``Lazy*`` modules); call
    ``materialize(shape)`` to allocate it."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        from .._creation import empty

        self = super().__new__(cls, empty(0, device=device, dtype=dtype), requires_grad)
        self._data = _unset(self._data)
        return self

    def __init__(self, requires_grad: bool = True, device=None, dtype=None):
        pass

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Allocates the data with ``shape`` and turns self into a regular Parameter."""
        from .._creation import empty

        if device is None:
            device = self.device
        if dtype is None:
            dtype = self.dtype
        self._data = empty(shape, device=device, dtype=dtype)._data
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. "
                           "This error usually happens in `load_state_dict` when trying to "
                           "load an uninitialized parameter into an initialized one. Call "
                           "`forward` to initialize the parameters before accessing their "
                           "attributes.")

    def __repr__(self) -> str:
        return "<UninitializedParameter>"

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.requires_grad, self.device, self.dtype)
        memo[id(self)] = result
        return result


class UninitializedBuffer(Tensor):
    """A buffer whose shape is not known yet; ``materialize(shape)`` allocates it."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad: bool = False, device=None, dtype=None):
        from .._creation import empty

        self = Tensor.__new__(cls)
        Tensor._init(self, _unset(empty(0, device=device, dtype=dtype)._data), requires_grad)
        return self

    def __init__(self, requires_grad: bool = False, device=None, dtype=None):
        pass

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Allocates the data with ``shape`` and turns self into a regular Tensor."""
        from .._creation import empty

        self._data = empty(shape, device=device or self.device,
                           dtype=dtype or self.dtype)._data
        self.__class__ = self.cls_to_become


def is_lazy(param) -> bool:
    """True for parameters and buffers whose shape is not known yet."""
    return isinstance(param, (UninitializedParameter, UninitializedBuffer))
