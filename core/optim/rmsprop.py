"""RMSprop, as ``torch.optim.RMSprop``."""

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

__all__ = ["RMSprop", "rmsprop"]


class RMSprop(Optimizer):
    r"""Implements RMSprop (Hinton), optionally centered (Graves, 2013) and with momentum.

    For learning rate :math:`\gamma`, smoothing constant :math:`\alpha`, momentum
    :math:`\mu` and weight decay :math:`\lambda`::

        v = 0, g_ave = 0, b = 0
        for t = 1, 2, ...:
            g = -grad f(theta) if maximize else grad f(theta)
            if lambda != 0:  g = g + lambda * theta
            v = alpha * v + (1 - alpha) * g^2
            v_tilde = v
            if centered:
                g_ave = alpha * g_ave + (1 - alpha) * g
                v_tilde = v - g_ave^2
            if mu > 0:
                b = mu * b + g / (sqrt(v_tilde) + eps)
                theta = theta - gamma * b
            else:
                theta = theta - gamma * g / (sqrt(v_tilde) + eps)

    State per parameter: ``step``, ``square_avg`` (v), ``momentum_buffer`` (b, when
    ``momentum > 0``) and ``grad_avg`` (g_ave, when ``centered``).

    Args:
        params (iterable): parameters, ``(name, parameter)`` pairs, or parameter groups.
        lr (float, Tensor, optional): learning rate (default: 1e-2).
        alpha (float, optional): smoothing constant (default: 0.99).
        eps (float, optional): added to the denominator for stability (default: 1e-8).
        weight_decay (float, optional): L2 penalty (default: 0).
        momentum (float, optional): momentum factor (default: 0).
        centered (bool, optional): normalize by an estimate of the gradient's variance
            (default: False).
        maximize (bool, optional): maximize the objective (default: False).
        capturable, foreach (bool, optional): accepted and ignored (same math).
        differentiable (bool, optional): must be False (not supported).
    """

    def __init__(self, params, lr: float | Tensor = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        _check_flags(differentiable)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay,
                    "capturable": capturable, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        self._upgrade_state((
            ("centered", False),
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
                params, grads, square_avgs, grad_avgs, bufs, steps = [], [], [], [], [], []
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    _check_dense(p, "RMSprop")
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = _step_tensor()
                        state["square_avg"] = zeros_like(p)
                        if group["momentum"] > 0:
                            state["momentum_buffer"] = zeros_like(p)
                        if group["centered"]:
                            state["grad_avg"] = zeros_like(p)
                    params.append(p)
                    grads.append(p.grad)
                    square_avgs.append(state["square_avg"])
                    steps.append(state["step"])
                    if group["momentum"] > 0:
                        bufs.append(state["momentum_buffer"])
                    if group["centered"]:
                        grad_avgs.append(state["grad_avg"])
                rmsprop(params, grads, square_avgs, grad_avgs, bufs, steps, lr=group["lr"],
                        alpha=group["alpha"], eps=group["eps"],
                        weight_decay=group["weight_decay"], momentum=group["momentum"],
                        centered=group["centered"], maximize=group["maximize"])
        return loss


def rmsprop(params: list[Tensor], grads: list[Tensor], square_avgs: list[Tensor],
            grad_avgs: list[Tensor], momentum_buffer_list: list[Tensor],
            state_steps: list[Tensor], foreach: bool | None = None, maximize: bool = False,
            differentiable: bool = False, capturable: bool = False, has_complex: bool = False,
            *, lr: float, alpha: float, eps: float, weight_decay: float, momentum: float,
            centered: bool) -> None:
    """The RMSprop update (see ``RMSprop``), in place on ``params`` and the state."""
    lr = _scalar(lr)
    for i, param in enumerate(params):
        grad = grads[i].neg() if maximize else grads[i]
        state_steps[i] += 1
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        param, grad = _view_as_real(param), _view_as_real(grad)
        square_avg = _view_as_real(square_avgs[i])
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if centered:
            grad_avg = _view_as_real(grad_avgs[i])
            grad_avg.lerp_(grad, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg = avg.add_(eps)
        if momentum > 0:
            buf = _view_as_real(momentum_buffer_list[i])
            buf.mul_(momentum).addcdiv_(grad, avg)
            param.add_(buf, alpha=-lr)
        else:
            param.addcdiv_(grad, avg, value=-lr)
