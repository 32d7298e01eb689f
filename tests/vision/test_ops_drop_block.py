"""drop_block2d / drop_block3d and their modules: statistics of the dropped fraction, block
shapes, rescaling, seeds, in-place, eval identity, errors, and (ember's Bernoulli draws being
PyTorch's) equality with the documented torchvision recipe written in torch."""

import ember
import numpy as np
import pytest
from ember.vision import ops
from numpy.lib.stride_tricks import sliding_window_view
from vision_helpers import device_under_test

DEVICE = device_under_test()  # these ops run on EMBER_TEST_DEVICE (CUDA in a GPU run)


def _expected_dropped(p, bs, spatial):
    """The exact expected dropped fraction: a position is dropped unless none of the block
    centres whose block covers it is drawn."""
    gamma = p * np.prod(spatial) / (bs ** len(spatial) * np.prod([s - bs + 1 for s in spatial]))
    cover = np.ones(1)
    for s in spatial:  # how many valid centres cover each index, per axis
        n = np.convolve(np.ones(s - bs + 1), np.ones(bs))
        cover = np.multiply.outer(cover, n)
    return float(np.mean(1 - (1 - gamma) ** cover))


def _in_full_blocks(zero, bs):
    """Whether every zero of the 2-D boolean map lies in an all-zero bs x bs square inside
    the map."""
    full = sliding_window_view(zero, (bs, bs)).all(axis=(-1, -2))
    covered = np.zeros_like(zero)
    for i in range(bs):
        for j in range(bs):
            covered[i:i + full.shape[0], j:j + full.shape[1]] |= full
    return np.array_equal(covered, zero)


@pytest.mark.parametrize("p, bs", [(0.1, 3), (0.3, 5), (0.5, 7)])
def test_drop_block2d_statistics_blocks_and_rescaling(p, bs):
    x = ember.ones(4, 8, 48, 48, device=DEVICE)
    ember.manual_seed(0)
    y = ops.drop_block2d(x, p, bs).cpu().numpy()
    zero = y == 0
    frac = zero.mean()
    assert abs(frac - _expected_dropped(p, bs, (48, 48))) < 0.015
    # the recipe's gamma aims at p; overlapping blocks make it fall short as p grows
    assert p - 0.12 < frac < p + 0.01 and (p > 0.1 or abs(frac - p) < 0.01)
    kept = y[~zero]
    np.testing.assert_allclose(kept, y.size / (1e-6 + (~zero).sum()), rtol=1e-6)
    assert all(_in_full_blocks(zero[n, c], bs) for n in range(4) for c in range(8))
    ember.manual_seed(0)
    np.testing.assert_array_equal(ops.drop_block2d(x, p, bs).cpu().numpy(), y)


def test_drop_block3d_statistics_blocks_and_rescaling():
    x = ember.ones(2, 4, 20, 20, 20, device=DEVICE)
    ember.manual_seed(1)
    y = ops.drop_block3d(x, 0.2, 3).cpu().numpy()
    zero = y == 0
    assert abs(zero.mean() - _expected_dropped(0.2, 3, (20, 20, 20))) < 0.015
    np.testing.assert_allclose(y[~zero], y.size / (1e-6 + (~zero).sum()), rtol=1e-6)
    full = sliding_window_view(zero, (3, 3, 3), axis=(2, 3, 4)).all(axis=(-1, -2, -3))
    covered = np.zeros_like(zero)
    for i in range(3):
        for j in range(3):
            for k in range(3):
                covered[:, :, i:i + 18, j:j + 18, k:k + 18] |= full
    assert np.array_equal(covered, zero)


@pytest.mark.parametrize("dims", [2, 3])
def test_equal_to_the_torchvision_recipe_in_torch(dims):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    shape = (2, 3) + (9,) * dims
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    p, bs = 0.3, 3
    torch.manual_seed(5)
    noise = torch.empty((2, 3) + (9 - bs + 1,) * dims).bernoulli_(
        p * 9 ** dims / (bs ** dims * (9 - bs + 1) ** dims))
    noise = F.pad(noise, [bs // 2] * 2 * dims, value=0)
    pool = F.max_pool2d if dims == 2 else F.max_pool3d
    noise = 1 - pool(noise, stride=1, kernel_size=bs, padding=bs // 2)
    ref = (torch.from_numpy(x) * noise * (noise.numel() / (1e-6 + noise.sum()))).numpy()
    ember.manual_seed(5)
    fn = ops.drop_block2d if dims == 2 else ops.drop_block3d
    out = fn(ember.tensor(x, device=DEVICE), p, bs)
    np.testing.assert_allclose(out.cpu().numpy(), ref, rtol=1e-6)


def test_eval_identity_p_zero_inplace_and_gradient():
    x = ember.randn(2, 3, 8, 8, device=DEVICE)
    assert ops.drop_block2d(x, 0.5, 3, training=False) is x
    assert ops.drop_block2d(x, 0.0, 3) is x
    m = ops.DropBlock2d(0.5, 3).eval()
    assert m(x) is x
    x3 = ember.randn(1, 2, 4, 4, 4, device=DEVICE)
    assert ops.DropBlock3d(0.5, 3).eval()(x3) is x3
    before = x.clone()
    ember.manual_seed(3)
    y = ops.drop_block2d(x, 0.3, 3, inplace=True)
    assert y is x and not ember.equal(x, before)
    ember.manual_seed(3)
    np.testing.assert_array_equal(ops.drop_block2d(before, 0.3, 3).cpu().numpy(),
                                  x.cpu().numpy())
    leaf = ember.ones(1, 2, 8, 8, device=DEVICE, requires_grad=True)
    ember.manual_seed(4)
    out = ops.DropBlock2d(0.3, 3)(leaf)
    out.sum().backward()
    np.testing.assert_array_equal(leaf.grad.cpu().numpy(), out.detach().cpu().numpy())


def test_block_larger_than_the_map_drops_whole_channels():
    ember.manual_seed(0)
    y = ops.drop_block2d(ember.ones(200, 1, 5, 5, device=DEVICE), 0.5, 9).cpu().numpy()
    per = (y == 0).reshape(200, -1)
    assert np.all(per.all(1) | ~per.any(1))  # all or nothing
    assert 0.35 < per.all(1).mean() < 0.65


def test_module_reprs_and_errors():
    assert repr(ops.DropBlock2d(0.1, 3)) == "DropBlock2d(p=0.1, block_size=3, inplace=False)"
    assert repr(ops.DropBlock3d(0.2, 5, inplace=True)) == \
        "DropBlock3d(p=0.2, block_size=5, inplace=True)"
    x = ember.ones(1, 1, 6, 6, device=DEVICE)
    with pytest.raises(ValueError, match="drop probability has to be between 0 and 1, but got "
                                         "1.5."):
        ops.drop_block2d(x, 1.5, 3)
    with pytest.raises(ValueError, match="input should be 4 dimensional. Got 3 dimensions."):
        ops.drop_block2d(x[0], 0.1, 3)
    with pytest.raises(ValueError, match="input should be 5 dimensional. Got 4 dimensions."):
        ops.drop_block3d(x, 0.1, 3)
    with pytest.raises(ValueError, match="drop probability"):
        ops.DropBlock3d(-0.1, 3)(x[None])
    with pytest.raises(RuntimeError):  # an even block makes a mask one larger, as in torch
        ops.drop_block2d(x, 0.1, 2)
