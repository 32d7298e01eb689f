"""Padding in attention layers against PyTorch: queries whose keys are all masked (no NaN
on the ``need_weights=False`` path, as PyTorch's scaled_dot_product_attention), the
``is_causal`` hint, and ``TransformerEncoder``'s nested-tensor inference path (zeros at
padded positions) with its switch ``backends.mha``."""

import warnings

import ember
import ember.nn as nn
import numpy as np
import pytest
import torch
from nn_compare import assert_close, em, load_from_torch, randn, th


def _pair_mha(device, **kw):
    t = torch.nn.MultiheadAttention(8, 2, batch_first=True, **kw)
    e = load_from_torch(nn.MultiheadAttention(8, 2, batch_first=True, **kw), t, device)
    return e, t


@pytest.mark.parametrize("kw", [{}, {"add_bias_kv": True}, {"kdim": 6, "vdim": 5}])
def test_mha_fully_masked_query_without_weights_is_finite(device, kw):
    e, t = _pair_mha(device, **kw)
    x = randn(2, 5, 8)
    kv = randn(2, 4, kw.get("kdim", 8), seed=1), randn(2, 4, kw.get("vdim", 8), seed=2)
    kpm = np.array([[False] * 4, [True] * 4])  # the second sequence is all padding
    causal = np.triu(np.ones((5, 4), bool), 1)
    causal[:, 0] = True  # the first query sees no key at all
    for masks in ({"key_padding_mask": kpm}, {"attn_mask": causal},
                  {"attn_mask": causal, "key_padding_mask": kpm}):
        ex, ek, ev = em(x, device, True), em(kv[0], device, True), em(kv[1], device, True)
        tx, tk, tv = th(x, True), th(kv[0], True), th(kv[1], True)
        eo, ew = e(ex, ek, ev, need_weights=False, **{k: em(m, device) for k, m in masks.items()})
        to, tw = t(tx, tk, tv, need_weights=False, **{k: th(m) for k, m in masks.items()})
        assert ew is None and tw is None
        assert np.isfinite(to.detach().numpy()).all()
        assert_close(eo, to)
        eo.pow(2).sum().backward()
        to.pow(2).sum().backward()
        for a, b in ((ex, tx), (ek, tk), (ev, tv)):
            assert_close(a.grad, b.grad)
        for (n, p), (_, q) in zip(e.named_parameters(), t.named_parameters()):
            assert_close(p.grad, q.grad, msg=n)
        e.zero_grad()
        t.zero_grad()


def test_mha_is_causal_hint_replaces_mask_without_weights(device):
    # PyTorch: is_causal with no key_padding_mask and need_weights=False ignores attn_mask's
    # values and attends causally
    e, t = _pair_mha(device)
    x = randn(2, 5, 8)
    not_causal = randn(5, 5, seed=3)
    eo, _ = e(em(x, device), em(x, device), em(x, device), attn_mask=em(not_causal, device),
              is_causal=True, need_weights=False)
    to, _ = t(th(x), th(x), th(x), attn_mask=th(not_causal), is_causal=True,
              need_weights=False)
    assert_close(eo, to)


def test_left_padded_causal_decoder_trains_without_nan(device):
    # left padding + a causal mask leaves the first queries of a sequence with no key
    tl = torch.nn.TransformerDecoderLayer(8, 2, 16, 0.0, batch_first=True)
    el = load_from_torch(nn.TransformerDecoderLayer(8, 2, 16, 0.0, batch_first=True), tl,
                         device)
    tgt, mem = randn(2, 4, 8), randn(2, 3, 8, seed=1)
    kpm = np.array([[False] * 4, [True, True, False, False]])
    causal = np.triu(np.ones((4, 4), bool), 1)
    eo = el(em(tgt, device), em(mem, device), tgt_mask=em(causal, device),
            tgt_key_padding_mask=em(kpm, device))
    to = tl(th(tgt), th(mem), tgt_mask=th(causal), tgt_key_padding_mask=th(kpm))
    assert_close(eo, to)
    eo.sum().backward()
    to.sum().backward()
    for (n, p), (_, q) in zip(el.named_parameters(), tl.named_parameters()):
        assert np.isfinite(q.grad.numpy()).all()
        assert_close(p.grad, q.grad, msg=n)


