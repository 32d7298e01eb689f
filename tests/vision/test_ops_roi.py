"""RoI Align / RoI Pool / PS RoI Align / MultiScaleRoIAlign / FPN against torchvision
goldens, float64 gradchecks and double backward."""

import importlib
import math
from collections import OrderedDict

import ember
import numpy as np
import pytest
from ember.vision import ops
from vision_helpers import assert_close, device_under_test
from vision_recipe import seeded_state

DEVICE = device_under_test()  # these ops run on EMBER_TEST_DEVICE (CUDA in a GPU run)


def T(data, **kwargs):
    """``ember.tensor`` on the device under test."""
    return ember.tensor(data, device=DEVICE, **kwargs)


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("sr", [-1, 0, 2])
@pytest.mark.parametrize("scale", [0.5, 0.25])
def test_roi_align_forward_and_backward_match_torchvision(ops_golden, aligned, sr, scale):
    key = f"roi_align_{int(aligned)}_{sr}_{scale}"
    x = T(ops_golden["roi_feat"], requires_grad=True)
    out = ops.roi_align(x, T(ops_golden["rois"]), (3, 4), scale, sr, aligned)
    assert out.shape == (24, 4, 3, 4) and out.dtype == ember.float32
    assert_close(out, ops_golden[key])
    (out * T(ops_golden[key + "_w"])).sum().backward()
    assert_close(x.grad, ops_golden[key + "_grad"])


def test_roi_align_accepts_box_lists(ops_golden):
    rois = ops_golden["rois"]
    x = T(ops_golden["roi_feat"])
    ref = ops.roi_align(x, T(rois), 2, 0.5, 2)
    order = np.argsort(rois[:, 0], kind="stable")
    lists = [T(rois[rois[:, 0] == i, 1:]) for i in range(2)]
    out = ops.roi_align(x, lists, 2, 0.5, 2)
    assert_close(out, ref.cpu().numpy()[order])


def test_roi_align_module_and_errors(ops_golden):
    m = ops.RoIAlign((3, 4), 0.5, 2, aligned=True)
    out = m(T(ops_golden["roi_feat"]), T(ops_golden["rois"]))
    assert_close(out, ops_golden["roi_align_1_2_0.5"])
    assert "RoIAlign(output_size=(3, 4)" in repr(m)
    with pytest.raises(AssertionError, match="Tensor\\[K, 5\\]"):
        ops.roi_align(T(ops_golden["roi_feat"]), T(np.zeros((3, 4), np.float32)), 2)
    with pytest.raises(RuntimeError, match="same type"):
        ops.roi_align(T(ops_golden["roi_feat"]), T(np.zeros((3, 5))), 2)


def _small_case(rng):
    x = T(rng.standard_normal((2, 2, 6, 7)), requires_grad=True)
    xy = rng.uniform(-1, 5, (5, 2))
    b = np.concatenate([rng.integers(0, 2, (5, 1)), xy, xy + rng.uniform(0.5, 4, (5, 2))], 1)
    return x, T(b)


@pytest.mark.parametrize("aligned", [False, True])
def test_roi_align_gradcheck_and_gradgradcheck_float64(aligned):
    x, rois = _small_case(np.random.default_rng(0))
    fn = lambda v: ops.roi_align(v, rois, (2, 3), 1.0, -1, aligned)  # noqa: E731
    assert ember.autograd.gradcheck(fn, (x,))
    assert ember.autograd.gradgradcheck(fn, (x,))


def test_roi_pool_matches_torchvision(ops_golden):
    for scale in (0.5, 0.25):
        key = f"roi_pool_{scale}"
        x = T(ops_golden["roi_feat"], requires_grad=True)
        out = ops.roi_pool(x, T(ops_golden["rois"]), (3, 2), scale)
        assert_close(out, ops_golden[key])
        (out * T(ops_golden[key + "_w"])).sum().backward()
        assert_close(x.grad, ops_golden[key + "_grad"])


def test_roi_pool_gradcheck_float64():
    x, rois = _small_case(np.random.default_rng(1))
    fn = lambda v: ops.roi_pool(v, rois, 2, 1.0)  # noqa: E731
    assert ember.autograd.gradcheck(fn, (x,))
    assert ember.autograd.gradgradcheck(fn, (x,))


