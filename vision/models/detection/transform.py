"""``GeneralizedRCNNTransform``: what the R-CNN detectors do to images before the backbone
(normalise, rescale with their boxes, masks and keypoints, pad into one batch) and to
detections afterwards (scale boxes and keypoints back to the input sizes, paste masks into
the input images)."""

from __future__ import annotations

import math

import ember
from ember import Tensor, nn
from ember.nn import functional as F

from ._roi_mask import paste_masks_in_image
from .image_list import ImageList

__all__ = ["GeneralizedRCNNTransform", "resize_boxes", "resize_keypoints"]


def _resize_plan(image, self_min_size, self_max_size, fixed_size=None):
    """The ``F.interpolate`` size arguments of the rescale: to ``fixed_size`` (w, h) when
    given, else by the largest factor keeping the short side <= ``self_min_size`` and the
    long side <= ``self_max_size``."""
    if fixed_size is not None:
        return {"size": [fixed_size[1], fixed_size[0]], "scale_factor": None,
                "recompute_scale_factor": None}
    short, long_ = min(image.shape[-2:]), max(image.shape[-2:])
    factor = min(self_min_size / short, self_max_size / long_)
    return {"size": None, "scale_factor": factor, "recompute_scale_factor": True}


def _resize_image(image, self_min_size, self_max_size, fixed_size=None, target=None):
    """Bilinear rescale of a (C, H, W) ``image`` (see ``_resize_plan``); the (N, H, W)
    ``target["masks"]``, when present, are rescaled alike (nearest, back to uint8)."""
    plan = _resize_plan(image, self_min_size, self_max_size, fixed_size)
    out = F.interpolate(image[None], mode="bilinear", align_corners=False, **plan)[0]
    if target is not None and "masks" in target:
        planes = target["masks"][:, None].float()
        target["masks"] = F.interpolate(planes, **plan)[:, 0].to(ember.uint8)
    return out, target


def _round_up(value: int, multiple: int) -> int:
    return int(math.ceil(float(value) / float(multiple)) * float(multiple))


