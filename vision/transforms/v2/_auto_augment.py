"""Automatic augmentation policies for v2: ``AutoAugment``, ``RandAugment``,
``TrivialAugmentWide`` and ``AugMix``.

They work on exactly one image or video per sample (boxes, masks and key points are
rejected, other inputs pass through). The policies and magnitude tables are those of the
v1 transforms (``ember.vision.transforms.autoaugment``), except Solarize, whose v2
magnitudes are fractions of the value range; the operations run through the v2
functionals, whose rounding is torchvision v2's.
"""

from __future__ import annotations

import math
from typing import Any

import ember
import numpy as np
from ember import Tensor

from ..._pil import is_pil_image
from ...tv_tensors import BoundingBoxes, KeyPoints, Mask, TVTensor
from .. import autoaugment as v1
from ..autoaugment import AutoAugmentPolicy
from ..functional import InterpolationMode
from . import _random as R
from . import functional as F
from ._pytree import tree_flatten, tree_unflatten
from ._transform import Transform
from ._utils import _fill_for, _fill_per_type
from .functional._geometry import _interpolation_mode
from .functional._utils import _plain, is_pure_tensor

__all__ = ["AutoAugment", "RandAugment", "TrivialAugmentWide", "AugMix", "AutoAugmentPolicy"]


def _shear(image, degrees_x: float, degrees_y: float, interpolation, fill):
    return F.affine(image, angle=0.0, translate=[0, 0], scale=1.0,
                    shear=[degrees_x, degrees_y], interpolation=interpolation, fill=fill,
                    center=[0, 0])


def _translate(image, dx: int, dy: int, interpolation, fill):
    return F.affine(image, angle=0.0, translate=[dx, dy], scale=1.0, shear=[0.0, 0.0],
                    interpolation=interpolation, fill=fill)


def _value_range(image) -> float:
    if isinstance(image, Tensor):
        return 1.0 if image.is_floating_point() else float(np.iinfo(image.detach()._data.dtype).max)
    return 255.0


def apply_op(image, op: str, magnitude: float, interpolation: InterpolationMode, fill):
    """One auto-augment operation ``op`` at ``magnitude`` on an image (tensor or PIL):
    shears take the tangent of the angle, translations whole pixels, enhancements
    ``1 + magnitude``, Solarize a fraction of the value range."""
    m = float(magnitude)
    if op == "Identity":
        return image
    if op == "ShearX":
        return _shear(image, math.degrees(math.atan(m)), 0.0, interpolation, fill)
    if op == "ShearY":
        return _shear(image, 0.0, math.degrees(math.atan(m)), interpolation, fill)
    if op == "TranslateX":
        return _translate(image, int(m), 0, interpolation, fill)
    if op == "TranslateY":
        return _translate(image, 0, int(m), interpolation, fill)
    if op == "Rotate":
        return F.rotate(image, m, interpolation=interpolation, fill=fill)
    enhance = {"Brightness": F.adjust_brightness, "Color": F.adjust_saturation,
               "Contrast": F.adjust_contrast, "Sharpness": F.adjust_sharpness}
    if op in enhance:
        return enhance[op](image, 1.0 + m)
    if op == "Posterize":
        return F.posterize(image, int(m))
    if op == "Solarize":
        return F.solarize(image, _value_range(image) * m)
    simple = {"AutoContrast": F.autocontrast, "Equalize": F.equalize, "Invert": F.invert}
    if op in simple:
        return simple[op](image)
    raise ValueError(f"No transform available for {op}")


def _v2_table(table: dict, num_bins: int) -> dict:
    """A v1 magnitude table with v2's Solarize magnitudes (fractions, 1 down to 0)."""
    if "Solarize" in table:
        table = dict(table)
        table["Solarize"] = (np.linspace(1.0, 0.0, num_bins, dtype=np.float32), False)
    return table


def _signed(value: float, signed: bool) -> float:
    # a fair coin decides the sign of signed operations (only they toss it)
    return -value if signed and R.randint(0, 2) else value


