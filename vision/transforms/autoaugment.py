"""Learned and random augmentation policies: AutoAugment (ImageNet, CIFAR10 and SVHN
policies), RandAugment, TrivialAugmentWide and AugMix, with torchvision's operation set and
magnitude ranges.

All randomness is drawn from ember's global generator (``ember.manual_seed``).
"""

from __future__ import annotations

import math
from enum import Enum

import ember
import numpy as np
from ember import Tensor, nn

from . import functional as F
from .functional import InterpolationMode

__all__ = ["AutoAugmentPolicy", "AutoAugment", "RandAugment", "TrivialAugmentWide", "AugMix"]


def _affine_only(img, interpolation, fill, translate=(0, 0), shear=(0.0, 0.0), **extra):
    return F.affine(img, angle=0.0, translate=list(translate), scale=1.0, shear=list(shear),
                    interpolation=interpolation, fill=fill, **extra)


def _shear_deg(m: float) -> float:
    # a shear "level" m is the tangent of the shear angle
    return math.degrees(math.atan(m))


# every op: (img, magnitude, interpolation, fill) -> img
_OPS = {
    "ShearX": lambda im, m, ip, fl: _affine_only(im, ip, fl, shear=(_shear_deg(m), 0.0),
                                                 center=[0, 0]),
    "ShearY": lambda im, m, ip, fl: _affine_only(im, ip, fl, shear=(0.0, _shear_deg(m)),
                                                 center=[0, 0]),
    "TranslateX": lambda im, m, ip, fl: _affine_only(im, ip, fl, translate=(int(m), 0)),
    "TranslateY": lambda im, m, ip, fl: _affine_only(im, ip, fl, translate=(0, int(m))),
    "Rotate": lambda im, m, ip, fl: F.rotate(im, m, interpolation=ip, fill=fl),
    "Brightness": lambda im, m, ip, fl: F.adjust_brightness(im, m + 1.0),
    "Color": lambda im, m, ip, fl: F.adjust_saturation(im, m + 1.0),
    "Contrast": lambda im, m, ip, fl: F.adjust_contrast(im, m + 1.0),
    "Sharpness": lambda im, m, ip, fl: F.adjust_sharpness(im, m + 1.0),
    "Posterize": lambda im, m, ip, fl: F.posterize(im, int(m)),
    "Solarize": lambda im, m, ip, fl: F.solarize(im, m),
    "AutoContrast": lambda im, m, ip, fl: F.autocontrast(im),
    "Equalize": lambda im, m, ip, fl: F.equalize(im),
    "Invert": lambda im, m, ip, fl: F.invert(im),
    "Identity": lambda im, m, ip, fl: im,
}


def _apply_op(img, op_name: str, magnitude: float, interpolation: InterpolationMode, fill):
    op = _OPS.get(op_name)
    if op is None:
        raise ValueError(f"The provided operator {op_name} is not recognized.")
    return op(img, magnitude, interpolation, fill)


class AutoAugmentPolicy(Enum):
    """The datasets AutoAugment learned a policy on: IMAGENET, CIFAR10 and SVHN."""

    IMAGENET = "imagenet"
    CIFAR10 = "cifar10"
    SVHN = "svhn"


