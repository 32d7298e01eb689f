"""ember.linalg against torch.linalg: values, dtypes, shapes, gradients and errors on the same
random inputs; decompositions defined up to signs/phases (qr, svd, eig, eigh) through
invariants; float64 numerical gradient checks (first and second order)."""

import math
import warnings

import ember
import ember.linalg  # noqa: F401  (the lazily imported submodule)
import numpy as np
import pytest
import torch
from ember.autograd.gradcheck import gradcheck, gradgradcheck
from ember.ops.spectral import real, view_as_real
from torch_compare import assert_close, compare, compare_raises, to_numpy

ember_linalg = ember.linalg


class _Ns:
    """ember with the helpers the lead has not wired into its namespace yet."""

    def __getattr__(self, name):
        extra = {"view_as_real": view_as_real, "real": real,
                 "diag_embed": lambda x: ember_linalg._common.diag_embed(x)}
        return extra[name] if name in extra else getattr(ember, name)


NS = _Ns()


def _m(fn):
    """``fn(m, ...)`` with ember replaced by the namespace shim."""
    return lambda m, *a: fn(NS if m is ember else m, *a)


def _spd(m, x):
    """A symmetric (Hermitian) positive-definite matrix from any square x."""
    return x @ x.mH + 3 * m.eye(x.shape[-1], dtype=x.dtype)


