"""Batched stand-ins for ``vmap``: run the mapped function once on whole batches.

Inside ``vmap(f)`` each batched input is replaced by a ``BatchedTensor``: a view of the
unbatched element (its *logical* tensor) that keeps the whole batch in one physical ember
tensor. The physical tensor holds one leading dimension per enclosing ``vmap`` level the value
depends on (outermost first), then the logical dimensions:

    physical shape = (size of level i for each level in ``levels``) + logical shape

An op between stand-ins aligns them (a size-1 dimension for each level one lacks, logical
dimensions right-aligned as in broadcasting) and runs once on the physical tensors. So
nested ``vmap`` over index vectors, as in attention-mask builders, costs a handful of
broadcast ops instead of one Python call per element.

Only ops whose batched form is known run this way: elementwise arithmetic, comparisons and
logic (as operators or methods), dtype/device conversions, ``new_*`` constructors, and
indexing an unbatched tensor with (batched) integer indices. Anything else touches the
stand-in's storage, which raises ``Unbatchable``; ``vmap`` then reruns the function once per
element. The stand-ins never reach user code outside ``vmap``.
"""

from __future__ import annotations

from .. import _dtype
from .. import _tensor as _T
from ..ops.index import Unbatchable

__all__ = ["BatchedTensor", "Unbatchable", "to_batched", "from_batched", "getitem_batched"]


def _levels(x) -> tuple:
    return x._levels if isinstance(x, BatchedTensor) else ()


def _aligned(x, levels: tuple, rank: int, sizes: dict):
    """The physical tensor of ``x`` with a dimension for every level of ``levels`` (size 1
    where ``x`` lacks it) and ``rank`` logical dimensions (leading ones of size 1 added)."""
    if isinstance(x, BatchedTensor):
        phys, own = x._phys, x._levels
        logical = tuple(phys.shape[len(own):])
    elif isinstance(x, _T.Tensor):
        phys, own, logical = x, (), tuple(x.shape)
    else:
        return x  # a Python scalar broadcasts by itself
    lead = tuple(sizes[lv] if lv in own else 1 for lv in levels)
    shape = lead + (1,) * (rank - len(logical)) + logical
    return phys if tuple(phys.shape) == shape else phys.reshape(shape)


def _union(args) -> tuple[tuple, int, dict]:
    levels: set = set()
    rank = 0
    sizes: dict = {}
    for a in args:
        if isinstance(a, BatchedTensor):
            levels.update(a._levels)
            for lv, n in zip(a._levels, a._phys.shape):
                sizes[lv] = n
            rank = max(rank, a._phys.dim() - len(a._levels))
        elif isinstance(a, _T.Tensor):
            rank = max(rank, a.dim())
    return tuple(sorted(levels)), rank, sizes


def _wrap(phys, levels: tuple):
    return BatchedTensor(phys, levels) if levels else phys


def _lift(fn):
    """``fn`` (a binary op with PyTorch's type promotion) on plain tensors, applied to
    stand-ins / tensors / scalars by alignment."""
    def batched(*args):
        levels, rank, sizes = _union(args)
        phys = [_aligned(a, levels, rank, sizes) for a in args]
        if len({a.dtype for a in args if isinstance(a, _T.Tensor)}) > 1:
            # promote as the logical operands would: alignment gives a 0-dim element a
            # physical dimension, which would change its rank in promotion
            common = _dtype.result_type(*args)
            phys = [p.to(common) if isinstance(p, _T.Tensor) and p.dtype != common else p
                    for p in phys]
        return _wrap(fn(*phys), levels)
    return batched


def _check_operand(x) -> None:
    if not isinstance(x, (_T.Tensor, bool, int, float, complex)):
        raise Unbatchable(f"vmap: no batched form for an operand of type {type(x).__name__}")