def _reference_roi_pool(x, rois, ph, pw, scale):
    """torchvision's CPU roi_pool kernel, loop for loop: the output and each bin's argmax
    (``y * W + x``, -1 where nothing is taken)."""
    n, c, h, w = x.shape
    dt = x.dtype.type
    out = np.zeros((len(rois), c, ph, pw), x.dtype)
    arg = np.full((len(rois), c, ph, pw), -1, np.int64)

    def rnd(v):  # std::round (halves away from zero) of the product in the boxes' dtype
        v = float(dt(v) * dt(scale))
        return int(math.copysign(math.floor(abs(v) + 0.5), v))

    for k, roi in enumerate(rois):
        b = int(roi[0])
        sw, sh, ew, eh = (rnd(v) for v in roi[1:])
        bsh = dt(max(eh - sh + 1, 1)) / dt(ph)
        bsw = dt(max(ew - sw + 1, 1)) / dt(pw)
        for i in range(ph):
            for j in range(pw):
                hs = min(max(int(math.floor(dt(i) * bsh)) + sh, 0), h)
                he = min(max(int(math.ceil(dt(i + 1) * bsh)) + sh, 0), h)
                ws = min(max(int(math.floor(dt(j) * bsw)) + sw, 0), w)
                we = min(max(int(math.ceil(dt(j + 1) * bsw)) + sw, 0), w)
                for ch in range(c):
                    mx = dt(0) if (he <= hs or we <= ws) else dt(-np.finfo(np.float32).max)
                    at = -1
                    for yy in range(hs, he):
                        for xx in range(ws, we):
                            if x[b, ch, yy, xx] > mx:  # NaN never wins; first maximum wins
                                mx, at = x[b, ch, yy, xx], yy * w + xx
                    out[k, ch, i, j], arg[k, ch, i, j] = mx, at
    return out, arg