# name: (input shapes, fn(m, *inputs)); every output real; compared in float32 and float64
REAL_CASES = {
    "inv": ([(3, 4, 4)], lambda m, a: m.linalg.inv(a)),
    "det": ([(3, 4, 4)], lambda m, a: m.linalg.det(a)),
    "slogdet": ([(3, 4, 4)], lambda m, a: tuple(m.linalg.slogdet(a))),
    "solve": ([(3, 4, 4), (3, 4, 2)], lambda m, a, b: m.linalg.solve(a, b)),
    "solve_vector": ([(3, 4, 4), (3, 4)], lambda m, a, b: m.linalg.solve(a, b)),
    "solve_broadcast": ([(4, 4), (2, 4, 3)], lambda m, a, b: m.linalg.solve(a, b)),
    "solve_right": ([(2, 4, 4), (3, 4)], lambda m, a, b: m.linalg.solve(a, b, left=False)),
    "cholesky": ([(2, 4, 4)], lambda m, a: m.linalg.cholesky(_spd(m, a))),
    "cholesky_upper": ([(2, 4, 4)], lambda m, a: m.linalg.cholesky(_spd(m, a), upper=True)),
    "solve_triangular": ([(2, 4, 4), (2, 4, 3)], lambda m, a, b: m.linalg.solve_triangular(
        a + 4 * m.eye(4), b, upper=True)),
    "solve_triangular_right": ([(2, 4, 4), (3, 4)], lambda m, a, b: m.linalg.solve_triangular(
        a + 4 * m.eye(4), b, upper=False, left=False)),
    "solve_triangular_unit": ([(2, 4, 4), (2, 4, 3)], lambda m, a, b: m.linalg.solve_triangular(
        a, b, upper=False, unitriangular=True)),
    "pinv_tall": ([(2, 5, 3)], lambda m, a: m.linalg.pinv(a)),
    "pinv_wide": ([(2, 3, 5)], lambda m, a: m.linalg.pinv(a)),
    "pinv_hermitian": ([(2, 4, 4)], lambda m, a: m.linalg.pinv(_spd(m, a), hermitian=True)),
    "lstsq": ([(2, 5, 3), (2, 5, 2)], lambda m, a, b: m.linalg.lstsq(a, b).solution),
    "matrix_exp": ([(2, 4, 4)], lambda m, a: m.linalg.matrix_exp(a)),
    "matrix_exp_large": ([(2, 4, 4)], lambda m, a: m.linalg.matrix_exp(a * 5)),
    "matrix_power": ([(2, 3, 3)], lambda m, a: m.linalg.matrix_power(a, 3)),
    "matrix_power_neg": ([(2, 3, 3)], lambda m, a: m.linalg.matrix_power(
        a + 3 * m.eye(3), -2)),
    "matrix_power_zero": ([(2, 3, 3)], lambda m, a: m.linalg.matrix_power(a, 0)),
    "svdvals": ([(2, 5, 3)], lambda m, a: m.linalg.svdvals(a)),
    "eigvalsh": ([(2, 4, 4)], lambda m, a: m.linalg.eigvalsh(a + a.mT)),
    "eigvalsh_upper": ([(4, 4)], lambda m, a: m.linalg.eigvalsh(a, UPLO="U")),
    "vector_norm": ([(3, 4)], lambda m, a: m.linalg.vector_norm(a)),
    "vector_norm_3": ([(3, 4)], lambda m, a: m.linalg.vector_norm(a, 3, dim=1)),
    "vector_norm_half": ([(3, 4)], lambda m, a: m.linalg.vector_norm(a, 0.5, dim=0,
                                                                       keepdim=True)),
    "vector_norm_inf": ([(3, 4)], lambda m, a: m.linalg.vector_norm(a, math.inf, dim=1)),
    "vector_norm_neginf": ([(3, 4)], lambda m, a: m.linalg.vector_norm(a, -math.inf)),
    "vector_norm_1": ([(3, 4)], lambda m, a: m.linalg.vector_norm(a, 1, dim=(0, 1))),
    "vector_norm_0": ([(3, 4)], lambda m, a: m.linalg.vector_norm(a, 0)),
    "matrix_norm_fro": ([(2, 3, 4)], lambda m, a: m.linalg.matrix_norm(a)),
    "matrix_norm_nuc": ([(2, 3, 4)], lambda m, a: m.linalg.matrix_norm(a, "nuc")),
    "matrix_norm_2": ([(2, 3, 4)], lambda m, a: m.linalg.matrix_norm(a, 2)),
    "matrix_norm_-2": ([(2, 3, 4)], lambda m, a: m.linalg.matrix_norm(a, -2)),
    "matrix_norm_1": ([(2, 3, 4)], lambda m, a: m.linalg.matrix_norm(a, 1)),
    "matrix_norm_-1": ([(2, 3, 4)], lambda m, a: m.linalg.matrix_norm(a, -1)),
    "matrix_norm_inf": ([(2, 3, 4)], lambda m, a: m.linalg.matrix_norm(a, math.inf,
                                                                       keepdim=True)),
    "matrix_norm_dims": ([(3, 2, 4)], lambda m, a: m.linalg.matrix_norm(a, -1, dim=(0, 2))),
    "matrix_norm_nuc_dims": ([(3, 2, 4)], lambda m, a: m.linalg.matrix_norm(
        a, "nuc", dim=(2, 0), keepdim=True)),
    "norm": ([(3, 4)], lambda m, a: m.linalg.norm(a)),
    "norm_ord_matrix": ([(3, 4)], lambda m, a: m.linalg.norm(a, "nuc")),
    "norm_ord_vector": ([(5,)], lambda m, a: m.linalg.norm(a, 3)),
    "norm_dim": ([(2, 3, 4)], lambda m, a: m.linalg.norm(a, dim=(0, 2))),
    "cond": ([(3, 3)], lambda m, a: m.linalg.cond(a)),
    "cross": ([(4, 3), (1, 3)], lambda m, a, b: m.linalg.cross(a, b)),
    "cross_dim": ([(3, 2), (3, 2)], lambda m, a, b: m.linalg.cross(a, b, dim=0)),
    "vecdot": ([(4, 3), (4, 3)], lambda m, a, b: m.linalg.vecdot(a, b)),
    "multi_dot_vectors": ([(3,), (3, 4), (4, 5), (5,)],
                          lambda m, a, b, c, d: m.linalg.multi_dot([a, b, c, d])),
    "multi_dot": ([(2, 3), (3, 4), (4, 5)], lambda m, a, b, c: m.linalg.multi_dot([a, b, c])),
    "lu_factor": ([(2, 4, 4)], lambda m, a: tuple(m.linalg.lu_factor(a))),
    "lu": ([(2, 4, 4)], lambda m, a: tuple(m.linalg.lu(a))),
    "lu_wide": ([(2, 3, 5)], lambda m, a: tuple(m.linalg.lu(a))),
    "lu_tall": ([(2, 5, 3)], lambda m, a: tuple(m.linalg.lu(a))),
    "lu_solve": ([(2, 4, 4), (2, 4, 2)], lambda m, a, b: m.linalg.lu_solve(
        *m.linalg.lu_factor(a), b)),
    "lu_solve_adjoint": ([(2, 4, 4), (2, 4, 2)], lambda m, a, b: m.linalg.lu_solve(
        *m.linalg.lu_factor(a), b, adjoint=True)),
    "lu_solve_right": ([(2, 4, 4), (2, 2, 4)], lambda m, a, b: m.linalg.lu_solve(
        *m.linalg.lu_factor(a), b, left=False)),
    "lu_solve_right_adjoint": ([(2, 4, 4), (2, 2, 4)], lambda m, a, b: m.linalg.lu_solve(
        *m.linalg.lu_factor(a), b, left=False, adjoint=True)),
    "vander": ([(4,)], lambda m, a: m.linalg.vander(a)),
    "diagonal": ([(2, 3, 4)], lambda m, a: m.linalg.diagonal(a, offset=1, dim1=0, dim2=2)),
    "tensorinv": ([(4, 6, 8, 3)], lambda m, a: m.linalg.tensorinv(a, ind=2)),
    "tensorsolve": ([(6, 2, 3), (6,)], lambda m, a, b: m.linalg.tensorsolve(a, b)),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(REAL_CASES))
def test_matches_torch(name, dtype, device):
    """Values, dtype, shape, requires_grad and input gradients equal torch's."""
    shapes, fn = REAL_CASES[name]
    tol = 1e-4 if dtype == "float32" else 1e-7
    compare(shapes, _m(fn), dtype=dtype, device=device, rtol=tol, atol=tol)


