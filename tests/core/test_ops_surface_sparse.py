"""COO sparse tensors against torch.sparse: construction, coalesce, to_dense/to_sparse,
mm/spmm (gradients for the values and the dense operand), sparse.sum, errors."""

import warnings

import ember
import numpy as np
import pytest
import torch
from torch_compare import assert_close, compare, compare_raises, gradcheck, gradgradcheck

warnings.filterwarnings("ignore", message="Sparse invariant checks")

IDX = [[0, 1, 1, 0, 2], [2, 0, 2, 2, 3]]  # (0, 2) appears twice: uncoalesced


def _S(m, v, size=(3, 4), idx=IDX):
    return m.sparse_coo_tensor(m.tensor(idx), v, size)


def test_construction_and_metadata(device):
    def f(m, v):
        s = _S(m, v)
        return (s.is_sparse, s.shape, s.size(), s.size(1), s.dim(), s._nnz(),
                s.sparse_dim(), s.dense_dim(), s.is_coalesced(), s.dtype, s.to_dense(),
                m.sparse_coo_tensor(m.tensor(IDX), v).shape, s.layout == m.sparse_coo
                if hasattr(m, "sparse_coo") else True, s.requires_grad)
    compare([(5,)], f, device=device)


def test_coalesce(device):
    def f(m, v):
        c = _S(m, v).coalesce()
        return c.is_coalesced(), c.indices(), c.values(), c._nnz(), c.to_dense()
    compare([(5,)], f, device=device)


def test_uncoalesced_indices_raise(device):
    compare_raises([(5,)], lambda m, v: _S(m, v).indices(), device=device)
    compare_raises([(5,)], lambda m, v: _S(m, v).values(), device=device)
    compare([(1,)], lambda m, v: (_S(m, v, idx=[[1], [2]]).is_coalesced(),
                                  _S(m, v, idx=[[1], [2]]).values()), device=device)


def test_to_dense_gradient(device):
    """Duplicates are summed; each value's gradient is the dense gradient at its place."""
    compare([(5,)], lambda m, v: _S(m, v).to_dense() ** 2, device=device)
    v = ember.tensor(np.random.default_rng(0).uniform(-1, 1, 5), dtype=ember.float64,
                     requires_grad=True, device=device)
    gradcheck(lambda t: _S(ember, t).to_dense(), [v])


def test_hybrid(device):
    """Dense dimensions in the values."""
    def f(m, v):
        s = m.sparse_coo_tensor(m.tensor([[0, 2, 0]]), v, (3, 2))
        c = s.coalesce()
        return (s.to_dense(), s.sparse_dim(), s.dense_dim(), c.values(), c.indices(),
                m.sparse.sum(s, 1).coalesce().values(), m.sparse.sum(s, 0),
                m.sparse.sum(s))
    compare([(3, 2)], f, device=device)


def test_to_sparse(device):
    def f(m, x):
        y = x * (x > 0)
        s = y.to_sparse()
        s1 = y.to_sparse(1)
        return (s.indices(), s.values(), s.is_coalesced(), s.to_dense(), s1.indices(),
                s1.values(), s1.dense_dim(), y.to_sparse().to_dense().to_dense())
    compare([(3, 4)], f, device=device)


@pytest.mark.parametrize("how", ["sparse_mm", "spmm", "mm", "matmul_op", "method"])
def test_mm(how, device):
    """sparse @ dense in every spelling: values and both gradients."""
    def f(m, v, d):
        s = _S(m, v)
        if how == "sparse_mm":
            return m.sparse.mm(s, d)
        if how == "spmm":
            return m.spmm(s, d)
        if how == "mm":
            return m.mm(s, d)
        if how == "matmul_op":
            return s @ d
        return s.mm(d) if hasattr(s, "mm") else m.sparse.mm(s, d)
    compare([(5,), (4, 3)], f, device=device)


def test_mm_float64_gradcheck(device):
    rng = np.random.default_rng(1)
    v = ember.tensor(rng.uniform(-1, 1, 5), dtype=ember.float64, requires_grad=True,
                     device=device)
    d = ember.tensor(rng.uniform(-1, 1, (4, 2)), dtype=ember.float64, requires_grad=True,
                     device=device)
    gradcheck(lambda a, b: ember.sparse.mm(_S(ember, a), b), [v, d])
    gradgradcheck(lambda a, b: ember.sparse.mm(_S(ember, a), b) ** 2, [v, d])


def test_sparse_leaf_grad(device):
    """A sparse leaf created with requires_grad=True gets a sparse gradient."""
    rng = np.random.default_rng(2)
    d = rng.uniform(-1, 1, (4, 2))
    s = ember.sparse_coo_tensor(ember.tensor(IDX), ember.tensor([3.0, 4, 5, 1, 2]), (3, 4),
                                requires_grad=True)
    ember.sparse.mm(s, ember.tensor(d, dtype=ember.float32)).sum().backward()
    ts = torch.sparse_coo_tensor(torch.tensor(IDX), torch.tensor([3.0, 4, 5, 1, 2]), (3, 4),
                                 requires_grad=True)
    torch.sparse.mm(ts, torch.tensor(d, dtype=torch.float32)).sum().backward()
    assert s.grad.is_sparse
    assert_close(s.grad.to_dense(), ts.grad.to_dense())


def test_sparse_sum(device):
    def f(m, v):
        s = _S(m, v)
        r1 = m.sparse.sum(s, 1)
        return (m.sparse.sum(s), r1.coalesce().indices(), r1.coalesce().values(),
                r1.to_dense(), m.sparse.sum(s, 0).to_dense(), m.sparse.sum(s, (0, 1)),
                m.sparse.sum(s, dim=-1).to_dense(), m.sparse.sum(s, dtype=m.float64))
    compare([(5,)], f, device=device)


def test_sparse_sparse_mm(device):
    def f(m, v):
        s = _S(m, v)
        return m.sparse.mm(s, s.t().coalesce()).to_dense()
    compare([(5,)], f, device=device, grad=False)


@pytest.mark.parametrize("fn", [
    lambda m, v: m.sparse_coo_tensor(m.tensor(IDX), v[:3], (3, 4)),
    lambda m, v: m.sparse_coo_tensor(m.tensor(IDX), v, (3, 4, 2)),
    lambda m, v: m.sparse_coo_tensor(m.tensor(IDX[0]), v, (3,)),
    lambda m, v: m.sparse.mm(_S(m, v), m.ones(3, 2)),
    lambda m, v: m.sparse.mm(_S(m, v), m.ones(4, 2, dtype=m.float64)),
])
def test_errors(fn, device):
    compare_raises([(5,)], fn, device=device)


def test_out_of_range_indices_raise():
    """ember always checks the indices against the size (torch only when asked)."""
    v = ember.ones(5)
    for idx, size in ((IDX, (2, 4)), ([[-1, 0, 0, 0, 0], IDX[1]], (3, 4))):
        with pytest.raises(RuntimeError):
            ember.sparse_coo_tensor(ember.tensor(idx), v, size)


def test_repr():
    s = ember.sparse_coo_tensor(ember.tensor([[0, 1]]), ember.tensor([1.0, 2.0]), (3,))
    r = repr(s)
    assert "indices=" in r and "values=" in r and "nnz=2" in r and "sparse_coo" in r
