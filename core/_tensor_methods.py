"""Attaches the op functions to ``Tensor`` as methods and operators (each op is defined
once, in its op module; this file only wires names)."""

from __future__ import annotations

import numpy as np

from . import _device, _dtype, _shared_memory
from . import _memory_format as _mf
from ._array_flags import writeable
from ._meta import meta_array
from ._tensor import Tensor
from .autograd.grad_mode import _State
from .ops import _parallel
from .ops import compare as C
from .ops import elementwise as E
from .ops import index as I
from .ops import linalg as L
from .ops import reduce as R
from .ops import shape as S
from .ops import spectral as _spectral
from .ops._prep import cast
from .ops.inplace import check_result_fits, commit_inplace, needs_graph
from .ops.op import Op, xp_of


def _method(fn):
    def m(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    m.__name__ = fn.__name__
    m.__doc__ = fn.__doc__
    return m


_PLAIN = {
    # elementwise
    "add": E.add, "sub": E.sub, "subtract": E.sub, "mul": E.mul, "multiply": E.mul,
    "div": E.div, "divide": E.div, "true_divide": E.div, "floor_divide": E.floor_divide,
    "remainder": E.remainder, "fmod": E.fmod, "pow": E.pow, "neg": E.neg, "negative": E.neg,
    "exp": E.exp, "exp2": E.exp2, "expm1": E.expm1, "log": E.log, "log2": E.log2,
    "log10": E.log10, "log1p": E.log1p, "sqrt": E.sqrt, "rsqrt": E.rsqrt, "abs": E.abs,
    "absolute": E.abs, "sign": E.sign, "sgn": E.sgn, "sigmoid": E.sigmoid, "tanh": E.tanh,
    "erf": E.erf, "erfc": E.erfc, "sin": E.sin, "cos": E.cos, "tan": E.tan, "asin": E.asin,
    "acos": E.acos, "atan": E.atan, "sinh": E.sinh, "cosh": E.cosh, "arcsin": E.asin,
    "arccos": E.acos, "arctan": E.atan, "relu": E.relu, "clamp": E.clamp, "clip": E.clamp,
    "clamp_min": E.clamp_min, "clamp_max": E.clamp_max, "reciprocal": E.reciprocal,
    "square": E.square, "floor": E.floor, "ceil": E.ceil, "round": E.round, "trunc": E.trunc,
    "fix": E.trunc, "frac": E.frac, "maximum": E.maximum, "minimum": E.minimum,
    "lerp": E.lerp, "addcmul": E.addcmul, "addcdiv": E.addcdiv, "atan2": E.atan2,
    "arctan2": E.atan2, "nan_to_num": E.nan_to_num,
    # comparison / logical
    "eq": C.eq, "ne": C.ne, "lt": C.lt, "le": C.le, "gt": C.gt, "ge": C.ge,
    "greater": C.gt, "greater_equal": C.ge, "less": C.lt, "less_equal": C.le,
    "not_equal": C.ne, "logical_and": C.logical_and, "logical_or": C.logical_or,
    "logical_xor": C.logical_xor, "logical_not": C.logical_not,
    "bitwise_and": C.bitwise_and, "bitwise_or": C.bitwise_or, "bitwise_xor": C.bitwise_xor,
    "bitwise_not": C.bitwise_not, "isnan": C.isnan, "isinf": C.isinf,
    "isfinite": C.isfinite, "isposinf": C.isposinf, "isneginf": C.isneginf,
    "signbit": C.signbit, "equal": C.equal, "allclose": C.allclose, "isclose": C.isclose,
    # reductions
    "sum": R.sum, "nansum": R.nansum, "mean": R.mean, "prod": R.prod, "max": R.max,
    "min": R.min, "amax": R.amax, "amin": R.amin, "argmax": R.argmax, "argmin": R.argmin,
    "var": R.var, "std": R.std, "logsumexp": R.logsumexp, "softmax": R.softmax,
    "log_softmax": R.log_softmax, "cumsum": R.cumsum, "all": R.all, "any": R.any,
    "norm": R.norm, "sort": R.sort, "argsort": R.argsort, "topk": R.topk,
    # shape
    "view": S.view, "reshape": S.reshape, "permute": S.permute, "transpose": S.transpose,
    "swapaxes": S.transpose, "swapdims": S.transpose, "squeeze": S.squeeze,
    "unsqueeze": S.unsqueeze, "expand": S.expand, "expand_as": S.expand_as,
    "broadcast_to": S.broadcast_to, "flatten": S.flatten, "unflatten": S.unflatten,
    "flip": S.flip, "split": S.split, "chunk": S.chunk, "unbind": S.unbind,
    "narrow": S.narrow, "select": S.select, "contiguous": S.contiguous, "t": S.t,
    "movedim": S.movedim, "moveaxis": S.movedim, "repeat": S.repeat, "tile": S.tile,
    "roll": S.roll,
    # index
    "gather": I.gather, "scatter": I.scatter, "scatter_add": I.scatter_add,
    "index_select": I.index_select, "masked_fill": I.masked_fill, "index_put": I.index_put,
    "index_put_": I.index_put_, "masked_select": I.masked_select,
    "take_along_dim": I.take_along_dim, "index_add": I.index_add, "tril": I.tril,
    "triu": I.triu,
    # linalg
    "matmul": L.matmul, "mm": L.mm, "bmm": L.bmm, "mv": L.mv, "dot": L.dot,
    "addmm": L.addmm, "outer": L.outer, "ger": L.outer,
}

for _name, _fn in _PLAIN.items():
    # a plain function of the same name is the method itself (one call less per use);
    # aliases and other callables get a wrapper named after the method
    same = type(_fn) is type(_method) and _fn.__name__ == _name
    setattr(Tensor, _name, _fn if same else _method(_fn))


def _where(self, condition, other):
    return E.where(condition, self, other)


Tensor.where = _where


# -- operators ---------------------------------------------------------------------------
def _rop(fn):
    def r(self, other):
        return fn(other, self)
    return r


Tensor.__add__ = lambda self, other: E.add(self, other)
Tensor.__radd__ = lambda self, other: E.add(self, other)  # self first, as PyTorch's graph
Tensor.__sub__ = lambda self, other: E.sub(self, other)
Tensor.__rsub__ = lambda self, other: E.sub(other, self)
Tensor.__mul__ = lambda self, other: E.mul(self, other)
Tensor.__rmul__ = lambda self, other: E.mul(self, other)
Tensor.__truediv__ = lambda self, other: E.div(self, other)
Tensor.__rtruediv__ = lambda self, other: (  # a number over a tensor: as PyTorch's
    E.mul(E.reciprocal(self), other) if isinstance(other, (int, float)) and  # reciprocal * n
    not isinstance(other, bool) else E.div(other, self))
Tensor.__floordiv__ = lambda self, other: E.floor_divide(self, other)
Tensor.__rfloordiv__ = lambda self, other: E.floor_divide(other, self)
Tensor.__mod__ = lambda self, other: E.remainder(self, other)
Tensor.__rmod__ = lambda self, other: E.remainder(other, self)
Tensor.__pow__ = lambda self, other: E.pow(self, other)
Tensor.__rpow__ = lambda self, other: E._pow_tensor(other, self)
Tensor.__matmul__ = lambda self, other: L.matmul(self, other)
Tensor.__rmatmul__ = lambda self, other: L.matmul(other, self)
Tensor.__neg__ = lambda self: E.neg(self)
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = lambda self: E.abs(self)
Tensor.__invert__ = lambda self: C.logical_not(self) if self._data.dtype == np.bool_ \
    else C.bitwise_not(self)
Tensor.__and__ = lambda self, other: C.bitwise_and(self, other)
Tensor.__rand__ = lambda self, other: C.bitwise_and(self, other)
Tensor.__or__ = lambda self, other: C.bitwise_or(self, other)
Tensor.__ror__ = lambda self, other: C.bitwise_or(self, other)
Tensor.__xor__ = lambda self, other: C.bitwise_xor(self, other)
Tensor.__rxor__ = lambda self, other: C.bitwise_xor(self, other)
Tensor.__eq__ = lambda self, other: C.eq(self, other) if _comparable(other) else False
Tensor.__ne__ = lambda self, other: C.ne(self, other) if _comparable(other) else True
Tensor.__lt__ = lambda self, other: C.lt(self, other)
Tensor.__le__ = lambda self, other: C.le(self, other)
Tensor.__gt__ = lambda self, other: C.gt(self, other)
Tensor.__ge__ = lambda self, other: C.ge(self, other)
Tensor.__getitem__ = lambda self, idx: I.getitem(self, idx)
Tensor.__setitem__ = lambda self, idx, value: I.setitem(self, idx, value)
Tensor.__hash__ = lambda self: id(self)


def _comparable(other) -> bool:
    return isinstance(other, (Tensor, int, float, bool, complex, np.ndarray, np.generic))


# -- in-place ops ------------------------------------------------------------------------
_INPLACE_UFUNC = {"add": np.add, "sub": np.subtract, "mul": np.multiply,
                  "div": np.true_divide}


def _make_inplace(name: str, fn):
    ufunc_name = name if name in _INPLACE_UFUNC else None

    def inplace(self, *args, **kwargs):
        if not needs_graph(self, *args):
            if name == "relu" and not args and not kwargs and _fast_relu_(self):
                return self
            if ufunc_name is not None and len(args) == 1:
                if not kwargs:
                    if _fast_inplace(self, ufunc_name, args[0]):
                        return self
                elif ufunc_name in ("add", "sub") and kwargs.keys() == {"alpha"}:
                    alpha = kwargs["alpha"]
                    if ufunc_name == "sub" and isinstance(alpha, (int, float)):
                        alpha = -alpha
                    if _fast_axpy(self, args[0], alpha):
                        return self
            result = fn(self, *args, **kwargs)
            check_result_fits(self, result._data, name + "_")
            if not writeable(self._data):
                raise RuntimeError(f"{name}_: unsupported operation: the tensor is a "
                                   "broadcast (expanded) view; clone it first.")
            return _write(self, result)
        return commit_inplace(self, fn(self, *args, **kwargs), name + "_")
    inplace.__name__ = name + "_"
    inplace.__doc__ = f"In-place version of ``{name}``."
    return inplace


def _fast_inplace(self: Tensor, name: str, other) -> bool:
    """``self op= other`` straight into self's memory when dtypes already agree."""
    a = self._data
    if isinstance(other, Tensor):
        b = other._data
        if b.dtype != a.dtype or type(b) is not type(a):
            return False
        if b.shape != a.shape and np.broadcast_shapes(a.shape, b.shape) != a.shape:
            return False
    elif isinstance(other, (int, float)) and not isinstance(other, bool) and \
            a.dtype.kind == "f" and a.dtype.itemsize > 2:  # (half: the scalar in float32)
        b = a.dtype.type(other)
    else:
        return False
    if name == "div" and a.dtype.kind != "f":
        return False
    if not writeable(a):
        return False
    ufunc = _INPLACE_UFUNC[name]
    if not (a.size >= 2 * _parallel.MIN_PART and type(a) is np.ndarray and
            _parallel.flat_map(ufunc, a, a, b)):  # large same-shape operands: threaded
        ufunc(a, b, out=a)
    self._vc[0] += 1
    return True


def _fast_relu_(self: Tensor) -> bool:
    """``relu_`` in self's memory (threaded over parts of large arrays)."""
    a = self._data
    if type(a) is not np.ndarray or a.dtype.kind not in "fiu" or not a.flags.writeable:
        return False
    E.relu_array(a, a)
    self._vc[0] += 1
    return True


def _fast_axpy(self: Tensor, other, alpha) -> bool:
    """``self += alpha * other`` in self's memory for same-shape floating tensors of one
    dtype, through one scaled temporary (scipy's BLAS axpy would start a second OpenBLAS
    thread pool that fights numpy's for the cores). This is the optimizers'
    ``param.add_(grad, alpha=-lr)``."""
    a = self._data
    if not isinstance(other, Tensor) or isinstance(alpha, bool) or \
            not isinstance(alpha, (int, float)):
        return False
    b = other._data
    if b.dtype != a.dtype or type(b) is not type(a) or b.shape != a.shape or \
            a.dtype.kind != "f" or a.dtype.itemsize == 2 or not writeable(a):
        return False  # (half: a + alpha * b in float32, rounded once, by add)
    a += b * a.dtype.type(alpha)
    self._vc[0] += 1
    return True




_INPLACE = ["add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "rsqrt", "abs",
            "sign", "sigmoid", "tanh", "erf", "sin", "cos", "relu", "clamp", "clip",
            "clamp_min", "clamp_max", "reciprocal", "square", "floor", "ceil", "round",
            "trunc", "frac", "remainder", "fmod", "floor_divide", "lerp", "addcmul",
            "addcdiv", "exp2", "expm1", "log2", "log10", "log1p", "tan", "asin", "acos",
            "atan", "sinh", "cosh", "masked_fill", "scatter", "scatter_add", "eq", "ne", "lt",
            "le", "gt", "ge", "logical_and", "logical_or", "logical_xor", "logical_not",
            "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "maximum", "minimum",
            "subtract", "multiply", "divide", "true_divide", "neg", "negative", "erfc",
            "atan2", "nan_to_num", "index_add", "tril", "triu"]

for _name in _INPLACE:
    setattr(Tensor, _name + "_", _make_inplace(_name, _PLAIN[_name]))


def _cmp_inplace(name):
    def f(self, other):
        r = _PLAIN[name](self, other)
        return commit_inplace(self, cast(r, self.dtype), name + "_") if needs_graph(self) \
            else _write(self, cast(r, self.dtype))
    return f


def _write(self, result):
    xp_of(self._data).copyto(self._data, result._data, casting="unsafe")
    self._vc[0] += 1
    return self


for _name in ("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or",
              "logical_xor"):
    setattr(Tensor, _name + "_", _cmp_inplace(_name))

Tensor.__iadd__ = lambda self, other: self.add_(other)
Tensor.__isub__ = lambda self, other: self.sub_(other)
Tensor.__imul__ = lambda self, other: self.mul_(other)
Tensor.__itruediv__ = lambda self, other: self.div_(other)
Tensor.__ifloordiv__ = lambda self, other: self.floor_divide_(other)
Tensor.__imod__ = lambda self, other: self.remainder_(other)
Tensor.__ipow__ = lambda self, other: self.pow_(other)
Tensor.__iand__ = lambda self, other: self.bitwise_and_(other)
Tensor.__ior__ = lambda self, other: self.bitwise_or_(other)
Tensor.__ixor__ = lambda self, other: self.bitwise_xor_(other)


def zero_(self) -> Tensor:
    """Fills the tensor with zeros, in place."""
    return fill_(self, 0)


class _Fill(Op):
    """``self`` overwritten by a value: a Python number (attribute ``value``) or a tensor
    input broadcast to self's shape and dtype. Self's old value gets a zero gradient."""

    _name = "fill"

    def forward(self, x, v=None):
        xp = xp_of(x)
        if v is None:
            return xp.full(x.shape, self.value, dtype=x.dtype)
        self.src = (v.shape, v.dtype)
        return xp.broadcast_to(v, x.shape).astype(x.dtype, copy=True)

    def backward(self, g):
        gx = g.new_zeros(g.shape) if self.next_functions[0][0] is not None else None
        if len(self.next_functions) == 1:
            return gx
        shape, dt = self.src
        from .ops._prep import unbroadcast

        gv = None
        if self.next_functions[1][0] is not None:
            gv = cast(unbroadcast(g, shape), dt)
        return gx, gv


def fill_(self, value) -> Tensor:
    """Fills the tensor with ``value``, in place."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        if needs_graph(self, value):
            return commit_inplace(self, _Fill.apply(self, value), "fill_")
        value = value.item()
    if needs_graph(self):
        return commit_inplace(self, _Fill.apply(self, value=value), "fill_")
    try:
        self._data.fill(value)
    except OverflowError:  # -1 for uint8 wraps to 255; 300 raises RuntimeError
        from .ops._prep import checked_int_scalar

        self._data.fill(checked_int_scalar(value, self._data.dtype))
    self._vc[0] += 1
    return self


def copy_(self, src, non_blocking: bool = False) -> Tensor:
    """Copies ``src`` (broadcast, cast to self's dtype, from any device) into self."""
    if not isinstance(src, Tensor):
        from ._creation import tensor

        src = tensor(src)
    if src.device != self.device:
        src = src.to(self.device)
    if needs_graph(self, src):
        if np.broadcast_shapes(src.shape, self.shape) != self.shape:
            raise RuntimeError(f"copy_: the source of shape {list(src.shape)} can't be "
                               f"broadcast to the destination of shape {list(self.shape)}")
        return commit_inplace(self, _Fill.apply(self, src), "copy_")
    try:
        xp_of(self._data).copyto(self._data, xp_of(self._data).broadcast_to(
            src._data, self._data.shape), casting="unsafe")
    except ValueError:
        raise RuntimeError(f"copy_: the source of shape {list(src.shape)} can't be broadcast "
                           f"to the destination of shape {list(self.shape)}") from None
    self._vc[0] += 1
    return self


Tensor.zero_ = zero_
Tensor.fill_ = fill_
Tensor.copy_ = copy_


def _clone(self, *, memory_format=None) -> Tensor:
    """A copy that stays in the graph (its gradient flows back to self), laid out in
    ``memory_format`` (by default the input's own when that is channels-last, else
    row-major)."""
    if memory_format in (None, "torch.preserve_format"):
        memory_format = None
    elif memory_format != "torch.contiguous_format":
        _mf._check_rank(self._data, memory_format)
    return _Clone.apply(self, memory_format=memory_format)


class _Clone(Op):
    _name = "clone"

    def forward(self, x):
        mf = self.memory_format
        if mf is None:
            return x.copy(order="K") if _mf.suggests_channels_last(x) else x.copy()
        return _mf.as_format(xp_of(x), x, mf, copy=True)

    def backward(self, g):
        return g


Tensor.clone = _clone


# -- conversion --------------------------------------------------------------------------
def to(self, *args, **kwargs) -> Tensor:
    """Returns the tensor with another dtype and/or device (self if nothing changes):
    ``to(dtype)``, ``to(device, dtype)``, ``to(other)``; differentiable."""
    dev = kwargs.pop("device", None)
    dt = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    memory_format = kwargs.pop("memory_format", None)
    for a in args:
        if isinstance(a, Tensor):
            dev, dt = a.device, a.dtype
        elif isinstance(a, _dtype.dtype) or (a in (float, int, bool) if isinstance(a, type)
                                            else False):
            dt = a
        elif isinstance(a, (str, _device.device, int)) and not isinstance(a, bool):
            s = str(a)
            if s.startswith("torch.") or s in _dtype._BY_NAME:
                dt = a
            else:
                dev = a
        elif isinstance(a, bool):
            pass
        elif a is not None:
            dt = a
    out = self
    if dt is not None:
        d = _dtype.to_dtype(dt)
        if d.np != out._data.dtype:
            out = cast(out, d)
    if dev is not None:
        target = _device.to_device(dev)
        if target != out.device:
            out = _ToDevice.apply(out, target=target)
    if memory_format not in (None, "torch.preserve_format") and \
            type(out._data).__name__ != "MetaArray" and \
            _mf.suggested(out._data) != memory_format:  # PyTorch's test: self if it suggests it
        out = S.ToMemoryFormat.apply(out, memory_format=memory_format, copy=True)
    if copy and out is self:
        out = self.clone()
    return out


class _ToDevice(Op):
    _name = "to_device"

    def forward(self, x):
        self.src = _device.device_of_array(x)
        if self.src.type == "meta":
            raise NotImplementedError("Cannot copy out of meta tensor; no data! Please use "
                                      "torch.nn.Module.to_empty() instead of torch.nn.Module."
                                      "to() when moving module from meta to a different "
                                      "device.")
        if self.target.type == "meta":
            return meta_array(x.shape, x.dtype)
        if self.target.type == "cpu":
            return x.get() if not isinstance(x, np.ndarray) else x
        xp = _device.array_module(self.target)
        with xp.cuda.Device(self.target.index):
            return xp.asarray(x)

    def backward(self, g):
        return g.to(self.src)


Tensor.to = to
Tensor.cpu = lambda self, memory_format=None: to(self, "cpu")
Tensor.cuda = lambda self, device=None, non_blocking=False, memory_format=None: to(
    self, _device.device("cuda", device) if isinstance(device, int) else (device or "cuda"))


def _type_conv(d):
    def f(self, memory_format=None):
        return to(self, d)
    f.__doc__ = f"``self.to({d!r})``."
    return f


for _n, _d in (("float", _dtype.float32), ("double", _dtype.float64),
               ("half", _dtype.float16), ("long", _dtype.int64), ("int", _dtype.int32),
               ("short", _dtype.int16), ("char", _dtype.int8), ("byte", _dtype.uint8),
               ("bool", _dtype.bool), ("cfloat", _dtype.complex64),
               ("cdouble", _dtype.complex128), ("bfloat16", _dtype.bfloat16)):
    setattr(Tensor, _n, _type_conv(_d))

_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor",
               "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
               "bool": "BoolTensor", "complex64": "ComplexFloatTensor",
               "complex128": "ComplexDoubleTensor"}


def type_(self, dtype=None, non_blocking: bool = False):
    """Without arguments, the type name (``'torch.FloatTensor'``); else a cast."""
    if dtype is None:
        prefix = "torch.cuda." if self.device.type == "cuda" else "torch."
        return prefix + _TYPE_NAMES.get(self.dtype.name, "Tensor")
    from ._legacy_types import legacy_type_of

    info = legacy_type_of(dtype)  # ember.LongTensor, 'torch.cuda.FloatTensor', ...
    if info is not None:
        dt, dev = info
        return to(self, dev, dt, non_blocking=non_blocking) if dev != self.device.type \
            else to(self, dt, non_blocking=non_blocking)
    if isinstance(dtype, str):
        raise ValueError(f"invalid type: '{dtype}'")
    return to(self, dtype, non_blocking=non_blocking)


Tensor.type = type_


def type_as(self, other: Tensor) -> Tensor:
    """``self.to(other.dtype)``."""
    return to(self, other.dtype)


Tensor.type_as = type_as


def view_as(self, other: Tensor) -> Tensor:
    """``self.view(other.size())``."""
    return S.view(self, other.shape)


def reshape_as(self, other: Tensor) -> Tensor:
    """``self.reshape(other.size())``."""
    return S.reshape(self, other.shape)


Tensor.view_as = view_as
Tensor.reshape_as = reshape_as
Tensor.T = property(lambda self: S.permute(self, tuple(range(self.ndim))[::-1]),
                    doc="The tensor with all dimensions reversed.")
Tensor.mT = property(lambda self: S.transpose(self, -2, -1),
                     doc="The transpose of the last two dimensions.")
Tensor.H = property(lambda self: S.permute(self, tuple(range(self.ndim))[::-1]).conj())
Tensor.mH = property(lambda self: S.transpose(self, -2, -1).conj())


# -- construction helpers ----------------------------------------------------------------
def _new_factory(name: str):
    def f(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
          pin_memory=False, **kw):
        from . import _creation

        if "size" in kw:  # x.new_zeros(size=(2, 3))
            if size:
                raise TypeError(f"new_{name}() got multiple values for argument 'size'")
            size = (kw.pop("size"),)
        if kw:
            raise TypeError(f"new_{name}() got an unexpected keyword argument "
                            f"'{next(iter(kw))}'")
        return getattr(_creation, name)(*size, dtype=dtype or self.dtype,
                                        device=device or self.device,
                                        requires_grad=requires_grad)
    f.__doc__ = f"``ember.{name}`` with this tensor's dtype and device by default."
    return f


Tensor.new_zeros = _new_factory("zeros")
Tensor.new_ones = _new_factory("ones")
Tensor.new_empty = _new_factory("empty")


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """``ember.full`` with this tensor's dtype and device by default."""
    from ._creation import full

    return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                requires_grad=requires_grad)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    """``ember.tensor(data)`` with this tensor's dtype and device by default."""
    from ._creation import tensor

    return tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)


