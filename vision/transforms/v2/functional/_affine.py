"""Geometric functionals that resample the pixel grid: ``affine``, ``rotate``,
``perspective`` and ``elastic``, for images (tensor and PIL), videos, masks, boxes and key
points.

Images go through the v1 kernels; boxes have their four corners mapped by the forward
transform and are replaced by the enclosing axis-aligned box (clamped to the canvas
unless their clamping mode is None); key points are mapped directly.
"""

from __future__ import annotations

import numbers

import numpy as np
from ember import Tensor

from ....ops._utils import xp_of
from ....tv_tensors import BoundingBoxFormat, Image, Mask, Video
from ... import _functional_tensor as F_t
from ... import functional as F1
from ...functional import InterpolationMode
from . import _box_arrays as B
from . import _grid
from ._geometry import _interpolation_mode, _register_boxes, _register_keypoints
from ._utils import _dispatch, _register

__all__ = ["affine", "affine_image", "affine_video", "affine_mask", "affine_bounding_boxes",
           "affine_keypoints", "rotate", "rotate_image", "rotate_video", "rotate_mask",
           "rotate_bounding_boxes", "rotate_keypoints", "perspective", "perspective_image",
           "perspective_video", "perspective_mask", "perspective_bounding_boxes",
           "perspective_keypoints", "elastic", "elastic_image", "elastic_video",
           "elastic_mask", "elastic_bounding_boxes", "elastic_keypoints", "elastic_transform"]


def _fill_arg(fill):
    if fill is None or isinstance(fill, (list, tuple)):
        return fill
    return [float(fill)]


def _mask_call(kernel, mask: Tensor, **kwargs) -> Tensor:
    """Runs an image kernel on a mask, adding a channel axis to (H, W) masks."""
    flat = mask.ndim == 2
    out = kernel(mask.unsqueeze(0) if flat else mask, **kwargs)
    return out.squeeze(0) if flat else out


def _point_map(matrix: list[float]):
    """(n, 2) points through the 2x3 affine ``matrix``."""
    def apply(p):
        xp = xp_of(p)
        m = xp.asarray(np.array(matrix, dtype=np.float64).reshape(2, 3)).astype(p.dtype)
        return p @ m[:, :2].T + m[:, 2]
    return apply


def _shear_pair(shear) -> list[float]:
    if isinstance(shear, numbers.Number):
        return [float(shear), 0.0]
    shear = list(shear)
    if len(shear) == 1:
        return [float(shear[0]), float(shear[0])]
    if len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    return [float(s) for s in shear]


def _check_affine_args(angle, translate, scale, shear):
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise TypeError("Argument translate should be a sequence")
    if len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    return float(angle), [float(t) for t in translate], float(scale), _shear_pair(shear)


# -- affine -------------------------------------------------------------------------------


def affine(inpt: Tensor, angle: int | float, translate: list[float], scale: float,
           shear: list[float],
           interpolation: InterpolationMode | int = InterpolationMode.NEAREST,
           fill: list[float] | None = None, center: list[float] | None = None) -> Tensor:
    """Affine transform keeping the center (or ``center``) fixed: rotation by ``angle``
    degrees (clockwise), ``translate`` in pixels, ``scale`` and ``shear`` in degrees."""
    return _dispatch(affine, inpt, angle=angle, translate=translate, scale=scale, shear=shear,
                     interpolation=interpolation, fill=fill, center=center)


@_register(affine, Tensor, Image, Video)
def affine_image(image: Tensor, angle: int | float, translate: list[float], scale: float,
                 shear: list[float],
                 interpolation: InterpolationMode | int = InterpolationMode.NEAREST,
                 fill: list[float] | None = None, center: list[float] | None = None) -> Tensor:
    """Affine transform of a tensor image (see :func:`affine`)."""
    angle, translate, scale, shear = _check_affine_args(angle, translate, scale, shear)
    interpolation = _interpolation_mode(interpolation)
    return _grid.affine(image, angle, translate, scale, shear, interpolation.value,
                        _fill_arg(fill), center)


affine_video = affine_image


