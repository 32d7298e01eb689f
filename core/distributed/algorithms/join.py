"""The ``Join`` context manager, as ``torch.distributed.algorithms.join``.

Ranks that run out of inputs early "join": on leaving the context they keep answering the
collectives of the ranks still training (each joinable's ``JoinHook.main_hook`` shadows one
iteration of its collective communication) until every rank has joined. Ranks still
training announce each iteration with ``Join.notify_join_context(joinable)``: an
``all_reduce`` of a one, so that the joined ranks (which contribute zero) can count them.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass

__all__ = ["JoinHook", "Joinable", "Join"]


class JoinHook:
    """What a joined rank does for one joinable: ``main_hook`` once per iteration while some
    rank still trains, ``post_hook(is_last_joiner)`` once all have joined. Both do nothing
    by default."""

    def main_hook(self) -> None:
        """Shadows one training iteration's collectives of a rank that still trains."""

    def post_hook(self, is_last_joiner: bool) -> None:
        """Runs after every rank has joined; ``is_last_joiner`` tells whether this rank was
        among the last to join."""


@dataclass
class _JoinConfig:
    enable: bool
    throw_on_early_termination: bool
    is_first_joinable: bool

    @staticmethod
    def construct_disabled_join_config() -> _JoinConfig:
        return _JoinConfig(enable=False, throw_on_early_termination=False,
                           is_first_joinable=False)


class Joinable(ABC):
    """A class whose instances can take part in a ``Join`` context (e.g. a model or an
    optimizer doing per-iteration collectives): it names its ``join_hook``, the device and
    the process group of its collectives."""

    @abstractmethod
    def __init__(self):
        super().__init__()
        self._join_config = _JoinConfig.construct_disabled_join_config()

    @abstractmethod
    def join_hook(self, **kwargs) -> JoinHook:
        """The ``JoinHook`` of this joinable (``kwargs`` are those given to ``Join``)."""

    @property
    @abstractmethod
    def join_device(self):
        """The device of the join context's collectives."""

    @property
    @abstractmethod
    def join_process_group(self):
        """The process group of the join context's collectives."""


class Join:
    """Context manager for uneven inputs across ranks (see the module docstring).

    ``joinables`` (at least one, all on one process group) take part; ``enable=False`` turns
    the context into a no-op; with ``throw_on_early_termination`` every rank raises
    ``RuntimeError`` as soon as one rank runs out of inputs, instead of shadowing. Extra
    keyword arguments go to each joinable's ``join_hook``.
    """

    def __init__(self, joinables: list, enable: bool = True,
                 throw_on_early_termination: bool = False, **kwargs):
        if len(joinables) == 0:
            raise ValueError("The join context manager requires at least one joinable")
        self._joinables = list(joinables)
        self._join_hooks = [j.join_hook(**kwargs) for j in self._joinables]
        self._enable = enable
        self._throw_on_early_termination = throw_on_early_termination
        for i, joinable in enumerate(self._joinables):
            joinable._join_config = _JoinConfig(
                enable=enable, throw_on_early_termination=throw_on_early_termination,
                is_first_joinable=i == 0)
        self._process_group, self._device = None, None
        for joinable in self._joinables:
            group = joinable.join_process_group
            if self._process_group is None:
                self._process_group, self._device = group, joinable.join_device
            elif group != self._process_group:
                raise ValueError("Using join context manager with multiple process groups")
        from .. import get_rank

        self._rank = get_rank(self._process_group)

    def __enter__(self):
        return None

    def __exit__(self, exc_type, exc_value, traceback):
        if not self._enable or exc_type is not None:
            return None  # an exception propagates
        is_last_joiner, rounds = True, 0
        while self._count_nonjoined() > 0:
            if self._throw_on_early_termination:
                self._notify_procs_to_terminate()
            for hook in self._join_hooks:
                hook.main_hook()
            is_last_joiner = False
            rounds += 1
            if rounds == 1000:
                warnings.warn(f"Rank {self._rank} has shadowed 1000 collective iterations in "
                              "the join context: the inputs may be very uneven", stacklevel=2)
        for hook in self._join_hooks:
            hook.post_hook(is_last_joiner)
        return None

    def _count_nonjoined(self) -> int:
        from ..._creation import zeros
        from .. import all_reduce

        count = zeros(1, device=self._device)  # a joined rank adds nothing
        all_reduce(count, group=self._process_group)
        return int(count.item())

    def _notify_procs_to_terminate(self):
        from ..._creation import ones
        from .. import all_reduce

        all_reduce(ones(1, device=self._device), group=self._process_group)
        raise RuntimeError(f"Rank {self._rank} exhausted all inputs.")

    @staticmethod
    def notify_join_context(joinable: Joinable):
        """Called by ``joinable`` (once per iteration, before its own collectives) on a rank
        that still trains: counts it as not joined. Returns the async ``Work`` of that
        ``all_reduce`` (``None`` unless ``joinable`` is the context's first joinable and the
        context is enabled). With ``throw_on_early_termination`` raises ``RuntimeError``
        when another rank has run out of inputs."""
        if not hasattr(joinable, "_join_config"):
            raise AttributeError(f"{type(joinable)} has no _join_config: its constructor "
                                 "must call Joinable.__init__")
        config = joinable._join_config
        if not config.is_first_joinable or not config.enable:
            return None
        from ..._creation import ones, zeros
        from .. import all_reduce

        device, group = joinable.join_device, joinable.join_process_group
        work = all_reduce(ones(1, device=device), group=group, async_op=True)
        if config.throw_on_early_termination:
            flag = zeros(1, device=device)
            all_reduce(flag, group=group)
            if flag.item():
                raise RuntimeError("Detected at least one rank that exhausted inputs. "
                                   "Throwing across all ranks.")
        return work
