"""Tensor creation: ``tensor``, ``as_tensor``, ``zeros``/``ones``/``full``/``empty``,
``arange``, ``linspace``, ``eye``, the ``*_like`` forms, and random tensors."""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import _device, _dtype, _random
from . import _memory_format as _mf
from ._dtype import get_default_dtype, to_dtype
from ._meta import META_RNG, meta_array
from ._tensor import Tensor

__all__ = ["tensor", "as_tensor", "asarray", "zeros", "ones", "full", "empty", "arange",
           "linspace", "eye", "zeros_like", "ones_like", "full_like", "empty_like", "rand",
           "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like",
           "scalar_tensor", "bernoulli", "multinomial", "normal", "poisson", "binomial",
           "empty_strided",
           "tril_indices", "triu_indices"]


def _size(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = s.item()
        if not isinstance(s, (int, np.integer)):
            raise TypeError(f"expected a sequence of integers for the size, got "
                            f"{type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(size)}")
        out.append(int(s))
    return tuple(out)


def _finish(arr, device, requires_grad: bool) -> Tensor:
    dev = _device.to_device(device)
    if dev.type == "meta":
        arr = meta_array(arr.shape, arr.dtype)
    elif dev.type != "cpu":
        xp = _device.array_module(dev)
        with xp.cuda.Device(dev.index):
            arr = xp.asarray(arr)
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _xp(device):
    dev = _device.to_device(device)
    return _device.array_module(dev), dev


def _infer_np(data):
    """A numpy array of ``data`` with PyTorch's dtype inference for Python values."""
    if isinstance(data, np.ndarray):
        _dtype.from_numpy_dtype(data.dtype)
        return data
    if isinstance(data, np.generic):
        return np.asarray(data)
    if isinstance(data, bool):
        return np.asarray(data, dtype=np.bool_)
    if isinstance(data, numbers.Integral):
        return np.asarray(data, dtype=np.int64)
    if isinstance(data, numbers.Real):
        return np.asarray(data, dtype=get_default_dtype().np)
    if isinstance(data, numbers.Complex):
        return np.asarray(data, dtype=get_default_dtype().to_complex().np)
    if isinstance(data, Tensor):
        return data.__array__()
    if isinstance(data, range):
        data = list(data)
    if isinstance(data, (list, tuple)):
        want = None
        if _has_tensor(data):  # PyTorch promotes the elements' dtypes (a tensor's own)
            want = _seq_dtype(data)
            data = _tensors_to_arrays(data)
        try:
            arr = np.array(data) if want is None else np.array(data, dtype=want.np)
        except ValueError as e:
            raise ValueError(f"expected a rectangular nested sequence of numbers: {e}") from None
        if want is not None:
            return arr
        if arr.dtype == object:
            raise RuntimeError(f"Could not infer dtype of {_kinds(data)} (tensor() expects "
                               "numbers, tensors or nested sequences of them)")
        kinds = _python_kinds(data)
        if arr.size == 0 and not kinds:  # tensor([]) takes the default dtype
            return arr.astype(get_default_dtype().np)
        if arr.dtype.kind == "f" and "f" in kinds:
            return arr.astype(get_default_dtype().np, copy=False)
        if arr.dtype.kind == "c" and "c" in kinds:
            return arr.astype(get_default_dtype().to_complex().np, copy=False)
        if arr.dtype.kind in "iu" and "i" in kinds:
            return arr.astype(np.int64, copy=False)
        if arr.dtype.kind in "US":
            raise TypeError("new(): invalid data type 'str'")
        return arr
    if hasattr(data, "__array__"):
        return np.asarray(data)
    raise TypeError(f"Could not infer dtype of {type(data).__name__}")


def _has_tensor(seq) -> bool:
    for x in seq:
        if isinstance(x, Tensor):
            return True
        if isinstance(x, (list, tuple)) and _has_tensor(x):
            return True
    return False


def _seq_dtype(seq):
    """PyTorch's dtype for a nested sequence: the promotion of its elements' dtypes, with
    Python floats (complexes) of the default (complex) dtype and ints of int64."""
    d = None
    for x in seq:
        if isinstance(x, (list, tuple)):
            xd = _seq_dtype(x)
        elif isinstance(x, Tensor):
            xd = x.dtype
        elif isinstance(x, (np.ndarray, np.generic)):
            xd = _dtype.from_numpy_dtype(x.dtype)
        elif isinstance(x, bool):
            xd = _dtype.bool
        elif isinstance(x, numbers.Integral):
            xd = _dtype.int64
        elif isinstance(x, numbers.Real):
            xd = get_default_dtype()
        elif isinstance(x, numbers.Complex):
            xd = get_default_dtype().to_complex()
        else:
            continue
        if xd is not None:
            d = xd if d is None else _dtype.promote_types(d, xd)
    return d


def _tensors_to_arrays(seq):
    return [x.__array__() if isinstance(x, Tensor) else
            (_tensors_to_arrays(x) if isinstance(x, (list, tuple)) else x) for x in seq]


def _python_kinds(seq) -> set:
    """The kinds of Python scalars in a nested sequence ('b', 'i', 'f', 'c')."""
    kinds = set()
    stack = [seq]
    while stack:
        s = stack.pop()
        for x in s:
            if isinstance(x, (list, tuple)):
                stack.append(x)
            elif isinstance(x, np.generic):  # numpy scalars keep their own dtype
                kinds.add("N")
            elif isinstance(x, bool):
                kinds.add("b")
            elif isinstance(x, numbers.Integral) and not isinstance(x, np.integer):
                kinds.add("i")
            elif isinstance(x, float):
                kinds.add("f")
            elif isinstance(x, complex):
                kinds.add("c")
            elif isinstance(x, np.ndarray) and x.dtype == np.float64:
                kinds.add("F")
    return kinds


def _kinds(data) -> str:
    return ", ".join(sorted({type(x).__name__ for x in data}))


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays); the dtype is
    inferred as PyTorch does (Python floats -> the default dtype, ints -> int64)."""
    if isinstance(data, Tensor):
        arr = data._data.copy()
        dev = device if device is not None else data.device
        t = Tensor._make(arr)
        t = t.to(dtype=to_dtype(dtype)) if dtype is not None else t
        t = t.to(dev) if _device.to_device(dev) != t.device else t
        if requires_grad:
            t.requires_grad_(True)
        return t
    arr = _direct_float(data, dtype) if dtype is not None else None
    if arr is None:
        arr = _infer_np(data)
        if dtype is not None:
            arr = arr.astype(to_dtype(dtype).np)
    if arr is data or arr.base is not None or not arr.flags.c_contiguous:
        arr = arr.copy()
    return _finish(arr, device, requires_grad)


def _direct_float(data, dtype):
    """Python numbers converted straight to an explicit float/complex dtype (not through
    the default dtype first, which would round ``0.1`` to float32 for a float64 tensor)."""
    if not isinstance(data, (float, complex, list, tuple)) or (
            isinstance(data, (list, tuple)) and _has_tensor(data)):
        return None
    d = to_dtype(dtype)
    if d.np.kind not in "fc" or d is _dtype.bfloat16:
        return None
    try:
        arr = np.array(data, dtype=d.np)
    except (ValueError, TypeError):
        return None
    return arr if arr.dtype != object else None


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` as a tensor, sharing memory with a numpy array or tensor when dtype and
    device allow."""
    if isinstance(data, Tensor):
        out = data
        if dtype is not None and to_dtype(dtype) != data.dtype:
            out = out.to(dtype=to_dtype(dtype))
        if device is not None and _device.to_device(device) != out.device:
            out = out.to(device)
        return out
    if isinstance(data, np.ndarray):
        arr = data
        if dtype is not None and to_dtype(dtype).np != arr.dtype:
            arr = arr.astype(to_dtype(dtype).np)
        _dtype.from_numpy_dtype(arr.dtype)
        dev = _device.to_device(device)
        if dev.type == "cpu":
            return Tensor._make(arr)
        return _finish(arr, dev, False)
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A 0-dim tensor holding ``s`` (default dtype unless given)."""
    return full((), s, dtype=dtype or get_default_dtype(), device=device,
                requires_grad=requires_grad)


def _size_keyword(name: str, size: tuple, kw: dict) -> tuple:
    """``size`` of ``fn(*size, ...)``, or the ``size=`` keyword (``torch.zeros(size=(2,
    3))``) when given that way; other unknown keywords are refused as Python would."""
    if not kw:
        return size
    bad = set(kw) - {"size"}
    if bad:
        raise TypeError(f"{name}() got an unexpected keyword argument '{bad.pop()}'")
    if size:
        raise TypeError(f"{name}() got multiple values for argument 'size'")
    return (kw["size"],)


def _factory(fill: str):
    def fn(*size, dtype=None, device=None, requires_grad: bool = False, out=None,
           layout=None, pin_memory: bool = False, memory_format=None, **kw) -> Tensor:
        shape = _size(_size_keyword(fill, size, kw))
        d = to_dtype(dtype) if dtype is not None else get_default_dtype()
        xp, dev = _xp(device)
        if dev.type == "cpu":
            arr = getattr(xp, fill)(shape, dtype=d.np)
        elif dev.type == "meta":
            arr = meta_array(shape, d.np)
        else:
            arr = _on_cuda(dev, lambda: getattr(xp, fill)(shape, dtype=d.np))
        t = Tensor._make(arr)
        if requires_grad:
            t.requires_grad_(True)
        if out is not None:
            out._data = arr
            return out
        return t
    fn.__name__ = fill
    fn.__doc__ = f"A tensor of the given size filled with {fill} (default dtype unless given)."
    return fn


def _on_cuda(dev, make):  # pragma: no cover - cuda
    xp = _device.array_module(dev)
    with xp.cuda.Device(dev.index):
        return make()


zeros = _factory("zeros")
ones = _factory("ones")
empty = _factory("empty")


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False,
         out=None, layout=None, pin_memory: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from the value)."""
    shape = _size((size,) if isinstance(size, int) else tuple(size))
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    d = to_dtype(dtype) if dtype is not None else _dtype.scalar_dtype(fill_value)
    xp, dev = _xp(device)
    if d.np.kind in "iu" and isinstance(fill_value, float):
        from .ops._prep import checked_int_scalar  # inf/NaN raise, as in PyTorch

        fill_value = checked_int_scalar(fill_value, d.np)
    try:
        arr = xp.full(shape, fill_value, dtype=d.np)
    except OverflowError:  # -1 for uint8 wraps to 255; 300 raises RuntimeError
        from .ops._prep import checked_int_scalar

        arr = xp.full(shape, checked_int_scalar(fill_value, d.np), dtype=d.np)
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _like(fn_name: str):
    def fn(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
           layout=None, memory_format=None, pin_memory=False) -> Tensor:
        factory = globals()[fn_name]
        out = factory(input.shape, dtype=dtype if dtype is not None else input.dtype,
                      device=device if device is not None else input.device,
                      requires_grad=requires_grad)
        return _like_format(out, input, memory_format)
    fn.__name__ = fn_name + "_like"
    fn.__doc__ = f"``{fn_name}`` with the size (and by default dtype and device) of ``input``."
    return fn


