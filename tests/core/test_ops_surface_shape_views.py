"""Shape and view ops against PyTorch: values, gradients, view semantics (memory shared
with the base, in-place writes seen through both, gradients through in-place changes of
views), metadata and errors."""

import ember
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_compare import assert_close, compare, compare_raises, gradcheck, gradgradcheck

OPS = {
    "unflatten": lambda m, x: x.unflatten(1, (2, 2)),
    "unflatten_neg": lambda m, x: m.unflatten(x, -1, (-1, 1)),
    "t": lambda m, x: x[0].t(),
    "t_fn": lambda m, x: m.t(x[:, 0]),
    "T": lambda m, x: x.T if False else x[0].T,
    "mT": lambda m, x: x.mT,
    "mH": lambda m, x: x.mH,
    "expand_as": lambda m, x: x[:, :1].expand_as(x),
    "repeat": lambda m, x: x.repeat(1, 2, 1, 2),
    "repeat_interleave": lambda m, x: x.repeat_interleave(2),
    "repeat_interleave_dim": lambda m, x: m.repeat_interleave(x, 3, dim=1),
    "repeat_interleave_tensor": lambda m, x: x.repeat_interleave(m.tensor([1, 0, 2]), dim=0),
    "repeat_interleave_size": lambda m, x: m.repeat_interleave(
        x, m.tensor([2, 1, 0, 1]), dim=1, output_size=4),
    "narrow": lambda m, x: x.narrow(1, 1, 2),
    "narrow_neg": lambda m, x: m.narrow(x, -1, -3, 2),
    "narrow_tensor_start": lambda m, x: x.narrow(0, m.tensor(1), 2),
    "unfold": lambda m, x: x.unfold(2, 2, 1),
    "unfold_step": lambda m, x: x.unfold(1, 2, 2),
    "unfold_dim0": lambda m, x: x.unfold(0, 3, 1),
    "tensor_split_int": lambda m, x: x.tensor_split(3, dim=2),
    "tensor_split_list": lambda m, x: m.tensor_split(x, [1, 3], dim=1),
    "tensor_split_neg": lambda m, x: m.tensor_split(x, (-1, 8, 1), dim=2),
    "tensor_split_tensor": lambda m, x: x.tensor_split(m.tensor([1, 2]), 0),
    "tensor_split_tensor0": lambda m, x: m.tensor_split(x, m.tensor(2), 1),
    "hsplit": lambda m, x: m.hsplit(x, 2),
    "vsplit": lambda m, x: x.vsplit([1]),
    "dsplit": lambda m, x: m.dsplit(x, [1, 2]),
    "unbind": lambda m, x: x.unbind(1),
    "hstack": lambda m, x: m.hstack([x, x[:, :1]]),
    "hstack_1d": lambda m, x: m.hstack((x[0, 0], x[1, 1], x[2, 2, 0])),
    "vstack": lambda m, x: m.vstack([x[0], x[1, :2], x[2, 0]]),
    "row_stack": lambda m, x: m.row_stack((x[0, 0], x[1, 1])),
    "dstack": lambda m, x: m.dstack([x[0], x[1]]),
    "dstack_1d": lambda m, x: m.dstack([x[0, 0], x[1, 1], x[2, 0]]),
    "column_stack": lambda m, x: m.column_stack([x[0, 0], x[0], x[1, :, 0]]),
    "column_stack_0d": lambda m, x: m.column_stack([x[0, 0, 0], x[1, 1, 1]]),
    "flip": lambda m, x: x.flip(0, 2),
    "fliplr": lambda m, x: m.fliplr(x),
    "flipud": lambda m, x: x.flipud(),
    "roll": lambda m, x: x.roll(2, 1),
    "roll_multi": lambda m, x: m.roll(x, (1, -1), (0, 2)),
    "roll_flat": lambda m, x: m.roll(x, 7),
    "rot90": lambda m, x: x.rot90(),
    "rot90_k2": lambda m, x: m.rot90(x, 2, [1, 2]),
    "rot90_k3": lambda m, x: x.rot90(3, (0, 2)),
    "rot90_neg": lambda m, x: m.rot90(x, -1, (2, 1)),
    "rot90_k0": lambda m, x: x.rot90(4),
    "movedim": lambda m, x: x.movedim(0, -1),
    "movedim_multi": lambda m, x: m.movedim(x, (0, 1), (2, 0)),
    "moveaxis": lambda m, x: m.moveaxis(x, -1, 0),
    "swapaxes": lambda m, x: x.swapaxes(0, 2),
    "swapdims": lambda m, x: m.swapdims(x, 1, -1),
    "diag_1d": lambda m, x: m.diag(x[0, 0]),
    "diag_1d_offset": lambda m, x: x[0, 0].diag(2),
    "diag_1d_neg": lambda m, x: m.diag(x[0, 0], -1),
    "diag_2d": lambda m, x: x[0].diag(),
    "diag_2d_offset": lambda m, x: m.diag(x[1], 1),
    "diag_2d_neg": lambda m, x: m.diag(x[1], -2),
    "diag_embed": lambda m, x: m.diag_embed(x),
    "diag_embed_args": lambda m, x: x.diag_embed(1, 0, 2),
    "diag_embed_neg": lambda m, x: m.diag_embed(x[0], -2, -1, 0),
    "diagonal": lambda m, x: x.diagonal(),
    "diagonal_args": lambda m, x: m.diagonal(x, 1, 1, 2),
    "diagonal_neg": lambda m, x: x.diagonal(-1, -1, 0),
    "diagonal_offset_out": lambda m, x: x.diagonal(7),
    "tril": lambda m, x: x.tril(1),
    "triu": lambda m, x: m.triu(x, -1),
    "meshgrid_ij": lambda m, x: m.meshgrid(x[0, 0], x[1, :, 0], indexing="ij"),
    "meshgrid_xy": lambda m, x: m.meshgrid(x[0, 0], x[1, :, 0], x[2, 0, :2], indexing="xy"),
    "broadcast_to": lambda m, x: x[:, :1].broadcast_to((2, 3, 4, 4)),
    "broadcast_to_fn": lambda m, x: m.broadcast_to(x[0, 0], (2, 4)),
    "broadcast_tensors": lambda m, x: m.broadcast_tensors(x[:, :1, :1], x[0, :, 0:1], x[0, 0]),
    "atleast_1d": lambda m, x: (m.atleast_1d(x[0, 0, 0]), m.atleast_1d(x)),
    "atleast_2d": lambda m, x: m.atleast_2d(x[0, 0, 0], x[0, 0], x[0]),
    "atleast_3d": lambda m, x: m.atleast_3d((x[0, 0, 0], x[0, 0], x[0], x)),
    "view_as": lambda m, x: x.view_as(x.reshape(4, 3, 4)),
    "reshape_as": lambda m, x: x.transpose(0, 1).reshape_as(x.reshape(4, 12)),
    "type_as": lambda m, x: x.type_as(x.double()),
    "squeeze_tuple": lambda m, x: x[:, :1, :, None].squeeze((1, 3)),
    "squeeze_tuple_fn": lambda m, x: m.squeeze(x[:1, :, :1], (0, 2, 1)),
    "as_strided": lambda m, x: x.as_strided((2, 2), (1, 2)),
    "as_strided_offset": lambda m, x: m.as_strided(x, (3, 2), (4, 1), 5),
    "as_strided_overlap": lambda m, x: x.as_strided((4, 3), (2, 1)),
    "block_diag": lambda m, x: m.block_diag(x[0, 0], x[1, :2], x[2, 0, 0], x[0, :2, :3]),
    "cartesian_prod": lambda m, x: m.cartesian_prod(x[0, 0], x[1, :2, 1]),
    "cartesian_prod_1": lambda m, x: m.cartesian_prod(x[0, 0]),
    "combinations": lambda m, x: m.combinations(x[0, 0]),
    "combinations_r3": lambda m, x: m.combinations(x[0, 0], 3),
    "combinations_repl": lambda m, x: m.combinations(x[0, 0, :3], 2, with_replacement=True),
    "combinations_r0": lambda m, x: m.combinations(x[0, 0], 0),
    "combinations_big_r": lambda m, x: m.combinations(x[0, 0, :2], 3),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_op(name, device):
    """Values, dtypes, shapes and gradients match torch."""
    compare([(3, 4, 4)], OPS[name], device=device)


@pytest.mark.parametrize("name", ["unfold", "diagonal_args", "diag_embed", "rot90",
                                  "tensor_split_list", "repeat_interleave_tensor", "hstack",
                                  "as_strided", "movedim_multi", "narrow", "diag_2d"])
def test_op_noncontiguous(name, device):
    compare([(3, 4, 4)], OPS[name], device=device, noncontig=True)


@pytest.mark.parametrize("name", ["unfold_step", "diagonal_args", "diag_embed_args",
                                  "as_strided_overlap", "as_strided_offset", "rot90_k3",
                                  "repeat_interleave_tensor", "block_diag", "combinations",
                                  "tensor_split_neg", "cartesian_prod", "diag_1d_offset"])
def test_op_gradcheck(name, device):
    x = ember.tensor(np.random.default_rng(0).uniform(-1, 1, (3, 4, 4)), dtype=ember.float64,
                     device=device, requires_grad=True)
    f = OPS[name]
    gradcheck(lambda t: _cat(f(ember, t)), [x])


@pytest.mark.parametrize("name", ["unfold", "diagonal", "as_strided_overlap", "diag_embed"])
def test_op_gradgradcheck(name, device):
    x = ember.tensor(np.random.default_rng(1).uniform(-1, 1, (2, 3, 3)), dtype=ember.float64,
                     device=device, requires_grad=True)
    f = OPS[name]
    gradgradcheck(lambda t: _cat(f(ember, t)) ** 2, [x])


def _cat(r):
    if isinstance(r, (tuple, list)):
        return ember.cat([t.reshape(-1) for t in r])
    return r


def test_int_and_bool_inputs(device):
    """The same shape ops on integer and bool tensors."""
    for name in ("diag_2d", "diagonal_args", "unfold", "rot90", "repeat_interleave_dim",
                 "block_diag", "as_strided", "combinations", "tensor_split_list", "fliplr"):
        compare([(3, 4, 4)], OPS[name], dtype="int64", device=device)
    compare([(3, 4, 4)], OPS["diag_embed"], dtype="bool", device=device)


# -- views: shared memory and in-place ----------------------------------------------------
@pytest.mark.parametrize("view", [
    lambda x: x.diagonal(), lambda x: x.diagonal(1, 0, 2), lambda x: x.unfold(1, 2, 2),
    lambda x: x.as_strided((2, 3), (5, 1), 2), lambda x: x.narrow(2, 1, 2),
    lambda x: x.unflatten(2, (2, 2)), lambda x: x.mT, lambda x: x.swapaxes(0, 1),
    lambda x: x.tensor_split(2, 1)[1], lambda x: x.movedim(2, 0), lambda x: x.T,
    lambda x: x.squeeze((0,)) if False else x[:1].squeeze((0,)),
])
def test_views_share_memory(view, device):
    """Writes through the view reach the base and vice versa (as in torch), and
    gradients flow through an in-place change of the view."""
    def f(m, x):
        base = x * 1
        v = view(base)
        v.mul_(2)
        base.add_(1)
        return base, v * 1
    compare([(3, 4, 4)], f, device=device)


def test_diagonal_write_through_and_fill(device):
    """The idiom ``x.diagonal().fill_(v)`` fills the diagonal of x."""
    def f(m, x):
        y = x.clone()
        y.diagonal().fill_(5.0)
        y.diagonal(1).zero_()
        y.diagonal(dim1=-1, dim2=-2).add_(x.diagonal())
        return y
    compare([(4, 4)], f, device=device)


def test_as_strided_storage_semantics(device):
    """as_strided addresses the storage: offsets count from the storage start, views of
    views keep the offset, out-of-bounds sizes raise."""
    def f(m, x):
        base = x.reshape(-1)
        sub = base[3:]
        return (sub.as_strided((2, 2), (1, 2)), sub.as_strided((2, 2), (1, 2), 0),
                m.as_strided(sub, (3,), (3,), 1), sub.storage_offset(),
                sub.as_strided((2,), (1,)).storage_offset())
    compare([(3, 4)], f, device=device)
    compare_raises([(3, 4)], lambda m, x: x.as_strided((5, 5), (5, 1)), device=device)
    compare_raises([(3, 4)], lambda m, x: x.as_strided((2,), (1,), 11), device=device)
    compare_raises([(3, 4)], lambda m, x: x.as_strided((2, 2), (1,)), device=device)


def test_unfold_shapes(device):
    compare([(7,)], lambda m, x: (x.unfold(0, 3, 2), x.unfold(0, 7, 1), x.unfold(0, 1, 5),
                                  x[:0].unfold(0, 0, 1)), device=device)
    compare([()], lambda m, x: (x.unfold(0, 1, 1), x.unfold(0, 0, 1)), device=device)


def test_tril_triu_indices(device):
    for args in [(3, 4), (4, 3, 1), (3, 3, -1), (5, 2, -7), (0, 3), (3, 3, 9)]:
        compare([], lambda m, args=args: (m.tril_indices(*args), m.triu_indices(*args)),
                device=device)
    compare([], lambda m: (m.tril_indices(3, 3, dtype=m.int32),), device=device)
    compare_raises([], lambda m: m.tril_indices(-1, 3), device=device)


def test_metadata(device):
    """size/shape/dim/numel/stride/is_contiguous/storage_offset of views."""
    def f(m, x):
        outs = []
        for t in (x, x.t(), x[:, 1:], x.unsqueeze(1), x.expand(2, 3, 4), x[::2],
                  x.diagonal(), x.unfold(1, 2, 1), x.as_strided((2, 2), (4, 1), 1), x.mT):
            outs += [t.size(), t.shape, t.dim(), t.ndim, t.numel(), t.stride(),
                     t.is_contiguous(), t.size(-1), t.stride(0), m.numel(t)]
        return tuple(outs)
    compare([(3, 4)], f, device=device, grad=False)


@pytest.mark.parametrize("fn", [
    lambda m, x: x.unflatten(1, (3, 3)),
    lambda m, x: x[0].t() if False else x.t(),
    lambda m, x: x.narrow(0, 2, 5),
    lambda m, x: x.unfold(0, 5, 1),
    lambda m, x: x.unfold(0, 2, 0),
    lambda m, x: x.tensor_split(0),
    lambda m, x: m.tensor_split(x, m.tensor([[1]])),
    lambda m, x: m.hsplit(x, 2),
    lambda m, x: m.dsplit(x, 3),
    lambda m, x: m.vsplit(x[0, 0], 2),
    lambda m, x: m.fliplr(x[0, 0]),
    lambda m, x: m.flipud(x[0, 0, 0]),
    lambda m, x: m.rot90(x, 1, (0,)),
    lambda m, x: m.rot90(x, 1, (1, 1)),
    lambda m, x: m.rot90(x[0, 0]),
    lambda m, x: m.diag(x),
    lambda m, x: m.diagonal(x, 0, 1, 1),
    lambda m, x: m.diagonal(x[0, 0]),
    lambda m, x: m.diag_embed(x, 0, 1, 1),
    lambda m, x: x.movedim(0, 5),
    lambda m, x: x.squeeze((0, 4)),
    lambda m, x: x.repeat(2),
    lambda m, x: x.repeat_interleave(m.tensor([1, 2])),
    lambda m, x: x.repeat_interleave(-1),
    lambda m, x: m.repeat_interleave(m.tensor([1, -2])),
    lambda m, x: m.broadcast_shapes((2, 3), (4,)),
    lambda m, x: x.broadcast_to((2, 2, 4)),
    lambda m, x: m.block_diag(x),
    lambda m, x: m.cartesian_prod(x[0], x[1]),
    lambda m, x: m.combinations(x[0]),
    lambda m, x: x.view_as(x[0]),
    lambda m, x: m.hstack(x),
    lambda m, x: m.meshgrid(x[0], x[1]),
])
def test_errors(fn, device):
    compare_raises([(2, 3, 4)], fn, device=device)


def test_broadcast_shapes(device):
    compare([], lambda m: (m.broadcast_shapes((2, 1, 3), (4, 1), 1, ()),
                           m.broadcast_shapes(), m.broadcast_shapes([5, 1], (3,))),
            device=device)


_dims = st.lists(st.integers(1, 4), min_size=2, max_size=4)


@settings(max_examples=20)
@given(_dims, st.integers(-4, 4), st.integers(0, 3), st.integers(0, 3))
def test_hypothesis_diagonal(shape, offset, a, b):
    """diagonal/diag_embed round trips on random shapes, offsets and dim pairs."""
    nd = len(shape)
    a, b = a % nd, b % nd
    if a == b:
        b = (a + 1) % nd
    compare([tuple(shape)], lambda m, x: (x.diagonal(offset, a, b),
                                          m.diag_embed(x, offset, a, b)))


@settings(max_examples=20)
@given(_dims, st.integers(0, 3), st.integers(1, 4), st.integers(1, 3))
def test_hypothesis_unfold(shape, dim, size, step):
    dim = dim % len(shape)
    if size > shape[dim]:
        compare_raises([tuple(shape)], lambda m, x: x.unfold(dim, size, step))
        return
    compare([tuple(shape)], lambda m, x: x.unfold(dim, size, step))


@settings(max_examples=20)
@given(st.lists(st.integers(1, 3), min_size=1, max_size=3),
       st.lists(st.integers(1, 3), min_size=1, max_size=3),
       st.lists(st.integers(1, 3), min_size=0, max_size=3))
def test_hypothesis_broadcast_tensors(sa, sb, sc):
    """broadcast_tensors / broadcast_shapes agree with torch (or both refuse)."""
    shapes = [tuple(sa), tuple(sb), tuple(sc)]
    try:
        torch.broadcast_shapes(*shapes)
    except RuntimeError:
        compare_raises(shapes, lambda m, a, b, c: m.broadcast_tensors(a, b, c))
        return
    compare(shapes, lambda m, a, b, c: (m.broadcast_tensors(a, b, c),
                                        m.broadcast_shapes(*[t.shape for t in (a, b, c)])))


def test_from_numpy_shares_memory():
    """from_numpy views the array: writes in either are seen by the other."""
    a = np.arange(6.0).reshape(2, 3)
    t = ember.from_numpy(a)
    a[0, 0] = 7.0
    t[1, 2] = -1.0
    assert t[0, 0].item() == 7.0 and a[1, 2] == -1.0
    d = t.diagonal()
    d.fill_(9.0)
    assert a[1, 1] == 9.0
    assert_close(ember.from_numpy(a[:, ::2]), torch.from_numpy(a[:, ::2]))
