"""Adafactor (Adam with a factored second moment), as ``torch.optim.Adafactor``."""

from __future__ import annotations

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


class Adafactor(Optimizer):
    r"""Implements Adafactor (Shazeer & Stern, 2018), as PyTorch writes it.

    For learning rate :math:`\gamma`, decay exponent :math:`\tau` (``beta2_decay``),
    epsilons :math:`(\epsilon_1, \epsilon_2)`, clipping threshold :math:`d` and weight
    decay :math:`\lambda`::

        for t = 1, 2, ...:
            g = -grad f(theta) if maximize else grad f(theta)
            beta2_t = 1 - t ** tau
            rho = min(gamma, 1 / sqrt(t))
            alpha = max(eps2, RMS(theta)) * rho
            if lambda != 0:  theta = theta * (1 - gamma * lambda)
            if g has 2 or more dims (factored over the last two):
                R = beta2_t * R + (1 - beta2_t) * mean(g^2, dim=-1)
                C = beta2_t * C + (1 - beta2_t) * mean(g^2, dim=-2)
                V = R @ C / max(mean(R, dim=-2), eps1)
            else:
                V = beta2_t * V + (1 - beta2_t) * g^2
            U = g / sqrt(max(V, eps1^2))
            theta = theta - alpha / max(1, RMS(U) / d) * U

    State per parameter, with PyTorch's keys: ``step`` and, for a parameter of two or more
    dimensions, ``row_var`` (R, the last dim reduced to 1) and ``col_var`` (C, the
    second-to-last dim reduced to 1); otherwise ``variance`` (V, the parameter's shape).

    Args:
        params (iterable): parameters, ``(name, parameter)`` pairs, or parameter groups.
        lr (float, Tensor, optional): the unscaled learning rate, also the cap of the
            relative step size (default: 1e-2).
        beta2_decay (float, optional): the exponent of the second moment's decay, <= 0
            (default: -0.8).
        eps (Tuple[float | None, float], optional): ``eps1``, the floor of the second moment
            estimate (None: the parameter dtype's machine epsilon), and ``eps2``, the floor
            of the parameter RMS in the step size (default: (None, 1e-3)).
        d (float, optional): the clipping threshold of the update's RMS (default: 1.0).
        weight_decay (float, optional): decoupled weight decay, as in AdamW (default: 0.0).
        foreach (bool, optional): accepted for PyTorch compatibility and ignored.
        maximize (bool, optional): maximize the objective (default: False).
    """

    def __init__(self, params, lr: float | Tensor = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize}
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        self._upgrade_state((("foreach", None),))

    def step(self, closure=None):
        """Performs one optimization step; ``closure`` (optional) re-evaluates the loss."""
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                params, grads, row_vars, col_vars, variances, steps = [], [], [], [], [], []
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if p.is_complex():
                        raise RuntimeError("Adafactor does not support complex parameters")
                    _check_dense(p, "Adafactor")
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = _step_tensor()
                        shape = list(p.grad.shape)
                        if len(shape) > 1:
                            g = p.grad
                            state["row_var"] = zeros(shape[:-1] + [1], dtype=g.dtype,
                                                     device=g.device)
                            state["col_var"] = zeros(shape[:-2] + [1, shape[-1]],
                                                     dtype=g.dtype, device=g.device)
                        else:
                            state["variance"] = zeros_like(p.grad)
                    params.append(p)
                    grads.append(p.grad)
                    row_vars.append(state.get("row_var"))
                    col_vars.append(state.get("col_var"))
                    variances.append(state.get("variance"))
                    steps.append(state["step"])
                eps1, eps2 = group["eps"]
                adafactor(params, grads, row_vars, col_vars, variances, steps, d=group["d"],
                          lr=group["lr"], beta2_decay=group["beta2_decay"],
                          weight_decay=group["weight_decay"], eps1=eps1, eps2=eps2,
                          maximize=group["maximize"])
        return loss


def adafactor(params: list[Tensor], grads: list[Tensor], row_vars: list[Tensor | None],
              col_vars: list[Tensor | None], variances: list[Tensor | None],
              state_steps: list[Tensor], foreach: bool | None = None, grad_scale=None,
              found_inf=None, has_complex: bool = False, *, d: float, lr: float | Tensor,
              beta2_decay: float, weight_decay: float, eps1: float | None, eps2: float,
              maximize: bool) -> None:
    """The Adafactor update (see ``Adafactor``), in place on ``params`` and the state."""
    if grad_scale is not None or found_inf is not None:
        raise AssertionError("Grad scaling should occur outside of optimizer.step()")
    lr = _scalar(lr)
    for i, param in enumerate(params):
        grad = grads[i].neg() if maximize else grads[i]
        if eps1 is None:  # as in PyTorch, the first parameter's dtype sets it for the group
            eps1 = _dtype.finfo(param.dtype).eps
        step_t = state_steps[i]
        step_t += 1
        step = step_t.item()
        one_minus_beta2_t = step ** beta2_decay
        rho_t = min(lr, 1 / (step ** 0.5))
        alpha = max(eps2, param.norm(2).item() / (param.numel() ** 0.5)) * rho_t
        if weight_decay != 0:
            param.mul_(1 - lr * weight_decay)
        if grad.dim() > 1:
            row_var, col_var = row_vars[i], col_vars[i]
            row_var.lerp_(grad.norm(dim=-1, keepdim=True).square_().div_(grad.size(-1)),
                          one_minus_beta2_t)
            col_var.lerp_(grad.norm(dim=-2, keepdim=True).square_().div_(grad.size(-2)),
                          one_minus_beta2_t)
            var_estimate = row_var @ col_var
            var_estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
        else:
            variance = variances[i]
            variance.lerp_(grad * grad, one_minus_beta2_t)
            var_estimate = variance.clone()
        update = var_estimate.clamp_(min=eps1 * eps1).rsqrt_()
        update.mul_(grad)
        denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * d))
        param.add_(update, alpha=-alpha / denom)
