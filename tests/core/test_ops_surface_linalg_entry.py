"""Linear-algebra entry points against PyTorch: mv, dot, vdot, outer, inner, tensordot,
kron, baddbmm/addbmm/addmv/addr/addmm (and their in-place forms), chain_matmul."""

import ember
import numpy as np
import pytest
from torch_compare import compare, compare_raises, gradcheck, gradgradcheck

OPS = {
    "mv": lambda m, a, b: m.mv(a[0], b[0, 0]),
    "mv_method": lambda m, a, b: a[1].mv(b[1, :, 0]),
    "dot": lambda m, a, b: m.dot(a[0, 0], b[0, 0]),
    "vdot": lambda m, a, b: m.vdot(a[0, 1], b[1, 0]),
    "vdot_method": lambda m, a, b: a[0, 0].vdot(b[0, 0]),
    "outer": lambda m, a, b: m.outer(a[0, 0], b[0, :, 1]),
    "ger": lambda m, a, b: a[0, 0].ger(b[1, 1]),
    "inner": lambda m, a, b: m.inner(a, b),
    "inner_vec": lambda m, a, b: a[0, 0].inner(b[1, 1]),
    "inner_scalar": lambda m, a, b: m.inner(a[0, 0, 0], b),
    "tensordot_int": lambda m, a, b: m.tensordot(a, b.permute(1, 2, 0), 2),
    "tensordot_0": lambda m, a, b: m.tensordot(a[0], b[0], 0),
    "tensordot_lists": lambda m, a, b: m.tensordot(a, b, ([0, 2], [0, 1])),
    "tensordot_neg": lambda m, a, b: m.tensordot(a, b, dims=([-1], [1])),
    "tensordot_tensor": lambda m, a, b: m.tensordot(a, b, m.tensor([[1], [2]])),
    "kron": lambda m, a, b: m.kron(a[0], b[1]),
    "kron_mixed": lambda m, a, b: a.kron(b[0, 0]),
    "kron_3d": lambda m, a, b: m.kron(a[:, :2], b[:1]),
    "baddbmm": lambda m, a, b: m.baddbmm(a[:, :, :3], a, b[:, :, :3]),
    "baddbmm_scaled": lambda m, a, b: a[:, :, :3].baddbmm(a, b[:, :, :3], beta=0.5, alpha=-2),
    "baddbmm_bcast": lambda m, a, b: m.baddbmm(b[0, 0, :3], a, b[:, :, :3], beta=2),
    "addbmm": lambda m, a, b: m.addbmm(a[0, :, :3], a, b[:, :, :3]),
    "addbmm_scaled": lambda m, a, b: a[1, :, :3].addbmm(a, b[:, :, :3], beta=-1, alpha=0.5),
    "addmv": lambda m, a, b: m.addmv(a[0, 0, :3], a[1, :3], b[1, :, 0], alpha=3),
    "addmv_bcast": lambda m, a, b: b[0, 0, 0].addmv(a[1], b[1, :, 0], beta=0.5),
    "addr": lambda m, a, b: m.addr(a[0], a[1, 0], b[0, 1]),
    "addr_scaled": lambda m, a, b: a[0].addr(a[1, 0], b[0, 1], beta=2, alpha=-1),
    "addmm": lambda m, a, b: m.addmm(a[0, :, :3], a[1], b[0, :, :3], beta=0.3, alpha=2),
    "chain_matmul": lambda m, a, b: m.chain_matmul(a[0], b[0], a[1].t()),
    "matmul_batched": lambda m, a, b: a @ b,
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_op(name, device):
    """Values, dtypes, shapes and both operands' gradients."""
    compare([(2, 4, 4), (2, 4, 4)], OPS[name], device=device)


@pytest.mark.parametrize("name", ["mv", "inner", "tensordot_lists", "kron", "baddbmm",
                                  "addbmm", "addmv", "addr", "vdot"])
def test_op_noncontiguous(name, device):
    compare([(2, 4, 4), (2, 4, 4)], OPS[name], device=device, noncontig=True)


@pytest.mark.parametrize("name", ["mv", "vdot", "inner", "tensordot_lists", "kron",
                                  "baddbmm_scaled", "addbmm_scaled", "addmv_bcast",
                                  "addr_scaled"])
def test_op_gradcheck(name, device):
    rng = np.random.default_rng(0)
    a, b = (ember.tensor(rng.uniform(-1, 1, (2, 4, 4)), dtype=ember.float64, device=device,
                         requires_grad=True) for _ in range(2))
    gradcheck(lambda x, y: OPS[name](ember, x, y), [a, b])


@pytest.mark.parametrize("name", ["kron", "tensordot_int", "baddbmm", "addr"])
def test_op_gradgradcheck(name, device):
    rng = np.random.default_rng(1)
    a, b = (ember.tensor(rng.uniform(-1, 1, (2, 4, 4)), dtype=ember.float64, device=device,
                         requires_grad=True) for _ in range(2))
    gradgradcheck(lambda x, y: OPS[name](ember, x, y) ** 2, [a, b])


def test_integer_products(device):
    for name in ("mv", "dot", "outer", "inner", "tensordot_int", "kron", "baddbmm", "addmv",
                 "addr", "addbmm"):
        compare([(2, 4, 4), (2, 4, 4)], OPS[name], dtype="int64", low=-3, high=4,
                device=device)


def test_integer_float_scalars(device):
    """Float alpha/beta with integer tensors are truncated (addr refuses them), as torch."""
    compare([(2, 4, 4), (2, 4, 4)], lambda m, a, b: (
        m.addmv(a[0, 0], a[0], b[0, 0], alpha=1.5), m.baddbmm(a, a, b, beta=2.5),
        m.addbmm(a[0], a, b, beta=0.5, alpha=2.0)), dtype="int64", low=-3, high=4,
        device=device)
    compare_raises([(2, 4, 4), (2, 4, 4)], lambda m, a, b: m.addr(a[0], a[0, 0], b[0, 0],
                                                                  alpha=0.5),
                   dtype="int64", device=device)


def test_complex_vdot_inner(device):
    compare([(3,), (3,)], lambda m, a, b: (m.vdot(a, b), m.dot(a, b), m.inner(a, b),
                                           m.outer(a, b), m.kron(a, b)),
            dtype="complex128", device=device, grad=False)


def test_beta_zero_ignores_nan(device):
    """With beta=0 the added input is ignored, NaN included; its gradient is zero."""
    vals = [np.full((3, 3), np.nan), np.ones((2, 4, 3)), np.ones((2, 4, 3)), np.ones(3),
            np.ones((2, 3))]
    compare([], lambda m, c, b1, b2, v, mat: (
        m.baddbmm(c, b1.transpose(1, 2), b2, beta=0), m.addbmm(c, b1.transpose(1, 2), b2,
                                                                 beta=0),
        m.addmv(c[0, :2], mat, v, beta=0), m.addr(c, c[:, 0].nan_to_num(), v, beta=0)),
        vals=vals, device=device)


@pytest.mark.parametrize("name,fn", [
    ("baddbmm_", lambda m, a, b: (a[:, :, :3] * 1).baddbmm_(a, b[:, :, :3], alpha=2)),
    ("addbmm_", lambda m, a, b: (a[0, :, :3] * 1).addbmm_(a, b[:, :, :3])),
    ("addmv_", lambda m, a, b: (a[0, 0] * 1).addmv_(a[1], b[1, 0], beta=2)),
    ("addr_", lambda m, a, b: (a[0] * 1).addr_(a[1, 0], b[1, 1])),
    ("addmm_", lambda m, a, b: (a[0] * 1).addmm_(a[1], b[0], beta=0.5)),
])
def test_inplace(name, fn, device):
    compare([(2, 4, 4), (2, 4, 4)], fn, device=device)


@pytest.mark.parametrize("name", ["vdot", "inner", "tensordot", "kron", "baddbmm", "addbmm",
                                  "addmv", "addr"])
def test_out(name, device):
    def f(m, a, b):
        out = m.empty(0)
        args = {"vdot": (a[0, 0], b[0, 0]), "inner": (a, b), "tensordot": (a, b.permute(1, 2, 0)),
                "kron": (a[0], b[0]), "baddbmm": (a, a, b), "addbmm": (a[0], a, b),
                "addmv": (a[0, 0], a[1], b[0, 0]), "addr": (a[0], a[1, 0], b[1, 0])}[name]
        r = getattr(m, name)(*args, out=out)
        assert r is out
        return out
    compare([(2, 4, 4), (2, 4, 4)], f, device=device, grad=False)


@pytest.mark.parametrize("fn", [
    lambda m, a, b: m.mv(a, b[0, 0]),
    lambda m, a, b: m.mv(a[0], b[0, 0, :3]),
    lambda m, a, b: m.dot(a[0, 0], b[0, 0, :3]),
    lambda m, a, b: m.dot(a[0], b[0]),
    lambda m, a, b: m.vdot(a[0, 0], b[0, 0].double()),
    lambda m, a, b: m.vdot(a[0], b[0]),
    lambda m, a, b: m.outer(a[0], b[0, 0]),
    lambda m, a, b: m.inner(a[..., :3], b),
    lambda m, a, b: m.tensordot(a, b, ([0], [0, 1])),
    lambda m, a, b: m.tensordot(a[:, :3], b, ([1], [1])),
    lambda m, a, b: m.tensordot(a, b, 4),
    lambda m, a, b: m.tensordot(a, b, -1),
    lambda m, a, b: m.baddbmm(a, a[0], b),
    lambda m, a, b: m.baddbmm(a[:, :3], a, b),
    lambda m, a, b: m.addbmm(a[0], a[:, :3], b),
    lambda m, a, b: m.addmv(a[0, 0], a[0], b[0, 0, :3]),
    lambda m, a, b: m.addmv(a[0, 0, :3], a[0], b[0, 0]),
    lambda m, a, b: m.addr(a[0], a[0], b[0, 0]),
    lambda m, a, b: m.addr(a[0, :3], a[0, 0], b[0, 0]),
])
def test_errors(fn, device):
    compare_raises([(2, 4, 4), (2, 4, 4)], fn, device=device)
