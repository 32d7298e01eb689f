"""Inverses, determinants, linear solves, LU and matrix functions of ``ember.linalg``.

Forwards call the array module's batched LAPACK wrappers (``numpy.linalg`` /
``cupy.linalg``; ``scipy.linalg`` / ``cupyx.scipy.linalg`` for triangular solves and LU).
Backwards are PyTorch's formulas written with ember ops, so double backward works:

- inv:        gA = -A^{-H} g A^{-H}
- det:        gA = g conj(det) A^{-H}  (cofactors through the SVD for singular A)
- slogdet:    gA = (g_logabs - i Im(conj(g_sign) sign)) A^{-H}
- solve:      gB = A^{-H} g,  gA = -gB X^H
- triangular: the same, restricted to the triangle that was read
- lu:         gA = P L^{-H} [tril(L^H gL, -1) + triu(gU U^H)] U^{-H}  (square; rectangular
              cases as PyTorch's ``linalg_lu_backward``)
- matrix_exp: gA = exp([[A^H, g], [0, A^H]])[:n, n:]  (the block-matrix trick)
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..ops._prep import unbroadcast
from ..ops.linalg import matmul
from ..ops.op import Op, xp_of
from ..ops.shape import cat
from ._common import (
    LinAlgError,
    batch_prefix,
    check_float,
    check_matrix,
    check_same_dtype,
    host,
    is_numpy,
    linalg_inv_ex,
    linalg_lu,
    linalg_lu_factor,
    linalg_lu_factor_ex,
    linalg_slogdet,
    linalg_solve_ex,
    out_tensor,
    scipy_linalg,
    tril,
    triu,
)

__all__ = ["inv", "inv_ex", "det", "slogdet", "solve", "solve_ex", "solve_triangular",
           "lu_factor", "lu_factor_ex", "lu", "lu_solve", "matrix_power", "matrix_exp",
           "tensorinv", "tensorsolve"]


# -- LAPACK info helpers (error paths only) -----------------------------------------------------
def _getrf_info(a) -> np.ndarray:
    """LAPACK getrf's ``info`` per matrix of the batch: k > 0 when U[k-1, k-1] is zero."""
    from scipy.linalg import lapack

    a = host(a)
    n = a.shape[-1]
    mats = a.reshape(-1, a.shape[-2], n)
    infos = np.zeros(len(mats), np.int32)
    for i, m in enumerate(mats):
        (getrf,) = lapack.get_lapack_funcs(("getrf",), (m,))
        infos[i] = getrf(m)[2]
    return infos.reshape(a.shape[:-2])


def _singular_error(a, op: str):
    infos = _getrf_info(a).reshape(-1)
    bad = np.flatnonzero(infos > 0)
    if not len(bad):
        return LinAlgError(f"{op}: The input matrix is singular.")
    b = int(bad[0])
    return LinAlgError(f"{op}: {batch_prefix(a.shape, b)}The diagonal element {infos[b]} is "
                       "zero, the inversion could not be completed because the input matrix "
                       "is singular.")


# -- inverse ----------------------------------------------------------------------------------
class Inv(Op):
    """Matrix inverse, batched. With ``check=False`` a singular matrix gives nan/inf instead
    of raising (``inv_ex``)."""

    _name = "linalg_inv_ex"
    save_output = True

    def forward(self, a):
        xp = xp_of(a)
        try:
            return xp.linalg.inv(a)
        except np.linalg.LinAlgError:
            if self.check:
                raise _singular_error(a, "linalg.inv") from None
        out = np.empty(a.shape, a.dtype)  # per matrix: nan where singular
        flat, dst = host(a).reshape(-1, *a.shape[-2:]), out.reshape(-1, *a.shape[-2:])
        for i, m in enumerate(flat):
            try:
                dst[i] = np.linalg.inv(m)
            except np.linalg.LinAlgError:
                dst[i] = np.nan
        return out if is_numpy(a) else xp.asarray(out)

    def backward(self, g):
        ai_h = self.saved_output().mH
        return -matmul(matmul(ai_h, g), ai_h)


