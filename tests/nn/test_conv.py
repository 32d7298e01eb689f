"""Convolutions against PyTorch: Conv1d/2d/3d and ConvTranspose1d/2d/3d over strides,
paddings (numbers, 'same', 'valid', padding modes), dilations and groups; outputs, input
gradients, weight and bias gradients, second derivatives, unfold/fold."""

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_compare import assert_close, check_fn, check_module, em, randn, th

CONV2D = [
    dict(in_channels=3, out_channels=4, kernel_size=3),
    dict(in_channels=3, out_channels=6, kernel_size=(3, 2), stride=(2, 1), padding=(1, 2)),
    dict(in_channels=4, out_channels=6, kernel_size=3, padding=2, dilation=2, groups=2),
    dict(in_channels=4, out_channels=8, kernel_size=3, padding=1, groups=4),  # depthwise
    dict(in_channels=4, out_channels=5, kernel_size=1),
    dict(in_channels=4, out_channels=5, kernel_size=1, stride=2, bias=False),
    dict(in_channels=3, out_channels=4, kernel_size=4, stride=4),  # patchify
    dict(in_channels=3, out_channels=4, kernel_size=(2, 3), padding="same", dilation=(2, 1)),
    dict(in_channels=3, out_channels=4, kernel_size=3, padding="valid"),
    dict(in_channels=2, out_channels=3, kernel_size=3, padding=1, padding_mode="reflect"),
    dict(in_channels=2, out_channels=3, kernel_size=3, padding=(2, 1),
         padding_mode="replicate"),
    dict(in_channels=2, out_channels=3, kernel_size=3, padding=2, padding_mode="circular",
         stride=2),
]


@pytest.mark.parametrize("kw", CONV2D, ids=[str(i) for i in range(len(CONV2D))])
def test_conv2d(device, kw):
    e, t = nn.Conv2d(**kw), torch.nn.Conv2d(**kw)
    check_module(e, t, randn(2, kw["in_channels"], 9, 11), device=device)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())


@pytest.mark.parametrize("kw", [
    dict(in_channels=3, out_channels=4, kernel_size=5, stride=2, padding=1),
    dict(in_channels=4, out_channels=4, kernel_size=3, dilation=3, groups=4, padding="same"),
    dict(in_channels=2, out_channels=4, kernel_size=1),
    dict(in_channels=2, out_channels=3, kernel_size=4, padding=3, padding_mode="reflect"),
])
def test_conv1d(device, kw):
    check_module(nn.Conv1d(**kw), torch.nn.Conv1d(**kw), randn(3, kw["in_channels"], 13),
                 device=device)


@pytest.mark.parametrize("kw", [
    dict(in_channels=2, out_channels=3, kernel_size=3, padding=1),
    dict(in_channels=4, out_channels=4, kernel_size=(1, 2, 3), stride=(1, 2, 1), groups=2),
])
def test_conv3d(device, kw):
    check_module(nn.Conv3d(**kw), torch.nn.Conv3d(**kw), randn(2, kw["in_channels"], 5, 6, 7),
                 device=device)


def test_conv_unbatched(device):
    check_module(nn.Conv2d(3, 4, 3, padding=1), torch.nn.Conv2d(3, 4, 3, padding=1),
                 randn(3, 6, 5), device=device)


TRANSPOSED = [
    dict(in_channels=3, out_channels=4, kernel_size=3),
    dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1, output_padding=1),
    dict(in_channels=4, out_channels=6, kernel_size=(3, 2), stride=(2, 3), padding=(0, 1),
         output_padding=(1, 2), groups=2),
    dict(in_channels=4, out_channels=2, kernel_size=3, dilation=2, stride=2, bias=False),
    dict(in_channels=4, out_channels=4, kernel_size=2, stride=2),
    dict(in_channels=4, out_channels=3, kernel_size=1, stride=2),
    dict(in_channels=3, out_channels=2, kernel_size=3, padding=1),  # runs as a plain conv
    dict(in_channels=3, out_channels=2, kernel_size=3, dilation=2, output_padding=1),
    dict(in_channels=3, out_channels=2, kernel_size=(2, 3), padding=(1, 3)),  # pad > extent
    dict(in_channels=3, out_channels=2, kernel_size=1, dilation=2, output_padding=1),
]


