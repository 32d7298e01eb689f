"""Shape ops: view/reshape, permute/transpose, squeeze/unsqueeze, expand, flatten, flip,
cat/stack, split/chunk/unbind, narrow, contiguous.

Ops that return views of their input record it: the view shares the input's version counter
(so an in-place change through either is seen by autograd) and remembers how to recompute
itself from its base (``_view_fn``), which in-place ops on views use to rebase the graph.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _memory_format as _mf
from .._tensor import Size, Tensor, _wrap_dim
from ..autograd.grad_mode import _State
from ._prep import accepts_axis, cast, check_same_device, unbroadcast
from .op import Op, graphless, xp_of

__all__ = ["view", "reshape", "permute", "transpose", "squeeze", "unsqueeze", "expand",
           "flatten", "unflatten", "flip", "cat", "concat", "concatenate", "stack", "split",
           "chunk", "unbind", "narrow", "contiguous", "t", "movedim", "expand_as",
           "broadcast_to", "swapaxes", "resize_out", "tile", "roll", "meshgrid",
           "broadcast_tensors", "diagonal", "diag_embed", "diag", "as_strided",
           "tensor_split", "hsplit", "vsplit", "dsplit", "atleast_1d", "atleast_2d",
           "atleast_3d", "hstack", "vstack", "row_stack", "dstack", "column_stack", "fliplr",
           "flipud", "rot90", "broadcast_shapes", "repeat_interleave", "block_diag",
           "cartesian_prod", "combinations", "diagflat", "vander"]


def mark_view(result: Tensor, inp: Tensor, fn, always: bool = False) -> Tensor:
    """Records that ``result`` is a view of ``inp`` produced by ``fn(inp)`` (``always``: the
    op never copies, so the check whether it did is skipped)."""
    if not always:
        r = result._data
        if r.size and not xp_of(r).may_share_memory(r, inp._data):
            return result  # a copy was made (reshape of a non-contiguous tensor)
    result._vc = inp._vc
    result._view_ver = inp._vc[0]
    base = inp._base
    if base is None:
        result._base = inp
        result._view_fn = fn
    else:
        result._base = base
        parent = inp._view_fn
        result._view_fn = lambda b: fn(parent(b))
    return result


def _keyword_form(args: tuple, value, name: str, op: str) -> tuple:
    """The varargs of a shape method called in its keyword form (``x.flip(dims=(1,))``,
    ``x.reshape(shape=...)``): ``(value,)``; an error when both forms are given."""
    if value is None:
        return args
    if args:
        raise TypeError(f"{op}() got multiple values for argument '{name}'")
    return (value,)


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = shape[0]
    return tuple(map(int, shape))


def _target_shape(args: tuple, numel: int) -> tuple:
    """The shape that ``view``/``reshape`` arguments ``args`` (ints, or one sequence) ask for
    a tensor of ``numel`` elements, ``-1`` inferred."""
    shape = _shape_arg(args)
    if -1 not in shape and math.prod(shape) == numel and (not shape or min(shape) >= 0):
        return shape  # (the common case, checked first)
    return _infer_shape(shape, numel)


def _infer_shape(shape: tuple, numel: int) -> tuple:
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = list(shape)
        shape[neg[0]] = numel // known
        return tuple(shape)
    if known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class Reshape(Op):
    _name = "reshape"

    def forward(self, x):
        self.in_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, g):
        return g.reshape(self.in_shape)


class View(Reshape):
    _name = "view"

    def forward(self, x):
        self.in_shape = x.shape
        return _view_array(x, self.shape)


def _view_array(x, shape):
    """``x`` (numpy or CuPy) seen with ``shape``; raises rather than copying."""
    r = x.view()
    try:
        r.shape = shape
    except AttributeError:
        raise RuntimeError(
            f"view size is not compatible with input tensor's size and stride (at least one "
            f"dimension spans across two contiguous subspaces). Use .reshape(...) instead. "
            f"(input shape {list(x.shape)}, requested {list(shape)})") from None
    return r


def view(input: Tensor, *shape, size=None) -> Tensor:
    """A view with a new shape (no copy; raises if the strides don't allow it).
    ``view(dtype)`` reinterprets the bytes."""
    if size is not None:
        shape = _keyword_form(shape, size, "size", "view")
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list, Size)):
        from .._dtype import to_dtype

        d = to_dtype(shape[0])
        return mark_view(Tensor._make(input._data.view(d.np)), input, lambda b: b.view(d))
    s = _target_shape(shape, input._data.size)
    if graphless():
        r = Tensor._make(_view_array(input._data, s))
    else:
        r = View.apply(input, shape=s)
    return mark_view(r, input, lambda b: view(b, s), always=True)


def reshape(input: Tensor, *args, shape=None) -> Tensor:
    """The tensor with a new shape: a view when the strides allow, else a copy."""
    if shape is not None:
        args = _keyword_form(args, shape, "shape", "reshape")
    s = _target_shape(args, input._data.size)
    if s == input._data.shape:
        return alias(input)
    r = Reshape.apply(input, shape=s)
    return mark_view(r, input, lambda b: reshape(b, s))


class Alias(Op):
    _name = "alias"

    def forward(self, x):
        return x.view()

    def backward(self, g):
        return g


def alias(input: Tensor) -> Tensor:
    """A view of the whole tensor."""
    return mark_view(Alias.apply(input), input, alias, always=True)


class Permute(Op):
    _name = "permute"

    def forward(self, x):
        return x.transpose(self.dims)

    def backward(self, g):
        inv = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inv[d] = i
        return g.permute(inv)


def permute(input: Tensor, *args, dims=None) -> Tensor:
    """A view with the dimensions reordered."""
    dims = _shape_arg(_keyword_form(args, dims, "dims", "permute"))
    nd = input.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {nd} is not equal to len(dims) = {len(dims)}")
    dims = tuple(_wrap_dim(d, nd) for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    r = Permute.apply(input, dims=dims)
    return mark_view(r, input, lambda b: permute(b, dims), always=True)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """A view with two dimensions swapped."""
    nd = input._data.ndim
    if nd == 0:
        return alias(input)
    d0 = dim0 if 0 <= dim0 < nd else _wrap_dim(dim0, nd)
    d1 = dim1 if 0 <= dim1 < nd else _wrap_dim(dim1, nd)
    perm = list(range(nd))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    if graphless():
        r = Tensor._make(input._data.transpose(perm))
    else:
        r = Permute.apply(input, dims=tuple(perm))
    return mark_view(r, input, lambda b: transpose(b, d0, d1), always=True)


swapaxes = transpose
swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Transpose of a tensor of at most 2 dimensions."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else alias(input)


def movedim(input: Tensor, source, destination) -> Tensor:
    """Moves dimensions ``source`` to positions ``destination``."""
    nd = input.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if nd == 0:  # a scalar: dims 0 and -1 name it, and nothing moves (as PyTorch)
        for d in src + dst:
            _wrap_dim(d, 1)
        return alias(input)
    src = [_wrap_dim(s, nd) for s in src]
    dst = [_wrap_dim(d, nd) for d in dst]
    order = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim


@accepts_axis
def squeeze(input: Tensor, dim=None) -> Tensor:
    """Removes dimensions of size 1 (all of them, or those in ``dim``)."""
    shape = input.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = {_wrap_dim(d, input.ndim) for d in dims}
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    r = Reshape.apply(input, shape=new)
    return mark_view(r, input, lambda b: squeeze(b, dim), always=True)


@accepts_axis
def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Inserts a dimension of size 1 at ``dim``."""
    d = _wrap_dim(dim, input.ndim + 1)
    shape = list(input._data.shape)
    shape.insert(d, 1)
    r = Reshape.apply(input, shape=tuple(shape))
    return mark_view(r, input, lambda b: unsqueeze(b, d), always=True)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Flattens dimensions ``start_dim`` to ``end_dim`` into one."""
    nd = input.ndim
    if nd == 0:
        return reshape(input, (1,))
    s, e = _wrap_dim(start_dim, nd), _wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input._data.shape
    n = 1
    for k in shape[s:e + 1]:
        n *= k
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Expands dimension ``dim`` into ``sizes``."""
    d = _wrap_dim(dim, input.ndim)
    shape = list(input._data.shape)
    sizes = list(sizes)
    if -1 in sizes:
        known = int(np.prod([s for s in sizes if s != -1]))
        sizes[sizes.index(-1)] = shape[d] // known
    if int(np.prod(sizes)) != shape[d]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shape[d]}) in the input tensor")
    return view(input, tuple(shape[:d] + sizes + shape[d + 1:]))


