"""Adagrad, as ``torch.optim.Adagrad``."""

from __future__ import annotations

from .._creation import full_like
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .optimizer import (
    Optimizer,
    _check_flags,
    _check_lr,
    _closure_loss,
    _scalar,
    _step_tensor,
    _view_as_real,
)

__all__ = ["Adagrad", "adagrad"]


class Adagrad(Optimizer):
    r"""Implements Adagrad (Duchi et al., 2011).

    For learning rate :math:`\gamma`, learning-rate decay :math:`\eta`, weight decay
    :math:`\lambda`, initial accumulator value :math:`\tau` and epsilon :math:`\epsilon`::

        s = tau
        for t = 1, 2, ...:
            g = -grad f(theta) if maximize else grad f(theta)
            gamma_t = gamma / (1 + (t - 1) * eta)
            if lambda != 0:  g = g + lambda * theta
            s = s + g^2
            theta = theta - gamma_t * g / (sqrt(s) + eps)

    With a sparse COO gradient (``nn.Embedding(sparse=True)``) only the rows it holds are
    updated, as in PyTorch; ``weight_decay`` with a sparse gradient raises.

    State per parameter: ``step`` and ``sum`` (s). As in PyTorch, the state is created
    when the optimizer is, not at the first step.

    Args:
        params (iterable): parameters, ``(name, parameter)`` pairs, or parameter groups.
        lr (float, Tensor, optional): learning rate (default: 1e-2).
        lr_decay (float, optional): learning-rate decay (default: 0).
        weight_decay (float, optional): L2 penalty (default: 0).
        initial_accumulator_value (float, optional): starting value of ``sum`` (default: 0).
        eps (float, optional): added to the denominator for stability (default: 1e-10).
        maximize (bool, optional): maximize the objective (default: False).
        foreach, fused (bool, optional): accepted and ignored (same math).
        differentiable (bool, optional): must be False (not supported).
    """

    def __init__(self, params, lr: float | Tensor = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        _check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_flags(differentiable, fused, foreach)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p: Tensor) -> dict:
        state = self.state[p]
        if len(state) == 0:
            init = self.defaults["initial_accumulator_value"]
            state["step"] = _step_tensor()
            state["sum"] = full_like(p, complex(init, init) if p.is_complex() else init)
        return state

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        self._upgrade_state((
            ("foreach", None),
            ("maximize", False),
            ("differentiable", False),
            ("fused", None),
        ))

    def step(self, closure=None):
        """Performs one optimization step; ``closure`` (optional) re-evaluates the loss."""
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                params, grads, sums, steps = [], [], [], []
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self._init_state(p)
                    params.append(p)
                    grads.append(p.grad)
                    sums.append(state["sum"])
                    steps.append(state["step"])
                adagrad(params, grads, sums, steps, lr=group["lr"],
                        weight_decay=group["weight_decay"], lr_decay=group["lr_decay"],
                        eps=group["eps"], maximize=group["maximize"])
        return loss


def adagrad(params: list[Tensor], grads: list[Tensor], state_sums: list[Tensor],
            state_steps: list[Tensor], fused: bool | None = None, grad_scale=None,
            found_inf=None, has_sparse_grad: bool = False, foreach: bool | None = None,
            differentiable: bool = False, has_complex: bool = False, *, lr: float,
            weight_decay: float, lr_decay: float, eps: float, maximize: bool) -> None:
    """The Adagrad update (see ``Adagrad``), in place on ``params`` and the state."""
    if grad_scale is not None or found_inf is not None:
        raise NotImplementedError("grad_scale/found_inf (fused AMP scaling) are not supported")
    lr = _scalar(lr)
    for param, grad, state_sum, step_t in zip(params, grads, state_sums, state_steps):
        step_t += 1
        step = step_t.item()
        grad = grad.neg() if maximize else grad
        sparse = getattr(grad, "is_sparse", False)
        if weight_decay != 0:
            if sparse:
                raise RuntimeError("weight_decay option is not compatible with sparse "
                                   "gradients")
            grad = grad.add(param, alpha=weight_decay)
        clr = lr / (1 + (step - 1) * lr_decay)
        if sparse:
            grad = grad.coalesce()  # the update is non-linear: the indices must be unique
            where = grad._where()
            values = grad._values()
            state_sum.index_put_(where, values.pow(2), accumulate=True)
            std_values = state_sum[where].sqrt_().add_(eps)
            param.index_put_(where, values.div(std_values).mul_(-clr), accumulate=True)
            continue
        param, grad, state_sum = _view_as_real(param), _view_as_real(grad), \
            _view_as_real(state_sum)
        state_sum.addcmul_(grad, grad, value=1)
        std = state_sum.sqrt().add_(eps)
        param.addcdiv_(grad, std, value=-clr)
