"""Shared cases of test_kornia_on_ember.py: ``kornia``'s functional image operations
(filters, color conversions, geometric warps and resizing, enhancement, losses and metrics,
corner responses, morphology) and the gradients of a few of them.

The functions take the ``torch`` and ``kornia`` modules as arguments and use only their
public API, so the same code runs on real PyTorch (in the test process) and on ember (in a
subprocess where ``torch`` is aliased to ember by tests/torch_alias.py). Everything runs in
float64 on fixed numpy inputs, which the PyTorch side hands over so that both sides see the
same images; no operation draws random parameters. Results are numpy arrays keyed
``"<case>/<what>"``.
"""

from __future__ import annotations

import numpy as np

SHAPE = (2, 3, 16, 20)  # N, C, H, W


def make_inputs() -> dict:
    """The fixed images: two RGB batches in [0, 1] (the second a noisy copy of the first)
    and a smooth single-channel one with structure for the edge and corner detectors."""
    rng = np.random.default_rng(0)
    img = rng.uniform(0.0, 1.0, SHAPE)
    img2 = np.clip(img + 0.1 * rng.standard_normal(SHAPE), 0.0, 1.0)
    n, _, h, w = SHAPE
    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    square = ((yy > 3) & (yy < 12) & (xx > 5) & (xx < 15)).astype(np.float64)
    blob = np.exp(-((yy - 8.0) ** 2 + (xx - 10.0) ** 2) / 18.0)
    gray = np.stack([square, 0.7 * square + 0.3 * blob])[:, None]
    gray = gray + 0.02 * rng.standard_normal(gray.shape)
    return {"img": img, "img2": img2, "gray": gray}


def _numpy(t) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


def _filters(torch, K, x):
    img, gray = x["img"], x["gray"]
    mag, edges = K.filters.canny(gray, 0.1, 0.2)
    return {
        "gaussian": K.filters.gaussian_blur2d(img, (5, 5), (1.5, 1.5)),
        "gaussian_aniso": K.filters.gaussian_blur2d(img, (3, 7), (0.8, 2.0), "replicate"),
        "gaussian_nonsep": K.filters.gaussian_blur2d(img, (5, 3), (1.0, 0.7), "circular",
                                                     separable=False),
        "box": K.filters.box_blur(img, (3, 3)),
        "box_const": K.filters.box_blur(img, (5, 3), "constant", separable=False),
        "median": K.filters.median_blur(img, (3, 3)),
        "sobel": K.filters.sobel(img),
        "sobel_raw": K.filters.sobel(img, normalized=False),
        "spatial_grad": K.filters.spatial_gradient(img, "diff", order=1),
        "laplacian": K.filters.laplacian(img, 3),
        "laplacian5": K.filters.laplacian(img, 5, normalized=False),
        "canny_mag": mag, "canny_edges": edges,
    }


def _color(torch, K, x):
    img = x["img"]
    hsv = K.color.rgb_to_hsv(img)
    lab = K.color.rgb_to_lab(img)
    yuv = K.color.rgb_to_yuv(img)
    return {
        "gray": K.color.rgb_to_grayscale(img),
        "gray_w": K.color.rgb_to_grayscale(
            img, torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64)),
        "hsv": hsv, "hsv_back": K.color.hsv_to_rgb(hsv),
        "lab": lab, "lab_back": K.color.lab_to_rgb(lab),
        "yuv": yuv, "yuv_back": K.color.yuv_to_rgb(yuv),
        "hls": K.color.rgb_to_hls(img),
        "bgr": K.color.rgb_to_bgr(img),
    }


def _affine(torch):
    return torch.tensor([[[0.9, -0.2, 2.5], [0.25, 1.1, -1.0]],
                         [[1.2, 0.1, -3.0], [-0.15, 0.8, 1.5]]], dtype=torch.float64)


def _homography(torch):
    return torch.tensor([[[1.0, 0.1, 1.0], [-0.05, 0.95, 2.0], [0.002, -0.001, 1.0]],
                         [[0.9, -0.1, 3.0], [0.1, 1.05, -1.0], [-0.003, 0.002, 1.0]]],
                        dtype=torch.float64)


