"""Indexing against PyTorch: getitem/setitem, gather, scatter, index_select, masked_fill."""

import ember
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch_compare import compare, compare_raises, gradcheck, gradgradcheck


def _idx(m, vals, dtype="int64"):
    return m.tensor(vals, dtype=getattr(m, dtype))


GETITEM = {
    "int": lambda m, x: x[1],
    "neg_int": lambda m, x: x[-1, -2],
    "slice": lambda m, x: x[1:, :2],
    "step": lambda m, x: x[::2, 1::2],
    "none": lambda m, x: x[None, :, None],
    "ellipsis": lambda m, x: x[..., 1],
    "ellipsis_none": lambda m, x: x[0, ..., None],
    "all_ints": lambda m, x: x[1, 2, 3],
    "empty_slice": lambda m, x: x[2:1],
    "bool_mask": lambda m, x: x[x > 0],
    "bool_mask_rows": lambda m, x: x[_idx(m, [True, False, True])],
    "int_tensor": lambda m, x: x[_idx(m, [2, 0, 0])],
    "int_tensor_2d": lambda m, x: x[_idx(m, [[0, 1], [2, 2]])],
    "int_tensor_pair": lambda m, x: x[_idx(m, [0, 2]), _idx(m, [1, 3])],
    "int_tensor_slice_mix": lambda m, x: x[:, _idx(m, [3, 0])],
    "int_tensor_separated": lambda m, x: x[_idx(m, [0, 1]), :, _idx(m, [1, 2])],
    "list_index": lambda m, x: x[[0, 2]],
    "int32_index": lambda m, x: x[_idx(m, [1, 0], "int32")],
    "neg_tensor_index": lambda m, x: x[_idx(m, [-1, -3])],
    "zero_dim_index": lambda m, x: x[_idx(m, 1)],
    "bool_scalar": lambda m, x: x[True],
    "mask_and_slice": lambda m, x: x[_idx(m, [True, False, True]), 1:],
    "int_slice_list": lambda m, x: x[0, :, [0, 2]],
    "list_int_slice": lambda m, x: x[[0, 1], 1, :],
    "int_list_list": lambda m, x: x[1, [0, 2], [1, 3]],
    "list_slice_int": lambda m, x: x[[2, 0], :, 4],
    "ellipsis_int_list": lambda m, x: x[..., 1, [0, 0]],
}


@pytest.mark.parametrize("name", sorted(GETITEM))
def test_getitem(name, device):
    """Each kind of index gives torch's values, shape and gradient."""
    compare([(3, 4, 5)], GETITEM[name], device=device)


@pytest.mark.parametrize("name", ["slice", "int_tensor", "bool_mask", "step", "ellipsis"])
def test_getitem_noncontiguous(name, device):
    """Indexing a transposed tensor."""
    compare([(3, 4, 5)], lambda m, x: GETITEM[name](m, x.transpose(0, 1).transpose(0, 1)),
            device=device, noncontig=True)


def test_getitem_duplicate_indices_accumulate_gradient(device):
    """Repeated integer indices accumulate their gradients."""
    compare([(4, 2)], lambda m, x: x[_idx(m, [1, 1, 3, 1])], device=device)


def test_getitem_gradcheck(device):
    """float64 numerical gradient and second-gradient checks of advanced indexing."""
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.normal(size=(3, 4)), dtype=ember.float64, device=device,
                     requires_grad=True)
    idx = ember.tensor([2, 0, 2], device=device)
    gradcheck(lambda t: t[idx, 1:] ** 2, [x])
    gradgradcheck(lambda t: t[idx, 1:] ** 2, [x])


def test_getitem_is_a_view_for_basic_indices(device):
    """Basic indexing returns a view; advanced indexing a copy."""
    x = ember.zeros(3, 4, device=device)
    x[1][2] = 5.0
    x[:, 0][1] = 6.0
    x[ember.tensor([0], device=device)][0, 0] = 7.0  # copy: no effect
    assert x[1].tolist() == [6.0, 0.0, 5.0, 0.0] and x[0, 0].item() == 0.0


