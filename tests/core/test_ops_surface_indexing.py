"""Indexing ops against PyTorch: index_add/copy/fill/put, scatter (add, reduce), masked
select/scatter, nonzero/argwhere, take/put, searchsorted/bucketize; their in-place forms,
gradients and errors."""

import ember
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_compare import compare, compare_raises, gradcheck, gradgradcheck


def _idx(m, *v):
    return m.tensor(list(v))


OPS = {
    "index_add": lambda m, x, s: x.index_add(1, _idx(m, 0, 2, 0), s[:, :3]),
    "index_add_alpha": lambda m, x, s: m.index_add(x, 0, _idx(m, 1, 1), s[:2], alpha=0.5),
    "index_add_": lambda m, x, s: (x * 1).index_add_(2, _idx(m, 3, 1), s[..., :2]),
    "index_copy": lambda m, x, s: x.index_copy(1, _idx(m, 3, 0), s[:, :2]),
    "index_copy_": lambda m, x, s: (x * 1).index_copy_(0, _idx(m, 1), s[:1]),
    "index_fill": lambda m, x, s: x.index_fill(2, _idx(m, 0, 2, 0), -1.5),
    "index_fill_tensor": lambda m, x, s: m.index_fill(x, 1, _idx(m, 1), s[0, 0, 0]),
    "index_fill_": lambda m, x, s: (x * 1).index_fill_(0, _idx(m, -1), 2.0),
    "index_put": lambda m, x, s: x.index_put((_idx(m, 0, 1), _idx(m, 2, 2)), s[0, 0, :4]),
    "index_put_acc": lambda m, x, s: x.index_put((_idx(m, 1, 1, 0),), s[0], accumulate=True),
    "index_put_": lambda m, x, s: (x * 1).index_put_((_idx(m, 0), _idx(m, 1), _idx(m, 2)),
                                                     s[0, 0, 0]),
    "index_put_acc_": lambda m, x, s: (x * 1).index_put_((x > 0,), s[0, 0, 0] * 2,
                                                         accumulate=True),
    "scatter_add": lambda m, x, s: x.scatter_add(1, _sc(m), s[:, :3]),
    "scatter_add_": lambda m, x, s: (x * 1).scatter_add_(2, _sc(m).transpose(1, 2),
                                                         s[:, :, :3]),
    "scatter": lambda m, x, s: x.scatter(1, _sc(m)[:, :1], s[:, :1]),
    "scatter_value": lambda m, x, s: m.scatter(x, 2, _sc(m).transpose(1, 2), 0.25),
    "scatter_": lambda m, x, s: (x * 1).scatter_(1, _sc(m)[:, :1], s[:, :1]),
    "masked_select": lambda m, x, s: x.masked_select(s > 0),
    "masked_select_bcast": lambda m, x, s: m.masked_select(x, s[0, 0] > 0),
    "masked_scatter": lambda m, x, s: x.masked_scatter(s > 0, s * 3),
    "masked_scatter_bcast": lambda m, x, s: x.masked_scatter(s[0] > 0, s.reshape(-1)[:20]),
    "masked_scatter_": lambda m, x, s: (x * 1).masked_scatter_(x > 0.5, s),
    "masked_fill": lambda m, x, s: x.masked_fill(s > 0, 3.0),
    "masked_fill_tensor": lambda m, x, s: x.masked_fill(s[0] > 0, s[1, 1, 1]),
    "take": lambda m, x, s: x.take(m.tensor([[0, 5], [-1, 23]])),
    "take_fn": lambda m, x, s: m.take(x.transpose(0, 2), m.tensor([3, 3, 7])),
    "take_along_dim": lambda m, x, s: m.take_along_dim(x, s.argsort(1), 1),
    "take_along_dim_flat": lambda m, x, s: x.take_along_dim(m.tensor([0, 7, 7])),
    "take_along_dim_bcast": lambda m, x, s: m.take_along_dim(x, m.tensor([[[1]], [[0]]]), 2),
    "put": lambda m, x, s: x.put(m.tensor([0, 5, 23]), s[0, 0, :3]),
    "put_acc": lambda m, x, s: x.put(m.tensor([1, 1, -1]), s[0, 0, :3], accumulate=True),
    "put_": lambda m, x, s: (x * 1).put_(m.tensor([[2, 4]]), s[0, :2, 0]),
    "put_acc_": lambda m, x, s: (x * 1).put_(m.tensor([2, 2]), s[0, 0, :2], accumulate=True),
    "gather": lambda m, x, s: x.gather(2, _sc(m).transpose(1, 2)),
}