def _binary(name: str, reflected: bool = False):
    def op(self, other):
        _check_operand(other)
        f = getattr(_T.Tensor, name)
        a, b = (other, self) if reflected else (self, other)
        if not isinstance(a, _T.Tensor) and not isinstance(a, BatchedTensor):
            # scalar on the left: run the reflected operator of the physical tensor
            levels, rank, sizes = _union((b,))
            return _wrap(getattr(_T.Tensor, _REFLECT[name])(_aligned(b, levels, rank, sizes),
                                                            a), levels)
        return _lift(lambda x, y: f(x, y))(a, b)
    op.__name__ = name
    return op


_REFLECT = {"__add__": "__radd__", "__sub__": "__rsub__", "__mul__": "__rmul__",
            "__truediv__": "__rtruediv__", "__floordiv__": "__rfloordiv__",
            "__mod__": "__rmod__", "__pow__": "__rpow__", "__and__": "__rand__",
            "__or__": "__ror__", "__xor__": "__rxor__", "__lt__": "__gt__", "__le__": "__ge__",
            "__gt__": "__lt__", "__ge__": "__le__", "__eq__": "__eq__", "__ne__": "__ne__"}
_BINARY = ("__add__", "__sub__", "__mul__", "__truediv__", "__floordiv__", "__mod__",
           "__pow__", "__and__", "__or__", "__xor__")
_COMPARE = ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__")
_SAME_SHAPE_METHODS = ("abs", "neg", "logical_not", "bitwise_not", "long", "int", "float",
                       "double", "bool", "half", "clone", "contiguous", "detach", "sign")
_BINARY_METHODS = ("add", "sub", "mul", "div", "eq", "ne", "lt", "le", "gt", "ge",
                   "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
                   "remainder", "floor_divide", "maximum", "minimum")


class BatchedTensor(_T.Tensor):
    """A vmap stand-in: behaves as its logical (per-element) tensor for the ops it knows."""

    __slots__ = ("_phys", "_levels")

    def __init__(self, phys, levels: tuple):  # noqa: D107 - internal
        self._phys = phys
        self._levels = levels

    # any ember code that reads the storage directly meets this: no batched form
    @property
    def _data(self):
        raise Unbatchable("vmap: this operation has no batched form")

    # -- the logical view --------------------------------------------------------------
    @property
    def shape(self):
        """The logical (per-element) shape."""
        return _T.Size(self._phys.shape[len(self._levels):])

    def size(self, dim: int | None = None):
        """The logical shape, or one of its sizes."""
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        """The logical number of dimensions."""
        return self._phys.dim() - len(self._levels)

    @property
    def ndim(self) -> int:
        """The logical number of dimensions."""
        return self.dim()

    def numel(self) -> int:
        """Elements of the logical tensor."""
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def dtype(self):
        """The element type."""
        return self._phys.dtype

    @property
    def device(self):
        """The device of the batch."""
        return self._phys.device

    @property
    def is_cuda(self) -> bool:
        """True on a CUDA device."""
        return self._phys.is_cuda

    @property
    def requires_grad(self) -> bool:
        """Whether the batch is tracked by autograd."""
        return self._phys.requires_grad

    def __repr__(self) -> str:
        return f"BatchedTensor(levels={self._levels}, logical shape={tuple(self.shape)})"

    def __bool__(self):
        raise Unbatchable("vmap: data-dependent control flow on a batched value")

    def item(self):
        """No batched form (each element has its own value)."""
        raise Unbatchable("vmap: .item() of a batched value")

    __index__ = __int__ = __float__ = item

    def __len__(self) -> int:
        if not self.dim():
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        raise Unbatchable("vmap: iterating over a batched value")

    __hash__ = object.__hash__

    # -- conversions ---------------------------------------------------------------------
    def to(self, *args, **kwargs):
        """``to(dtype)`` / ``to(device)`` of every element."""
        return BatchedTensor(self._phys.to(*args, **kwargs), self._levels)

    def type_as(self, other):
        """Converted to ``other``'s dtype."""
        return self.to(other.dtype)

    def new_ones(self, *size, **kwargs):
        """An unbatched tensor of ones (as ``Tensor.new_ones``)."""
        return self._phys.new_ones(*size, **kwargs)

    def new_zeros(self, *size, **kwargs):
        """An unbatched tensor of zeros (as ``Tensor.new_zeros``)."""
        return self._phys.new_zeros(*size, **kwargs)

    def new_full(self, size, fill_value, **kwargs):
        """An unbatched filled tensor (as ``Tensor.new_full``)."""
        return self._phys.new_full(size, fill_value, **kwargs)

    def new_tensor(self, data, **kwargs):
        """An unbatched tensor from ``data`` (as ``Tensor.new_tensor``)."""
        return self._phys.new_tensor(data, **kwargs)

    def __getitem__(self, idx):
        raise Unbatchable("vmap: indexing a batched tensor has no batched form here")

    def __neg__(self):
        return BatchedTensor(-self._phys, self._levels)

    def __abs__(self):
        return BatchedTensor(abs(self._phys), self._levels)

    def __invert__(self):
        return BatchedTensor(~self._phys, self._levels)

    def __pos__(self):
        return self