def inv(A: Tensor, *, out=None) -> Tensor:
    """The inverse of a square matrix (or of each matrix of a batch).

    Raises ``LinAlgError`` when a matrix is singular (on the CPU)."""
    check_matrix(A, "linalg.inv", square=True)
    return Inv.apply(A, check=True)


def inv_ex(A: Tensor, *, check_errors: bool = False, out=None):
    """``(inverse, info)``: like ``inv`` but reports singular matrices in ``info`` (int32,
    the index of the first zero pivot, 0 when fine) instead of raising."""
    check_matrix(A, "linalg.inv_ex", square=True)
    res = Inv.apply(A, check=check_errors)
    info = _info_tensor(A, _getrf_info(A._data) if _any_nonfinite(res) else None)
    return linalg_inv_ex(res, info)


def _any_nonfinite(t: Tensor) -> bool:
    xp = xp_of(t._data)
    return bool(t._data.size) and not bool(xp.isfinite(t._data).all())


def _info_tensor(A: Tensor, infos) -> Tensor:
    xp = xp_of(A._data)
    if infos is None:
        return Tensor._make(xp.zeros(A.shape[:-2], np.int32))
    return Tensor._make(xp.asarray(np.asarray(infos, np.int32).reshape(A.shape[:-2])))


# -- determinants -----------------------------------------------------------------------------
class Det(Op):
    _name = "linalg_det"
    save_inputs = (0,)
    save_output = True

    def forward(self, a):
        return xp_of(a).linalg.det(a)

    def backward(self, g):
        (A,) = self.saved_tensors
        d = self.saved_output()
        if bool(xp_of(d._data).any(d._data == 0)):
            return _det_backward_singular(A, g)
        coef = (g * d.conj()).unsqueeze(-1).unsqueeze(-1)
        return coef * inv(A).mH


def _det_backward_singular(A: Tensor, g: Tensor) -> Tensor:
    """Cofactor matrix through the SVD: for A = U S V^H, d det / dA = conj(det(U) det(V^H))
    U diag(prod_{j != i} s_j) V^H, which stays defined for singular A."""
    from ._decomp import svd

    U, S, Vh = svd(A, full_matrices=False)
    n = S.shape[-1]
    prods = []
    for i in range(n):  # products of all singular values but the i-th (n is small)
        others = [S.narrow(-1, j, 1) for j in range(n) if j != i]
        p = others[0] if others else S.narrow(-1, i, 1) * 0 + 1
        for o in others[1:]:
            p = p * o
        prods.append(p)
    cof = cat(prods, dim=-1)  # (..., n)
    phase = Det.apply(U) * Det.apply(Vh)
    coef = (g * phase.conj()).unsqueeze(-1).unsqueeze(-1)
    return coef * matmul(U * cof.conj().unsqueeze(-2), Vh).conj()


def det(A: Tensor, *, out=None) -> Tensor:
    """The determinant of a square matrix (or of each matrix of a batch)."""
    check_matrix(A, "linalg.det", square=True)
    return Det.apply(A)


class Slogdet(Op):
    _name = "linalg_slogdet"
    save_inputs = (0,)
    n_outputs = 2

    def forward(self, a):
        sign, logabs = xp_of(a).linalg.slogdet(a)
        sign = sign.astype(a.dtype, copy=False)
        self._out_data = (sign, logabs)
        return sign, logabs

    def backward(self, g_sign, g_abs):
        (A,) = self.saved_tensors
        if A.is_complex():
            from ..ops.spectral import imag, to_complex

            sign = out_tensor(self, 0)
            coef = to_complex(g_abs) if g_abs is not None else None
            if g_sign is not None:
                term = imag(g_sign.conj() * sign) * -1j
                coef = term if coef is None else coef + term
        else:
            coef = g_abs
        if coef is None:
            return None
        return coef.unsqueeze(-1).unsqueeze(-1) * inv(A).mH


