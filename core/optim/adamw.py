"""AdamW: Adam with decoupled weight decay, as ``torch.optim.AdamW``."""

from __future__ import annotations

from .._tensor import Tensor
from .adam import Adam, adam

__all__ = ["AdamW", "adamw"]


class AdamW(Adam):
    r"""Implements AdamW (Loshchilov & Hutter, 2019): Adam whose weight decay shrinks the
    weights directly instead of entering the moment estimates.

    For learning rate :math:`\gamma`, betas :math:`(\beta_1, \beta_2)`, weight decay
    :math:`\lambda` and epsilon :math:`\epsilon`::

        m = 0, v = 0, v_max = 0
        for t = 1, 2, ...:
            g = -grad f(theta) if maximize else grad f(theta)
            theta = theta - gamma * lambda * theta
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g^2
            m_hat = m / (1 - beta1^t)
            if amsgrad:  v_max = max(v_max, v);  v_hat = v_max / (1 - beta2^t)
            else:        v_hat = v / (1 - beta2^t)
            theta = theta - gamma * m_hat / (sqrt(v_hat) + eps)

    This is ``Adam(..., decoupled_weight_decay=True)`` with weight decay 1e-2 by default; the
    state (``step``, ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``) and the parameter
    groups are Adam's, as in PyTorch.

    Args:
        params (iterable): parameters, ``(name, parameter)`` pairs, or parameter groups.
        lr (float, Tensor, optional): learning rate (default: 1e-3).
        betas (Tuple[float, float], optional): running-average coefficients
            (default: (0.9, 0.999)).
        eps (float, optional): added to the denominator for stability (default: 1e-8).
        weight_decay (float, optional): weight decay coefficient (default: 1e-2).
        amsgrad (bool, optional): use AMSGrad (default: False).
        maximize (bool, optional): maximize the objective (default: False).
        foreach, fused, capturable (bool, optional): accepted and ignored (same math).
        differentiable (bool, optional): must be False (not supported).
    """

    def __init__(self, params, lr: float | Tensor = 1e-3,
                 betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True


def adamw(params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor],
          exp_avg_sqs: list[Tensor], max_exp_avg_sqs: list[Tensor], state_steps: list[Tensor],
          foreach: bool | None = None, capturable: bool = False, differentiable: bool = False,
          fused: bool | None = None, grad_scale=None, found_inf=None, has_complex: bool = False,
          *, amsgrad: bool, beta1: float, beta2: float, lr: float, weight_decay: float,
          eps: float, maximize: bool) -> None:
    """The AdamW update: ``adam`` with decoupled weight decay."""
    adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, foreach,
         capturable, differentiable, fused, grad_scale, found_inf, has_complex, True,
         amsgrad=amsgrad, beta1=beta1, beta2=beta2, lr=lr, weight_decay=weight_decay, eps=eps,
         maximize=maximize)
