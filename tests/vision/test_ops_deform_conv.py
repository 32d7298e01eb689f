"""deform_conv2d / DeformConv2d: zero offsets against torch's conv2d, integer offsets against a
shifted conv2d, fractional offsets against a loop-for-loop reference of torchvision's CPU
kernel, float64 gradchecks in every argument, the module, and the errors."""

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


def _out(size, pad, dil, k, stride):
    return (size + 2 * pad - (dil * (k - 1) + 1)) // stride + 1


def _bilinear(img, h, w):
    """torchvision's ``bilinear_interpolate`` of deform_conv2d, for one channel."""
    height, width = img.shape
    if h <= -1 or height <= h or w <= -1 or width <= w:
        return 0.0
    h_low, w_low = math.floor(h), math.floor(w)
    h_high, w_high = h_low + 1, w_low + 1
    lh, lw = h - h_low, w - w_low
    hh, hw = 1 - lh, 1 - lw
    v1 = img[h_low, w_low] if h_low >= 0 and w_low >= 0 else 0.0
    v2 = img[h_low, w_high] if h_low >= 0 and w_high <= width - 1 else 0.0
    v3 = img[h_high, w_low] if h_high <= height - 1 and w_low >= 0 else 0.0
    v4 = img[h_high, w_high] if h_high <= height - 1 and w_high <= width - 1 else 0.0
    return hh * hw * v1 + hh * lw * v2 + lh * hw * v3 + lh * lw * v4


def _reference(x, offset, weight, bias, stride, pad, dil, mask):
    """deform_conv2d in plain loops, from torchvision's im2col kernel and grouped product."""
    n, c, _, _ = x.shape
    c_out, c_in_g, kh, kw = weight.shape
    groups = c // c_in_g
    n_off = offset.shape[1] // (2 * kh * kw)
    ho = _out(x.shape[2], pad[0], dil[0], kh, stride[0])
    wo = _out(x.shape[3], pad[1], dil[1], kw, stride[1])
    cols = np.zeros((n, c, kh, kw, ho, wo))
    for b in range(n):
        for ch in range(c):
            g = ch // (c // n_off)
            for i in range(kh):
                for j in range(kw):
                    t = i * kw + j
                    for oy in range(ho):
                        for ox in range(wo):
                            dy = offset[b, g * 2 * kh * kw + 2 * t, oy, ox]
                            dx = offset[b, g * 2 * kh * kw + 2 * t + 1, oy, ox]
                            m = 1.0 if mask is None else mask[b, g * kh * kw + t, oy, ox]
                            y = oy * stride[0] - pad[0] + i * dil[0] + dy
                            xx = ox * stride[1] - pad[1] + j * dil[1] + dx
                            cols[b, ch, i, j, oy, ox] = m * _bilinear(x[b, ch], y, xx)
    out = np.zeros((n, c_out, ho, wo))
    og = c_out // groups
    for gi in range(groups):
        wg = weight[gi * og:(gi + 1) * og].reshape(og, -1)
        cg = cols[:, gi * c_in_g:(gi + 1) * c_in_g].reshape(n, -1, ho * wo)
        out[:, gi * og:(gi + 1) * og] = np.einsum("ok,nkl->nol", wg, cg).reshape(n, og, ho, wo)
    if bias is not None:
        out += bias[None, :, None, None]
    return out


CONV_CASES = [  # (stride, padding, dilation, groups, offset groups, kernel)
    ((1, 1), (0, 0), (1, 1), 1, 1, (3, 3)),
    ((2, 2), (1, 1), (1, 1), 2, 2, (3, 3)),
    ((1, 2), (2, 1), (2, 1), 1, 3, (2, 3)),
    ((2, 1), (0, 1), (1, 2), 3, 1, (3, 2)),
    ((3, 3), (1, 0), (1, 1), 6, 6, (1, 1)),
]