def slogdet(A: Tensor, *, out=None):
    """``(sign, logabsdet)`` with ``det(A) = sign * exp(logabsdet)``; for a singular matrix
    sign is 0 and logabsdet is -inf."""
    check_matrix(A, "linalg.slogdet", square=True)
    sign, logabs = Slogdet.apply(A)
    return linalg_slogdet(sign, logabs)


# -- linear solves -----------------------------------------------------------------------------
class Solve(Op):
    """``X = A^{-1} B`` for A (*, n, n), B (*, n, k), batch dims broadcast."""

    _name = "linalg_solve_ex"
    save_inputs = (0,)
    save_output = True

    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        xp = xp_of(a)
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        try:
            return xp.linalg.solve(xp.broadcast_to(a, batch + a.shape[-2:]),
                                   xp.broadcast_to(b, batch + b.shape[-2:]))
        except np.linalg.LinAlgError:
            raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix "
                              "is singular.") from None

    def backward(self, g):
        (A,) = self.saved_tensors
        sa, sb = self.shapes
        gb = Solve.apply(A.mH, g)
        ga = None
        if self.next_functions[0][0] is not None:
            ga = unbroadcast(-matmul(gb, self.saved_output().mH), sa)
        return ga, unbroadcast(gb, sb)


def _solve_shapes(A: Tensor, B: Tensor, op: str, left: bool) -> bool:
    """Checks shapes; returns whether B is a (batch of) vector(s)."""
    vector = left and (B.ndim == 1 or (B.ndim == A.ndim - 1 and
                                       tuple(B.shape) == tuple(A.shape[:-1])))
    if vector:
        rows, cols = B.shape[-1], 1
    else:
        if B.ndim < 2:
            raise RuntimeError(f"{op}: The input tensor B must have at least 2 dimensions.")
        rows, cols = (B.shape[-2], B.shape[-1]) if left else (B.shape[-1], B.shape[-2])
    n = A.shape[-1]
    if rows != n:
        eq = "AX = B" if left else "XA = B"
        shape_b = f"{rows}x{cols}" if left else f"{cols}x{rows}"
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation {eq} "
                           f"({A.shape[-2]}x{n} and {shape_b})")
    try:
        np.broadcast_shapes(tuple(A.shape[:-2]),
                            tuple(B.shape[:-1] if vector else B.shape[:-2]))
    except ValueError:
        raise RuntimeError(f"{op}: the batch dimensions of A {list(A.shape[:-2])} and B "
                           f"{list(B.shape[:-2])} cannot be broadcast") from None
    return vector


def solve(A: Tensor, B: Tensor, *, left: bool = True, out=None) -> Tensor:
    """The solution X of ``A X = B`` (``X A = B`` with ``left=False``); B may be a vector or a
    batch of vectors. Raises ``LinAlgError`` for a singular A."""
    check_matrix(A, "linalg.solve", square=True)
    check_same_dtype(A, B, "linalg.solve")
    vector = _solve_shapes(A, B, "linalg.solve", left)
    if vector:
        return Solve.apply(A, B.unsqueeze(-1)).squeeze(-1)
    if left:
        return Solve.apply(A, B)
    return Solve.apply(A.mT, B.mT).mT


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False,
             out=None):
    """``(result, info)`` of ``solve``; ``info`` is 0 where the solve succeeded (a singular
    matrix raises when ``check_errors``, else gives nan and a positive info)."""
    try:
        res = solve(A, B, left=left)
        info = _info_tensor(A, None)
    except LinAlgError:
        if check_errors:
            raise
        infos = _getrf_info(A._data)
        Ai = inv_ex(A).inverse
        res = matmul(Ai, B.unsqueeze(-1)).squeeze(-1) if B.ndim == A.ndim - 1 else \
            (matmul(Ai, B) if left else matmul(B, Ai))
        info = _info_tensor(A, infos)
    return linalg_solve_ex(res, info)


