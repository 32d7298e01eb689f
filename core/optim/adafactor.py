"""``torch.optim.Adafactor``: Adam-like steps with a low-rank (row x column) estimate of
the second moment for matrices, after Shazeer & Stern (2018)."""

from __future__ import annotations

import math

from .. import _dtype
from .._creation import zeros, zeros_like
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .optimizer import (
    Optimizer,
    _check_dense,
    _closure_loss,
    _scalar,
    _step_tensor,
)

__all__ = ["Adafactor", "adafactor"]


def _rms(t: Tensor) -> float:
    """Root mean square of all entries, as a Python float."""
    return t.norm(2).item() / math.sqrt(t.numel())


class Adafactor(Optimizer):
    r"""Adafactor optimizer with PyTorch's update rule.

    On step ``t`` (gradient ``g``, negated when maximizing) the second-moment decay is
    ``beta2_t = 1 - t ** beta2_decay`` and the step size is
    ``max(eps2, rms(theta)) * min(lr, t ** -0.5)``. Weight decay, when set, first scales
    ``theta`` by ``1 - lr * weight_decay``. For a tensor with at least two dimensions the
    second moment is kept as a row statistic (mean of ``g**2`` over the last dim) and a
    column statistic (mean over the second-to-last dim), both exponential averages with
    factor ``beta2_t``; their outer product divided by the mean row statistic (floored at
    ``eps1``) estimates it. Other tensors keep the full average of ``g**2``. The update
    ``g / sqrt(max(v, eps1**2))`` is then shrunk so its RMS does not exceed ``d``.

    Per-parameter state: ``step``, plus ``row_var`` and ``col_var`` (the parameter's shape
    with the last, respectively second-to-last, dim set to 1) for matrices or ``variance``
    otherwise.

    Args:
        params (iterable): parameters, ``(name, parameter)`` pairs or parameter groups.
        lr (float, Tensor, optional): base learning rate, which also caps the relative
            step (default: 1e-2).
        beta2_decay (float, optional): non-positive exponent of the decay schedule
            (default: -0.8).
        eps (Tuple[float | None, float], optional): ``(eps1, eps2)``: the floor for the
            second-moment estimate (None picks the dtype's machine epsilon) and the floor
            for the parameter RMS (default: (None, 1e-3)).
        d (float, optional): bound on the RMS of an update (default: 1.0).
        weight_decay (float, optional): decoupled weight decay (default: 0.0).
        foreach (bool, optional): ignored; kept for signature compatibility.
        maximize (bool, optional): ascend instead of descend (default: False).
    """

    def __init__(self, params, lr: float | Tensor = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        eps1, eps2 = eps
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        checks = [
            (lr >= 0.0, f"Learning rate should be >= 0 but is: {lr}"),
            (beta2_decay <= 0.0, f"beta2_decay should be <= 0 but is: {beta2_decay}"),
            (eps1 is None or eps1 >= 0.0, f"epsilon1 should be >= 0 but is: {eps1}"),
            (eps2 >= 0.0, f"epsilon2 should be >= 0 but is: {eps2}"),
            (d >= 1.0, f"Clipping threshold d should be >= 1 but is: {d}"),
            (weight_decay >= 0.0, f"weight_decay should be >= 0 but is: {weight_decay}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize))

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        self._upgrade_state((("foreach", None),))

    def _state_for(self, p: Tensor) -> dict:
        """The state of ``p``, created on first use."""
        st = self.state[p]
        if not st:
            g = p.grad
            st["step"] = _step_tensor()
            if g.dim() >= 2:
                *lead, rows, cols = g.shape
                st["row_var"] = zeros([*lead, rows, 1], dtype=g.dtype, device=g.device)
                st["col_var"] = zeros([*lead, 1, cols], dtype=g.dtype, device=g.device)
            else:
                st["variance"] = zeros_like(g)
        return st

    def step(self, closure=None):
        """Takes one step; ``closure``, if given, recomputes and returns the loss."""
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                active = [p for p in group["params"] if p.grad is not None]
                for p in active:
                    if p.is_complex():
                        raise RuntimeError("Adafactor does not support complex parameters")
                    _check_dense(p, "Adafactor")
                states = [self._state_for(p) for p in active]
                eps1, eps2 = group["eps"]
                adafactor(active, [p.grad for p in active],
                          [s.get("row_var") for s in states],
                          [s.get("col_var") for s in states],
                          [s.get("variance") for s in states],
                          [s["step"] for s in states],
                          d=group["d"], lr=group["lr"], beta2_decay=group["beta2_decay"],
                          weight_decay=group["weight_decay"], eps1=eps1, eps2=eps2,
                          maximize=group["maximize"])
        return loss


def _second_moment(g: Tensor, row: Tensor | None, col: Tensor | None, full: Tensor | None,
                   weight: float, floor: float) -> Tensor:
    """Updates the running statistics with ``g`` and returns a fresh moment estimate."""
    sq = g * g
    if full is not None:
        full.lerp_(sq, weight)
        return full.clone()
    row.lerp_(sq.mean(dim=-1, keepdim=True), weight)
    col.lerp_(sq.mean(dim=-2, keepdim=True), weight)
    scale = row.mean(dim=-2, keepdim=True).clamp_(min=floor)
    return (row @ col).div_(scale)


def adafactor(params: list[Tensor], grads: list[Tensor], row_vars: list[Tensor | None],
              col_vars: list[Tensor | None], variances: list[Tensor | None],
              state_steps: list[Tensor], foreach: bool | None = None, grad_scale=None,
              found_inf=None, has_complex: bool = False, *, d: float, lr: float | Tensor,
              beta2_decay: float, weight_decay: float, eps1: float | None, eps2: float,
              maximize: bool) -> None:
    """Functional Adafactor (see the class); modifies ``params`` and the state in place."""
    if grad_scale is not None or found_inf is not None:
        raise AssertionError("Grad scaling should occur outside of optimizer.step()")
    rate = _scalar(lr)
    if eps1 is None and params:  # one epsilon for the group, from its first parameter
        eps1 = _dtype.finfo(params[0].dtype).eps
    for theta, g, row, col, full, counter in zip(params, grads, row_vars, col_vars,
                                                 variances, state_steps):
        if maximize:
            g = g.neg()
        counter += 1
        t = counter.item()
        step_size = max(eps2, _rms(theta)) * min(rate, t ** -0.5)
        if weight_decay:
            theta.mul_(1 - rate * weight_decay)
        v = _second_moment(g, row, col, full, t ** beta2_decay, eps1)
        u = v.clamp_(min=eps1 ** 2).rsqrt_().mul_(g)
        shrink = max(1.0, _rms(u) / d)
        theta.add_(u, alpha=-step_size / shrink)