Tensor.new_full = new_full
Tensor.new_tensor = new_tensor


# uniform_, normal_ and the other random fills are attached by _surface() below


def bernoulli_(self, p=0.5, *, generator=None) -> Tensor:
    """Fills the tensor in place with 0/1 draws of probability ``p`` (a number or a
    tensor)."""
    from . import _random

    if self.is_meta:
        return self
    rng = _random.generator_for(self.device, generator)
    probs = p._data if isinstance(p, Tensor) else p
    # as PyTorch's CPU kernels: a float uniform per element for a tensor of probabilities,
    # a double one for a number
    u = _random.in_memory_order(  # visiting memory as PyTorch's kernel does
        lambda s: rng.random(s, dtype=np.float32 if isinstance(p, Tensor) else np.float64),
        self._data.shape, _random.memory_order(self._data))
    draw = u < probs
    self._data[...] = draw.astype(self._data.dtype)
    self._vc[0] += 1
    return self


def _bernoulli(self, p=None, *, generator=None) -> Tensor:
    from ._creation import bernoulli

    return bernoulli(self, p, generator=generator)


Tensor.bernoulli_ = bernoulli_
Tensor.bernoulli = _bernoulli


def conj(self) -> Tensor:
    """The complex conjugate (the tensor itself for real dtypes)."""
    if self._data.dtype.kind != "c":
        return self
    return _Conj.apply(self)