class SolveTriangular(Op):
    """``X = A^{-1} B`` (``left``) or ``B A^{-1}`` for triangular A, batch dims broadcast;
    only A's ``upper``/lower triangle is read (its diagonal taken as ones when
    ``unitriangular``)."""

    _name = "linalg_solve_triangular"
    save_inputs = (0,)
    save_output = True

    def forward(self, a, b):
        xp = xp_of(a)
        self.shapes = (a.shape, b.shape)
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        if not self.left:  # X A = B  <=>  A^T X^T = B^T
            b = xp.swapaxes(b, -1, -2)
        a = xp.broadcast_to(a, batch + a.shape[-2:])
        b = xp.broadcast_to(b, batch + b.shape[-2:])
        x = _triangular_solve(xp, a, b, not self.upper, self.unitriangular, not self.left)
        x = x.astype(a.dtype, copy=False)
        return x if self.left else xp.ascontiguousarray(xp.swapaxes(x, -1, -2))

    def backward(self, g):
        (A,) = self.saved_tensors
        X = self.saved_output()
        sa, sb = self.shapes
        gb = SolveTriangular.apply(A.mH, g, upper=not self.upper, left=self.left,
                                   unitriangular=self.unitriangular)
        ga = None
        if self.next_functions[0][0] is not None:
            ga = -matmul(gb, X.mH) if self.left else -matmul(X.mH, gb)
            k = (1 if self.upper else -1) if self.unitriangular else 0
            ga = triu(ga, k) if self.upper else tril(ga, k)
            ga = unbroadcast(ga, sa)
        return ga, unbroadcast(gb, sb)


def _triangular_solve(xp, a, b, lower: bool, unit: bool, trans: bool):
    """Solves with the ``lower``/upper triangle of ``a`` (unit diagonal if ``unit``,
    transposed if ``trans``) through the batched LU solver of the array module: one call for
    the whole batch (LAPACK's trtrs through scipy solves one matrix per call, and its
    threading costs milliseconds per call on a busy machine)."""
    n = a.shape[-1]
    if n == 0 or b.shape[-1] == 0:
        return xp.zeros(b.shape, a.dtype)
    m = xp.tril(a) if lower else xp.triu(a)
    if unit:
        idx = xp.arange(n)
        m[..., idx, idx] = 1
    if trans:
        m = xp.swapaxes(m, -1, -2)
    try:
        return xp.linalg.solve(m, b)
    except np.linalg.LinAlgError:
        # a zero on the diagonal: PyTorch returns inf/nan there rather than raising
        out = xp.full(b.shape, xp.nan, dtype=xp.result_type(m.dtype, b.dtype))
        flat_m, flat_b = m.reshape(-1, n, n), b.reshape(-1, *b.shape[-2:])
        flat_o = out.reshape(-1, *b.shape[-2:])
        for i in range(flat_m.shape[0]):  # only on this error path
            try:
                flat_o[i] = xp.linalg.solve(flat_m[i], flat_b[i])
            except np.linalg.LinAlgError:
                pass
        return out


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False, out=None) -> Tensor:
    """The solution of ``A X = B`` (or ``X A = B``) for triangular A, reading only its
    upper (``upper=True``) or lower triangle."""
    check_matrix(A, "linalg.solve_triangular", square=True)
    check_matrix(B, "linalg.solve_triangular", name="B")
    if A._data.dtype != B._data.dtype:  # promoted, as torch does
        from .. import _dtype
        from ..ops._prep import cast

        d = _dtype.promote_types(A.dtype, B.dtype)
        A, B = cast(A, d), cast(B, d)
    check_same_dtype(A, B, "linalg.solve_triangular")
    _solve_shapes(A, B, "linalg.solve_triangular", left)
    return SolveTriangular.apply(A, B, upper=upper, left=left, unitriangular=unitriangular)


