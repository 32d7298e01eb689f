"""``torch.optim.Muon``: SGD-momentum whose update matrix is replaced by a nearby
(semi-)orthogonal matrix, found with a few Newton-Schulz iterations."""

from __future__ import annotations

import math

from .._creation import zeros_like
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _check_dense, _closure_loss, _scalar

__all__ = ["Muon", "muon"]

# quintic iteration coefficients (published by Keller Jordan) and the defaults PyTorch uses
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.7750, 2.0315
DEFAULT_NS_STEPS = 5
EPS = 1e-7

_LR_RULES = ("original", "match_rms_adamw")


class Muon(Optimizer):
    r"""Muon optimizer, for matrix-shaped (2-D) parameters only.

    Each step blends the gradient into a momentum buffer,
    ``buf <- momentum * buf + (1 - momentum) * grad``; the direction is the buffer, or with
    Nesterov ``grad + momentum * (buf - grad)``. The direction is normalised by its
    Frobenius norm and pushed towards an orthogonal matrix by ``ns_steps`` quintic
    Newton-Schulz iterations carried out in bfloat16. The parameter is then multiplied by
    ``1 - lr * weight_decay`` and moved against that matrix with a shape-dependent rate:
    ``lr * sqrt(max(1, rows / cols))`` for ``adjust_lr_fn`` None or ``"original"``,
    ``lr * 0.2 * sqrt(max(rows, cols))`` for ``"match_rms_adamw"``.

    State per parameter: ``momentum_buffer``.

    Args:
        params (iterable): 2-D parameters, ``(name, parameter)`` pairs or parameter groups.
        lr (float, optional): learning rate (default: 1e-3).
        weight_decay (float, optional): decoupled weight decay (default: 0.1).
        momentum (float, optional): momentum coefficient (default: 0.95).
        nesterov (bool, optional): Nesterov-style look-ahead (default: True).
        ns_coefficients (Tuple[float, float, float], optional): ``(a, b, c)`` of the
            iteration ``X <- a X + (b A + c A^2) X`` with ``A = X X^T``
            (default: (3.4445, -4.7750, 2.0315)).
        eps (float, optional): lower bound on the normalising norm (default: 1e-7).
        ns_steps (int, optional): number of iterations, below 100 (default: 5).
        adjust_lr_fn (str, optional): rate scaling rule, see above (default: None).
    """

    def __init__(self, params, lr: float = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple[float, float, float] = (DEFAULT_A, DEFAULT_B,
                                                                DEFAULT_C),
                 eps: float = EPS, ns_steps: int = DEFAULT_NS_STEPS,
                 adjust_lr_fn: str | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        for ok, message in (
                (lr >= 0.0, f"Learning rate should be >= 0 but is: {lr}"),
                (momentum >= 0.0, f"momentum should be >= 0 but is: {momentum}"),
                (weight_decay >= 0.0, f"weight decay should be >= 0 but is: {weight_decay}"),
                (adjust_lr_fn is None or adjust_lr_fn in _LR_RULES,
                 f"Adjust learning rate function {adjust_lr_fn} is not supported")):
            if not ok:
                raise ValueError(message)
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                                      nesterov=nesterov, ns_coefficients=ns_coefficients,
                                      eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn))
        for p in (q for g in self.param_groups for q in g["params"]):
            if p.ndim != 2:
                raise ValueError("Muon only supports 2D parameters whereas we found a "
                                 f"parameter with size: {p.size()}")

    def _buffer(self, p: Tensor) -> Tensor:
        st = self.state[p]
        if "momentum_buffer" not in st:
            st["momentum_buffer"] = zeros_like(p.grad)
        return st["momentum_buffer"]

    def step(self, closure=None):
        """Takes one step; ``closure``, if given, recomputes and returns the loss."""
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                active = [p for p in group["params"] if p.grad is not None]
                for p in active:
                    if p.is_complex():
                        raise RuntimeError("Muon does not support complex parameters")
                    _check_dense(p, "Muon")
                bufs = [self._buffer(p) for p in active]
                muon(active, [p.grad for p in active], bufs, lr=group["lr"],
                     weight_decay=group["weight_decay"], momentum=group["momentum"],
                     nesterov=group["nesterov"], ns_coefficients=group["ns_coefficients"],
                     eps=group["eps"], ns_steps=group["ns_steps"],
                     adjust_lr_fn=group["adjust_lr_fn"])
        return loss


def _orthogonalize(m: Tensor, coeffs: tuple[float, float, float], steps: int,
                   eps: float) -> Tensor:
    """Approximately maps the matrix ``m = U S V^T`` to ``U V^T`` (bfloat16 arithmetic)."""
    if steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if m.dim() != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(coeffs) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = coeffs
    transpose = m.size(0) > m.size(1)  # iterate on the wide orientation
    x = m.bfloat16()
    if transpose:
        x = x.T
    norm = x.float().norm().bfloat16().clamp(min=eps)  # accumulated in float32
    x = x.div(norm)
    for _ in range(steps):
        gram = x @ x.T
        poly = gram.addmm(gram, gram, beta=b, alpha=c)  # b A + c A^2
        x = x.addmm(poly, x, beta=a)  # a X + poly X
    return x.T if transpose else x


def _rate_scale(rule: str | None, shape) -> float:
    rows, cols = shape[0], shape[1]
    if rule in (None, "original"):
        return math.sqrt(max(1, rows / cols))
    if rule == "match_rms_adamw":
        return 0.2 * math.sqrt(max(rows, cols))
    return 1.0


def muon(params: list[Tensor], grads: list[Tensor], muon_momentum_bufs: list[Tensor], *,
         foreach: bool | None = None, lr: float, weight_decay: float, momentum: float,
         nesterov: bool, ns_coefficients: tuple[float, float, float], ns_steps: int,
         eps: float, adjust_lr_fn: str | None, has_complex: bool = False) -> None:
    """Functional Muon (see the class); modifies ``params`` and the buffers in place."""
    if foreach:
        raise RuntimeError("Foreach is not supported for Muon yet")
    rate = _scalar(lr)
    for theta, g, buf in zip(params, grads, muon_momentum_bufs):
        if g.ndim != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        buf.lerp_(g, 1 - momentum)
        direction = g.lerp(buf, momentum) if nesterov else buf
        ortho = _orthogonalize(direction, ns_coefficients, ns_steps, eps)
        theta.mul_(1 - rate * weight_decay)
        theta.add_(ortho, alpha=-rate * _rate_scale(adjust_lr_fn, theta.shape))