@pytest.mark.parametrize("fn", [lambda m, x: x[3], lambda m, x: x[0, 4],
                                lambda m, x: x[_idx(m, [5])], lambda m, x: x[0, 0, 0],
                                lambda m, x: x[-4]])
def test_getitem_out_of_range_raises(fn, device):
    """Out-of-range and too many indices raise IndexError."""
    compare_raises([(3, 4)], fn, device=device)


def test_getitem_float_index_raises(device):
    """A float tensor index raises IndexError."""
    compare_raises([(3, 4)], lambda m, x: x[m.tensor([0.0])], device=device)


def test_getitem_mask_shape_mismatch_raises(device):
    """A bool mask of the wrong shape raises IndexError."""
    compare_raises([(3, 4)], lambda m, x: x[m.tensor([True, False])], device=device)


def _set(fn):
    """out-of-place wrapper: clones x (keeping the graph) and applies setitem ``fn``."""
    def f(m, x, v):
        y = x * 1
        fn(m, y, v)
        return y
    return f


SETITEM = {
    "int_scalar": (lambda m, y, v: y.__setitem__(1, 2.5), (4,)),
    "slice_tensor": (lambda m, y, v: y.__setitem__((slice(1, 3), 0), v), (2,)),
    "broadcast_row": (lambda m, y, v: y.__setitem__(slice(None), v), (4,)),
    "ellipsis": (lambda m, y, v: y.__setitem__((Ellipsis, 1), v[0]), (1,)),
    "mask_scalar": (lambda m, y, v: y.__setitem__(y > 0, 0.0), (1,)),
    "mask_tensor": (lambda m, y, v: y.__setitem__(m.tensor([True, False, True]), v), (4,)),
    "int_index_tensor": (lambda m, y, v: y.__setitem__(m.tensor([2, 0]), v), (2, 4)),
    "pair_index": (lambda m, y, v: y.__setitem__((m.tensor([0, 2]), m.tensor([1, 3])), v),
                   (2,)),
    "step_slice": (lambda m, y, v: y.__setitem__((slice(None), slice(None, None, 2)), v),
                   (3, 2)),
    "zero_dim_value": (lambda m, y, v: y.__setitem__((0, 0), v.sum()), (3,)),
    "int_and_list": (lambda m, y, v: y.__setitem__((1, [0, 3]), v), (2,)),
}


@pytest.mark.parametrize("name", sorted(SETITEM))
def test_setitem(name, device):
    """setitem on a non-leaf gives torch's values and gradients (to x and the value)."""
    fn, vshape = SETITEM[name]
    compare([(3, 4), vshape], _set(fn), device=device)


def test_setitem_no_grad_writes_in_place(device):
    """setitem on a plain tensor writes in place and bumps the version."""
    x = ember.zeros(2, 3, device=device)
    v0 = x._version
    x[0, 1:] = ember.tensor([1.0, 2.0], device=device)
    x[1] = 3
    x[x > 2.5] = -1.0
    assert x.tolist() == [[0.0, 1.0, 2.0], [-1.0, -1.0, -1.0]] and x._version == v0 + 3


def test_setitem_casts_value(device):
    """Setting float values into an int tensor truncates, as torch does."""
    compare([(4,)], lambda m, x: _int_set(m, x), device=device, grad=False)


def _int_set(m, x):
    y = x.long()
    y[1:3] = m.tensor([1.7, -2.7])
    y[0] = 3.9
    return y


def test_setitem_leaf_requiring_grad_raises(device):
    """setitem on a leaf that requires grad raises."""
    compare_raises([(3,)], lambda m, x: x.__setitem__(0, 1.0), device=device, grad=True)