def _warp(torch, K, x):
    img = x["img"]
    T = K.geometry.transform
    M, H = _affine(torch), _homography(torch)
    angle = torch.tensor([30.0, -45.0], dtype=torch.float64)
    center = torch.tensor([[9.5, 7.5], [4.0, 10.0]], dtype=torch.float64)
    return {
        "affine": T.warp_affine(img, M, (16, 20)),
        "affine_nearest": T.warp_affine(img, M, (12, 18), mode="nearest",
                                        padding_mode="border"),
        "affine_reflect": T.warp_affine(img, M, (16, 20), padding_mode="reflection",
                                        align_corners=False),
        "affine_fill": T.warp_affine(img, M, (16, 20), padding_mode="fill",
                                     fill_value=torch.tensor([0.2, 0.5, 0.9],
                                                             dtype=torch.float64)),
        "perspective": T.warp_perspective(img, H, (14, 22)),
        "perspective_nearest": T.warp_perspective(img, H, (16, 20), mode="nearest"),
        "rotate": T.rotate(img, angle),
        "rotate_center": T.rotate(img, angle, center=center, mode="nearest"),
        "translate": T.translate(img, torch.tensor([[2.5, -1.0], [-3.0, 4.25]],
                                                   dtype=torch.float64)),
        "rotation_matrix": T.get_rotation_matrix2d(
            center, angle, torch.tensor([[1.0, 1.0], [0.8, 1.2]], dtype=torch.float64)),
    }


def _resize(torch, K, x):
    img = x["img"]
    T = K.geometry.transform
    boxes = torch.tensor([[[1.0, 2.0], [14.0, 2.0], [14.0, 12.0], [1.0, 12.0]],
                          [[3.5, 0.5], [18.0, 0.5], [18.0, 15.0], [3.5, 15.0]]],
                         dtype=torch.float64)
    return {
        "bilinear_up": T.resize(img, (24, 30)),
        "bilinear_ac": T.resize(img, (11, 13), align_corners=True),
        "bicubic": T.resize(img, (21, 27), interpolation="bicubic"),
        "nearest": T.resize(img, (9, 31), interpolation="nearest"),
        "area": T.resize(img, (8, 10), interpolation="area"),
        "antialias": T.resize(img, (7, 9), antialias=True),
        "antialias_bicubic": T.resize(img, (6, 11), interpolation="bicubic", antialias=True),
        "short_side": T.resize(img, 8),
        "rescale": T.rescale(img, (0.5, 0.75)),
        "crop_and_resize": T.crop_and_resize(img, boxes, (10, 12)),
    }


def _perspective_and_remap(torch, K, x):
    img = x["img"]
    T = K.geometry.transform
    src = torch.tensor([[[0.0, 0.0], [19.0, 0.0], [19.0, 15.0], [0.0, 15.0]],
                        [[1.0, 2.0], [17.0, 1.0], [18.0, 14.0], [2.0, 13.0]]],
                       dtype=torch.float64)
    dst = torch.tensor([[[2.0, 1.0], [18.0, 3.0], [16.0, 14.0], [1.0, 12.0]],
                        [[0.0, 0.0], [19.0, 0.0], [19.0, 15.0], [0.0, 15.0]]],
                       dtype=torch.float64)
    P = T.get_perspective_transform(src, dst)
    grid = K.geometry.create_meshgrid(16, 20, normalized_coordinates=False,
                                      dtype=torch.float64)
    map_x = grid[..., 0] + 1.5 * torch.sin(grid[..., 1] / 3.0)
    map_y = grid[..., 1] + 0.75 * torch.cos(grid[..., 0] / 4.0)
    return {
        "get_perspective": P,
        "warped": T.warp_perspective(img, P, (16, 20)),
        "remap": T.remap(img, map_x.expand(2, -1, -1), map_y.expand(2, -1, -1)),
        "remap_border": T.remap(img, map_x, map_y, mode="bilinear", padding_mode="border",
                                align_corners=True),
        "remap_norm": T.remap(img, map_x / 10.0 - 1.0, map_y / 8.0 - 1.0,
                              normalized_coordinates=True),
    }


def _enhance(torch, K, x):
    img = x["img"]
    E = K.enhance
    per_sample = torch.tensor([0.8, 1.3], dtype=torch.float64)
    return {
        "brightness": E.adjust_brightness(img, 0.25),
        "brightness_t": E.adjust_brightness(img, torch.tensor([0.1, -0.3],
                                                              dtype=torch.float64)),
        "contrast": E.adjust_contrast(img, per_sample),
        "gamma": E.adjust_gamma(img, 2.2, 0.9),
        "hue": E.adjust_hue(img, 0.5),
        "hue_t": E.adjust_hue(img, torch.tensor([-1.2, 2.0], dtype=torch.float64)),
        "saturation": E.adjust_saturation(img, per_sample),
        "sharpness": E.sharpness(img, 0.7),
        "solarize": E.solarize(img, 0.4),
        "posterize": E.posterize(img, 3),
        "invert": E.invert(img),
        "equalize": E.equalize(img),
        "normalize": E.normalize(img, torch.tensor([0.5, 0.4, 0.3], dtype=torch.float64),
                                 torch.tensor([0.2, 0.25, 0.3], dtype=torch.float64)),
    }