class GeneralizedRCNNTransform(nn.Module):
    """Prepares a list of images (and targets) for a GeneralizedRCNN model.

    Each image is normalised with ``image_mean``/``image_std`` and rescaled so its short
    side is ``min_size`` (in training a random entry of a tuple of sizes) without the long
    side passing ``max_size``; target boxes are rescaled alike. The images are then
    zero-padded to a common size divisible by ``size_divisible`` and returned as an
    ``ImageList`` with the (copied) targets. ``postprocess`` undoes the box scaling.
    """

    def __init__(self, min_size, max_size, image_mean, image_std, size_divisible=32,
                 fixed_size=None, **kwargs) -> None:
        super().__init__()
        self.min_size = tuple([min_size]) if not isinstance(min_size, (list, tuple)) \
            else min_size
        self.max_size = max_size
        self.image_mean = image_mean
        self.image_std = image_std
        self.size_divisible = size_divisible
        self.fixed_size = fixed_size
        self._skip_resize = kwargs.pop("_skip_resize", False)

    def forward(self, images, targets=None):
        """Returns ``(ImageList, targets)``; the caller's target dicts are left untouched."""
        work = list(images)
        new_targets = None if targets is None else [dict(t) for t in targets]
        for i, img in enumerate(work):
            if img.dim() != 3:
                raise ValueError("images is expected to be a list of 3d tensors of shape "
                                 f"[C, H, W], got {list(img.shape)}")
            tgt = None if new_targets is None else new_targets[i]
            img, tgt = self.resize(self.normalize(img), tgt)
            work[i] = img
            if tgt is not None:
                new_targets[i] = tgt
        sizes = [(int(im.shape[-2]), int(im.shape[-1])) for im in work]
        return ImageList(self.batch_images(work, size_divisible=self.size_divisible),
                         sizes), new_targets

    def normalize(self, image):
        """Per-channel ``(image - mean) / std`` of a floating-point image."""
        if not image.is_floating_point():
            raise TypeError("Expected input images to be of floating type (in range [0, 1]), "
                            f"but found type {image.dtype} instead")

        def _per_channel(values):
            return ember.tensor(values, dtype=image.dtype, device=image.device)[:, None, None]

        return (image - _per_channel(self.image_mean)) / _per_channel(self.image_std)

    def torch_choice(self, k):
        """A random element of ``k`` drawn from ember's global generator."""
        pos = ember.empty(1).uniform_(0.0, float(len(k))).item()
        return k[int(pos)]

    def resize(self, image, target=None):
        """Rescales ``image``, and ``target["boxes"]`` by the same factors."""
        before = tuple(image.shape[-2:])
        if not self.training:
            short = self.min_size[-1]
        elif self._skip_resize:
            return image, target
        else:
            short = self.torch_choice(self.min_size)
        image, target = _resize_image(image, short, self.max_size, self.fixed_size, target)
        if target is not None:
            after = tuple(image.shape[-2:])
            target["boxes"] = resize_boxes(target["boxes"], before, after)
            if "keypoints" in target:
                target["keypoints"] = resize_keypoints(target["keypoints"], before, after)
        return image, target

    def max_by_axis(self, the_list):
        """Element-wise maximum over a list of equally long size lists."""
        return [max(column) for column in zip(*the_list)]

    def batch_images(self, images, size_divisible=32):
        """Stacks the images into (N, C, H, W), zero-padding bottom/right so H and W are
        multiples of ``size_divisible``."""
        c_max, h_max, w_max = self.max_by_axis([list(im.shape) for im in images])
        h_max = _round_up(h_max, size_divisible)
        w_max = _round_up(w_max, size_divisible)
        return ember.stack([
            F.pad(im, (0, w_max - im.shape[2], 0, h_max - im.shape[1], 0, c_max - im.shape[0]))
            for im in images])

    def postprocess(self, result, image_shapes, original_image_sizes):
        """In eval mode, maps every ``result[i]["boxes"]`` (and ``"keypoints"``) from the
        resized image back to the original one and pastes ``"masks"`` into (n, 1, H, W)
        images of the original size at those boxes; in training mode returns ``result``
        unchanged."""
        if self.training:
            return result
        for det, now, orig in zip(result, image_shapes, original_image_sizes):
            det["boxes"] = resize_boxes(det["boxes"], now, orig)
            if "masks" in det:
                det["masks"] = paste_masks_in_image(det["masks"], det["boxes"], orig)
            if "keypoints" in det:
                det["keypoints"] = resize_keypoints(det["keypoints"], now, orig)
        return result

    def __repr__(self) -> str:
        pad = "\n    "
        return (f"{type(self).__name__}({pad}Normalize(mean={self.image_mean}, "
                f"std={self.image_std}){pad}Resize(min_size={self.min_size}, "
                f"max_size={self.max_size}, mode='bilinear')\n)")


def resize_boxes(boxes: Tensor, original_size, new_size) -> Tensor:
    """Rescales xyxy ``boxes`` from an image of ``original_size`` (h, w) to ``new_size``,
    with the ratios computed in float32."""

    def _ratio(new, old):
        as_f32 = {"dtype": ember.float32, "device": boxes.device}
        return ember.tensor(new, **as_f32) / ember.tensor(old, **as_f32)

    sy = _ratio(new_size[0], original_size[0])
    sx = _ratio(new_size[1], original_size[1])
    x0, y0, x1, y1 = boxes.unbind(1)
    return ember.stack((x0 * sx, y0 * sy, x1 * sx, y1 * sy), dim=1)


def resize_keypoints(keypoints: Tensor, original_size, new_size) -> Tensor:
    """Rescales the x and y of ``keypoints`` (..., K, >=2) from an image of
    ``original_size`` (h, w) to ``new_size``; other columns (visibility) are kept."""
    as_f32 = {"dtype": ember.float32, "device": keypoints.device}
    sy = ember.tensor(new_size[0], **as_f32) / ember.tensor(original_size[0], **as_f32)
    sx = ember.tensor(new_size[1], **as_f32) / ember.tensor(original_size[1], **as_f32)
    out = keypoints.clone()
    out[..., 0] = out[..., 0] * sx
    out[..., 1] = out[..., 1] * sy
    return out
