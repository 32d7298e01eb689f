"""Miscellaneous v2 transforms: ``Identity``, ``Lambda``, ``LinearTransformation``,
``Normalize``, ``GaussianBlur``, ``GaussianNoise``, ``ToDtype``, ``ConvertImageDtype``,
``SanitizeBoundingBoxes`` and ``UniformTemporalSubsample``."""

from __future__ import annotations

import collections.abc
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import ember
from ember import Tensor

from ..._pil import is_pil_image
from ...tv_tensors import BoundingBoxes, Image, KeyPoints, Mask, TVTensor, Video
from . import functional as F
from ._pytree import tree_flatten, tree_unflatten
from ._transform import Transform
from ._utils import _number_or_range, _size_pair, get_bounding_boxes, get_keypoints
from .functional._utils import _plain, is_pure_tensor

__all__ = ["Identity", "Lambda", "LinearTransformation", "Normalize", "GaussianBlur",
           "GaussianNoise", "ToDtype", "ConvertImageDtype", "SanitizeBoundingBoxes",
           "UniformTemporalSubsample", "SanitizeKeyPoints"]


class Identity(Transform):
    """Return the sample unchanged."""

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return inpt


class Lambda(Transform):
    """Apply a user function to the inputs of the given types.

    Args:
        lambd (callable): the function, called on each matching input.
        *types: the input types it applies to (all inputs by default).
    """

    _transformed_types = (object,)

    def __init__(self, lambd: Callable[[Any], Any], *types: type) -> None:
        super().__init__()
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd
        self.types = types or self._transformed_types

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if isinstance(inpt, self.types):
            return self.lambd(inpt)
        return inpt

    def extra_repr(self) -> str:
        name = getattr(self.lambd, "__name__", None)
        parts = [name] if name else []
        parts.append(f"types={[t.__name__ for t in self.types]}")
        return ", ".join(parts)


class LinearTransformation(Transform):
    """Multiply the flattened image or video by a square matrix after subtracting a mean
    vector (e.g. a ZCA whitening): ``(x.flatten() - mean_vector) @ transformation_matrix``.

    Args:
        transformation_matrix (Tensor): (D, D) with D = C * H * W.
        mean_vector (Tensor): (D,).
    """

    _transformed_types = (is_pure_tensor, Image, Video)

    def __init__(self, transformation_matrix: Tensor, mean_vector: Tensor):
        super().__init__()
        if transformation_matrix.shape[0] != transformation_matrix.shape[1]:
            raise ValueError("transformation_matrix should be square. Got "
                             f"{tuple(transformation_matrix.size())} rectangular matrix.")
        if mean_vector.shape[0] != transformation_matrix.shape[0]:
            raise ValueError(f"mean_vector should have the same length {mean_vector.shape[0]}"
                             f" as any one of the dimensions of the transformation_matrix "
                             f"[{tuple(transformation_matrix.size())}]")
        if transformation_matrix.device != mean_vector.device:
            raise ValueError(f"Input tensors should be on the same device. Got "
                             f"{transformation_matrix.device} and {mean_vector.device}")
        if transformation_matrix.dtype != mean_vector.dtype:
            raise ValueError(f"Input tensors should have the same dtype. Got "
                             f"{transformation_matrix.dtype} and {mean_vector.dtype}")
        self.transformation_matrix = transformation_matrix
        self.mean_vector = mean_vector

    def check_inputs(self, sample: Any) -> Any:
        if any(is_pil_image(inpt) for inpt in sample):
            raise TypeError(f"{type(self).__name__}() does not support PIL images.")

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        shape = inpt.shape
        n = shape[-3] * shape[-2] * shape[-1]
        if n != self.transformation_matrix.shape[0]:
            raise ValueError("Input tensor and transformation matrix have incompatible shape."
                             f"[{shape[-3]} x {shape[-2]} x {shape[-1]}] != "
                             f"{self.transformation_matrix.shape[0]}")
        if inpt.device.type != self.mean_vector.device.type:
            raise ValueError("Input tensor should be on the same device as transformation "
                             f"matrix and mean vector. Got {inpt.device} vs "
                             f"{self.mean_vector.device}")
        flat = _plain(inpt).reshape(-1, n) - self.mean_vector  # (B, D)
        out = (flat.to(self.transformation_matrix.dtype) @ self.transformation_matrix)
        out = out.reshape(shape)
        return type(inpt)._wrap(out) if isinstance(inpt, TVTensor) else out


