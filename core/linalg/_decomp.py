"""Decompositions of ``ember.linalg``: Cholesky, QR, SVD, eigen-decompositions, and what is
built on them (pseudo-inverse, least squares, rank).

Backwards are PyTorch's formulas (``FunctionsManual.cpp``) in ember ops:

- cholesky: gA = L^{-H} Phi(L^H gL) L^{-1}, Phi = lower triangle with halved diagonal,
  symmetrised
- qr (m >= n): gA = [gQ + Q H] R^{-H}, H the Hermitian matrix whose upper triangle is that
  of ``gR R^H - Q^H gQ`` (real diagonal); m < n splits A = [X | Y]
- svd: the well-defined part (the loss must not depend on the singular vectors' signs or
  phases), with the (I - U U^H) and (I - V V^H) terms for rectangular inputs
- eigh: gA = V (diag(gL) + skew(V^H gV) / (L_j - L_i)) V^H
- eig: gA = V^{-H} (diag(gL) + (V^H gV - V^H V Re diag(V^H gV)) / conj(L_j - L_i)) V^H
- pinv: PyTorch's ``pinv_backward``; lstsq is ``pinv(A) @ B`` so it shares it.

Decompositions defined up to signs or phases (qr, svd, eig, eigh) may differ from PyTorch's
in those factors, as they may between PyTorch's own back ends.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import _State
from ..ops.linalg import matmul
from ..ops.op import Op, xp_of
from ..ops.shape import cat
from ._common import (
    LinAlgError,
    batch_prefix,
    check_matrix,
    check_same_dtype,
    diag_embed,
    diagonal,
    eye_like,
    host,
    is_numpy,
    linalg_cholesky_ex,
    linalg_eig,
    linalg_eigh,
    linalg_lstsq,
    linalg_qr,
    linalg_svd,
    out_tensor,
    pt_name,
    tril,
    triu,
)
from ._solve import solve, solve_triangular

__all__ = ["cholesky", "cholesky_ex", "qr", "svd", "svdvals", "eig", "eigvals", "eigh",
           "eigvalsh", "pinv", "lstsq", "matrix_rank"]


def _needs_grad(A: Tensor) -> bool:
    return _State.enabled and A.requires_grad


def _real(t: Tensor) -> Tensor:
    from ..ops.spectral import real

    return real(t)


def _as_complex(t: Tensor) -> Tensor:
    from ..ops.spectral import to_complex

    return to_complex(t)


# -- Cholesky ---------------------------------------------------------------------------------
def _potrf_info(a) -> np.ndarray:
    """LAPACK potrf's ``info`` per matrix: k > 0 when the leading minor of order k is not
    positive-definite."""
    from scipy.linalg import lapack

    a = host(a)
    mats = a.reshape(-1, *a.shape[-2:])
    infos = np.zeros(len(mats), np.int32)
    facs = np.zeros_like(mats)
    for i, m in enumerate(mats):
        (potrf,) = lapack.get_lapack_funcs(("potrf",), (m,))
        c, info = potrf(m, lower=1)
        infos[i] = info
        facs[i] = np.tril(c)
    return infos.reshape(a.shape[:-2]), facs.reshape(a.shape)


class Cholesky(Op):
    """The lower Cholesky factor (its conjugate transpose when ``upper``), read from the
    lower triangle of A."""

    _name = "linalg_cholesky_ex"
    save_output = True

    def forward(self, a):
        xp = xp_of(a)
        self.info = None
        try:
            low = xp.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            infos, facs = _potrf_info(a)
            if self.check:
                b = int(np.flatnonzero(infos.reshape(-1) > 0)[0])
                raise LinAlgError(
                    f"linalg.cholesky: {batch_prefix(a.shape, b)}The factorization could not "
                    "be completed because the input is not positive-definite (the leading "
                    f"minor of order {infos.reshape(-1)[b]} is not positive-definite)."
                ) from None
            self.info = infos
            low = facs if is_numpy(a) else xp.asarray(facs)
        if self.upper:
            return xp.ascontiguousarray(xp.swapaxes(low.conj(), -1, -2))
        return low

    def backward(self, g):
        L = self.saved_output()
        if self.upper:
            L, g = L.mH, g.mH
        gA = tril(matmul(L.mH, g))
        gA = 0.5 * (gA + tril(gA, -1).mH)
        gA = solve_triangular(L.mH, gA, upper=True, left=True)
        return solve_triangular(L, gA, upper=False, left=False)


def cholesky(A: Tensor, *, upper: bool = False, out=None) -> Tensor:
    """The Cholesky factor L (``A = L L^H``) of a Hermitian positive-definite matrix, or
    ``U = L^H`` with ``upper=True``. Raises ``LinAlgError`` when A is not positive-definite."""
    check_matrix(A, "linalg.cholesky", square=True)
    return Cholesky.apply(A, upper=upper, check=True)


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False, out=None):
    """``(L, info)``: ``info`` is the order of the first leading minor that is not
    positive-definite (0 when the factorisation succeeded)."""
    check_matrix(A, "linalg.cholesky_ex", square=True)
    L = Cholesky.apply(A, upper=upper, check=check_errors)
    xp = xp_of(A._data)
    infos = None
    node = L.grad_fn
    if node is not None:
        infos = node.info
    elif not bool(xp.isfinite(L._data).all()) or _not_pd_hint(A, L):
        infos, _ = _potrf_info(A._data)
    info = xp.zeros(A.shape[:-2], np.int32) if infos is None else \
        xp.asarray(np.asarray(infos, np.int32))
    return linalg_cholesky_ex(L, Tensor._make(info))


def _not_pd_hint(A: Tensor, L: Tensor) -> bool:
    """Cheap check that the factorisation failed somewhere (an exact reconstruction means it
    did not)."""
    a = A._data
    low = L._data
    xp = xp_of(a)
    if L.shape[-1] == 0:
        return False
    d = xp.diagonal(low, 0, -2, -1)
    return bool((d.real <= 0).any())


# -- QR -------------------------------------------------------------------------------------------
class Qr(Op):
    _name = "linalg_qr"
    save_inputs = (0,)
    n_outputs = 2

    def forward(self, a):
        xp = xp_of(a)
        if self.mode == "r":
            r = xp.linalg.qr(a, mode="r")
            q = xp.empty((0,), a.dtype)
        else:
            q, r = xp.linalg.qr(a, mode=self.mode)
        self._out_data = (q, r)
        return q, r

    def backward(self, gQ, gR):
        if self.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                               "are going to differentiate through linalg.qr.")
        Q, R = out_tensor(self, 0), out_tensor(self, 1)
        m, n = Q.shape[-2], R.shape[-1]
        if self.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when "
                               "mode='complete' and nrows > ncols.")
        if m >= n:
            return _qr_backward_tall(gQ, gR, Q, R)
        (A,) = self.saved_tensors
        Y = A.narrow(-1, m, n - m)
        U = R.narrow(-1, 0, m)
        gU = gV = None
        if gR is not None:
            gU, gV = gR.narrow(-1, 0, m), gR.narrow(-1, m, n - m)
            term = matmul(Y, gV.mH)
            gQ = term if gQ is None else gQ + term
        gX = _qr_backward_tall(gQ, gU, Q, U)
        gY = matmul(Q, gV) if gV is not None else Y.new_zeros(tuple(Y.shape))
        return cat([gX, gY], dim=-1)


def _qr_backward_tall(gQ, gR, Q: Tensor, R: Tensor) -> Tensor:
    """gA = [gQ + Q H] R^{-H}, H Hermitian built from the upper triangle of
    ``gR R^H - Q^H gQ`` with a real diagonal (m >= n)."""
    N = None
    if gR is not None:
        N = matmul(gR, R.mH)
    if gQ is not None:
        t = matmul(Q.mH, gQ)
        N = -t if N is None else N - t
    up = triu(N, 1)
    d = diagonal(N)
    if d.is_complex():
        d = _as_complex(_real(d))
    H = up + up.mH + diag_embed(d)
    b = matmul(Q, H)
    if gQ is not None:
        b = b + gQ
    return solve_triangular(R.mH, b, upper=False, left=False)


_QR_MODES = ("reduced", "complete", "r")


def qr(A: Tensor, mode: str = "reduced", *, out=None):
    """``(Q, R)`` with ``A = Q R``, Q with orthonormal columns, R upper triangular.
    ``mode``: ``'reduced'`` (default), ``'complete'``, or ``'r'`` (Q is empty)."""
    if mode not in _QR_MODES:
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    check_matrix(A, "linalg.qr")
    Q, R = Qr.apply(A, mode=mode)
    return linalg_qr(Q, R)


# -- SVD -------------------------------------------------------------------------------------------
class Svd(Op):
    _name = "linalg_svd"
    n_outputs = 3

    def forward(self, a):
        u, s, vh = xp_of(a).linalg.svd(a, full_matrices=self.full_matrices)
        self._out_data = (u, s, vh)
        return u, s, vh

    def backward(self, gU, gS, gVh):
        U, S, Vh = out_tensor(self, 0), out_tensor(self, 1), out_tensor(self, 2)
        if self.full_matrices:
            k = S.shape[-1]
            U, Vh = U.narrow(-1, 0, k), Vh.narrow(-2, 0, k)
            gU = gU.narrow(-1, 0, k) if gU is not None else None
            gVh = gVh.narrow(-2, 0, k) if gVh is not None else None
        return svd_backward(gU, gS, gVh, U, S, Vh)


def svd_backward(gU, gS, gVh, U: Tensor, S: Tensor, Vh: Tensor):
    """PyTorch's ``svd_backward`` for the reduced SVD A = U diag(S) Vh."""
    if gU is None and gS is None and gVh is None:
        return None
    m, n = U.shape[-2], Vh.shape[-1]
    if gU is None and gVh is None:  # svdvals: gA = U diag(gS) Vh
        gS_ = _as_complex(gS) if U.is_complex() else gS
        return matmul(U, gS_.unsqueeze(-1) * Vh) if m >= n else \
            matmul(U * gS_.unsqueeze(-2), Vh)
    is_complex = U.is_complex()
    UhgU = VhgV = None
    if gU is not None:
        t = matmul(U.mH, gU)
        UhgU = t - t.mH
    if gVh is not None:
        t = matmul(Vh, gVh.mH)
        VhgV = t - t.mH
    if is_complex:
        xp = xp_of(U._data)
        im_u = xp.imag(xp.diagonal(UhgU._data, 0, -2, -1)) if UhgU is not None else 0
        im_v = xp.imag(xp.diagonal(VhgV._data, 0, -2, -1)) if VhgV is not None else 0
        if not bool(xp.allclose(im_u, -im_v, rtol=1e-2, atol=1e-2)):
            raise RuntimeError("svd_backward: The singular vectors in the complex case are "
                               "specified up to multiplication by e^{i phi}. The specified "
                               "loss function depends on this phase term, making it "
                               "ill-defined.")
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1) + eye_like(S.shape[-1], S)
    Sr = _as_complex(S) if is_complex else S
    if UhgU is not None and VhgV is not None:
        ret = (UhgU * Sr.unsqueeze(-2) + Sr.unsqueeze(-1) * VhgV) / E
    elif UhgU is not None:
        ret = UhgU * (Sr.unsqueeze(-2) / E)
    else:
        ret = Sr.unsqueeze(-1) * VhgV / E
    if gS is not None:
        ret = ret + diag_embed(_as_complex(gS) if is_complex else gS)
    if is_complex and UhgU is not None:
        ret = ret + diag_embed(diagonal(UhgU) / (2.0 * Sr))
    if m > n and gU is not None:
        gA = matmul(U, ret)
        gUSinv = gU / Sr.unsqueeze(-2)
        gA = gA + gUSinv - matmul(U, matmul(U.mH, gUSinv))
        return matmul(gA, Vh)
    if m < n and gVh is not None:
        gA = matmul(ret, Vh)
        SinvgVh = gVh / Sr.unsqueeze(-1)
        gA = gA + SinvgVh - matmul(matmul(SinvgVh, Vh.mH), Vh)
        return matmul(U, gA)
    return matmul(U, matmul(ret, Vh)) if m >= n else matmul(matmul(U, ret), Vh)


