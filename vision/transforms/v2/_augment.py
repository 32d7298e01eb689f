"""Augmentations that mix or erase: ``RandomErasing``, ``MixUp`` and ``CutMix``."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import ember
from ember import Tensor

from ..._pil import is_pil_image
from ...tv_tensors import BoundingBoxes, Image, KeyPoints, Mask, TVTensor, Video
from . import _random as R
from . import functional as F
from ._misc import _labels_getter_from
from ._pytree import tree_flatten, tree_unflatten
from ._transform import Transform, _MaybeTransform
from ._utils import has_any, query_chw, query_size
from .functional._utils import _plain, is_pure_tensor

__all__ = ["RandomErasing", "MixUp", "CutMix", "JPEG"]


class RandomErasing(_MaybeTransform):
    """With probability ``p``, erase a random rectangle of images and videos (area
    fraction from ``scale``, aspect ratio from ``ratio`` on a log scale) with ``value``.

    Args:
        p (float): probability. Default 0.5.
        scale (tuple): range of the erased area fraction. Default (0.02, 0.33).
        ratio (tuple): range of the rectangle's aspect ratio. Default (0.3, 3.3).
        value (number, sequence or "random"): erasing value: one value, one per channel, or
            "random" for standard normal noise. Default 0.
        inplace (bool): erase in place. Default False.
    """

    def __init__(self, p: float = 0.5, scale: Sequence[float] = (0.02, 0.33),
                 ratio: Sequence[float] = (0.3, 3.3), value: float = 0.0,
                 inplace: bool = False):
        super().__init__(p=p)
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        self.scale = scale
        self.ratio = ratio
        if isinstance(value, (int, float)):
            self.value = [float(value)]
        elif isinstance(value, str):
            self.value = None
        else:
            self.value = [float(v) for v in value]
        self.inplace = inplace
        self._log_ratio = (math.log(ratio[0]), math.log(ratio[1]))

    def _apply_functional(self, functional: Callable, inpt: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(inpt, (BoundingBoxes, KeyPoints, Mask)):
            warnings.warn(f"{type(self).__name__}() is currently passing through inputs of "
                          f"type tv_tensors.{type(inpt).__name__}. This will likely change "
                          f"in the future.", stacklevel=2)
        return super()._apply_functional(functional, inpt, *args, **kwargs)

    def _value(self, channels: int, h: int, w: int) -> Tensor:
        if self.value is None:  # "random": standard normal noise
            return ember.empty(channels, h, w).normal_()
        return ember.tensor(self.value)[:, None, None]

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        channels, in_h, in_w = query_chw(flat_inputs)
        if self.value is not None and len(self.value) not in (1, channels):
            raise ValueError(f"If value is a sequence, it should have either a single value or "
                             f"{channels} (number of inpt channels)")
        for _ in range(10):  # up to ten tries for a rectangle that fits
            target = in_h * in_w * R.uniform(self.scale[0], self.scale[1])
            ratio = math.exp(R.uniform(*self._log_ratio))
            side_h = int(round(math.sqrt(target * ratio)))
            side_w = int(round(math.sqrt(target / ratio)))
            if side_h < in_h and side_w < in_w:
                v = self._value(channels, side_h, side_w)
                top = R.randint(0, in_h - side_h + 1)
                left = R.randint(0, in_w - side_w + 1)
                return {"i": top, "j": left, "h": side_h, "w": side_w, "v": v}
        return {"i": 0, "j": 0, "h": in_h, "w": in_w, "v": None}  # no erasing

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if params["v"] is None:
            return inpt
        return self._apply_functional(F.erase, inpt, **params, inplace=self.inplace)


class _MixingTransform(Transform):
    """Shared machinery of MixUp and CutMix: a batch of images (B, C, H, W) or videos and
    their labels (B,) (class indices, one-hot encoded with ``num_classes``) or (B, K)."""

    def __init__(self, *, alpha: float = 1.0, num_classes: int | None = None,
                 labels_getter="default") -> None:
        super().__init__()
        self.alpha = float(alpha)
        self._dist = ember.distributions.Beta(ember.tensor([alpha]), ember.tensor([alpha]))
        if num_classes is not None and num_classes < 1:
            raise ValueError(f"num_classes must be greater than 0, got {num_classes}")
        self.num_classes = num_classes
        self._labels_getter = _labels_getter_from(labels_getter)

    def _checked_labels(self, sample: Any) -> Tensor:
        labels = self._labels_getter(sample)
        if not isinstance(labels, Tensor):
            raise ValueError(f"The labels must be a torch.Tensor, but got {type(labels)} "
                             f"instead.")
        if labels.ndim == 1:
            if self.num_classes is None:
                raise ValueError("num_classes must be passed if the labels are index-based "
                                 "(1D)")
        elif labels.ndim == 2:
            if self.num_classes is not None and labels.shape[-1] != self.num_classes:
                raise ValueError(f"When passing 2D labels, the number of elements in last "
                                 f"dimension must match num_classes: {labels.shape[-1]} != "
                                 f"{self.num_classes}. You can Leave num_classes to None.")
        else:
            raise ValueError(f"labels should be index based with shape (batch_size,) or "
                             f"probability based with shape (batch_size, num_classes), but "
                             f"got a tensor of shape {labels.shape} instead.")
        return labels

    def forward(self, *inputs: Any) -> Any:
        sample = inputs[0] if len(inputs) == 1 else inputs
        leaves, treespec = tree_flatten(sample)
        if has_any(leaves, is_pil_image, BoundingBoxes, Mask, KeyPoints):
            raise ValueError(f"{type(self).__name__}() does not support PIL images, bounding "
                             f"boxes, keypoints and masks.")
        labels = self._checked_labels(sample)
        selected = self._which_inputs(leaves)
        params = self.make_params([leaf for leaf, keep in zip(leaves, selected) if keep])
        params.update(labels=labels, batch_size=labels.shape[0])
        new_leaves = [self.transform(leaf, params) if keep or leaf is labels else leaf
                      for leaf, keep in zip(leaves, selected)]
        return tree_unflatten(new_leaves, treespec)

    def _check_batch(self, inpt: Tensor, *, batch_size: int) -> None:
        expected = 5 if isinstance(inpt, Video) else 4
        if inpt.ndim != expected:
            raise ValueError(f"Expected a batched input with {expected} dims, but got "
                             f"{inpt.ndim} dimensions instead.")
        if inpt.shape[0] != batch_size:
            raise ValueError(f"The batch size of the image or video does not match the batch "
                             f"size of the labels: {inpt.shape[0]} != {batch_size}.")

    def _mix_labels(self, label: Tensor, *, lam: float) -> Tensor:
        if label.ndim == 1:
            if label.dtype != ember.int64:
                raise RuntimeError("one_hot is only applicable to index tensor of type "
                                   "LongTensor.")
            label = ember.nn.functional.one_hot(label, num_classes=self.num_classes)
        if not label.dtype.is_floating_point:
            label = label.float()
        return label.roll(1, 0) * (1.0 - lam) + label * lam

    def _draw_lambda(self) -> float:
        return float(self._dist.sample().item())

    def _is_image(self, inpt: Any) -> bool:
        return isinstance(inpt, (Image, Video)) or is_pure_tensor(inpt)

    def _rewrap(self, inpt: Any, output: Tensor) -> Any:
        return type(inpt)._wrap(output) if isinstance(inpt, TVTensor) else output


class MixUp(_MixingTransform):
    """MixUp on a batch: each image (and its one-hot label) is blended with the previous
    one in the batch, ``lam * x + (1 - lam) * x_prev`` with ``lam ~ Beta(alpha, alpha)``
    drawn once per call. Shuffle the batch beforehand: pairs are consecutive samples.

    Args:
        alpha (float): Beta distribution parameter. Default 1.
        num_classes (int, optional): number of classes, to one-hot encode (B,) labels.
        labels_getter (callable or "default"): where the labels are; by default the second
            input if it is a tensor (``MixUp()(images, labels)``), or the "labels" entry of a
            dict.
    """

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        return {"lam": self._draw_lambda()}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        lam = params["lam"]
        if inpt is params["labels"]:
            return self._mix_labels(inpt, lam=lam)
        if not self._is_image(inpt):
            return inpt
        self._check_batch(inpt, batch_size=params["batch_size"])
        x = _plain(inpt)
        output = x.roll(1, 0) * (1.0 - lam) + x * lam
        return self._rewrap(inpt, output.to(x.dtype))


class CutMix(_MixingTransform):
    """CutMix on a batch: a random box of each image is replaced by the same box of the
    previous image in the batch; labels are mixed by the kept area fraction. The box has
    area fraction ``1 - lam`` with ``lam ~ Beta(alpha, alpha)``, drawn once per call.

    Args:
        alpha (float): Beta distribution parameter. Default 1.
        num_classes (int, optional): number of classes, to one-hot encode (B,) labels.
        labels_getter (callable or "default"): where the labels are (see :class:`MixUp`).
    """

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        lam = self._draw_lambda()
        in_h, in_w = query_size(flat_inputs)
        cx, cy = R.randint(0, in_w), R.randint(0, in_h)
        half = 0.5 * math.sqrt(1.0 - lam)
        half_w, half_h = int(half * in_w), int(half * in_h)
        x1, x2 = max(cx - half_w, 0), min(cx + half_w, in_w)
        y1, y2 = max(cy - half_h, 0), min(cy + half_h, in_h)
        lam_adjusted = float(1.0 - (x2 - x1) * (y2 - y1) / (in_w * in_h))
        return {"box": (x1, y1, x2, y2), "lam_adjusted": lam_adjusted}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if inpt is params["labels"]:
            return self._mix_labels(inpt, lam=params["lam_adjusted"])
        if not self._is_image(inpt):
            return inpt
        self._check_batch(inpt, batch_size=params["batch_size"])
        x1, y1, x2, y2 = params["box"]
        x = _plain(inpt)
        output = x.clone()
        output[..., y1:y2, x1:x2] = x.roll(1, 0)[..., y1:y2, x1:x2]
        return self._rewrap(inpt, output)


class JPEG(Transform):
    """Apply JPEG compression and decompression at a quality drawn uniformly (integers)
    from ``quality``, once per call.

    Args:
        quality (int or sequence): the quality (1 to 100), or an inclusive range (min, max).
    """

    def __init__(self, quality: int | Sequence[int]):
        super().__init__()
        if isinstance(quality, int):
            if isinstance(quality, bool):
                raise TypeError("quality can't be bool")
            quality = [quality, quality]
        elif not (isinstance(quality, Sequence) and len(quality) == 2):
            error = ValueError if isinstance(quality, Sequence) else TypeError
            raise error("quality should be a sequence of length 2.")
        if not (1 <= quality[0] <= quality[1] <= 100 and isinstance(quality[0], int)
                and isinstance(quality[1], int)):
            raise ValueError(f"quality must be an integer from 1 to 100, got quality "
                             f"={quality}")
        self.quality = quality

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        return {"quality": R.randint(self.quality[0], self.quality[1] + 1)}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.jpeg, inpt, quality=params["quality"])
