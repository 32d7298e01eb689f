"""Helpers of ``ember.distributions``: broadcasting parameters, probs/logits conversion,
``lazy_property`` and shape utilities, as ``torch.distributions.utils``."""

from __future__ import annotations

from functools import update_wrapper
from numbers import Number

import numpy as np

from .. import _dtype
from .._tensor import Tensor

__all__ = ["broadcast_all", "logits_to_probs", "clamp_probs", "probs_to_logits",
           "lazy_property", "tril_matrix_to_vec", "vec_to_tril_matrix", "euler_constant"]

euler_constant = 0.57721566490153286060  # Euler Mascheroni Constant


def broadcast_all(*values):
    """Broadcasts tensors and numbers together; numbers become tensors of the first
    tensor's dtype and device (or of the default dtype)."""
    from .._creation import tensor
    from ..ops.shape import broadcast_tensors

    if not all(isinstance(v, (Tensor, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    if not all(isinstance(v, Tensor) for v in values):
        options = {"dtype": _dtype.get_default_dtype()}
        for value in values:
            if isinstance(value, Tensor):
                options = {"dtype": value.dtype, "device": value.device}
                break
        values = [v if isinstance(v, Tensor) else tensor(v, **options) for v in values]
    return broadcast_tensors(*values)


def set_probs_or_logits(dist, probs, logits, total_count=None) -> tuple:
    """Sets ``dist.probs`` or ``dist.logits`` (exactly one must be given), broadcast with
    ``total_count`` when the distribution has one (stored as ``dist.total_count`` in the
    parameter's dtype), and ``dist._param``; returns the batch shape (empty for a Python
    number without a count)."""
    from .._tensor import Size

    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    name, value = ("probs", probs) if probs is not None else ("logits", logits)
    if total_count is not None:
        count, param = broadcast_all(total_count, value)
        dist.total_count = count.type_as(param)
    else:
        (param,) = broadcast_all(value)
    setattr(dist, name, param)
    dist._param = param
    if total_count is None and isinstance(value, Number):
        return Size()
    return param.shape


def expand_probs_or_logits(src, new, batch_shape) -> None:
    """Copies to ``new`` whichever of ``src.probs`` / ``src.logits`` is set, expanded to
    ``batch_shape`` (and ``total_count`` when ``src`` has one)."""
    if "total_count" in src.__dict__:
        new.total_count = src.total_count.expand(batch_shape)
    if "probs" in src.__dict__:
        new.probs = src.probs.expand(batch_shape)
        new._param = new.probs
    if "logits" in src.__dict__:
        new.logits = src.logits.expand(batch_shape)
        new._param = new.logits


def _standard_normal(shape, dtype, device) -> Tensor:
    from .._creation import randn

    return randn(tuple(shape), dtype=dtype, device=device)


def _sum_rightmost(value, dim: int):
    """Sums the ``dim`` rightmost dims of ``value``."""
    if dim == 0:
        return value
    required_shape = tuple(value.shape[:-dim]) + (-1,)
    return value.reshape(required_shape).sum(-1)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities from logits: sigmoid (binary) or softmax over the last dim."""
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """Clamps probabilities into [eps, 1 - eps] of their dtype."""
    eps = float(np.finfo(probs._data.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Logits from probabilities (clamped away from 0 and 1)."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return ps_clamped.log() - (-ps_clamped).log1p()
    return ps_clamped.log()


class lazy_property:
    """A property computed once per instance (with gradients enabled), then stored on it."""

    def __init__(self, wrapped) -> None:
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        from ..autograd.grad_mode import enable_grad

        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """A ``lazy_property`` that class-level introspection sees as a ``property``."""

    def __init__(self, wrapped) -> None:
        property.__init__(self, wrapped)


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The lower triangle (below diagonal ``diag``) of ``mat`` as a vector, row-major."""
    n = mat.shape[-1]
    if not isinstance(n, int) or n < -diag:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    rows, cols = np.tril_indices(n, diag)
    return mat[..., rows.tolist(), cols.tolist()]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """The inverse of ``tril_matrix_to_vec``."""
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) *
                             (diag + 1)) ** 0.5) / 2
    eps = float(np.finfo(vec._data.dtype).eps)
    if round(n) - n > eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be "
                         "expressed as the lower triangular part of a square D x D matrix.")
    n = round(n)
    rows, cols = np.tril_indices(n, diag)
    out = vec.new_zeros(tuple(vec.shape[:-1]) + (n, n))
    return _scatter_tril(out, vec, rows, cols)


def _scatter_tril(out: Tensor, vec: Tensor, rows, cols) -> Tensor:
    n = out.shape[-1]
    flat_idx = (rows * n + cols).tolist()
    flat = out.reshape(tuple(out.shape[:-2]) + (n * n,))
    from .._creation import tensor

    idx = tensor(flat_idx, device=vec.device).expand(tuple(vec.shape))
    return flat.scatter(-1, idx, vec).reshape(tuple(out.shape))