class _Conj(Op):
    _name = "conj"

    def forward(self, x):
        return x.conj()

    def backward(self, g):
        return g.conj()


Tensor.conj = conj
Tensor.real = property(lambda self: _spectral.real(self), doc="The real part.")
Tensor.imag = property(lambda self: _spectral.imag(self), doc="The imaginary part.")
Tensor.stft = _method(_spectral.stft)
Tensor.istft = _method(_spectral.istft)
Tensor.angle = _method(_spectral.angle)

def _lazy_method(self, name: str):
    """Resolves methods whose modules load on first use (the linalg spellings such as
    ``det`` or ``cholesky``), so that ``import ember`` stays light."""
    if name.startswith("__"):
        raise AttributeError(name)
    from .linalg._torch_api import TENSOR_METHODS

    fn = TENSOR_METHODS.get(name)
    if fn is None:
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
    setattr(Tensor, name, _method(fn))
    return getattr(self, name)


Tensor.__getattr__ = _lazy_method


def nonzero(self, *, as_tuple: bool = False):
    """Indices of nonzero elements: an (n, ndim) int64 tensor, or a tuple of 1-D tensors."""
    xp = xp_of(self._data)
    idx = xp.nonzero(self._data) if self.ndim else xp.nonzero(self._data.reshape(1))
    if self.ndim == 0 and not as_tuple:
        return Tensor._make(xp.zeros((int(bool(self._data)), 0), dtype=np.int64))
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64)) for i in idx)
    return Tensor._make(xp.stack(idx, axis=1).astype(np.int64) if len(idx) else
                        xp.zeros((int(bool(self._data)), 0), dtype=np.int64))


