"""Position-sensitive RoI Align / RoI Pool against loop-for-loop references of torchvision's
CPU kernels (forward and input gradient), float64 gradchecks, modules and errors."""

import math

import ember
import numpy as np
import pytest
from ember.vision import ops
from vision_helpers import assert_close, device_under_test

DEVICE = device_under_test()  # these ops run on EMBER_TEST_DEVICE (CUDA in a GPU run)


def T(data, **kwargs):
    """``ember.tensor`` on the device under test."""
    return ember.tensor(data, device=DEVICE, **kwargs)


def _bilinear_taps(height, width, y, x):
    """torchvision's ps_roi_align interpolation: [(row, col, weight)] of one sample."""
    if not (-1.0 <= y <= height and -1.0 <= x <= width):
        return []
    y, x = max(y, 0.0), max(x, 0.0)
    y_low, x_low = int(y), int(x)
    if y_low >= height - 1:
        y_high = y_low = height - 1
        y = float(y_low)
    else:
        y_high = y_low + 1
    if x_low >= width - 1:
        x_high = x_low = width - 1
        x = float(x_low)
    else:
        x_high = x_low + 1
    ly, lx = y - y_low, x - x_low
    hy, hx = 1 - ly, 1 - lx
    return [(y_low, x_low, hy * hx), (y_low, x_high, hy * lx), (y_high, x_low, ly * hx),
            (y_high, x_high, ly * lx)]


def _ps_roi_align_ref(x, rois, ph, pw, scale, sr):
    """Forward and, as the transposed map, the input gradient for ``gout``."""
    n, c, h, w = x.shape
    c_out = c // (ph * pw)
    k = len(rois)
    taps = {}  # (roi, c_out, i, j) -> [(b, c_in, row, col, weight)]
    for r, roi in enumerate(rois):
        b = int(roi[0])
        sw, sh, ew, eh = (v * scale - 0.5 for v in roi[1:])
        rw, rh = ew - sw, eh - sh
        bh, bw = rh / ph, rw / pw
        gh = sr if sr > 0 else math.ceil(rh / ph)
        gw = sr if sr > 0 else math.ceil(rw / pw)
        count = gh * gw
        for co in range(c_out):
            for i in range(ph):
                for j in range(pw):
                    cin = (co * ph + i) * pw + j
                    lst = []
                    for iy in range(gh):
                        y = i * bh + sh + (iy + 0.5) * bh / gh
                        for ix in range(gw):
                            xx = j * bw + sw + (ix + 0.5) * bw / gw
                            lst += [(b, cin, yy, xc, wt / count if count else math.nan)
                                    for yy, xc, wt in _bilinear_taps(h, w, y, xx)]
                    taps[r, co, i, j] = (lst, count)
    out = np.zeros((k, c_out, ph, pw))
    for key, (lst, count) in taps.items():
        out[key] = sum(wt * x[b, ci, yy, xc] for b, ci, yy, xc, wt in lst) if count else math.nan
    return out, taps


def _ps_roi_pool_ref(x, rois, ph, pw, scale):
    """torchvision's ps_roi_pool forward kernel: output and each bin's window."""
    n, c, h, w = x.shape
    c_out = c // (ph * pw)
    out = np.zeros((len(rois), c_out, ph, pw))
    windows = {}

    def rnd(v):  # C's round (halves away from zero)
        return int(math.copysign(math.floor(abs(v) + 0.5), v))

    for r, roi in enumerate(rois):
        b = int(roi[0])
        sw, sh, ew, eh = (rnd(v * scale) for v in roi[1:])
        bh = max(eh - sh, 1) / ph
        bw = max(ew - sw, 1) / pw
        for co in range(c_out):
            for i in range(ph):
                for j in range(pw):
                    hs = min(max(math.floor(i * bh) + sh, 0), h - 1)
                    he = min(max(math.ceil((i + 1) * bh) + sh, 0), h - 1)
                    ws = min(max(math.floor(j * bw) + sw, 0), w - 1)
                    we = min(max(math.ceil((j + 1) * bw) + sw, 0), w - 1)
                    cin = (co * ph + i) * pw + j
                    windows[r, co, i, j] = (b, cin, hs, he, ws, we)
                    if he > hs and we > ws:
                        out[r, co, i, j] = x[b, cin, hs:he, ws:we].sum() / ((he - hs) * (we - ws))
    return out, windows