def test_setitem_shape_mismatch_raises(device):
    """Setting a value of the wrong shape raises RuntimeError."""
    compare_raises([(3, 4), (3,)], lambda m, x, v: x.__setitem__(0, v), device=device)


def test_setitem_duplicate_indices_last_wins(device):
    """Duplicate indices in setitem: a deterministic value is written."""
    compare([(4,)], lambda m, x: _dup(m, x), device=device, grad=False)


def _dup(m, x):
    y = x.clone()
    y[m.tensor([1, 1])] = m.tensor([5.0, 5.0])
    return y


GATHER = {
    "gather0": lambda m, x: x.gather(0, m.tensor([[0, 1, 2, 0], [2, 2, 1, 0]])),
    "gather1": lambda m, x: m.gather(x, 1, m.tensor([[3, 0], [1, 1], [2, 0]])),
    "gather_neg": lambda m, x: x.gather(-1, m.tensor([[1], [0], [3]])),
    "scatter": lambda m, x: m.zeros(3, 5).scatter(1, m.tensor([[4, 0], [1, 2], [3, 3]]),
                                                  x[:, :2]),
    "scatter_self": lambda m, x: x.scatter(0, m.tensor([[2, 0, 1, 1]]), x[:1] * 3),
    "scatter_value": lambda m, x: x.scatter(1, m.tensor([[0], [3], [1]]), 7.5),
    "scatter_add": lambda m, x: x.scatter_add(0, m.tensor([[0, 1, 0, 0], [0, 0, 2, 1]]),
                                              x[:2] * 2),
    "index_select0": lambda m, x: x.index_select(0, m.tensor([2, 0, 2])),
    "index_select1": lambda m, x: m.index_select(x, 1, m.tensor([3, 1])),
    "index_select_int32": lambda m, x: x.index_select(1, m.tensor([0], dtype=m.int32)),
    "masked_fill": lambda m, x: x.masked_fill(x > 0, -1.0),
    "masked_fill_bcast": lambda m, x: x.masked_fill(m.tensor([True, False, True, False]), 2),
    "masked_fill_tensor_value": lambda m, x: x.masked_fill(x < 0, x[0, 0]),
    "masked_fill_inf": lambda m, x: x.masked_fill(x < 0, float("-inf")).softmax(-1),
}


@pytest.mark.parametrize("name", sorted(GATHER))
def test_gather_scatter_family(name, device):
    """gather, scatter, scatter_add, index_select and masked_fill: values and gradients."""
    compare([(3, 4)], GATHER[name], device=device)


def test_gather_noncontiguous(device):
    """gather on a transposed input."""
    compare([(4, 3)], lambda m, x: x.gather(1, m.tensor([[0, 2], [1, 1], [2, 0]])),
            device=device, noncontig=True)


def test_gather_gradcheck(device):
    """float64 gradient checks of gather, scatter_add and index_select."""
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.normal(size=(3, 4)), dtype=ember.float64, device=device,
                     requires_grad=True)
    idx = ember.tensor([[0, 1], [2, 0], [1, 1]], device=device)
    for f in (lambda t: t.gather(1, idx) ** 2,
              lambda t: t.index_select(0, ember.tensor([2, 2, 0], device=device)) ** 2,
              lambda t: t.scatter_add(1, idx, t[:, :2] ** 2),
              lambda t: t.masked_fill(t > 0, 0.0) ** 2):
        gradcheck(f, [x])
        gradgradcheck(f, [x])


def test_gather_index_dtype_and_range(device):
    """gather takes int32 and int64 indices; a float or out-of-range index raises."""
    compare([(3, 4)], lambda m, x: x.gather(0, m.tensor([[2]], dtype=m.int32)), device=device)
    compare_raises([(3, 4)], lambda m, x: x.gather(0, m.tensor([[0.0]])), device=device)
    compare_raises([(3, 4)], lambda m, x: x.gather(0, m.tensor([[5]])), device=device)