Tensor.nonzero = nonzero
Tensor.argwhere = lambda self: nonzero(self)
Tensor.is_set_to = lambda self, other: self._data is other._data
Tensor.data_ptr = lambda self: (self._data.__array_interface__["data"][0]
                                if isinstance(self._data, np.ndarray) else self._data.data.ptr)
Tensor.untyped_storage = lambda self: UntypedStorage(self)
Tensor.pin_memory = lambda self, device=None: self
Tensor.is_pinned = lambda self, device=None: False
Tensor.share_memory_ = _shared_memory.share_memory_
Tensor.is_shared = _shared_memory.is_shared


class UntypedStorage:
    """``torch.UntypedStorage``: the bytes under a tensor (``t.untyped_storage()``: its base
    array's ``data_ptr`` and ``nbytes``), or ``UntypedStorage(n)`` new zeroed bytes."""

    def __init__(self, t=0):
        if isinstance(t, int) and not isinstance(t, bool):
            self._arr = np.zeros(t, dtype=np.uint8)
            return
        if not isinstance(t, Tensor):
            raise TypeError(f"UntypedStorage(): expected a size or a Tensor, got "
                            f"{type(t).__name__}")
        base = t._data
        while getattr(base, "base", None) is not None and hasattr(base.base, "dtype"):
            base = base.base
        self._arr = base

    def __len__(self) -> int:
        return self.nbytes()

    def data_ptr(self) -> int:
        a = self._arr
        return a.__array_interface__["data"][0] if isinstance(a, np.ndarray) else a.data.ptr

    def nbytes(self) -> int:
        return int(self._arr.nbytes)

    def size(self) -> int:
        return int(self._arr.nbytes)


