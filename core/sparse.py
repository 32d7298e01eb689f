"""``ember.sparse``: COO sparse tensors, as ``torch.sparse_coo_tensor``.

A ``SparseTensor`` holds an int64 ``indices`` tensor of shape (sparse_dim, nnz) and a dense
``values`` tensor of shape (nnz, *dense_dims). It is a wrapper, not a ``Tensor`` subclass:
dense ops don't accept it (convert with ``to_dense()``); it offers the COO API
(``indices``, ``values``, ``_nnz``, ``coalesce``, ``to_dense``) and the products
``ember.sparse.mm``/``ember.spmm`` (sparse @ dense, on ``scipy.sparse`` on the CPU and
``cupyx.scipy.sparse`` on CUDA) and ``ember.sparse.sum``.

It is also the layout of the weight gradient of ``nn.Embedding(sparse=True)`` and
``nn.EmbeddingBag(sparse=True)``: the autograd engine accumulates such gradients (sparse +
sparse concatenates the entries, a dense term makes the sum dense), and ``add``/``add_``,
``mul_``, ``zero_`` serve the optimizers that take them (SGD, Adagrad, SparseAdam).

Gradients flow to ``values`` (and to the dense operand of ``mm``): ``values`` is an
ordinary tensor in the graph. The gradient of a sparse leaf created with
``requires_grad=True`` is read from ``S.grad``, a coalesced SparseTensor, as in PyTorch.
Departure from PyTorch: ``sparse_coo_tensor`` always checks that the indices are within
``size`` (PyTorch skips that check unless asked), since an out-of-range index could
otherwise write outside the dense result.
"""

from __future__ import annotations

import numpy as np

from ._tensor import Size, Tensor, _wrap_dim
from .ops.index import IndexPut, getitem, index_select
from .ops.op import Op, xp_of

__all__ = ["SparseTensor", "sparse_coo_tensor", "mm", "spmm", "sum", "addmm", "to_sparse",
           "is_sparse"]

sparse_coo = "torch.sparse_coo"


