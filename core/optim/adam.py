"""Adam (and AMSGrad), as ``torch.optim.Adam``."""

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

__all__ = ["Adam", "adam"]


class Adam(Optimizer):
    r"""Implements the Adam algorithm (Kingma & Ba, 2014), with the AMSGrad variant.

    For learning rate :math:`\gamma`, betas :math:`(\beta_1, \beta_2)`, weight decay
    :math:`\lambda` and epsilon :math:`\epsilon`::

        m = 0, v = 0, v_max = 0
        for t = 1, 2, ...:
            g = -grad f(theta) if maximize else grad f(theta)
            if lambda != 0:
                if decoupled_weight_decay:  theta = theta * (1 - gamma * lambda)
                else:                       g = g + lambda * theta
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g^2
            m_hat = m / (1 - beta1^t)
            if amsgrad:  v_max = max(v_max, v);  v_hat = v_max / (1 - beta2^t)
            else:        v_hat = v / (1 - beta2^t)
            theta = theta - gamma * m_hat / (sqrt(v_hat) + eps)

    State per parameter, with PyTorch's keys: ``step`` (a 0-dim float32 tensor, float64
    under a float64 default dtype), ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with
    ``amsgrad``, ``max_exp_avg_sq`` (v_max).

    Args:
        params (iterable): parameters, ``(name, parameter)`` pairs, or parameter groups.
        lr (float, Tensor, optional): learning rate (default: 1e-3).
        betas (Tuple[float, float], optional): coefficients of the running averages of the
            gradient and its square (default: (0.9, 0.999)).
        eps (float, optional): added to the denominator for stability (default: 1e-8).
        weight_decay (float, optional): weight decay (L2 penalty) (default: 0).
        amsgrad (bool, optional): use AMSGrad (Reddi et al., 2018) (default: False).
        maximize (bool, optional): maximize the objective (default: False).
        decoupled_weight_decay (bool, optional): decay the weights directly, as AdamW does,
            instead of adding the penalty to the gradient (default: False).
        foreach, fused, capturable (bool, optional): accepted for PyTorch compatibility and
            ignored: ember has one implementation, with the same math, and keeps ``step`` on
            the CPU.
        differentiable (bool, optional): must be False (not supported).
    """

    def __init__(self, params, lr: float | Tensor = 1e-3,
                 betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, b in enumerate(betas):
            if isinstance(b, Tensor) and b.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
        _check_flags(differentiable, fused, foreach)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable,
                    "fused": fused, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        self._upgrade_state((
            ("amsgrad", False),
            ("maximize", False),
            ("foreach", None),
            ("capturable", False),
            ("differentiable", False),
            ("decoupled_weight_decay", False),
            ("fused", None),
        ))

    def step(self, closure=None):
        """Performs one optimization step; ``closure`` (optional) re-evaluates the loss."""
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                params, grads, avgs, sqs, max_sqs, steps = [], [], [], [], [], []
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    _check_dense(p, "Adam", ", please consider SparseAdam instead")
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = _step_tensor()
                        state["exp_avg"] = zeros_like(p)
                        state["exp_avg_sq"] = zeros_like(p)
                        if group["amsgrad"]:
                            state["max_exp_avg_sq"] = zeros_like(p)
                    params.append(p)
                    grads.append(p.grad)
                    avgs.append(state["exp_avg"])
                    sqs.append(state["exp_avg_sq"])
                    if group["amsgrad"]:
                        max_sqs.append(state["max_exp_avg_sq"])
                    steps.append(state["step"])
                beta1, beta2 = group["betas"]
                adam(params, grads, avgs, sqs, max_sqs, steps, amsgrad=group["amsgrad"],
                     beta1=beta1, beta2=beta2, lr=group["lr"],
                     weight_decay=group["weight_decay"], eps=group["eps"],
                     maximize=group["maximize"],
                     decoupled_weight_decay=group["decoupled_weight_decay"])
        return loss


def _check_betas(betas) -> None:
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def adam(params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor],
         exp_avg_sqs: list[Tensor], max_exp_avg_sqs: list[Tensor], state_steps: list[Tensor],
         foreach: bool | None = None, capturable: bool = False, differentiable: bool = False,
         fused: bool | None = None, grad_scale=None, found_inf=None, has_complex: bool = False,
         decoupled_weight_decay: bool = False, *, amsgrad: bool, beta1: float, beta2: float,
         lr: float, weight_decay: float, eps: float, maximize: bool) -> None:
    """The Adam update (see ``Adam``), in place on ``params`` and the state tensors."""
    if grad_scale is not None or found_inf is not None:
        raise NotImplementedError("grad_scale/found_inf (fused AMP scaling) are not supported")
    lr, beta1, beta2 = _scalar(lr), _scalar(beta1), _scalar(beta2)
    for i, param in enumerate(params):
        grad = grads[i].neg() if maximize else grads[i]
        exp_avg, exp_avg_sq = exp_avgs[i], exp_avg_sqs[i]
        step_t = state_steps[i]
        step_t += 1
        if weight_decay != 0:
            if decoupled_weight_decay:
                param.mul_(1 - lr * weight_decay)
            else:
                grad = grad.add(param, alpha=weight_decay)
        if param.is_complex():
            param, grad = _view_as_real(param), _view_as_real(grad)
            exp_avg, exp_avg_sq = _view_as_real(exp_avg), _view_as_real(exp_avg_sq)
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)

        step = step_t.item()
        step_size = lr / (1 - beta1 ** step)
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        if amsgrad:
            max_sq = _view_as_real(max_exp_avg_sqs[i])
            max_sq.maximum_(exp_avg_sq)
            denom = max_sq.sqrt().div_(bias_correction2_sqrt).add_(eps)
        else:
            denom = exp_avg_sq.sqrt().div_(bias_correction2_sqrt).add_(eps)
        param.addcdiv_(exp_avg, denom, value=-step_size)