def _sc(m):
    """A (2, 3, 4)-shaped index of values in [0, 3) with repeats along dims 1 and 2."""
    return m.tensor([[[0, 2, 1, 0], [1, 1, 2, 0], [2, 0, 0, 1]],
                     [[1, 0, 2, 2], [0, 1, 1, 2], [2, 2, 0, 1]]])


@pytest.mark.parametrize("name", sorted(OPS))
def test_op(name, device):
    """Values, dtypes and the gradients of both the input and the source."""
    compare([(2, 4, 4), (2, 4, 4)], OPS[name], device=device)


@pytest.mark.parametrize("name", ["index_add", "index_copy", "index_fill", "scatter_add",
                                  "masked_scatter", "take", "put_acc", "index_put_acc",
                                  "take_along_dim"])
def test_op_noncontiguous(name, device):
    compare([(2, 4, 4), (2, 4, 4)], OPS[name], device=device, noncontig=True)


@pytest.mark.parametrize("name", ["index_add_alpha", "index_copy", "index_fill_tensor",
                                  "index_put_acc", "masked_scatter_bcast", "take", "put_acc",
                                  "scatter_add", "scatter"])
def test_op_gradcheck(name, device):
    rng = np.random.default_rng(0)
    x, s = (ember.tensor(rng.uniform(-1, 1, (2, 4, 4)), dtype=ember.float64, device=device,
                         requires_grad=True) for _ in range(2))
    gradcheck(lambda a, b: OPS[name](ember, a, b), [x, s])


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_int_and_bool(dtype, device):
    for name in ("index_copy", "take", "put", "masked_scatter", "index_add"):
        if dtype == "bool" and name in ("index_add", "masked_scatter"):
            continue
        compare([(2, 4, 4), (2, 4, 4)], OPS[name], dtype=dtype, device=device)


# -- scatter_reduce ----------------------------------------------------------------------
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce(reduce, include_self, device):
    """Every reduction with and without self, values and both gradients (ties in amax/amin
    share the gradient as in torch)."""
    def f(m, x, s):
        return (x.scatter_reduce(1, _sc(m)[:, :, :3], s[:, :3, :3], reduce,
                                 include_self=include_self),
                m.scatter_reduce(x, 2, _sc(m), s[:, :3].round(), reduce,
                                 include_self=include_self))
    compare([(2, 3, 4), (2, 4, 4)], f, device=device)
    # a source larger than the index: only its leading part is used (forward only: torch's
    # backward refuses such a source)
    compare([(2, 3, 4), (2, 4, 4)], lambda m, x, s: x.scatter_reduce(
        1, _sc(m)[:, :2, :3], s, reduce, include_self=include_self), device=device,
        backward=False)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_gradcheck(reduce, device):
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.uniform(0.5, 1.5, (2, 3)), dtype=ember.float64, requires_grad=True,
                     device=device)
    s = ember.tensor(rng.uniform(0.5, 1.5, (2, 4)), dtype=ember.float64, requires_grad=True,
                     device=device)
    idx = ember.tensor([[0, 2, 0, 1], [1, 1, 2, 2]], device=device)
    for inc in (True, False):
        gradcheck(lambda a, b, inc=inc: a.scatter_reduce(1, idx, b, reduce, include_self=inc),
                  [x, s])
    if reduce in ("sum", "mean", "prod"):
        gradgradcheck(lambda a, b: a.scatter_reduce(1, idx, b, reduce), [x, s])


def test_scatter_reduce_empty_index(device):
    for reduce in ("sum", "mean", "amax", "prod"):
        compare([(3,), (2,)], lambda m, x, s, r=reduce: x.scatter_reduce(
            0, m.tensor([], dtype=m.int64), s[:0], r, include_self=False), device=device)


def test_scatter_reduce_prod_zeros(device):
    """prod's gradient with zeros in self and src (one and two zeros per target)."""
    vals = [np.array([[1.0, 0.0, 2.0], [3.0, 1.5, 0.0]]),
            np.array([[0.0, 2.0, 0.5, 0.0], [1.0, 0.0, 2.0, 3.0]])]
    compare([], lambda m, x, s: x.scatter_reduce(1, m.tensor([[0, 1, 0, 1], [2, 2, 0, 1]]),
                                                 s, "prod"), vals=vals, dtype="float64",
            device=device)