@pytest.mark.parametrize("stride, pad, dil, groups, n_off, kernel", CONV_CASES)
@pytest.mark.parametrize("with_mask", [False, True])
def test_zero_offsets_equal_torch_conv2d(stride, pad, dil, groups, n_off, kernel, with_mask):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 9, 8)).astype(np.float32)
    w = rng.standard_normal((12, 6 // groups) + kernel).astype(np.float32)
    b = rng.standard_normal(12).astype(np.float32)
    ref = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w),
                                     torch.from_numpy(b), stride, pad, dil, groups).numpy()
    kk = kernel[0] * kernel[1]
    off = np.zeros((2, 2 * n_off * kk) + ref.shape[2:], np.float32)
    mask = T(np.ones((2, n_off * kk) + ref.shape[2:], np.float32)) if with_mask else None
    out = ops.deform_conv2d(T(x), T(off), T(w), T(b), stride, pad, dil, mask)
    assert out.dtype == ember.float32 and out.shape == ref.shape
    assert_close(out, ref, atol=2e-5)


def test_zero_offsets_equal_ember_conv2d_with_gradients():
    rng = np.random.default_rng(1)
    x = T(rng.standard_normal((2, 4, 7, 7)), requires_grad=True)
    w = T(rng.standard_normal((6, 2, 3, 3)), requires_grad=True)
    b = T(rng.standard_normal(6), requires_grad=True)
    ref = ember.nn.functional.conv2d(x, w, b, 2, 1, 1, 2)
    gref = ember.autograd.grad(ref.sum(), (x, w, b))
    off = T(np.zeros((2, 18) + tuple(ref.shape[2:])))
    out = ops.deform_conv2d(x, off, w, b, stride=2, padding=1)
    assert_close(out, ref.detach().cpu().numpy(), atol=1e-12)
    for got, want in zip(ember.autograd.grad(out.sum(), (x, w, b)), gref):
        assert_close(got, want.cpu().numpy(), atol=1e-12)


@pytest.mark.parametrize("dy, dx", [(1, 0), (-2, 1), (0, -1), (3, 3)])
def test_integer_offsets_equal_shifted_conv2d(dy, dx):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 3, 8, 9))
    w = rng.standard_normal((4, 3, 3, 3))
    # the input moved by (-dy, -dx), zeros outside it, with the 1-pixel padding taken from
    # the moved image (a padded position may sample a real pixel)
    big = np.zeros((1, 3, 8 + 2 * 5, 9 + 2 * 5))
    big[:, :, 5:13, 5:14] = x
    shifted = big[:, :, 4 + dy:14 + dy, 4 + dx:15 + dx]
    ref = torch.nn.functional.conv2d(torch.from_numpy(shifted), torch.from_numpy(w)).numpy()
    off = np.zeros((1, 18, 8, 9))
    off[:, 0::2], off[:, 1::2] = dy, dx
    out = ops.deform_conv2d(T(x), T(off), T(w), padding=1)
    assert_close(out, ref, atol=1e-12)


def _fractional_case(rng, n, c, hw, w_shape, n_off, out_hw, with_mask, dtype=np.float64):
    x = rng.standard_normal((n, c) + hw).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    kk = w_shape[2] * w_shape[3]
    off = rng.uniform(-3.5, 3.5, (n, 2 * n_off * kk) + out_hw).astype(dtype)
    # boundary values of the interpolation rules: exact integers, -1 and the far edge
    off.reshape(-1)[:40] = np.tile([0.0, 1.0, -1.0, -2.0, 4.0, 0.5, -0.5, 2.0], 5)
    mask = rng.uniform(0, 1, (n, n_off * kk) + out_hw).astype(dtype) if with_mask else None
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    return x, off, w, b, mask