def svd(A: Tensor, full_matrices: bool = True, *, driver=None, out=None):
    """``(U, S, Vh)`` with ``A = U diag(S) Vh``, S real and descending. Gradients are
    defined when the loss does not depend on the singular vectors' signs (phases)."""
    check_matrix(A, "linalg.svd")
    U, S, Vh = Svd.apply(A, full_matrices=full_matrices)
    return linalg_svd(U, S, Vh)


def svdvals(A: Tensor, *, driver=None, out=None) -> Tensor:
    """The singular values of A, descending (real)."""
    check_matrix(A, "linalg.svdvals")
    if _needs_grad(A):
        return svd(A, full_matrices=False).S
    return Tensor._make(xp_of(A._data).linalg.svd(A._data, compute_uv=False))


# -- eigen-decompositions --------------------------------------------------------------------------
class Eigh(Op):
    _name = "linalg_eigh"
    n_outputs = 2

    def forward(self, a):
        w, v = xp_of(a).linalg.eigh(a, UPLO=self.uplo)
        self._out_data = (w, v)
        return w, v

    def backward(self, gL, gV):
        L, V = out_tensor(self, 0), out_tensor(self, 1)
        return eig_backward(gL, gV, L, V, hermitian=True)


def eig_backward(gL, gV, L: Tensor, V: Tensor, hermitian: bool):
    """PyTorch's ``linalg_eig_backward`` (``hermitian`` for eigh)."""
    if gL is None and gV is None:
        return None
    if gV is None:
        gLc = _as_complex(gL) if V.is_complex() else gL
        if hermitian:
            return matmul(V * gLc.unsqueeze(-2), V.mH)
        return solve(V.mH, gLc.unsqueeze(-1) * V.mH)
    VhgV = matmul(V.mH, gV)
    d = diagonal(VhgV)
    if V.is_complex():
        xp = xp_of(d._data)
        if hermitian and not bool(xp.allclose(xp.imag(d._data), 0, rtol=1e-2, atol=1e-2)):
            raise RuntimeError("linalg_eig_backward: The eigenvectors in the complex case are "
                               "specified up to multiplication by e^{i phi}. The specified loss "
                               "function depends on this quantity, so it is ill-defined.")
    if hermitian:
        VhgV = 0.5 * (VhgV - VhgV.mH)
        E = L.unsqueeze(-2) - L.unsqueeze(-1) + eye_like(L.shape[-1], L)
    else:
        VhgV = VhgV - matmul(V.mH, V * _as_complex(_real(d)).unsqueeze(-2))
        Lc = L.conj()
        E = Lc.unsqueeze(-2) - Lc.unsqueeze(-1) + eye_like(L.shape[-1], L)
    gA = VhgV / E
    if gL is not None:
        gA = gA + diag_embed(_as_complex(gL) if V.is_complex() else gL)
    if hermitian:
        return matmul(V, matmul(gA, V.mH))
    return solve(V.mH, matmul(gA, V.mH))


