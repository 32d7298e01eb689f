"""``kornia`` itself, run on ember: ``torch`` is aliased to ember in a subprocess
(tests/torch_alias.py), and kornia's functional image operations must give PyTorch's results
on the same float64 images: filters (Gaussian, box, median, bilateral, guided, motion blur,
Sobel, Laplacian, Canny), color conversions (grayscale, HSV, HLS, Lab, YUV, YCbCr and back),
geometric warps (warp_affine and warp_perspective with every mode and padding, rotate,
translate, shear, scale, remap, elastic deformation, crop_and_resize, pyramids), resizing
(bilinear, bicubic, nearest, area, antialiased), enhancement (brightness, contrast, gamma,
hue, saturation, sharpness, equalize, CLAHE, ...), losses and metrics (SSIM, PSNR, total
variation), corner responses (Harris, GFTT, Hessian), morphology, homography and fundamental
matrix estimation, kornia's modules (SIFT descriptors, distance transform, a deterministic
augmentation sequence), and gradients through warps, blurs, SSIM, bicubic resizing and Lab
conversion. The cases live in kornia_on_ember_cases.py; PyTorch runs them in this process.

Nothing here goes through float32 math, so every output agrees to float64 round-off
(relative to its largest magnitude); outputs that are discrete (masks, nearest-neighbour
sampling, order statistics, histogram equalization) agree exactly."""

import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]
from kornia_on_ember_cases import CASES, run_case  # noqa: E402
from on_ember_harness import case_results, run_on_ember  # noqa: E402

TOL = 1e-12  # of each output's largest magnitude (seen: 1.2e-15, Lab's 100-scale 1.1e-13)

# outputs that carry no round-off: compared bit for bit
EXACT = {"filters/median", "filters/canny_edges", "color/hsv", "color/hls", "color/bgr",
         "warp/affine_nearest", "warp/perspective_nearest", "warp/rotate_center",
         "resize/nearest", "enhance/posterize", "enhance/solarize", "enhance/invert",
         "enhance/equalize", "more_filters/hflip", "more_filters/vflip",
         "modules/distance_transform",
         *(f"morphology/{k}" for k in ("dilation", "erosion", "dilation_conv",
                                       "erosion_unfold", "opening", "closing", "gradient",
                                       "top_hat"))}


@pytest.fixture(scope="module")
def both(kornia):
    """``(torch results, ember results)`` of every case (one ember subprocess for all)."""
    import torch

    ref, inputs = {}, {}
    for name in CASES:
        res, state = run_case(torch, kornia, name)
        ref.update(res)
        inputs.update({f"{name}/{k}": v for k, v in state.items()})
    got = run_on_ember(os.path.join(HERE, "kornia_on_ember_worker.py"), inputs, list(CASES))
    return ref, got


def _close(got, want, key):
    """``|got - want| <= TOL * max(1, max|want|)`` everywhere (bitwise for EXACT keys)."""
    if key in EXACT:
        np.testing.assert_array_equal(got, want, err_msg=key)
        return
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL * scale, err_msg=key)


@pytest.mark.parametrize("case", [c for c in CASES if c != "grads"])
def test_kornia_case(both, case):
    ref, got = case_results(*both, case)
    for k in ref:
        _close(got[k], ref[k], k)


def test_edges_and_corners_are_found(both):
    """The detectors see the fixed square: Canny marks edges, Harris responds."""
    ref, got = case_results(*both, "filters")
    edges = got["filters/canny_edges"]
    assert 0 < edges.sum() < edges.size / 2
    ref, got = case_results(*both, "feature")
    assert got["feature/harris"].max() > 10 * np.abs(got["feature/harris"]).mean()


def test_gradients(both):
    """d(sum of output)/d(image) through warp_affine, warp_perspective, gaussian_blur2d,
    SSIM, bicubic resize and rgb_to_lab, and d(sum of squares)/d(matrix) of warp_affine."""
    ref, got = case_results(*both, "grads")
    grads = [k for k in ref if ".grad" in k]
    assert len(grads) == 7
    for k in grads:
        assert np.abs(ref[k]).max() > 0, k
    for k in ref:
        _close(got[k], ref[k], k)
