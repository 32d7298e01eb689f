"""Colour v2 transforms: grayscale, colour jitter, photometric distortion, channel
permutation, and the random invert / posterize / solarize / sharpness / autocontrast /
equalize transforms. Masks, boxes and key points pass through them unchanged."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ember

from . import _random as R
from . import functional as F
from ._transform import Transform, _MaybeTransform
from ._utils import query_chw

__all__ = ["Grayscale", "RandomGrayscale", "RGB", "ColorJitter", "RandomChannelPermutation",
           "RandomPhotometricDistort", "RandomEqualize", "RandomInvert", "RandomPosterize",
           "RandomSolarize", "RandomAutocontrast", "RandomAdjustSharpness"]


class Grayscale(Transform):
    """Convert images and videos to grayscale.

    Args:
        num_output_channels (int): 1 or 3. Default 1.
    """

    def __init__(self, num_output_channels: int = 1):
        super().__init__()
        self.num_output_channels = num_output_channels

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.rgb_to_grayscale, inpt,
                                      num_output_channels=self.num_output_channels)


class RandomGrayscale(_MaybeTransform):
    """Convert images and videos to grayscale with probability ``p``, keeping their number
    of channels.

    Args:
        p (float): probability. Default 0.1.
    """

    def __init__(self, p: float = 0.1) -> None:
        super().__init__(p=p)

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        return {"num_input_channels": query_chw(flat_inputs)[0]}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.rgb_to_grayscale, inpt,
                                      num_output_channels=params["num_input_channels"])


class RGB(Transform):
    """Convert images and videos to RGB (grayscale ones get three equal channels)."""

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.grayscale_to_rgb, inpt)


def _check_jitter(value, name: str, center: float = 1.0,
                  bound: tuple[float, float] = (0, float("inf")),
                  clip_first_on_zero: bool = True) -> tuple[float, float] | None:
    """A jitter range (lo, hi) from a number d (``center`` +- d) or a pair; None when the
    range is the single point ``center`` (no change)."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        lo, hi = center - value, center + value
        lo = max(lo, 0.0) if clip_first_on_zero else lo
    elif isinstance(value, Sequence) and len(value) == 2:
        lo, hi = (float(v) for v in value)
    else:
        raise TypeError(f"{name}={value} should be a single number or a sequence with length "
                        f"2.")
    if not (bound[0] <= lo <= hi <= bound[1]):
        raise ValueError(f"{name} values should be between {bound} and increasing, but got "
                         f"{[lo, hi]}.")
    if lo == hi == center:
        return None
    return float(lo), float(hi)


class ColorJitter(Transform):
    """Randomly change the brightness, contrast, saturation and hue, in a random order.

    Each factor is drawn uniformly from its range: a number v gives [max(0, 1 - v), 1 + v]
    (hue: [-v, v], v <= 0.5), a pair gives the range itself; None leaves it unchanged.

    Args:
        brightness, contrast, saturation (float or tuple, optional): factor ranges.
        hue (float or tuple, optional): hue shift range, within [-0.5, 0.5].
    """

    def __init__(self, brightness=None, contrast=None, saturation=None, hue=None) -> None:
        super().__init__()
        self.brightness = _check_jitter(brightness, "brightness")
        self.contrast = _check_jitter(contrast, "contrast")
        self.saturation = _check_jitter(saturation, "saturation")
        self.hue = _check_jitter(hue, "hue", center=0, bound=(-0.5, 0.5),
                                 clip_first_on_zero=False)

    @staticmethod
    def _factor(value) -> float | None:
        return None if value is None else R.uniform(value[0], value[1])

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        return {"fn_idx": ember.randperm(4),
                "brightness_factor": self._factor(self.brightness),
                "contrast_factor": self._factor(self.contrast),
                "saturation_factor": self._factor(self.saturation),
                "hue_factor": self._factor(self.hue)}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        steps = [(F.adjust_brightness, params["brightness_factor"]),
                 (F.adjust_contrast, params["contrast_factor"]),
                 (F.adjust_saturation, params["saturation_factor"]),
                 (F.adjust_hue, params["hue_factor"])]
        output = inpt
        for idx in params["fn_idx"].tolist():
            functional, factor = steps[idx]
            if factor is not None:
                output = self._apply_functional(functional, output, factor)
        return output


