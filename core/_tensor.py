"""``ember.Tensor``: one array of its device's array module plus autograd metadata.

This file holds the data model (construction, metadata, conversion, autograd entry points,
in-place bookkeeping). The op methods (``add``, ``sum``, ``view``, ...) are attached by
``_tensor_methods.py`` from the op modules, so that every op is defined once.
"""

from __future__ import annotations

import numpy as np

from . import _device, _dtype
from ._dtype import from_numpy_dtype
from ._memory_format import is_contiguous_as as _is_contiguous_as
from ._meta import MetaArray as _MetaArray
from .autograd.grad_mode import _State
from .autograd.graph import AccumulateGrad

__all__ = ["Tensor", "Size"]

_FROM_NP = _dtype._FROM_NP


class Size(tuple):
    """A tensor's shape: a tuple subclass, as ``torch.Size``."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}([{', '.join(str(int(s)) for s in self)}])"

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        r = tuple.__getitem__(self, item)
        return Size(r) if isinstance(item, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __reduce__(self):
        return (Size, (tuple(self),))


class Tensor:
    """A multi-dimensional array with autograd, as ``torch.Tensor``.

    ``ember.Tensor(data)`` builds a float tensor of the default dtype, as ``torch.Tensor``
    does; prefer ``ember.tensor(data)``, which infers the dtype.
    """

    __slots__ = ("_data", "_vc", "requires_grad", "grad", "grad_fn", "_out_nr", "_base",
                 "_view_fn", "_view_ver", "_accum", "_retains_grad", "_grad_hooks", "__weakref__",
                 "__dict__")

    __array_priority__ = 1000  # numpy defers to Tensor's reflected operators

    def __init__(self, *args, dtype=None, device=None, requires_grad: bool = False):
        from ._creation import _tensor_ctor_data

        data = _tensor_ctor_data(args, dtype, device)
        self._init(data, requires_grad)

    def _init(self, data, requires_grad=False, grad_fn=None, out_nr=0):
        self._data = data
        self._vc = [0]
        self.requires_grad = requires_grad
        self.grad = None
        self.grad_fn = grad_fn
        self._out_nr = out_nr
        self._base = None
        self._view_fn = None
        self._accum = None
        self._retains_grad = False
        self._grad_hooks = None

    @classmethod
    def _make(cls, data, requires_grad=False, grad_fn=None, out_nr=0):
        """Fast internal constructor around an existing array (no copy, no checks)."""
        t = object.__new__(cls)
        t._data = data
        t._vc = [0]
        t.requires_grad = requires_grad
        t.grad = None
        t.grad_fn = grad_fn
        t._out_nr = out_nr
        t._base = None
        t._view_fn = None
        t._accum = None
        t._retains_grad = False
        t._grad_hooks = None
        return t

    # -- metadata ----------------------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """The tensor's values, detached from the graph (shares memory). Unlike ``detach()``,
        it has its own version counter: in-place writes through it are hidden from autograd's
        saved-tensor checks (as in PyTorch)."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    @property
    def dtype(self) -> _dtype.dtype:
        """The element type (``ember.float32``, ...)."""
        return _FROM_NP[self._data.dtype]

    @property
    def shape(self) -> Size:
        """The tensor's shape, as an ``ember.Size``."""
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape, or the length of dimension ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    @property
    def device(self) -> _device.device:
        """The device holding the data."""
        if type(self._data) is np.ndarray:
            return _device.CPU
        return _device.device_of_array(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self.device.type == "cpu"

    # device kinds ember does not have: always False, as PyTorch answers on a CPU/CUDA build
    is_xpu = is_mps = is_mkldnn = is_vulkan = is_ipu = is_xla = is_mtia = is_maia = \
        is_nested = is_sparse_csr = property(lambda self: False)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        """The number of dimensions."""
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        """The number of elements."""
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        """Bytes per element."""
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)

    def stride(self, dim: int | None = None):
        """Strides in elements, as PyTorch reports them."""
        if type(self._data) is _MetaArray:  # contiguous, as PyTorch's meta tensors are
            st, acc = [], 1
            for n in reversed(self._data.shape):
                st.insert(0, acc)
                acc *= max(n, 1)
            st = tuple(st)
        else:
            st = tuple(s // self._data.itemsize for s in self._data.strides)
        if dim is None:
            return st
        return st[_wrap_dim(dim, self._data.ndim, "stride")]

    def storage_offset(self) -> int:
        """Offset in elements of the first element within the base array's memory."""
        data = self._data
        if type(data) is _MetaArray or data.size == 0:
            return 0
        if hasattr(data, "__cuda_array_interface__"):  # pragma: no cover - cuda
            # CuPy's views of views (as_strided) may not link to their base: count from the
            # start of the allocation instead
            return (data.data.ptr - data.data.mem.ptr) // data.itemsize
        from .ops.shape import _storage_info

        return _storage_info(data)[1]

    def is_contiguous(self, memory_format=None) -> bool:
        """True when the elements are laid out in row-major order without gaps (or, with
        ``memory_format=channels_last``/``channels_last_3d``, in that order)."""
        if type(self._data) is _MetaArray:
            return memory_format in (None, "torch.contiguous_format")
        return _is_contiguous_as(self._data, memory_format)

    @property
    def is_leaf(self) -> bool:
        """True for tensors that no recorded op produced (or that don't require grad)."""
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        return self._vc[0]

    @property
    def is_floating_point_(self) -> bool:  # pragma: no cover - compatibility alias
        return self.dtype.is_floating_point

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f" or self.dtype is _dtype.bfloat16

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    @property
    def layout(self):
        from . import strided

        return strided

    @property
    def is_sparse(self) -> bool:
        return False

    @property
    def is_quantized(self) -> bool:
        return False

    @property
    def is_meta(self) -> bool:
        """True for a tensor on the ``meta`` device (a shape and a dtype, no data)."""
        return type(self._data) is _MetaArray

    @property
    def output_nr(self) -> int:
        return self._out_nr

    @property
    def name(self):
        return None

    def get_device(self) -> int:
        """The CUDA device index, or -1 on the CPU."""
        d = self.device
        return -1 if d.type == "cpu" else d.index

    # -- conversion --------------------------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The data as a numpy array sharing memory (CPU tensors only)."""
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if type(self._data) is not np.ndarray:
            self._no_data("numpy")
            if not force:
                raise TypeError(f"can't convert {self.device} device type tensor to numpy. "
                                "Use Tensor.cpu() to copy the tensor to host memory first.")
            return self._data.get()
        return self._data

    def _no_data(self, what: str):
        """Raises PyTorch's error for reading ``what`` off a meta tensor (else returns)."""
        if type(self._data) is _MetaArray:
            if what == "numpy":
                raise TypeError("can't convert meta device type tensor to numpy. Use "
                                "Tensor.cpu() to copy the tensor to host memory first.")
            if what == "item":
                raise RuntimeError("Tensor.item() cannot be called on meta tensors")
            raise NotImplementedError("Cannot copy out of meta tensor; no data!")

    def __array__(self, dtype=None, copy=None):
        if type(self._data) is np.ndarray:
            arr = self._data
        else:
            self._no_data("array")
            arr = self._data.get()
        if dtype is not None:
            arr = arr.astype(dtype, copy=False)
        return arr

    def item(self):
        """The single value of a one-element tensor, as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        if type(self._data) is np.ndarray:
            v = self._data.reshape(()).item()
        else:
            self._no_data("item")
            v = self._data.reshape(()).get().item()
        if self.dtype is _dtype.bfloat16:
            return float(v)
        return v

    def tolist(self):
        """The data as (nested) Python lists of numbers."""
        self._no_data("tolist")
        arr = self.__array__()
        if self.dtype is _dtype.bfloat16:
            arr = arr.astype(np.float32)
        return arr.tolist()

    def __float__(self) -> float:
        return float(self._scalar())

    def __int__(self) -> int:
        return int(self._scalar())

    def _scalar(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self._scalar())

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self) -> int:
        return id(self)

    def __reversed__(self):
        return self.flip(0)

    def __contains__(self, element) -> bool:
        return bool((self == element).any().item())

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __repr__(self) -> str:
        from ._repr import tensor_repr

        return tensor_repr(self)

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.")
        if id(self) in memo:
            return memo[id(self)]
        import copy

        new = type(self).__new__(type(self))
        Tensor._init(new, self._data.copy(), self.requires_grad)
        if self.grad is not None:
            new.grad = copy.deepcopy(self.grad, memo)
        for k, v in self.__dict__.items():
            new.__dict__[k] = copy.deepcopy(v, memo)
        memo[id(self)] = new
        return new

    def __reduce_ex__(self, protocol):
        arr = self._data if type(self._data) is _MetaArray else self.__array__()
        state = self.__dict__
        if "_inference" in state:  # a loaded tensor is a normal one, as in PyTorch
            state = {k: v for k, v in state.items() if k != "_inference"}
        return (_rebuild_tensor, (type(self), arr, self.requires_grad, state or None))

    # -- autograd ----------------------------------------------------------------------
    def _accumulator(self) -> AccumulateGrad:
        acc = self._accum
        if acc is None:
            acc = self._accum = AccumulateGrad(self)
        return acc

    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False,
                 inputs=None) -> None:
        """Computes the gradient of this tensor with respect to graph leaves and adds it to
        their ``.grad`` (see ``ember.autograd.backward``)."""
        from .autograd import backward

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def register_hook(self, hook):
        """Registers ``hook(grad) -> Tensor or None``, called with this tensor's gradient."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        node = self.grad_fn if self.grad_fn is not None else self._accumulator()
        return node._add_tensor_hook(self._out_nr, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Registers ``hook(tensor)``, called on this leaf after its ``.grad`` has been
        accumulated by backward; returns a handle whose ``remove()`` unregisters it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        return self._accumulator()._add_post_acc_hook(hook)

    def is_inference(self) -> bool:
        """True for a tensor created inside ``inference_mode()`` (or a view of one)."""
        if self.__dict__.get("_inference", False):
            return True
        base = self._base
        return base is not None and base.is_inference()

    def retain_grad(self) -> None:
        """Makes a non-leaf tensor keep its ``.grad`` after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        import weakref

        ref = weakref.ref(self)

        def _retain(grad):
            t = ref()
            if t is not None:
                g = grad.detach() if not _State.enabled else grad
                if t.grad is None:
                    t.grad = g.clone() if not _State.enabled else g
                else:
                    t.grad = t.grad + g
            return None

        _retain._retains_grad = True
        self.grad_fn._add_tensor_hook(self._out_nr, _retain)
        self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def detach(self) -> Tensor:
        """A new tensor sharing data (and version counter), outside the graph."""
        t = Tensor._make(self._data)
        t._vc = self._vc
        return t

    def detach_(self) -> Tensor:
        """Detaches this tensor from the graph in place, making it a leaf."""
        self.grad_fn = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Sets ``requires_grad`` in place (leaves only, when turning it off)."""
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If "
                               "you want to use a computed variable in a subgraph that doesn't "
                               "require differentiation use var_no_grad = var.detach().")
        if requires_grad and self._data.dtype.kind not in "fcV" and \
                self.dtype is not _dtype.bfloat16:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        self.requires_grad = requires_grad
        return self

    # -- in-place bookkeeping ----------------------------------------------------------
    def _check_inplace(self) -> None:
        if _State.enabled and self.requires_grad and self.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")

    def _bump(self) -> None:
        self._vc[0] += 1

    def _refresh_view(self) -> None:
        """Regenerates a view's ``grad_fn`` after its memory changed in place through the base
        or another view (PyTorch does this lazily too). Only called when ``_base`` is set and
        ``_view_ver`` (the version the view's graph was built at) is stale."""
        self._view_ver = self._vc[0]
        base = self._base
        if not base.requires_grad:
            return
        prev = _State.enabled
        _State.enabled = True
        try:
            fresh = self._view_fn(base)
        finally:
            _State.enabled = prev
        self.grad_fn = fresh.grad_fn
        self._out_nr = fresh._out_nr
        self.requires_grad = fresh.requires_grad


def _rebuild_tensor(cls, arr, requires_grad, state):
    t = cls.__new__(cls)
    Tensor._init(t, arr if type(arr) is _MetaArray else np.array(arr), requires_grad)
    if state:
        t.__dict__.update(state)
    return t


def _wrap_dim(dim: int, ndim: int, op: str = "") -> int:
    """Normalises a possibly negative dimension index, with PyTorch's IndexError."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim + n if dim < 0 else dim


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing memory with the numpy array ``arr``."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    from_numpy_dtype(arr.dtype)
    return Tensor._make(arr)


def _register() -> None:
    from .ops import op

    op._bind_tensor(Tensor)


_register()
