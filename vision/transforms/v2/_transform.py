"""The ``Transform`` base class of the v2 transforms: a transform takes any nested sample
(tuples, lists, dicts of images, videos, masks, boxes, key points, labels...), draws one set
of random parameters for the whole sample and applies it to every input it knows.

Which inputs are transformed: every TVTensor and PIL image (types without a kernel for
the transform pass through unchanged), and plain tensors by torchvision's rule: when the
sample holds no ``Image``, ``Video`` or PIL image, the first plain tensor is the image and
other plain tensors pass through; otherwise all plain tensors pass through. Everything else
(ints, strings, None...) passes through.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import ember
from ember import Tensor, nn

from ..._pil import is_pil_image
from ...tv_tensors import Image, TVTensor, Video
from ._pytree import tree_flatten, tree_unflatten
from ._utils import check_type
from .functional._utils import _find_kernel, is_pure_tensor

__all__ = ["Transform"]


def _is_transformable_type(inpt: Any) -> bool:
    return isinstance(inpt, Tensor) or is_pil_image(inpt)


class Transform(nn.Module):
    """Base class of the v2 transforms.

    Subclasses implement ``transform(inpt, params)`` (what happens to one input) and,
    when random, ``make_params(flat_inputs)`` (the parameters drawn once per call, from the
    list of inputs that will be transformed). ``check_inputs(flat_inputs)`` may reject a
    sample. Do not override ``forward``.
    """

    # inputs of these types (or passing these checks) are given to ``transform``
    _transformed_types: tuple = (Tensor, is_pil_image)

    def __init__(self) -> None:
        super().__init__()

    def check_inputs(self, flat_inputs: list[Any]) -> None:
        """Raise if the sample cannot be transformed (nothing by default)."""

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        """The parameters of one call (random ones are drawn here); ``{}`` by default."""
        return {}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        """Transform one input with the call's ``params``."""
        raise NotImplementedError

    def _apply_functional(self, functional: Callable, inpt: Any, *args: Any, **kwargs: Any) -> Any:
        """``functional(inpt, ...)``, or ``inpt`` unchanged for a TVTensor type that has no
        kernel for it (e.g. boxes under a colour transform)."""
        if isinstance(inpt, TVTensor) and _find_kernel(functional, type(inpt)) is None:
            return inpt
        return functional(inpt, *args, **kwargs)

    def _which_inputs(self, flat_inputs: list[Any]) -> list[bool]:
        """For each leaf, whether ``transform`` gets it (see the module docstring)."""
        has_image = any(isinstance(leaf, (Image, Video)) or is_pil_image(leaf)
                        for leaf in flat_inputs)
        eligible = [check_type(leaf, self._transformed_types) for leaf in flat_inputs]
        pure = [is_pure_tensor(leaf) for leaf in flat_inputs]
        # the image stand-in: the first eligible plain tensor, unless a real image exists
        stand_in = None if has_image else next(
            (k for k, (ok, p) in enumerate(zip(eligible, pure)) if ok and p), None)
        return [ok and (not p or k == stand_in)
                for k, (ok, p) in enumerate(zip(eligible, pure))]

    def _run(self, sample: Any, check: bool = True) -> Any:
        """Flatten ``sample``, draw the call's parameters from the selected leaves,
        transform those leaves and rebuild the sample."""
        leaves, treespec = tree_flatten(sample)
        if check:
            self.check_inputs(leaves)
        selected = self._which_inputs(leaves)
        params = self.make_params([leaf for leaf, keep in zip(leaves, selected) if keep])
        new_leaves = [self.transform(leaf, params) if keep else leaf
                      for leaf, keep in zip(leaves, selected)]
        return tree_unflatten(new_leaves, treespec)

    def forward(self, *inputs: Any) -> Any:
        """Transform a sample: one input, or several (returned as a tuple)."""
        return self._run(inputs[0] if len(inputs) == 1 else inputs)

    def extra_repr(self) -> str:
        """The public, simple-valued attributes, as ``name=value``."""
        parts = []
        for name, value in self.__dict__.items():
            if name.startswith("_") or name == "training" or value is None:
                continue
            if isinstance(value, enum.Enum):
                value = value.value
            if not isinstance(value, (bool, int, float, str, tuple, list)):
                continue
            parts.append(f"{name}={value}")
        return ", ".join(parts)


class _MaybeTransform(Transform):
    """A transform applied with probability ``p`` (one draw per call, from ember's
    generator); the whole sample passes through otherwise."""

    def __init__(self, p: float = 0.5) -> None:
        if not (0.0 <= p <= 1.0):
            raise ValueError("`p` should be a floating point value in the interval "
                             "[0.0, 1.0].")
        super().__init__()
        self.p = p

    def forward(self, *inputs: Any) -> Any:
        sample = inputs[0] if len(inputs) == 1 else inputs
        self.check_inputs(tree_flatten(sample)[0])
        if float(ember.rand(1).item()) >= self.p:  # one draw decides for the whole sample
            return sample
        return self._run(sample, check=False)