def _check_uplo(UPLO: str) -> str:
    if UPLO not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO.upper()


def eigh(A: Tensor, UPLO: str = "L", *, out=None):
    """``(eigenvalues, eigenvectors)`` of a Hermitian (symmetric) matrix, eigenvalues real
    and ascending; only the ``UPLO`` triangle of A is read."""
    check_matrix(A, "linalg.eigh", square=True)
    L, V = Eigh.apply(A, uplo=_check_uplo(UPLO))
    return linalg_eigh(L, V)


def eigvalsh(A: Tensor, UPLO: str = "L", *, out=None) -> Tensor:
    """The (real, ascending) eigenvalues of a Hermitian matrix."""
    check_matrix(A, "linalg.eigvalsh", square=True)
    uplo = _check_uplo(UPLO)
    if _needs_grad(A):
        return eigh(A, uplo).eigenvalues
    return Tensor._make(xp_of(A._data).linalg.eigvalsh(A._data, UPLO=uplo))


def _eig_arrays(a):
    xp = xp_of(a)
    fn = getattr(xp.linalg, "eig", None)
    if fn is None:  # pragma: no cover - CuPy without eig: on the host
        w, v = np.linalg.eig(host(a))
        w, v = xp.asarray(w), xp.asarray(v)
    else:
        w, v = fn(a)
    c = np.complex64 if a.dtype in (np.float32, np.complex64) else np.complex128
    return w.astype(c, copy=False), v.astype(c, copy=False)


