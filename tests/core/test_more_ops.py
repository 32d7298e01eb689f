"""Ops beyond the core list that models and data pipelines use: repeat/tile/roll, sorting,
triangles, masked_select, take_along_dim, index_add, atan2, nan_to_num, outer, meshgrid,
broadcast_tensors, and random draws (bernoulli, multinomial, normal)."""

import ember
import numpy as np
import pytest
from torch_compare import compare, compare_raises, gradcheck, gradgradcheck

OPS = {
    "repeat": lambda m, x: x.repeat(2, 1, 3),
    "repeat_more_dims": lambda m, x: x.repeat(2, 1, 1, 2),
    "tile": lambda m, x: m.tile(x, (2,)),
    "tile_method": lambda m, x: x.tile((2, 1, 1)),
    "roll": lambda m, x: x.roll(1, 0),
    "roll_multi": lambda m, x: m.roll(x, (1, -2), (1, 2)),
    "roll_flat": lambda m, x: x.roll(5),
    "sort": lambda m, x: tuple(x.sort()),
    "sort_desc": lambda m, x: tuple(x.sort(1, descending=True)),
    "sort_kw": lambda m, x: tuple(m.sort(x, dim=0, stable=True)),
    "argsort": lambda m, x: x.argsort(-1),
    "argsort_desc": lambda m, x: m.argsort(x, 0, descending=True),
    "topk": lambda m, x: tuple(x.topk(2)),
    "topk_smallest": lambda m, x: tuple(m.topk(x, 1, dim=1, largest=False)),
    "tril": lambda m, x: x.tril(),
    "triu_k": lambda m, x: m.triu(x, 1),
    "tril_neg": lambda m, x: x.tril(-1),
    "masked_select": lambda m, x: x.masked_select(x > 0),
    "masked_select_bcast": lambda m, x: m.masked_select(x, m.tensor([True, False, True, True])),
    "take_along_dim": lambda m, x: m.take_along_dim(x, x.argsort(-1), -1),
    "take_along_dim_flat": lambda m, x: m.take_along_dim(x, m.tensor([0, 5, 23])),
    "take_along_dim_bcast": lambda m, x: x.take_along_dim(m.tensor([[[0], [3], [1]]]), 2),
    "index_add": lambda m, x: x.index_add(1, m.tensor([0, 2, 0]), x[:, :3] * 2),
    "index_add_alpha": lambda m, x: m.index_add(x, 0, m.tensor([1]), x[:1], alpha=-1.5),
    "atan2": lambda m, x: m.atan2(x, x.flip(0)),
    "nan_to_num": lambda m, x: (x.log()).nan_to_num(posinf=9.0),
    "outer": lambda m, x: m.outer(x[0, 0], x[1, :, 1]),
    "broadcast_tensors": lambda m, x: m.broadcast_tensors(x[:, :1], x[0]),
    "meshgrid_ij": lambda m, x: m.meshgrid(x[0, 0], x[1, 1, :2], indexing="ij"),
    "meshgrid_xy": lambda m, x: m.meshgrid([x[0, 0], x[1, 1, :2]], indexing="xy"),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_op(name, device):
    """Each op matches torch in values, dtypes, shapes and gradients."""
    compare([(2, 3, 4)], OPS[name], device=device)


@pytest.mark.parametrize("name", ["repeat", "roll_multi", "sort_desc", "topk", "tril",
                                  "masked_select", "take_along_dim", "index_add", "atan2"])
def test_op_noncontiguous(name, device):
    """The same ops on a transposed input."""
    compare([(2, 3, 4)], lambda m, x: OPS[name](m, x.transpose(0, 1).transpose(0, 1)),
            device=device, noncontig=True)


@pytest.mark.parametrize("name", ["repeat", "roll", "sort", "topk", "triu_k", "index_add",
                                  "atan2", "masked_select"])
def test_op_gradcheck(name, device):
    """float64 numerical first and second gradients."""
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.normal(size=(2, 3, 4)), dtype=ember.float64, device=device,
                     requires_grad=True)

    def f(t):
        r = OPS[name](ember, t)
        r = r[0] if isinstance(r, tuple) else r
        return r * r

    gradcheck(f, [x])
    gradgradcheck(f, [x])