zeros_like = _like("zeros")
ones_like = _like("ones")
empty_like = _like("empty")


def full_like(input: Tensor, fill_value, *, dtype=None, device=None,
              requires_grad: bool = False, memory_format=None) -> Tensor:
    """``full`` with the size (and by default dtype and device) of ``input``."""
    out = full(input.shape, fill_value, dtype=dtype if dtype is not None else input.dtype,
               device=device if device is not None else input.device,
               requires_grad=requires_grad)
    return _like_format(out, input, memory_format)


def _like_format(out: Tensor, input: Tensor, memory_format) -> Tensor:
    """A ``*_like`` result laid out as ``memory_format`` asks: by default
    (``preserve_format``) channels-last when ``input`` is."""
    data = out._data
    if type(data).__name__ == "MetaArray":
        return out
    if memory_format in (None, "torch.preserve_format"):
        if not _mf.suggests_channels_last(input._data):
            return out
        memory_format = _mf.channels_last if data.ndim == 4 else _mf.channels_last_3d
    elif memory_format == "torch.contiguous_format":
        return out
    out._data = _mf.as_format(_xp(out.device)[0], data, memory_format)
    return out


def arange(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False,
           out=None, layout=None) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 when all arguments
    are integers, else the default float dtype."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                     for v in vals)
        d = _dtype.int64 if is_int else get_default_dtype()
    else:
        d = to_dtype(dtype)
    n = int(math.ceil((end - start) / step))
    if d.is_floating_point or d.is_complex:
        arr = (start + step * np.arange(n, dtype=np.float64)).astype(d.np)
    else:
        arr = (np.arange(n, dtype=np.int64) * int(step) + int(start)).astype(d.np) \
            if float(step).is_integer() and float(start).is_integer() else \
            np.floor(start + step * np.arange(n, dtype=np.float64)).astype(d.np)
    return _finish(arr, device, requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None,
             requires_grad: bool = False, out=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    d = to_dtype(dtype) if dtype is not None else get_default_dtype()
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    i = np.arange(steps, dtype=np.float64)
    if steps > 1 and (d.is_floating_point and d.np != np.float64):
        # PyTorch steps in float32 and fuses multiply-add (one rounding): emulated exactly by
        # a float64 multiply-add rounded to float32
        s32, e32 = np.float32(start), np.float32(end)
        step = np.float64((e32 - s32) / np.float32(steps - 1))
        half = steps // 2
        arr = np.where(i < half, step * i + np.float64(s32),
                       np.float64(e32) - step * (steps - 1 - i)).astype(np.float32)
    elif steps > 1 and d.np == np.float64:  # the same fused multiply-add in long double
        wide = np.longdouble
        step = wide((end - start) / (steps - 1))
        half = steps // 2
        iw = i.astype(wide)
        arr = np.where(iw < half, step * iw + wide(start),
                       wide(end) - step * (steps - 1 - iw)).astype(np.float64)
    elif steps > 1:
        step = (end - start) / (steps - 1)
        half = steps // 2
        arr = np.where(i < half, start + step * i, end - step * (steps - 1 - i))
    else:
        arr = np.full(steps, start, dtype=np.float64)
    if not (d.is_floating_point or d.is_complex):
        arr = np.trunc(arr)
    return _finish(arr.astype(d.np), device, requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``."""
    d = to_dtype(dtype) if dtype is not None else get_default_dtype()
    lin = linspace(start, end, steps, dtype=_dtype.float64)._data
    return _finish((base ** lin).astype(d.np), device, requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, device=None,
        requires_grad: bool = False, out=None) -> Tensor:
    """The ``n x m`` identity matrix."""
    d = to_dtype(dtype) if dtype is not None else get_default_dtype()
    xp, dev = _xp(device)
    t = Tensor._make(xp.eye(n, n if m is None else m, dtype=d.np))
    if requires_grad:
        t.requires_grad_(True)
    return t


# -- random ------------------------------------------------------------------------------
def _float_dtype(dtype) -> _dtype.dtype:
    d = to_dtype(dtype) if dtype is not None else get_default_dtype()
    if not (d.is_floating_point or d.is_complex):
        from .ops.compare import _pt_name

        raise NotImplementedError(f"\"check_uniform_bounds\" not implemented for "
                                  f"'{_pt_name(d)}'")
    return d


def _rng(dev, generator):
    """The generator to draw from on ``dev`` (the meta device's draws have no values)."""
    if dev.type == "meta":
        return META_RNG
    return _random.generator_for(dev, generator)


def _draw_float(rng, kind: str, shape, d: _dtype.dtype):
    if d.is_complex:  # real and imaginary parts, each of half the variance (as PyTorch)
        part = np.float32 if d == _dtype.complex64 else np.float64
        pair = _random.uniform_array(rng, tuple(shape) + (2,), 0.0, 1.0, part) \
            if kind == "uniform" else \
            _random.normal_array(rng, tuple(shape) + (2,), 0.0, 1 / math.sqrt(2), part)
        return (pair[..., 0] + 1j * pair[..., 1]).astype(d.np)
    if kind == "uniform":
        return _random.uniform_array(rng, shape, 0.0, 1.0, d.np)
    return _random.normal_array(rng, shape, 0.0, 1.0, d.np)


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False,
         out=None, layout=None, pin_memory=False, **kw) -> Tensor:
    """Uniform random values on [0, 1)."""
    shape = _size(_size_keyword("rand", size, kw))
    d = _float_dtype(dtype)
    dev = _device.to_device(device)
    arr = _draw_float(_rng(dev, generator), "uniform", shape, d)
    t = Tensor._make(arr)
    return t.requires_grad_(True) if requires_grad else t


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False,
          out=None, layout=None, pin_memory=False, **kw) -> Tensor:
    """Standard normal random values."""
    shape = _size(_size_keyword("randn", size, kw))
    d = _float_dtype(dtype)
    dev = _device.to_device(device)
    arr = _draw_float(_rng(dev, generator), "normal", shape, d)
    t = Tensor._make(arr)
    return t.requires_grad_(True) if requires_grad else t


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad: bool = False, out=None) -> Tensor:
    """Random integers on [low, high) (int64 unless ``dtype`` is given)."""
    if size is None:  # randint(high, size)
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing required argument 'size'")
    if high is None:  # randint(high, size=...)
        low, high = 0, low
    low, high = int(low), int(high)
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    d = to_dtype(dtype) if dtype is not None else _dtype.int64
    dev = _device.to_device(device)
    rng = _rng(dev, generator)
    arr = rng.integers(low, high, size=_size((tuple(size),)), dtype=np.int64).astype(d.np)
    return Tensor._make(arr)