def _roi_pool_case(seed, dtype):
    """Small integer values (ties), zeros of both signs, NaNs and -infs; RoIs of all sizes,
    partly or wholly outside the map, reversed, and on rounding edges."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, (2, 3, 9, 11)).astype(dtype)
    x[rng.random(x.shape) < 0.2] = -0.0
    x[rng.random(x.shape) < 0.05] = np.nan
    x[rng.random(x.shape) < 0.05] = -np.inf
    xy = rng.uniform(-8, 14, (30, 2))
    rois = np.concatenate([rng.integers(0, 2, (30, 1)), xy, xy + rng.uniform(-2, 14, (30, 2))],
                          1).astype(dtype)
    rois[:3, 1:] = [0.5, 1.5, 2.5, 3.4999999]
    return x, rois


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_roi_pool_matches_reference(monkeypatch, seed, dtype):
    if seed % 2:  # chunks of a few RoIs (the module, shadowed by the function in ops)
        roi_pool_mod = importlib.import_module("ember.vision.ops.roi_pool")
        monkeypatch.setattr(roi_pool_mod, "_TILE", 40)
    x, rois = _roi_pool_case(seed, dtype)
    for ph, pw, scale in ((3, 2, 1.0), (2, 4, 0.5), (4, 4, 0.7)):
        ref, arg = _reference_roi_pool(x, rois, ph, pw, scale)
        xt = T(x, requires_grad=True)
        out = ops.roi_pool(xt, T(rois), (ph, pw), scale)
        got = out.detach().cpu().numpy()
        np.testing.assert_array_equal(got, ref)  # NaN where NaN
        np.testing.assert_array_equal(np.signbit(got), np.signbit(ref))  # -0.0 where -0.0
        g = np.random.default_rng(seed).standard_normal(ref.shape).astype(dtype)
        out.backward(T(g))
        expected = np.zeros(x.size)
        flat = (rois[:, 0].astype(np.int64)[:, None, None, None] * 3
                + np.arange(3)[None, :, None, None]) * x[0, 0].size + arg
        np.add.at(expected, flat[arg >= 0], g[arg >= 0])
        assert_close(xt.grad, expected.reshape(x.shape).astype(dtype))


def test_ps_roi_align_matches_torchvision(ops_golden):
    x = T(ops_golden["ps_feat"], requires_grad=True)
    out = ops.ps_roi_align(x, T(ops_golden["rois"]), 3, 0.5, 2)
    assert out.shape == (24, 2, 3, 3)
    assert_close(out, ops_golden["ps_roi_align"])
    (out * T(ops_golden["ps_roi_align_w"])).sum().backward()
    assert_close(x.grad, ops_golden["ps_roi_align_grad"])


def test_ps_roi_align_gradcheck_float64():
    rng = np.random.default_rng(2)
    x = T(rng.standard_normal((2, 8, 6, 7)), requires_grad=True)
    _, rois = _small_case(rng)
    assert ember.autograd.gradcheck(lambda v: ops.ps_roi_align(v, rois, 2, 1.0, 2), (x,))


def test_multiscale_roi_align_matches_torchvision(ops_golden):
    m = ops.MultiScaleRoIAlign(["f1", "f3"], 3, 2)
    feats = OrderedDict((k, T(ops_golden["ms_" + k])) for k in ("f1", "f2", "f3"))
    out = m(feats, [T(ops_golden["ms_boxes"])], [(128, 128)])
    assert_close(out, ops_golden["ms_out"])
    assert m.scales == [0.25, 0.0625]


def test_feature_pyramid_network_matches_torchvision(ops_golden):
    from ember.vision.ops.feature_pyramid_network import LastLevelMaxPool

    fpn = ops.FeaturePyramidNetwork([3, 5, 6], 4, extra_blocks=LastLevelMaxPool())
    sd = fpn.state_dict()
    assert "inner_blocks.0.0.weight" in sd and "layer_blocks.2.0.bias" in sd
    state = seeded_state({k: tuple(v.shape) for k, v in sd.items()}, 7)
    fpn.load_state_dict({k: ember.from_numpy(v) for k, v in state.items()})
    x = OrderedDict((k, T(ops_golden["fpn_in_" + k])) for k in "abc")
    out = fpn(x)
    assert list(out) == ["a", "b", "c", "pool"]
    for k, v in out.items():
        assert_close(v, ops_golden["fpn_out_" + k])


def test_frozen_batchnorm_matches_batchnorm_eval_and_drops_counter():
    rng = np.random.default_rng(0)
    bn = ember.nn.BatchNorm2d(3).eval()
    state = {k: ember.from_numpy(v) for k, v in
             seeded_state({k: tuple(v.shape) for k, v in bn.state_dict().items()}, 1).items()}
    bn.load_state_dict(state)
    fbn = ops.FrozenBatchNorm2d(3)
    fbn.load_state_dict(state)  # num_batches_tracked is dropped, not unexpected
    x = T(rng.standard_normal((2, 3, 4, 4)).astype(np.float32))
    assert_close(fbn(x), bn(x).detach().cpu().numpy(), atol=1e-5)
    assert sorted(fbn.state_dict()) == ["bias", "running_mean", "running_var", "weight"]


def test_conv2d_norm_activation_structure():
    m = ops.Conv2dNormActivation(3, 8, kernel_size=3, stride=2)
    assert [type(c).__name__ for c in m] == ["Conv2d", "BatchNorm2d", "ReLU"]
    assert m[0].padding == (1, 1) and m[0].bias is None
    m2 = ops.Conv2dNormActivation(3, 8, 1, norm_layer=None, activation_layer=None)
    assert len(m2) == 1 and m2[0].bias is not None
    assert m(ember.zeros(1, 3, 8, 8)).shape == (1, 8, 4, 4)


def test_squeeze_excitation_and_mlp():
    se = ops.SqueezeExcitation(8, 2)
    assert sorted(se.state_dict()) == ["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"]
    x = ember.randn(2, 8, 5, 5)
    y = se(x)
    scale = ember.sigmoid(se.fc2(ember.relu(se.fc1(x.mean((2, 3), keepdim=True)))))
    assert_close(y, (x * scale).detach().cpu().numpy(), atol=1e-6)
    mlp = ops.MLP(4, [8, 3], dropout=0.1)
    assert [type(c).__name__ for c in mlp] == ["Linear", "ReLU", "Dropout", "Linear", "Dropout"]
    assert mlp(ember.zeros(5, 4)).shape == (5, 3)


def test_stochastic_depth_modes_and_statistics():
    x = ember.ones(2000, 3)
    assert ops.stochastic_depth(x, 0.3, "row", training=False) is x
    ember.manual_seed(0)
    y = ops.stochastic_depth(x, 0.3, "row").cpu().numpy()
    rows = y[:, 0]
    assert np.allclose(np.unique(rows), [0.0, 1 / 0.7])
    assert abs((rows == 0).mean() - 0.3) < 0.05  # dropped rows ~ p
    assert (y == y[:, :1]).all()  # a whole row at once
    ember.manual_seed(0)
    y2 = ops.stochastic_depth(x, 0.3, "row").cpu().numpy()
    np.testing.assert_array_equal(y, y2)  # ember.manual_seed reproduces it
    b = ops.StochasticDepth(0.5, "batch")(x).cpu().numpy()
    assert len(np.unique(b)) == 1
    with pytest.raises(ValueError):
        ops.stochastic_depth(x, 1.5, "row")