# -- LU -------------------------------------------------------------------------------------------
def _per_matrix(fn, a, xp):
    """Applies a 2-D-only routine to each matrix of a batch (the CUDA path)."""
    flat = a.reshape(-1, *a.shape[-2:])
    outs = [fn(m) for m in flat]
    return tuple(xp.stack([o[i] for o in outs]).reshape(a.shape[:-2] + outs[0][i].shape)
                 for i in range(len(outs[0])))


def _lu_factor_arrays(a):
    """(LU, pivots as int32, 1-based) of a batch, and LAPACK's info per matrix."""
    xp = xp_of(a)
    sla = scipy_linalg(a)
    if is_numpy(a):
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lu_, piv = sla.lu_factor(a, check_finite=False)
    else:  # pragma: no cover - cuda
        lu_, piv = _per_matrix(lambda m: sla.lu_factor(m), a, xp)
    k = min(a.shape[-2], a.shape[-1])
    diag = xp.diagonal(lu_, 0, -2, -1)[..., :k]
    zero = diag == 0
    info = xp.where(zero.any(-1), xp.argmax(zero, -1) + 1, 0).astype(np.int32)
    return lu_, (piv + 1).astype(np.int32), info


class LuFactor(Op):
    """``LU`` (L strictly below the diagonal, U on and above) and pivots of ``P^T A = L U``."""

    _name = "linalg_lu_factor_ex"
    n_outputs = 3

    def forward(self, a):
        lu_, piv, info = _lu_factor_arrays(a)
        self._out_data = (lu_, piv, info)
        self.pivots = piv
        return lu_, piv, info

    def backward(self, g_lu, _gp=None, _gi=None):
        if g_lu is None:
            return None
        LU = out_tensor(self, 0)
        m, n = LU.shape[-2], LU.shape[-1]
        P = _perm_matrix(self.pivots, m, LU)
        L, U = _unpack(LU, m, n)
        return _lu_backward(tril(g_lu, -1), triu(g_lu), P, L, U)


class Lu(Op):
    """``(L, U)`` of ``A = P L U``; L unit lower trapezoidal, U upper trapezoidal. The
    factors are computed by ``lu`` (attribute ``lu_``), which also keeps P."""

    _name = "linalg_lu"
    n_outputs = 2

    def forward(self, a):
        self._out_data = self.lu_
        return self.lu_

    def backward(self, g_l, g_u):
        if g_l is None and g_u is None:
            return None
        return _lu_backward(g_l, g_u, self.P, out_tensor(self, 0), out_tensor(self, 1))


def _perm_matrix(piv, m: int, like: Tensor) -> Tensor:
    """The permutation matrix P (A = P L U) of LAPACK's 1-based sequential row swaps."""
    piv = host(piv).astype(np.int64) - 1
    batch = piv.shape[:-1]
    perm = np.broadcast_to(np.arange(m), batch + (m,)).copy()
    flat_p = perm.reshape(-1, m)
    flat_v = piv.reshape(-1, piv.shape[-1])
    rows = np.arange(flat_p.shape[0])
    for i in range(flat_v.shape[1]):  # one swap per pivot row, vectorised over the batch
        j = flat_v[:, i]
        a, b = flat_p[rows, i].copy(), flat_p[rows, j].copy()
        flat_p[rows, i], flat_p[rows, j] = b, a
    P = np.zeros(batch + (m, m), like._data.dtype)
    np.put_along_axis(P, perm[..., :, None], 1, axis=-1)  # P^T: A[perm] = L U
    P = np.ascontiguousarray(np.swapaxes(P, -1, -2))
    xp = xp_of(like._data)
    return Tensor._make(P if xp is np else xp.asarray(P))