class Eig(Op):
    _name = "linalg_eig"
    n_outputs = 2

    def forward(self, a):
        self.real_input = a.dtype.kind != "c"
        w, v = _eig_arrays(a)
        self._out_data = (w, v)
        return w, v

    def backward(self, gL, gV):
        L, V = out_tensor(self, 0), out_tensor(self, 1)
        gA = eig_backward(gL, gV, L, V, hermitian=False)
        return _real(gA) if self.real_input and gA is not None else gA


def eig(A: Tensor, *, out=None):
    """``(eigenvalues, eigenvectors)`` of a square matrix, both complex; eigenvectors have
    unit norm. Gradients need a loss invariant to the eigenvectors' phases."""
    check_matrix(A, "linalg.eig", square=True)
    L, V = Eig.apply(A)
    return linalg_eig(L, V)


def eigvals(A: Tensor, *, out=None) -> Tensor:
    """The (complex) eigenvalues of a square matrix."""
    check_matrix(A, "linalg.eigvals", square=True)
    if _needs_grad(A):
        return eig(A).eigenvalues
    return Tensor._make(_eig_arrays(A._data)[0])


# -- pseudo-inverse, least squares, rank -----------------------------------------------------------
def _tol_arrays(A: Tensor, atol, rtol, smax):
    """PyTorch's tolerance ``max(atol, rtol * smax)`` (rtol defaults to eps * max(m, n),
    or to 0 when a positive atol is given)."""
    xp = xp_of(A._data)
    real_dt = np.float32 if A._data.dtype in (np.float32, np.complex64) else np.float64

    def arr(v):
        if v is None:
            return None
        if isinstance(v, Tensor):
            return v._data.astype(real_dt)[..., None]
        return xp.asarray(v, dtype=real_dt)

    a, r = arr(atol), arr(rtol)
    if r is None:
        if a is not None and bool((a > 0).any()):
            r = xp.asarray(0.0, dtype=real_dt)
        else:
            r = xp.asarray(np.finfo(real_dt).eps * max(A.shape[-2], A.shape[-1]), dtype=real_dt)
    if a is None:
        a = xp.asarray(0.0, dtype=real_dt)
    return xp.maximum(a, r * smax)