def test_noncontiguous_batched_inputs(device):
    """Transposed (non-contiguous) batched operands give torch's results."""
    compare([(2, 4, 4), (2, 4, 3)], lambda m, a, b: m.linalg.solve(a, b), dtype="float64",
            device=device, noncontig=True)
    compare([(2, 3, 4, 4)], lambda m, a: m.linalg.inv(a), dtype="float64", device=device,
            noncontig=True)


def _complex_loss_fn(fn):
    """Complex outputs as their (real, imag) parts, so that compare() weighs them."""
    def f(m, *a):
        out = fn(m, *a)
        outs = out if isinstance(out, tuple) else (out,)
        res = tuple(m.view_as_real(o) if o.is_complex() else o for o in outs)
        return res if isinstance(out, tuple) else res[0]
    return _m(f)


COMPLEX_CASES = {
    "inv": ([(2, 3, 3)], lambda m, a: m.linalg.inv(a)),
    "det": ([(2, 3, 3)], lambda m, a: m.linalg.det(a)),
    "slogdet": ([(2, 3, 3)], lambda m, a: tuple(m.linalg.slogdet(a))),
    "solve": ([(2, 3, 3), (2, 3, 2)], lambda m, a, b: m.linalg.solve(a, b)),
    "cholesky": ([(3, 3)], lambda m, a: m.linalg.cholesky(_spd(m, a))),
    "solve_triangular": ([(3, 3), (3, 2)], lambda m, a, b: m.linalg.solve_triangular(
        a + 3 * m.eye(3), b, upper=False)),
    "pinv": ([(4, 3)], lambda m, a: m.linalg.pinv(a)),
    "matrix_exp": ([(3, 3)], lambda m, a: m.linalg.matrix_exp(a)),
    "eigvalsh": ([(3, 3)], lambda m, a: m.linalg.eigvalsh(_spd(m, a))),
    "svdvals": ([(4, 3)], lambda m, a: m.linalg.svdvals(a)),
    "vector_norm": ([(3, 4)], lambda m, a: m.linalg.vector_norm(a, 3, dim=-1)),
    "matrix_norm_nuc": ([(3, 4)], lambda m, a: m.linalg.matrix_norm(a, "nuc")),
    # (* 1.0: torch hands out a conj-bit gradient that torch_compare cannot read)
    "vecdot": ([(3, 4), (3, 4)], lambda m, a, b: m.linalg.vecdot(a * 1.0, b)),
    "cross": ([(2, 3), (2, 3)], lambda m, a, b: m.linalg.cross(a * 1.0, b * 1.0)),
}


@pytest.mark.parametrize("name", sorted(COMPLEX_CASES))
def test_complex_matches_torch(name, device):
    """complex128 inputs: values and (conjugate Wirtinger) gradients equal torch's."""
    shapes, fn = COMPLEX_CASES[name]
    compare(shapes, _complex_loss_fn(fn), dtype="complex128", device=device, rtol=1e-7,
            atol=1e-8)


# -- decompositions through invariants ------------------------------------------------------
def _arr(rng, shape, dtype):
    a = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def _both(arr, dtype, grad=False):
    return (ember.tensor(arr, dtype=getattr(ember, dtype), requires_grad=grad),
            torch.tensor(arr, dtype=getattr(torch, dtype), requires_grad=grad))


def _eye_close(x, n, tol):
    np.testing.assert_allclose(x, np.broadcast_to(np.eye(n), x.shape), atol=tol)


@pytest.mark.parametrize("dtype", ["float64", "complex128", "float32"])
@pytest.mark.parametrize("shape,mode", [((2, 5, 3), "reduced"), ((2, 5, 3), "complete"),
                                        ((3, 5), "reduced"), ((4, 4), "r")])
def test_qr_invariants(shape, mode, dtype):
    """Q R = A, Q has orthonormal columns, R is upper triangular with torch's |diag R|."""
    rng = np.random.default_rng(1)
    a = _arr(rng, shape, dtype)
    e_in, t_in = _both(a, dtype)
    Q, R = ember.linalg.qr(e_in, mode=mode)
    tQ, tR = torch.linalg.qr(t_in, mode=mode)
    assert type(ember.linalg.qr(e_in)).__name__ == "linalg_qr"
    assert tuple(Q.shape) == tuple(tQ.shape) and tuple(R.shape) == tuple(tR.shape)
    assert Q.dtype.name == dtype and R.dtype.name == dtype
    tol = 1e-4 if dtype == "float32" else 1e-10
    r = to_numpy(R)
    np.testing.assert_allclose(np.tril(r, -1), 0, atol=0)
    k = min(shape[-2:])
    np.testing.assert_allclose(np.abs(np.diagonal(r[..., :k, :], 0, -2, -1)),
                               np.abs(np.diagonal(to_numpy(tR)[..., :k, :], 0, -2, -1)),
                               rtol=tol * 10, atol=tol)
    if mode != "r":
        q = to_numpy(Q)
        np.testing.assert_allclose(q @ r, a, atol=tol * 10)
        _eye_close(np.swapaxes(q.conj(), -1, -2) @ q, q.shape[-1], tol * 10)


