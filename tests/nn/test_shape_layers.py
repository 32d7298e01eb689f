"""Padding, resizing, pixel/channel shuffles, distances and attention against PyTorch."""

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_compare import check_fn, check_module, em, randn, th


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_modes(device, mode):
    for x, pad in ((randn(3, 5, 6), (1, 2)), (randn(2, 3, 5, 6), (2, 1, 0, 3)),
                   (randn(2, 3, 5, 6), (1, 1, 2, 2)), (randn(2, 3, 4, 5, 6), (1, 0, 2, 1, 3, 0))):
        kw = {"value": 1.5} if mode == "constant" else {}
        check_fn(lambda a, p=pad, k=kw: F.pad(a, p, mode, **k),
                 lambda a, p=pad, k=kw: TF.pad(a, p, mode, **k), x, device=device)


def test_pad_errors():
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 4D"):
        F.pad(ember.randn(1, 2, 3, 4), (1, 1), "reflect")
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        F.pad(ember.randn(1, 2, 3), (3, 0), "reflect")


def test_pad_negative_crops_and_3d(device):
    check_fn(lambda a: F.pad(a, (-1, 2, 0, -2)), lambda a: TF.pad(a, (-1, 2, 0, -2)),
             randn(2, 4, 5), device=device)
    check_fn(lambda a: F.pad(a, (1, 1, 1, 0, 0, 2), "replicate"),
             lambda a: TF.pad(a, (1, 1, 1, 0, 0, 2), "replicate"), randn(1, 2, 3, 4, 5),
             device=device)


@pytest.mark.parametrize("name,args", [("ZeroPad2d", ((1, 2, 0, 3),)), ("ConstantPad1d", (2, 0.5)),
                                       ("ReflectionPad2d", (2,)), ("ReplicationPad1d", ((1, 3),)),
                                       ("CircularPad2d", (1,)), ("ConstantPad3d", (1, -1.0)),
                                       ("ReflectionPad1d", (3,)), ("ZeroPad1d", (2,))])
def test_padding_modules(device, name, args):
    e, t = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    nd = int(name[-2])
    check_module(e, t, randn(*((2, 3) + (5,) * nd)), device=device)
    assert repr(e) == repr(t)


INTERP = [
    ("nearest", (2, 3, 5, 7), {"size": (9, 4)}),
    ("nearest", (2, 3, 5, 7), {"scale_factor": 2}),
    ("nearest", (2, 3, 6), {"scale_factor": 1.7}),
    ("nearest-exact", (2, 3, 5, 7), {"size": (9, 4)}),
    ("bilinear", (2, 3, 5, 7), {"size": (9, 4)}),
    ("bilinear", (2, 3, 5, 7), {"size": (9, 4), "align_corners": True}),
    ("bilinear", (2, 3, 5, 7), {"scale_factor": 0.6}),
    ("bicubic", (2, 3, 5, 7), {"size": (8, 11)}),
    ("bicubic", (2, 3, 5, 7), {"size": (3, 11), "align_corners": True}),
    ("linear", (2, 3, 6), {"scale_factor": 2.5}),
    ("trilinear", (1, 2, 3, 4, 5), {"size": (5, 3, 6)}),
    ("area", (2, 3, 9, 7), {"size": (4, 3)}),
]


@pytest.mark.parametrize("mode,shape,kw", INTERP, ids=[f"{m}-{i}" for i, (m, _, _) in
                                                       enumerate(INTERP)])
def test_interpolate(device, mode, shape, kw):
    check_fn(lambda a: F.interpolate(a, mode=mode, **kw),
             lambda a: TF.interpolate(a, mode=mode, **kw), randn(*shape), device=device)