def _unpack(LU: Tensor, m: int, n: int):
    """L (m, k) unit lower and U (k, n) upper from a packed LU (differentiable)."""
    k = min(m, n)
    Lp = LU.narrow(-1, 0, k) if n > k else LU
    Up = LU.narrow(-2, 0, k) if m > k else LU
    xp = xp_of(LU._data)
    eye = Tensor._make(xp.eye(m, k, dtype=LU._data.dtype))
    return tril(Lp, -1) + eye, triu(Up)


def _lu_backward(gL, gU, P: Tensor, L: Tensor, U: Tensor) -> Tensor:
    """PyTorch's ``linalg_lu_backward`` (square, wide and tall cases)."""
    m, n = L.shape[-2], U.shape[-1]
    k = min(m, n)
    if m == n:
        gA = None
        if gL is not None:
            gA = tril(matmul(L.mH, gL), -1)
        if gU is not None:
            t = triu(matmul(gU, U.mH))
            gA = t if gA is None else gA + t
        gA = solve_triangular(U.mH, gA, upper=False, left=False)
        gA = solve_triangular(L.mH, gA, upper=True, left=True, unitriangular=True)
        return matmul(P, gA)
    if m < n:  # wide: U = [U1 | U2]
        U1 = U.narrow(-1, 0, k)
        gA = matmul(L.mH, gL) if gL is not None else None
        if gU is not None:
            t = matmul(triu(gU), U.mH)
            gA = -t if gA is None else gA - t
        gA = solve_triangular(U1.mH, tril(gA, -1), upper=False, left=False)
        if gU is not None:
            gA = cat([gA + triu(gU.narrow(-1, 0, k)), gU.narrow(-1, k, n - k)], dim=-1)
        gA = solve_triangular(L.mH, gA, upper=True, left=True, unitriangular=True)
        if gU is None:
            gA = cat([gA, gA.new_zeros(tuple(gA.shape[:-1]) + (n - k,))], dim=-1)
        return matmul(P, gA)
    # tall: L = [L1 ; L2]
    L1 = L.narrow(-2, 0, k)
    gA = matmul(gU, U.mH) if gU is not None else None
    if gL is not None:
        t = matmul(L.mH, tril(gL, -1))
        gA = -t if gA is None else gA - t
    gA = solve_triangular(L1.mH, triu(gA), upper=True, left=True, unitriangular=True)
    if gL is not None:
        gA = cat([gA + tril(gL.narrow(-2, 0, k), -1), gL.narrow(-2, k, m - k)], dim=-2)
    gA = solve_triangular(U.mH, gA, upper=False, left=False)
    if gL is None:
        gA = cat([gA, gA.new_zeros(tuple(gA.shape[:-2]) + (m - k, gA.shape[-1]))], dim=-2)
    return matmul(P, gA)


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False, out=None):
    """``(LU, pivots, info)``: the packed LU factorisation with partial pivoting; ``info`` is
    the (1-based) index of the first zero pivot, or 0."""
    check_matrix(A, "linalg.lu_factor_ex")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the "
                           "CPU")
    lu_, piv, info = LuFactor.apply(A)
    if check_errors:
        _raise_lu_info(info, A, "torch.linalg.lu_factor_ex")
    return linalg_lu_factor_ex(lu_, piv, info)


def _raise_lu_info(info: Tensor, A: Tensor, op: str) -> None:
    infos = host(info._data).reshape(-1)
    bad = np.flatnonzero(infos > 0)
    if len(bad):
        b = int(bad[0])
        raise LinAlgError(f"{op}: {batch_prefix(A.shape, b)}The factorization could not be "
                          f"completed because the input is not invertible: U[{infos[b]},"
                          f"{infos[b]}] is zero.")