def _qr_invariant(m, a):
    Q, R = m.linalg.qr(a)
    return (Q * Q, R * R)  # invariant to the sign of each (column of Q, row of R) pair


def _svd_invariant(m, a):
    U, S, Vh = m.linalg.svd(a, full_matrices=False)
    return S, U * U, Vh * Vh


def _svd_invariant_abs(m, a):
    U, S, Vh = m.linalg.svd(a, full_matrices=False)
    return S, U.abs(), Vh.abs()


def _eigh_invariant(m, a):
    L, V = m.linalg.eigh(a + a.mT)
    return L, V * V


@pytest.mark.parametrize("fn,shape", [(_qr_invariant, (5, 3)), (_qr_invariant, (3, 5)),
                                      (_qr_invariant, (2, 4, 4)), (_svd_invariant, (5, 3)),
                                      (_svd_invariant, (3, 5)), (_svd_invariant, (2, 4, 4)),
                                      (_eigh_invariant, (2, 4, 4))])
def test_decomposition_gradients_match_torch(fn, shape, device):
    """Sign-invariant functions of Q, R / U, S, V / L, V: torch's values and gradients."""
    compare([shape], fn, dtype="float64", device=device, rtol=1e-7, atol=1e-9)


def test_svd_complex_phase_invariant_gradient(device):
    """Complex SVD: |U|, |V| and S are phase invariant; gradients equal torch's."""
    compare([(4, 3)], _svd_invariant_abs, dtype="complex128", device=device, rtol=1e-7,
            atol=1e-9)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
@pytest.mark.parametrize("shape,full", [((2, 5, 3), True), ((3, 5), True), ((4, 4), False)])
def test_svd_invariants(shape, full, dtype):
    """U diag(S) Vh = A, orthonormal factors, torch's singular values, torch's shapes."""
    rng = np.random.default_rng(2)
    a = _arr(rng, shape, dtype)
    e_in, t_in = _both(a, dtype)
    U, S, Vh = ember.linalg.svd(e_in, full_matrices=full)
    tU, tS, tVh = torch.linalg.svd(t_in, full_matrices=full)
    for e, t in ((U, tU), (S, tS), (Vh, tVh)):
        assert tuple(e.shape) == tuple(t.shape) and e.dtype.name == str(t.dtype)[6:]
    assert_close(S, tS)
    k = S.shape[-1]
    u, s, vh = to_numpy(U), to_numpy(S), to_numpy(Vh)
    np.testing.assert_allclose((u[..., :, :k] * s[..., None, :]) @ vh[..., :k, :], a,
                               atol=1e-10)
    _eye_close(np.swapaxes(u.conj(), -1, -2) @ u, u.shape[-1], 1e-10)
    _eye_close(vh @ np.swapaxes(vh.conj(), -1, -2), vh.shape[-2], 1e-10)
    # |projections| of the singular vectors on torch's agree (unique up to phase)
    proj = np.abs(np.sum(u[..., :, :k].conj() * to_numpy(tU)[..., :, :k], axis=-2))
    np.testing.assert_allclose(proj, 1, atol=1e-8)


@pytest.mark.parametrize("dtype", ["float64", "complex128", "float32"])
def test_eigh_invariants(dtype):
    """A V = V diag(L), V unitary, L ascending and equal to torch's."""
    rng = np.random.default_rng(3)
    a = _arr(rng, (2, 4, 4), dtype)
    a = a + np.swapaxes(a.conj(), -1, -2)
    e_in, t_in = _both(a, dtype)
    L, V = ember.linalg.eigh(e_in)
    tL, tV = torch.linalg.eigh(t_in)
    assert type(ember.linalg.eigh(e_in)).__name__ == "linalg_eigh"
    assert_close(L, tL)
    assert V.dtype.name == dtype
    tol = 1e-4 if dtype == "float32" else 1e-10
    v, lam = to_numpy(V), to_numpy(L)
    np.testing.assert_allclose(a @ v, v * lam[..., None, :], atol=tol * 10)
    proj = np.abs(np.sum(v.conj() * to_numpy(tV), axis=-2))
    np.testing.assert_allclose(proj, 1, atol=tol * 10)


def test_eig_and_eigvals():
    """eig: complex eigenpairs (A V = V diag(L)), torch's eigenvalues; real input included."""
    rng = np.random.default_rng(4)
    for dtype in ("float64", "float32", "complex128"):
        a = _arr(rng, (2, 4, 4), dtype)
        e_in, t_in = _both(a, dtype)
        L, V = ember.linalg.eig(e_in)
        tL, _ = torch.linalg.eig(t_in)
        assert L.dtype.name == str(tL.dtype)[6:] and V.dtype == L.dtype
        tol = 1e-4 if dtype == "float32" else 1e-10
        key = lambda x: np.sort_complex(np.round(x, 6))  # noqa: E731
        np.testing.assert_allclose(key(to_numpy(L)), key(to_numpy(tL)), atol=tol * 10)
        v, lam = to_numpy(V), to_numpy(L)
        np.testing.assert_allclose(a @ v, v * lam[..., None, :], atol=tol * 10)
        np.testing.assert_allclose(np.linalg.norm(v, axis=-2), 1, atol=tol)
        assert_close(ember.linalg.eigvals(e_in), torch.linalg.eigvals(t_in), atol=tol,
                     rtol=tol)