class _AutoAugmentBase(Transform):
    """Finds the sample's single image or video, augments it (``_augment`` on the plain
    tensor or PIL image) and puts the result back with the input's type."""

    def __init__(self, *, interpolation, fill) -> None:
        super().__init__()
        self.interpolation = _interpolation_mode(interpolation)
        self.fill = fill
        self._fill = _fill_per_type(fill)

    def _augment(self, image, fill):
        raise NotImplementedError

    def forward(self, *inputs: Any) -> Any:
        sample = inputs if len(inputs) > 1 else inputs[0]
        flat_inputs, spec = tree_flatten(sample)
        found = []
        for idx, (inpt, n) in enumerate(zip(flat_inputs, self._which_inputs(flat_inputs))):
            if not n:
                continue
            if isinstance(inpt, (BoundingBoxes, Mask, KeyPoints)):
                raise TypeError(f"Inputs of type {type(inpt).__name__} are not supported by "
                                f"{type(self).__name__}()")
            if is_pure_tensor(inpt) or is_pil_image(inpt) or isinstance(inpt, TVTensor):
                found.append(idx)
        if not found:
            raise TypeError("Found no image in the sample.")
        if len(found) > 1:
            raise TypeError(f"Auto augment transformations are only properly defined for a "
                            f"single image or video, but found {len(found)}.")
        idx = found[0]
        inpt = flat_inputs[idx]
        fill = _fill_for(self._fill, type(inpt))
        out = self._augment(_plain(inpt) if isinstance(inpt, Tensor) else inpt, fill)
        if isinstance(inpt, TVTensor):
            out = type(inpt)._wrap(out)
        flat_inputs = list(flat_inputs)
        flat_inputs[idx] = out
        return tree_unflatten(flat_inputs, spec)

    def _apply(self, image, op: str, magnitudes, signed: bool, index, fill):
        magnitude = float(magnitudes[index]) if magnitudes.ndim else 0.0
        return apply_op(image, op, _signed(magnitude, signed), self.interpolation, fill)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v.value if k == 'interpolation' else v}"
                         for k, v in self._repr_fields().items())

    def _repr_fields(self) -> dict:
        return {"interpolation": self.interpolation}


class AutoAugment(_AutoAugmentBase):
    """AutoAugment ("Learning Augmentation Strategies from Data"): one of the learned
    sub-policies of ``policy`` (two operations with their probabilities and magnitudes) is
    picked at random and applied.

    Args:
        policy (AutoAugmentPolicy): IMAGENET (default), CIFAR10 or SVHN.
        interpolation (InterpolationMode): default nearest.
        fill (number, sequence or dict, optional): fill of the geometric operations.
    """

    def __init__(self, policy: AutoAugmentPolicy = AutoAugmentPolicy.IMAGENET,
                 interpolation: InterpolationMode | int = InterpolationMode.NEAREST,
                 fill=None) -> None:
        super().__init__(interpolation=interpolation, fill=fill)
        self.policy = policy
        self._policies = v1.AutoAugment(policy).policies

    def _augmentation_space(self, num_bins: int, height: int, width: int) -> dict:
        return _v2_table(v1.AutoAugment()._augmentation_space(num_bins, (height, width)),
                         num_bins)

    def _augment(self, image, fill):
        _, height, width = F.get_dimensions(image)
        table = self._augmentation_space(10, height, width)
        policy = self._policies[R.randint(0, len(self._policies))]
        for op, probability, level in policy:
            if not R.rand() <= probability:
                continue
            magnitudes, signed = table[op]
            image = self._apply(image, op, magnitudes, signed, level or 0, fill)
        return image

    def _repr_fields(self) -> dict:
        return {"interpolation": self.interpolation, "policy": self.policy}


class RandAugment(_AutoAugmentBase):
    """RandAugment: ``num_ops`` operations picked uniformly, all at ``magnitude`` (out of
    ``num_magnitude_bins``), each with a random sign.

    Args:
        num_ops (int): operations per image. Default 2.
        magnitude (int): magnitude bin. Default 9.
        num_magnitude_bins (int): number of bins. Default 31.
        interpolation (InterpolationMode): default nearest.
        fill (number, sequence or dict, optional): fill of the geometric operations.
    """

    def __init__(self, num_ops: int = 2, magnitude: int = 9, num_magnitude_bins: int = 31,
                 interpolation: InterpolationMode | int = InterpolationMode.NEAREST,
                 fill=None) -> None:
        super().__init__(interpolation=interpolation, fill=fill)
        self.num_ops = num_ops
        self.magnitude = magnitude
        self.num_magnitude_bins = num_magnitude_bins

    def _augmentation_space(self, num_bins: int, height: int, width: int) -> dict:
        return _v2_table(v1.RandAugment()._augmentation_space(num_bins, (height, width)),
                         num_bins)

    def _augment(self, image, fill):
        _, height, width = F.get_dimensions(image)
        table = self._augmentation_space(self.num_magnitude_bins, height, width)
        ops = list(table)
        for _ in range(self.num_ops):
            op = ops[R.randint(0, len(ops))]
            magnitudes, signed = table[op]
            image = self._apply(image, op, magnitudes, signed, self.magnitude, fill)
        return image

    def _repr_fields(self) -> dict:
        return {"interpolation": self.interpolation, "num_ops": self.num_ops,
                "magnitude": self.magnitude, "num_magnitude_bins": self.num_magnitude_bins}