class Pinv(Op):
    _name = "linalg_pinv"
    save_inputs = (0,)
    save_output = True

    def forward(self, a):
        xp = xp_of(a)
        A = Tensor._make(a)
        swap = xp.swapaxes
        if self.hermitian:
            w, v = xp.linalg.eigh(a)
            wa = xp.abs(w)
            smax = wa.max(-1, keepdims=True) if w.shape[-1] else wa
            tol = _tol_arrays(A, self.atol, self.rtol, smax)
            keep = wa > tol
            winv = xp.where(keep, 1 / xp.where(keep, w, 1), 0).astype(v.dtype)
            return (v * winv[..., None, :]) @ swap(v.conj(), -1, -2)
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        smax = s[..., :1]
        tol = _tol_arrays(A, self.atol, self.rtol, smax)
        keep = s > tol
        sinv = xp.where(keep, 1 / xp.where(keep, s, 1), 0).astype(a.dtype)
        return (swap(vh.conj(), -1, -2) * sinv[..., None, :]) @ swap(u.conj(), -1, -2)

    def backward(self, g):
        (A,) = self.saved_tensors
        P = self.saved_output()
        m, n = A.shape[-2], A.shape[-1]
        Ph = P.mH
        gh = g.mH
        if m <= n:
            K = matmul(gh, P)
            KPh = matmul(K, Ph)
            return -matmul(P, K).mH + KPh - matmul(matmul(A, P), KPh) + \
                matmul(matmul(Ph, P), gh - matmul(K, A))
        K = matmul(P, gh)
        PhK = matmul(Ph, K)
        return -matmul(K, P).mH + matmul(matmul(gh - matmul(A, K), P), Ph) + PhK - \
            matmul(matmul(PhK, P), A)