def test_eig_gradient_matches_torch():
    """Gradients of eigenvalue and phase-invariant eigenvector functions equal torch's."""
    @_m
    def f(m, a):
        L, V = m.linalg.eig(a)
        return m.real((L * L).sum()), (V.abs() ** 4).sum()
    compare([(3, 3)], f, dtype="float64", rtol=1e-6, atol=1e-8)


# -- return types, extra outputs ------------------------------------------------------------
def test_return_types_match_torch():
    """Named tuples with torch's type names and fields."""
    a = np.random.default_rng(5).standard_normal((3, 3)) + 3 * np.eye(3)
    e, t = _both(a, "float64")
    for fn in (lambda m, x: m.linalg.slogdet(x), lambda m, x: m.linalg.qr(x),
               lambda m, x: m.linalg.svd(x), lambda m, x: m.linalg.eigh(x),
               lambda m, x: m.linalg.eig(x), lambda m, x: m.linalg.inv_ex(x),
               lambda m, x: m.linalg.cholesky_ex(x @ x.mT), lambda m, x: m.linalg.lu_factor(x),
               lambda m, x: m.linalg.lu_factor_ex(x), lambda m, x: m.linalg.lu(x),
               lambda m, x: m.linalg.lstsq(x, x), lambda m, x: m.linalg.solve_ex(x, x)):
        er, tr = fn(ember, e), fn(torch, t)
        assert type(er).__name__ == type(tr).__name__
        assert er._fields == type(tr).__match_args__


@pytest.mark.parametrize("driver", ["gelsy", "gelsd", "gelss", "gels"])
def test_lstsq_outputs_match_torch(driver):
    """solution, residuals, rank and singular_values as torch fills them per driver."""
    def f(m, a, b):
        return tuple(m.linalg.lstsq(a, b, driver=driver))
    compare([(2, 5, 3), (2, 5, 2)], f, dtype="float64", rtol=1e-7, atol=1e-9)
    compare([(5, 3), (5,)], f, dtype="float64", rtol=1e-7, atol=1e-9)


def test_rank_and_cond():
    """matrix_rank (plain, hermitian, tolerances) and cond in every norm equal torch's."""
    rng = np.random.default_rng(6)
    a = rng.standard_normal((2, 4, 3)) @ rng.standard_normal((2, 3, 4))  # rank 3
    e, t = _both(a, "float64")
    assert_close(ember.linalg.matrix_rank(e), torch.linalg.matrix_rank(t))
    assert_close(ember.linalg.matrix_rank(e, atol=1.0, rtol=0.0),
                 torch.linalg.matrix_rank(t, atol=1.0, rtol=0.0))
    h = a @ np.swapaxes(a, -1, -2)
    eh, th = _both(h, "float64")
    assert_close(ember.linalg.matrix_rank(eh, hermitian=True),
                 torch.linalg.matrix_rank(th, hermitian=True))
    sq = rng.standard_normal((2, 3, 3))
    es, ts = _both(sq, "float64")
    for p in (None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf):
        assert_close(ember.linalg.cond(es, p), torch.linalg.cond(ts, p))


def test_ex_variants_report_info():
    """inv_ex / cholesky_ex / lu_factor_ex: torch's info (int32) for good and bad matrices."""
    sing = np.eye(3)
    sing[:, 0] = 0
    a = np.stack([np.eye(3), sing])
    e, t = _both(a, "float64")
    assert_close(ember.linalg.inv_ex(e).info, torch.linalg.inv_ex(t).info)
    assert_close(ember.linalg.lu_factor_ex(e).info, torch.linalg.lu_factor_ex(t).info)
    b = np.stack([np.eye(3), -np.eye(3)])
    e, t = _both(b, "float64")
    assert_close(ember.linalg.cholesky_ex(e).info, torch.linalg.cholesky_ex(t).info)
    ok = ember.linalg.cholesky_ex(ember.tensor(np.eye(3)))
    assert ok.info.item() == 0


# -- errors -----------------------------------------------------------------------------------
def _singular():
    s = np.zeros((3, 3))
    s[0, 0] = 1
    return s