class RandomChannelPermutation(Transform):
    """Shuffle the channels of images and videos."""

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        return {"permutation": ember.randperm(query_chw(flat_inputs)[0])}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.permute_channels, inpt,
                                      params["permutation"].tolist())


class RandomPhotometricDistort(Transform):
    """The photometric distortion of SSD: each of brightness, contrast, saturation, hue
    and a channel permutation is applied with probability ``p``; contrast comes before or
    after saturation and hue (even odds).

    Args:
        brightness, contrast, saturation, hue (tuple): factor ranges. Defaults
            (0.875, 1.125), (0.5, 1.5), (0.5, 1.5), (-0.05, 0.05).
        p (float): probability of each distortion. Default 0.5.
    """

    def __init__(self, brightness: tuple[float, float] = (0.875, 1.125),
                 contrast: tuple[float, float] = (0.5, 1.5),
                 saturation: tuple[float, float] = (0.5, 1.5),
                 hue: tuple[float, float] = (-0.05, 0.05), p: float = 0.5):
        super().__init__()
        self.brightness = _check_jitter(brightness, "brightness")
        self.contrast = _check_jitter(contrast, "contrast")
        self.hue = _check_jitter(hue, "hue", center=0, bound=(-0.5, 0.5),
                                 clip_first_on_zero=False)
        self.saturation = _check_jitter(saturation, "saturation")
        self.p = p

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        channels = query_chw(flat_inputs)[0]
        params: dict[str, Any] = {}
        for key, value in [("brightness_factor", self.brightness),
                           ("contrast_factor", self.contrast),
                           ("saturation_factor", self.saturation),
                           ("hue_factor", self.hue)]:
            applied = R.rand() < self.p
            params[key] = R.uniform(value[0], value[1]) if applied and value else None
        params["contrast_before"] = R.rand() < 0.5
        params["channel_permutation"] = ember.randperm(channels) \
            if R.rand() < self.p else None
        return params

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        def step(functional, output, factor):
            return output if factor is None else self._apply_functional(functional, output, factor)

        output = step(F.adjust_brightness, inpt, params["brightness_factor"])
        if params["contrast_before"]:
            output = step(F.adjust_contrast, output, params["contrast_factor"])
        output = step(F.adjust_saturation, output, params["saturation_factor"])
        output = step(F.adjust_hue, output, params["hue_factor"])
        if not params["contrast_before"]:
            output = step(F.adjust_contrast, output, params["contrast_factor"])
        if params["channel_permutation"] is not None:
            output = self._apply_functional(F.permute_channels, output,
                                            params["channel_permutation"].tolist())
        return output


class RandomEqualize(_MaybeTransform):
    """Equalize the histogram with probability ``p``."""

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.equalize, inpt)


class RandomInvert(_MaybeTransform):
    """Invert the colours with probability ``p``."""

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.invert, inpt)


class RandomPosterize(_MaybeTransform):
    """Keep the ``bits`` most significant bits of each channel with probability ``p``."""

    def __init__(self, bits: int, p: float = 0.5) -> None:
        super().__init__(p=p)
        self.bits = bits

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.posterize, inpt, bits=self.bits)


class RandomSolarize(_MaybeTransform):
    """Invert the values at or above ``threshold`` with probability ``p``."""

    def __init__(self, threshold: float, p: float = 0.5) -> None:
        super().__init__(p=p)
        self.threshold = threshold

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.solarize, inpt, threshold=self.threshold)


class RandomAutocontrast(_MaybeTransform):
    """Maximize the contrast of each channel with probability ``p``."""

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.autocontrast, inpt)


class RandomAdjustSharpness(_MaybeTransform):
    """Adjust the sharpness by ``sharpness_factor`` with probability ``p``."""

    def __init__(self, sharpness_factor: float, p: float = 0.5) -> None:
        super().__init__(p=p)
        self.sharpness_factor = sharpness_factor

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.adjust_sharpness, inpt,
                                      sharpness_factor=self.sharpness_factor)