def pinv(A: Tensor, rcond=None, hermitian: bool = False, *, atol=None, rtol=None,
         out=None) -> Tensor:
    """The Moore-Penrose pseudo-inverse, from the SVD (the eigen-decomposition when
    ``hermitian``); singular values not above ``max(atol, rtol * s_max)`` are dropped."""
    if isinstance(A, Tensor) and (A.ndim < 2 or A._data.dtype.kind not in "fc"):
        raise RuntimeError(f"linalg.pinv({pt_name(A)}{{{list(A.shape)}}}): expected a tensor "
                           "with 2 or more dimensions of float, double, cfloat or cdouble types")
    check_matrix(A, "linalg.pinv")
    if rcond is not None:
        rtol = rcond
    return Pinv.apply(A, atol=atol, rtol=rtol, hermitian=hermitian)


def matrix_rank(A: Tensor, tol=None, hermitian: bool = False, *, atol=None, rtol=None,
                out=None) -> Tensor:
    """The numerical rank: the number of singular values (absolute eigenvalues when
    ``hermitian``) above ``max(atol, rtol * s_max)`` (int64)."""
    check_matrix(A, "linalg.matrix_rank")
    if tol is not None:
        atol, rtol = tol, 0.0
    xp = xp_of(A._data)
    if hermitian:
        s = xp.abs(xp.linalg.eigvalsh(A._data))
        s = -xp.sort(-s, axis=-1)
    else:
        s = xp.linalg.svd(A._data, compute_uv=False)
    smax = s[..., :1] if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), s.dtype)
    tol_ = _tol_arrays(A, atol, rtol, smax)
    return Tensor._make(xp.asarray((s > tol_).sum(-1), dtype=np.int64))


_CPU_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver=None):
    """``(solution, residuals, rank, singular_values)`` of the least-squares problem
    ``min ||A X - B||_F``, as ``torch.linalg.lstsq``.

    The solution is ``pinv(A) @ B`` (singular values at or below ``rcond * s_max`` dropped,
    rcond defaulting to ``eps * max(m, n)``), which is also how PyTorch differentiates it.
    ``rank`` is filled for drivers other than ``gels``; ``singular_values`` for ``gelsd`` and
    ``gelss``; ``residuals`` (squared, summed over rows) when m > n, every matrix has full
    rank and the driver is not ``gelsy``."""
    check_matrix(A, "torch.linalg.lstsq")
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg_lstsq(): argument 'b' must be Tensor, not {type(B).__name__}")
    if B.ndim < 1:
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to "
                           "other.dim() and (input.dim() - other.dim()) <= 1")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same "
                           f"dtype, but got input's dtype {pt_name(A)} and other's dtype "
                           f"{pt_name(B)}")
    check_same_dtype(A, B, "torch.linalg.lstsq", "input", "other")
    cuda = A.device.type == "cuda"
    if driver is None:
        driver = "gels" if cuda else "gelsy"
    elif cuda and driver != "gels":
        raise RuntimeError("torch.linalg.lstsq: `driver` other than `gels` is not supported "
                           "on CUDA")
    elif driver not in _CPU_DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, "
                           "gelsy, gelsd, gelss)")
    vector = B.ndim == A.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.ndim < 2 or A.shape[-2] != Bm.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    m, n = A.shape[-2], A.shape[-1]
    X = matmul(pinv(A, rtol=rcond), Bm)
    xp = xp_of(A._data)
    real_dt = np.float32 if A._data.dtype in (np.float32, np.complex64) else np.float64
    rank = Tensor._make(xp.zeros((0,), np.int64))
    sv = Tensor._make(xp.zeros((0,), real_dt))
    if driver != "gels":
        rank = matrix_rank(A.detach(), rtol=rcond)
    if driver in ("gelsd", "gelss"):
        sv = svdvals(A.detach())
    # residuals, like the solution, stay in the graph (torch differentiates them too)
    residuals = X.reshape(-1).narrow(0, 0, 0).abs()
    if m > n and driver != "gelsy":
        full = driver == "gels" or bool((rank._data == n).all())
        if full:
            residuals = (matmul(A, X) - Bm).abs().pow(2).sum(-2)
    if vector:
        X = X.squeeze(-1)
    return linalg_lstsq(X, residuals, rank, sv)


# -- out=: these compute out of place; the result is written into ``out`` when given ---------
from .._out_arg import wrap_out_functions  # noqa: E402

wrap_out_functions(globals(), [
    'cholesky', 'cholesky_ex', 'qr', 'svd', 'svdvals', 'eigh', 'eigvalsh', 'eig',
    'eigvals', 'pinv', 'matrix_rank'])
