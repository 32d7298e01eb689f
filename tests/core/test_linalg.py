"""Matrix products against PyTorch: matmul in every rank combination, mm, bmm, addmm,
einsum; gradients, dtypes and shape errors."""

import ember
import numpy as np
import pytest
from torch_compare import compare, compare_raises, gradcheck, gradgradcheck

MATMUL_SHAPES = {
    "1d_1d": [(4,), (4,)],
    "1d_2d": [(3,), (3, 5)],
    "2d_1d": [(2, 3), (3,)],
    "2d_2d": [(2, 3), (3, 4)],
    "batched": [(5, 2, 3), (5, 3, 4)],
    "broadcast_batch": [(2, 1, 2, 3), (4, 3, 2)],
    "batched_2d": [(5, 2, 3), (3, 4)],
    "2d_batched": [(2, 3), (5, 3, 4)],
    "1d_batched": [(3,), (2, 3, 4)],
    "batched_1d": [(2, 4, 3), (3,)],
}


@pytest.mark.parametrize("name", sorted(MATMUL_SHAPES))
def test_matmul(name, device):
    """matmul / @ for every rank combination: values, shapes and gradients."""
    compare(MATMUL_SHAPES[name], lambda m, a, b: a @ b, device=device)
    compare(MATMUL_SHAPES[name], lambda m, a, b: m.matmul(a, b), device=device)


@pytest.mark.parametrize("name", ["2d_2d", "batched", "broadcast_batch", "1d_2d"])
def test_matmul_noncontiguous(name, device):
    """matmul of transposed operands."""
    compare(MATMUL_SHAPES[name], lambda m, a, b: a @ b, device=device, noncontig=True)


@pytest.mark.parametrize("name", ["1d_1d", "2d_1d", "broadcast_batch", "batched"])
def test_matmul_gradcheck(name, device):
    """float64 numerical first and second gradients of matmul."""
    rng = np.random.default_rng(0)
    a, b = (ember.tensor(rng.normal(size=s), dtype=ember.float64, device=device,
                         requires_grad=True) for s in MATMUL_SHAPES[name])
    gradcheck(lambda x, y: x @ y, [a, b])
    gradgradcheck(lambda x, y: (x @ y) ** 2, [a, b])


def test_matmul_float64_and_int(device):
    """matmul keeps float64; int64 matmul works without grad."""
    compare([(2, 3), (3, 2)], lambda m, a, b: a @ b, dtype="float64", device=device)
    compare([(2, 3), (3, 2)], lambda m, a, b: a @ b, dtype="int64", device=device)


def test_mm_bmm_addmm(device):
    """mm, bmm and addmm (with alpha/beta), values and gradients."""
    compare([(2, 3), (3, 4)], lambda m, a, b: (m.mm(a, b), a.mm(b)), device=device)
    compare([(2, 2, 3), (2, 3, 4)], lambda m, a, b: (m.bmm(a, b), a.bmm(b)), device=device)
    compare([(4,), (2, 3), (3, 4)], lambda m, c, a, b: (m.addmm(c, a, b),
                                                        m.addmm(c, a, b, beta=0.5, alpha=2)),
            device=device)
    compare([(2, 4), (2, 3), (3, 4)], lambda m, c, a, b: c.addmm(a, b), device=device)


def test_addmm_beta_zero_and_broadcast(device):
    """addmm with beta=0 ignores NaN in input but still gives it a zero gradient."""
    compare([(2, 4), (2, 3), (3, 4)], lambda m, c, a, b: m.addmm(c, a, b, beta=0),
            device=device)
    compare([], lambda m, c, a, b: m.addmm(c, a, b, beta=0),
            vals=[np.full((2, 2), np.nan), np.ones((2, 3)), np.ones((3, 2))], device=device,
            grad=False)
    compare([(1, 4), (2, 3), (3, 4)], lambda m, c, a, b: m.addmm(c, a, b, alpha=0.5),
            device=device)


def test_addmm_errors(device):
    """addmm with mismatched shapes or a non-broadcastable input raises."""
    compare_raises([(4,), (2, 3), (4, 4)], lambda m, c, a, b: m.addmm(c, a, b), device=device)
    compare_raises([(3,), (2, 3), (3, 4)], lambda m, c, a, b: m.addmm(c, a, b), device=device)
    compare_raises([(4,), (3,), (3, 4)], lambda m, c, a, b: m.addmm(c, a, b), device=device)


def test_int_matmul_does_not_require_grad(device):
    """An integer result never requires grad, even from inputs that do."""
    compare([(2, 3), (3, 2)], lambda m, a, b: a.long() @ b.long(), device=device)


def test_mv_and_dot(device):
    """mv and dot."""
    compare([(2, 3), (3,)], lambda m, a, v: (m.mv(a, v), m.dot(v, v)), device=device)


@pytest.mark.parametrize("shapes", [[(2, 3), (4, 5)], [(3,), (4,)], [(2, 3), (4,)],
                                    [(5, 2, 3), (5, 4, 3)], [(2, 2, 3), (3, 3, 2)]])