def test_upsample_modules(device):
    for e, t in ((nn.Upsample(scale_factor=2, mode="bilinear"),
                  torch.nn.Upsample(scale_factor=2, mode="bilinear")),
                 (nn.UpsamplingNearest2d(size=(7, 9)), torch.nn.UpsamplingNearest2d(size=(7, 9))),
                 (nn.UpsamplingBilinear2d(scale_factor=3), torch.nn.UpsamplingBilinear2d(
                     scale_factor=3))):
        check_module(e, t, randn(2, 3, 4, 5), device=device)
        assert repr(e) == repr(t)


def test_pixel_and_channel_shuffle(device):
    check_module(nn.PixelShuffle(2), torch.nn.PixelShuffle(2), randn(2, 12, 3, 4),
                 device=device)
    check_module(nn.PixelUnshuffle(2), torch.nn.PixelUnshuffle(2), randn(2, 3, 6, 4),
                 device=device)
    check_module(nn.ChannelShuffle(3), torch.nn.ChannelShuffle(3), randn(2, 6, 3, 2),
                 device=device, grad=False)
    check_fn(lambda a: F.channel_shuffle(a, 2), lambda a: TF.channel_shuffle(a, 2),
             randn(2, 6, 3), device=device, grad=False)


def test_distances(device):
    a, b = randn(5, 6), randn(5, 6, seed=1)
    check_module(nn.CosineSimilarity(), torch.nn.CosineSimilarity(), a, b, device=device)
    check_module(nn.CosineSimilarity(dim=0, eps=1e-3), torch.nn.CosineSimilarity(0, 1e-3),
                 a, randn(1, 6, seed=2), device=device)
    check_module(nn.PairwiseDistance(), torch.nn.PairwiseDistance(), a, b, device=device)
    check_module(nn.PairwiseDistance(p=1.0, keepdim=True),
                 torch.nn.PairwiseDistance(p=1.0, keepdim=True), a, b, device=device)
    check_fn(lambda x: F.pdist(x), lambda x: TF.pdist(x), a, device=device)


@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"scale": 0.3}, {"mask": "bool"},
                                {"mask": "float"}])
def test_scaled_dot_product_attention(device, kw):
    q, k, v = randn(2, 3, 4, 8), randn(2, 3, 6, 8, seed=1), randn(2, 3, 6, 5, seed=2)
    kw = dict(kw)
    mask = kw.pop("mask", None)
    if kw.get("is_causal"):
        k, v = k[:, :, :4], v[:, :, :4]
    if mask == "bool":
        m = np.random.default_rng(0).random((4, 6)) > 0.3
        m[:, 0] = True
        em_, tm_ = em(m, device), th(m)
    elif mask == "float":
        m = randn(4, 6, seed=5)
        em_, tm_ = em(m, device), th(m)
    else:
        em_ = tm_ = None
    check_fn(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=em_, **kw),
             lambda a, b, c: TF.scaled_dot_product_attention(a, b, c, attn_mask=tm_, **kw),
             q, k, v, device=device)


@pytest.mark.parametrize("align", [False, True])
def test_affine_grid(device, align):
    theta = randn(2, 2, 3) * 0.5
    check_fn(lambda t: F.affine_grid(t, (2, 3, 4, 5), align_corners=align),
             lambda t: TF.affine_grid(t, (2, 3, 4, 5), align_corners=align), theta,
             device=device)
    theta3 = randn(2, 3, 4) * 0.5
    check_fn(lambda t: F.affine_grid(t, (2, 1, 3, 4, 5), align_corners=align),
             lambda t: TF.affine_grid(t, (2, 1, 3, 4, 5), align_corners=align), theta3,
             device=device)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align", [False, True])
def test_grid_sample(device, mode, padding_mode, align):
    x = randn(2, 3, 5, 6)
    grid = (np.random.default_rng(4).uniform(-1.4, 1.4, (2, 4, 7, 2))).astype(np.float32)
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align)
    check_fn(lambda a, g: F.grid_sample(a, g, **kw), lambda a, g: TF.grid_sample(a, g, **kw),
             x, grid, device=device, rtol=1e-4, atol=1e-4)