@pytest.mark.parametrize("kw", TRANSPOSED, ids=[str(i) for i in range(len(TRANSPOSED))])
def test_conv_transpose2d(device, kw):
    e, t = nn.ConvTranspose2d(**kw), torch.nn.ConvTranspose2d(**kw)
    check_module(e, t, randn(2, kw["in_channels"], 5, 4), device=device)
    assert repr(e) == repr(t)


def test_conv_transpose_1d_3d_and_output_size(device):
    check_module(nn.ConvTranspose1d(3, 2, 4, stride=3, padding=1, output_padding=2),
                 torch.nn.ConvTranspose1d(3, 2, 4, stride=3, padding=1, output_padding=2),
                 randn(2, 3, 7), device=device)
    check_module(nn.ConvTranspose3d(2, 3, 2, stride=2), torch.nn.ConvTranspose3d(2, 3, 2,
                                                                                 stride=2),
                 randn(1, 2, 3, 4, 3), device=device)
    e = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    t = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    check_module(e, t, randn(1, 3, 5, 5), device=device, kwargs={"output_size": [10, 10]})
    with pytest.raises(ValueError, match="requested an output size"):
        e(ember.randn(1, 3, 5, 5).to(device), output_size=[20, 20])


def test_conv_default_init_statistics():
    m = nn.Conv2d(64, 32, 3)
    bound = 1 / np.sqrt(64 * 9)
    w = m.weight.detach().numpy()
    assert np.abs(w).max() <= bound and abs(w.std() - bound / np.sqrt(3)) < 0.05 * bound
    b = m.bias.detach().numpy()
    assert np.abs(b).max() <= bound


def test_conv_errors():
    m = nn.Conv2d(3, 4, 3)
    with pytest.raises(RuntimeError, match="expected input.*to have 3 channels, but got 4"):
        m(ember.randn(1, 4, 5, 5))
    with pytest.raises(RuntimeError, match="Expected 3D .unbatched. or 4D .batched. input"):
        m(ember.randn(5, 5))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        m(ember.randn(1, 3, 2, 2))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")


def test_conv2d_double_backward():
    x, w = randn(2, 4, 6, 5, dtype=np.float64), randn(6, 2, 3, 3, seed=1, dtype=np.float64)
    ex, ew = em(x, requires_grad=True), em(w, requires_grad=True)
    tx, tw = th(x, True), th(w, True)
    ey = F.conv2d(ex, ew, stride=2, padding=1, groups=2)
    ty = TF.conv2d(tx, tw, stride=2, padding=1, groups=2)
    egx, egw = ember.autograd.grad((ey * ey).sum(), (ex, ew), create_graph=True)
    tgx, tgw = torch.autograd.grad((ty * ty).sum(), (tx, tw), create_graph=True)
    assert_close(egx, tgx, 1e-7, 1e-9)
    ((egx * egx).sum() + (egw * egw).sum()).backward()
    ((tgx * tgx).sum() + (tgw * tgw).sum()).backward()
    assert_close(ex.grad, tx.grad, 1e-7, 1e-9)
    assert_close(ew.grad, tw.grad, 1e-7, 1e-9)


def test_conv_transpose_double_backward():
    x, w = randn(2, 3, 4, 4, dtype=np.float64), randn(3, 2, 3, 3, seed=1, dtype=np.float64)
    ex, ew = em(x, requires_grad=True), em(w, requires_grad=True)
    tx, tw = th(x, True), th(w, True)
    ey = F.conv_transpose2d(ex, ew, stride=2, output_padding=1)
    ty = TF.conv_transpose2d(tx, tw, stride=2, output_padding=1)
    egx, = ember.autograd.grad((ey * ey).sum(), ex, create_graph=True)
    tgx, = torch.autograd.grad((ty * ty).sum(), tx, create_graph=True)
    egx.sum().backward()
    tgx.sum().backward()
    assert_close(ex.grad, tx.grad, 1e-7, 1e-9)
    assert_close(ew.grad, tw.grad, 1e-7, 1e-9)


