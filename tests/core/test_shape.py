"""Shape ops against PyTorch: views, copies, gradients, memory sharing and errors."""

import ember
import numpy as np
import pytest
from torch_compare import compare, compare_raises, gradcheck, gradgradcheck

SHAPE = {
    "view": lambda m, x: x.view(4, 6),
    "view_infer": lambda m, x: x.view(-1, 3),
    "view_tuple": lambda m, x: x.view((2, 12)),
    "reshape": lambda m, x: x.reshape(6, 4),
    "reshape_infer": lambda m, x: m.reshape(x, (-1,)),
    "flatten": lambda m, x: x.flatten(),
    "flatten_range": lambda m, x: x.flatten(1),
    "flatten_mid": lambda m, x: m.flatten(x, 0, 1),
    "squeeze_unsqueeze": lambda m, x: x.unsqueeze(0).unsqueeze(-1).squeeze(),
    "unsqueeze_neg": lambda m, x: x.unsqueeze(-2),
    "squeeze_dim": lambda m, x: x.unsqueeze(1).squeeze(1),
    "squeeze_noop_dim": lambda m, x: x.squeeze(0),
    "permute": lambda m, x: x.permute(2, 0, 1),
    "permute_tuple": lambda m, x: m.permute(x, (1, 2, 0)),
    "transpose": lambda m, x: x.transpose(0, 2),
    "transpose_neg": lambda m, x: m.transpose(x, -1, -2),
    "T_of_2d": lambda m, x: x[0].T,
    "mT": lambda m, x: x.mT,
    "t": lambda m, x: x[0].t(),
    "expand": lambda m, x: x[:, :1].expand(2, 3, 4),
    "expand_neg": lambda m, x: x[:1].expand(5, -1, -1, -1),
    "expand_as": lambda m, x: x[:1].expand_as(x),
    "broadcast_to": lambda m, x: m.broadcast_to(x[:, :1], (2, 3, 4)),
    "contiguous": lambda m, x: x.transpose(0, 1).contiguous(),
    "flip": lambda m, x: x.flip(0, 2),
    "movedim": lambda m, x: x.movedim(0, -1),
    "unflatten": lambda m, x: x.unflatten(2, (2, 2)),
    "narrow": lambda m, x: x.narrow(1, 1, 2),
    "select": lambda m, x: x.select(1, -1),
    "unbind": lambda m, x: x.unbind(1),
    "split_size": lambda m, x: x.split(2, dim=2),
    "split_sizes": lambda m, x: x.split([1, 2], 1),
    "chunk": lambda m, x: x.chunk(2, 2),
    "chunk_uneven": lambda m, x: x.chunk(2, 1),
    "view_after_transpose_reshape": lambda m, x: x.transpose(1, 2).reshape(2, 12),
    "cat_self": lambda m, x: m.cat([x, x * 2], 1),
    "stack_self": lambda m, x: m.stack([x, x + 1], -1),
}


@pytest.mark.parametrize("name", sorted(SHAPE))
def test_shape_op(name, device):
    """Each shape op matches torch in value, shape and gradient."""
    compare([(2, 3, 4)], SHAPE[name], device=device)


@pytest.mark.parametrize("name", ["reshape", "flatten", "permute", "transpose", "expand",
                                  "flip", "narrow", "split_size", "squeeze_unsqueeze"])
def test_shape_op_noncontiguous(name, device):
    """Shape ops applied to a non-contiguous input."""
    compare([(2, 4, 3)], lambda m, x: SHAPE[name](m, x.transpose(1, 2)), device=device)


@pytest.mark.parametrize("name", ["reshape", "permute", "expand", "cat_self", "unbind",
                                  "narrow", "split_sizes"])
def test_shape_gradcheck(name, device):
    """float64 numerical gradient and second-gradient checks."""
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.normal(size=(2, 3, 4)), dtype=ember.float64, device=device,
                     requires_grad=True)

    def f(t):
        r = SHAPE[name](ember, t)
        if isinstance(r, tuple):
            r = ember.cat([p.reshape(-1) for p in r])
        return r * r

    gradcheck(f, [x])
    gradgradcheck(f, [x])


def test_view_shares_memory(device):
    """view/reshape of a contiguous tensor/transpose/select share memory with the base."""
    x = ember.zeros(2, 3, device=device)
    for v in (x.view(6), x.reshape(3, 2), x.t(), x[0], x.unsqueeze(0), x.flatten()):
        v.fill_(0)
    x.view(6)[0] = 5.0
    x.t()[1, 0] = 7.0
    x.unsqueeze(0)[0, 1, 2] = 9.0
    assert x.tolist() == [[5.0, 7.0, 0.0], [0.0, 0.0, 9.0]]


def test_reshape_of_noncontiguous_copies(device):
    """reshape of a transposed tensor copies (writing to it leaves the base alone)."""
    x = ember.zeros(2, 3, device=device)
    r = x.t().reshape(6)
    r[0] = 1.0
    assert x.sum().item() == 0.0


def test_view_of_noncontiguous_raises(device):
    """view of a transposed tensor raises, as in torch."""
    compare_raises([(2, 3)], lambda m, x: x.t().view(6), device=device, match="view")