# -- the rest of the op surface ------------------------------------------------------------
def _surface() -> None:
    from .ops import random_ops, scan, sort
    from .ops import special as SP

    plain = {
        "asinh": E.asinh, "acosh": E.acosh, "atanh": E.atanh, "arcsinh": E.asinh,
        "arccosh": E.acosh, "arctanh": E.atanh, "deg2rad": E.deg2rad, "rad2deg": E.rad2deg,
        "sinc": E.sinc, "logit": E.logit, "hypot": E.hypot, "fmax": E.fmax, "fmin": E.fmin,
        "copysign": E.copysign, "logaddexp": E.logaddexp, "logaddexp2": E.logaddexp2,
        "heaviside": E.heaviside, "float_power": E.float_power, "xlogy": SP.xlogy,
        "lgamma": SP.lgamma, "digamma": SP.digamma, "mvlgamma": SP.mvlgamma,
        "erfinv": SP.erfinv, "i0": SP.i0,
        "bitwise_left_shift": C.bitwise_left_shift,
        "bitwise_right_shift": C.bitwise_right_shift, "isreal": C.isreal,
        "nanmean": R.nanmean, "count_nonzero": R.count_nonzero, "aminmax": R.aminmax,
        "trace": R.trace, "renorm": R.renorm, "cov": R.cov, "corrcoef": R.corrcoef,
        "cumprod": scan.cumprod, "cummax": scan.cummax, "cummin": scan.cummin,
        "logcumsumexp": scan.logcumsumexp, "diff": scan.diff, "median": sort.median,
        "nanmedian": sort.nanmedian, "mode": sort.mode, "quantile": sort.quantile,
        "nanquantile": sort.nanquantile, "msort": sort.msort, "kthvalue": sort.kthvalue,
        "unique": sort.unique, "unique_consecutive": sort.unique_consecutive,
        "histc": sort.histc, "histogram": sort.histogram, "bincount": sort.bincount,
        "as_strided": S.as_strided, "unfold": S.unfold,
        "repeat_interleave": S.repeat_interleave, "tensor_split": S.tensor_split,
        "hsplit": S.hsplit, "vsplit": S.vsplit, "dsplit": S.dsplit, "fliplr": S.fliplr,
        "flipud": S.flipud, "rot90": S.rot90, "diag": S.diag, "diag_embed": S.diag_embed,
        "diagonal": S.diagonal, "index_copy": I.index_copy, "index_fill": I.index_fill,
        "scatter_reduce": I.scatter_reduce, "masked_scatter": I.masked_scatter,
        "take": I.take, "put": I.put, "vdot": L.vdot, "inner": L.inner,
        "baddbmm": L.baddbmm, "addmv": L.addmv, "addbmm": L.addbmm, "addr": L.addr,
        "kron": L.kron, "positive": lambda self: self,
    }
    for name, fn in plain.items():
        setattr(Tensor, name, _method(fn))
    _PLAIN.update(plain)
    _PLAIN["polygamma"] = lambda self, n: SP.polygamma(n, self)
    Tensor.polygamma = lambda self, n: SP.polygamma(n, self)
    for name in ("asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "deg2rad",
                 "rad2deg", "sinc", "logit", "hypot", "copysign", "heaviside", "float_power",
                 "xlogy", "lgamma", "digamma", "polygamma", "mvlgamma", "erfinv", "i0",
                 "bitwise_left_shift", "bitwise_right_shift", "renorm", "cumprod", "cumsum",
                 "index_copy", "index_fill", "scatter_reduce", "masked_scatter", "baddbmm",
                 "addmv", "addbmm", "addr", "addmm", "fix", "sgn", "square", "fmod",
                 "remainder", "tan"):
        setattr(Tensor, name + "_", _make_inplace(name, _PLAIN[name]))
    Tensor.put_ = I.put_
    Tensor.__lshift__ = lambda self, other: C.bitwise_left_shift(self, other)
    Tensor.__rlshift__ = lambda self, other: C.bitwise_left_shift(other, self)
    Tensor.__rshift__ = lambda self, other: C.bitwise_right_shift(self, other)
    Tensor.__rrshift__ = lambda self, other: C.bitwise_right_shift(other, self)
    Tensor.__ilshift__ = lambda self, other: self.bitwise_left_shift_(other)
    Tensor.__irshift__ = lambda self, other: self.bitwise_right_shift_(other)

    def random_fill(kind):
        def f(self, *args, generator=None, **kwargs):
            if _State.enabled and self.requires_grad and self.grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad is being used in an "
                                   "in-place operation.")
            if self.is_meta:  # no values to fill
                return self
            xp = xp_of(self._data)
            # a CPU generator's draws come on the host
            arr = xp.asarray(random_ops.fill_random(self, kind, args, kwargs, generator))
            if needs_graph(self):
                return commit_inplace(self, _Fill.apply(self, Tensor._make(arr)), kind + "_")
            xp.copyto(self._data, arr, casting="unsafe")
            self._vc[0] += 1
            return self
        f.__name__ = kind + "_"
        f.__doc__ = f"Fills the tensor in place with {kind.replace('_', ' ')} random values."
        return f

    for kind in ("uniform", "normal", "exponential", "geometric", "cauchy", "log_normal",
                 "random"):
        setattr(Tensor, kind + "_", random_fill(kind))

    def to_sparse(self, sparse_dim=None, **kwargs):
        from .sparse import to_sparse as f

        return f(self, sparse_dim)

    Tensor.to_sparse = to_sparse
    Tensor.to_sparse_coo = to_sparse
    Tensor.to_dense = lambda self, dtype=None, **kw: self if dtype is None else to(self, dtype)


