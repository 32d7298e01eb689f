"""Adadelta, as ``torch.optim.Adadelta``."""

from __future__ import annotations

from .._creation import zeros_like
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .optimizer import (
    Optimizer,
    _check_dense,
    _check_flags,
    _check_lr,
    _closure_loss,
    _scalar,
    _step_tensor,
    _view_as_real,
)

__all__ = ["Adadelta", "adadelta"]


class Adadelta(Optimizer):
    r"""Implements Adadelta (Zeiler, 2012).

    For learning rate :math:`\gamma`, decay :math:`\rho`, weight decay :math:`\lambda`
    and epsilon :math:`\epsilon`::

        v = 0, u = 0
        for t = 1, 2, ...:
            g = -grad f(theta) if maximize else grad f(theta)
            if lambda != 0:  g = g + lambda * theta
            v = rho * v + (1 - rho) * g^2
            dx = sqrt(u + eps) / sqrt(v + eps) * g
            u = rho * u + (1 - rho) * dx^2
            theta = theta - gamma * dx

    State per parameter: ``step``, ``square_avg`` (v) and ``acc_delta`` (u).

    Args:
        params (iterable): parameters, ``(name, parameter)`` pairs, or parameter groups.
        lr (float, Tensor, optional): coefficient that scales delta before it is applied
            to the parameters (default: 1.0).
        rho (float, optional): coefficient of the running averages (default: 0.9).
        eps (float, optional): added to the denominator for stability (default: 1e-6).
        weight_decay (float, optional): L2 penalty (default: 0).
        maximize (bool, optional): maximize the objective (default: False).
        foreach, capturable (bool, optional): accepted and ignored (same math).
        differentiable (bool, optional): must be False (not supported).
    """

    def __init__(self, params, lr: float | Tensor = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_flags(differentiable)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        self._upgrade_state((
            ("foreach", None),
            ("maximize", False),
            ("differentiable", False),
            ("capturable", False),
        ))

    def step(self, closure=None):
        """Performs one optimization step; ``closure`` (optional) re-evaluates the loss."""
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                params, grads, square_avgs, acc_deltas, steps = [], [], [], [], []
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    _check_dense(p, "Adadelta")
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = _step_tensor()
                        state["square_avg"] = zeros_like(p)
                        state["acc_delta"] = zeros_like(p)
                    params.append(p)
                    grads.append(p.grad)
                    square_avgs.append(state["square_avg"])
                    acc_deltas.append(state["acc_delta"])
                    steps.append(state["step"])
                adadelta(params, grads, square_avgs, acc_deltas, steps, lr=group["lr"],
                         rho=group["rho"], eps=group["eps"],
                         weight_decay=group["weight_decay"], maximize=group["maximize"])
        return loss


def adadelta(params: list[Tensor], grads: list[Tensor], square_avgs: list[Tensor],
             acc_deltas: list[Tensor], state_steps: list[Tensor], capturable: bool = False,
             foreach: bool | None = None, differentiable: bool = False,
             has_complex: bool = False, *, lr: float, rho: float, eps: float,
             weight_decay: float, maximize: bool) -> None:
    """The Adadelta update (see ``Adadelta``), in place on ``params`` and the state."""
    lr = _scalar(lr)
    for param, grad, square_avg, acc_delta, step in zip(params, grads, square_avgs,
                                                        acc_deltas, state_steps):
        step += 1
        grad = grad.neg() if maximize else grad
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        square_avg, acc_delta = _view_as_real(square_avg), _view_as_real(acc_delta)
        real_grad = _view_as_real(grad)
        square_avg.mul_(rho).addcmul_(real_grad, real_grad, value=1 - rho)
        std = square_avg.add(eps).sqrt_()
        delta = acc_delta.add(eps).sqrt_()
        delta.div_(std).mul_(real_grad)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        _view_as_real(param).add_(delta, alpha=-lr)