def test_scatter_reduce_ints_and_inplace(device):
    compare([(3,), (4,)], lambda m, x, s: (
        x.scatter_reduce(0, m.tensor([0, 2, 0, 2]), s, "mean"),
        x.scatter_reduce(0, m.tensor([0, 2, 0, 2]), -s, "mean", include_self=False),
        x.scatter_reduce(0, m.tensor([1, 1, 0, 0]), s, "amax", include_self=False),
        (x * 1).scatter_reduce_(0, m.tensor([1, 1, 0, 0]), s, "prod")),
        dtype="int64", low=-5, high=9, device=device)
    compare([(3,), (4,)], lambda m, x, s: (x * 1).scatter_reduce_(
        0, m.tensor([1, 1, 0, 0]), s, "sum", include_self=False), device=device)


def test_scatter_with_reduce(device):
    """scatter(reduce='add'|'multiply'), tensor and scalar sources; like torch, it has no
    derivative."""
    def f(m, x, s):
        i = m.tensor([[0, 2, 0], [1, 1, 1]])
        return (x.scatter(1, i, s, reduce="add"), m.scatter(x, 1, i, s, reduce="multiply"),
                x.scatter(1, i, 2.0, reduce="multiply"), (x * 1).scatter_(1, i, s, reduce="add"))
    compare([(2, 3), (2, 3)], f, device=device, backward=False)
    compare_raises([(2, 3), (2, 3)], lambda m, x, s: x.scatter(
        1, m.tensor([[0], [1]]), s, reduce="mean"), device=device)
    compare_raises([(2, 3), (2, 3)], lambda m, x, s: x.scatter(
        1, m.tensor([[0], [1]]), s, reduce="add").sum().backward(), grad=True, device=device)


# -- nonzero / masked --------------------------------------------------------------------
def test_nonzero_argwhere(device):
    vals = [np.array([[0, 1, 0], [2, 0, 3]])]
    compare([], lambda m, x: (x.nonzero(), m.nonzero(x, as_tuple=True), m.argwhere(x),
                              x.argwhere(), m.nonzero(x[0, 1]), m.nonzero(x[0, 0]),
                              m.nonzero(x[0, 1], as_tuple=True), m.nonzero(x == 5),
                              m.where(x > 0)), vals=vals, device=device)


# -- searchsorted / bucketize ------------------------------------------------------------
def test_searchsorted(device):
    seq = [np.array([1.0, 2.0, 2.0, 3.0, 5.0]), np.array([[2.0, 0.5, 3.0, 9.0, 2.0],
                                                          [5.0, 1.0, 2.0, 2.0, -1.0]])]

    def f(m, s, v):
        srt = m.tensor([4, 0, 2, 1, 3])
        s2 = m.stack([s, s * 2])
        return (m.searchsorted(s, v), m.searchsorted(s, v, right=True),
                m.searchsorted(s, v, side="right"), m.searchsorted(s, 2.0),
                m.searchsorted(s, v, out_int32=True), m.searchsorted(s2, v),
                m.searchsorted(s2, v, side="right"),
                m.searchsorted(s[srt.argsort()], v, sorter=m.tensor([0, 1, 2, 3, 4])),
                m.searchsorted(s.flip(0), v, sorter=m.tensor([4, 3, 2, 1, 0])),
                m.searchsorted(s.long(), v), m.searchsorted(s, v.long(), right=True))
    compare([], f, vals=seq, device=device, grad=False)


def test_bucketize(device):
    vals = [np.array([[1.0, 2.0, 4.5], [0.0, 5.0, 9.0]]), np.array([1.0, 3.0, 5.0, 7.0])]
    compare([], lambda m, x, b: (m.bucketize(x, b), m.bucketize(x, b, right=True),
                                 m.bucketize(3.0, b), m.bucketize(x, b, out_int32=True),
                                 m.bucketize(x.long(), b)), vals=vals, device=device,
            grad=False)


def test_searchsorted_nan(device):
    """NaN sorts after every number, as in torch."""
    compare([], lambda m, s, v: (m.searchsorted(s, v), m.searchsorted(s, v, right=True),
                                 m.searchsorted(m.stack([s, s]), m.stack([v, v]))),
            vals=[np.array([1.0, 2.0, np.nan]), np.array([np.nan, 1.5, 3.0])],
            device=device, grad=False)


@settings(max_examples=20)
@given(st.lists(st.integers(-5, 5), min_size=1, max_size=8),
       st.lists(st.integers(-6, 6), min_size=1, max_size=6), st.booleans(), st.integers(1, 3))
