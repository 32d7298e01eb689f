"""The ``meta`` device: tensors with a shape and a dtype but no data.

A meta tensor's array is a ``MetaArray``: an ndarray subclass whose strides are all zero over
a one-element buffer, so it costs no memory whatever its shape. Meta-ness is a property of the
array, not of the ops: numpy hands every ufunc and array function that meets a ``MetaArray``
to its ``__array_ufunc__`` / ``__array_function__``, which work out the result's shape and
dtype (elementwise ufuncs on one-element stand-ins, anything else on the zero-stride arrays)
and return it as a new ``MetaArray``. Writes into a ``MetaArray`` do nothing; reading its
values (``item``, ``tolist``, truth value, numbers) raises.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MetaArray", "meta_array", "to_meta", "is_meta_array", "META_XP", "META_RNG",
           "no_data_error"]


def meta_array(shape, dtype) -> MetaArray:
    """A ``MetaArray`` of ``shape`` and ``dtype`` (zero strides over one element)."""
    if not _SEEN[0]:
        _mark_seen()
    dtype = np.dtype(dtype)
    shape = tuple(int(s) for s in shape)
    return np.ndarray.__new__(MetaArray, shape, dtype, buffer=np.zeros(1, dtype),
                              strides=(0,) * len(shape))


_SEEN = [False]


def _mark_seen() -> None:
    """Tells the op mechanism that meta arrays exist (see ``ember.ops.op._META_SEEN``)."""
    from .ops import op

    op._META_SEEN = True
    _SEEN[0] = True


def to_meta(x):
    """An array's (or a tuple/list of arrays') meta counterpart; other values unchanged."""
    if isinstance(x, (np.ndarray, np.generic)):
        return meta_array(np.shape(x), x.dtype)
    if isinstance(x, tuple):
        return tuple(to_meta(v) for v in x)
    if isinstance(x, list):
        return [to_meta(v) for v in x]
    if hasattr(x, "__cuda_array_interface__"):  # a cupy array
        return meta_array(x.shape, x.dtype)
    return x


def is_meta_array(x) -> bool:
    """True for a ``MetaArray``."""
    return isinstance(x, MetaArray)


def no_data_error(what: str) -> NotImplementedError:
    """The error for an attempt to read the values of a meta tensor."""
    return NotImplementedError(f"ember: {what} on a meta tensor: meta tensors have no data")


def _plain(x):
    """``x`` with every ``MetaArray`` (also inside lists, tuples and dicts) seen as a plain
    zero-stride ndarray."""
    if isinstance(x, MetaArray):
        return x.view(np.ndarray)
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v) for v in x)
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    return x


def _small(x):
    """A 0-d stand-in of an elementwise operand with its dtype (Python scalars as they are,
    so that their weak typing is kept)."""
    if isinstance(x, np.ndarray):
        return np.zeros((), x.dtype)
    return x


# numpy functions whose non-array results describe metadata, not values
_METADATA_FUNCS = {"shape", "ndim", "size", "result_type", "can_cast", "min_scalar_type",
                   "may_share_memory", "shares_memory", "iscomplexobj", "isrealobj",
                   "broadcast_shapes", "isfortran", "iterable", "broadcast_arrays",
                   "broadcast_to", "atleast_1d", "atleast_2d", "atleast_3d"}


class MetaArray(np.ndarray):
    """An array with a shape and a dtype and no values (see the module docstring)."""

    _ember_meta = True

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        if out is not None:
            if all(isinstance(o, MetaArray) for o in out):
                return out[0] if len(out) == 1 else out  # a write into meta: nothing to do
            raise no_data_error(f"{ufunc.__name__} writing into a real array")
        plain = [_plain(x) for x in inputs]
        with np.errstate(all="ignore"):
            if method == "__call__" and ufunc.signature is None and "where" not in kwargs:
                shape = np.broadcast_shapes(*[np.shape(x) for x in plain])
                res = ufunc(*[_small(x) for x in plain], **kwargs)
                if isinstance(res, tuple):
                    return tuple(meta_array(shape, r.dtype) for r in res)
                return meta_array(shape, res.dtype)
            res = getattr(ufunc, method)(*plain, **_plain(kwargs))
        return to_meta(res)

    def __array_function__(self, func, types, args, kwargs):
        name = func.__name__
        if name == "copyto":
            dst = args[0] if args else kwargs.get("dst")
            if isinstance(dst, MetaArray):
                return None
            raise no_data_error("copying values out")
        with np.errstate(all="ignore"):
            res = func(*_plain(args), **_plain(kwargs))
        if isinstance(res, (bool, int, float, complex)) and name not in _METADATA_FUNCS:
            raise no_data_error(f"numpy.{name}")
        return to_meta(res)

    # -- methods numpy does not dispatch ------------------------------------------------
    def astype(self, dtype, *args, **kwargs):
        """A meta array of another dtype."""
        return meta_array(self.shape, dtype)

    def copy(self, *args, **kwargs):
        """A new meta array of the same shape and dtype."""
        return meta_array(self.shape, self.dtype)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def fill(self, value) -> None:
        """Does nothing: a meta array holds no values."""

    def __setitem__(self, key, value) -> None:
        pass

    def __getitem__(self, key):
        return to_meta(np.ndarray.__getitem__(self.view(np.ndarray), _plain(key)))

    def item(self, *args):
        raise RuntimeError("Tensor.item() cannot be called on meta tensors")

    def tolist(self):
        raise no_data_error("tolist()")

    def tobytes(self, *args, **kwargs):
        raise no_data_error("tobytes()")

    def __bool__(self):
        raise RuntimeError("Tensor.item() cannot be called on meta tensors")

    __float__ = __int__ = __index__ = __complex__ = __bool__

    def __repr__(self) -> str:
        return f"MetaArray(shape={self.shape}, dtype={self.dtype})"

    __str__ = __repr__

    def __reduce__(self):
        return (meta_array, (self.shape, self.dtype))


def _shape_arg(shape) -> tuple:
    return (int(shape),) if np.ndim(shape) == 0 else tuple(int(v) for v in shape)


class _MetaNamespace:
    """The array module of the meta device: numpy's functions with meta results."""

    def zeros(self, shape, dtype=float, **kwargs):
        return meta_array(_shape_arg(shape), dtype)

    def empty(self, shape, dtype=float, **kwargs):
        return meta_array(_shape_arg(shape), dtype)

    ones = empty

    def full(self, shape, fill_value, dtype=None, **kwargs):
        if dtype is None:
            dtype = np.asarray(_plain(fill_value)).dtype
        return meta_array(_shape_arg(shape), dtype)

    def asarray(self, a, dtype=None, **kwargs):
        a = np.asarray(_plain(a), dtype=dtype)
        return meta_array(a.shape, a.dtype)

    array = asarray

    def eye(self, n, m=None, k=0, dtype=float, **kwargs):
        return meta_array((n, n if m is None else m), dtype)

    def __getattr__(self, name):
        fn = getattr(np, name)
        if not callable(fn) or isinstance(fn, type):
            return fn

        def wrapped(*args, **kwargs):
            with np.errstate(all="ignore"):
                return to_meta(fn(*_plain(args), **_plain(kwargs)))
        return wrapped


META_XP = _MetaNamespace()


class _MetaRng:
    """A random generator of the meta device: draws of the right shape and no values."""

    def _draw(self, size, dtype=np.float64):
        return meta_array(() if size is None else _shape_arg(size), dtype)

    def random(self, size=None, dtype=np.float64, **kwargs):
        return self._draw(size, dtype)

    def standard_normal(self, size=None, dtype=np.float64, **kwargs):
        return self._draw(size, dtype)

    def uniform(self, low=0.0, high=1.0, size=None):
        return self._draw(size)

    def normal(self, loc=0.0, scale=1.0, size=None):
        return self._draw(size)

    def integers(self, low, high=None, size=None, dtype=np.int64, **kwargs):
        return self._draw(size, dtype)

    def permutation(self, n):
        return meta_array((int(n),), np.int64)

    def __getattr__(self, name):
        raise NotImplementedError(f"ember: random draw '{name}' on the meta device is not "
                                  "supported")


META_RNG = _MetaRng()
