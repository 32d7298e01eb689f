"""``ember.nn.utils.parametrizations``: ``weight_norm``, ``spectral_norm`` and ``orthogonal``
as parametrizations (``ember.nn.utils.parametrize``), as
``torch.nn.utils.parametrizations``. State-dict keys are PyTorch's:
``parametrizations.weight.original0``/``original1`` (weight norm's g and v),
``parametrizations.weight.original`` with ``parametrizations.weight.0._u``/``_v``
(spectral norm) or ``parametrizations.weight.0.base`` (orthogonal)."""

from __future__ import annotations

from enum import Enum, auto

import numpy as np

from ..._creation import empty, eye, randn, zeros_like
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...ops.op import xp_of
from .. import functional as F
from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from ..modules.module import Module
from . import parametrize
from .weight_norm import _weight_norm, norm_except_dim

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


# -- orthogonal --------------------------------------------------------------------------
class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


def _householder_product(a: Tensor, tau: Tensor) -> Tensor:
    """The first k columns of ``H_1 ... H_k`` with ``H_i = I - tau_i v_i v_i^H``, ``v_i``
    the i-th column of ``a`` (..., n, k) below the diagonal with an implicit 1 on it, as
    ``torch.linalg.householder_product``. Built from ember ops, so it differentiates."""
    n, k = a.shape[-2], a.shape[-1]
    xp = xp_of(a._data)
    rows = xp.arange(n)
    q = eye(n, dtype=a.dtype, device=a.device).expand(tuple(a.shape[:-2]) + (n, n))
    for i in range(tau.shape[-1]):
        below = Tensor._make((rows > i).astype(a._data.dtype))
        unit = Tensor._make((rows == i).astype(a._data.dtype))
        v = a[..., :, i] * below + unit  # (..., n)
        qv = q.matmul(v.unsqueeze(-1))  # (..., n, 1)
        q = q - (tau[..., i].unsqueeze(-1).unsqueeze(-1) * qv).matmul(v.conj().unsqueeze(-2))
    return q[..., :, :k]


def _geqrf(a: Tensor):
    """LAPACK's ``geqrf`` (Householder QR in compact form) on arrays, no gradient:
    (R above the diagonal with the reflectors below it, tau)."""
    xp = xp_of(a._data)
    arr = a._data.astype(np.float64)
    batch = arr.shape[:-2]
    m, n = arr.shape[-2:]
    flat = arr.reshape((-1, m, n)).copy()
    k = min(m, n)
    taus = xp.zeros((flat.shape[0], k), dtype=flat.dtype)
    for b in range(flat.shape[0]):
        r = flat[b]
        for j in range(k):
            alpha = r[j, j]
            xnorm = float(xp.linalg.norm(r[j + 1:, j])) if j + 1 < m else 0.0
            if xnorm == 0.0:
                continue
            beta = -float(np.copysign(np.hypot(float(alpha), xnorm), float(alpha)))
            tau = (beta - alpha) / beta
            r[j + 1:, j] = r[j + 1:, j] / (alpha - beta)
            r[j, j] = beta
            if j + 1 < n:
                v = xp.concatenate([xp.ones(1, dtype=r.dtype), r[j + 1:, j]])
                block = r[j:, j + 1:]
                r[j:, j + 1:] = block - tau * xp.outer(v, v @ block)
            taus[b, j] = tau
    dt = a._data.dtype
    return (Tensor._make(flat.reshape(batch + (m, n)).astype(dt)),
            Tensor._make(taus.reshape(batch + (k,)).astype(dt)))


def _is_orthogonal(q: Tensor) -> bool:
    n, k = q.shape[-2], q.shape[-1]
    ident = eye(k, dtype=q.dtype, device=q.device)
    eps = 10.0 * n * float(np.finfo(q._data.dtype).eps)
    return bool(q.mH.matmul(q).allclose(ident.expand_as(q.mH.matmul(q)), atol=eps))


def _make_orthogonal(a: Tensor) -> Tensor:
    """The Q of ``a = QR`` (``a`` tall) with diag(R) non-negative."""
    from ... import linalg

    q, r = linalg.qr(a)
    return q * r.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