class Expand(Op):
    _name = "expand"

    def forward(self, x):
        self.in_shape = x.shape
        if x.size and x.size == math.prod(self.shape):
            # nothing is repeated (only size-1 dims added): a writable view, as PyTorch's
            # in-place writes into such an expand are allowed
            return x[(None,) * (len(self.shape) - x.ndim)]
        return xp_of(x).broadcast_to(x, self.shape)

    def backward(self, g):
        return unbroadcast(g, self.in_shape)


def expand(input: Tensor, *sizes, size=None) -> Tensor:
    """A broadcast view to ``sizes`` (-1 keeps a dimension)."""
    sizes = _shape_arg(_keyword_form(sizes, size, "size", "expand"))
    shape = input._data.shape
    nd = len(sizes)
    if nd < len(shape):
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(shape)}}}, size={list(sizes)}): "
                           f"the number of sizes provided ({nd}) must be greater or equal to "
                           f"the number of dimensions in the tensor ({len(shape)})")
    off = nd - len(shape)
    out = []
    for i, s in enumerate(sizes):
        if i >= off:
            cur = shape[i - off]
            if s == -1:
                s = cur
            elif cur != 1 and cur != s:
                raise RuntimeError(
                    f"The expanded size of the tensor ({s}) must match the existing size ({cur})"
                    f" at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor "
                    f"sizes: {list(shape)}")
        elif s == -1:
            raise RuntimeError("expand: -1 is not allowed in a leading, non-existing dimension")
        out.append(s)
    out = tuple(out)
    if out == shape:
        return alias(input)
    r = Expand.apply(input, shape=out)
    return mark_view(r, input, lambda b: expand(b, out), always=True)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.expand(other.size())``."""
    return expand(input, other.shape)


def broadcast_to(input: Tensor, size) -> Tensor:
    """``input.expand(size)``."""
    return expand(input, tuple(size))


class Flip(Op):
    _name = "flip"

    def forward(self, x):
        return xp_of(x).flip(x, self.dims).copy() if x.ndim else x.copy()

    def backward(self, g):
        return g.flip(self.dims)


def flip(input: Tensor, *args, dims=None) -> Tensor:
    """Reverses the order of elements along ``dims`` (a copy, as in PyTorch)."""
    dims = _shape_arg(_keyword_form(args, dims, "dims", "flip"))
    return Flip.apply(input, dims=tuple(_wrap_dim(d, input.ndim) for d in dims))


class Contiguous(Op):
    _name = "contiguous"

    def forward(self, x):
        return xp_of(x).ascontiguousarray(x)

    def backward(self, g):
        return g


def contiguous(input: Tensor, memory_format=None) -> Tensor:
    """The tensor itself when already contiguous (in ``memory_format``: default row-major,
    or channels_last/channels_last_3d), else a copy laid out so."""
    if memory_format in (None, "torch.contiguous_format", "torch.preserve_format"):
        if input._data.flags.c_contiguous:
            return input
        return Contiguous.apply(input)
    return to_memory_format(input, memory_format)


class ToMemoryFormat(Op):
    """A copy of the input laid out in ``memory_format`` (see ``ember._memory_format``)."""

    _name = "to_memory_format"

    def forward(self, x):
        return _mf.as_format(xp_of(x), x, self.memory_format, getattr(self, "copy", False))

    def backward(self, g):
        return g


def follow_format(out: Tensor, *inputs) -> Tensor:
    """``out`` laid out channels-last when any of ``inputs`` is (and ``out`` is not): the
    output format of PyTorch's CPU convolutions, batch norm and max pooling."""
    d = out._data
    if getattr(d, "ndim", 0) not in (4, 5) or type(d).__name__ == "MetaArray" or \
            _mf.suggests_channels_last(d):
        return out
    if any(t is not None and _mf.suggests_channels_last(t._data) for t in inputs):
        return ToMemoryFormat.apply(out, memory_format=_mf.channels_last if d.ndim == 4
                                    else _mf.channels_last_3d)
    return out