def _pair_encoder(device, norm_first=False, batch_first=True, nhead=2):
    def make(mod):
        layer = mod.TransformerEncoderLayer(8, nhead, 16, 0.0, batch_first=batch_first,
                                            norm_first=norm_first)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            enc = mod.TransformerEncoder(layer, 2, norm=mod.LayerNorm(8))
        return enc, [str(m.message) for m in w]

    (t, tw), (e, ew) = make(torch.nn), make(nn)
    assert ew == tw
    assert e.use_nested_tensor == t.use_nested_tensor
    assert e.layers[0].activation_relu_or_gelu == t.layers[0].activation_relu_or_gelu
    return load_from_torch(e, t, device).eval(), t.eval()


@pytest.mark.parametrize("kw", [{}, {"norm_first": True}, {"batch_first": False},
                                {"nhead": 1}])
def test_encoder_nested_tensor_path_zeroes_padding(device, kw):
    e, t = _pair_encoder(device, **kw)
    x = randn(3, 5, 8) if kw.get("batch_first", True) else randn(5, 3, 8)
    kpm = np.array([[False] * 5, [False, False, True, True, True], [False] * 4 + [True]])
    fkpm = np.where(kpm, -np.inf, 0.0).astype(np.float32)
    for mask in (kpm, fkpm):
        with ember.no_grad():
            eo = e(em(x, device), src_key_padding_mask=em(mask, device))
        with torch.no_grad():
            to = t(th(x), src_key_padding_mask=th(mask))
        assert_close(eo, to)
    # with gradients, a src_mask, or a padding not at the end: the plain path
    not_right = np.array([[False] * 5, [True, False, False, False, False], [False] * 5])
    with ember.no_grad():
        eo = e(em(x, device), src_key_padding_mask=em(not_right, device))
    with torch.no_grad():
        to = t(th(x), src_key_padding_mask=th(not_right))
    assert_close(eo, to)
    with ember.no_grad():
        eo = e(em(x, device), mask=em(np.zeros((5, 5), np.float32), device),
               src_key_padding_mask=em(kpm, device))
    with torch.no_grad():
        to = t(th(x), mask=th(np.zeros((5, 5), np.float32)), src_key_padding_mask=th(kpm))
    assert_close(eo, to)
    assert_close(e(em(x, device), src_key_padding_mask=em(kpm, device)),
                 t(th(x), src_key_padding_mask=th(kpm)))


def test_encoder_nested_tensor_path_frozen_and_switch(device):
    e, t = _pair_encoder(device)
    e.requires_grad_(False)
    t.requires_grad_(False)
    x = randn(2, 5, 8)
    kpm = np.array([[False] * 5, [False, False, True, True, True]])
    eo = e(em(x, device), src_key_padding_mask=em(kpm, device))
    to = t(th(x), src_key_padding_mask=th(kpm))
    assert_close(eo, to)
    try:
        ember.backends.mha.set_fastpath_enabled(False)
        torch.backends.mha.set_fastpath_enabled(False)
        assert ember.backends.mha.get_fastpath_enabled() is False
        eo = e(em(x, device), src_key_padding_mask=em(kpm, device))
        to = t(th(x), src_key_padding_mask=th(kpm))
        assert_close(eo, to)
    finally:
        ember.backends.mha.set_fastpath_enabled(True)
        torch.backends.mha.set_fastpath_enabled(True)


def test_transformer_memory_through_nested_path(device):
    t = torch.nn.Transformer(8, 2, 1, 1, 16, 0.0, batch_first=True)
    e = load_from_torch(nn.Transformer(8, 2, 1, 1, 16, 0.0, batch_first=True), t, device)
    e.eval()
    t.eval()
    src, tgt = randn(2, 5, 8), randn(2, 3, 8, seed=1)
    kpm = np.array([[False] * 5, [False, False, False, True, True]])
    with ember.no_grad():
        eo = e(em(src, device), em(tgt, device), src_key_padding_mask=em(kpm, device))
    with torch.no_grad():
        to = t(th(src), th(tgt), src_key_padding_mask=th(kpm))
    assert_close(eo, to)