class _Orthogonal(Module):
    base: Tensor

    def __init__(self, weight: Tensor, orthogonal_map: _OrthMaps, *,
                 use_trivialization: bool = True) -> None:
        super().__init__()
        if weight.is_complex() and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex "
                             "tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        from ... import linalg
        from ...ops.shape import cat

        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:
                pad = X.new_zeros((n, n - k)).expand(tuple(X.shape[:-2]) + (n, n - k))
                X = cat([X, pad], dim=-1)
            A = X - X.mH
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = linalg.matrix_exp(A)
            else:
                ident = eye(n, dtype=A.dtype, device=A.device)
                Q = linalg.solve(ident - A * 0.5, ident + A * 0.5)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            sign = X.diagonal(dim1=-2, dim2=-1).detach().int().to(Q.dtype)
            Q = Q * sign.unsqueeze(-2)
        if "base" in self._buffers:
            Q = self.base.matmul(Q)
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        with no_grad():
            if tuple(Q.shape) != tuple(self.shape):
                raise ValueError(f"Expected a matrix or batch of matrices of shape "
                                 f"{self.shape}. Got a tensor of shape {Q.shape}.")
            Q_init = Q
            n, k = Q.shape[-2], Q.shape[-1]
            transpose = n < k
            if transpose:
                Q = Q.mT
                n, k = k, n
            if "base" not in self._buffers:
                if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                    raise NotImplementedError("It is not possible to assign to the matrix "
                                              "exponential or the Cayley parametrizations "
                                              "when use_trivialization=False.")
                A, tau = _geqrf(Q)
                xp = xp_of(A._data)
                arr = A._data
                idx = xp.arange(k)
                diag = xp.sign(arr[..., idx, idx])
                diag = xp.where(tau._data == 0.0, -diag, diag)
                arr[..., idx, idx] = diag
                return A.mT if transpose else A
            if n == k:
                if not _is_orthogonal(Q):
                    Q = _make_orthogonal(Q)
                else:
                    Q = Q.clone()
            else:
                from ...ops.shape import cat

                N = randn(tuple(Q.shape[:-2]) + (n, n - k), dtype=Q.dtype, device=Q.device)
                Q = _make_orthogonal(cat([Q, N], dim=-1))
            self.base = Q
            neg_id = zeros_like(Q_init)
            neg_id.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
            return neg_id


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Parametrizes ``module.<name>`` (a matrix or batch of matrices) as an orthogonal
    (unitary) matrix, through ``matrix_exp``, ``cayley`` or ``householder`` (default:
    ``matrix_exp`` for square or complex matrices, else ``householder``). With
    ``use_trivialization`` the map is applied around a base point stored in the buffer
    ``base``."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] or \
            weight.is_complex() else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


# -- weight norm -------------------------------------------------------------------------
class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        if dim is None:
            dim = -1
        self.dim = dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor):
        weight_g = norm_except_dim(weight, 2, self.dim)
        weight_v = weight
        return weight_g, weight_v


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Parametrizes ``module.<name>`` as ``g * v / ||v||`` (norm over every dim but
    ``dim``; ``None``: the whole tensor): ``parametrizations.<name>.original0`` is g,
    ``original1`` is v. Loading a legacy state dict (``<name>_g``, ``<name>_v``) converts
    the keys."""
    _weight_norm_p = _WeightNorm(dim)
    parametrize.register_parametrization(module, name, _weight_norm_p, unsafe=True)

    def _weight_norm_compat_hook(state_dict, prefix, local_metadata, strict, missing_keys,
                                 unexpected_keys, error_msgs) -> None:
        g_key = f"{prefix}{name}_g"
        v_key = f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            original0 = state_dict.pop(g_key)
            original1 = state_dict.pop(v_key)
            state_dict[f"{prefix}parametrizations.{name}.original0"] = original0
            state_dict[f"{prefix}parametrizations.{name}.original1"] = original1

    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


# -- spectral norm -----------------------------------------------------------------------
class _SpectralNorm(Module):
    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            u = empty(h, dtype=weight.dtype, device=weight.device).normal_(0, 1)
            v = empty(w, dtype=weight.dtype, device=weight.device).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if weight.ndim <= 1:
            raise AssertionError("expected a weight of at least 2 dims")
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        with no_grad():
            for _ in range(n_power_iterations):
                F.normalize(weight_mat.mv(self._v), dim=0, eps=self.eps, out=self._u)
                F.normalize(weight_mat.mH.mv(self._u), dim=0, eps=self.eps, out=self._v)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u = self._u.clone()
        v = self._v.clone()
        sigma = u.vdot(weight_mat.mv(v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Parametrizes ``module.<name>`` as ``W / sigma(W)``, sigma estimated by power
    iteration on the buffers ``parametrizations.<name>.0._u``/``_v`` (15 steps at
    registration, ``n_power_iterations`` per training forward). ``dim`` defaults to 1 for
    transposed convolutions, else 0."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) \
            else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