class SparseTensor:
    """A sparse tensor in COO layout (see the module docstring)."""

    is_sparse = True
    is_sparse_csr = False
    layout = sparse_coo

    def __init__(self, indices: Tensor, values: Tensor, size, coalesced: bool = False):
        self._idx = indices
        self._values_t = values
        self._size = Size(int(s) for s in size)
        self._coalesced = coalesced

    # -- metadata ------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return self._size

    def size(self, dim=None):
        return self._size if dim is None else self._size[_wrap_dim(dim, len(self._size))]

    def dim(self) -> int:
        return len(self._size)

    @property
    def ndim(self) -> int:
        return len(self._size)

    def numel(self) -> int:
        return self._size.numel()

    @property
    def dtype(self):
        return self._values_t.dtype

    @property
    def device(self):
        return self._values_t.device

    @property
    def is_cuda(self) -> bool:
        return self._values_t.is_cuda

    @property
    def requires_grad(self) -> bool:
        return self._values_t.requires_grad

    def requires_grad_(self, requires_grad: bool = True) -> SparseTensor:
        self._values_t.requires_grad_(requires_grad)
        return self

    @property
    def grad(self):
        """The gradient of a sparse leaf: a coalesced SparseTensor on this tensor's pattern
        (each duplicate's value gradient is the dense gradient at its place, so one of them
        stands for the position)."""
        g = self._values_t.grad
        if g is None:
            return None
        idx = self._idx._data
        xp = xp_of(idx)
        sd = idx.shape[0]
        if sd == 0 or idx.shape[1] == 0:
            return SparseTensor(self._idx, g, self._size, True)
        lin = xp.ravel_multi_index(tuple(idx), tuple(self._size[:sd]))
        _, first = xp.unique(lin, return_index=True)
        return SparseTensor(Tensor._make(idx[:, first]), Tensor._make(g._data[first]),
                            self._size, True)

    @property
    def grad_fn(self):
        return self._values_t.grad_fn

    def sparse_dim(self) -> int:
        return self._idx.shape[0]

    def dense_dim(self) -> int:
        return self._values_t.ndim - 1

    def _nnz(self) -> int:
        return self._idx.shape[1]

    def is_coalesced(self) -> bool:
        return self._coalesced

    def _indices(self) -> Tensor:
        """The (sparse_dim, nnz) coordinates, coalesced or not (``torch``'s ``_indices()``)."""
        return self._idx

    def _values(self) -> Tensor:
        return self._values_t

    def indices(self) -> Tensor:
        """The (sparse_dim, nnz) coordinates (the tensor must be coalesced)."""
        if not self._coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._idx

    def values(self) -> Tensor:
        """The (nnz, *dense_dims) values (the tensor must be coalesced)."""
        if not self._coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._values_t

    def is_floating_point(self) -> bool:
        return self._values_t.is_floating_point()

    # -- conversion ------------------------------------------------------------------------
    def coalesce(self) -> SparseTensor:
        """Duplicate coordinates summed, coordinates sorted (row-major)."""
        if self._coalesced:
            return self
        idx = self._idx._data
        xp = xp_of(idx)
        sd = idx.shape[0]
        sshape = tuple(self._size[:sd])
        if idx.shape[1] == 0:
            return SparseTensor(self._idx, self._values_t, self._size, True)
        lin = xp.ravel_multi_index(tuple(idx), sshape) if sd else xp.zeros(idx.shape[1],
                                                                            np.int64)
        uniq, inv = xp.unique(lin, return_inverse=True)
        new_idx = xp.stack(xp.unravel_index(uniq, sshape)).astype(np.int64) if sd else \
            xp.zeros((0, uniq.size), np.int64)
        v = self._values_t
        summed = IndexPut.apply(v.new_zeros((uniq.size,) + tuple(v.shape[1:])), v,
                                index=(inv.reshape(-1),), accumulate=True)
        return SparseTensor(Tensor._make(new_idx.reshape(sd, -1)), summed, self._size, True)

    def to_dense(self, dtype=None, *, masked_grad=None) -> Tensor:
        """The dense tensor (duplicate coordinates summed); differentiable in the values."""
        v = self._values_t
        out = v.new_zeros(tuple(self._size))
        index = tuple(self._idx._data)
        r = IndexPut.apply(out, v, index=index, accumulate=True)
        return r if dtype is None else r.to(dtype)

    def to_sparse(self, *args, **kwargs) -> SparseTensor:
        return self

    def to(self, *args, **kwargs) -> SparseTensor:
        v = self._values_t.to(*args, **kwargs)
        return SparseTensor(self._idx.to(v.device), v, self._size, self._coalesced)

    def detach(self) -> SparseTensor:
        return SparseTensor(self._idx, self._values_t.detach(), self._size,
                            self._coalesced)

    def clone(self) -> SparseTensor:
        return SparseTensor(self._idx.clone(), self._values_t.clone(), self._size,
                            self._coalesced)

    def t(self) -> SparseTensor:
        """The transpose of a 2-D sparse tensor."""
        if self.ndim != 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, "
                               f"but got {self.sparse_dim()} sparse and {self.dense_dim()} "
                               "dense dimensions")
        return SparseTensor(self._idx.flip(0), self._values_t,
                            (self._size[1], self._size[0]), False)

    # -- arithmetic (what accumulated gradients and the optimizers need) ------------------
    def _check_same_size(self, other: SparseTensor) -> None:
        if tuple(self._size) != tuple(other._size):
            raise RuntimeError(f"add: expected sizes of 'self' and 'other' to match, but "
                               f"{list(self._size)} != {list(other._size)}")

    def add(self, other, *, alpha=1) -> SparseTensor:
        """``self + alpha * other`` for a sparse ``other``: the coordinates and values are
        concatenated (the result is uncoalesced); differentiable in both values."""
        if not isinstance(other, SparseTensor):
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                               "instead.")
        self._check_same_size(other)
        v = other._values_t if alpha == 1 else other._values_t * alpha
        if other._nnz() == 0:
            return SparseTensor(self._idx, self._values_t, self._size, self._coalesced)
        if self._nnz() == 0:
            return SparseTensor(other._idx, v, self._size, other._coalesced)
        return SparseTensor(_cat([self._idx, other._idx], 1), _cat([self._values_t, v], 0),
                            self._size, False)

    __add__ = add

    def add_(self, other, *, alpha=1) -> SparseTensor:
        """In place ``self += alpha * other`` for a sparse ``other`` (coordinates and values
        concatenated). When the entries come to outnumber the positions of the sparse
        dims, the result is coalesced, so that repeated accumulation (a momentum buffer,
        many backward passes) stays bounded by the dense size."""
        r = self.add(other, alpha=alpha)
        nnz = r._nnz()
        if nnz > 1 and nnz > Size(self._size[:self.sparse_dim()]).numel():
            r = r.coalesce()
        self._idx, self._values_t, self._coalesced = r._idx, r._values_t, r._coalesced
        return self

    def mul_(self, other) -> SparseTensor:
        """In place multiplication of the values by a scalar (or a 0-dim tensor)."""
        self._values_t.mul_(other)
        return self

    def neg(self) -> SparseTensor:
        return self * -1

    def zero_(self) -> SparseTensor:
        """Drops every entry, in place: the tensor keeps its size and holds nnz = 0."""
        v = self._values_t
        self._idx = self._idx.new_zeros((self._idx.shape[0], 0))
        self._values_t = v.new_zeros((0,) + tuple(v.shape[1:]))
        self._coalesced = True
        return self

    def detach_(self) -> SparseTensor:
        self._values_t = self._values_t.detach()
        return self

    def _where(self) -> tuple:
        """The coordinates as a tuple of index tensors, one per sparse dim."""
        idx = self._idx
        return tuple(idx[d] for d in range(idx.shape[0]))

    # -- ops -------------------------------------------------------------------------------
    def mm(self, other):
        return mm(self, other)

    def matmul(self, other):
        return mm(self, other)

    __matmul__ = matmul

    def sum(self, dim=None, keepdim: bool = False, dtype=None):
        return sum(self, dim, dtype=dtype)

    def __mul__(self, other):
        if isinstance(other, (int, float)) or (isinstance(other, Tensor) and other.ndim == 0):
            return SparseTensor(self._idx, self._values_t * other, self._size,
                                self._coalesced)
        return NotImplemented

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1

    def __repr__(self) -> str:
        body = (f"indices={self._idx!r},\n       values={self._values_t!r},\n       "
                f"size={tuple(self._size)}, nnz={self._nnz()}, layout={sparse_coo}")
        return f"tensor({body})"


