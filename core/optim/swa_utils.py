"""Weight averaging for ``torch.optim.swa_utils``.

Provides ``AveragedModel`` (a copy of a network holding the running mean or an
exponential moving average of its weights), ``SWALR`` (a schedule that glides the
learning rate to a constant), ``update_bn`` (one pass over data to refresh the
batch-norm statistics of averaged weights), and the averaging callables
``get_swa_avg_fn`` / ``get_ema_avg_fn`` plus their list-based ``*_multi_avg_fn`` forms.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from copy import deepcopy
from typing import Any

from .._creation import tensor
from .._dtype import long
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..nn.modules.batchnorm import _BatchNorm
from ..nn.modules.module import Module
from .lr_scheduler import LRScheduler, _format_param
from .optimizer import Optimizer

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def _validated_decay(decay: float) -> float:
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")
    return decay


def _is_inexact(t: Tensor) -> bool:
    return t.is_floating_point() or t.is_complex()


# -- averaging callables ---------------------------------------------------------------------
def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable:
    """Returns ``fn(avg_list, cur_list, n)`` that moves every ``avg`` towards ``cur`` by the
    fraction ``1 - decay``, in place."""
    keep = _validated_decay(decay)
    step = 1 - keep

    def _ema_lists(targets, sources, _n) -> None:
        with no_grad():
            for dst, src in zip(targets, sources):
                if _is_inexact(dst):
                    dst.lerp_(src, step)
                else:  # integer buffers: blend, then cast back on copy
                    dst.copy_(dst * keep + src * step)

    return _ema_lists


def get_swa_multi_avg_fn() -> Callable:
    """Returns ``fn(avg_list, cur_list, n)`` that folds ``cur`` into the equal-weight mean
    of ``n`` earlier values, in place."""

    def _mean_lists(targets, sources, n_seen) -> None:
        with no_grad():
            for dst, src in zip(targets, sources):
                if _is_inexact(dst):
                    frac = 1 / (n_seen + 1)
                    if isinstance(frac, Tensor):
                        frac = frac.item()
                    dst.lerp_(src, frac)
                elif isinstance(n_seen, Tensor):
                    dst.addcdiv_(src - dst, n_seen + 1)
                else:
                    dst.add_(src - dst, alpha=1.0 / (n_seen + 1))

    return _mean_lists


def get_ema_avg_fn(decay: float = 0.999) -> Callable:
    """Returns ``fn(avg, cur, n)`` giving the new exponential moving average of one tensor."""
    keep = _validated_decay(decay)

    def _ema_one(avg: Tensor, cur: Tensor, _n) -> Tensor:
        with no_grad():
            return keep * avg + (1 - keep) * cur

    return _ema_one


def get_swa_avg_fn() -> Callable:
    """Returns ``fn(avg, cur, n)`` giving the running mean of one tensor after ``n + 1``
    values."""

    def _mean_one(avg: Tensor, cur: Tensor, n_seen) -> Tensor:
        with no_grad():
            return avg + (cur - avg) / (n_seen + 1)

    return _mean_one


# -- AveragedModel ---------------------------------------------------------------------------
class AveragedModel(Module):
    r"""Keeps a deep copy of ``model`` whose weights track an average of ``model``'s.

    After each training step call ``update_parameters(model)``; the very first call just
    copies the weights. Calling the wrapper runs the averaged copy. The state dict holds
    ``n_averaged`` and the copy's entries under ``module.``.

    Args:
        model (Module): network to average; it is deep-copied.
        device (str or device, optional): device for the copy (default: leave it where
            ``model`` is).
        avg_fn (callable, optional): per-tensor rule ``(avg, cur, n) -> Tensor``.
        multi_avg_fn (callable, optional): in-place rule over lists
            ``(avg_list, cur_list, n)``. Pass at most one of ``avg_fn``/``multi_avg_fn``;
            with neither, the plain running mean is used.
        use_buffers (bool, optional): when True, buffers are averaged along with the
            parameters; otherwise they are copied over from ``model`` on every update
            (default: False).
    """

    def __init__(self, model: Module, device=None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if not (avg_fn is None or multi_avg_fn is None):
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        copy = deepcopy(model)
        self.module = copy if device is None else copy.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=long, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        """Calls the averaged copy."""
        return self.module(*args, **kwargs)

    def _tracked(self, model: Module) -> tuple[list, list]:
        """The tensors to average, paired: (ours, detached), (theirs, moved to ours)."""
        if self.use_buffers:
            ours = [*self.module.parameters(), *self.module.buffers()]
            theirs = [*model.parameters(), *model.buffers()]
        else:
            ours, theirs = list(self.parameters()), list(model.parameters())
        mine = [t.detach() for t in ours]
        other = [src.detach().to(dst.device) for dst, src in zip(mine, theirs)]
        return mine, other

    def _fold_in(self, mine: list, other: list) -> None:
        if self.avg_fn is not None:
            for dst, src in zip(mine, other):
                dst.copy_(self.avg_fn(dst, src, self.n_averaged.to(dst.device)))
            return
        # group by (device, dtype), as the list form works on homogeneous lists
        groups: dict[tuple, list] = {}
        for dst, src in zip(mine, other):
            groups.setdefault((str(dst.device), dst.dtype), []).append((dst, src))
        for members in groups.values():
            head = members[0][0]
            n_seen = self.n_averaged.to(head.device)
            rule = self.multi_avg_fn
            if rule is None and head.is_cuda:  # PyTorch's default on CUDA is the list form
                rule = get_swa_multi_avg_fn()
            if rule is None:
                one = get_swa_avg_fn()
                for dst, src in members:
                    dst.copy_(one(dst, src, n_seen))
            else:
                rule([d for d, _ in members], [s for _, s in members], n_seen)

    def update_parameters(self, model: Module) -> None:
        """Adds ``model``'s current weights to the average (copies them on the first call)."""
        first = bool(self.n_averaged == 0)
        with no_grad():
            mine, other = self._tracked(model)
            if first:
                for dst, src in zip(mine, other):
                    dst.copy_(src)
            else:
                self._fold_in(mine, other)
            if not self.use_buffers:
                for dst, src in zip(self.module.buffers(), model.buffers()):
                    dst.detach().copy_(src.detach().to(dst.device))
            self.n_averaged += 1