@pytest.mark.parametrize("shape", [(5, 5), (-1, -1), (7,)])
def test_view_bad_shape_raises(shape, device):
    """view to a wrong number of elements raises naming the shape."""
    compare_raises([(2, 3)], lambda m, x: x.view(*shape), device=device)


def test_expand_bad_size_raises(device):
    """expand to a size that doesn't match a non-singleton dimension raises."""
    compare_raises([(2, 3)], lambda m, x: x.expand(4, 3, 4), device=device)


def test_expand_fewer_dims_raises(device):
    """expand to fewer dimensions raises."""
    compare_raises([(2, 3)], lambda m, x: x.expand(3), device=device)


def test_permute_wrong_dims_raise(device):
    """permute with the wrong number of dims or duplicates raises."""
    compare_raises([(2, 3)], lambda m, x: x.permute(0), device=device)
    compare_raises([(2, 3)], lambda m, x: x.permute(0, 0), device=device)


def test_transpose_out_of_range_raises(device):
    """transpose with a dim out of range raises IndexError."""
    compare_raises([(2, 3)], lambda m, x: x.transpose(0, 2), device=device)


def test_cat_mixed_shapes_and_dtypes(device):
    """cat of differently sized tensors along a dim, promoting dtypes."""
    compare([(2, 3), (4, 3)], lambda m, a, b: m.cat([a, b.double()]), device=device)
    compare([(2, 3), (2, 1)], lambda m, a, b: m.cat((a, b), dim=-1), device=device)


def test_cat_int_and_float(device):
    """cat of an int and a float tensor gives float."""
    compare([(2,), (3,)], lambda m, a, b: m.cat([a.long(), b]), device=device)


def test_cat_skips_empty_1d(device):
    """cat skips 1-D empty tensors, as torch does (legacy behaviour)."""
    compare([(2, 3), (0,)], lambda m, a, b: m.cat([a, b]), device=device)


def test_cat_size_mismatch_raises(device):
    """cat with mismatched sizes off the cat dim raises naming the sizes."""
    e = compare_raises([(2, 3), (2, 4)], lambda m, a, b: m.cat([a, b]), device=device)
    assert "3" in str(e) and "4" in str(e)


def test_cat_rank_mismatch_and_0dim_raise(device):
    """cat of tensors with different ranks or 0-dim tensors raises."""
    compare_raises([(2, 3), (3,)], lambda m, a, b: m.cat([a, b]), device=device)
    compare_raises([(), ()], lambda m, a, b: m.cat([a, b]), device=device)
    compare_raises([], lambda m: m.cat([]), device=device)


def test_stack_dims_and_grad(device):
    """stack along new dims 0, 1 and -1, with gradients."""
    for d in (0, 1, -1):
        compare([(2, 3), (2, 3), (2, 3)], lambda m, a, b, c, d=d: m.stack([a, b, c], d),
                device=device)


def test_stack_mismatch_raises(device):
    """stack of different shapes raises."""
    compare_raises([(2, 3), (3, 2)], lambda m, a, b: m.stack([a, b]), device=device)


def test_split_bad_sizes_raise(device):
    """split with sizes not summing to the dim raises."""
    compare_raises([(5,)], lambda m, x: x.split([2, 2]), device=device)


def test_chunk_more_chunks_than_elements(device):
    """chunk(5) of 3 elements gives 3 chunks, as torch."""
    compare([(3, 2)], lambda m, x: x.chunk(5), device=device)


def test_split_and_chunk_of_empty_dim(device):
    """split/chunk of an empty dimension give torch's number of empty pieces."""
    compare([(0, 3)], lambda m, x: (x.split(2), x.chunk(3), x.split([0, 0])), device=device)


def test_chunk_uneven_sizes(device):
    """chunk(3) of 7 gives sizes 3, 3, 1; chunk(4) of 6 gives 2, 2, 2."""
    compare([(7,)], lambda m, x: x.chunk(3), device=device)
    compare([(6,)], lambda m, x: x.chunk(4), device=device)


def test_flatten_0dim(device):
    """flatten of a 0-dim tensor gives shape (1,)."""
    compare([()], lambda m, x: x.flatten(), device=device)


def test_squeeze_multiple_dims(device):
    """squeeze with a tuple of dims."""
    compare([(1, 3, 1, 2)], lambda m, x: (x.squeeze((0, 2)), x.squeeze(-1)), device=device)


def test_size_and_shape(device):
    """size(), size(dim), shape and dim() agree with torch."""
    compare([(2, 3, 4)], lambda m, x: (x.size(), x.size(-1), x.shape, x.dim(), x.numel()),
            device=device, grad=False)


def test_stride_and_contiguity(device):
    """stride() and is_contiguous of transposed and sliced tensors."""
    compare([(2, 3, 4)], lambda m, x: (x.stride(), x.transpose(0, 2).stride(),
                                       x.transpose(0, 2).is_contiguous(),
                                       x[:, ::2].stride(), x.is_contiguous()),
            device=device, grad=False)


def test_views_of_views_gradient(device):
    """A chain of views (transpose, select, slice, unsqueeze) backpropagates."""
    compare([(3, 4, 5)], lambda m, x: x.transpose(0, 2)[1:, 2].unsqueeze(0).flip(1) * 2,
            device=device)