def test_unfold_fold(device):
    x = randn(2, 3, 6, 7)
    check_fn(lambda a: F.unfold(a, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
             lambda a: TF.unfold(a, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), x,
             device=device)
    cols = randn(2, 12, 12)
    check_fn(lambda a: F.fold(a, (5, 6), 2, padding=1, stride=2),
             lambda a: TF.fold(a, (5, 6), 2, padding=1, stride=2), cols, device=device)
    check_module(nn.Unfold(3, padding=1), torch.nn.Unfold(3, padding=1), x, device=device)
    check_module(nn.Fold((4, 5), 2), torch.nn.Fold((4, 5), 2), randn(2, 12, 12),
                 device=device)


@pytest.mark.parametrize("seed", range(4))
def test_fold_random_geometries(seed):
    """``fold`` is the col2im of every transposed and strided convolution's input gradient
    (each kernel offset added into its stride phase, the phases copied into the output):
    random kernels, strides (also wider than the kernel, leaving positions no window
    reaches), dilations and paddings against torch, float64, 10 geometries per seed."""
    rng = np.random.default_rng(50 + seed)
    for _ in range(10):
        k = tuple(int(v) for v in rng.integers(1, 5, 2))
        s = tuple(int(v) for v in rng.integers(1, 5, 2))
        d = tuple(int(v) for v in rng.integers(1, 3, 2))
        p = tuple(int(rng.integers(0, kk)) for kk in k)
        size = tuple(int(dd * (kk - 1) + 1 + rng.integers(0, 9)) for kk, dd in zip(k, d))
        blocks = 1
        for n_, kk, ss, dd, pp in zip(size, k, s, d, p):
            blocks *= (n_ + 2 * pp - dd * (kk - 1) - 1) // ss + 1
        cols = rng.standard_normal((2, 3 * k[0] * k[1], blocks))
        kw = dict(kernel_size=k, dilation=d, padding=p, stride=s)
        got = F.fold(em(cols), size, **kw)
        want = TF.fold(th(cols), size, **kw)
        assert_close(got, want, 1e-12, 1e-12, msg=str((size, kw)))


@pytest.mark.parametrize("seed", range(4))
def test_strided_input_gradient_random_geometries(seed):
    """The input gradient of strided and padded convolutions (the output gradient placed on
    the stride phases' grid, each kernel offset one shifted add into its phase): random
    1-/2-/3-D kernels, strides, dilations, paddings and groups against torch, float64."""
    rng = np.random.default_rng(70 + seed)
    for _ in range(6):
        nd = int(rng.integers(1, 4))
        k = tuple(int(v) for v in rng.integers(1, 4, nd))
        s = tuple(int(v) for v in rng.integers(1, 4, nd))
        d = tuple(int(v) for v in rng.integers(1, 3, nd))
        p = tuple(int(rng.integers(0, kk + 1)) for kk in k)
        size = tuple(int(dd * (kk - 1) + 1 + rng.integers(0, 7)) for kk, dd in zip(k, d))
        groups = int(rng.choice([1, 2]))
        x = rng.standard_normal((2, 2 * groups) + size)
        w = rng.standard_normal((2 * groups, 2) + k)
        kw = dict(stride=s, padding=p, dilation=d, groups=groups)
        efn = (F.conv1d, F.conv2d, F.conv3d)[nd - 1]
        tfn = (TF.conv1d, TF.conv2d, TF.conv3d)[nd - 1]
        ex, tx = em(x, requires_grad=True), th(x, True)
        ey, ty = efn(ex, em(w), **kw), tfn(tx, th(w), **kw)
        g = rng.standard_normal(tuple(ty.shape))
        ey.backward(em(g))
        ty.backward(th(g))
        assert_close(ex.grad, tx.grad, 1e-12, 1e-12, msg=str((size, k, kw)))


@pytest.fixture
def small_chunks(monkeypatch):
    """Makes every gather run in blocks of one or a few samples (conv.CHUNK_BYTES), also
    with a graph: by default no gathered buffer is small enough to keep (KEEP_COL_BYTES,
    KEEP_WHOLE_BYTES), so a forward that may need the weight gradient is blocked too and
    the weight gradient gathers again."""
    import ember.ops.conv as conv_ops

    def set_bytes(n, keep=0):
        monkeypatch.setattr(conv_ops, "CHUNK_BYTES", n)
        monkeypatch.setattr(conv_ops, "KEEP_COL_BYTES", keep)
        monkeypatch.setattr(conv_ops, "KEEP_WHOLE_BYTES", keep)
    return set_bytes


@pytest.mark.parametrize("keep", [0, 1 << 30], ids=["blocks", "kept"])
@pytest.mark.parametrize("chunk", [1, 1500])
@pytest.mark.parametrize("kw", CONV2D[:9], ids=[str(i) for i in range(9)])
def test_conv2d_in_sample_blocks(device, kw, chunk, keep, small_chunks):
    """Gathering windows a block of samples at a time (5 samples: blocks of 1, or of 2 with
    a short last block) gives torch's outputs and gradients; with a buffer small enough to
    keep (``keep``), the forward of a graph gathers it whole instead, for the weight
    gradient."""
    small_chunks(chunk, keep)
    e, t = nn.Conv2d(**kw), torch.nn.Conv2d(**kw)
    check_module(e, t, randn(5, kw["in_channels"], 9, 11), device=device)


def test_conv1d_3d_transpose_in_sample_blocks(device, small_chunks):
    small_chunks(1)
    check_module(nn.Conv1d(2, 3, 4, padding=3, dilation=2), torch.nn.Conv1d(2, 3, 4, padding=3,
                 dilation=2), randn(3, 2, 13), device=device)
    check_module(nn.Conv3d(2, 3, 3, padding=1), torch.nn.Conv3d(2, 3, 3, padding=1),
                 randn(3, 2, 4, 5, 3), device=device)
    check_module(nn.ConvTranspose2d(3, 2, 3, padding=1), torch.nn.ConvTranspose2d(3, 2, 3,
                 padding=1), randn(4, 3, 5, 6), device=device)


def test_conv2d_double_backward_in_sample_blocks(small_chunks):
    """Second derivatives through the blocked gather and the flipped-kernel input gradient,
    by float64 gradgradcheck."""
    small_chunks(1)
    x = ember.randn(3, 2, 5, 6, dtype=ember.float64, requires_grad=True)
    w = ember.randn(4, 2, 3, 3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda a, b: F.conv2d(a, b, padding=1), (x, w))


@pytest.fixture(params=["row_at_a_time", "padded_rows"])
def row_layout(request, monkeypatch):
    """Runs a test with stride-1 windows gathered one output row at a time, and again in
    padded-row layout for every width (conv.MAX_ROW_WASTE / ROW_MAX_WIDTH)."""
    import ember.ops.conv as conv_ops

    if request.param == "padded_rows":
        monkeypatch.setattr(conv_ops, "MAX_ROW_WASTE", 100.0)
        monkeypatch.setattr(conv_ops, "ROW_MAX_WIDTH", 10**9)
    else:
        monkeypatch.setattr(conv_ops, "MAX_ROW_WASTE", 0.0)
    return request.param


@pytest.mark.parametrize("chunk", [1, 1 << 30])
@pytest.mark.parametrize("kw", [CONV2D[i] for i in (0, 2, 3, 7, 8, 9)],
                         ids=["plain", "dilated_groups", "depthwise", "same_asym", "valid",
                              "reflect"])
def test_conv2d_padded_rows(kw, chunk, row_layout, small_chunks):
    """Stride-1 convolutions in padded-row layout (windows running through the padding
    columns, those outputs dropped) equal torch's outputs and gradients: one block of
    samples or a block per sample; kept windows (forward) or re-gathered (weight gradient)."""
    small_chunks(chunk)
    e, t = nn.Conv2d(**kw), torch.nn.Conv2d(**kw)
    check_module(e, t, randn(3, kw["in_channels"], 7, 5), device="cpu")


def test_conv_1d_3d_transpose_padded_rows(row_layout, small_chunks):
    small_chunks(1)
    check_module(nn.Conv1d(2, 3, 4, padding=3, dilation=2), torch.nn.Conv1d(2, 3, 4, padding=3,
                 dilation=2), randn(3, 2, 13), device="cpu")
    check_module(nn.Conv3d(2, 3, (3, 2, 3), padding=(1, 0, 2)),
                 torch.nn.Conv3d(2, 3, (3, 2, 3), padding=(1, 0, 2)), randn(2, 2, 4, 5, 3),
                 device="cpu")
    check_module(nn.ConvTranspose2d(3, 2, 3, padding=1), torch.nn.ConvTranspose2d(3, 2, 3,
                 padding=1), randn(4, 3, 5, 6), device="cpu")
    x = ember.randn(2, 2, 4, 5, dtype=ember.float64, requires_grad=True)
    w = ember.randn(3, 2, 3, 2, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda a, b: F.conv2d(a, b, padding=(1, 2)), (x, w))


@pytest.mark.parametrize("min_positions", [1, 10**9])
def test_pointwise_conv_per_sample_products(min_positions, monkeypatch):
    """1x1 stride-1 convolutions as one batched product per sample plane (no layout copies),
    and in the row form: outputs and all gradients equal torch's (Conv1d/2d/3d, bias or
    not, a transposed 1x1 convolution, a non-contiguous input), second derivatives by
    float64 gradgradcheck."""
    import ember.ops.conv as conv_ops

    monkeypatch.setattr(conv_ops, "PER_SAMPLE_MIN_POSITIONS", min_positions)
    check_module(nn.Conv2d(4, 6, 1), torch.nn.Conv2d(4, 6, 1), randn(3, 4, 5, 7), device="cpu")
    check_module(nn.Conv2d(4, 6, 1, bias=False), torch.nn.Conv2d(4, 6, 1, bias=False),
                 randn(2, 4, 16, 16), device="cpu")
    check_module(nn.Conv1d(3, 5, 1), torch.nn.Conv1d(3, 5, 1), randn(2, 3, 9), device="cpu")
    check_module(nn.Conv3d(2, 3, 1), torch.nn.Conv3d(2, 3, 1), randn(2, 2, 3, 4, 5),
                 device="cpu")
    check_module(nn.ConvTranspose2d(4, 3, 1), torch.nn.ConvTranspose2d(4, 3, 1),
                 randn(2, 4, 6, 5), device="cpu")
    xt = randn(2, 5, 4, 6)  # (N, H, C, W) permuted to (N, C, H, W)
    check_fn(lambda a, b: F.conv2d(a.permute(0, 2, 1, 3), b),
             lambda a, b: TF.conv2d(a.permute(0, 2, 1, 3), b), xt, randn(3, 4, 1, 1))
    x = ember.randn(2, 3, 4, 5, dtype=ember.float64, requires_grad=True)
    w = ember.randn(4, 3, 1, 1, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda a, b: F.conv2d(a, b), (x, w))


@pytest.mark.parametrize("cin,cout", [(6, 3), (4, 4), (3, 6), (1, 5)])
def test_conv2d_stride1_input_grad_both_forms(cin, cout, row_layout, small_chunks):
    """The stride-1 input gradient as a convolution with the flipped kernel (output
    channels <= input channels) or as matmul + strided adds (widening layers), with and
    without padding and dilation, against torch, in blocks of one sample."""
    small_chunks(1)
    for kw in (dict(kernel_size=3, padding=1), dict(kernel_size=3),
               dict(kernel_size=(3, 2), padding=(2, 1), dilation=(2, 1))):
        e = nn.Conv2d(cin, cout, **kw)
        t = torch.nn.Conv2d(cin, cout, **kw)
        check_module(e, t, randn(3, cin, 7, 6), device="cpu")


@pytest.mark.parametrize("short", [0, 10**9], ids=["cols_g2T", "g2_colsT"])
def test_conv_weight_grad_both_product_orders(short, monkeypatch, small_chunks):
    """The weight gradient's product taken in either order (conv.SHORT_CONTRACTION), whole
    or summed over blocks of samples, equals torch's."""
    import ember.ops.conv as conv_ops

    monkeypatch.setattr(conv_ops, "SHORT_CONTRACTION", short)
    for chunk in (1, 1 << 30):
        small_chunks(chunk)
        check_module(nn.Conv2d(3, 5, 3, padding=1), torch.nn.Conv2d(3, 5, 3, padding=1),
                     randn(3, 3, 6, 7), device="cpu")
        check_module(nn.Conv2d(4, 6, 3, stride=2), torch.nn.Conv2d(4, 6, 3, stride=2),
                     randn(2, 4, 9, 8), device="cpu")
        check_module(nn.Conv1d(2, 3, 1), torch.nn.Conv1d(2, 3, 1), randn(2, 2, 5),
                     device="cpu")
