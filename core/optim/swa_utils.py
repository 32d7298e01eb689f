"""Stochastic weight averaging and exponential moving averages of a model, as
``torch.optim.swa_utils``: ``AveragedModel`` (the running average of a model's parameters),
``SWALR`` (the SWA learning-rate schedule), ``update_bn`` (recomputes batch-norm statistics
for the averaged weights) and the averaging functions ``get_swa_avg_fn``,
``get_ema_avg_fn`` and their ``*_multi_avg_fn`` list versions.
"""

from __future__ import annotations

import itertools
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


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable:
    """An in-place exponential moving average over lists of tensors, for
    ``AveragedModel(multi_avg_fn=...)``: ``ema = decay * ema + (1 - decay) * current``."""
    _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _) -> None:
        with no_grad():
            for p_ema, p_model in zip(ema_param_list, current_param_list):
                if p_ema.is_floating_point() or p_ema.is_complex():
                    p_ema.lerp_(p_model, 1 - decay)
                else:
                    p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> Callable:
    """An in-place running (equal-weight) average over lists of tensors, for
    ``AveragedModel(multi_avg_fn=...)``: ``avg += (current - avg) / (n + 1)``."""

    def swa_update(averaged_param_list, current_param_list, num_averaged) -> None:
        with no_grad():
            for p_avg, p_model in zip(averaged_param_list, current_param_list):
                if p_avg.is_floating_point() or p_avg.is_complex():
                    weight = 1 / (num_averaged + 1)
                    p_avg.lerp_(p_model, weight.item() if isinstance(weight, Tensor)
                                else weight)
                elif isinstance(num_averaged, Tensor):
                    p_avg.addcdiv_(p_model - p_avg, num_averaged + 1)
                else:
                    p_avg.add_(p_model - p_avg, alpha=1.0 / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable:
    """The exponential moving average of one tensor, for ``AveragedModel(avg_fn=...)``:
    returns ``decay * ema + (1 - decay) * current``."""
    _check_decay(decay)

    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged) -> Tensor:
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> Callable:
    """The running average of one tensor, for ``AveragedModel(avg_fn=...)``: returns
    ``avg + (current - avg) / (n + 1)``."""

    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged) -> Tensor:
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    r"""A copy of ``model`` whose parameters are the running average of ``model``'s
    (stochastic weight averaging, or an exponential moving average with
    ``multi_avg_fn=get_ema_multi_avg_fn(decay)``), as ``torch.optim.swa_utils.AveragedModel``.

    Call ``update_parameters(model)`` after each optimizer step (or epoch) to fold the
    current weights in; the first call copies them. ``forward`` runs the averaged copy.
    Its ``state_dict`` has PyTorch's keys: ``n_averaged`` and ``module.<name>``.

    Args:
        model (Module): the model to average (deep-copied).
        device (str or device, optional): where the averaged copy lives (default: the
            model's device).
        avg_fn (callable, optional): ``avg_fn(averaged, current, n_averaged) -> Tensor`` for
            one parameter (default: the equal-weight running average).
        multi_avg_fn (callable, optional): ``multi_avg_fn(averaged_list, current_list,
            n_averaged)``, updating the lists in place; give at most one of the two.
        use_buffers (bool, optional): average the buffers too (and use the parameters and
            buffers of ``module``); if False, buffers are copied from ``model`` at each
            update (default: False).
    """

    def __init__(self, model: Module, device=None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=long, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        """Runs the averaged copy of the model."""
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Folds ``model``'s current parameters (and, with ``use_buffers``, buffers) into
        the average; the first call copies them."""
        if self.use_buffers:
            self_params = itertools.chain(self.module.parameters(), self.module.buffers())
            model_params = itertools.chain(model.parameters(), model.buffers())
        else:
            self_params, model_params = self.parameters(), model.parameters()
        averaged, current = [], []
        copy_param = bool(self.n_averaged == 0)
        with no_grad():
            for p_avg, p_model in zip(self_params, model_params):
                p_model_ = p_model.detach().to(p_avg.device)
                averaged.append(p_avg.detach())
                current.append(p_model_)
                if copy_param:
                    p_avg.detach().copy_(p_model_)
            if self.n_averaged > 0:
                if self.avg_fn is not None:
                    for p_avg, p_model in zip(averaged, current):
                        n = self.n_averaged.to(p_avg.device)
                        p_avg.copy_(self.avg_fn(p_avg, p_model, n))
                else:  # by device and dtype; PyTorch's default is the list form on CUDA
                    for key in dict.fromkeys((str(p.device), p.dtype) for p in averaged):
                        pairs = [(a, c) for a, c in zip(averaged, current)
                                 if (str(a.device), a.dtype) == key]
                        n = self.n_averaged.to(pairs[0][0].device)
                        multi = self.multi_avg_fn
                        if multi is None and pairs[0][0].is_cuda:
                            multi = get_swa_multi_avg_fn()
                        if multi is not None:
                            multi([a for a, _ in pairs], [c for _, c in pairs], n)
                        else:
                            avg_fn = get_swa_avg_fn()
                            for a, c in pairs:
                                a.copy_(avg_fn(a, c, n))
            if not self.use_buffers:
                # the buffers are not averaged: keep them in sync with the source model
                for b_swa, b_model in zip(self.module.buffers(), model.buffers()):
                    b_swa.detach().copy_(b_model.detach().to(b_swa.device))
            self.n_averaged += 1


def update_bn(loader: Iterable[Any], model: Module, device=None) -> None:
    """Recomputes the running statistics of ``model``'s batch-norm layers with one pass over
    ``loader`` (a batch, or the first element of a list/tuple batch, is the input), as the
    exact average over the data (``momentum=None``); the momenta and the train/eval mode
    are restored afterwards. Does nothing if the model has no batch norm."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for inputs in loader:
            if isinstance(inputs, (list, tuple)):
                inputs = inputs[0]
            if device is not None:
                inputs = inputs.to(device)
            model(inputs)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    r"""Anneals each parameter group's learning rate to a fixed ``swa_lr`` over
    ``anneal_epochs`` steps, then holds it, as ``torch.optim.swa_utils.SWALR``::

        alpha(t) = (1 - cos(pi * t)) / 2   (cos)   or   t   (linear),  t = min(1, step / E)
        lr = swa_lr * alpha(t) + lr_0 * (1 - alpha(t))

    where ``lr_0`` is the lr the schedule started from (recovered from the current lr at
    each step, so that it composes with a scheduler that ran before it).

    Args:
        optimizer (Optimizer): the wrapped optimizer.
        swa_lr (float or list): the target lr, for all groups or one per group.
        anneal_epochs (int): the number of annealing steps, >= 0 (default: 10).
        anneal_strategy (str): ``"cos"`` or ``"linear"`` (default: ``"cos"``).
        last_epoch (int): the index of the last epoch (default: -1).
    """

    def __init__(self, optimizer: Optimizer, swa_lr, anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1) -> None:
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list:
        """The learning rates for the current step (called by ``step``)."""
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please "
                          "use `get_last_lr()`.", UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, prev_lrs)]

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = (self._cosine_anneal if anneal_strategy == "cos"
                            else self._linear_anneal)

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state: every attribute except the optimizer and the anneal
        function."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores the state from ``state_dict()``."""
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