def test_index_select_errors(device):
    """index_select with a float index or out of range raises."""
    compare_raises([(3, 4)], lambda m, x: x.index_select(0, m.tensor([0.0])), device=device)
    compare_raises([(3, 4)], lambda m, x: x.index_select(0, m.tensor([3])), device=device)


def test_masked_fill_errors(device):
    """masked_fill with a float mask or a non-broadcastable mask raises."""
    compare_raises([(3, 4)], lambda m, x: x.masked_fill(x, 0.0), device=device)
    compare_raises([(3, 4)], lambda m, x: x.masked_fill(m.tensor([True, False]), 0.0),
                   device=device)


def test_scatter_dtype_mismatch_raises(device):
    """scatter with a src of another dtype raises."""
    compare_raises([(3, 4)], lambda m, x: x.scatter(0, m.tensor([[0]]), x.double()),
                   device=device)


def test_inplace_index_ops(device):
    """masked_fill_, scatter_, scatter_add_, index_put_ in place on non-leaf tensors."""
    def f(m, x, v):
        y = x * 1
        y.masked_fill_(y > 1, 1.0)
        y.scatter_(1, m.tensor([[0], [2], [1]]), v[:, :1])
        y.scatter_add_(0, m.tensor([[1, 1, 0, 0]]), v[:1])
        y.index_put_((m.tensor([0, 2]), m.tensor([3, 3])), v[0, :2], accumulate=True)
        return y
    compare([(3, 4), (3, 4)], f, device=device)


@st.composite
def basic_index(draw):
    """A random basic-or-advanced index for a (3, 4, 5) tensor."""
    shape = (3, 4, 5)
    parts = []
    dim = 0
    used_ellipsis = False
    while dim < 3 and draw(st.booleans()):
        kind = draw(st.sampled_from(["int", "slice", "none", "ellipsis", "list"]))
        n = shape[dim]
        if kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
            dim += 1
        elif kind == "slice":
            a = draw(st.one_of(st.none(), st.integers(-n, n)))
            b = draw(st.one_of(st.none(), st.integers(-n, n)))
            s = draw(st.one_of(st.none(), st.integers(1, 3)))
            parts.append(slice(a, b, s))
            dim += 1
        elif kind == "none":
            parts.append(None)
        elif kind == "ellipsis" and not used_ellipsis:
            parts.append(Ellipsis)
            used_ellipsis = True
            dim = 3 - sum(1 for p in parts if p is not None and p is not Ellipsis)
            dim = max(dim, 0) if dim >= 0 else 3
            break
        elif kind == "list":
            parts.append(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=3)))
            dim += 1
    return tuple(parts)


def _convert(idx, m):
    return tuple(m.tensor(p) if isinstance(p, list) else p for p in idx)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(idx=basic_index())
def test_hypothesis_getitem(idx, device):
    """Random indices: forward values and gradients match torch."""
    try:
        torch.zeros(3, 4, 5)[_convert(idx, torch)]
    except (IndexError, RuntimeError):
        compare_raises([(3, 4, 5)], lambda m, x: x[_convert(idx, m)], device=device)
        return
    compare([(3, 4, 5)], lambda m, x: x[_convert(idx, m)], device=device)


def test_setitem_int_slice_list_no_grad(device):
    """x[0, :, [1]] = v writes where torch does (integers select first)."""
    def f(m, x):
        y = x.clone()
        y[0, :, [1, 3]] = m.arange(8.0).reshape(4, 2)
        return y
    compare([(3, 4, 5)], f, device=device, grad=False)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(idx=basic_index())
def test_hypothesis_setitem(idx, device):
    """Random indices: setitem of a broadcast value matches torch, with gradients."""
    try:
        torch.zeros(3, 4, 5)[_convert(idx, torch)] = 1.0
    except (IndexError, RuntimeError):
        return

    def f(m, x, v):
        y = x * 1
        y[_convert(idx, m)] = v.sum()
        return y
    compare([(3, 4, 5), (2,)], f, device=device)
