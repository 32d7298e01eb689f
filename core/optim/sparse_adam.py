"""Adam for sparse gradients, as ``torch.optim.SparseAdam``."""

from __future__ import annotations

import math

from .._creation import zeros_like
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .adam import _check_betas
from .optimizer import Optimizer, _closure_loss, _scalar

__all__ = ["SparseAdam", "sparse_adam"]

_DENSE_GRAD = ("SparseAdam does not support dense gradients, please consider Adam instead")


class SparseAdam(Optimizer):
    r"""Implements the masked ("lazy") Adam for sparse gradients.

    Each step updates only the entries that the (coalesced, COO) gradient holds: their
    running averages ``exp_avg`` and ``exp_avg_sq`` and the parameter, with Adam's bias
    corrections; the other entries stay as they are. The parameters are dense tensors and
    their ``.grad`` must be a sparse COO tensor (``ember.sparse_coo_tensor``); a dense
    gradient raises, as in PyTorch.

    ``nn.Embedding(sparse=True)`` and ``nn.EmbeddingBag(sparse=True)`` give their weight
    such gradients, so ``SparseAdam(embedding.parameters())`` works as in PyTorch.

    State per parameter, with PyTorch's keys: ``step`` (a Python int, as PyTorch keeps it
    here), ``exp_avg`` and ``exp_avg_sq``.

    Args:
        params (iterable): dense parameters, ``(name, parameter)`` pairs, or parameter groups.
        lr (float, Tensor, optional): learning rate, > 0 (default: 1e-3).
        betas (Tuple[float, float], optional): coefficients of the running averages of the
            gradient and its square (default: (0.9, 0.999)).
        eps (float, optional): added to the denominator, > 0 (default: 1e-8).
        maximize (bool, optional): maximize the objective (default: False).
    """

    def __init__(self, params, lr: float | Tensor = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not isinstance(params, Tensor):
            params = list(params)
            _check_params(params)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Performs one optimization step; ``closure`` (optional) re-evaluates the loss."""
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                params, grads, exp_avgs, exp_avg_sqs, steps = [], [], [], [], []
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    params.append(p)
                    if not _is_sparse(p.grad):
                        raise RuntimeError(_DENSE_GRAD)
                    grads.append(p.grad)
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = 0
                        state["exp_avg"] = zeros_like(p)
                        state["exp_avg_sq"] = zeros_like(p)
                    exp_avgs.append(state["exp_avg"])
                    exp_avg_sqs.append(state["exp_avg_sq"])
                    state["step"] += 1
                    steps.append(state["step"])
                beta1, beta2 = group["betas"]
                sparse_adam(params, grads, exp_avgs, exp_avg_sqs, steps, eps=group["eps"],
                            beta1=beta1, beta2=beta2, lr=_scalar(group["lr"]),
                            maximize=group.get("maximize", False))
        return loss


def _check_params(params: list) -> None:
    """Raises, as PyTorch does, for sparse or complex parameters."""
    groups = params if params and isinstance(params[0], dict) else [{"params": params}]
    sparse, complex_ = [], []
    for index, group in enumerate(groups):
        items = group["params"]
        items = [items] if isinstance(items, Tensor) or _is_sparse(items) else list(items)
        group["params"] = items
        for d_index, p in enumerate(items):
            p = p[1] if isinstance(p, tuple) else p
            if _is_sparse(p):
                sparse.append([index, d_index])
            elif isinstance(p, Tensor) and p.is_complex():
                complex_.append([index, d_index])
    if sparse:
        raise ValueError(f"Sparse params at indices {sparse}: SparseAdam requires dense "
                         "parameter tensors")
    if complex_:
        raise ValueError(f"Complex params at indices {complex_}: SparseAdam does not "
                         "support complex parameters")


def _is_sparse(x) -> bool:
    return bool(getattr(x, "is_sparse", False))


def sparse_adam(params: list[Tensor], grads: list, exp_avgs: list[Tensor],
                exp_avg_sqs: list[Tensor], state_steps: list[int], *, eps: float,
                beta1: float, beta2: float, lr: float, maximize: bool) -> None:
    """The SparseAdam update (see ``SparseAdam``), in place on ``params`` and the state,
    at the coordinates of the sparse ``grads`` only."""
    for i, param in enumerate(params):
        grad = -grads[i] if maximize else grads[i]
        grad = grad.coalesce()  # the update is non-linear: the indices must be unique
        values = grad.values()
        if values.numel() == 0:
            continue
        indices = grad.indices()
        where = tuple(indices[j] for j in range(grad.sparse_dim()))
        exp_avg, exp_avg_sq, step = exp_avgs[i], exp_avg_sqs[i], state_steps[i]

        old_avg = exp_avg[where]
        avg_update = values.sub(old_avg).mul_(1 - beta1)
        exp_avg.index_put_(where, avg_update, accumulate=True)
        old_sq = exp_avg_sq[where]
        sq_update = values.pow(2).sub_(old_sq).mul_(1 - beta2)
        exp_avg_sq.index_put_(where, sq_update, accumulate=True)

        numer = avg_update.add_(old_avg)
        denom = sq_update.add_(old_sq).sqrt_().add_(eps)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = lr * math.sqrt(bias_correction2) / bias_correction1
        param.index_put_(where, numer.div_(denom).mul_(-step_size), accumulate=True)