class Normalize(Transform):
    """Normalize a float image or video per channel: ``(x - mean[c]) / std[c]``.

    Args:
        mean (sequence): per-channel means.
        std (sequence): per-channel standard deviations.
        inplace (bool): write into the input. Default False.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False):
        super().__init__()
        self.mean = list(mean)
        self.std = list(std)
        self.inplace = inplace

    def check_inputs(self, sample: Any) -> Any:
        if any(is_pil_image(inpt) for inpt in sample):
            raise TypeError(f"{type(self).__name__}() does not support PIL images.")

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.normalize, inpt, mean=self.mean, std=self.std,
                                      inplace=self.inplace)


class GaussianBlur(Transform):
    """Blur with a Gaussian kernel of size ``kernel_size`` and a standard deviation drawn
    uniformly from ``sigma`` (min, max) once per call.

    Args:
        kernel_size (int or sequence): odd, positive kernel size (kx, ky).
        sigma (float or (min, max)): the standard deviation or its range. Default
            (0.1, 2.0).
    """

    def __init__(self, kernel_size: int | Sequence[int],
                 sigma: int | float | Sequence[float] = (0.1, 2.0)) -> None:
        super().__init__()
        self.kernel_size = _size_pair(kernel_size, "Kernel size should be a tuple/list of "
                                                   "two integers")
        if any(k <= 0 or k % 2 == 0 for k in self.kernel_size):
            raise ValueError("Kernel size value should be an odd and positive number.")
        self.sigma = _number_or_range(sigma, "sigma")
        low, high = self.sigma
        if not (0.0 < low <= high):
            raise ValueError(f"sigma values should be positive and of the form (min, max). "
                             f"Got {self.sigma}")

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        sigma = float(ember.empty(1).uniform_(self.sigma[0], self.sigma[1]).item())
        return {"sigma": [sigma, sigma]}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.gaussian_blur, inpt, self.kernel_size, **params)


class GaussianNoise(Transform):
    """Add Gaussian noise N(``mean``, ``sigma``) to float (and uint8) images and videos,
    clipped to the value range when ``clip``.

    Args:
        mean (float): noise mean. Default 0.
        sigma (float): noise standard deviation. Default 0.1.
        clip (bool): clip the result to [0, 1] (floats) or [0, 255] (uint8). Default True.
    """

    def __init__(self, mean: float = 0.0, sigma: float = 0.1, clip=True) -> None:
        super().__init__()
        self.mean = mean
        self.sigma = sigma
        self.clip = clip

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.gaussian_noise, inpt, mean=self.mean, sigma=self.sigma,
                                      clip=self.clip)


class ToDtype(Transform):
    """Convert inputs to a dtype, optionally rescaling the values of images and videos.

    With one ``dtype``, only images and videos (and a plain tensor taken as the image)
    are converted. With a dict ``{type: dtype}`` each type gets its dtype (``None``: left
    alone; key ``"others"``: every other type; a type without an entry raises).

    Args:
        dtype (ember.dtype or dict): the dtype(s).
        scale (bool): rescale image and video values to the new dtype's range (see
            :func:`~ember.vision.transforms.v2.functional.to_dtype`). Default False.
    """

    _transformed_types = (Tensor,)

    def __init__(self, dtype, scale: bool = False) -> None:
        super().__init__()
        if not isinstance(dtype, (dict, ember.dtype)):
            raise ValueError(f"dtype must be a dict or a torch.dtype, got {type(dtype)} "
                             f"instead")
        if isinstance(dtype, dict) and Tensor in dtype and any(
                cls in dtype for cls in (Image, Video)):
            warnings.warn("Got `dtype` values for `torch.Tensor` and either "
                          "`tv_tensors.Image` or `tv_tensors.Video`. Note that a plain "
                          "`torch.Tensor` will *not* be transformed by this (or any other "
                          "transformation) in case a `tv_tensors.Image` or "
                          "`tv_tensors.Video` is present in the input.", stacklevel=2)
        self.dtype = dtype
        self.scale = scale

    def _target_dtype(self, inpt: Any):
        """(dtype or None to leave ``inpt`` alone, whether its values get rescaled)."""
        image_like = is_pure_tensor(inpt) or isinstance(inpt, (Image, Video))
        if not isinstance(self.dtype, dict):
            return (self.dtype if image_like else None), image_like
        for key in (type(inpt), "others"):
            if key in self.dtype:
                return self.dtype[key], image_like
        raise ValueError(f"No dtype was specified for type {type(inpt)}. If you only need "
                         f"to convert the dtype of images or videos, you can just pass "
                         f"e.g. dtype=torch.float32. If you're passing a dict as dtype, "
                         f'you can use "others" as a catch-all key e.g. '
                         f'dtype={{tv_tensors.Mask: torch.int64, "others": None}} to '
                         f"pass-through the rest of the inputs.")

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        target, image_like = self._target_dtype(inpt)
        if target is None:
            return inpt
        return self._apply_functional(F.to_dtype, inpt, dtype=target,
                                           scale=self.scale and image_like)

    def extra_repr(self) -> str:
        return f"scale={self.scale}"


class ConvertImageDtype(Transform):
    """Convert images and videos to ``dtype``, rescaling their values
    (``ToDtype(dtype, scale=True)``).

    Args:
        dtype (ember.dtype): the new dtype. Default float32.
    """

    _transformed_types = (is_pure_tensor, Image, Video)

    def __init__(self, dtype=ember.float32) -> None:
        super().__init__()
        self.dtype = dtype

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.to_dtype, inpt, dtype=self.dtype, scale=True)


def _default_labels(inputs: Any) -> Any:
    """torchvision's default labels getter: the "labels" key (any case) of a dict sample, or
    of the dict second item of an (image, target) pair, or a tensor second item."""
    candidate = inputs
    if isinstance(inputs, tuple) and len(inputs) == 2:
        if isinstance(inputs[1], Tensor):
            return inputs[1]
        candidate = inputs[1]
    if not isinstance(candidate, collections.abc.Mapping):
        raise ValueError(f"When using the default labels_getter, the input passed to forward "
                         f"must be a dictionary or a two-tuple whose second item is a "
                         f"dictionary or a tensor, but got {inputs} instead.")
    for key in candidate:
        if isinstance(key, str) and key.lower() == "labels":
            return candidate[key]
    raise ValueError("Could not infer where the labels are in the sample. Try passing a "
                     "callable as the labels_getter parameter?If there are no labels in the "
                     "sample by design, pass labels_getter=None.")


def _companions(getter: Callable | None, sample: Any) -> list:
    """The tensors that ``getter`` finds in ``sample`` (filtered along with the boxes or
    points), as a list."""
    if getter is None:
        return []
    found = getter(sample)
    if found is None:
        return []
    if isinstance(found, (tuple, list)):
        return list(found)
    if not isinstance(found, Tensor):
        raise ValueError(f"The labels in the input to forward() must be a tensor or None, "
                         f"got {type(found)} instead.")
    return [found]


def _labels_getter_from(labels_getter) -> Callable | None:
    if labels_getter == "default":
        return _default_labels
    if callable(labels_getter):
        return labels_getter
    if labels_getter is None:
        return None
    raise ValueError(f"labels_getter should either be 'default', a callable, or None, but "
                     f"got {labels_getter}.")


class SanitizeBoundingBoxes(Transform):
    """Remove invalid boxes and the labels (and per-box masks) that go with them.

    A box is removed when its width or height is below ``min_size``, its area below
    ``min_area``, or a corner lies outside the canvas (see
    :func:`~ember.vision.transforms.v2.functional.sanitize_bounding_boxes`). Masks of
    shape (N, H, W) with N boxes are filtered too.

    Args:
        min_size (float): minimum width and height. Default 1.
        min_area (float): minimum area. Default 1.
        labels_getter (callable, "default" or None): finds the tensors to filter with the
            boxes: "default" takes the "labels" entry of the sample's dict; a callable
            returns a tensor or a tuple of tensors; None filters only the boxes.
    """

    def __init__(self, min_size: float = 1.0, min_area: float = 1.0,
                 labels_getter: Callable[[Any], Any] | str | None = "default") -> None:
        super().__init__()
        if min_size < 1:
            raise ValueError(f"min_size must be >= 1, got {min_size}.")
        self.min_size = min_size
        if min_area < 1:
            raise ValueError(f"min_area must be >= 1, got {min_area}.")
        self.min_area = min_area
        self.labels_getter = labels_getter
        self._labels_getter = _labels_getter_from(labels_getter)

    def forward(self, *inputs: Any) -> Any:
        sample = inputs[0] if len(inputs) == 1 else inputs
        companions = _companions(self._labels_getter, sample)
        leaves, treespec = tree_flatten(sample)
        boxes = get_bounding_boxes(leaves)
        for tensor in companions:
            if tensor.shape[0] != boxes.shape[0]:
                raise ValueError(f"Number of boxes (shape={boxes.shape}) and must match the "
                                 f"number of labels.Found labels with shape={tensor.shape}).")
        keep = F._meta._valid_boxes(boxes.detach()._data, boxes.format, boxes.canvas_size,
                                    self.min_size, self.min_area)
        params = {"valid": keep, "labels": companions, "num_boxes": boxes.shape[0]}
        return tree_unflatten([self.transform(leaf, params) for leaf in leaves], treespec)

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        is_label = any(inpt is label for label in params["labels"])
        is_instance_mask = (isinstance(inpt, Mask) and inpt.ndim >= 3
                            and inpt.shape[-3] == params["num_boxes"])
        if not (is_label or is_instance_mask or isinstance(inpt, BoundingBoxes)):
            return inpt
        kept = Tensor._make(inpt.detach()._data[params["valid"]])
        if isinstance(inpt, TVTensor):
            return type(inpt)._wrap(kept, **inpt._metadata())
        return kept

    def extra_repr(self) -> str:
        return (f"min_size={self.min_size}, min_area={self.min_area}, "
                f"labels_getter={self.labels_getter}")


class SanitizeKeyPoints(Transform):
    """Remove key points (or groups of them) that lie outside the canvas, and the labels
    that go with them (see :func:`~ember.vision.transforms.v2.functional.sanitize_keypoints`;
    :class:`~ember.vision.transforms.v2.ClampKeyPoints` clamps them instead).

    Args:
        labels_getter (callable, "default" or None): finds the tensors to filter with the
            points, as for :class:`SanitizeBoundingBoxes`; None (default) filters only the
            points.
    """

    def __init__(self, labels_getter: Callable[[Any], Any] | str | None = None) -> None:
        super().__init__()
        self.labels_getter = labels_getter
        self._labels_getter = _labels_getter_from(labels_getter)

    def forward(self, *inputs: Any) -> Any:
        sample = inputs[0] if len(inputs) == 1 else inputs
        companions = _companions(self._labels_getter, sample)
        leaves, treespec = tree_flatten(sample)
        points = get_keypoints(leaves)
        keep = F._meta._valid_points(points.detach()._data, points.canvas_size)

        def filtered(leaf):
            if not (isinstance(leaf, KeyPoints) or any(leaf is c for c in companions)):
                return leaf
            kept = Tensor._make(leaf.detach()._data[keep])
            return type(leaf)._wrap(kept, **leaf._metadata()) if isinstance(
                leaf, TVTensor) else kept

        return tree_unflatten([filtered(leaf) for leaf in leaves], treespec)


class UniformTemporalSubsample(Transform):
    """Keep ``num_samples`` evenly spaced frames of each video (..., T, C, H, W).

    Args:
        num_samples (int): the number of frames kept.
    """

    _transformed_types = (is_pure_tensor, Video)

    def __init__(self, num_samples: int):
        super().__init__()
        self.num_samples = num_samples

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self._apply_functional(F.uniform_temporal_subsample, inpt, self.num_samples)