@pytest.mark.parametrize("fn,vals,dtype", [
    (lambda m, a: m.linalg.inv(a), [_singular()], "float32"),
    (lambda m, a: m.linalg.inv(a), [np.stack([np.eye(3), _singular()])], "float32"),
    (lambda m, a: m.linalg.cholesky(a), [-np.eye(3)], "float32"),
    (lambda m, a: m.linalg.cholesky(a), [np.stack([np.eye(3), -np.eye(3)])], "float32"),
    (lambda m, a: m.linalg.solve(a, a[0]), [_singular()], "float32"),
    (lambda m, a: m.linalg.inv(a), [np.ones((2, 3))], "float32"),
    (lambda m, a: m.linalg.inv(a), [np.ones(3)], "float32"),
    (lambda m, a: m.linalg.inv(a), [np.ones((3, 3), np.int64)], "int64"),
    (lambda m, a: m.linalg.det(a), [np.ones((2, 3))], "float32"),
    (lambda m, a: m.linalg.slogdet(a), [np.ones((2, 3))], "float32"),
    (lambda m, a: m.linalg.matrix_exp(a), [np.ones((2, 3))], "float32"),
    (lambda m, a: m.linalg.matrix_power(a, 2), [np.ones((2, 3))], "float32"),
    (lambda m, a: m.linalg.eigh(a), [np.ones((2, 3))], "float32"),
    (lambda m, a: m.linalg.eigh(a, UPLO="X"), [np.eye(3)], "float32"),
    (lambda m, a: m.linalg.svd(a), [np.ones(3)], "float32"),
    (lambda m, a: m.linalg.qr(a), [np.ones(3)], "float32"),
    (lambda m, a: m.linalg.qr(a, mode="x"), [np.ones((3, 3))], "float32"),
    (lambda m, a: m.linalg.solve(a, a[0, :2]), [np.eye(3)], "float32"),
    (lambda m, a: m.linalg.solve_triangular(a, a[0], upper=True), [np.eye(3)], "float32"),
    (lambda m, a: m.linalg.vector_norm(a), [np.ones(3, np.int64)], "int64"),
    (lambda m, a: m.linalg.matrix_norm(a), [np.ones(3)], "float32"),
    (lambda m, a: m.linalg.matrix_norm(a, ord=3), [np.ones((3, 3))], "float32"),
    (lambda m, a: m.linalg.norm(a, ord=2), [np.ones((3, 3, 3))], "float32"),
    (lambda m, a: m.linalg.cross(a, a), [np.ones((3, 2))], "float32"),
    (lambda m, a: m.linalg.multi_dot([a]), [np.ones((3, 3))], "float32"),
    (lambda m, a: m.linalg.multi_dot([a, a[:2]]), [np.ones((3, 3))], "float32"),
    (lambda m, a: m.linalg.lu_factor(a), [np.zeros((3, 3))], "float32"),
    (lambda m, a: m.linalg.solve(a, a.double()), [np.eye(3)], "float32"),
    (lambda m, a: m.linalg.lstsq(a, a.double()), [np.eye(3)], "float32"),
    (lambda m, a: m.linalg.lstsq(a, a[:2]), [np.eye(3)], "float32"),
    (lambda m, a: m.linalg.lstsq(a, a, driver="foo"), [np.eye(3)], "float32"),
    (lambda m, a: m.linalg.vector_norm(a[:0], math.inf), [np.ones(3)], "float32"),
    (lambda m, a: m.linalg.matrix_norm(a, dim=(0, 0)), [np.eye(3)], "float32"),
    (lambda m, a: m.linalg.norm(a, dim=(0, 1, 2)), [np.ones((2, 2, 2))], "float32"),
    (lambda m, a: m.linalg.cond(a, p="x"), [np.eye(3)], "float32"),
    (lambda m, a: m.linalg.tensorinv(a, ind=1), [np.ones((4, 3))], "float32"),
    (lambda m, a: m.linalg.pinv(a), [np.ones(3)], "float32"),
    (lambda m, a: m.linalg.cross(a[:2], a), [np.ones((3, 3))], "float32"),
])
def test_errors_match_torch(fn, vals, dtype):
    """Bad input raises torch's exception type with torch's message."""
    try:
        fn(torch, torch.tensor(vals[0], dtype=getattr(torch, dtype)))
    except Exception as exc:  # noqa: BLE001
        t_msg = str(exc).split("\n")[0]
    err = compare_raises(None, fn, vals=vals, dtype=dtype)
    assert str(err).split("\n")[0] == t_msg


def test_linalg_error_type():
    """Singular and non-positive-definite inputs raise ember.linalg.LinAlgError, a
    RuntimeError, as torch.linalg.LinAlgError."""
    assert issubclass(ember.linalg.LinAlgError, RuntimeError)
    with pytest.raises(ember.linalg.LinAlgError, match="The diagonal element 2 is zero"):
        ember.linalg.inv(ember.tensor(_singular()))
    with pytest.raises(ember.linalg.LinAlgError, match="not positive-definite"):
        ember.linalg.cholesky(-ember.eye(2))
    with pytest.raises(RuntimeError, match="same dtype"):
        ember.linalg.solve(ember.eye(3), ember.ones(3, 2, dtype=ember.float64))


def test_qr_backward_errors():
    """mode='r' and mode='complete' with more rows than columns are not differentiable."""
    x = ember.randn(4, 3, dtype=ember.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="mode='r'"):
        ember.linalg.qr(x, mode="r").R.sum().backward()
    with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
        ember.linalg.qr(x, mode="complete").Q.sum().backward()


# -- numerical gradient checks (float64), first and second order ----------------------------------
def _leaf(rng, shape, complex_=False, shift=0.0):
    a = rng.standard_normal(shape)
    if complex_:
        a = a + 1j * rng.standard_normal(shape)
    if shift:
        a = a + shift * np.eye(shape[-1])
    return ember.tensor(a, requires_grad=True)


