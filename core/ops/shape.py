"""Shape ops: view/reshape, permute/transpose, squeeze/unsqueeze, expand, flatten, flip,
cat/stack, split/chunk/unbind, narrow, contiguous.

Ops that return views of their input record it: the view shares the input's version counter
(so an in-place change through either is seen by autograd) and remembers how to recompute
itself from its base (``_view_fn``), which in-place ops on views use to rebase the graph.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Size, Tensor, _wrap_dim
from .op import Op, xp_of

__all__ = ["view", "reshape", "permute", "transpose", "squeeze", "unsqueeze", "expand",
           "flatten", "unflatten", "flip", "cat", "concat", "concatenate", "stack", "split",
           "chunk", "unbind", "narrow", "contiguous", "t", "movedim", "expand_as",
           "broadcast_to", "swapaxes", "resize_out", "tile", "roll", "meshgrid",
           "broadcast_tensors"]


def mark_view(result: Tensor, inp: Tensor, fn) -> Tensor:
    """Records that ``result`` is a view of ``inp`` produced by ``fn(inp)``."""
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


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _infer_shape(shape: tuple, numel: int, src_shape) -> tuple:
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
        r = x.view()
        try:
            r.shape = self.shape  # raises rather than copying
        except AttributeError:
            raise RuntimeError(
                f"view size is not compatible with input tensor's size and stride (at least one "
                f"dimension spans across two contiguous subspaces). Use .reshape(...) instead. "
                f"(input shape {list(x.shape)}, requested {list(self.shape)})") from None
        return r


def view(input: Tensor, *shape) -> Tensor:
    """A view with a new shape (no copy; raises if the strides don't allow it).
    ``view(dtype)`` reinterprets the bytes."""
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list, Size)):
        from .._dtype import to_dtype

        d = to_dtype(shape[0])
        return mark_view(Tensor._make(input._data.view(d.np)), input, lambda b: b.view(d))
    s = _infer_shape(_shape_arg(shape), input._data.size, input.shape)
    if s == input._data.shape:
        r = View.apply(input, shape=s)
    else:
        r = View.apply(input, shape=s)
    return mark_view(r, input, lambda b: view(b, s))


def reshape(input: Tensor, *shape) -> Tensor:
    """The tensor with a new shape: a view when the strides allow, else a copy."""
    s = _infer_shape(_shape_arg(shape), input._data.size, input.shape)
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
    return mark_view(Alias.apply(input), input, alias)


class Permute(Op):
    _name = "permute"

    def forward(self, x):
        return x.transpose(self.dims)

    def backward(self, g):
        inv = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inv[d] = i
        return g.permute(inv)


def permute(input: Tensor, *dims) -> Tensor:
    """A view with the dimensions reordered."""
    dims = _shape_arg(dims)
    nd = input.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {nd} is not equal to len(dims) = {len(dims)}")
    dims = tuple(_wrap_dim(d, nd) for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    r = Permute.apply(input, dims=dims)
    return mark_view(r, input, lambda b: permute(b, dims))


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """A view with two dimensions swapped."""
    nd = input.ndim
    if nd == 0:
        return alias(input)
    d0, d1 = _wrap_dim(dim0, nd), _wrap_dim(dim1, nd)
    perm = list(range(nd))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    r = Permute.apply(input, dims=tuple(perm))
    return mark_view(r, input, lambda b: transpose(b, d0, d1))


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
    src = [_wrap_dim(s, nd) for s in src]
    dst = [_wrap_dim(d, nd) for d in dst]
    order = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim


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
    return mark_view(r, input, lambda b: squeeze(b, dim))


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Inserts a dimension of size 1 at ``dim``."""
    d = _wrap_dim(dim, input.ndim + 1)
    shape = list(input._data.shape)
    shape.insert(d, 1)
    r = Reshape.apply(input, shape=tuple(shape))
    return mark_view(r, input, lambda b: unsqueeze(b, d))


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
        return xp_of(x).broadcast_to(x, self.shape)

    def backward(self, g):
        from ._prep import unbroadcast

        return unbroadcast(g, self.in_shape)


def expand(input: Tensor, *sizes) -> Tensor:
    """A broadcast view to ``sizes`` (-1 keeps a dimension)."""
    sizes = _shape_arg(sizes)
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
    return mark_view(r, input, lambda b: expand(b, out))


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


def flip(input: Tensor, *dims) -> Tensor:
    """Reverses the order of elements along ``dims`` (a copy, as in PyTorch)."""
    dims = _shape_arg(dims)
    return Flip.apply(input, dims=tuple(_wrap_dim(d, input.ndim) for d in dims))


class Contiguous(Op):
    _name = "contiguous"

    def forward(self, x):
        return xp_of(x).ascontiguousarray(x)

    def backward(self, g):
        return g


def contiguous(input: Tensor, memory_format=None) -> Tensor:
    """The tensor itself when already contiguous, else a contiguous copy."""
    if input._data.flags.c_contiguous:
        return input
    return Contiguous.apply(input)


class Cat(Op):
    """Concatenation; inputs flagged in ``skip`` (1-D empty tensors) take no part but still
    get an (empty) gradient, as in PyTorch."""

    _name = "cat"

    def forward(self, *xs):
        skip = self.skip
        kept = [x for x, s in zip(xs, skip) if not s] if skip else xs
        self.sizes = [x.shape[self.dim] for x in kept]
        return xp_of(kept[0]).concatenate(kept, axis=self.dim)

    def backward(self, g):
        parts = iter(split(g, self.sizes, self.dim))
        if not self.skip:
            return tuple(parts)
        return tuple(g.new_zeros((0,)) if s else next(parts) for s in self.skip)


def cat(tensors, dim: int = 0, *, out=None) -> Tensor:
    """Concatenates tensors along ``dim`` (1-d empty tensors are skipped, as in PyTorch)."""
    from ._prep import cast, check_same_device

    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for t_ in tensors:
        if not isinstance(t_, Tensor):
            raise TypeError(f"expected Tensor as element in argument 0, but got "
                            f"{type(t_).__name__}")
    skip = [x.ndim == 1 and x.shape[0] == 0 for x in tensors]
    if all(skip):
        skip[0] = False
    kept = [x for x, s in zip(tensors, skip) if not s]
    ref = kept[0]
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _wrap_dim(dim, ref.ndim)
    for i, x in enumerate(kept[1:], 1):
        check_same_device(ref, x, "cat")
        if x.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} "
                               f"and {x.ndim}")
        for k in range(ref.ndim):
            if k != d and x.shape[k] != ref.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref.shape[k]} but got size {x.shape[k]} for "
                                   f"tensor number {i} in the list.")
    dt = tensors[0].dtype
    for x in tensors[1:]:
        if x.dtype != dt:
            from .._dtype import promote_types

            dt = promote_types(dt, x.dtype)
    r = Cat.apply(*[cast(x, dt) for x in tensors], dim=d, skip=skip if any(skip) else None)
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