# -- update_bn -------------------------------------------------------------------------------
def update_bn(loader: Iterable[Any], model: Module, device=None) -> None:
    """Refreshes the running mean/variance of every batch-norm layer in ``model`` by one
    pass over ``loader``, using a cumulative (``momentum=None``) average.

    Each batch is fed to the model as is, or its first item when it is a list or tuple.
    The layers' momenta and the model's training flag are put back afterwards; a model
    without batch norm is left untouched."""
    saved = {m: m.momentum for m in model.modules() if isinstance(m, _BatchNorm)}
    if not saved:
        return
    for bn in saved:
        bn.reset_running_stats()
        bn.momentum = None
    mode = model.training
    model.train()
    with no_grad():
        for batch in loader:
            x = batch[0] if isinstance(batch, (list, tuple)) else batch
            model(x if device is None else x.to(device))
    for bn, momentum in saved.items():
        bn.momentum = momentum
    model.train(mode)


# -- SWALR -----------------------------------------------------------------------------------
class SWALR(LRScheduler):
    r"""Moves every group's learning rate to ``swa_lr`` over ``anneal_epochs`` steps and keeps
    it there.

    With ``s = clamp(step / anneal_epochs, 0, 1)`` and the annealing weight
    ``w = (1 - cos(pi s)) / 2`` (``"cos"``) or ``w = s`` (``"linear"``), the rate is
    ``swa_lr * w + start_lr * (1 - w)``. ``start_lr`` is re-derived from the rate in the
    optimizer on each step, so the schedule also works after another scheduler.

    Args:
        optimizer (Optimizer): optimizer whose rates are scheduled.
        swa_lr (float or list): final rate, shared or one per group.
        anneal_epochs (int): length of the transition, non-negative (default: 10).
        anneal_strategy (str): ``"cos"`` or ``"linear"`` (default: ``"cos"``).
        last_epoch (int): index of the previous epoch (default: -1).
    """

    def __init__(self, optimizer: Optimizer, swa_lr, anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1) -> None:
        for group, target in zip(optimizer.param_groups,
                                 _format_param("swa_lr", optimizer, swa_lr)):
            group["swa_lr"] = target
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._set_anneal_func(strategy=anneal_strategy)
        if isinstance(anneal_epochs, int) and anneal_epochs >= 0:
            self.anneal_epochs = anneal_epochs
        else:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return 0.5 * (1 - math.cos(math.pi * t))

    def _set_anneal_func(self, strategy: str) -> None:
        self._anneal_strategy = strategy
        curves = {"cos": self._cosine_anneal, "linear": self._linear_anneal}
        self.anneal_func = curves.get(strategy, self._linear_anneal)

    def _weight(self, k: int) -> float:
        span = max(1, self.anneal_epochs)
        return self.anneal_func(min(1, max(0, k / span)))

    def get_lr(self) -> list:
        """Rates for the step in progress (used by ``step``)."""
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please "
                          "use `get_last_lr()`.", UserWarning, stacklevel=2)
        k = self._step_count - 1
        if not self.anneal_epochs:
            k = max(k, 1)
        w_before, w_now = self._weight(k - 1), self._weight(k)
        rates = []
        for group in self.optimizer.param_groups:
            target = group["swa_lr"]
            if w_before == 1:
                start = target
            else:  # undo the previous blend to recover the starting rate
                start = (group["lr"] - w_before * target) / (1 - w_before)
            rates.append(target * w_now + start * (1 - w_now))
        return rates

    def state_dict(self) -> dict[str, Any]:
        """All attributes except ``optimizer`` and ``anneal_func``."""
        skip = {"optimizer", "anneal_func"}
        return {name: val for name, val in vars(self).items() if name not in skip}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Loads a ``state_dict()`` and rebuilds the anneal function."""
        vars(self).update(state_dict)
        self._set_anneal_func(strategy=self._anneal_strategy)
