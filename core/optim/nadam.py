"""NAdam (Adam with Nesterov momentum), as ``torch.optim.NAdam``."""

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

__all__ = ["NAdam", "nadam"]


class NAdam(Optimizer):
    r"""Implements NAdam (Dozat, 2016), with the momentum-decay schedule of the paper.

    For learning rate :math:`\gamma`, betas :math:`(\beta_1, \beta_2)`, weight decay
    :math:`\lambda`, momentum decay :math:`\psi` and epsilon :math:`\epsilon`::

        m = 0, v = 0, mu_prod = 1
        for t = 1, 2, ...:
            g = -grad f(theta) if maximize else grad f(theta)
            if lambda != 0:
                if decoupled_weight_decay:  theta = theta * (1 - gamma * lambda)
                else:                       g = g + lambda * theta
            mu_t = beta1 * (1 - 0.5 * 0.96^(t * psi))
            mu_next = beta1 * (1 - 0.5 * 0.96^((t + 1) * psi))
            mu_prod = mu_prod * mu_t
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g^2
            denom = sqrt(v / (1 - beta2^t)) + eps
            theta = theta - gamma * (1 - mu_t) / (1 - mu_prod) * g / denom
                          - gamma * mu_next / (1 - mu_prod * mu_next) * m / denom

    State per parameter: ``step``, ``mu_product`` (a 0-dim tensor, as ``step``),
    ``exp_avg`` (m) and ``exp_avg_sq`` (v).

    Args:
        params (iterable): parameters, ``(name, parameter)`` pairs, or parameter groups.
        lr (float, Tensor, optional): learning rate (default: 2e-3).
        betas (Tuple[float, float], optional): running-average coefficients
            (default: (0.9, 0.999)).
        eps (float, optional): added to the denominator for stability (default: 1e-8).
        weight_decay (float, optional): weight decay (default: 0).
        momentum_decay (float, optional): the momentum decay psi (default: 4e-3).
        decoupled_weight_decay (bool, optional): decay the weights directly, as in NAdamW
            (default: False).
        maximize (bool, optional): maximize the objective (default: False).
        foreach, capturable (bool, optional): accepted and ignored (same math).
        differentiable (bool, optional): must be False (not supported).
    """

    def __init__(self, params, lr: float | Tensor = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        _check_flags(differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (("maximize", False), ("foreach", None), ("capturable", False),
                               ("differentiable", False), ("decoupled_weight_decay", False)):
                group.setdefault(key, value)
            for p in group["params"]:
                st = self.state.get(p, {})
                if st:
                    if not isinstance(st["step"], Tensor):
                        st["step"] = _step_tensor(float(st["step"]))
                    if not isinstance(st["mu_product"], Tensor):
                        st["mu_product"] = _step_tensor(float(st["mu_product"]))

    def step(self, closure=None):
        """Performs one optimization step; ``closure`` (optional) re-evaluates the loss."""
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                params, grads, exp_avgs, exp_avg_sqs, mu_products, steps = ([] for _ in
                                                                             range(6))
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    _check_dense(p, "NAdam")
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = _step_tensor()
                        state["mu_product"] = _step_tensor(1.0)
                        state["exp_avg"] = zeros_like(p)
                        state["exp_avg_sq"] = zeros_like(p)
                    params.append(p)
                    grads.append(p.grad)
                    exp_avgs.append(state["exp_avg"])
                    exp_avg_sqs.append(state["exp_avg_sq"])
                    mu_products.append(state["mu_product"])
                    steps.append(state["step"])
                beta1, beta2 = group["betas"]
                nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, steps, beta1=beta1,
                      beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
                      momentum_decay=group["momentum_decay"], eps=group["eps"],
                      decoupled_weight_decay=group["decoupled_weight_decay"],
                      maximize=group["maximize"])
        return loss


def nadam(params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor],
          exp_avg_sqs: list[Tensor], mu_products: list[Tensor], state_steps: list[Tensor],
          decoupled_weight_decay: bool = False, foreach: bool | None = None,
          capturable: bool = False, differentiable: bool = False, has_complex: bool = False,
          maximize: bool = False, *, beta1: float, beta2: float, lr: float,
          weight_decay: float, momentum_decay: float, eps: float) -> None:
    """The NAdam update (see ``NAdam``), in place on ``params`` and the state."""
    lr = _scalar(lr)
    for i, param in enumerate(params):
        grad = grads[i].neg() if maximize else grads[i]
        mu_product, step_t = mu_products[i], state_steps[i]
        step_t += 1
        step = step_t.item()
        bias_correction2 = 1 - beta2 ** step
        if weight_decay != 0:
            if decoupled_weight_decay:
                param.mul_(1 - lr * weight_decay)
            else:
                grad = grad.add(param, alpha=weight_decay)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product.mul_(mu)  # kept as a tensor of the scalar dtype, as in PyTorch
        mu_prod = mu_product.item()

        param, grad = _view_as_real(param), _view_as_real(grad)
        exp_avg, exp_avg_sq = _view_as_real(exp_avgs[i]), _view_as_real(exp_avg_sqs[i])
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = exp_avg_sq.div(bias_correction2).sqrt_().add_(eps)
        param.addcdiv_(grad, denom, value=-lr * (1.0 - mu) / (1.0 - mu_prod))
        param.addcdiv_(exp_avg, denom, value=-lr * mu_next / (1.0 - mu_prod * mu_next))
