"""Stochastic gradient descent, optionally with (Nesterov) momentum, as ``torch.optim.SGD``."""

from __future__ import annotations

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..sparse import SparseTensor, add_dense_
from . import _sgd_fused
from .optimizer import Optimizer, _check_flags, _check_lr, _closure_loss, _scalar

__all__ = ["SGD", "sgd"]


class SGD(Optimizer):
    r"""Implements stochastic gradient descent (optionally with momentum).

    The algorithm, for learning rate :math:`\gamma`, momentum :math:`\mu`, dampening
    :math:`\tau` and weight decay :math:`\lambda`::

        for t = 1, 2, ...:
            g = -grad f(theta) if maximize else grad f(theta)
            if lambda != 0:  g = g + lambda * theta
            if mu != 0:
                b = g                          if t == 1
                b = mu * b + (1 - tau) * g     otherwise
                g = g + mu * b if nesterov else b
            theta = theta - gamma * g

    Sparse COO gradients (``nn.Embedding(sparse=True)``) are supported as in PyTorch: the
    update, and the momentum buffer (then sparse too), touch only the rows they hold;
    ``weight_decay`` with a sparse gradient raises.

    The momentum buffer ``b`` is kept in ``state[p]['momentum_buffer']`` (only when
    ``momentum != 0``). As in PyTorch (and unlike Sutskever et al.), the learning rate
    multiplies the whole update, not the gradient inside the velocity.

    Args:
        params (iterable): parameters, ``(name, parameter)`` pairs, or parameter groups.
        lr (float, Tensor, optional): learning rate (default: 1e-3).
        momentum (float, optional): momentum factor (default: 0).
        dampening (float, optional): dampening for momentum (default: 0).
        weight_decay (float, optional): L2 penalty (default: 0).
        nesterov (bool, optional): enables Nesterov momentum; needs a momentum and zero
            dampening (default: False).
        maximize (bool, optional): maximize the objective instead of minimizing it
            (default: False).
        foreach, fused (bool, optional): accepted for PyTorch compatibility; ember has one
            implementation, with the same math.
        differentiable (bool, optional): must be False (not supported).
    """

    def __init__(self, params, lr: float | Tensor = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float | Tensor = 0,
                 nesterov: bool = False, *, maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        _check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _check_flags(differentiable, fused, foreach)
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    def step(self, closure=None):
        """Performs one optimization step; ``closure`` (optional) re-evaluates the loss."""
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                params, grads, bufs = [], [], []
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    params.append(p)
                    grads.append(p.grad)
                    if group["momentum"] != 0:
                        bufs.append(self.state[p].get("momentum_buffer"))
                sgd(params, grads, bufs, weight_decay=group["weight_decay"],
                    momentum=group["momentum"], lr=group["lr"], dampening=group["dampening"],
                    nesterov=group["nesterov"], maximize=group["maximize"])
                if group["momentum"] != 0:
                    for p, buf in zip(params, bufs):
                        self.state[p]["momentum_buffer"] = buf
        return loss


def sgd(params: list[Tensor], d_p_list: list[Tensor], momentum_buffer_list: list,
        has_sparse_grad: bool = False, foreach: bool | None = None, fused: bool | None = None,
        grad_scale=None, found_inf=None, *, weight_decay: float, momentum: float, lr: float,
        dampening: float, nesterov: bool, maximize: bool) -> None:
    """The SGD update (see ``SGD``), in place on ``params``. ``momentum_buffer_list`` holds
    each parameter's buffer or None; new buffers are written back into the list."""
    if grad_scale is not None or found_inf is not None:
        raise NotImplementedError("grad_scale/found_inf (fused AMP scaling) are not supported")
    lr = _scalar(lr)
    weight_decay = _scalar(weight_decay)
    momentum, dampening = _scalar(momentum), _scalar(dampening)
    for i, param in enumerate(params):
        old = momentum_buffer_list[i] if momentum != 0 else None
        if not maximize and not nesterov and _sgd_fused.usable(param, d_p_list[i], old):
            new = _sgd_fused.update(param, d_p_list[i], old, weight_decay=weight_decay,
                                    momentum=momentum, lr=lr, dampening=dampening)
            if momentum != 0:
                momentum_buffer_list[i] = new
            continue
        grad = d_p_list[i].neg() if maximize else d_p_list[i]
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)  # raises for a sparse grad, as torch
        if momentum != 0:
            buf = momentum_buffer_list[i]
            if buf is None:
                buf = grad.detach().clone()
                momentum_buffer_list[i] = buf
            else:
                _add_(buf.mul_(momentum), grad, 1 - dampening)
            grad = grad.add(buf, alpha=momentum) if nesterov else buf
        _add_(param, grad, -lr)


def _add_(dst, src, alpha) -> None:
    """``dst.add_(src, alpha=alpha)``, also for a sparse ``src`` into a dense ``dst``."""
    if type(src) is SparseTensor and type(dst) is not SparseTensor:
        add_dense_(dst, src, alpha)
    else:
        dst.add_(src, alpha=alpha)