_surface()


def _number_and_predicate_methods() -> None:
    """gcd/lcm/ldexp/frexp/nextafter, igamma/igammac, dist, diagflat, hardshrink, the
    predicates and conjugate-bit methods, and the in-place spellings PyTorch also has."""
    from . import _function_aliases as FA
    from .ops import number as N
    from .ops import special as SP
    from .ops.activation import hardshrink

    plain = {
        "gcd": N.gcd, "lcm": N.lcm, "ldexp": N.ldexp, "frexp": N.frexp,
        "nextafter": N.nextafter, "igamma": SP.igamma, "igammac": SP.igammac,
        "dist": R.dist, "diagflat": S.diagflat, "hardshrink": hardshrink,
        "positive": FA.positive, "is_signed": FA.is_signed, "is_same_size": FA.is_same_size,
        "is_nonzero": FA.is_nonzero, "is_conj": FA.is_conj, "is_neg": FA.is_neg,
        "resolve_conj": FA.resolve_conj, "resolve_neg": FA.resolve_neg,
        "conj_physical": FA.conj_physical,
    }
    for name, fn in plain.items():
        setattr(Tensor, name, _method(fn))
    _PLAIN.update(plain)
    for name in ("absolute", "arccos", "arcsin", "arctan", "arctan2", "gcd", "lcm", "ldexp",
                 "nextafter", "igamma", "igammac"):
        setattr(Tensor, name + "_", _make_inplace(name, _PLAIN[name]))
    for name in ("greater", "greater_equal", "less", "less_equal", "not_equal"):
        setattr(Tensor, name + "_", _cmp_inplace(name))
    Tensor.conj_physical_ = FA.conj_physical_