def _sym_chol(a):
    return ember.linalg.cholesky(a @ a.mH + 3 * ember.eye(a.shape[-1], dtype=a.dtype))


GRADCHECK = {
    "inv": (lambda a: ember.linalg.inv(a), (3, 3), 2.0),
    "det": (lambda a: ember.linalg.det(a), (3, 3), 0.0),
    "slogdet": (lambda a: ember.linalg.slogdet(a).logabsdet, (3, 3), 2.0),
    "solve": (lambda a: ember.linalg.solve(a, a[:, :2] * 2 + 1), (3, 3), 2.0),
    "cholesky": (_sym_chol, (3, 3), 0.0),
    "qr": (lambda a: _qr_invariant(ember, a)[0] + _qr_invariant(ember, a)[1][:, :1],
           (3, 3), 0.0),
    "svd": (lambda a: _svd_invariant(ember, a)[1], (3, 2), 0.0),
    "eigh": (lambda a: _eigh_invariant(ember, a)[1], (3, 3), 0.0),
    "pinv": (lambda a: ember.linalg.pinv(a), (3, 2), 0.0),
    "lstsq": (lambda a: ember.linalg.lstsq(a, a * a).solution, (4, 2), 0.0),
    "matrix_exp": (lambda a: ember.linalg.matrix_exp(a), (3, 3), 0.0),
    "solve_triangular": (lambda a: ember.linalg.solve_triangular(a, a * 0.5 + 1, upper=True),
                         (3, 3), 3.0),
    "lu_factor": (lambda a: ember.linalg.lu_factor(a).LU, (3, 3), 0.0),
    "matrix_norm_nuc": (lambda a: ember.linalg.matrix_norm(a, "nuc"), (3, 2), 0.0),
    "vector_norm_3": (lambda a: ember.linalg.vector_norm(a, 3, dim=0), (3, 2), 0.0),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradcheck(name):
    """First derivatives against finite differences (float64)."""
    fn, shape, shift = GRADCHECK[name]
    rng = np.random.default_rng(7)
    assert gradcheck(fn, (_leaf(rng, shape, shift=shift),), eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("name", ["inv", "det", "solve", "cholesky", "matrix_exp", "eigh",
                                  "svd", "qr", "pinv", "solve_triangular"])
def test_gradgradcheck(name):
    """Second derivatives (double backward through the backward formulas)."""
    fn, shape, shift = GRADCHECK[name]
    rng = np.random.default_rng(8)
    assert gradgradcheck(fn, (_leaf(rng, shape, shift=shift),), eps=1e-6, atol=1e-5,
                         rtol=1e-3)


@pytest.mark.parametrize("name", ["inv", "det", "cholesky", "matrix_exp", "pinv"])
def test_gradcheck_complex(name):
    """Complex inputs: PyTorch's conjugate-Wirtinger gradients against finite differences."""
    fn = {"inv": lambda a: ember.linalg.inv(a), "det": lambda a: ember.linalg.det(a),
          "cholesky": _sym_chol, "matrix_exp": lambda a: ember.linalg.matrix_exp(a),
          "pinv": lambda a: ember.linalg.pinv(a)}[name]
    rng = np.random.default_rng(9)
    assert gradcheck(fn, (_leaf(rng, (2, 2), complex_=True, shift=2.0),), atol=1e-6,
                     rtol=1e-4)


# -- torch.* spellings outside torch.linalg (ember.linalg._torch_api, wired by the lead) -----
_API = ember_linalg._torch_api


def _t(fn):
    """``fn(m, ...)`` with ember's torch-level functions in place of the namespace."""
    class _Api:
        def __getattr__(self, name):
            return _API.TORCH_FUNCTIONS.get(name) or getattr(ember, name)
    api = _Api()
    return lambda m, *a: fn(api if m is ember else m, *a)


TORCH_API_CASES = {
    "det": ([(2, 3, 3)], lambda m, a: m.det(a)),
    "logdet": ([(4, 3, 3)], lambda m, a: m.logdet(a)),
    "slogdet": ([(2, 3, 3)], lambda m, a: tuple(m.slogdet(a))),
    "inverse": ([(2, 3, 3)], lambda m, a: m.inverse(a)),
    "pinverse": ([(4, 3)], lambda m, a: m.pinverse(a)),
    "svd": ([(4, 3)], lambda m, a: (lambda r: (r.S, r.U * r.U, r.V * r.V))(m.svd(a))),
    "svd_values_only": ([(4, 3)], lambda m, a: tuple(m.svd(a, compute_uv=False))),
    "qr": ([(4, 3)], lambda m, a: (lambda r: (r.Q * r.Q, r.R * r.R))(m.qr(a))),
    "cholesky_solve": ([(3, 3), (3, 2)], lambda m, a, b: m.cholesky_solve(
        b, m.linalg.cholesky(_spd(m, a)))),
    "cholesky_solve_upper": ([(3, 3), (3, 2)], lambda m, a, b: m.cholesky_solve(
        b, m.linalg.cholesky(_spd(m, a), upper=True), upper=True)),
    "cholesky_inverse": ([(3, 3)], lambda m, a: m.cholesky_inverse(
        m.linalg.cholesky(_spd(m, a)))),
    "triangular_solve": ([(3, 3), (3, 2)], lambda m, a, b: tuple(m.triangular_solve(
        b, a + 3 * m.eye(3), transpose=True))),
    "lu_unpack": ([(4, 4)], lambda m, a: tuple(m.lu_unpack(*m.linalg.lu_factor(a)))),
    "lu_solve": ([(4, 4), (4, 2)], lambda m, a, b: m.lu_solve(b, *m.linalg.lu_factor(a))),
    "cross_default_dim": ([(3, 4), (3, 4)], lambda m, a, b: m.cross(a, b)),
    "chain_matmul": ([(2, 3), (3, 4), (4, 2)], lambda m, a, b, c: m.chain_matmul(a, b, c)),
    "matrix_exp": ([(3, 3)], lambda m, a: m.matrix_exp(a)),
    "matrix_power": ([(3, 3)], lambda m, a: m.matrix_power(a, 2)),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", sorted(TORCH_API_CASES))
def test_torch_level_functions_match_torch(name, device):
    """torch.det/logdet/svd/qr/cholesky_solve/...: values, return types and gradients."""
    shapes, fn = TORCH_API_CASES[name]
    compare(shapes, _t(fn), dtype="float64", device=device, rtol=1e-7, atol=1e-9)
    assert set(_API.TENSOR_METHODS) <= set(_API.TORCH_FUNCTIONS)


def test_torch_level_return_types():
    """torch.svd / torch.qr / torch.slogdet / triangular_solve / lu_unpack named tuples."""
    a = np.random.default_rng(10).standard_normal((3, 3)) + 3 * np.eye(3)
    e, t = _both(a, "float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("svd", "qr", "slogdet", "triangular_solve", "lu_unpack"):
            if name == "triangular_solve":
                er, tr = _API.triangular_solve(e, e), torch.triangular_solve(t, t)
            elif name == "lu_unpack":
                er = _API.lu_unpack(*ember.linalg.lu_factor(e))
                tr = torch.lu_unpack(*torch.linalg.lu_factor(t))
            else:
                er, tr = getattr(_API, name)(e), getattr(torch, name)(t)
            assert type(er).__name__ == type(tr).__name__
            assert er._fields == type(tr).__match_args__


@pytest.mark.parametrize("shape,rank", [((2, 12, 7), 3), ((9, 20), 4), ((20, 9), 5)])
def test_svd_lowrank_and_pca_lowrank_match_torch(shape, rank):
    """``torch.svd_lowrank``/``pca_lowrank`` are randomized (ember's generator differs), but on
    a matrix of rank <= q they recover it exactly: the same singular values as torch's, the
    same shapes and dtypes, and ``U diag(S) V^H`` gives the matrix back (also with ``M``)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape[:-1] + (rank,)) @ rng.standard_normal(
        shape[:-2] + (rank, shape[-1]))
    mean = rng.standard_normal(shape[-1:])
    q = rank + 2
    for m in (torch, ember):
        A, M = m.from_numpy(a + mean), m.from_numpy(np.broadcast_to(mean, shape).copy())
        res = {"svd": m.svd_lowrank(A - M, q=q), "svd_M": m.svd_lowrank(A, q=q, M=M),
               "pca": m.pca_lowrank(A, q=q, center=True)}
        if m is torch:
            ref = res
            continue
        for key, (U, S, V) in res.items():
            tU, tS, tV = ref[key]
            assert U.shape == tU.shape and S.shape == tS.shape and V.shape == tV.shape, key
            assert U.dtype == ember.float64 and S.dtype == ember.float64, key
            np.testing.assert_allclose(S.numpy()[..., :rank], tS.numpy()[..., :rank],
                                       rtol=1e-9, atol=1e-9, err_msg=key)
            back = U.numpy() @ (S.numpy()[..., None] * V.numpy().swapaxes(-1, -2))
            centred = a + mean - (a + mean).mean(-2, keepdims=True) if key == "pca" else a
            np.testing.assert_allclose(back, centred, atol=1e-9, err_msg=key)
    assert ember.functional.svd_lowrank is ember.svd_lowrank
    assert ember.functional.pca_lowrank is ember.pca_lowrank
    for fn in (lambda m, x: m.pca_lowrank(x, q=10), lambda m, x: m.pca_lowrank(x, niter=-1)):
        compare_raises([(4, 5)], fn, dtype="float64")


def test_svd_lowrank_gradient_flows():
    """The decomposition is built from differentiable products, QR and SVD: the gradient
    of a function of the singular values reaches the input (as the full SVD's does)."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 3)) @ rng.standard_normal((3, 5))
    x = ember.tensor(a, requires_grad=True)
    ember.svd_lowrank(x, q=3, niter=3)[1].sum().backward()
    t = torch.tensor(a, requires_grad=True)
    torch.linalg.svdvals(t)[:3].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-8)
