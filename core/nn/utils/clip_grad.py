"""Gradient clipping: ``clip_grad_norm_``, ``clip_grad_value_``, ``get_total_norm``,
``clip_grads_with_norm_`` (as ``torch.nn.utils.clip_grad``)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _tensors(parameters) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def _grads(parameters) -> list:
    return [p.grad for p in _tensors(parameters) if p.grad is not None]


def _no_sparse(tensors, op: str) -> None:
    """PyTorch has no sparse kernel behind gradient clipping: a sparse COO gradient
    (``nn.Embedding(sparse=True)``) raises ``NotImplementedError`` there, and so here."""
    for t in tensors:
        if getattr(t, "is_sparse", False):
            backend = "SparseCUDA" if t.is_cuda else "SparseCPU"
            raise NotImplementedError(f"Could not run 'aten::{op}' with arguments from the "
                                      f"'{backend}' backend: gradient clipping does not "
                                      "support sparse gradients.")


def get_total_norm(tensors: Iterable[Tensor], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` together, as if concatenated."""
    tensors = _tensors(tensors)
    _no_sparse(tensors, "linalg_vector_norm")
    norm_type = float(norm_type)
    if not tensors:
        from ..._creation import tensor

        return tensor(0.0)
    with no_grad():
        if norm_type == math.inf:
            norms = [t.detach().abs().max() for t in tensors]
            total = norms[0] if len(norms) == 1 else _stack(norms).max()
        elif norm_type == -math.inf:
            norms = [t.detach().abs().min() for t in tensors]
            total = norms[0] if len(norms) == 1 else _stack(norms).min()
        else:
            norms = [_vnorm(t.detach(), norm_type) for t in tensors]
            total = _vnorm(_stack(norms), norm_type)
    if error_if_nonfinite and not bool(total.isfinite().item()):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    return total


def _stack(ts):
    from ...ops.shape import stack

    return stack([t.to(ts[0].device).reshape(()) for t in ts])


def _vnorm(t: Tensor, p: float) -> Tensor:
    a = t.abs()
    if p == 2.0:
        return (a * a).sum().sqrt()
    if p == 1.0:
        return a.sum()
    if p == 0.0:
        return (a != 0).sum().to(t.dtype)
    return a.pow(p).sum().pow(1.0 / p)


def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor,
                          foreach=None) -> None:
    """Scales the gradients of ``parameters`` by ``max_norm / (total_norm + 1e-6)`` when
    that is below 1."""
    grads = _grads(parameters)
    if not grads:
        return
    with no_grad():
        coef = float(max_norm) / (float(total_norm.item()) + 1e-6)
        coef = min(coef, 1.0)
        for g in grads:
            g.mul_(coef)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Clips the gradients of ``parameters`` in place so that their total ``norm_type``-norm
    is at most ``max_norm``; returns the total norm before clipping."""
    params = _tensors(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(params, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Deprecated alias of ``clip_grad_norm_``."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamps every gradient of ``parameters`` in place to ``[-clip_value, clip_value]``."""
    clip_value = float(clip_value)
    grads = _grads(parameters)
    _no_sparse(grads, "clamp_min_")
    with no_grad():
        for g in grads:
            g.clamp_(-clip_value, clip_value)