def _cat(tensors, dim: int) -> Tensor:
    from .ops.shape import cat

    return cat(tensors, dim)


def add_dense(dense: Tensor, sparse: SparseTensor, alpha=1) -> Tensor:
    """``dense + alpha * sparse`` as a new dense tensor (differentiable in both)."""
    if tuple(dense.shape) != tuple(sparse._size):
        raise RuntimeError(f"add: expected 'self' and 'other' to have same size, but self has "
                           f"size {list(dense.shape)} while other has size "
                           f"{list(sparse._size)}")
    v = sparse._values_t if alpha == 1 else sparse._values_t * alpha
    if v.dtype != dense.dtype:
        v = v.to(dense.dtype)
    return IndexPut.apply(dense, v, index=tuple(sparse._idx._data), accumulate=True)


def add_dense_(dense: Tensor, sparse: SparseTensor, alpha=1) -> Tensor:
    """In place ``dense += alpha * sparse`` (duplicate coordinates accumulate)."""
    if tuple(dense.shape) != tuple(sparse._size):
        raise RuntimeError(f"add_: expected 'self' and 'other' to have same size, but self has "
                           f"size {list(dense.shape)} while other has size "
                           f"{list(sparse._size)}")
    if sparse._nnz() == 0:
        return dense
    v = sparse._values_t if alpha == 1 else sparse._values_t * alpha
    if v.dtype != dense.dtype:
        v = v.to(dense.dtype)
    return dense.index_put_(sparse._where(), v, accumulate=True)


