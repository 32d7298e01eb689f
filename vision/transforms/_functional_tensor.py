"""Tensor kernels of ``ember.vision.transforms.functional`` (torchvision's
``_functional_tensor``), on images of shape (..., C, H, W).

The kernels work on the tensor's array (numpy or cupy) with whole-array expressions: no
loop over pixels, and loops over batch or channels only where an expression per image is
the natural unit. Results are new tensors outside the autograd graph, except
``normalize``, which uses ember ops. Arithmetic mirrors torchvision's (float32 for integer
images, truncating or rounding casts where torchvision has them), so outputs match it.
"""

from __future__ import annotations

import ember
import numpy as np
from ember import Tensor

from ..ops._utils import xp_of

__all__ = []

# ---------------------------------------------------------------------------------------------
# array helpers


def _arr(t: Tensor):
    return t.detach()._data


def _wrap(a) -> Tensor:
    if isinstance(a, np.generic):
        a = np.asarray(a)
    return Tensor._make(a, False, None, 0)


def _is_float(a) -> bool:
    return a.dtype.kind == "f"


def _max_value(dtype) -> float | int:
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return 1.0
    if dtype == np.bool_:
        return 1
    return int(np.iinfo(dtype).max)


def assert_image_tensor(img) -> None:
    if not isinstance(img, Tensor):
        raise TypeError(f"Tensor is not a torch image. Got {type(img)}")
    if img.ndim < 2:
        raise TypeError("Tensor is not a torch image.")


def get_dimensions(img: Tensor) -> list[int]:
    assert_image_tensor(img)
    channels = 1 if img.ndim == 2 else img.shape[-3]
    height, width = img.shape[-2:]
    return [channels, height, width]


def assert_channels(img: Tensor, permitted: list[int]) -> None:
    c = get_dimensions(img)[0]
    if c not in permitted:
        raise TypeError(f"Input image tensor permitted channel values are {permitted}, "
                        f"but found {c}")


def _to_dtype(xp, a, dtype, round_ints: bool = True):
    """torchvision's ``_cast_squeeze_out`` cast: integers are rounded before the cast."""
    dtype = np.dtype(dtype)
    if a.dtype == dtype:
        return a
    if dtype.kind in "iu" and round_ints:
        a = xp.round(a)
    return a.astype(dtype)


def _to_batch(a):
    """(..., C, H, W) -> (B, C, H, W) and the leading shape."""
    lead = a.shape[:-3]
    return a.reshape((-1,) + a.shape[-3:]), lead


# ---------------------------------------------------------------------------------------------
# dtype and normalisation