def test_sort_stability_and_nan(device):
    """Ties keep their order (both directions); NaN sorts as the largest value."""
    vals = [np.array([[2.0, 1.0, 2.0, np.nan, 1.0, 2.0]])]
    compare([], lambda m, x: (tuple(x.sort(stable=True)),
                              tuple(x.sort(descending=True, stable=True))),
            vals=vals, device=device, grad=False)


def test_sort_ints_and_bools(device):
    """sort and argsort of int and bool tensors."""
    compare([(7,)], lambda m, x: (tuple(x.sort()), x.argsort(descending=True, stable=True)),
            dtype="int64", low=0, high=3, device=device)


def test_op_errors(device):
    """Bad arguments raise as in torch."""
    compare_raises([(2, 3)], lambda m, x: x.repeat(2), device=device)
    compare_raises([(2, 3)], lambda m, x: x.topk(4), device=device)
    compare_raises([(3,)], lambda m, x: x.tril(), device=device)
    compare_raises([(2, 3)], lambda m, x: x.masked_select(x), device=device)
    compare_raises([(2, 3)], lambda m, x: x.roll((1, 2), (0,)), device=device)
    compare_raises([(2, 3)], lambda m, x: m.outer(x, x), device=device)


def test_index_add_inplace(device):
    """index_add_ on a non-leaf accumulates repeated indices, with gradients."""
    def f(m, x, s):
        y = x * 1
        y.index_add_(0, m.tensor([0, 0, 2]), s)
        return y
    compare([(3, 4), (3, 4)], f, device=device)


def test_tril_triu_inplace(device):
    """tril_/triu_ in place."""
    compare([(3, 4)], lambda m, x: ((x * 1).tril_(1), (x * 1).triu_()), device=device)


def test_bernoulli(device):
    """bernoulli draws 0/1 with the given probabilities; bernoulli_ fills in place."""
    ember.manual_seed(0)
    p = ember.tensor([0.0, 1.0, 0.3], device=device).expand(20000, 3)
    d = np.asarray(ember.bernoulli(p).cpu())
    assert d.dtype == np.float32 and set(np.unique(d)) <= {0.0, 1.0}
    assert d[:, 0].sum() == 0 and d[:, 1].all() and abs(d[:, 2].mean() - 0.3) < 0.02
    x = ember.empty(20000, device=device).bernoulli_(0.25)
    assert abs(x.mean().item() - 0.25) < 0.02
    ember.manual_seed(5)
    a = ember.bernoulli(p[:5]).tolist()
    ember.manual_seed(5)
    assert ember.bernoulli(p[:5]).tolist() == a


def test_multinomial(device):
    """multinomial with and without replacement: shapes, ranges, frequencies, errors."""
    ember.manual_seed(0)
    w = ember.tensor([[0.0, 1.0, 3.0], [5.0, 0.0, 0.0]], device=device)
    s = ember.multinomial(w, 4000, replacement=True)
    a = np.asarray(s.cpu())
    assert s.shape == (2, 4000) and s.dtype is ember.int64 and (a[1] == 0).all()
    assert (a[0] != 0).all() and abs((a[0] == 2).mean() - 0.75) < 0.03
    u = ember.multinomial(ember.ones(6, device=device), 6)
    assert sorted(u.tolist()) == list(range(6))
    v = ember.multinomial(w, 2)
    assert sorted(v[0].tolist()) == [1, 2]
    compare_raises([(3,)], lambda m, x: m.multinomial(x.abs(), 4), device=device)
    compare_raises([(3,)], lambda m, x: m.multinomial(x - 10, 1), device=device)


def test_normal(device):
    """normal with scalar and tensor mean/std; gradients flow to tensor mean and std."""
    ember.manual_seed(0)
    z = ember.normal(2.0, 3.0, (20000,), device=device)
    a = np.asarray(z.cpu())
    assert abs(a.mean() - 2.0) < 0.1 and abs(a.std() - 3.0) < 0.1 and z.dtype is ember.float32
    mean = ember.zeros(3, device=device, requires_grad=True)
    std = ember.ones(3, device=device, requires_grad=True)
    out = ember.normal(mean, std)
    out.sum().backward()
    assert mean.grad.tolist() == [1.0, 1.0, 1.0]
    np.testing.assert_allclose(np.asarray(std.grad.cpu()), np.asarray(out.detach().cpu()),
                               rtol=1e-6)
    assert ember.normal(ember.zeros(2, 3, device=device), 1.0).shape == (2, 3)
