"""Containers of v2 transforms: ``Compose``, ``RandomApply``, ``RandomChoice`` and
``RandomOrder``. They pass whole samples (one input or several) to their transforms."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ember
from ember import nn

from ._transform import Transform

__all__ = ["Compose", "RandomApply", "RandomChoice", "RandomOrder"]


def _call(transform: Callable, inputs: tuple) -> Any:
    """Calls ``transform`` on a sample given as ``forward``'s positional inputs."""
    return transform(*inputs) if len(inputs) > 1 else transform(inputs[0])


def _as_inputs(outputs: Any, several: bool) -> tuple:
    return outputs if several else (outputs,)


def _module_list(transforms) -> nn.ModuleList | list:
    """Transforms that are modules are registered as submodules (so ``.to()`` and
    ``state_dict`` reach them); plain callables are kept in a list."""
    if all(isinstance(t, nn.Module) for t in transforms):
        return nn.ModuleList(transforms)
    return list(transforms)


def _repr_list(transforms) -> str:
    return "\n".join(f"    {t}" for t in transforms)


class Compose(Transform):
    """Apply ``transforms`` one after the other to the sample.

    Args:
        transforms (sequence of callables): the transforms, in order (at least one).
    """

    def __init__(self, transforms: Sequence[Callable]) -> None:
        super().__init__()
        if not isinstance(transforms, Sequence):
            raise TypeError("Argument transforms should be a sequence of callables")
        if not transforms:
            raise ValueError("Pass at least one transform")
        self.transforms = _module_list(transforms)

    def forward(self, *inputs: Any) -> Any:
        several = len(inputs) > 1
        for transform in self.transforms:
            outputs = _call(transform, inputs)
            inputs = _as_inputs(outputs, several)
        return outputs

    def extra_repr(self) -> str:
        return _repr_list(self.transforms)


class RandomApply(Transform):
    """Apply all of ``transforms`` (in order) with probability ``p``, or none of them.

    Args:
        transforms (sequence of callables or ``nn.ModuleList``): the transforms.
        p (float): probability of applying them. Default 0.5.
    """

    def __init__(self, transforms: Sequence[Callable] | nn.ModuleList, p: float = 0.5) -> None:
        super().__init__()
        if not isinstance(transforms, (Sequence, nn.ModuleList)):
            raise TypeError("Argument transforms should be a sequence of callables or a "
                            "`nn.ModuleList`")
        self.transforms = _module_list(list(transforms))
        if not (0.0 <= p <= 1.0):
            raise ValueError("`p` should be a floating point value in the interval "
                             "[0.0, 1.0].")
        self.p = p

    def forward(self, *inputs: Any) -> Any:
        sample = inputs if len(inputs) > 1 else inputs[0]
        if float(ember.rand(1).item()) >= self.p:
            return sample
        several = len(inputs) > 1
        outputs = sample
        for transform in self.transforms:
            outputs = _call(transform, inputs)
            inputs = _as_inputs(outputs, several)
        return outputs

    def extra_repr(self) -> str:
        return f"p={self.p},\n{_repr_list(self.transforms)}"


class RandomChoice(Transform):
    """Apply one of ``transforms``, picked at random (weighted by ``p``).

    Args:
        transforms (sequence of callables): the candidates.
        p (list of floats, optional): their relative weights (normalized to sum to 1);
            uniform by default.
    """

    def __init__(self, transforms: Sequence[Callable], p: list[float] | None = None) -> None:
        super().__init__()
        if not isinstance(transforms, Sequence):
            raise TypeError("Argument transforms should be a sequence of callables")
        weights = [1.0] * len(transforms) if p is None else [float(w) for w in p]
        if len(weights) != len(transforms):
            raise ValueError(f"Length of p doesn't match the number of transforms: "
                             f"{len(weights)} != {len(transforms)}")
        self.transforms = _module_list(transforms)
        self.p = [w / sum(weights) for w in weights]  # probabilities

    def forward(self, *inputs: Any) -> Any:
        pick = ember.multinomial(ember.tensor(self.p), 1)  # one draw, weighted by p
        return _call(self.transforms[int(pick[0])], inputs)

    def extra_repr(self) -> str:
        return f"transforms={list(self.transforms)}, p={self.p}"


class RandomOrder(Transform):
    """Apply all of ``transforms`` in a random order.

    Args:
        transforms (sequence of callables): the transforms.
    """

    def __init__(self, transforms: Sequence[Callable]) -> None:
        super().__init__()
        if not isinstance(transforms, Sequence):
            raise TypeError("Argument transforms should be a sequence of callables")
        self.transforms = _module_list(transforms)

    def forward(self, *inputs: Any) -> Any:
        several = len(inputs) > 1
        outputs = inputs if several else inputs[0]
        for idx in ember.randperm(len(self.transforms)).tolist():
            outputs = _call(self.transforms[idx], inputs)
            inputs = _as_inputs(outputs, several)
        return outputs

    def extra_repr(self) -> str:
        return _repr_list(self.transforms)
