"""Muon (momentum orthogonalized by Newton-Schulz), as ``torch.optim.Muon``."""

from __future__ import annotations

import math

from .._creation import zeros_like
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _check_dense, _closure_loss, _scalar

__all__ = ["Muon", "muon"]

# Keller Jordan's constants, as PyTorch uses them
EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


class Muon(Optimizer):
    r"""Implements Muon, for 2-D parameters (the hidden matrices of a network).

    For learning rate :math:`\gamma`, weight decay :math:`\lambda` and momentum :math:`\mu`::

        B = 0
        for t = 1, 2, ...:
            g = grad f(theta)
            B = mu * B + (1 - mu) * g
            U = g + mu * (B - g) if nesterov else B
            O = NewtonSchulz(U)        # ns_steps quintic iterations, in bfloat16
            theta = theta * (1 - gamma * lambda) - adjusted_lr(gamma, shape) * O

    ``adjust_lr_fn``: None or ``"original"`` scales the lr by ``sqrt(max(1, A / B))`` for an
    ``A x B`` parameter; ``"match_rms_adamw"`` by ``0.2 * sqrt(max(A, B))``.

    State per parameter, with PyTorch's key: ``momentum_buffer`` (B).

    Args:
        params (iterable): 2-D parameters, ``(name, parameter)`` pairs, or parameter groups.
        lr (float, optional): learning rate (default: 1e-3).
        weight_decay (float, optional): decoupled weight decay (default: 0.1).
        momentum (float, optional): momentum factor (default: 0.95).
        nesterov (bool, optional): use Nesterov momentum (default: True).
        ns_coefficients (Tuple[float, float, float], optional): the coefficients (a, b, c) of
            the quintic Newton-Schulz iteration (default: (3.4445, -4.7750, 2.0315)).
        eps (float, optional): floor of the norm the update is divided by (default: 1e-7).
        ns_steps (int, optional): Newton-Schulz iterations, < 100 (default: 5).
        adjust_lr_fn (str, optional): how the lr is scaled by the shape (default: None).
    """

    def __init__(self, params, lr: float = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple[float, float, float] = (DEFAULT_A, DEFAULT_B,
                                                                DEFAULT_C),
                 eps: float = EPS, ns_steps: int = DEFAULT_NS_STEPS,
                 adjust_lr_fn: str | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = {"lr": lr, "weight_decay": weight_decay, "momentum": momentum,
                    "nesterov": nesterov, "ns_coefficients": ns_coefficients, "eps": eps,
                    "ns_steps": ns_steps, "adjust_lr_fn": adjust_lr_fn}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError("Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {p.size()}")

    def step(self, closure=None):
        """Performs one optimization step; ``closure`` (optional) re-evaluates the loss."""
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                params, grads, bufs = [], [], []
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if p.is_complex():
                        raise RuntimeError("Muon does not support complex parameters")
                    _check_dense(p, "Muon")
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = zeros_like(p.grad)
                    params.append(p)
                    grads.append(p.grad)
                    bufs.append(state["momentum_buffer"])
                muon(params, grads, bufs, lr=group["lr"], weight_decay=group["weight_decay"],
                     momentum=group["momentum"], nesterov=group["nesterov"],
                     ns_coefficients=group["ns_coefficients"], eps=group["eps"],
                     ns_steps=group["ns_steps"], adjust_lr_fn=group["adjust_lr_fn"])
        return loss


def _zeropower_via_newtonschulz(grad: Tensor, ns_coefficients: tuple[float, float, float],
                                ns_steps: int, eps: float) -> Tensor:
    """An approximate orthogonalization of the matrix ``grad`` (U S' V^T with S' near 1),
    by quintic Newton-Schulz iterations in bfloat16, as PyTorch computes it."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if len(grad.shape) != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    ortho = grad.bfloat16()
    tall = grad.size(0) > grad.size(1)
    if tall:
        ortho = ortho.T
    # spectral norm at most 1 (the norm accumulated in float32, rounded to bfloat16)
    ortho = ortho.div(ortho.float().norm().bfloat16().clamp(min=eps))
    for _ in range(ns_steps):
        gram = ortho @ ortho.T
        gram_update = gram.addmm(gram, gram, beta=b, alpha=c)
        ortho = ortho.addmm(gram_update, ortho, beta=a)
    return ortho.T if tall else ortho


def _adjust_lr(lr: float, adjust_lr_fn: str | None, param_shape) -> float:
    rows, cols = param_shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


def muon(params: list[Tensor], grads: list[Tensor], muon_momentum_bufs: list[Tensor], *,
         foreach: bool | None = None, lr: float, weight_decay: float, momentum: float,
         nesterov: bool, ns_coefficients: tuple[float, float, float], ns_steps: int,
         eps: float, adjust_lr_fn: str | None, has_complex: bool = False) -> None:
    """The Muon update (see ``Muon``), in place on ``params`` and the momentum buffers."""
    if foreach:
        raise RuntimeError("Foreach is not supported for Muon yet")
    lr = _scalar(lr)
    for i, param in enumerate(params):
        grad = grads[i]
        if grad.ndim != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        buf = muon_momentum_bufs[i]
        buf.lerp_(grad, 1 - momentum)
        update = grad.lerp(buf, momentum) if nesterov else buf
        update = _zeropower_via_newtonschulz(update, ns_coefficients, ns_steps, eps)
        param.mul_(1 - lr * weight_decay)
        param.add_(update, alpha=-_adjust_lr(lr, adjust_lr_fn, param.shape))