def _metrics(torch, K, x):
    img, img2 = x["img"], x["img2"]
    return {
        "ssim": K.metrics.ssim(img, img2, 5),
        "ssim_valid": K.metrics.ssim(img, img2, 7, padding="valid"),
        "ssim_loss": K.losses.ssim_loss(img, img2, 5),
        "psnr": K.metrics.psnr(img, img2, 1.0),
        "psnr_loss": K.losses.psnr_loss(img, img2, 1.0),
        "tv": K.losses.total_variation(img),
        "tv_mean": K.losses.total_variation(img, reduction="mean"),
        "charbonnier": K.losses.charbonnier_loss(img, img2, reduction="mean"),
    }


def _feature(torch, K, x):
    gray = x["gray"]
    F = K.feature
    return {
        "harris": F.harris_response(gray, 0.04),
        "harris_diff": F.harris_response(gray, 0.05, grads_mode="diff"),
        "gftt": F.gftt_response(gray),
        "hessian": F.hessian_response(gray),
    }


def _morphology(torch, K, x):
    img = x["img"]
    M = K.morphology
    cross = torch.tensor([[0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 0.0]],
                         dtype=torch.float64)
    rect = torch.ones(3, 5, dtype=torch.float64)
    return {
        "dilation": M.dilation(img, cross),
        "erosion": M.erosion(img, cross),
        "dilation_conv": M.dilation(img, rect, engine="convolution"),
        "erosion_unfold": M.erosion(img, rect, engine="unfold"),
        "opening": M.opening(img, cross),
        "closing": M.closing(img, cross),
        "gradient": M.gradient(img, rect),
        "top_hat": M.top_hat(img, cross),
    }


def _more_filters(torch, K, x):
    """Filters and warps beyond the basic ones: unsharp mask, bilateral and guided blur,
    motion blur, image pyramids, elastic deformation by a given displacement field."""
    img, img2 = x["img"], x["img2"]
    T = K.geometry.transform
    noise = torch.sin(torch.arange(2 * 2 * 16 * 20, dtype=torch.float64) / 7.0)
    return {
        "unsharp": K.filters.unsharp_mask(img, (3, 3), (1.0, 1.0)),
        "bilateral": K.filters.bilateral_blur(img, (5, 5), 0.2, (1.5, 1.5)),
        "bilateral_l2": K.filters.bilateral_blur(img, 3, 0.3, (1.0, 2.0),
                                                 color_distance_type="l2"),
        "guided": K.filters.guided_blur(img2, img, (3, 3), 0.01),
        "motion": K.filters.motion_blur(img, 5, 35.0, 0.5),
        "pyrdown": T.pyrdown(img),
        "pyrup": T.pyrup(img),
        "elastic": T.elastic_transform2d(img, noise.reshape(2, 2, 16, 20), (7, 7),
                                         (3.0, 3.0), (0.5, 0.5)),
        "hflip": T.hflip(img), "vflip": T.vflip(img),
        "shear": T.shear(img, torch.tensor([[0.2, -0.1], [-0.3, 0.05]],
                                           dtype=torch.float64)),
        "scale": T.scale(img, torch.tensor([[1.3, 0.8], [0.7, 0.7]], dtype=torch.float64)),
        "ycbcr": K.color.rgb_to_ycbcr(img),
        "add_weighted": K.enhance.add_weighted(img, 0.3, img2, 0.6, 0.05),
        "clahe": K.enhance.equalize_clahe(img, 4.0, (2, 2)),
    }


def _geometry_solvers(torch, K, x):
    """Homography and fundamental-matrix estimation from point pairs (SVD/linear solves),
    and soft-argmax keypoints."""
    pts1 = torch.tensor([[[0.0, 0.0], [19.0, 0.0], [19.0, 15.0], [0.0, 15.0], [9.0, 7.0],
                          [4.0, 11.0], [15.0, 3.0], [12.0, 12.0]]], dtype=torch.float64)
    H = _homography(torch)[:1]
    ph = torch.cat([pts1, torch.ones(1, 8, 1, dtype=torch.float64)], -1) @ H.transpose(1, 2)
    pts2 = ph[..., :2] / ph[..., 2:]
    G = K.geometry
    heat = x["gray"][:, :, 2:14, 3:17]
    soft = G.subpix.spatial_softmax2d(heat, torch.tensor(5.0, dtype=torch.float64))
    hom = G.homography.find_homography_dlt(pts1, pts2)
    return {
        "homography": hom / hom[:, 2:, 2:],
        "fundamental_residual": G.epipolar.sampson_epipolar_distance(
            pts1, pts2, G.epipolar.find_fundamental(pts1, pts2)).abs().max(),
        "softmax": soft,
        "expectation": G.subpix.spatial_expectation2d(soft, False),
        "affine_matrix": _affine_matrix2d(torch, K),
    }