def test_hypothesis_searchsorted(seq, vals, right, batch):
    """Batched binary search equals torch on random sorted rows with repeats."""
    s = np.sort(np.array(seq, dtype=np.float64))
    v = np.array(vals, dtype=np.float64)
    rows_s = np.stack([s + i for i in range(batch)])
    rows_v = np.stack([v] * batch)
    compare([], lambda m, a, b: (m.searchsorted(a, b, right=right),
                                 m.searchsorted(a[0], b[0], right=right)),
            vals=[rows_s, rows_v], grad=False)


@settings(max_examples=25)
@given(st.integers(0, 1), st.integers(1, 3), st.integers(1, 3),
       st.sampled_from(["sum", "prod", "mean", "amax", "amin"]), st.booleans(), st.data())
def test_hypothesis_scatter_reduce(dim, r, c, reduce, include_self, data):
    """scatter_reduce with random indices (repeats included) matches torch, gradients
    too."""
    idx = np.array(data.draw(st.lists(st.integers(0, 2), min_size=r * c, max_size=r * c)))
    compare([(3, 3), (r, c)], lambda m, x, s: x.scatter_reduce(
        dim, m.tensor(idx.reshape(r, c)), s, reduce, include_self=include_self),
        dtype="float64")


@pytest.mark.parametrize("fn", [
    lambda m, x, s: x.index_add(0, m.tensor([0, 1]), s),
    lambda m, x, s: x.index_add(0, m.tensor([[0]]), s[:1]),
    lambda m, x, s: x.index_copy(0, m.tensor([5]), s[:1]),
    lambda m, x, s: x.index_copy(0, m.tensor([0, 1]), s[:1]),
    lambda m, x, s: x.index_copy(0, m.tensor([0.0]), s[:1]),
    lambda m, x, s: x.index_fill(1, m.tensor([4]), 1.0),
    lambda m, x, s: x.index_fill(1, m.tensor([0]), s[0]),
    lambda m, x, s: x.scatter_reduce(0, m.tensor([[0]]), s, "maximum"),
    lambda m, x, s: x.scatter_reduce(0, m.tensor([[5]]), s, "sum"),
    lambda m, x, s: x.scatter_reduce(0, m.tensor([[0]]), s.double(), "sum"),
    lambda m, x, s: x.masked_scatter(x > 0, s[:0]),
    lambda m, x, s: x.masked_scatter((x > 0).long(), s),
    lambda m, x, s: x.masked_select(x),
    lambda m, x, s: x.take(m.tensor([12])),
    lambda m, x, s: x.take(m.tensor([1.0])),
    lambda m, x, s: x.put(m.tensor([12]), s[0, :1]),
    lambda m, x, s: x.put(m.tensor([0, 1]), s[0, :1]),
    lambda m, x, s: m.searchsorted(x, s[:1]),
    lambda m, x, s: m.searchsorted(x[0], s, side="middle"),
    lambda m, x, s: m.searchsorted(x[0], s, side="left", right=True),
    lambda m, x, s: m.bucketize(s, x),
    lambda m, x, s: x.gather(0, m.tensor([[5]])),
])
def test_errors(fn, device):
    compare_raises([(3, 4), (3, 4)], fn, device=device)


def test_inplace_index_ops_on_leaf_raise(device):
    """In-place index ops on a leaf that requires grad raise, as in torch."""
    compare_raises([(3, 4), (3, 4)], lambda m, x, s: x.index_fill_(0, m.tensor([0]), 1.0),
                   grad=True, device=device)
    compare_raises([(3, 4), (3, 4)], lambda m, x, s: x.put_(m.tensor([0]), s[0, :1]),
                   grad=True, device=device)


def test_inplace_through_view_gradient(device):
    """index_copy_ into a view of a non-leaf: the base gets the right gradient."""
    def f(m, x, s):
        y = x * 2
        y[1].index_copy_(0, m.tensor([3, 0]), s[0, :2])
        y[:, 1:].masked_scatter_(s[:, 1:] > 0, s)
        return y
    compare([(3, 4), (3, 4)], f, device=device)


def test_index_fill_duplicates_value_grad(device):
    """Repeated indices fill once: the value's gradient counts each position once."""
    compare([(3, 4), ()], lambda m, x, v: x.index_fill(1, m.tensor([1, 1, 3]), v),
            device=device)


def test_take_put_roundtrip_values(device):
    x = torch.arange(12.0).reshape(3, 4)
    e = ember.arange(12.0).reshape(3, 4)
    i = [[0, 11], [5, -2]]
    np.testing.assert_array_equal(e.take(ember.tensor(i)).numpy(),
                                  x.take(torch.tensor(i)).numpy())