def convert_image_dtype(image: Tensor, dtype=ember.float32) -> Tensor:
    a = _arr(image)
    xp = xp_of(a)
    dst = dtype.np if hasattr(dtype, "np") else np.dtype(dtype)
    if a.dtype == dst:
        return image
    if _is_float(a):
        if dst.kind == "f":
            return _wrap(a.astype(dst))
        if (a.dtype == np.float32 and dst in (np.int32, np.int64)) or \
                (a.dtype == np.float64 and dst == np.int64):
            raise RuntimeError(f"The cast from {image.dtype} to {dtype} cannot be performed "
                               "safely.")
        eps = 1e-3
        max_val = float(_max_value(dst))
        return _wrap((a * a.dtype.type(max_val + 1.0 - eps)).astype(dst))
    input_max = float(_max_value(a.dtype))
    if dst.kind == "f":
        return _wrap(a.astype(dst) / dst.type(input_max))
    output_max = float(_max_value(dst))
    if input_max > output_max:
        factor = int((input_max + 1) // (output_max + 1))
        return _wrap(xp.floor_divide(a, factor).astype(dst))
    factor = int((output_max + 1) // (input_max + 1))
    return _wrap(a.astype(dst) * dst.type(factor))


def normalize(tensor: Tensor, mean, std, inplace: bool = False) -> Tensor:
    assert_image_tensor(tensor)
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got "
                         f"tensor.size() = {tensor.size()}")
    dtype = tensor.dtype
    mean_t = ember.as_tensor(mean, dtype=dtype, device=tensor.device)
    std_t = ember.as_tensor(std, dtype=dtype, device=tensor.device)
    if bool((std_t == 0).any()):
        raise ValueError(f"std evaluated to zero after conversion to {dtype}, leading to "
                         "division by zero.")
    if mean_t.ndim == 1:
        mean_t = mean_t.reshape(-1, 1, 1)
    if std_t.ndim == 1:
        std_t = std_t.reshape(-1, 1, 1)
    if inplace:
        return tensor.sub_(mean_t).div_(std_t)
    return (tensor - mean_t) / std_t


# ---------------------------------------------------------------------------------------------
# geometry: flips, crops, padding


def hflip(img: Tensor) -> Tensor:
    assert_image_tensor(img)
    return _wrap(_arr(img)[..., ::-1].copy())


def vflip(img: Tensor) -> Tensor:
    assert_image_tensor(img)
    return _wrap(_arr(img)[..., ::-1, :].copy())


def crop(img: Tensor, top: int, left: int, height: int, width: int) -> Tensor:
    assert_image_tensor(img)
    _, h, w = get_dimensions(img)
    right = left + width
    bottom = top + height
    a = _arr(img)
    if left < 0 or top < 0 or right > w or bottom > h:
        padding_ltrb = [max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                        max(right - w, 0), max(bottom - h, 0)]
        return pad(_wrap(a[..., max(top, 0):bottom, max(left, 0):right]), padding_ltrb, fill=0)
    return _wrap(a[..., top:bottom, left:right].copy())


def pad(img: Tensor, padding, fill=0, padding_mode: str = "constant") -> Tensor:
    assert_image_tensor(img)
    if fill is None:
        fill = 0
    if not isinstance(padding, (int, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if not isinstance(fill, (int, float)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if isinstance(padding, tuple):
        padding = list(padding)
    if isinstance(padding, list) and len(padding) not in [1, 2, 4]:
        raise ValueError("Padding must be an int or a 1, 2, or 4 element tuple, not a "
                         f"{len(padding)} element tuple")
    if padding_mode not in ["constant", "edge", "reflect", "symmetric"]:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    p = _parse_pad_padding(padding)  # left, right, top, bottom
    a = _arr(img)
    xp = xp_of(a)
    if any(v < 0 for v in p):  # negative padding crops
        neg = [max(-v, 0) for v in p]
        h, w = a.shape[-2:]
        a = a[..., neg[2]:h - neg[3], neg[0]:w - neg[1]]
        p = [max(v, 0) for v in p]
    widths = [(0, 0)] * (a.ndim - 2) + [(p[2], p[3]), (p[0], p[1])]
    if padding_mode == "constant":
        if _is_float(a):
            value = a.dtype.type(fill)
        else:
            value = int(fill)
        return _wrap(xp.pad(a, widths, mode="constant", constant_values=value))
    return _wrap(xp.pad(a, widths, mode=padding_mode))


def _parse_pad_padding(padding) -> list[int]:
    if isinstance(padding, int):
        pad_left = pad_right = pad_top = pad_bottom = padding
    elif len(padding) == 1:
        pad_left = pad_right = pad_top = pad_bottom = padding[0]
    elif len(padding) == 2:
        pad_left = pad_right = padding[0]
        pad_top = pad_bottom = padding[1]
    else:
        pad_left, pad_top, pad_right, pad_bottom = padding
    return [pad_left, pad_right, pad_top, pad_bottom]


# ---------------------------------------------------------------------------------------------
# resizing


def _aa_filter(kind: str):
    if kind == "bilinear":
        return 1.0, lambda x: np.maximum(0.0, 1.0 - np.abs(x))
    a = -0.5  # bicubic

    def cubic(x):
        x = np.abs(x)
        return np.where(x < 1.0, ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0,
                        np.where(x < 2.0, (((x - 5.0) * x + 8.0) * x - 4.0) * a, 0.0))
    return 2.0, cubic


def _aa_weights(in_size: int, out_size: int, kind: str) -> np.ndarray:
    """PyTorch's antialiased interpolation weights (``_upsample_*_aa``) as a dense
    (out_size, in_size) matrix: a filter of support ``interp_size / 2 * scale`` centred on
    each output pixel, normalised to sum 1."""
    half, filt = _aa_filter(kind)
    scale = in_size / out_size
    support = half * scale if scale >= 1.0 else half
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    i = np.arange(out_size, dtype=np.float64)
    center = scale * (i + 0.5)
    xmin = np.maximum(np.trunc(center - support + 0.5).astype(np.int64), 0)
    xmax = np.minimum(np.trunc(center + support + 0.5).astype(np.int64), in_size)
    j = np.arange(in_size)[None, :]
    inside = (j >= xmin[:, None]) & (j < xmax[:, None])
    w = filt((j - center[:, None] + 0.5) * invscale) * inside
    total = w.sum(axis=1, keepdims=True)
    return np.where(total != 0, w / np.where(total == 0, 1.0, total), 0.0)


def _interp_weights(in_size: int, out_size: int, kind: str) -> np.ndarray:
    """Weights of PyTorch's non-antialiased ``interpolate`` (align_corners=False) as a dense
    (out_size, in_size) matrix, for 'bilinear' and 'bicubic'."""
    scale = in_size / out_size
    i = np.arange(out_size, dtype=np.float64)
    src = scale * (i + 0.5) - 0.5
    w = np.zeros((out_size, in_size))
    rows = np.arange(out_size)
    if kind == "bilinear":
        src = np.maximum(src, 0.0)
        lo = np.floor(src).astype(np.int64)
        lo = np.minimum(lo, in_size - 1)
        hi = np.minimum(lo + 1, in_size - 1)
        frac = src - lo
        np.add.at(w, (rows, lo), 1.0 - frac)
        np.add.at(w, (rows, hi), frac)
        return w
    a = -0.75  # bicubic (upsample_bicubic2d)
    lo = np.floor(src).astype(np.int64)
    t = src - lo

    def c1(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def c2(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    coeffs = [c2(t + 1.0), c1(t), c1(1.0 - t), c2(2.0 - t)]
    for k, c in zip(range(-1, 3), coeffs):
        idx = np.clip(lo + k, 0, in_size - 1)
        np.add.at(w, (rows, idx), c)
    return w


def _nearest_index(in_size: int, out_size: int, exact: bool) -> np.ndarray:
    """PyTorch's nearest source indices (float32 arithmetic, as its kernels)."""
    scale = np.float32(in_size) / np.float32(out_size)
    i = np.arange(out_size, dtype=np.float32)
    if exact:
        src = np.floor((i + np.float32(0.5)) * scale)
    else:
        src = np.floor(i * scale)
    return np.minimum(src.astype(np.int64), in_size - 1)


def resize(img: Tensor, size: list[int], interpolation: str = "bilinear",
           antialias: bool | None = True) -> Tensor:
    """Resize (..., C, H, W) ``img`` to ``size`` = [h, w]; bilinear and bicubic apply
    PyTorch's antialiasing filter when downscaling with ``antialias=True``."""
    assert_image_tensor(img)
    if antialias is None:
        antialias = False
    a = _arr(img)
    xp = xp_of(a)
    out_h, out_w = int(size[0]), int(size[1])
    in_h, in_w = a.shape[-2:]
    out_dtype = a.dtype
    squeeze = a.ndim == 2
    if squeeze:
        a = a[None]
    if interpolation in ("nearest", "nearest-exact"):
        exact = interpolation == "nearest-exact"
        yi = xp.asarray(_nearest_index(in_h, out_h, exact))
        xi = xp.asarray(_nearest_index(in_w, out_w, exact))
        out = a[..., yi[:, None], xi[None, :]]
        return _wrap(out[0] if squeeze else out)
    if interpolation not in ("bilinear", "bicubic"):
        raise ValueError(f"resize: interpolation {interpolation!r} is not supported for "
                         "tensors (use nearest, nearest-exact, bilinear or bicubic)")
    work = a.dtype if a.dtype in (np.float32, np.float64) else np.dtype(np.float32)
    x = a.astype(work, copy=False)
    if antialias:
        wh = _aa_weights(in_h, out_h, interpolation)
        ww = _aa_weights(in_w, out_w, interpolation)
    else:
        wh = _interp_weights(in_h, out_h, interpolation)
        ww = _interp_weights(in_w, out_w, interpolation)
    wh = xp.asarray(wh.astype(work))
    ww = xp.asarray(ww.astype(work))
    out = xp.matmul(xp.matmul(wh, x), ww.T)  # (..., C, out_h, out_w)
    if interpolation == "bicubic" and out_dtype == np.uint8:
        out = xp.clip(out, 0, 255)
    out = _to_dtype(xp, out, out_dtype)
    return _wrap(out[0] if squeeze else out)


# ---------------------------------------------------------------------------------------------
# colour


def _blend(xp, img1, img2, ratio: float):
    ratio = float(ratio)
    bound = _max_value(img1.dtype)
    work = img1.dtype if _is_float(img1) else np.dtype(np.float32)
    out = work.type(ratio) * img1.astype(work) + work.type(1.0 - ratio) * img2.astype(work)
    out = xp.clip(out, 0, bound)
    return out.astype(img1.dtype)


def _gray(xp, a):
    """(..., 1, H, W) luma of (..., 3, H, W) ``a`` in its own dtype (torchvision casts with
    truncation)."""
    work = a.dtype if _is_float(a) else np.dtype(np.float32)
    r, g, b = (a[..., i, :, :].astype(work) for i in range(3))
    lum = work.type(0.2989) * r + work.type(0.587) * g + work.type(0.114) * b
    return lum.astype(a.dtype)[..., None, :, :]


def rgb_to_grayscale(img: Tensor, num_output_channels: int = 1) -> Tensor:
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found "
                        f"{img.ndim}")
    assert_channels(img, [1, 3])
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    a = _arr(img)
    xp = xp_of(a)
    lum = _gray(xp, a) if a.shape[-3] == 3 else a.copy()
    if num_output_channels == 3:
        lum = xp.broadcast_to(lum, a.shape[:-3] + (3,) + a.shape[-2:]).copy()
    return _wrap(lum)


def adjust_brightness(img: Tensor, brightness_factor: float) -> Tensor:
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    assert_image_tensor(img)
    assert_channels(img, [1, 3])
    a = _arr(img)
    xp = xp_of(a)
    return _wrap(_blend(xp, a, xp.zeros_like(a), brightness_factor))


def adjust_contrast(img: Tensor, contrast_factor: float) -> Tensor:
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    assert_image_tensor(img)
    assert_channels(img, [3, 1])
    a = _arr(img)
    xp = xp_of(a)
    work = a.dtype if _is_float(a) else np.dtype(np.float32)
    src = _gray(xp, a) if a.shape[-3] == 3 else a
    mean = src.astype(work).mean(axis=(-3, -2, -1), keepdims=True)
    return _wrap(_blend(xp, a, mean, contrast_factor))


def adjust_saturation(img: Tensor, saturation_factor: float) -> Tensor:
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    assert_image_tensor(img)
    assert_channels(img, [1, 3])
    a = _arr(img)
    if a.shape[-3] == 1:  # Match PIL behaviour
        return img
    xp = xp_of(a)
    return _wrap(_blend(xp, a, _gray(xp, a), saturation_factor))


def _rgb2hsv(xp, img):
    r, g, b = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    maxc = img.max(axis=-3)
    minc = img.min(axis=-3)
    eqc = maxc == minc
    cr = maxc - minc
    ones = xp.ones_like(maxc)
    s = cr / xp.where(eqc, ones, maxc)
    cr_divisor = xp.where(eqc, ones, cr)
    rc = (maxc - r) / cr_divisor
    gc = (maxc - g) / cr_divisor
    bc = (maxc - b) / cr_divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = hr + hg + hb
    h = xp.fmod((h / 6.0 + 1.0), 1.0)
    return xp.stack((h, s, maxc), axis=-3).astype(img.dtype)


def _hsv2rgb(xp, img):
    h, s, v = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    i = xp.floor(h * 6.0)
    f = (h * 6.0) - i
    i = i.astype(np.int32)
    p = xp.clip((v * (1.0 - s)), 0.0, 1.0)
    q = xp.clip((v * (1.0 - s * f)), 0.0, 1.0)
    t = xp.clip((v * (1.0 - s * (1.0 - f))), 0.0, 1.0)
    i = i % 6
    mask = i[..., None, :, :] == xp.arange(6, dtype=np.int32)[:, None, None]  # (..., 6, H, W)
    a1 = xp.stack((v, q, p, p, t, v), axis=-3)
    a2 = xp.stack((t, v, v, q, p, p), axis=-3)
    a3 = xp.stack((p, p, t, v, v, q), axis=-3)
    a4 = xp.stack((a1, a2, a3), axis=-4)  # (..., 3, 6, H, W)
    out = (mask[..., None, :, :, :].astype(img.dtype) * a4).sum(axis=-3)
    return out.astype(img.dtype)


def adjust_hue(img: Tensor, hue_factor: float) -> Tensor:
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if not isinstance(img, Tensor):
        raise TypeError("Input img should be Tensor image")
    assert_image_tensor(img)
    assert_channels(img, [1, 3])
    if get_dimensions(img)[0] == 1:  # Match PIL behaviour
        return img
    orig_dtype = img.dtype
    a = _arr(convert_image_dtype(img, ember.float32))
    xp = xp_of(a)
    hsv = _rgb2hsv(xp, a)
    h = xp.fmod(hsv[..., 0, :, :] + np.float32(hue_factor), np.float32(1.0))
    h = xp.where(h < 0, h + np.float32(1.0), h)  # torch's % is a floor modulo
    hsv = xp.stack((h, hsv[..., 1, :, :], hsv[..., 2, :, :]), axis=-3)
    out = _wrap(_hsv2rgb(xp, hsv))
    if orig_dtype == ember.uint8:
        out = convert_image_dtype(out, orig_dtype)
    elif orig_dtype != ember.float32:
        out = convert_image_dtype(out, orig_dtype)
    return out


def adjust_gamma(img: Tensor, gamma: float, gain: float = 1) -> Tensor:
    if not isinstance(img, Tensor):
        raise TypeError("Input img should be a Tensor.")
    assert_channels(img, [1, 3])
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    result = img
    dtype = img.dtype
    if not img.is_floating_point():
        result = convert_image_dtype(result, ember.float32)
    a = _arr(result)
    xp = xp_of(a)
    a = xp.clip(a.dtype.type(gain) * a ** a.dtype.type(gamma), 0, 1).astype(a.dtype)
    return convert_image_dtype(_wrap(a), dtype)


def invert(img: Tensor) -> Tensor:
    assert_image_tensor(img)
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found "
                        f"{img.ndim}")
    assert_channels(img, [1, 3])
    a = _arr(img)
    return _wrap((a.dtype.type(_max_value(a.dtype)) - a).astype(a.dtype))


def posterize(img: Tensor, bits: int) -> Tensor:
    assert_image_tensor(img)
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found "
                        f"{img.ndim}")
    if img.dtype != ember.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {img.dtype}")
    assert_channels(img, [1, 3])
    mask = -int(2 ** (8 - bits)) & 0xFF  # JIT-friendly for: ~(2 ** (8 - bits) - 1)
    return _wrap(_arr(img) & np.uint8(mask))


def solarize(img: Tensor, threshold: float) -> Tensor:
    assert_image_tensor(img)
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found "
                        f"{img.ndim}")
    assert_channels(img, [1, 3])
    if threshold > _max_value(_arr(img).dtype):
        raise TypeError("Threshold should be less than bound of img.")
    a = _arr(img)
    xp = xp_of(a)
    inverted = _arr(invert(img))
    return _wrap(xp.where(a >= threshold, inverted, a))


def _blurred_degenerate_image(xp, a):
    work = a.dtype if _is_float(a) else np.dtype(np.float32)
    k = np.ones((3, 3), dtype=work)
    k[1, 1] = 5.0
    k /= k.sum()
    x = a.astype(work)
    h, w = a.shape[-2:]
    acc = xp.zeros(a.shape[:-2] + (h - 2, w - 2), dtype=work)
    for dy in range(3):
        for dx in range(3):
            acc += work.type(k[dy, dx]) * x[..., dy:dy + h - 2, dx:dx + w - 2]
    acc = _to_dtype(xp, acc, a.dtype)
    result = a.copy()
    result[..., 1:-1, 1:-1] = acc
    return result


def adjust_sharpness(img: Tensor, sharpness_factor: float) -> Tensor:
    if sharpness_factor < 0:
        raise ValueError(f"sharpness_factor ({sharpness_factor}) is not non-negative.")
    assert_image_tensor(img)
    assert_channels(img, [1, 3])
    if img.size(-1) <= 2 or img.size(-2) <= 2:
        return img
    a = _arr(img)
    xp = xp_of(a)
    return _wrap(_blend(xp, a, _blurred_degenerate_image(xp, a), sharpness_factor))


def autocontrast(img: Tensor) -> Tensor:
    assert_image_tensor(img)
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found "
                        f"{img.ndim}")
    assert_channels(img, [1, 3])
    a = _arr(img)
    xp = xp_of(a)
    bound = _max_value(a.dtype)
    work = a.dtype if _is_float(a) else np.dtype(np.float32)
    minimum = a.min(axis=(-2, -1), keepdims=True).astype(work)
    maximum = a.max(axis=(-2, -1), keepdims=True).astype(work)
    with np.errstate(divide="ignore", invalid="ignore"):
        # torch evaluates ``bound / t`` as ``t.reciprocal() * bound`` (rounds differently)
        scale = (work.type(1) / (maximum - minimum)) * work.type(bound)
    eq = ~xp.isfinite(scale)
    minimum = xp.where(eq, work.type(0), minimum)
    scale = xp.where(eq, work.type(1), scale)
    out = xp.clip((a.astype(work) - minimum) * scale, 0, bound)
    return _wrap(out.astype(a.dtype))


def equalize(img: Tensor) -> Tensor:
    assert_image_tensor(img)
    if not (3 <= img.ndim <= 4):
        raise TypeError(f"Input image tensor should have 3 or 4 dimensions, but found "
                        f"{img.ndim}")
    if img.dtype != ember.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {img.dtype}")
    assert_channels(img, [1, 3])
    a = _arr(img)
    xp = xp_of(a)
    flat = a.reshape(-1, a.shape[-2] * a.shape[-1]).astype(np.int64)  # (B*C, HW)
    n = flat.shape[0]
    offs = xp.arange(n, dtype=np.int64)[:, None] * 256
    hist = xp.bincount((flat + offs).ravel(), minlength=n * 256).reshape(n, 256)
    # step = (sum of the non-zero bins but the last) // 255, per channel
    nz = hist != 0
    last = 255 - xp.argmax(nz[:, ::-1], axis=1)  # index of the last non-zero bin
    total = hist.sum(axis=1) - hist[xp.arange(n), last]
    step = total // 255
    safe = xp.where(step == 0, 1, step)
    lut = (xp.cumsum(hist, axis=1) + (step // 2)[:, None]) // safe[:, None]
    lut = xp.concatenate([xp.zeros((n, 1), dtype=lut.dtype), lut[:, :-1]], axis=1)
    lut = xp.clip(lut, 0, 255)
    out = xp.take_along_axis(lut, flat, axis=1)
    out = xp.where((step == 0)[:, None], flat, out).astype(np.uint8)
    return _wrap(out.reshape(a.shape))


# ---------------------------------------------------------------------------------------------
# blur and erase


def _gaussian_kernel1d(kernel_size: int, sigma: float) -> np.ndarray:
    ksize_half = (kernel_size - 1) * 0.5
    x = np.linspace(-ksize_half, ksize_half, kernel_size).astype(np.float32)
    pdf = np.exp(-0.5 * (x / np.float32(sigma)) ** 2)
    return (pdf / pdf.sum()).astype(np.float32)


def gaussian_blur(img: Tensor, kernel_size: list[int], sigma: list[float]) -> Tensor:
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor. Got {type(img)}")
    assert_image_tensor(img)
    a = _arr(img)
    xp = xp_of(a)
    work = a.dtype if a.dtype in (np.float32, np.float64) else np.dtype(np.float32)
    kx = _gaussian_kernel1d(kernel_size[0], sigma[0]).astype(work)
    ky = _gaussian_kernel1d(kernel_size[1], sigma[1]).astype(work)
    k2 = xp.asarray(np.outer(ky, kx).astype(work))  # (ky, kx), as torchvision's mm
    squeeze = a.ndim == 2
    x = a[None] if squeeze else a
    px, py = kernel_size[0] // 2, kernel_size[1] // 2
    widths = [(0, 0)] * (x.ndim - 2) + [(py, py), (px, px)]
    xpad = xp.pad(x.astype(work), widths, mode="reflect")
    h, w = x.shape[-2:]
    acc = xp.zeros(x.shape, dtype=work)
    for dy in range(kernel_size[1]):  # kernel taps: a few strided adds of the whole image
        for dx in range(kernel_size[0]):
            acc += k2[dy, dx] * xpad[..., dy:dy + h, dx:dx + w]
    out = _to_dtype(xp, acc, a.dtype)
    return _wrap(out[0] if squeeze else out)


def erase(img: Tensor, i: int, j: int, h: int, w: int, v: Tensor,
          inplace: bool = False) -> Tensor:
    assert_image_tensor(img)
    if not inplace:
        img = img.clone()
    a = img.detach()._data
    val = v.detach()._data if isinstance(v, Tensor) else v
    a[..., i:i + h, j:j + w] = val
    return img


# ---------------------------------------------------------------------------------------------
# grid transforms: affine, rotate, perspective


def _grid_sample(xp, img, grid, mode: str):
    """``grid_sample(img, grid, mode, padding_mode='zeros', align_corners=False)`` for
    (B, C, H, W) ``img`` and (B, oh, ow, 2) ``grid``, vectorised over every output pixel."""
    b, c, h, w = img.shape
    dt = img.dtype
    gx = ((grid[..., 0] + 1) * w - 1) / 2  # (B, oh, ow)
    gy = ((grid[..., 1] + 1) * h - 1) / 2
    bi = xp.arange(b)[:, None, None]
    flat = xp.moveaxis(img, 1, -1)  # (B, H, W, C)

    def tap(yy, xx):
        valid = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        v = flat[bi, xp.clip(yy, 0, h - 1), xp.clip(xx, 0, w - 1)]  # (B, oh, ow, C)
        return v * valid[..., None].astype(dt)

    if mode == "nearest":
        out = tap(xp.rint(gy).astype(np.int64), xp.rint(gx).astype(np.int64))
    else:
        x0 = xp.floor(gx)
        y0 = xp.floor(gy)
        wx1 = (gx - x0).astype(dt)
        wy1 = (gy - y0).astype(dt)
        wx0 = 1 - wx1
        wy0 = 1 - wy1
        x0 = x0.astype(np.int64)
        y0 = y0.astype(np.int64)
        out = (tap(y0, x0) * (wy0 * wx0)[..., None] + tap(y0, x0 + 1) * (wy0 * wx1)[..., None]
               + tap(y0 + 1, x0) * (wy1 * wx0)[..., None]
               + tap(y0 + 1, x0 + 1) * (wy1 * wx1)[..., None])
    return xp.ascontiguousarray(xp.moveaxis(out, -1, 1))


def _apply_grid_transform(img: Tensor, grid, mode: str, fill) -> Tensor:
    a = _arr(img)
    xp = xp_of(a)
    out_dtype = a.dtype
    work = grid.dtype
    x = a.astype(work)
    squeeze = x.ndim == 3
    if squeeze:
        x = x[None]
    lead = x.shape[:-3]
    x = x.reshape((-1,) + x.shape[-3:])
    bsz = x.shape[0]
    g = xp.broadcast_to(grid, (bsz,) + grid.shape[1:])
    if fill is not None:
        mask = xp.ones((bsz, 1) + x.shape[2:], dtype=work)
        x = xp.concatenate([x, mask], axis=1)
    out = _grid_sample(xp, x, g, mode)
    if fill is not None:
        mask = out[:, -1:, :, :]
        out = out[:, :-1, :, :]
        fill_list = list(fill) if isinstance(fill, (tuple, list)) else [float(fill)]
        fill_img = xp.asarray(np.array(fill_list, dtype=work).reshape(1, -1, 1, 1))
        if mode == "nearest":
            m = xp.broadcast_to(mask < 0.5, out.shape)
            out = xp.where(m, xp.broadcast_to(fill_img, out.shape), out)
        else:
            out = out * mask + (1.0 - mask) * fill_img
    out = out.reshape(lead + out.shape[1:])
    if squeeze:
        out = out[0]
    return _wrap(_to_dtype(xp, out, out_dtype))


def _gen_affine_grid(xp, theta, w: int, h: int, ow: int, oh: int):
    d = 0.5
    dt = theta.dtype
    xg = np.linspace(-ow * 0.5 + d, ow * 0.5 + d - 1, ow).astype(dt)
    yg = np.linspace(-oh * 0.5 + d, oh * 0.5 + d - 1, oh).astype(dt)
    base = np.empty((1, oh, ow, 3), dtype=dt)
    base[..., 0] = xg
    base[..., 1] = yg[:, None]
    base[..., 2] = 1
    rescaled = theta.transpose(0, 2, 1) / np.array([0.5 * w, 0.5 * h], dtype=dt)
    out = base.reshape(1, oh * ow, 3) @ rescaled
    return xp.asarray(out.reshape(1, oh, ow, 2).astype(dt))


def _grid_dtype(img: Tensor):
    d = _arr(img).dtype
    return d if d.kind == "f" else np.dtype(np.float32)


def _check_grid_args(img, interpolation, fill):
    assert_image_tensor(img)
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"Interpolation mode '{interpolation}' is unsupported with Tensor "
                         "input")
    if isinstance(fill, (tuple, list)) and len(fill) > 1 and \
            len(fill) != get_dimensions(img)[0]:
        raise ValueError("The number of elements in 'fill' cannot broadcast to match the "
                         f"number of channels of the image ({len(fill)} != "
                         f"{get_dimensions(img)[0]})")


def affine(img: Tensor, matrix: list[float], interpolation: str = "nearest",
           fill=None) -> Tensor:
    _check_grid_args(img, interpolation, fill)
    dt = _grid_dtype(img)
    theta = np.array(matrix, dtype=dt).reshape(1, 2, 3)
    h, w = img.shape[-2:]
    grid = _gen_affine_grid(xp_of(_arr(img)), theta, w=w, h=h, ow=w, oh=h)
    return _apply_grid_transform(img, grid, interpolation, fill=fill)


def _compute_affine_output_size(matrix: list[float], w: int, h: int) -> tuple[int, int]:
    pts = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0],
                    [0.5 * w, 0.5 * h, 1.0], [0.5 * w, -0.5 * h, 1.0]], dtype=np.float32)
    theta = np.array(matrix, dtype=np.float32).reshape(2, 3)
    new_pts = pts @ theta.T
    min_vals = new_pts.min(axis=0) + np.array((w * 0.5, h * 0.5), dtype=np.float32)
    max_vals = new_pts.max(axis=0) + np.array((w * 0.5, h * 0.5), dtype=np.float32)
    tol = np.float32(1e-4)
    cmax = np.ceil(np.trunc(max_vals / tol) * tol)
    cmin = np.floor(np.trunc(min_vals / tol) * tol)
    size = cmax - cmin
    return int(size[0]), int(size[1])