def lu_factor(A: Tensor, *, pivot: bool = True, out=None):
    """``(LU, pivots)``: the packed LU factorisation with partial pivoting, as
    ``torch.linalg.lu_factor`` (pivots are 1-based int32). Raises for singular matrices."""
    check_matrix(A, "linalg.lu_factor")
    lu_, piv, info = lu_factor_ex(A, pivot=pivot)
    if A.shape[-1] == A.shape[-2]:
        infos = host(info._data).reshape(-1)
        bad = np.flatnonzero(infos > 0)
        if len(bad):
            b = int(bad[0])
            raise LinAlgError(f"torch.linalg.lu_factor: {batch_prefix(A.shape, b)}U[{infos[b]},"
                              f"{infos[b]}] is zero and using it on lu_solve would result in a "
                              "division by zero. If you still want to perform the "
                              "factorization, consider calling linalg.lu(A, pivot) or "
                              "linalg.lu_factor_ex(A, pivot)")
    return linalg_lu_factor(lu_, piv)


def lu(A: Tensor, *, pivot: bool = True, out=None):
    """``(P, L, U)`` with ``A = P L U`` (partial pivoting)."""
    check_matrix(A, "linalg.lu")
    if not pivot:
        raise RuntimeError("linalg.lu: LU without pivoting is not implemented on the CPU")
    a = A._data
    xp = xp_of(a)
    sla = scipy_linalg(a)
    if is_numpy(a):
        p, lo, up = sla.lu(a, check_finite=False)
    else:  # pragma: no cover - cuda
        p, lo, up = _per_matrix(lambda m: sla.lu(m), a, xp)
    P = Tensor._make(p.astype(a.dtype, copy=False))
    L, U = Lu.apply(A, lu_=(lo.astype(a.dtype, copy=False), up.astype(a.dtype, copy=False)),
                    P=P)
    return linalg_lu(P, L, U)


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True,
             adjoint: bool = False, out=None) -> Tensor:
    """The solution of ``A X = B`` from ``lu_factor(A)`` (``X A = B`` with ``left=False``,
    ``A^H`` for A with ``adjoint=True``); differentiable in ``LU`` and ``B``."""
    check_matrix(LU, "linalg.lu_solve", square=True, name="LU")
    check_matrix(B, "linalg.lu_solve", name="B")
    n = LU.shape[-1]
    P = _perm_matrix(pivots._data, n, LU)
    L, U = _unpack(LU, n, n)
    if left and not adjoint:  # X = U^-1 L^-1 P^T B
        y = solve_triangular(L, matmul(P.mT, B), upper=False, unitriangular=True)
        return solve_triangular(U, y, upper=True)
    if left:  # A^H X = B: X = P L^-H U^-H B
        y = solve_triangular(U.mH, B, upper=False)
        return matmul(P, solve_triangular(L.mH, y, upper=True, unitriangular=True))
    if not adjoint:  # X A = B: X = B U^-1 L^-1 P^T
        y = solve_triangular(U, B, upper=True, left=False)
        return matmul(solve_triangular(L, y, upper=False, left=False, unitriangular=True),
                      P.mT)
    # X A^H = B: X = B P L^-H U^-H
    y = solve_triangular(L.mH, matmul(B, P), upper=True, left=False, unitriangular=True)
    return solve_triangular(U.mH, y, upper=False, left=False)


# -- matrix functions ------------------------------------------------------------------------------
def matrix_power(A: Tensor, n: int, *, out=None) -> Tensor:
    """``A`` to the integer power ``n`` (``inv(A)^-n`` for negative ``n``, the identity for
    0), by repeated squaring with ``matmul``."""
    check_matrix(A, "linalg.matrix_power", square=True)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    if n == 0:
        return _PowerZero.apply(A)
    if n < 0:
        A = inv(A)
        n = -n
    result = None
    base = A
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


class _PowerZero(Op):
    """``A ** 0``: identity matrices of A's shape (zero gradient)."""

    _name = "linalg_matrix_power"

    def forward(self, a):
        xp = xp_of(a)
        return xp.broadcast_to(xp.eye(a.shape[-1], dtype=a.dtype), a.shape).copy()

    def backward(self, g):
        return g * 0