def test_matmul_shape_mismatch_raises(shapes, device):
    """Incompatible matmul shapes raise RuntimeError naming both shapes."""
    e = compare_raises(shapes, lambda m, a, b: a @ b, device=device)
    assert str(shapes[0][-1]) in str(e)


def test_matmul_0dim_raises(device):
    """matmul of a 0-dim tensor raises."""
    compare_raises([(), (3,)], lambda m, a, b: m.matmul(a, b), device=device)


def test_matmul_dtype_mismatch_raises(device):
    """matmul of float32 with float64 raises, naming both dtypes."""
    e = compare_raises([(2, 3), (3, 2)], lambda m, a, b: a @ b.double(), device=device)
    assert "float" in str(e) and "double" in str(e)


def test_mm_bmm_rank_errors(device):
    """mm of 3-D and bmm of 2-D tensors raise; mm shape mismatch names both shapes."""
    compare_raises([(2, 2, 3), (3, 4)], lambda m, a, b: m.mm(a, b), device=device)
    compare_raises([(2, 3), (3, 4)], lambda m, a, b: m.bmm(a, b), device=device)
    e = compare_raises([(2, 3), (4, 5)], lambda m, a, b: m.mm(a, b), device=device)
    assert "2x3" in str(e) and "4x5" in str(e)
    compare_raises([(2, 2, 3), (3, 3, 4)], lambda m, a, b: m.bmm(a, b), device=device)


EINSUM = {
    "matmul": ("ij,jk->ik", [(2, 3), (3, 4)]),
    "implicit": ("ij,jk", [(2, 3), (3, 4)]),
    "trace_like_sum": ("ij->", [(2, 3)]),
    "transpose": ("ij->ji", [(2, 3)]),
    "outer": ("i,j->ij", [(3,), (4,)]),
    "batch": ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    "ellipsis": ("...ij,...jk->...ik", [(2, 2, 3), (3, 4)]),
    "ellipsis_mid": ("i...j,j->i...", [(2, 3, 4, 5), (5,)]),
    "three_ops": ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    "sum_one_operand": ("ij,jk->k", [(2, 3), (3, 4)]),
    "attention": ("bhqd,bhkd->bhqk", [(1, 2, 3, 4), (1, 2, 5, 4)]),
    "broadcast_dim": ("bij,bjk->bik", [(1, 2, 3), (4, 3, 2)]),
    "hadamard": ("ij,ij->ij", [(2, 3), (2, 3)]),
    "trace": ("ii->", [(3, 3)]),
    "trace_implicit": ("ii", [(3, 3)]),
    "diagonal": ("ii->i", [(3, 3)]),
    "batch_diagonal": ("bii->bi", [(2, 3, 3)]),
    "diagonal_with_other": ("iij,j->i", [(3, 3, 2), (2,)]),
}


@pytest.mark.parametrize("name", sorted(EINSUM))
def test_einsum(name, device):
    """einsum equations (implicit output, ellipsis, several operands) with gradients."""
    eq, shapes = EINSUM[name]
    compare(shapes, lambda m, *xs: m.einsum(eq, *xs), device=device)


def test_einsum_list_operands(device):
    """einsum accepts its operands as one list."""
    compare([(2, 3), (3, 4)], lambda m, a, b: m.einsum("ij,jk->ik", [a, b]), device=device)


def test_einsum_gradcheck(device):
    """float64 first and second gradients of a three-operand einsum."""
    rng = np.random.default_rng(0)
    xs = [ember.tensor(rng.normal(size=s), dtype=ember.float64, device=device,
                       requires_grad=True) for s in [(2, 3), (3, 2), (2,)]]
    gradcheck(lambda a, b, c: ember.einsum("ij,jk,k->i", a, b, c), xs)
    gradgradcheck(lambda a, b, c: ember.einsum("ij,jk,k->i", a, b, c) ** 2, xs)


def test_einsum_errors(device):
    """einsum with the wrong number of operands or subscripts raises."""
    compare_raises([(2, 3)], lambda m, a: m.einsum("ij,jk->ik", a), device=device)
    compare_raises([(2, 3)], lambda m, a: m.einsum("ijk->i", a), device=device)
    compare_raises([(2, 3), (4, 5)], lambda m, a, b: m.einsum("ij,jk->ik", a, b),
                   device=device)


def test_linear_layer_pattern(device):
    """x @ W.T + b (the nn.Linear pattern), batched input."""
    compare([(4, 2, 3), (5, 3), (5,)], lambda m, x, w, b: x @ w.T + b, device=device)


def test_einsum_invalid_subscript_raises(device):
    """A non-letter subscript raises RuntimeError."""
    compare_raises([(2, 3)], lambda m, x: m.einsum("i1->i", x), device=device)
    compare_raises([(2, 3), (3, 2)], lambda m, a, b: m.einsum("ij,jk", a, b.double()),
                   device=device)