def _case(seed, c=8, n_rois=12):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, c, 9, 11))
    xy = rng.uniform(-4, 12, (n_rois, 2))
    rois = np.concatenate([rng.integers(0, 2, (n_rois, 1)), xy,
                           xy + rng.uniform(-1, 10, (n_rois, 2))], 1)
    rois[0, 1:] = [0.5, 1.5, 2.5, 3.5]  # rounding edges
    rois[1, 1:] = [-3.0, -3.0, 40.0, 40.0]  # covers the map and beyond
    return x, rois


@pytest.mark.parametrize("sr, scale, out_size", [(2, 1.0, (2, 2)), (-1, 0.5, (2, 2)),
                                                 (0, 1.0, (1, 4)), (3, 0.7, (2, 1))])
def test_ps_roi_align_matches_kernel_reference(sr, scale, out_size):
    x, rois = _case(0)
    ph, pw = out_size
    ref, taps = _ps_roi_align_ref(x, rois, ph, pw, scale, sr)
    xt = T(x, requires_grad=True)
    out = ops.ps_roi_align(xt, T(rois), out_size, scale, sr)
    assert out.shape == (12, 8 // (ph * pw), ph, pw)
    assert_close(out, ref, rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(ref.shape)
    out.backward(T(g))
    gref = np.zeros_like(x)
    for key, (lst, _) in taps.items():
        for b, ci, yy, xc, wt in lst:
            gref[b, ci, yy, xc] += g[key] * wt
    assert_close(xt.grad, gref, rtol=1e-10, atol=1e-12)
    out32 = ops.ps_roi_align(T(x.astype(np.float32)), T(rois.astype(np.float32)), out_size,
                             scale, sr)
    assert out32.dtype == ember.float32
    assert_close(out32, ref, rtol=1e-4, atol=1e-5)


def test_ps_roi_align_empty_adaptive_grid_is_nan_as_torchvision():
    x = T(np.ones((1, 4, 5, 5)))
    rois = T(np.array([[0, 1.0, 1.0, 1.0, 3.0], [0, 1.0, 1.0, 3.0, 3.0]]))
    out = ops.ps_roi_align(x, rois, 2, 1.0, -1).cpu().numpy()
    assert np.isnan(out[0]).all() and np.allclose(out[1], 1.0)
    assert np.allclose(ops.ps_roi_align(x, rois, 2, 1.0, 2).cpu().numpy()[0], 1.0)


@pytest.mark.parametrize("scale, out_size", [(1.0, (2, 2)), (0.5, (2, 2)), (0.7, (1, 4)),
                                             (1.0, (4, 2))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ps_roi_pool_matches_kernel_reference(scale, out_size, dtype):
    x, rois = _case(2)
    x, rois = x.astype(dtype), rois.astype(dtype)
    ph, pw = out_size
    ref, windows = _ps_roi_pool_ref(x.astype(np.float64), rois, ph, pw, dtype(scale))
    xt = T(x, requires_grad=True)
    out = ops.ps_roi_pool(xt, T(rois), out_size, scale)
    assert out.dtype == xt.dtype and out.shape == (12, 8 // (ph * pw), ph, pw)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert_close(out, ref.astype(dtype), rtol=tol, atol=tol)
    g = np.random.default_rng(3).standard_normal(ref.shape)
    out.backward(T(g.astype(dtype)))
    gref = np.zeros(x.shape)  # the exact gradient of the forward's windows
    for key, (b, ci, hs, he, ws, we) in windows.items():
        if he > hs and we > ws:
            gref[b, ci, hs:he, ws:we] += g[key] / ((he - hs) * (we - ws))
    assert_close(xt.grad, gref.astype(dtype), rtol=tol, atol=tol)


def test_ps_roi_pool_never_reads_the_last_row_and_column():
    x = np.zeros((1, 4, 6, 6))
    x[:, :, -1, :] = 100.0
    x[:, :, :, -1] = 100.0
    out = ops.ps_roi_pool(T(x), T(np.array([[0, 0.0, 0.0, 6.0, 6.0]])), 2)
    assert np.all(out.cpu().numpy() == 0)


@pytest.mark.parametrize("op", ["align", "pool"])
def test_ps_roi_gradcheck_and_gradgradcheck_float64(op):
    rng = np.random.default_rng(4)
    x = T(rng.standard_normal((2, 4, 5, 5)), requires_grad=True)
    xy = rng.uniform(-1, 4, (4, 2))
    rois = T(np.concatenate([rng.integers(0, 2, (4, 1)), xy,
                             xy + rng.uniform(0.5, 4, (4, 2))], 1))
    if op == "align":
        fn = lambda v: ops.ps_roi_align(v, rois, (2, 1), 1.0, 2)  # noqa: E731
    else:
        fn = lambda v: ops.ps_roi_pool(v, rois, (1, 2), 1.0)  # noqa: E731
    assert ember.autograd.gradcheck(fn, (x,))
    assert ember.autograd.gradgradcheck(fn, (x,))


def test_box_lists_modules_and_reprs():
    x, rois = _case(5)
    xt = T(x)
    lists = [T(rois[rois[:, 0] == i, 1:]) for i in range(2)]
    order = np.argsort(rois[:, 0], kind="stable")
    for fn in (lambda b: ops.ps_roi_pool(xt, b, 2, 0.5),
               lambda b: ops.ps_roi_align(xt, b, 2, 0.5, 2)):
        assert_close(fn(lists), fn(T(rois)).cpu().numpy()[order])
    m = ops.PSRoIPool((2, 2), 0.5)
    assert repr(m) == "PSRoIPool(output_size=(2, 2), spatial_scale=0.5)"
    assert_close(m(xt, T(rois)), ops.ps_roi_pool(xt, T(rois), 2, 0.5).cpu().numpy())
    a = ops.PSRoIAlign(2, 0.25, 2)
    assert repr(a) == "PSRoIAlign(output_size=2, spatial_scale=0.25, sampling_ratio=2)"
    assert_close(a(xt, T(rois)), ops.ps_roi_align(xt, T(rois), 2, 0.25, 2).cpu().numpy())
    empty = ops.ps_roi_pool(xt, T(np.zeros((0, 5))), 2)
    assert empty.shape == (0, 2, 2, 2)


@pytest.mark.parametrize("name", ["ps_roi_pool", "ps_roi_align"])
def test_errors(name):
    fn = getattr(ops, name)
    x = T(np.zeros((1, 6, 5, 5)))
    rois = T(np.array([[0, 0.0, 0.0, 3.0, 3.0]]))
    with pytest.raises(RuntimeError, match="input channels must be a multiple of pooling "
                                           "height \\* pooling width"):
        fn(x, rois, 2)
    with pytest.raises(AssertionError, match="Tensor\\[K, 5\\]"):
        fn(x, T(np.zeros((3, 4))), 1)
    with pytest.raises(AssertionError, match="List\\[Tensor\\[L, 4\\]\\]"):
        fn(x, [T(np.zeros((3, 5)))], 1)
    with pytest.raises(RuntimeError, match="same type"):
        fn(x, T(np.zeros((1, 5), np.float32)), 1)
    with pytest.raises(RuntimeError, match="4-D"):
        fn(T(np.zeros((6, 5, 5))), rois, 1)