# Pade(13) coefficients and the 1-norm bound of Higham (2005), "The scaling and squaring
# method for the matrix exponential revisited"
_B13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
        129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
        40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _expm(a):
    """exp of each matrix of a batch: scaling and squaring with a [13/13] Pade approximant,
    computed in double precision, each matrix with its own number of squarings."""
    xp = xp_of(a)
    dt = a.dtype
    a = a.astype(np.complex128 if dt.kind == "c" else np.float64)
    n = a.shape[-1]
    norm1 = xp.abs(a).sum(-2).max(-1) if n else xp.zeros(a.shape[:-2])
    finite = xp.isfinite(norm1)
    ratio = xp.where(finite & (norm1 > 0), norm1, 1.0) / _THETA13
    s = xp.maximum(0, xp.ceil(xp.log2(ratio))).astype(np.int64)
    a = a / (2.0 ** s)[..., None, None]
    b = _B13
    ident = xp.eye(n, dtype=a.dtype)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2
             + b[1] * ident)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 \
        + b[0] * ident
    r = xp.linalg.solve(v - u, v + u) if n else v
    smax = int(s.max()) if s.size else 0
    for k in range(smax):  # squarings: as many as the largest-norm matrix needs
        r = xp.where((s > k)[..., None, None], r @ r, r)
    return r.astype(dt, copy=False)


class MatrixExp(Op):
    _name = "linalg_matrix_exp"
    save_inputs = (0,)

    def forward(self, a):
        return _expm(a)

    def backward(self, g):
        (A,) = self.saved_tensors
        n = A.shape[-1]
        Ah = A.mH
        top = cat([Ah, g], dim=-1)
        bottom = cat([Ah.new_zeros(tuple(Ah.shape)), Ah], dim=-1)
        big = cat([top, bottom], dim=-2)  # (..., 2n, 2n)
        return MatrixExp.apply(big).narrow(-2, 0, n).narrow(-1, n, n)


def matrix_exp(A: Tensor) -> Tensor:
    """The matrix exponential of a square matrix (or batch), as ``torch.linalg.matrix_exp``."""
    check_matrix(A, "linalg.matrix_exp", square=True)
    return MatrixExp.apply(A)


# -- tensor inverse / solve ---------------------------------------------------------------
def tensorinv(A: Tensor, ind: int = 2, *, out=None) -> Tensor:
    """The inverse of ``A`` with respect to ``tensordot`` over ``ind`` dims."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    check_float(A, "linalg.tensorinv")
    out_shape = tuple(A.shape[ind:]) + tuple(A.shape[:ind])
    rows = int(np.prod(A.shape[:ind], dtype=np.int64))
    cols = int(np.prod(A.shape[ind:], dtype=np.int64))
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    return inv(A.reshape(rows, cols)).reshape(out_shape)


def tensorsolve(A: Tensor, B: Tensor, dims=None, *, out=None) -> Tensor:
    """The solution X of ``tensordot(A, X, X.ndim) = B``."""
    if dims is not None:
        nd = A.ndim
        dims = [d % nd for d in dims]
        rest = [d for d in range(nd) if d not in dims]
        A = A.permute(*(rest + dims))
    out_shape = tuple(A.shape[B.ndim:])
    rows = int(np.prod(B.shape, dtype=np.int64))
    cols = int(np.prod(out_shape, dtype=np.int64))
    return solve(A.reshape(rows, cols), B.reshape(rows)).reshape(out_shape)


# -- out=: these compute out of place; the result is written into ``out`` when given ---------
from .._out_arg import wrap_out_functions  # noqa: E402

wrap_out_functions(globals(), [
    'inv', 'inv_ex', 'det', 'slogdet', 'solve', 'solve_ex', 'solve_triangular',
    'lu_factor_ex', 'lu_factor', 'lu', 'lu_solve', 'matrix_power', 'tensorinv',
    'tensorsolve'])