# the published sub-policies: pairs of (op, probability, magnitude bin)
_POLICIES = {
    AutoAugmentPolicy.IMAGENET: [
        (("Posterize", 0.4, 8), ("Rotate", 0.6, 9)),
        (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
        (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
        (("Posterize", 0.6, 7), ("Posterize", 0.6, 6)),
        (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
        (("Equalize", 0.4, None), ("Rotate", 0.8, 8)),
        (("Solarize", 0.6, 3), ("Equalize", 0.6, None)),
        (("Posterize", 0.8, 5), ("Equalize", 1.0, None)),
        (("Rotate", 0.2, 3), ("Solarize", 0.6, 8)),
        (("Equalize", 0.6, None), ("Posterize", 0.4, 6)),
        (("Rotate", 0.8, 8), ("Color", 0.4, 0)),
        (("Rotate", 0.4, 9), ("Equalize", 0.6, None)),
        (("Equalize", 0.0, None), ("Equalize", 0.8, None)),
        (("Invert", 0.6, None), ("Equalize", 1.0, None)),
        (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
        (("Rotate", 0.8, 8), ("Color", 1.0, 2)),
        (("Color", 0.8, 8), ("Solarize", 0.8, 7)),
        (("Sharpness", 0.4, 7), ("Invert", 0.6, None)),
        (("ShearX", 0.6, 5), ("Equalize", 1.0, None)),
        (("Color", 0.4, 0), ("Equalize", 0.6, None)),
        (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
        (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
        (("Invert", 0.6, None), ("Equalize", 1.0, None)),
        (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
        (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
    ],
    AutoAugmentPolicy.CIFAR10: [
        (("Invert", 0.1, None), ("Contrast", 0.2, 6)),
        (("Rotate", 0.7, 2), ("TranslateX", 0.3, 9)),
        (("Sharpness", 0.8, 1), ("Sharpness", 0.9, 3)),
        (("ShearY", 0.5, 8), ("TranslateY", 0.7, 9)),
        (("AutoContrast", 0.5, None), ("Equalize", 0.9, None)),
        (("ShearY", 0.2, 7), ("Posterize", 0.3, 7)),
        (("Color", 0.4, 3), ("Brightness", 0.6, 7)),
        (("Sharpness", 0.3, 9), ("Brightness", 0.7, 9)),
        (("Equalize", 0.6, None), ("Equalize", 0.5, None)),
        (("Contrast", 0.6, 7), ("Sharpness", 0.6, 5)),
        (("Color", 0.7, 7), ("TranslateX", 0.5, 8)),
        (("Equalize", 0.3, None), ("AutoContrast", 0.4, None)),
        (("TranslateY", 0.4, 3), ("Sharpness", 0.2, 6)),
        (("Brightness", 0.9, 6), ("Color", 0.2, 8)),
        (("Solarize", 0.5, 2), ("Invert", 0.0, None)),
        (("Equalize", 0.2, None), ("AutoContrast", 0.6, None)),
        (("Equalize", 0.2, None), ("Equalize", 0.6, None)),
        (("Color", 0.9, 9), ("Equalize", 0.6, None)),
        (("AutoContrast", 0.8, None), ("Solarize", 0.2, 8)),
        (("Brightness", 0.1, 3), ("Color", 0.7, 0)),
        (("Solarize", 0.4, 5), ("AutoContrast", 0.9, None)),
        (("TranslateY", 0.9, 9), ("TranslateY", 0.7, 9)),
        (("AutoContrast", 0.9, None), ("Solarize", 0.8, 3)),
        (("Equalize", 0.8, None), ("Invert", 0.1, None)),
        (("TranslateY", 0.7, 9), ("AutoContrast", 0.9, None)),
    ],
    AutoAugmentPolicy.SVHN: [
        (("ShearX", 0.9, 4), ("Invert", 0.2, None)),
        (("ShearY", 0.9, 8), ("Invert", 0.7, None)),
        (("Equalize", 0.6, None), ("Solarize", 0.6, 6)),
        (("Invert", 0.9, None), ("Equalize", 0.6, None)),
        (("Equalize", 0.6, None), ("Rotate", 0.9, 3)),
        (("ShearX", 0.9, 4), ("AutoContrast", 0.8, None)),
        (("ShearY", 0.9, 8), ("Invert", 0.4, None)),
        (("ShearY", 0.9, 5), ("Solarize", 0.2, 6)),
        (("Invert", 0.9, None), ("AutoContrast", 0.8, None)),
        (("Equalize", 0.6, None), ("Rotate", 0.9, 3)),
        (("ShearX", 0.9, 4), ("Solarize", 0.3, 3)),
        (("ShearY", 0.8, 8), ("Invert", 0.7, None)),
        (("Equalize", 0.9, None), ("TranslateY", 0.6, 6)),
        (("Invert", 0.9, None), ("Equalize", 0.6, None)),
        (("Contrast", 0.3, 3), ("Rotate", 0.8, 4)),
        (("Invert", 0.8, None), ("TranslateY", 0.0, 2)),
        (("ShearY", 0.7, 6), ("Solarize", 0.4, 8)),
        (("Invert", 0.6, None), ("Rotate", 0.8, 4)),
        (("ShearY", 0.3, 7), ("TranslateX", 0.9, 3)),
        (("ShearX", 0.1, 6), ("Invert", 0.6, None)),
        (("Solarize", 0.7, 2), ("TranslateY", 0.6, 7)),
        (("ShearY", 0.8, 4), ("Invert", 0.8, None)),
        (("ShearX", 0.7, 9), ("TranslateY", 0.8, 3)),
        (("ShearY", 0.8, 5), ("AutoContrast", 0.7, None)),
        (("ShearX", 0.7, 2), ("Invert", 0.1, None)),
    ],
}


def _ramp(lo: float, hi: float, n: int) -> np.ndarray:
    return np.linspace(lo, hi, n, dtype=np.float32)


def _bits_kept(n: int, drop: float) -> np.ndarray:
    """Posterize levels: from 8 bits down to ``8 - drop`` over ``n`` bins."""
    steps = np.arange(n) / ((n - 1) / drop)
    return (8 - np.round(steps)).astype(np.int32)


_NO_MAGNITUDE = np.array(0.0, dtype=np.float32)


def _space(names, n, hw=None, geo=0.3, tmax=None, rot=30.0, enh=0.9, post=4):
    """Magnitude table ``{op: (magnitudes, signed)}`` for the op ``names`` (in order)."""
    if tmax is None and hw is not None:
        tmax = (150.0 / 331.0 * hw[1], 150.0 / 331.0 * hw[0])
    table = {}
    for name in names:
        if name in ("ShearX", "ShearY"):
            table[name] = (_ramp(0.0, geo, n), True)
        elif name == "TranslateX":
            table[name] = (_ramp(0.0, tmax[0], n), True)
        elif name == "TranslateY":
            table[name] = (_ramp(0.0, tmax[1], n), True)
        elif name == "Rotate":
            table[name] = (_ramp(0.0, rot, n), True)
        elif name in ("Brightness", "Color", "Contrast", "Sharpness"):
            table[name] = (_ramp(0.0, enh, n), True)
        elif name == "Posterize":
            table[name] = (_bits_kept(n, post), False)
        elif name == "Solarize":
            table[name] = (_ramp(255.0, 0.0, n), False)
        else:
            table[name] = (_NO_MAGNITUDE, False)
    return table


_GEOMETRIC = ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate")
_ENHANCE = ("Brightness", "Color", "Contrast", "Sharpness")
_TONE = ("Posterize", "Solarize", "AutoContrast", "Equalize")


def _fill_for(img, fill):
    """Tensors need one fill value per channel; PIL images take ``fill`` as is."""
    n_ch = F.get_dimensions(img)[0]
    if not isinstance(img, Tensor) or fill is None:
        return fill
    if isinstance(fill, (int, float)):
        return [float(fill)] * n_ch
    return [float(v) for v in fill]


def _draw(high: int) -> int:
    return int(ember.randint(high, (1,)).item())


def _maybe_negate(value: float, signed: bool) -> float:
    # the coin is only tossed for signed ops
    return -value if signed and _draw(2) else value


class AutoAugment(nn.Module):
    """AutoAugment (Cubuk et al., https://arxiv.org/pdf/1805.09501.pdf): applies one
    randomly chosen two-op sub-policy of the learned ``policy``, each op with its own
    probability and magnitude. Takes uint8 tensors [..., 1 or 3, H, W] or PIL images
    ("L"/"RGB"); ``fill`` fills the area uncovered by geometric ops."""

    def __init__(self, policy=AutoAugmentPolicy.IMAGENET,
                 interpolation=InterpolationMode.NEAREST, fill=None) -> None:
        super().__init__()
        self.policy = policy
        self.interpolation = interpolation
        self.fill = fill
        self.policies = self._get_policies(policy)

    def _get_policies(self, policy):
        try:
            return list(_POLICIES[policy])
        except KeyError:
            raise ValueError(f"The provided policy {policy} is not recognized.") from None

    def _augmentation_space(self, num_bins, image_size):
        return _space(_GEOMETRIC + _ENHANCE + _TONE + ("Invert",), num_bins, image_size)

    @staticmethod
    def get_params(transform_num):
        """Random sub-policy index, two op probabilities and two sign bits."""
        which = _draw(transform_num)
        return which, ember.rand((2,)), ember.randint(2, (2,))

    def forward(self, img):
        fill = _fill_for(img, self.fill)
        h, w = F.get_dimensions(img)[1:]
        chosen, probs, signs = self.get_params(len(self.policies))
        table = self._augmentation_space(10, (h, w))
        for k, (name, prob, level) in enumerate(self.policies[chosen]):
            if float(probs[k]) > prob:
                continue
            values, signed = table[name]
            mag = 0.0 if level is None else float(values[level])
            if signed and int(signs[k]) == 0:
                mag = -mag
            img = _apply_op(img, name, mag, interpolation=self.interpolation, fill=fill)
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(policy={self.policy}, fill={self.fill})"


class RandAugment(nn.Module):
    """RandAugment (Cubuk et al., https://arxiv.org/abs/1909.13719): ``num_ops`` uniformly
    drawn ops, all at bin ``magnitude`` of ``num_magnitude_bins``, each with random sign."""

    def __init__(self, num_ops=2, magnitude=9, num_magnitude_bins=31,
                 interpolation=InterpolationMode.NEAREST, fill=None) -> None:
        super().__init__()
        self.num_ops = num_ops
        self.magnitude = magnitude
        self.num_magnitude_bins = num_magnitude_bins
        self.interpolation = interpolation
        self.fill = fill

    def _augmentation_space(self, num_bins, image_size):
        return _space(("Identity",) + _GEOMETRIC + _ENHANCE + _TONE, num_bins, image_size)

    def forward(self, img):
        fill = _fill_for(img, self.fill)
        h, w = F.get_dimensions(img)[1:]
        table = self._augmentation_space(self.num_magnitude_bins, (h, w))
        names = list(table)
        for _ in range(self.num_ops):
            name = names[_draw(len(names))]
            values, signed = table[name]
            mag = float(values[self.magnitude]) if values.ndim else 0.0
            img = _apply_op(img, name, _maybe_negate(mag, signed),
                            interpolation=self.interpolation, fill=fill)
        return img

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(num_ops={self.num_ops}, magnitude={self.magnitude}, "
                f"num_magnitude_bins={self.num_magnitude_bins}, "
                f"interpolation={self.interpolation}, fill={self.fill})")


class TrivialAugmentWide(nn.Module):
    """TrivialAugment Wide (Mueller & Hutter, https://arxiv.org/abs/2103.10158): one random
    op at a random one of ``num_magnitude_bins`` magnitudes, over wider ranges."""

    def __init__(self, num_magnitude_bins=31, interpolation=InterpolationMode.NEAREST,
                 fill=None) -> None:
        super().__init__()
        self.num_magnitude_bins = num_magnitude_bins
        self.interpolation = interpolation
        self.fill = fill

    def _augmentation_space(self, num_bins):
        return _space(("Identity",) + _GEOMETRIC + _ENHANCE + _TONE, num_bins, geo=0.99,
                      tmax=(32.0, 32.0), rot=135.0, enh=0.99, post=6)

    def forward(self, img):
        fill = _fill_for(img, self.fill)
        table = self._augmentation_space(self.num_magnitude_bins)
        names = list(table)
        name = names[_draw(len(names))]
        values, signed = table[name]
        mag = float(values[_draw(len(values))]) if values.ndim else 0.0
        return _apply_op(img, name, _maybe_negate(mag, signed),
                         interpolation=self.interpolation, fill=fill)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(num_magnitude_bins={self.num_magnitude_bins}, "
                f"interpolation={self.interpolation}, fill={self.fill})")


class AugMix(nn.Module):
    """AugMix (Hendrycks et al., https://arxiv.org/abs/1912.02781).

    Builds ``mixture_width`` chains of random ops (``chain_depth`` long, or 1-3 when
    negative) with magnitudes up to ``severity`` (1-10), mixes the chains with Dirichlet
    weights and blends the result with the input using a Beta(``alpha``, ``alpha``)
    weight. ``all_ops=False`` leaves out the four colour/sharpness enhancements. Takes
    uint8 tensors [..., 1 or 3, H, W] or PIL images ("L"/"RGB").
    """

    _PARAMETER_MAX = 10

    def __init__(self, severity=3, mixture_width=3, chain_depth=-1, alpha=1.0, all_ops=True,
                 interpolation=InterpolationMode.BILINEAR, fill=None) -> None:
        super().__init__()
        top = self._PARAMETER_MAX
        if severity < 1 or severity > top:
            raise ValueError(f"The severity must be between [1, {top}]. Got {severity} "
                             "instead.")
        self.severity = severity
        self.mixture_width = mixture_width
        self.chain_depth = chain_depth
        self.alpha = alpha
        self.all_ops = all_ops
        self.interpolation = interpolation
        self.fill = fill

    def _augmentation_space(self, num_bins, image_size):
        names = _GEOMETRIC + _TONE + (_ENHANCE if self.all_ops else ())
        table = _space(names, num_bins, tmax=(image_size[1] / 3.0, image_size[0] / 3.0))
        bits, _ = table["Posterize"]
        table["Posterize"] = (bits - 4, False)
        return table

    def _pil_to_tensor(self, img):
        return F.pil_to_tensor(img)

    def _tensor_to_pil(self, img):
        return F.to_pil_image(img)

    def _sample_dirichlet(self, params):
        from ember.distributions import Dirichlet
        return Dirichlet(params).sample()

    def _chain(self, x, table, fill):
        names = list(table)
        depth = self.chain_depth
        if depth <= 0:
            depth = int(ember.randint(1, 4, (1,)).item())
        for _ in range(depth):
            name = names[_draw(len(names))]
            values, signed = table[name]
            mag = float(values[_draw(self.severity)]) if values.ndim else 0.0
            x = _apply_op(x, name, _maybe_negate(mag, signed),
                          interpolation=self.interpolation, fill=fill)
        return x

    def forward(self, orig_img):
        is_tensor = isinstance(orig_img, Tensor)
        _, h, w = F.get_dimensions(orig_img)
        x = orig_img if is_tensor else self._pil_to_tensor(orig_img)
        fill = _fill_for(x, self.fill) if is_tensor else self.fill
        table = self._augmentation_space(self._PARAMETER_MAX, (h, w))
        shape = list(x.shape)
        lead = max(0, 4 - x.ndim)
        x4 = x.reshape([1] * lead + shape)
        n = x4.shape[0]
        per_sample = [n] + [1] * (x4.ndim - 1)
        # original-vs-chains split (a Beta draw, as a 2-way Dirichlet), then the chain
        # weights (mixture_width-way Dirichlet) sharing the chains' part
        split = self._sample_dirichlet(ember.tensor([self.alpha, self.alpha]).expand(n, -1))
        chain_w = self._sample_dirichlet(
            ember.tensor([float(self.alpha)] * self.mixture_width).expand(n, -1))
        chain_w = chain_w * split[:, 1].reshape(n, -1)
        out = split[:, 0].reshape(per_sample) * x4
        for c in range(self.mixture_width):
            out = out + chain_w[:, c].reshape(per_sample) * self._chain(x4, table, fill)
        out = out.reshape(shape).to(dtype=x.dtype)
        return out if is_tensor else self._tensor_to_pil(out)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(severity={self.severity}, "
                f"mixture_width={self.mixture_width}, chain_depth={self.chain_depth}, "
                f"alpha={self.alpha}, all_ops={self.all_ops}, "
                f"interpolation={self.interpolation}, fill={self.fill})")