_number_and_predicate_methods()


def _view_variant_methods() -> None:
    """The in-place view ops (squeeze_, t_, resize_, ...), the *_scatter/copy variants of
    the views, index_reduce, fill_diagonal_, prelu, multinomial and the legacy ``new``."""
    from . import _creation, _creation_extra
    from .ops import index_reduce as IR
    from .ops import inplace_views as IV
    from .ops import shape_copy as SC
    from .ops import view_scatter as VS
    from .ops.activation import prelu

    for name in IV.__all__:
        setattr(Tensor, name, getattr(IV, name))
    plain = {
        "select_scatter": VS.select_scatter, "slice_scatter": VS.slice_scatter,
        "diagonal_scatter": VS.diagonal_scatter, "as_strided_scatter": VS.as_strided_scatter,
        "split_with_sizes": SC.split_with_sizes, "unsafe_chunk": SC.unsafe_chunk,
        "unsafe_split": SC.unsafe_split, "unsafe_split_with_sizes": SC.unsafe_split_with_sizes,
        "ravel": SC.ravel, "narrow_copy": SC.narrow_copy, "sum_to_size": SC.sum_to_size,
        "index_reduce": IR.index_reduce, "index_reduce_": IR.index_reduce_,
        "nonzero_static": IR.nonzero_static, "fill_diagonal_": VS.fill_diagonal_,
        "prelu": prelu, "multinomial": _creation.multinomial,
        "new_empty_strided": _creation_extra.new_empty_strided,
    }
    for name, fn in plain.items():
        setattr(Tensor, name, _method(fn))
    Tensor.new = _creation_extra.new


_view_variant_methods()


# -- DLPack: np.from_dlpack(t), torch.from_dlpack(t) and cupy.from_dlpack(t) share memory --
def _dlpack(self, *, stream=None, max_version=None, dl_device=None, copy=None):
    """A DLPack capsule of the tensor's array (its memory is shared)."""
    if self.requires_grad:
        raise RuntimeError("Can't export tensors that require gradient, use tensor.detach()")
    kwargs = {} if stream is None else {"stream": stream}
    return self._data.__dlpack__(**kwargs)


Tensor.__dlpack__ = _dlpack
Tensor.__dlpack_device__ = lambda self: self._data.__dlpack_device__()

# -- apply_/map_/map2_, set_, as_subclass, dim_order, adjoint and the small predicates -----
from ._tensor_methods_extra import install as _install_extra  # noqa: E402

_install_extra()
