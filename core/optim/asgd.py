"""Averaged stochastic gradient descent, as ``torch.optim.ASGD``."""

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

__all__ = ["ASGD", "asgd"]


class ASGD(Optimizer):
    r"""Implements averaged stochastic gradient descent (Polyak & Juditsky, 1992).

    For learning rate :math:`\gamma`, decay :math:`\lambda` (``lambd``), power
    :math:`\alpha`, averaging start :math:`t_0` and weight decay ``wd``::

        eta = gamma, mu = 1, ax = 0
        for t = 1, 2, ...:
            g = -grad f(theta) if maximize else grad f(theta)
            if wd != 0:  g = g + wd * theta
            theta = theta * (1 - lambda * eta) - eta * g
            ax = theta if mu == 1 else ax + mu * (theta - ax)
            eta = gamma / (1 + lambda * gamma * t) ** alpha
            mu = 1 / max(1, t - t0)

    State per parameter, with PyTorch's keys: ``step``, ``eta`` and ``mu`` (0-dim tensors of
    the scalar dtype, on the parameter's device) and ``ax`` (the running average of the
    parameter, the value to evaluate with).

    Args:
        params (iterable): parameters, ``(name, parameter)`` pairs, or parameter groups.
        lr (float, Tensor, optional): learning rate (default: 1e-2).
        lambd (float, optional): decay term (default: 1e-4).
        alpha (float, optional): power for the eta update (default: 0.75).
        t0 (float, optional): the step at which averaging starts (default: 1e6).
        weight_decay (float, optional): L2 penalty (default: 0).
        foreach, capturable (bool, optional): accepted for PyTorch compatibility and
            ignored: ember has one implementation, with the same math.
        maximize (bool, optional): maximize the objective (default: False).
        differentiable (bool, optional): must be False (not supported).
    """

    def __init__(self, params, lr: float | Tensor = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_flags(differentiable)
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
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
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state.get(p, {})
                for key in ("eta", "mu"):
                    if key in st and not isinstance(st[key], Tensor):
                        st[key] = _step_tensor(float(st[key])).to(p.device)

    def step(self, closure=None):
        """Performs one optimization step; ``closure`` (optional) re-evaluates the loss."""
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                params, grads, axs, mus, etas, steps = [], [], [], [], [], []
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    _check_dense(p, "ASGD")
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = _step_tensor().to(p.device)
                        state["eta"] = _step_tensor(float(_scalar(group["lr"]))).to(p.device)
                        state["mu"] = _step_tensor(1.0).to(p.device)
                        state["ax"] = zeros_like(p)
                    params.append(p)
                    grads.append(p.grad)
                    axs.append(state["ax"])
                    mus.append(state["mu"])
                    etas.append(state["eta"])
                    steps.append(state["step"])
                asgd(params, grads, axs, mus, etas, steps, lambd=group["lambd"],
                     lr=group["lr"], t0=group["t0"], alpha=group["alpha"],
                     weight_decay=group["weight_decay"], maximize=group["maximize"])
        return loss


def asgd(params: list[Tensor], grads: list[Tensor], axs: list[Tensor], mus: list[Tensor],
         etas: list[Tensor], state_steps: list[Tensor], foreach: bool | None = None,
         maximize: bool = False, differentiable: bool = False, capturable: bool = False,
         has_complex: bool = False, *, lambd: float, lr: float, t0: float, alpha: float,
         weight_decay: float) -> None:
    """The ASGD update (see ``ASGD``), in place on ``params`` and the state."""
    lr = _scalar(lr)
    for i, param in enumerate(params):
        grad = grads[i].neg() if maximize else grads[i]
        mu, eta, step_t = mus[i], etas[i], state_steps[i]
        param, grad, ax = _view_as_real(param), _view_as_real(grad), _view_as_real(axs[i])
        step_t += 1
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        eta_value = eta.item()
        param.mul_(1 - lambd * eta_value)
        param.add_(grad, alpha=-eta_value)
        if mu.item() != 1:
            ax.add_(param.sub(ax).mul_(mu))
        else:
            ax.copy_(param)
        step = step_t.item()
        eta.fill_(lr / ((1 + lambd * lr * step) ** alpha))
        mu.fill_(1 / max(1, step - t0))