def is_sparse(x) -> bool:
    """True for sparse tensors."""
    return bool(getattr(x, "is_sparse", False))


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None,
                      requires_grad: bool = False, check_invariants=None,
                      is_coalesced=None) -> SparseTensor:
    """A COO sparse tensor with entries ``values`` at coordinates ``indices``
    (sparse_dim, nnz); ``size`` is inferred from the indices when omitted."""
    from ._creation import tensor

    if not isinstance(indices, Tensor):
        indices = tensor(indices, device=device)
    if not isinstance(values, Tensor):
        values = tensor(values, dtype=dtype, device=device)
    elif dtype is not None:
        values = values.to(dtype)
    if device is not None:
        values, indices = values.to(device), indices.to(device)
    elif indices.device != values.device:  # the coordinates follow the values
        indices = indices.to(values.device)
    if indices._data.dtype.kind not in "iu":
        raise RuntimeError(f"indices must be an int64 tensor, got {indices.dtype}")
    if indices.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: "
                           f"{list(indices.shape)}")
    indices = indices.long()
    if values.ndim == 0:
        raise RuntimeError("values must have at least one dimension (nnz)")
    sd, nnz = indices.shape
    if values.shape[0] != nnz:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: "
                           f"{nnz}, nnz from values: {values.shape[0]}")
    idx = indices._data
    if idx.size and int(idx.min()) < 0:
        raise RuntimeError(f"found negative index {int(idx.min())} for a sparse tensor")
    if size is None:
        top = idx.max(axis=1) + 1 if nnz else xp_of(idx).zeros(sd, np.int64)
        size = tuple(int(s) for s in top) + tuple(values.shape[1:])
    size = tuple(int(s) for s in size)
    if len(size) != sd + values.ndim - 1:
        raise RuntimeError(f"number of dimensions must be sparse_dim ({sd}) + dense_dim "
                           f"({values.ndim - 1}), but got {len(size)}")
    if tuple(values.shape[1:]) != size[sd:]:
        raise RuntimeError(f"values has incorrect size, expected {[nnz] + list(size[sd:])}, "
                           f"got {list(values.shape)}")
    if nnz:
        top = idx.max(axis=1)
        for d in range(sd):
            if int(top[d]) >= size[d]:
                raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is "
                                   f"{size[d]} but found index {int(top[d])}")
    if requires_grad:
        values = values.detach().requires_grad_(True)
    return SparseTensor(indices, values, size, bool(is_coalesced) or nnz <= 1)


def to_sparse(input: Tensor, sparse_dim=None) -> SparseTensor:
    """A COO tensor of the nonzero entries of ``input`` (of its first ``sparse_dim`` dims,
    the rest kept dense); coalesced. Differentiable in ``input``."""
    if isinstance(input, SparseTensor):
        return input
    nd = input.ndim
    sd = nd if sparse_dim is None else int(sparse_dim)
    if not 0 <= sd <= nd:
        raise RuntimeError(f"sparse_dim must be in [0, {nd}], got {sd}")
    x = input._data
    xp = xp_of(x)
    nz = x != 0
    if sd < nd:
        nz = nz.any(axis=tuple(range(sd, nd)))
    idx = xp.stack(xp.nonzero(nz)).astype(np.int64).reshape(sd, -1) if sd else \
        xp.zeros((0, 1), np.int64)
    vals = getitem(input, tuple(Tensor._make(i) for i in idx)) if sd else input.unsqueeze(0)
    return SparseTensor(Tensor._make(idx), vals, input.shape, True)


# -- products --------------------------------------------------------------------------------
def _csr(xp, values, rows, cols, shape):
    if xp is np:
        import scipy.sparse

        return scipy.sparse.csr_matrix((values, (rows, cols)), shape=shape)
    import cupyx.scipy.sparse  # pragma: no cover - cuda

    rows, cols = xp.asarray(rows).reshape(-1), xp.asarray(cols).reshape(-1)  # pragma: no cover
    return cupyx.scipy.sparse.coo_matrix((values.reshape(-1), (rows, cols)),  # pragma: no cover
                                         shape=shape).tocsr()