def rotate(img: Tensor, matrix: list[float], interpolation: str = "nearest",
           expand: bool = False, fill=None) -> Tensor:
    _check_grid_args(img, interpolation, fill)
    w, h = img.shape[-1], img.shape[-2]
    ow, oh = _compute_affine_output_size(matrix, w, h) if expand else (w, h)
    dt = _grid_dtype(img)
    theta = np.array(matrix, dtype=dt).reshape(1, 2, 3)
    grid = _gen_affine_grid(xp_of(_arr(img)), theta, w=w, h=h, ow=ow, oh=oh)
    return _apply_grid_transform(img, grid, interpolation, fill=fill)


def _perspective_grid(xp, coeffs: list[float], ow: int, oh: int, dt):
    theta1 = np.array([[[coeffs[0], coeffs[1], coeffs[2]], [coeffs[3], coeffs[4], coeffs[5]]]],
                      dtype=dt)
    theta2 = np.array([[[coeffs[6], coeffs[7], 1.0], [coeffs[6], coeffs[7], 1.0]]], dtype=dt)
    d = 0.5
    base = np.empty((1, oh, ow, 3), dtype=dt)
    base[..., 0] = np.linspace(d, ow * 1.0 + d - 1.0, ow).astype(dt)
    base[..., 1] = np.linspace(d, oh * 1.0 + d - 1.0, oh).astype(dt)[:, None]
    base[..., 2] = 1
    rescaled_theta1 = theta1.transpose(0, 2, 1) / np.array([0.5 * ow, 0.5 * oh], dtype=dt)
    g1 = base.reshape(1, oh * ow, 3) @ rescaled_theta1
    g2 = base.reshape(1, oh * ow, 3) @ theta2.transpose(0, 2, 1)
    grid = g1 / g2 - dt.type(1.0)
    return xp.asarray(grid.reshape(1, oh, ow, 2).astype(dt))


def perspective(img: Tensor, perspective_coeffs: list[float],
                interpolation: str = "bilinear", fill=None) -> Tensor:
    if not isinstance(img, Tensor):
        raise TypeError(f"Input img should be Tensor. Got {type(img)}")
    _check_grid_args(img, interpolation, fill)
    ow, oh = img.shape[-1], img.shape[-2]
    grid = _perspective_grid(xp_of(_arr(img)), perspective_coeffs, ow=ow, oh=oh,
                             dt=_grid_dtype(img))
    return _apply_grid_transform(img, grid, interpolation, fill=fill)