@_register(affine, "PIL")
def _affine_pil(image, angle, translate, scale, shear,
                interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    angle, translate, scale, shear = _check_affine_args(angle, translate, scale, shear)
    return F1.affine(image, angle, translate, scale, shear,
                     interpolation=_interpolation_mode(interpolation), fill=fill,
                     center=center)


@_register(affine, Mask)
def affine_mask(mask: Tensor, angle: int | float, translate: list[float], scale: float,
                shear: list[float], fill: list[float] | None = None,
                center: list[float] | None = None) -> Tensor:
    """Affine transform of a mask (nearest interpolation)."""
    return _mask_call(affine_image, mask, angle=angle, translate=translate, scale=scale,
                      shear=shear, interpolation=InterpolationMode.NEAREST, fill=fill,
                      center=center)


def _forward_affine(canvas_size, angle, translate, scale, shear, center) -> list[float]:
    h, w = canvas_size
    if center is None:
        center = [w * 0.5, h * 0.5]
    return F1._get_inverse_affine_matrix(list(center), angle, translate, scale, shear,
                                         inverted=False)


@_register_boxes(affine, changes_canvas=False)
def affine_bounding_boxes(bounding_boxes: Tensor, format: BoundingBoxFormat,
                          canvas_size: tuple[int, int], angle: int | float,
                          translate: list[float], scale: float, shear: list[float],
                          center: list[float] | None = None,
                          clamping_mode: str | None = "soft") -> Tensor:
    """Boxes through an affine transform (enclosing box of the mapped corners)."""
    B._check_unrotated(format, "affine")
    angle, translate, scale, shear = _check_affine_args(angle, translate, scale, shear)
    matrix = _forward_affine(canvas_size, angle, translate, scale, shear, center)
    out = B.map_boxes(B._array(bounding_boxes), format, canvas_size, _point_map(matrix),
                      clamping_mode)
    return B._tensor(out)


def _map_points(keypoints: Tensor, point_map) -> Tensor:
    a = B._array(keypoints)
    f = a.reshape(-1, 2).astype(B._work_dtype(a))
    return B._tensor(point_map(f).astype(a.dtype).reshape(a.shape))


@_register_keypoints(affine, changes_canvas=False)
def affine_keypoints(keypoints: Tensor, canvas_size: tuple[int, int], angle: int | float,
                     translate: list[float], scale: float, shear: list[float],
                     center: list[float] | None = None) -> Tensor:
    """Key points through an affine transform."""
    angle, translate, scale, shear = _check_affine_args(angle, translate, scale, shear)
    matrix = _forward_affine(canvas_size, angle, translate, scale, shear, center)
    return _map_points(keypoints, _point_map(matrix))


# -- rotate -------------------------------------------------------------------------------


def rotate(inpt: Tensor, angle: float,
           interpolation: InterpolationMode | int = InterpolationMode.NEAREST,
           expand: bool = False, center: list[float] | None = None,
           fill: list[float] | None = None) -> Tensor:
    """Rotate by ``angle`` degrees counter-clockwise around the center (or ``center``);
    ``expand`` grows the canvas to hold the whole rotated input."""
    return _dispatch(rotate, inpt, angle=angle, interpolation=interpolation, expand=expand,
                     center=center, fill=fill)


@_register(rotate, Tensor, Image, Video)
def rotate_image(image: Tensor, angle: float,
                 interpolation: InterpolationMode | int = InterpolationMode.NEAREST,
                 expand: bool = False, center: list[float] | None = None,
                 fill: list[float] | None = None) -> Tensor:
    """Rotate a tensor image (see :func:`rotate`)."""
    return _grid.rotate(image, float(angle), _interpolation_mode(interpolation).value, expand,
                        center, _fill_arg(fill))


rotate_video = rotate_image


@_register(rotate, "PIL")
def _rotate_pil(image, angle, interpolation=InterpolationMode.NEAREST, expand=False,
                center=None, fill=None):
    return F1.rotate(image, float(angle), interpolation=_interpolation_mode(interpolation),
                     expand=expand, center=center, fill=fill)


@_register(rotate, Mask)
def rotate_mask(mask: Tensor, angle: float, expand: bool = False,
                center: list[float] | None = None, fill: list[float] | None = None) -> Tensor:
    """Rotate a mask (nearest interpolation)."""
    return _mask_call(rotate_image, mask, angle=angle, interpolation=InterpolationMode.NEAREST,
                      expand=expand, center=center, fill=fill)


def _rotation(canvas_size, angle: float, expand: bool, center):
    """The forward point matrix of a rotation and the output canvas size. With
    ``expand``, the points are shifted so that the rotated canvas starts at 0 (its exact
    extent; the output canvas is that extent rounded up, as the image kernel does)."""
    h, w = canvas_size
    matrix = _forward_affine(canvas_size, -angle, [0.0, 0.0], 1.0, [0.0, 0.0], center)
    if not expand:
        return matrix, (h, w)
    inverse = F1._get_inverse_affine_matrix([0.0, 0.0], -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    new_w, new_h = F_t._compute_affine_output_size(inverse, w, h)
    corners = np.array([[0.0, 0.0], [w, 0.0], [0.0, h], [w, h]])
    m = np.array(matrix).reshape(2, 3)
    mapped = corners @ m[:, :2].T + m[:, 2]
    extent = mapped.max(axis=0) - mapped.min(axis=0)
    matrix = list(matrix)
    matrix[2] += (extent[0] - w) * 0.5
    matrix[5] += (extent[1] - h) * 0.5
    return matrix, (new_h, new_w)


@_register_boxes(rotate, changes_canvas=True)
def rotate_bounding_boxes(bounding_boxes: Tensor, format: BoundingBoxFormat,
                          canvas_size: tuple[int, int], angle: float, expand: bool = False,
                          center: list[float] | None = None,
                          clamping_mode: str | None = "soft"
                          ) -> tuple[Tensor, tuple[int, int]]:
    """Boxes through a rotation; returns the boxes and the (possibly expanded) canvas."""
    B._check_unrotated(format, "rotate")
    matrix, canvas = _rotation(canvas_size, float(angle), expand, center)
    out = B.map_boxes(B._array(bounding_boxes), format, canvas, _point_map(matrix),
                      clamping_mode)
    return B._tensor(out), canvas


@_register_keypoints(rotate, changes_canvas=True)
def rotate_keypoints(keypoints: Tensor, canvas_size: tuple[int, int], angle: float,
                     expand: bool = False, center: list[float] | None = None
                     ) -> tuple[Tensor, tuple[int, int]]:
    """Key points through a rotation; returns the points and the canvas size."""
    matrix, canvas = _rotation(canvas_size, float(angle), expand, center)
    return _map_points(keypoints, _point_map(matrix)), canvas


# -- perspective --------------------------------------------------------------------------


def _coefficients(startpoints, endpoints, coefficients) -> list[float]:
    if coefficients is not None:
        if startpoints is not None or endpoints is not None:
            raise ValueError("The startpoints/endpoints and the coefficients shouldn't be "
                             "defined concurrently.")
        if len(coefficients) != 8:
            raise ValueError("Argument coefficients should have 8 float values")
        return list(coefficients)
    if startpoints is None or endpoints is None:
        raise ValueError("Either the startpoints/endpoints or the coefficients must have "
                         "non `None` values.")
    return F1._get_perspective_coeffs(startpoints, endpoints)


def perspective(inpt: Tensor, startpoints: list[list[int]] | None,
                endpoints: list[list[int]] | None,
                interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
                fill: list[float] | None = None,
                coefficients: list[float] | None = None) -> Tensor:
    """Perspective transform taking the four ``startpoints`` (corners, clockwise from
    top-left) to ``endpoints``, or given by the 8 ``coefficients`` of the output -> input
    map."""
    return _dispatch(perspective, inpt, startpoints=startpoints, endpoints=endpoints,
                     interpolation=interpolation, fill=fill, coefficients=coefficients)


@_register(perspective, Tensor, Image, Video)
def perspective_image(image: Tensor, startpoints: list[list[int]] | None,
                      endpoints: list[list[int]] | None,
                      interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
                      fill: list[float] | None = None,
                      coefficients: list[float] | None = None) -> Tensor:
    """Perspective transform of a tensor image (see :func:`perspective`)."""
    coeffs = _coefficients(startpoints, endpoints, coefficients)
    interpolation = _interpolation_mode(interpolation)
    return _grid.perspective(image, coeffs, interpolation.value, _fill_arg(fill))


perspective_video = perspective_image


@_register(perspective, "PIL")
def _perspective_pil(image, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR,
                     fill=None, coefficients=None):
    from ... import _functional_pil as F_pil

    coeffs = _coefficients(startpoints, endpoints, coefficients)
    interpolation = _interpolation_mode(interpolation)
    return F_pil.perspective(image, coeffs, interpolation=F1._pil_interp(interpolation),
                             fill=fill)


@_register(perspective, Mask)
def perspective_mask(mask: Tensor, startpoints: list[list[int]] | None,
                     endpoints: list[list[int]] | None, fill: list[float] | None = None,
                     coefficients: list[float] | None = None) -> Tensor:
    """Perspective transform of a mask (nearest interpolation)."""
    return _mask_call(perspective_image, mask, startpoints=startpoints, endpoints=endpoints,
                      interpolation=InterpolationMode.NEAREST, fill=fill,
                      coefficients=coefficients)


def _perspective_point_map(startpoints, endpoints, coefficients):
    """The forward (input -> output) map: the inverse of the coefficients' output -> input
    homography."""
    c = _coefficients(startpoints, endpoints, coefficients)
    inverse = np.linalg.inv(np.array([[c[0], c[1], c[2]], [c[3], c[4], c[5]],
                                      [c[6], c[7], 1.0]], dtype=np.float64))

    def apply(p):
        xp = xp_of(p)
        m = xp.asarray(inverse).astype(p.dtype)
        num = p @ m[:2, :2].T + m[:2, 2]
        den = p @ m[2, :2] + m[2, 2]
        return num / den[:, None]

    return apply


@_register_boxes(perspective, changes_canvas=False)
def perspective_bounding_boxes(bounding_boxes: Tensor, format: BoundingBoxFormat,
                               canvas_size: tuple[int, int],
                               startpoints: list[list[int]] | None,
                               endpoints: list[list[int]] | None,
                               coefficients: list[float] | None = None,
                               clamping_mode: str | None = "soft") -> Tensor:
    """Boxes through a perspective transform (enclosing box of the mapped corners)."""
    B._check_unrotated(format, "perspective")
    point_map = _perspective_point_map(startpoints, endpoints, coefficients)
    out = B.map_boxes(B._array(bounding_boxes), format, canvas_size, point_map, clamping_mode)
    return B._tensor(out)


@_register_keypoints(perspective, changes_canvas=False)
def perspective_keypoints(keypoints: Tensor, canvas_size: tuple[int, int],
                          startpoints: list[list[int]] | None,
                          endpoints: list[list[int]] | None,
                          coefficients: list[float] | None = None) -> Tensor:
    """Key points through a perspective transform."""
    return _map_points(keypoints, _perspective_point_map(startpoints, endpoints, coefficients))


# -- elastic ------------------------------------------------------------------------------


def elastic(inpt: Tensor, displacement: Tensor,
            interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
            fill: list[float] | None = None) -> Tensor:
    """Elastic transform: the output pixel at p samples the input at p + displacement(p),
    with ``displacement`` a (1, H, W, 2) tensor in normalized [-1, 1] grid units."""
    return _dispatch(elastic, inpt, displacement=displacement, interpolation=interpolation,
                     fill=fill)


def _check_displacement(displacement: Tensor, h: int, w: int) -> None:
    if not isinstance(displacement, Tensor):
        raise TypeError("Argument displacement should be a Tensor")
    if tuple(displacement.shape) != (1, h, w, 2):
        raise ValueError(f"Argument displacement shape should be (1, {h}, {w}, 2), but given "
                         f"{tuple(displacement.shape)}")


def _identity_grid(xp, h: int, w: int, dtype):
    xs = (np.arange(w, dtype=np.float64) * 2 + 1) / w - 1
    ys = (np.arange(h, dtype=np.float64) * 2 + 1) / h - 1
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)[None]  # (1, H, W, 2)
    return xp.asarray(grid.astype(dtype))


@_register(elastic, Tensor, Image, Video)
def elastic_image(image: Tensor, displacement: Tensor,
                  interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
                  fill: list[float] | None = None) -> Tensor:
    """Elastic transform of a tensor image (see :func:`elastic`)."""
    h, w = image.shape[-2:]
    _check_displacement(displacement, h, w)
    interpolation = _interpolation_mode(interpolation)
    a = B._array(image)
    xp = xp_of(a)
    dt = B._work_dtype(a)
    grid = _identity_grid(xp, h, w, dt) + B._array(displacement).astype(dt)
    flat = image.ndim == 2
    src = image.unsqueeze(0) if flat else image
    out = F_t._apply_grid_transform(src, grid, interpolation.value, fill=_fill_arg(fill))
    return out.squeeze(0) if flat else out


elastic_video = elastic_image


@_register(elastic, "PIL")
def _elastic_pil(image, displacement, interpolation=InterpolationMode.BILINEAR, fill=None):
    from ... import functional as F_v1

    out = elastic_image(F_v1.pil_to_tensor(image), displacement, interpolation, fill)
    return F_v1.to_pil_image(out, mode=image.mode)


@_register(elastic, Mask)
def elastic_mask(mask: Tensor, displacement: Tensor, fill: list[float] | None = None) -> Tensor:
    """Elastic transform of a mask (nearest interpolation)."""
    return _mask_call(elastic_image, mask, displacement=displacement,
                      interpolation=InterpolationMode.NEAREST, fill=fill)


def _elastic_point_map(displacement: Tensor, canvas_size, to_pixel: str):
    """torchvision's approximate forward map: a point q goes to the pixel p holding it,
    moved back by the displacement there: ``p - displacement(p) * (W / 2, H / 2)``. The
    pixel is found by truncating key points and by rounding box corners up
    (``to_pixel``: "trunc" or "ceil"), then clamping to the canvas."""
    h, w = canvas_size
    d = B._array(displacement)[0]  # (H, W, 2)

    def apply(p):
        xp = xp_of(p)
        q = xp.ceil(p) if to_pixel == "ceil" else p
        xi = xp.clip(q[:, 0].astype(np.int64), 0, w - 1)
        yi = xp.clip(q[:, 1].astype(np.int64), 0, h - 1)
        half = xp.asarray(np.array([w / 2, h / 2]), dtype=p.dtype)
        pixel = xp.stack([xi, yi], axis=-1).astype(p.dtype)
        return pixel - d[yi, xi].astype(p.dtype) * half

    return apply


@_register_boxes(elastic, changes_canvas=False)
def elastic_bounding_boxes(bounding_boxes: Tensor, format: BoundingBoxFormat,
                           canvas_size: tuple[int, int], displacement: Tensor,
                           clamping_mode: str | None = "soft") -> Tensor:
    """Boxes through an elastic transform (approximate: each corner moves to its pixel
    minus the displacement there, see ``_elastic_point_map``)."""
    B._check_unrotated(format, "elastic")
    _check_displacement(displacement, *canvas_size)
    point_map = _elastic_point_map(displacement, canvas_size, "ceil")
    out = B.map_boxes(B._array(bounding_boxes), format, canvas_size, point_map, clamping_mode)
    return B._tensor(out)


@_register_keypoints(elastic, changes_canvas=False)
def elastic_keypoints(keypoints: Tensor, canvas_size: tuple[int, int],
                      displacement: Tensor) -> Tensor:
    """Key points through an elastic transform (approximate, see
    :func:`elastic_bounding_boxes`)."""
    _check_displacement(displacement, *canvas_size)
    return _map_points(keypoints, _elastic_point_map(displacement, canvas_size, "trunc"))


elastic_transform = elastic
