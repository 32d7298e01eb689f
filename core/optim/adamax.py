"""Adamax (Adam over the infinity norm), as ``torch.optim.Adamax``."""

from __future__ import annotations

from .._creation import zeros_like
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .adam import _check_betas
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

__all__ = ["Adamax", "adamax"]


class Adamax(Optimizer):
    r"""Implements Adamax, the infinity-norm variant of Adam (Kingma & Ba, 2014).

    For learning rate :math:`\gamma`, betas :math:`(\beta_1, \beta_2)`, weight decay
    :math:`\lambda` and epsilon :math:`\epsilon`::

        m = 0, u = 0
        for t = 1, 2, ...:
            g = -grad f(theta) if maximize else grad f(theta)
            if lambda != 0:  g = g + lambda * theta
            m = beta1 * m + (1 - beta1) * g
            u = max(beta2 * u, |g| + eps)
            theta = theta - gamma * m / ((1 - beta1^t) * u)

    State per parameter: ``step``, ``exp_avg`` (m) and ``exp_inf`` (u).

    Args:
        params (iterable): parameters, ``(name, parameter)`` pairs, or parameter groups.
        lr (float, Tensor, optional): learning rate (default: 2e-3).
        betas (Tuple[float, float], optional): coefficients of the running average of the
            gradient and of the decaying infinity norm (default: (0.9, 0.999)).
        eps (float, optional): added to the denominator for stability (default: 1e-8).
        weight_decay (float, optional): L2 penalty (default: 0).
        maximize (bool, optional): maximize the objective (default: False).
        foreach, capturable (bool, optional): accepted and ignored (same math).
        differentiable (bool, optional): must be False (not supported).
    """

    def __init__(self, params, lr: float | Tensor = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_flags(differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
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
                params, grads, exp_avgs, exp_infs, steps = [], [], [], [], []
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    _check_dense(p, "Adamax")
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = _step_tensor()
                        state["exp_avg"] = zeros_like(p)
                        state["exp_inf"] = zeros_like(p)
                    params.append(p)
                    grads.append(p.grad)
                    exp_avgs.append(state["exp_avg"])
                    exp_infs.append(state["exp_inf"])
                    steps.append(state["step"])
                beta1, beta2 = group["betas"]
                adamax(params, grads, exp_avgs, exp_infs, steps, eps=group["eps"],
                       beta1=beta1, beta2=beta2, lr=group["lr"],
                       weight_decay=group["weight_decay"], maximize=group["maximize"])
        return loss


def adamax(params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor],
           exp_infs: list[Tensor], state_steps: list[Tensor], foreach: bool | None = None,
           maximize: bool = False, differentiable: bool = False, capturable: bool = False,
           has_complex: bool = False, *, eps: float, beta1: float, beta2: float, lr: float,
           weight_decay: float) -> None:
    """The Adamax update (see ``Adamax``), in place on ``params`` and the state."""
    lr, beta1, beta2 = _scalar(lr), _scalar(beta1), _scalar(beta2)
    for i, param in enumerate(params):
        grad = grads[i].neg() if maximize else grads[i]
        step_t = state_steps[i]
        step_t += 1
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        param, grad = _view_as_real(param), _view_as_real(grad)
        exp_avg, exp_inf = _view_as_real(exp_avgs[i]), _view_as_real(exp_infs[i])
        exp_avg.lerp_(grad, 1 - beta1)
        exp_inf.mul_(beta2).maximum_(grad.abs().add_(eps))
        clr = lr / (1 - beta1 ** step_t.item())
        param.addcdiv_(exp_avg, exp_inf, value=-clr)