for _name in _BINARY:
    setattr(BatchedTensor, _name, _binary(_name))
    setattr(BatchedTensor, _REFLECT[_name], _binary(_name, reflected=True))
for _name in _COMPARE:
    setattr(BatchedTensor, _name, _binary(_name))


def _method_same_shape(name: str):
    def m(self, *args, **kwargs):
        return BatchedTensor(getattr(self._phys, name)(*args, **kwargs), self._levels)
    m.__name__ = name
    return m


def _method_binary(name: str):
    def m(self, other, *args, **kwargs):
        _check_operand(other)
        return _lift(lambda x, y: getattr(x, name)(y, *args, **kwargs))(self, other)
    m.__name__ = name
    return m


for _name in _SAME_SHAPE_METHODS:
    setattr(BatchedTensor, _name, _method_same_shape(_name))
for _name in _BINARY_METHODS:
    setattr(BatchedTensor, _name, _method_binary(_name))


def getitem_batched(x, idx):
    """``x[idx]`` for an unbatched ``x`` whose index holds stand-ins: supported when every
    index entry is an integer tensor (batched or not) or an int, so all index dimensions are
    advanced and broadcast together."""
    items = idx if isinstance(idx, tuple) else (idx,)
    if len(items) > x.dim():
        raise Unbatchable("vmap: too many indices")
    for i in items:
        ok = isinstance(i, int) and not isinstance(i, bool)
        if isinstance(i, _T.Tensor):
            ok = not i.dtype.is_floating_point and i.dtype.name != "bool"
        if not ok:
            raise Unbatchable("vmap: only integer tensor indices have a batched form")
    levels, rank, sizes = _union(items)
    from .._creation import tensor

    phys = tuple(_aligned(i if isinstance(i, _T.Tensor) else tensor(i, device=x.device),
                          levels, rank, sizes) for i in items)
    return _wrap(x[phys], levels)  # (levels..., broadcast index shape, x's other dims)


def to_batched(x, dim: int, level: int):
    """The stand-in mapping dimension ``dim`` of ``x``'s logical tensor to vmap ``level``."""
    if isinstance(x, BatchedTensor):
        k = len(x._levels)
        return BatchedTensor(x._phys.movedim(k + dim, k), x._levels + (level,))
    return BatchedTensor(x.movedim(dim, 0), (level,))


def from_batched(x, level: int, out_dim: int, size: int):
    """The value of one vmap output leaf: ``level``'s batch dimension moved to logical
    position ``out_dim`` (a leaf independent of the level is expanded to ``size``)."""
    levels = _levels(x)
    phys = x._phys if levels else x
    rest = tuple(lv for lv in levels if lv != level)
    k = len(rest)
    logical_rank = phys.dim() - len(levels)
    d = out_dim % (logical_rank + 1)
    if level in levels:
        phys = phys.movedim(levels.index(level), k + d)
    else:
        phys = phys.unsqueeze(k + d)
        shape = list(phys.shape)
        shape[k + d] = size
        phys = phys.expand(shape)
    return _wrap(phys, rest)