def randperm(n: int, *, generator=None, dtype=None, device=None,
             requires_grad: bool = False, out=None) -> Tensor:
    """A random permutation of 0..n-1 (int64 unless ``dtype`` is given)."""
    d = to_dtype(dtype) if dtype is not None else _dtype.int64
    dev = _device.to_device(device)
    rng = _rng(dev, generator)
    return Tensor._make(rng.permutation(int(n)).astype(d.np))


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    """0/1 draws with probabilities ``input`` (or the scalar ``p``), in ``input``'s dtype."""
    from .ops.random_ops import bernoulli as _b

    return _b(input, p, generator=generator)


def poisson(input: Tensor, generator=None) -> Tensor:
    """Poisson draws with rates ``input``."""
    from .ops.random_ops import poisson as _p

    return _p(input, generator)


def binomial(count: Tensor, prob: Tensor, generator=None) -> Tensor:
    """Binomial draws: successes in ``count`` trials of probability ``prob``."""
    from .ops.random_ops import binomial as _b

    return _b(count, prob, generator)


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad: bool = False,
                  layout=None, pin_memory: bool = False) -> Tensor:
    """An uninitialised tensor with the given sizes and strides (in elements)."""
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(size)} sizes and "
                           f"{len(stride)} strides")
    if any(s < 0 for s in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(size)}")
    n = 1 + sum((s - 1) * st for s, st in zip(size, stride)) if all(size) else 0
    store = empty(n, dtype=dtype, device=device)
    from .ops.shape import as_strided

    t = Tensor._make(as_strided(store, size, stride, 0)._data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _tri_indices(row: int, col: int, offset: int, lower: bool, dtype, device) -> Tensor:
    d = to_dtype(dtype) if dtype is not None else _dtype.int64
    if row < 0 or col < 0:
        raise RuntimeError(f"row must be non-negative, got {row}" if row < 0 else
                           f"col must be non-negative, got {col}")
    xp, dev = _xp(device)
    r, c = (xp.tril_indices if lower else xp.triu_indices)(int(row), int(offset), int(col))
    return Tensor._make(xp.stack([r, c]).astype(d.np).reshape(2, -1))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None) -> Tensor:
    """The (2, N) coordinates of the lower triangle of a ``row x col`` matrix (row-major)."""
    return _tri_indices(row, col, offset, True, dtype, device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None) -> Tensor:
    """The (2, N) coordinates of the upper triangle of a ``row x col`` matrix (row-major)."""
    return _tri_indices(row, col, offset, False, dtype, device)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator=None) -> Tensor:
    """Indices drawn from the categorical distributions in the rows of ``input`` (1-D or
    2-D, non-negative weights), with or without replacement."""
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if input._data.dtype.kind not in "fV":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{input.dtype}")
    n = input.shape[-1]
    if num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples (got {num_samples})")
    if not replacement and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    w = input._data.reshape(-1, n).astype(np.float64)
    xp = np if type(w) is np.ndarray else _device.array_module(input.device)
    if bool((w < 0).any()) or not bool(xp.isfinite(w).all()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    total = w.sum(axis=1, keepdims=True)
    if bool((total == 0).any()):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = _random.generator_for(input.device, generator)
    rows = w.shape[0]
    # as PyTorch's CPU kernel, in the input's precision (float32 for the half types)
    work = np.float64 if input._data.dtype == np.float64 else np.float32
    wd = input._data.reshape(-1, n).astype(work)
    if replacement:  # inverse CDF: the first bucket whose cumulative mass reaches u
        cdf = xp.cumsum(wd, axis=1, dtype=work)
        cdf /= cdf[:, -1:]
        cdf[:, -1] = 1
        u = rng.random((rows, num_samples))  # double uniforms, row by row
        idx = (cdf[:, None, :] < u[:, :, None]).sum(axis=2)
    else:  # exponential race: the largest w / E win, in order (PyTorch's topk of w / E)
        e = (-xp.log1p(-rng.random((rows, n)))).astype(work)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = wd / e
        idx = xp.argsort(-q, axis=1, kind="stable")[:, :num_samples]
    idx = idx.astype(np.int64)
    return Tensor._make(idx.reshape(num_samples) if input.ndim == 1 else idx)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Normal draws with the given (tensor or scalar) ``mean`` and ``std``; differentiable
    in tensor ``mean``/``std`` (the draw is ``mean + std * eps``)."""
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if tensors:
        shape = np.broadcast_shapes(*[tuple(t.shape) for t in tensors])
        dev = tensors[0].device
        d = _dtype.result_type(*[t for t in (mean, std) if isinstance(t, Tensor)])
    else:
        if size is None:
            raise TypeError("normal() missing required argument 'size'")
        shape = _size((tuple(size),))
        dev = _device.to_device(device)
        d = to_dtype(dtype) if dtype is not None else get_default_dtype()
    if isinstance(std, (int, float)) and std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    eps = Tensor._make(_draw_float(_rng(dev, generator), "normal", shape, d))
    if not tensors:
        out = Tensor._make((mean + std * eps._data).astype(d.np))
        return out.requires_grad_(True) if requires_grad else out
    return mean + std * eps


def rand_like(input: Tensor, *, dtype=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    """``rand`` with the size, dtype and device of ``input``."""
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input: Tensor, *, dtype=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    """``randn`` with the size, dtype and device of ``input``."""
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def randint_like(input: Tensor, low=0, high=None, *, dtype=None, device=None,
                 requires_grad=False, memory_format=None) -> Tensor:
    """``randint`` with the size, dtype and device of ``input``."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype,
                   device=device or input.device)


def _tensor_ctor_data(args, dtype, device):
    """Data for the legacy constructor ``ember.Tensor(...)``: sizes or data, float dtype."""
    d = to_dtype(dtype) if dtype is not None else get_default_dtype()
    if not args:
        return np.empty((0,), dtype=d.np)
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
        return np.zeros(tuple(int(a) for a in args), dtype=d.np)
    if len(args) == 1 and isinstance(args[0], Size_types()):
        return np.zeros(tuple(args[0]), dtype=d.np)
    arr = _infer_np(args[0])
    return np.array(arr, dtype=d.np)


def Size_types():
    from ._tensor import Size

    return (Size,)


# -- out=: these compute out of place; the result is written into ``out`` when given ---------
from ._out_arg import wrap_out_functions  # noqa: E402

wrap_out_functions(globals(), [
    'full', 'arange', 'linspace', 'eye', 'rand', 'randn', 'randint', 'randperm'])