@pytest.mark.parametrize("stride, pad, dil, groups, n_off, kernel", CONV_CASES[:4])
@pytest.mark.parametrize("with_mask", [False, True])
def test_fractional_offsets_match_kernel_reference(stride, pad, dil, groups, n_off, kernel,
                                                   with_mask):
    rng = np.random.default_rng(3)
    hw = (6, 7)
    out_hw = tuple(_out(hw[i], pad[i], dil[i], kernel[i], stride[i]) for i in range(2))
    x, off, w, b, mask = _fractional_case(rng, 2, 6, hw, (6, 6 // groups) + kernel, n_off,
                                          out_hw, with_mask)
    ref = _reference(x, off, w, b, stride, pad, dil, mask)
    out = ops.deform_conv2d(T(x), T(off), T(w), T(b), stride, pad, dil,
                            None if mask is None else T(mask))
    assert_close(out, ref, rtol=1e-12, atol=1e-12)
    out32 = ops.deform_conv2d(T(x.astype(np.float32)), T(off.astype(np.float32)),
                              T(w.astype(np.float32)), T(b.astype(np.float32)), stride, pad,
                              dil, None if mask is None else T(mask.astype(np.float32)))
    assert out32.dtype == ember.float32
    assert_close(out32, ref, rtol=1e-4, atol=1e-4)


def test_offsets_far_outside_give_bias_only():
    rng = np.random.default_rng(4)
    x = T(rng.standard_normal((1, 2, 5, 5)))
    w = T(rng.standard_normal((3, 2, 3, 3)))
    b = rng.standard_normal(3)
    off = T(np.full((1, 18, 3, 3), 50.0))
    out = ops.deform_conv2d(x, off, w, T(b))
    assert_close(out, np.broadcast_to(b[None, :, None, None], (1, 3, 3, 3)).copy())


def test_gradcheck_every_argument_float64():
    rng = np.random.default_rng(5)
    x, off, w, b, mask = _fractional_case(rng, 1, 4, (4, 4), (4, 2, 2, 2), 2, (4, 3), True)
    off.reshape(-1)[:40] += 0.25  # keep finite differences away from the integer kinks
    args = [T(a, requires_grad=True) for a in (x, off, w, b, mask)]

    def fn(xx, oo, ww, bb, mm):
        return ops.deform_conv2d(xx, oo, ww, bb, stride=(1, 2), padding=1, dilation=(2, 1),
                                 mask=mm)

    assert ember.autograd.gradcheck(fn, tuple(args))


def test_gradgradcheck_float64():
    rng = np.random.default_rng(6)
    x, off, w, b, mask = _fractional_case(rng, 1, 2, (4, 4), (2, 2, 2, 2), 1, (3, 3), True)
    off.reshape(-1)[:40] += 0.25
    args = tuple(T(a, requires_grad=True) for a in (x, off, w, mask))
    fn = lambda xx, oo, ww, mm: ops.deform_conv2d(xx, oo, ww, mask=mm)  # noqa: E731
    assert ember.autograd.gradgradcheck(fn, args)


def test_offset_gradient_is_the_coordinate_weight():
    # one channel, one 1x1 tap: d out / d dy is the vertical slope of the interpolation
    img = np.arange(20.0).reshape(1, 1, 4, 5) ** 1.5
    off = T(np.array([0.3, 1.6]).reshape(1, 2, 1, 1) * np.ones((1, 2, 4, 5)),
            requires_grad=True)
    out = ops.deform_conv2d(T(img), off, T(np.ones((1, 1, 1, 1))))
    out.sum().backward()
    g = off.grad.cpu().numpy()
    y0, x0, ly, lx = 1, 2, 0.3, 0.6  # at output (1, 1): y = 1.3, x = 2.6
    im = img[0, 0]
    dy = lx * (im[y0 + 1, x0 + 1] - im[y0, x0 + 1]) + (1 - lx) * (im[y0 + 1, x0] - im[y0, x0])
    dx = ly * (im[y0 + 1, x0 + 1] - im[y0 + 1, x0]) + (1 - ly) * (im[y0, x0 + 1] - im[y0, x0])
    np.testing.assert_allclose(g[0, :, 1, 1], [dy, dx], rtol=1e-12)
    assert np.all(g[0, :, :, 4] == 0)  # x = 5.6: both columns outside the image


def test_empty_batch():
    out = ops.deform_conv2d(T(np.zeros((0, 2, 5, 5))), T(np.zeros((0, 18, 3, 3))),
                            T(np.ones((4, 2, 3, 3))), T(np.ones(4)))
    assert out.shape == (0, 4, 3, 3)


def test_module_parameters_repr_and_forward():
    m = ops.DeformConv2d(4, 6, 3, stride=2, padding=1, groups=2).to(DEVICE)
    assert m.weight.shape == (6, 2, 3, 3) and m.bias.shape == (6,)
    assert sorted(m.state_dict()) == ["bias", "weight"]
    bound = 1 / math.sqrt(2 * 9)
    assert float(m.bias.abs().max()) <= bound and float(m.weight.abs().max()) <= bound
    assert repr(m) == "DeformConv2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), " \
        "groups=2)"
    assert repr(ops.DeformConv2d(2, 3, (1, 2), dilation=2, bias=False)) == \
        "DeformConv2d(2, 3, kernel_size=(1, 2), stride=(1, 1), dilation=(2, 2), bias=False)"
    x = T(np.random.default_rng(7).standard_normal((1, 4, 6, 6)).astype(np.float32))
    off = T(np.zeros((1, 18, 3, 3), np.float32))
    ref = ember.nn.functional.conv2d(x, m.weight, m.bias, 2, 1, 1, 2)
    assert_close(m(x, off), ref.detach().cpu().numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        ops.DeformConv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        ops.DeformConv2d(4, 3, 3, groups=2)


def test_errors_for_bad_shapes():
    x = T(np.zeros((2, 4, 6, 6)))
    w = T(np.zeros((3, 4, 3, 3)))
    off = T(np.zeros((2, 18, 4, 4)))
    with pytest.raises(RuntimeError, match="offset tensor at dimension 1 is not valid"):
        ops.deform_conv2d(x, T(np.zeros((2, 17, 4, 4))), w)
    with pytest.raises(RuntimeError,
                       match="offset.shape\\[1\\] is not valid: got: 20 expected: 18"):
        ops.deform_conv2d(x, T(np.zeros((2, 20, 4, 4))), w)
    with pytest.raises(RuntimeError, match="mask.shape\\[1\\] is not valid: got: 8 expected: 9"):
        ops.deform_conv2d(x, off, w, mask=T(np.zeros((2, 8, 4, 4))))
    with pytest.raises(RuntimeError, match="invalid batch size of offset"):
        ops.deform_conv2d(x, T(np.zeros((1, 18, 4, 4))), w)
    with pytest.raises(RuntimeError, match="invalid batch size of mask"):
        ops.deform_conv2d(x, off, w, mask=T(np.zeros((1, 9, 4, 4))))
    with pytest.raises(RuntimeError, match="offset output dims: \\(5, 5\\) - computed output "
                                           "dims: \\(4, 4\\)"):
        ops.deform_conv2d(x, T(np.zeros((2, 18, 5, 5))), w)
    with pytest.raises(RuntimeError, match="mask output dims"):
        ops.deform_conv2d(x, off, w, mask=T(np.zeros((2, 9, 3, 4))))
    with pytest.raises(RuntimeError, match="input channels \\(4\\) must be a multiple"):
        ops.deform_conv2d(x, off, T(np.zeros((3, 3, 3, 3))))
    with pytest.raises(RuntimeError, match="divisible by the offset groups"):
        ops.deform_conv2d(x, T(np.zeros((2, 54, 4, 4))), w)
    with pytest.raises(RuntimeError, match="stride_h: 0"):
        ops.deform_conv2d(x, off, w, stride=(0, 1))
    with pytest.raises(RuntimeError, match="Calculated output size too small"):
        ops.deform_conv2d(T(np.zeros((2, 4, 2, 2))), T(np.zeros((2, 18, 0, 0))), w)
    with pytest.raises(RuntimeError, match="4-D"):
        ops.deform_conv2d(T(np.zeros((4, 6, 6))), off, w)
    with pytest.raises(RuntimeError, match="same dtype"):
        ops.deform_conv2d(x, off.float(), w)
    with pytest.raises(RuntimeError, match="bias of shape \\[3\\]"):
        ops.deform_conv2d(x, off, w, T(np.zeros(4)))