def stack(tensors, dim: int = 0, *, out=None) -> Tensor:
    """Stacks same-shaped tensors along a new dimension ``dim``."""
    from ._prep import cast

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
    d = _wrap_dim(dim, tensor.ndim)
    n = tensor.shape[d]
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
        out.append(narrow(tensor, d, start, s))
        start += s
    return tuple(out)


def tensor_split_sizes(n: int, chunks: int) -> list:
    size = -(-n // chunks) if chunks else 0
    return [min(size, n - i) for i in range(0, n, size)] if size else [0]


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
        idx = [slice(None)] * x.ndim
        idx[self.dim] = slice(self.start, self.start + self.length)
        return x[tuple(idx)]

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
    n = input.shape[d]
    start = int(start)
    if start < 0:
        start += n
    if start < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    r = Narrow.apply(input, dim=d, start=start, length=int(length))
    return mark_view(r, input, lambda b: narrow(b, d, start, length))


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
    return mark_view(r, input, lambda b: select(b, d, i))


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


def repeat(input: Tensor, *sizes) -> Tensor:
    """The tensor repeated ``sizes[i]`` times along dimension ``i`` (leading new dims when
    more sizes than dims are given), as ``Tensor.repeat``."""
    sizes = _shape_arg(sizes)
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
    return tuple(expand(t, shape) for t in tensors)


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