def _affine_matrix2d(torch, K):
    return K.geometry.transform.get_affine_matrix2d(
        torch.tensor([[1.0, -2.0]], dtype=torch.float64),
        torch.tensor([[8.0, 6.0]], dtype=torch.float64),
        torch.tensor([[1.1, 0.9]], dtype=torch.float64),
        torch.tensor([20.0], dtype=torch.float64),
        torch.tensor([0.1], dtype=torch.float64), torch.tensor([-0.2], dtype=torch.float64))


def _modules(torch, K, x):
    """kornia's nn.Module wrappers and deterministic augmentations (``p=1``, no random
    parameters): SIFT descriptors of patches, the distance transform, a sequence of
    CenterCrop / Normalize / Resize, and a geometric module with explicit parameters."""
    img, gray = x["img"], x["gray"]
    patches = torch.cat([gray[:, :, :16, :16], img[:, :1, :16, :16]], 0)
    aug = K.augmentation
    seq = aug.AugmentationSequential(
        aug.CenterCrop((12, 14), p=1.0),
        aug.Normalize(torch.tensor([0.5, 0.4, 0.3], dtype=torch.float64),
                      torch.tensor([0.2, 0.25, 0.3], dtype=torch.float64), p=1.0),
        aug.Resize((10, 10), p=1.0), data_keys=["input"])
    rot = K.geometry.transform.Affine(angle=torch.tensor([15.0, -20.0], dtype=torch.float64),
                                      translation=torch.tensor([[1.0, 2.0], [-2.0, 0.5]],
                                                               dtype=torch.float64))
    binary = (gray > 0.5).double()
    # SIFTDescriptor builds its Gaussian weighting in the default dtype: make it float64, as
    # float32 exp differs in the last bit between numpy and PyTorch
    saved = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        sift = K.feature.SIFTDescriptor(16, rootsift=True)
    finally:
        torch.set_default_dtype(saved)
    return {
        "sift": sift(patches),
        "distance_transform": K.contrib.distance_transform(binary, 3, 0.35),
        "sequential": seq(img),
        "affine_module": rot(img),
        "sobel_module": K.filters.Sobel()(img),
    }


def _grad(torch, K, x, fn):
    """``(sum of fn(image), d sum / d image)``."""
    img = x["img"].clone().requires_grad_(True)
    out = fn(img)
    out.sum().backward()
    return out, img.grad


def _grads(torch, K, x):
    T = K.geometry.transform
    M, H = _affine(torch), _homography(torch)
    res = {}
    for name, fn in {
        "warp_affine": lambda im: T.warp_affine(im, M, (16, 20)),
        "warp_perspective": lambda im: T.warp_perspective(im, H, (14, 22)),
        "gaussian_blur2d": lambda im: K.filters.gaussian_blur2d(im, (5, 5), (1.5, 1.5)),
        "ssim": lambda im: K.metrics.ssim(im, x["img2"], 5),
        "resize_bicubic": lambda im: T.resize(im, (21, 27), interpolation="bicubic"),
        "rgb_to_lab": lambda im: K.color.rgb_to_lab(im),
    }.items():
        out, grad = _grad(torch, K, x, fn)
        res[name] = out
        res[name + ".grad"] = grad
    # the transform itself can be learned: gradient with respect to the matrix too
    img = x["img"]
    Mg = M.clone().requires_grad_(True)
    T.warp_affine(img, Mg, (16, 20)).pow(2).sum().backward()
    res["warp_affine.grad_M"] = Mg.grad
    return res


CASES = {
    "filters": _filters,
    "color": _color,
    "warp": _warp,
    "resize": _resize,
    "perspective_remap": _perspective_and_remap,
    "enhance": _enhance,
    "metrics": _metrics,
    "feature": _feature,
    "morphology": _morphology,
    "grads": _grads,
    "more_filters": _more_filters,
    "geometry_solvers": _geometry_solvers,
    "modules": _modules,
}


def run_case(torch, kornia, name: str, state: dict | None = None):
    """``(results, state)`` of one case: numpy outputs keyed ``name/what``, and the inputs
    it ran on (made here when ``state`` is None, else taken from it)."""
    if state is None:
        state = make_inputs()
    inputs = {k: torch.from_numpy(np.asarray(v, dtype=np.float64).copy())
              for k, v in state.items()}
    out = CASES[name](torch, kornia, inputs)
    return {f"{name}/{k}": _numpy(v) for k, v in out.items()}, state