class SparseMM(Op):
    """``S @ D`` with ``S`` given by its values (input 0) at fixed coordinates."""

    _name = "sparse_mm"
    save_inputs = (0, 1)

    def forward(self, v, d):
        xp = xp_of(v)
        m = _csr(xp, v, self.rows, self.cols, self.shape)
        r = m @ d
        return xp.asarray(r).astype(np.result_type(v.dtype, d.dtype), copy=False)

    def backward(self, g):
        v, d = self.saved_tensors
        gv = gd = None
        if self.next_functions[0][0] is not None:
            rows, cols = Tensor._make(self.rows), Tensor._make(self.cols)
            gv = (index_select(g, 0, rows) * index_select(d, 0, cols)).sum(1)
        if self.next_functions[1][0] is not None:
            gd = SparseMM.apply(v, g, rows=self.cols, cols=self.rows,
                                shape=(self.shape[1], self.shape[0]))
        return gv, gd


def mm(mat1, mat2):
    """``mat1 @ mat2`` for a 2-D sparse ``mat1`` and a dense (or sparse) 2-D ``mat2``;
    differentiable in ``mat1``'s values and in a dense ``mat2``."""
    if not isinstance(mat1, SparseTensor):
        if isinstance(mat2, SparseTensor):
            return mm(mat2.t(), mat1.t()).t()
        from .ops.linalg import mm as dense_mm

        return dense_mm(mat1, mat2)
    if mat1.ndim != 2 or mat1.dense_dim() != 0:
        raise RuntimeError("sparse.mm: expected a 2-D sparse matrix with no dense dimensions, "
                           f"got size {list(mat1.shape)}")
    if isinstance(mat2, SparseTensor):
        if mat1.shape[1] != mat2.shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                               f"({mat1.shape[0]}x{mat1.shape[1]} and "
                               f"{mat2.shape[0]}x{mat2.shape[1]})")
        return to_sparse(mm(mat1, mat2.to_dense()))
    if not isinstance(mat2, Tensor) or mat2.ndim != 2:
        raise RuntimeError("sparse.mm: mat2 must be a matrix")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                           f"({mat1.shape[0]}x{mat1.shape[1]} and "
                           f"{mat2.shape[0]}x{mat2.shape[1]})")
    if mat1.dtype != mat2.dtype:
        raise RuntimeError(f"expected mat1 and mat2 to have the same dtype, but got: "
                           f"{mat1.dtype} != {mat2.dtype}")
    idx = mat1._idx._data
    return SparseMM.apply(mat1._values_t, mat2, rows=idx[0], cols=idx[1],
                          shape=tuple(mat1.shape))


spmm = mm


def addmm(input: Tensor, mat1, mat2, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` with a sparse ``mat1``."""
    p = mm(mat1, mat2)
    return input * beta + p * alpha if beta != 0 else p * alpha + input * 0


def sum(input, dim=None, dtype=None):
    """Sum of a sparse tensor: of all elements (a 0-dim dense tensor), or over ``dim``
    (a sparse tensor unless every sparse dim is summed, then dense)."""
    if not isinstance(input, SparseTensor):
        return input.sum(dim, dtype=dtype)
    v = input._values_t
    if dtype is not None:
        v = v.to(dtype)
    if dim is None:
        return v.sum()
    nd = input.ndim
    dims = sorted({_wrap_dim(d, nd) for d in ((dim,) if isinstance(dim, int) else dim)})
    sd = input.sparse_dim()
    dense_dims = [d - sd + 1 for d in dims if d >= sd]
    if dense_dims:
        v = v.sum(dense_dims)
    keep = [d for d in range(sd) if d not in dims]
    new_size = [s for d, s in enumerate(input.shape) if d not in dims]
    if not keep:
        return v.sum(0)
    idx = Tensor._make(input._idx._data[keep])
    return SparseTensor(idx, v, new_size, False).coalesce()


def _register() -> None:
    # the autograd engine recognises sparse gradients by this class (see graph._NoSparse)
    from .autograd import graph

    graph._SparseTensor = SparseTensor


_register()
