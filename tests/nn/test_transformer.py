"""Attention and transformer layers against PyTorch (eval mode: dropout off), with masks,
batch_first, pre-norm and state_dict keys."""

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest
import torch
from nn_compare import assert_close, check_module, em, load_from_torch, randn, th


@pytest.mark.parametrize("kw", [{}, {"batch_first": True}, {"bias": False},
                                {"add_bias_kv": True, "add_zero_attn": True},
                                {"kdim": 6, "vdim": 3}])
def test_multihead_attention(device, kw):
    e, t = nn.MultiheadAttention(8, 2, **kw), torch.nn.MultiheadAttention(8, 2, **kw)
    assert list(e.state_dict()) == list(t.state_dict())
    q = randn(5, 3, 8)
    k = randn(4, 3, kw.get("kdim", 8), seed=1)
    v = randn(4, 3, kw.get("vdim", 8), seed=2)
    if kw.get("batch_first"):
        q, k, v = (a.transpose(1, 0, 2).copy() for a in (q, k, v))
    check_module(e, t, q, k, v, device=device, train=False)


def test_multihead_self_attention_with_masks(device):
    e, t = nn.MultiheadAttention(8, 4), torch.nn.MultiheadAttention(8, 4)
    x = randn(5, 2, 8)
    kpm = np.array([[False] * 5, [False, False, False, True, True]])
    causal = np.triu(np.ones((5, 5), bool), 1)
    load_from_torch(e, t, device)
    for need, avg in ((True, True), (True, False), (False, True)):
        ex = em(x, device)
        eo, ew = e(ex, ex, ex, key_padding_mask=em(kpm, device), attn_mask=em(causal, device),
                   need_weights=need, average_attn_weights=avg)
        tx = th(x)
        to, tw = t(tx, tx, tx, key_padding_mask=th(kpm), attn_mask=th(causal),
                   need_weights=need, average_attn_weights=avg)
        assert_close(eo, to)
        if need:
            assert_close(ew, tw)
        else:
            assert ew is None and tw is None
    float_mask = randn(5, 5, seed=3)
    eo, _ = e(em(x, device), em(x, device), em(x, device), attn_mask=em(float_mask, device))
    to, _ = t(th(x), th(x), th(x), attn_mask=th(float_mask))
    assert_close(eo, to)


def test_multihead_attention_unbatched(device):
    check_module(nn.MultiheadAttention(4, 2), torch.nn.MultiheadAttention(4, 2), randn(3, 4),
                 randn(5, 4, seed=1), randn(5, 4, seed=2), device=device, train=False)


@pytest.mark.parametrize("kw", [{}, {"norm_first": True, "activation": "gelu"},
                                {"batch_first": True}])
def test_transformer_encoder_and_decoder_layers(device, kw):
    e = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, **kw)
    t = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, **kw)
    assert list(e.state_dict()) == list(t.state_dict())
    check_module(e, t, randn(5, 3, 8), device=device, train=False)
    mask = nn.Transformer.generate_square_subsequent_mask(5).numpy()
    np.testing.assert_array_equal(mask, torch.nn.Transformer.generate_square_subsequent_mask(
        5).numpy())
    check_module(e, t, randn(5, 3, 8), device=device, train=False, load=False,
                 kwargs={"src_mask": None})
    e2 = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, **kw)
    t2 = torch.nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, **kw)
    assert list(e2.state_dict()) == list(t2.state_dict())
    memory = randn(4, 5, 8, seed=1) if kw.get("batch_first") else randn(5, 3, 8, seed=1)
    check_module(e2, t2, randn(4, 3, 8), memory, device=device, train=False)


def test_transformer_full_model_with_causal_mask(device):
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2,
              dim_feedforward=16)
    e, t = nn.Transformer(**kw), torch.nn.Transformer(**kw)
    assert list(e.state_dict()) == list(t.state_dict())
    load_from_torch(e, t, device)
    e.eval()
    t.eval()
    src, tgt = randn(6, 2, 8), randn(4, 2, 8, seed=1)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(4)
    eo = e(em(src, device, True), em(tgt, device), tgt_mask=em(mask.numpy(), device))
    to = t(th(src, True), th(tgt), tgt_mask=mask)
    assert_close(eo, to, 1e-4, 2e-5)
    eo.sum().backward()
    to.sum().backward()
    for (n, p), (_, q) in zip(e.named_parameters(), t.named_parameters()):
        assert_close(p.grad, q.grad, 1e-3, 1e-4, n)


def test_encoder_stack_and_training_mode_runs(device):
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.1)
    enc = nn.TransformerEncoder(layer, 3, norm=nn.LayerNorm(8)).to(device)
    assert len(enc.layers) == 3 and enc.layers[0] is not enc.layers[1]
    x = ember.randn(5, 2, 8).to(device)
    y = enc(x, src_key_padding_mask=em(np.array([[False] * 5, [False] * 4 + [True]]), device))
    y.sum().backward()
    assert enc.layers[0].linear1.weight.grad is not None
    assert F.scaled_dot_product_attention is not None