def to_memory_format(input: Tensor, memory_format) -> Tensor:
    """``input`` itself when already laid out in ``memory_format``, else such a copy."""
    if type(input._data).__name__ == "MetaArray" or \
            _mf.is_contiguous_as(input._data, memory_format):
        return input  # (a meta tensor has no layout to change)
    return ToMemoryFormat.apply(input, memory_format=memory_format)


class Cat(Op):
    """Concatenation; inputs flagged in ``skip`` (1-D empty tensors) take no part but still
    get an (empty) gradient, as in PyTorch."""

    _name = "cat"

    def forward(self, *xs):
        skip = self.skip
        kept = [x for x, s in zip(xs, skip) if not s] if skip else xs
        if _State.enabled:  # (for the backward; under no_grad there is none)
            self.sizes = [x.shape[self.dim] for x in kept]
        x0 = kept[0]
        return (np if type(x0) is np.ndarray else xp_of(x0)).concatenate(kept, axis=self.dim)

    def backward(self, g):
        parts = iter(split(g, self.sizes, self.dim))
        if not self.skip:
            return tuple(parts)
        return tuple(g.new_zeros((0,)) if s else next(parts) for s in self.skip)


def _plain_cat_dim(tensors: list, dim) -> int | None:
    """``dim`` wrapped when ``tensors`` are CPU tensors of one dtype and rank, none a 1-D
    empty one, matching but along ``dim``: the case that needs none of ``cat``'s checks
    and no promotion (every decoding step's cache grows so). None otherwise."""
    t0 = tensors[0]
    if type(t0) is not Tensor:
        return None
    d0 = t0._data
    s0 = d0.shape
    nd = len(s0)
    if type(d0) is not np.ndarray or type(dim) is not int or not -nd <= dim < nd or \
            (nd == 1 and s0[0] == 0):
        return None
    d = dim + nd if dim < 0 else dim
    dt0 = d0.dtype
    for t in tensors[1:]:
        if type(t) is not Tensor:
            return None
        a = t._data
        if type(a) is not np.ndarray or a.dtype != dt0:
            return None
        s = a.shape
        if len(s) != nd or s[:d] != s0[:d] or s[d + 1:] != s0[d + 1:] or \
                (nd == 1 and s[0] == 0):
            return None
    return d


def cat(tensors, dim: int = 0, *, out=None, axis=None) -> Tensor:
    """Concatenates tensors along ``dim`` (1-d empty tensors are skipped, as in PyTorch;
    ``axis=`` is NumPy's spelling of ``dim``)."""
    if axis is not None:
        dim = axis
    if type(tensors) is not list:
        tensors = list(tensors)
    if out is None and tensors:
        d = _plain_cat_dim(tensors, dim)
        if d is not None:
            if graphless():
                return Tensor._make(np.concatenate([t._data for t in tensors], axis=d))
            return Cat.apply(*tensors, dim=d, skip=None)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    shapes, skip, kept = [], [], []
    same_dtype, dt0 = True, None
    for i, t_ in enumerate(tensors):  # (one loop: this runs for every decoding step's cache)
        if not isinstance(t_, Tensor):
            raise TypeError(f"expected Tensor as element in argument 0, but got "
                            f"{type(t_).__name__}")
        d_ = t_._data
        s = d_.shape
        shapes.append(s)
        empty = len(s) == 1 and s[0] == 0
        skip.append(empty)
        if not empty:
            kept.append(i)
        if dt0 is None:
            dt0 = d_.dtype
        elif d_.dtype != dt0:
            same_dtype = False
    if not kept:
        skip[0] = False
        kept.append(0)
    ref, rs = tensors[kept[0]], shapes[kept[0]]
    if not rs:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _wrap_dim(dim, len(rs))
    for n, i in enumerate(kept[1:], 1):
        x, xs = tensors[i], shapes[i]
        check_same_device(ref, x, "cat")
        if len(xs) != len(rs):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {len(rs)} "
                               f"and {len(xs)}")
        if xs[:d] != rs[:d] or xs[d + 1:] != rs[d + 1:]:
            k = next(k for k in range(len(rs)) if k != d and xs[k] != rs[k])
            raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                               f"Expected size {rs[k]} but got size {xs[k]} for "
                               f"tensor number {n} in the list.")
    skip = skip if len(kept) != len(tensors) else None
    if same_dtype:
        r = Cat.apply(*tensors, dim=d, skip=skip)
        return r if out is None else resize_out(out, r)
    dt = tensors[0].dtype
    for x in tensors[1:]:
        if x.dtype != dt:
            from .._dtype import promote_types

            dt = promote_types(dt, x.dtype)
    r = Cat.apply(*[cast(x, dt) for x in tensors], dim=d, skip=skip)
    if out is not None:
        return resize_out(out, r)
    return r