class TrivialAugmentWide(_AutoAugmentBase):
    """TrivialAugment Wide: one operation at a random magnitude (and sign).

    Args:
        num_magnitude_bins (int): number of magnitude bins. Default 31.
        interpolation (InterpolationMode): default nearest.
        fill (number, sequence or dict, optional): fill of the geometric operations.
    """

    def __init__(self, num_magnitude_bins: int = 31,
                 interpolation: InterpolationMode | int = InterpolationMode.NEAREST,
                 fill=None) -> None:
        super().__init__(interpolation=interpolation, fill=fill)
        self.num_magnitude_bins = num_magnitude_bins

    def _augmentation_space(self, num_bins: int, height: int, width: int) -> dict:
        return _v2_table(v1.TrivialAugmentWide()._augmentation_space(num_bins), num_bins)

    def _augment(self, image, fill):
        _, height, width = F.get_dimensions(image)
        table = self._augmentation_space(self.num_magnitude_bins, height, width)
        ops = list(table)
        op = ops[R.randint(0, len(ops))]
        magnitudes, signed = table[op]
        index = R.randint(0, len(magnitudes)) if magnitudes.ndim else 0
        return self._apply(image, op, magnitudes, signed, index, fill)

    def _repr_fields(self) -> dict:
        return {"interpolation": self.interpolation,
                "num_magnitude_bins": self.num_magnitude_bins}


class AugMix(_AutoAugmentBase):
    """AugMix: ``mixture_width`` chains of random operations (``chain_depth`` long, or 1
    to 3 when -1) at magnitudes up to ``severity``, mixed with Dirichlet weights and then
    blended with the original image with a Beta weight.

    Args:
        severity (int): highest magnitude bin (1 to 10). Default 3.
        mixture_width (int): number of chains. Default 3.
        chain_depth (int): operations per chain; random in [1, 3] when -1 (default).
        alpha (float): Dirichlet and Beta parameter. Default 1.
        all_ops (bool): also use the colour and sharpness operations. Default True.
        interpolation (InterpolationMode): default bilinear.
        fill (number, sequence or dict, optional): fill of the geometric operations.
    """

    _PARAMETER_MAX = 10

    def __init__(self, severity: int = 3, mixture_width: int = 3, chain_depth: int = -1,
                 alpha: float = 1.0, all_ops: bool = True,
                 interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
                 fill=None) -> None:
        super().__init__(interpolation=interpolation, fill=fill)
        if not 1 <= severity <= self._PARAMETER_MAX:
            raise ValueError(f"The severity must be between [1, {self._PARAMETER_MAX}]. Got "
                             f"{severity} instead.")
        self.severity = severity
        self.mixture_width = mixture_width
        self.chain_depth = chain_depth
        self.alpha = alpha
        self.all_ops = all_ops

    def _augmentation_space(self, num_bins: int, height: int, width: int) -> dict:
        table = v1.AugMix(all_ops=self.all_ops)._augmentation_space(num_bins, (height, width))
        return _v2_table(table, num_bins)

    def _chain(self, x, table: dict, fill):
        ops = list(table)
        depth = self.chain_depth if self.chain_depth > 0 else R.randint(1, 4)
        for _ in range(depth):
            op = ops[R.randint(0, len(ops))]
            magnitudes, signed = table[op]
            x = self._apply(x, op, magnitudes, signed, R.randint(0, self.severity), fill)
        return x

    def _augment(self, image, fill):
        from ember.distributions import Dirichlet

        is_pil = not isinstance(image, Tensor)
        x = F.pil_to_tensor(image) if is_pil else image
        _, height, width = F.get_dimensions(x)
        table = self._augmentation_space(self._PARAMETER_MAX, height, width)
        shape = tuple(x.shape)
        batch = x.reshape((-1,) + shape[-3:])  # (B, C, H, W)
        n = batch.shape[0]
        per_sample = (n, 1, 1, 1)
        # the original-vs-chains split (a Beta draw), then the chains' own weights
        split = Dirichlet(ember.tensor([self.alpha, self.alpha]).expand(n, -1)).sample()
        weights = Dirichlet(ember.tensor([float(self.alpha)] * self.mixture_width)
                            .expand(n, -1)).sample() * split[:, 1:2]
        mixed = split[:, 0].reshape(per_sample) * batch
        for c in range(self.mixture_width):
            chain = self._chain(batch, table, fill)
            mixed = mixed + weights[:, c].reshape(per_sample) * chain
        out = mixed.reshape(shape).to(x.dtype)
        return F.to_pil_image(out) if is_pil else out

    def _repr_fields(self) -> dict:
        return {"interpolation": self.interpolation, "severity": self.severity,
                "mixture_width": self.mixture_width, "chain_depth": self.chain_depth,
                "alpha": self.alpha, "all_ops": self.all_ops}
