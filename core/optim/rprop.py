"""Resilient backpropagation, as ``torch.optim.Rprop``."""

from __future__ import annotations

from .._creation import full_like, zeros_like
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

__all__ = ["Rprop", "rprop"]


class Rprop(Optimizer):
    r"""Implements the resilient backpropagation algorithm (Riedmiller & Braun, 1993).

    Each element keeps its own step size, which grows by ``etaplus`` while the gradient keeps
    its sign and shrinks by ``etaminus`` when the sign flips; only the gradient's sign moves
    the parameter::

        prev = 0, s = lr
        for t = 1, 2, ...:
            g = -grad f(theta) if maximize else grad f(theta)
            f = etaplus if g * prev > 0 else etaminus if g * prev < 0 else 1
            s = clamp(s * f, step_size_min, step_size_max)
            g = 0 where g * prev < 0
            theta = theta - sign(g) * s
            prev = g

    State per parameter, with PyTorch's keys: ``step``, ``prev`` (the last gradient used)
    and ``step_size`` (s). A complex parameter is treated as two real ones.

    Args:
        params (iterable): parameters, ``(name, parameter)`` pairs, or parameter groups.
        lr (float, Tensor, optional): the initial step size (default: 1e-2).
        etas (Tuple[float, float], optional): ``(etaminus, etaplus)``, the factors that shrink
            and grow the step size (default: (0.5, 1.2)).
        step_sizes (Tuple[float, float], optional): the minimal and maximal step sizes
            (default: (1e-6, 50)).
        capturable, foreach (bool, optional): accepted for PyTorch compatibility and
            ignored: ember has one implementation, with the same math.
        maximize (bool, optional): maximize the objective (default: False).
        differentiable (bool, optional): must be False (not supported).
    """

    def __init__(self, params, lr: float | Tensor = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        _check_flags(differentiable)
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
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
                params, grads, prevs, sizes, steps = [], [], [], [], []
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    _check_dense(p, "Rprop")
                    state = self.state[p]
                    if len(state) == 0:
                        lr = _scalar(group["lr"])
                        state["step"] = _step_tensor()
                        state["prev"] = zeros_like(p)
                        state["step_size"] = full_like(
                            p.grad, complex(lr, lr) if p.is_complex() else lr)
                    params.append(p)
                    grads.append(p.grad)
                    prevs.append(state["prev"])
                    sizes.append(state["step_size"])
                    steps.append(state["step"])
                etaminus, etaplus = group["etas"]
                size_min, size_max = group["step_sizes"]
                rprop(params, grads, prevs, sizes, steps, step_size_min=size_min,
                      step_size_max=size_max, etaminus=etaminus, etaplus=etaplus,
                      maximize=group["maximize"])
        return loss


def rprop(params: list[Tensor], grads: list[Tensor], prevs: list[Tensor],
          step_sizes: list[Tensor], state_steps: list[Tensor], foreach: bool | None = None,
          capturable: bool = False, maximize: bool = False, differentiable: bool = False,
          has_complex: bool = False, *, step_size_min: float, step_size_max: float,
          etaminus: float, etaplus: float) -> None:
    """The Rprop update (see ``Rprop``), in place on ``params`` and the state."""
    for i, param in enumerate(params):
        grad = grads[i].neg() if maximize else grads[i]
        state_steps[i] += 1
        param, grad = _view_as_real(param), _view_as_real(grad)
        prev, step_size = _view_as_real(prevs[i]), _view_as_real(step_sizes[i])
        sign = grad.mul(prev).sign()
        factor = sign.clone()
        factor[sign.gt(0)] = etaplus
        factor[sign.lt(0)] = etaminus
        factor[sign.eq(0)] = 1
        step_size.mul_(factor).clamp_(step_size_min, step_size_max)
        grad = grad.clone()
        grad[sign.lt(0)] = 0
        param.addcmul_(grad.sign(), step_size, value=-1)
        prev.copy_(grad)