concat = cat
concatenate = cat


class Stack(Op):
    _name = "stack"

    def forward(self, *xs):
        return xp_of(xs[0]).stack(xs, axis=self.dim)

    def backward(self, g):
        return tuple(unbind(g, self.dim))


@accepts_axis
def stack(tensors, dim: int = 0, *, out=None) -> Tensor:
    """Stacks same-shaped tensors along a new dimension ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    ref = tensors[0]
    for i, x in enumerate(tensors[1:], 1):
        if x.shape != ref.shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(ref.shape)} at entry 0 and {list(x.shape)} at entry {i}")
    d = _wrap_dim(dim, ref.ndim + 1)
    dt = ref.dtype
    for x in tensors[1:]:
        if x.dtype != dt:
            from .._dtype import promote_types

            dt = promote_types(dt, x.dtype)
    r = Stack.apply(*[cast(x, dt) for x in tensors], dim=d)
    if out is not None:
        return resize_out(out, r)
    return r


def split(tensor: Tensor, split_size_or_sections, dim: int = 0):
    """Splits into chunks of ``split_size`` (the last may be smaller) or of the given sizes;
    each chunk is a view."""
    d = _wrap_dim(dim, tensor._data.ndim)
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s <= 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        sizes = ([s] * (n // s) + ([n % s] if n % s else []) or [0]) if s else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
    out = []
    start = 0
    for s in sizes:
        out.append(_narrow(tensor, d, start, s))
        start += s
    return tuple(out)


def tensor_split_sizes(n: int, chunks: int) -> list:
    size = -(-n // chunks) if chunks else 0
    return [min(size, n - i) for i in range(0, n, size)] if size else [0]


@accepts_axis
def chunk(input: Tensor, chunks: int, dim: int = 0):
    """Splits into ``chunks`` views of equal size (the last may be smaller)."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    d = _wrap_dim(dim, input.ndim)
    n = input.shape[d]
    if n == 0:  # PyTorch gives `chunks` empty pieces
        return split(input, [0] * chunks, d)
    return split(input, -(-n // chunks), d)


class Narrow(Op):
    _name = "narrow"

    def forward(self, x):
        self.in_shape = x.shape
        return _narrow_array(x, self.dim, self.start, self.length)

    def backward(self, g):
        pad_before = self.start
        pad_after = self.in_shape[self.dim] - self.start - self.length
        return _pad_dim(g, self.dim, pad_before, pad_after)


def _pad_dim(g: Tensor, dim: int, before: int, after: int) -> Tensor:
    parts = []
    if before:
        shape = list(g.shape)
        shape[dim] = before
        parts.append(g.new_zeros(shape))
    parts.append(g)
    if after:
        shape = list(g.shape)
        shape[dim] = after
        parts.append(g.new_zeros(shape))
    return cat(parts, dim) if len(parts) > 1 else g


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """A view of ``length`` elements along ``dim`` from ``start``."""
    d = _wrap_dim(dim, input.ndim)
    n = input._data.shape[d]
    start = int(start)
    if start < 0:
        start += n
    if start < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return _narrow(input, d, start, int(length))


def _narrow_array(x, d: int, start: int, length: int):
    """The view of ``length`` entries of array ``x`` along dim ``d`` from ``start``."""
    return x[(slice(None),) * d + (slice(start, start + length),)]


def _narrow(input: Tensor, d: int, start: int, length: int) -> Tensor:
    """``narrow`` with its arguments already checked (``d`` >= 0, in range)."""
    if graphless():
        r = Tensor._make(_narrow_array(input._data, d, start, length))
    else:
        r = Narrow.apply(input, dim=d, start=start, length=length)
    return mark_view(r, input, lambda b: _narrow(b, d, start, length), always=True)


class Select(Op):
    _name = "select"

    def forward(self, x):
        self.in_shape = x.shape
        idx = [slice(None)] * x.ndim
        idx[self.dim] = self.index
        return x[tuple(idx)]

    def backward(self, g):
        g = g.unsqueeze(self.dim)
        i = self.index
        return _pad_dim(g, self.dim, i, self.in_shape[self.dim] - i - 1)


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The view at ``index`` along ``dim`` (that dimension removed)."""
    d = _wrap_dim(dim, input.ndim)
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {d}")
    i = index + n if index < 0 else index
    r = Select.apply(input, dim=d, index=i)
    return mark_view(r, input, lambda b: select(b, d, i), always=True)


@accepts_axis
def unbind(input: Tensor, dim: int = 0):
    """The slices along ``dim``, as a tuple of views."""
    d = _wrap_dim(dim, input.ndim)
    return tuple(select(input, d, i) for i in range(input.shape[d]))


def resize_out(out: Tensor, result: Tensor) -> Tensor:
    """Writes ``result`` into the ``out=`` tensor (resizing it when its shape differs)."""
    if out.requires_grad and out.grad_fn is None:
        from ..autograd.grad_mode import is_grad_enabled

        if is_grad_enabled():
            raise RuntimeError("out=... arguments don't support automatic differentiation, but "
                               "one of the arguments requires grad.")
    data = result._data
    if out._data.shape != data.shape:
        out._data = data.astype(out._data.dtype, copy=True)
    else:
        xp_of(data).copyto(out._data, data, casting="unsafe")
    out._bump()
    return out


# -- repeat, tile, roll, meshgrid ------------------------------------------------------------
class Repeat(Op):
    """``x`` tiled ``reps`` times along each dimension (``x`` already has ``len(reps)``
    dims)."""

    _name = "repeat"

    def forward(self, x):
        self.in_shape = x.shape
        return xp_of(x).tile(x, self.reps)

    def backward(self, g):
        inter = []  # (r0, s0, r1, s1, ...): each tile's copy of each input dimension
        for r, n in zip(self.reps, self.in_shape):
            inter += [r, n]
        return g.reshape(inter).sum(tuple(range(0, len(inter), 2)))


def repeat(input: Tensor, *sizes, repeats=None) -> Tensor:
    """The tensor repeated ``sizes[i]`` times along dimension ``i`` (leading new dims when
    more sizes than dims are given), as ``Tensor.repeat``."""
    sizes = _shape_arg(_keyword_form(sizes, repeats, "repeats", "repeat"))
    if len(sizes) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           f"of dimensions of tensor (repeat dims {list(sizes)}, tensor shape "
                           f"{list(input.shape)})")
    if any(r < 0 for r in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(sizes)}")
    x = input
    if len(sizes) > x.ndim:
        x = reshape(x, (1,) * (len(sizes) - x.ndim) + tuple(x.shape))
    return Repeat.apply(x, reps=tuple(sizes))


def tile(input: Tensor, dims) -> Tensor:
    """``repeat`` with ``dims`` padded with leading ones to the tensor's rank."""
    dims = tuple(dims) if isinstance(dims, (list, tuple, Size)) else (dims,)
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return repeat(input, dims)


class Roll(Op):
    _name = "roll"

    def forward(self, x):
        xp = xp_of(x)
        if self.dims is None:
            return xp.roll(x.reshape(-1), self.shifts).reshape(x.shape)
        return xp.roll(x, self.shifts, axis=self.dims)

    def backward(self, g):
        back = tuple(-s for s in self.shifts) if isinstance(self.shifts, tuple) \
            else -self.shifts
        return Roll.apply(g, shifts=back, dims=self.dims)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Rolls elements along ``dims`` by ``shifts`` (the flattened tensor when dims is
    None)."""
    if dims is None:
        if isinstance(shifts, (tuple, list)):
            if len(shifts) != 1:
                raise RuntimeError(f"roll: shifts {list(shifts)} given without dims")
            shifts = shifts[0]
        return Roll.apply(input, shifts=int(shifts), dims=None)
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(dims)}")
    dims = tuple(_wrap_dim(d, input.ndim) for d in dims)
    return Roll.apply(input, shifts=tuple(int(s) for s in shifts), dims=dims)


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (views)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    try:
        shape = np.broadcast_shapes(*[tuple(t.shape) for t in tensors])
    except ValueError:
        raise RuntimeError("broadcast_tensors: shapes " + ", ".join(
            str(list(t.shape)) for t in tensors) + " cannot be broadcast together") from None
    # as PyTorch, a tensor already of the broadcast shape is returned itself
    return tuple(t if tuple(t.shape) == shape else expand(t, shape) for t in tensors)


def meshgrid(*tensors, indexing: str | None = None):
    """Coordinate grids from 1-D tensors (``indexing='ij'``, the default, or ``'xy'``)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    indexing = indexing or "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    for t_ in tensors:
        if t_.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {t_.ndim}D")
    ts = [reshape(t_, (-1,)) for t_ in tensors]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    n = len(ts)
    shape = tuple(t_.shape[0] for t_ in ts)
    grids = [expand(reshape(t_, (1,) * i + (-1,) + (1,) * (n - i - 1)), shape)
             for i, t_ in enumerate(ts)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


# -- diagonals -------------------------------------------------------------------------------
def _as_strided(arr, shape, strides_elems):
    """A strided view of ``arr``'s memory from its first element (strides in elements)."""
    item = arr.itemsize
    return xp_of(arr).lib.stride_tricks.as_strided(
        arr, shape=tuple(shape), strides=tuple(int(s) * item for s in strides_elems))


def _diag_view(x, offset: int, d1: int, d2: int):
    """The diagonal of array ``x`` over dims (d1, d2) as a writable view, last dim."""
    nd = x.ndim
    n1, n2 = x.shape[d1], x.shape[d2]
    if offset >= 0:
        n = max(min(n1, n2 - offset), 0)
        start = [slice(None)] * nd
        if n:
            start[d2] = slice(offset, None)
    else:
        n = max(min(n1 + offset, n2), 0)
        start = [slice(None)] * nd
        if n:
            start[d1] = slice(-offset, None)
    base = x[tuple(start)]
    st = [s // x.itemsize for s in x.strides]
    keep = [d for d in range(nd) if d not in (d1, d2)]
    shape = [x.shape[d] for d in keep] + [n]
    strides = [st[d] for d in keep] + [st[d1] + st[d2]]
    return _as_strided(base, shape, strides)


class Diagonal(Op):
    _name = "diagonal"

    def forward(self, x):
        self.in_shape = x.shape
        return _diag_view(x, self.offset, self.d1, self.d2)

    def backward(self, g):
        return DiagScatter.apply(g, out_shape=self.in_shape, offset=self.offset, d1=self.d1,
                                 d2=self.d2)


class DiagScatter(Op):
    """Zeros of ``out_shape`` with the input written on a diagonal (diag_embed)."""

    _name = "diagonal_scatter"

    def forward(self, src):
        out = xp_of(src).zeros(self.out_shape, dtype=src.dtype)
        _diag_view(out, self.offset, self.d1, self.d2)[...] = src
        return out

    def backward(self, g):
        return diagonal(g, self.offset, self.d1, self.d2)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A view of the diagonal over ``dim1``/``dim2`` (appended as the last dimension)."""
    nd = input.ndim
    d1, d2 = _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    r = Diagonal.apply(input, offset=int(offset), d1=d1, d2=d2)
    return mark_view(r, input, lambda b: diagonal(b, offset, d1, d2))


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Tensors whose diagonals (over ``dim1``/``dim2`` of the result) hold the last
    dimension of ``input``; the other entries are zero."""
    nd = input.ndim + 1
    d1, d2 = _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = input.shape[-1] + abs(int(offset)) if input.ndim else 1 + abs(int(offset))
    rest = iter(input.shape[:-1])
    shape = tuple(n if d in (d1, d2) else next(rest) for d in range(nd))
    x = input if input.ndim else reshape(input, (1,))
    return DiagScatter.apply(x, out_shape=shape, offset=int(offset), d1=d1, d2=d2)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D input as the ``diagonal``-th diagonal of a square matrix; of a 2-D input, that
    diagonal (a copy)."""
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return globals()["diagonal"](input, diagonal, 0, 1).clone()
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The flattened ``input`` as the ``offset``-th diagonal of a square matrix."""
    return diag_embed(reshape(input, (-1,)), offset, 0, 1)


def vander(x: Tensor, N=None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of the 1-D ``x``: columns ``x ** (N-1), ..., x, 1`` (reversed
    when ``increasing``); integer and bool inputs give int64, as PyTorch's cumprod does."""
    from .. import _dtype
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    xc = cast(x, _dtype.promote_types(x.dtype, _dtype.int64))
    m = x.shape[0]
    if n == 0:
        return xc.new_zeros((m, 0))
    cols = [xc.new_ones((m, 1))]
    if n > 1:
        cols.append(expand(unsqueeze(xc, 1), (m, n - 1)).cumprod(1))
    r = cat(cols, 1)
    return r if increasing else flip(r, (1,))


# -- strided views ---------------------------------------------------------------------------
class _Window:
    """An ``__array_interface__`` over existing memory (the way numpy's as_strided builds
    views)."""

    def __init__(self, interface, base):
        self.__array_interface__ = interface
        self.base = base


def _storage_root(arr):
    root = arr
    while getattr(root, "base", None) is not None and (
            hasattr(root.base, "__array_interface__") or
            hasattr(root.base, "__cuda_array_interface__")):
        root = root.base
    return root


def _ptr(arr) -> int:
    if isinstance(arr, np.ndarray):
        return arr.__array_interface__["data"][0]
    if hasattr(arr, "data") and hasattr(arr.data, "ptr"):  # pragma: no cover - cuda
        return arr.data.ptr
    return arr.__array_interface__["data"][0]


def _storage_info(arr):
    """(root, the array's offset in elements within the root, storage size in elements)."""
    root = _storage_root(arr)
    item = arr.itemsize
    return root, (_ptr(arr) - _ptr(root)) // item, int(root.nbytes) // item


class AsStrided(Op):
    """A view with explicit sizes, strides (elements) and storage offset."""

    _name = "as_strided"

    def forward(self, x):
        root, own, total = _storage_info(x)
        self.in_shape, self.in_strides = x.shape, tuple(s // x.itemsize for s in x.strides)
        self.in_offset = own
        off = own if self.offset is None else self.offset
        self.out_offset = off
        need = off + sum((n - 1) * s for n, s in zip(self.size, self.stride)) + 1 \
            if all(self.size) else 0
        if need > total or off < 0:
            raise RuntimeError(f"setStorage: sizes {list(self.size)}, strides "
                               f"{list(self.stride)}, storage offset {off}, and itemsize "
                               f"{x.itemsize} requiring a storage size of "
                               f"{need * x.itemsize} are out of bounds for storage of size "
                               f"{total * x.itemsize}")
        item = x.itemsize
        if isinstance(x, np.ndarray):
            iface = {"data": (_ptr(root) + off * item, False), "shape": tuple(self.size),
                     "strides": tuple(s * item for s in self.stride), "typestr": x.dtype.str,
                     "descr": x.dtype.descr, "version": 3}
            out = np.asarray(_Window(iface, root))
            if not x.flags.writeable:
                out.flags.writeable = False
            return out
        xp = xp_of(x)  # pragma: no cover - cuda
        return xp.ndarray(tuple(self.size), x.dtype, memptr=root.data + (off * item - 0),
                          strides=tuple(s * item for s in self.stride))

    def backward(self, g):
        return _strided_grad(g, self.in_shape, self.in_strides, self.in_offset, self.size,
                             self.stride, self.out_offset)


def _positions(shape, strides, offset, xp):
    pos = xp.full(tuple(shape), offset, dtype=np.int64)
    for d, (n, s) in enumerate(zip(shape, strides)):
        idx = xp.arange(n, dtype=np.int64) * s
        pos = pos + idx.reshape((n,) + (1,) * (len(shape) - d - 1))
    return pos


def _strided_grad(g, in_shape, in_strides, in_offset, size, stride, offset):
    """The gradient of a strided view: the output gradient summed into storage positions,
    then read back at the input's positions."""
    xp = xp_of(g._data)
    p_in = _positions(in_shape, in_strides, in_offset, xp)
    p_out = _positions(size, stride, offset, xp)
    lo = min(int(p_in.min()) if p_in.size else 0, int(p_out.min()) if p_out.size else 0)
    hi = max(int(p_in.max()) if p_in.size else 0, int(p_out.max()) if p_out.size else 0)
    from .index import IndexPut, getitem

    store = g.new_zeros((hi - lo + 1,))
    store = IndexPut.apply(store, g.reshape(-1), index=((p_out - lo).reshape(-1),),
                           accumulate=True)
    return getitem(store, Tensor._make(p_in - lo))


def as_strided(input: Tensor, size, stride, storage_offset=None) -> Tensor:
    """A view of ``input``'s storage with the given sizes, strides (in elements) and storage
    offset (default: ``input``'s)."""
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(size)} sizes and "
                           f"{len(stride)} strides")
    if any(s < 0 for s in stride):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, "
                           f"got strides: {list(stride)}")
    off = None if storage_offset is None else int(storage_offset)
    r = AsStrided.apply(input, size=size, stride=stride, offset=off)
    return mark_view(r, input, lambda b: as_strided(b, size, stride, storage_offset))


class Unfold(Op):
    """Windows of ``size`` every ``step`` along ``dim``, as a new last dimension (a view)."""

    _name = "unfold"

    def forward(self, x):
        self.in_shape = x.shape
        d, size, step = self.dim, self.size, self.step
        if x.ndim == 0:
            return x.reshape(1)[:size]
        st = [s // x.itemsize for s in x.strides]
        n = (x.shape[d] - size) // step + 1
        shape = list(x.shape)
        shape[d] = n
        strides = list(st)
        strides[d] = st[d] * step
        return _as_strided(x, shape + [size], strides + [st[d]])

    def backward(self, g):
        if len(self.in_shape) == 0:
            return g.sum().reshape(())
        d, size, step = self.dim, self.size, self.step
        xp = xp_of(g._data)
        nw = g.shape[d]
        idx = (xp.arange(nw, dtype=np.int64)[:, None] * step +
               xp.arange(size, dtype=np.int64)[None, :]).reshape(-1)
        gm = movedim(g, -1, d + 1)
        gm = reshape(gm, tuple(gm.shape[:d]) + (nw * size,) + tuple(gm.shape[d + 2:]))
        from .index import IndexPut

        index = (slice(None),) * d + (idx,)
        return IndexPut.apply(g.new_zeros(self.in_shape), gm, index=index, accumulate=True)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """``Tensor.unfold``: all windows of ``size`` elements, ``step`` apart, along
    ``dimension``, as a view with the window as the last dimension."""
    d = _wrap_dim(dimension, input.ndim)
    n = input.shape[d] if input.ndim else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is "
                           f"{size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    r = Unfold.apply(input, dim=d, size=int(size), step=int(step))
    return mark_view(r, input, lambda b: unfold(b, d, size, step))


# -- splitting, stacking, flipping -----------------------------------------------------------
def tensor_split(input: Tensor, indices_or_sections, dim: int = 0):
    """Splits into ``sections`` nearly equal views (the first ``n % sections`` one longer),
    or at the given indices (Python slicing semantics)."""
    d = _wrap_dim(dim, input.ndim)
    n = input.shape[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios._data.dtype.kind not in "iu":
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have "
                               f"integer dtype, but got {ios.dtype}")
        if ios.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a "
                               "zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {ios.ndim} dims")
        ios = int(ios.item()) if ios.ndim == 0 else [int(v) for v in ios.tolist()]
    if isinstance(ios, (int, np.integer)):
        k = int(ios)
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
        out, start = [], 0
        for s in sizes:
            out.append(narrow(input, d, start, s))
            start += s
        return tuple(out)
    bounds = [0] + [int(i) for i in ios] + [n]
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        start, stop, _ = slice(a, b).indices(n)
        out.append(narrow(input, d, start, max(stop - start, 0)))
    return tuple(out)


def hsplit(input: Tensor, indices_or_sections):
    """``tensor_split`` along dim 1 (dim 0 for 1-D tensors), with equal sections."""
    return _np_split(input, indices_or_sections, 1 if input.ndim > 1 else 0, "hsplit")


def vsplit(input: Tensor, indices_or_sections):
    """``tensor_split`` along dim 0, with equal sections."""
    return _np_split(input, indices_or_sections, 0, "vsplit")


def dsplit(input: Tensor, indices_or_sections):
    """``tensor_split`` along dim 2, with equal sections."""
    return _np_split(input, indices_or_sections, 2, "dsplit")


def _np_split(input, ios, dim, name):
    need = {"hsplit": 1, "vsplit": 2, "dsplit": 3}[name]
    if input.ndim < need:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {need} dimension, "
                           f"but got a tensor with {input.ndim} dimensions!")
    if isinstance(ios, int) and input.shape[dim] % ios:
        raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the "
                           f"size of the dimension {input.shape[dim]} is not divisible by the "
                           f"split_size {ios}!")
    return tensor_split(input, ios, dim)


def _tensors_arg(tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(tensors[0]), True
    return tuple(tensors), len(tensors) != 1


def _atleast(nd: int, tensors):
    ts, many = _tensors_arg(tensors)
    out = []
    for x in ts:
        if x.ndim >= nd:
            out.append(x)
        elif nd == 1:
            out.append(reshape(x, (1,)))
        elif nd == 2:
            out.append(reshape(x, (1,) * (2 - x.ndim) + tuple(x.shape)))
        else:
            shape = {0: (1, 1, 1), 1: (1, x.numel(), 1)}.get(x.ndim, tuple(x.shape) + (1,))
            out.append(reshape(x, shape))
    return tuple(out) if many else out[0]


def atleast_1d(*tensors):
    """Tensors with at least one dimension (0-dim ones become shape (1,))."""
    return _atleast(1, tensors)


def atleast_2d(*tensors):
    """Tensors with at least two dimensions (leading ones added)."""
    return _atleast(2, tensors)


def atleast_3d(*tensors):
    """Tensors with at least three dimensions (as numpy: (n,) -> (1, n, 1))."""
    return _atleast(3, tensors)


def _as_list(tensors, name):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        f"not {type(tensors).__name__}")
    return list(tensors)


def hstack(tensors, *, out=None) -> Tensor:
    """Concatenation along dim 1 (dim 0 for 1-D tensors)."""
    ts = [atleast_1d(t_) for t_ in _as_list(tensors, "hstack")]
    return cat(ts, 0 if ts and ts[0].ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None) -> Tensor:
    """Concatenation along dim 0 of the tensors made at least 2-D."""
    return cat([atleast_2d(t_) for t_ in _as_list(tensors, "vstack")], 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None) -> Tensor:
    """Concatenation along dim 2 of the tensors made at least 3-D."""
    return cat([atleast_3d(t_) for t_ in _as_list(tensors, "dstack")], 2, out=out)


def column_stack(tensors, *, out=None) -> Tensor:
    """0-D and 1-D tensors as columns, concatenated along dim 1 with the 2-D ones."""
    ts = [reshape(t_, (t_.numel(), 1)) if t_.ndim <= 1 else t_
          for t_ in _as_list(tensors, "column_stack")]
    return cat(ts, 1, out=out)


def fliplr(input: Tensor) -> Tensor:
    """Reverses dimension 1."""
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:
    """Reverses dimension 0."""
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotates by 90 degrees ``k`` times in the plane of ``dims`` (from the first towards
    the second)."""
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = _wrap_dim(dims[0], input.ndim), _wrap_dim(dims[1], input.ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    k = k % 4
    if k == 1:
        return transpose(flip(input, d1), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return transpose(flip(input, d0), d0, d1)
    return input.clone()


def broadcast_shapes(*shapes) -> Size:
    """The shape that tensors of ``shapes`` broadcast to."""
    norm = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    try:
        return Size(np.broadcast_shapes(*norm))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape "
                           f"({', '.join(str(list(s)) for s in norm)})") from None


# -- repeat_interleave -----------------------------------------------------------------------
def repeat_interleave(input: Tensor, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """Each element (or slice along ``dim``) repeated ``repeats`` times (an int or one count
    per element). With only a tensor of counts, the indices repeated by those counts."""
    if repeats is None:  # repeat_interleave(repeats)
        reps = input
        if reps.ndim > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        xp = xp_of(reps._data)
        r = reps._data.reshape(-1)
        if r.size and int(r.min()) < 0:
            raise RuntimeError("repeats can not be negative")
        return Tensor._make(xp.repeat(xp.arange(r.size, dtype=np.int64), r))
    x = input
    if dim is None:
        x = reshape(x, (-1,))
        d = 0
    else:
        d = _wrap_dim(dim, x.ndim)
    xp = xp_of(x._data)
    n = x.shape[d] if x.ndim else 1
    if isinstance(repeats, Tensor):
        if repeats.ndim > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        r = repeats._data.reshape(-1)
        if r.dtype.kind not in "iu":
            raise RuntimeError("repeats has to be Long or Int tensor")
        if r.size == 1:
            r = xp.full(n, int(r[0]), dtype=np.int64)
        elif r.size != n:
            raise RuntimeError("repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {r.size} and input.size({d}) = {n}")
    else:
        r = xp.full(n, int(repeats), dtype=np.int64)
    if r.size and int(r.min()) < 0:
        raise RuntimeError("repeats can not be negative")
    from .index import index_select

    if xp is not np:  # CuPy takes repeats as an int or a host list only
        r = (r if type(r) is np.ndarray else r.get()).tolist()
    idx = Tensor._make(xp.repeat(xp.arange(n, dtype=np.int64), r))
    if x.ndim == 0:
        x = reshape(x, (1,))
    return index_select(x, d, idx)


# -- block_diag, cartesian_prod, combinations ------------------------------------------------
def block_diag(*tensors) -> Tensor:
    """The tensors (0-, 1- or 2-D) as blocks on the diagonal of one matrix."""
    from .._dtype import promote_types
    mats = []
    for i, t_ in enumerate(tensors):
        if t_.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t_.ndim} dimensions")
        mats.append(reshape(t_, (1, t_.numel())) if t_.ndim < 2 else t_)
    if not mats:
        from .._creation import empty

        return empty((1, 0))
    dt = mats[0].dtype
    for m in mats[1:]:
        dt = promote_types(dt, m.dtype)
    mats = [cast(m, dt) for m in mats]
    total = sum(m.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        r, c = m.shape
        parts = [m.new_zeros((r, left)), m, m.new_zeros((r, total - left - c))]
        rows.append(cat(parts, 1))
        left += c
    return cat(rows, 0)


def cartesian_prod(*tensors) -> Tensor:
    """The Cartesian product of 1-D tensors, one row per combination."""
    ts, _ = _tensors_arg(tensors)
    for t_ in ts:
        if t_.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t_.shape)}")
    if len(ts) == 1:
        return ts[0]
    grids = meshgrid(*ts, indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """All length-``r`` combinations of the elements of a 1-D tensor, in lexicographic
    order of positions (``itertools.combinations`` or ``combinations_with_replacement``)."""
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input.new_zeros((0,))
    xp = xp_of(input._data)
    n = input.shape[0]
    combos = xp.arange(n, dtype=np.int64)[:, None]
    cand = xp.arange(n, dtype=np.int64)
    for _ in range(1, r):  # one vectorised extension per position (r is small)
        last = combos[:, -1]
        mask = cand[None, :] >= last[:, None] if with_replacement else \
            cand[None, :] > last[:, None]
        rows, cols = xp.nonzero(mask)
        combos = xp.concatenate([combos[rows], cols[:, None]], axis=1)
    from .index import getitem

    return getitem(input, Tensor._make(combos.reshape(-1))).reshape(-1, r)
