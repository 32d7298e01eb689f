"""``nn.utils``: gradient clipping, parameter vectors and the rnn sequence helpers,
against PyTorch."""

import ember.nn as nn
import numpy as np
import pytest
import torch
from ember.nn.utils import rnn
from nn_compare import assert_close, em, load_from_torch, randn, th, tnp


def _pair(device):
    e = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3))
    t = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    load_from_torch(e, t, device)
    x = randn(6, 4)
    (e(em(x, device)) ** 2).sum().backward()
    (t(th(x)) ** 2).sum().backward()
    return e, t


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0])
def test_clip_grad_norm(device, norm_type):
    e, t = _pair(device)
    ne = nn.utils.clip_grad_norm_(e.parameters(), 0.5, norm_type)
    nt = torch.nn.utils.clip_grad_norm_(t.parameters(), 0.5, norm_type)
    assert_close(ne, nt)
    for p, q in zip(e.parameters(), t.parameters()):
        assert_close(p.grad, q.grad)


def test_clip_grad_norm_noop_below_max_and_nonfinite_error():
    e, _ = _pair("cpu")
    before = [tnp(p.grad).copy() for p in e.parameters()]
    nn.utils.clip_grad_norm_(e.parameters(), 1e6)
    for b, p in zip(before, e.parameters()):
        np.testing.assert_array_equal(b, tnp(p.grad))
    e[0].weight.grad.fill_(float("nan"))
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(e.parameters(), 1.0, error_if_nonfinite=True)


def test_clip_grad_value(device):
    e, t = _pair(device)
    nn.utils.clip_grad_value_(e.parameters(), 0.1)
    torch.nn.utils.clip_grad_value_(t.parameters(), 0.1)
    for p, q in zip(e.parameters(), t.parameters()):
        assert_close(p.grad, q.grad)


def test_parameters_vector_round_trip():
    m = nn.Linear(3, 2)
    v = nn.utils.parameters_to_vector(m.parameters())
    assert v.shape == (8,)
    nn.utils.vector_to_parameters(v * 0 + 1, m.parameters())
    assert (tnp(m.weight) == 1).all() and (tnp(m.bias) == 1).all()


def test_pad_sequence_and_packing():
    seqs = [randn(4, 2), randn(2, 2, seed=1), randn(3, 2, seed=2)]
    for kw in ({}, {"batch_first": True, "padding_value": -1.0},
               {"batch_first": True, "padding_side": "left"}):
        assert_close(rnn.pad_sequence([em(s) for s in seqs], **kw),
                     torch.nn.utils.rnn.pad_sequence([th(s) for s in seqs], **kw))
    lengths = [4, 2, 3]
    pe = rnn.pack_sequence([em(s) for s in seqs], enforce_sorted=False)
    pt = torch.nn.utils.rnn.pack_sequence([th(s) for s in seqs], enforce_sorted=False)
    assert_close(pe.data, pt.data)
    assert pe.batch_sizes.tolist() == pt.batch_sizes.tolist()
    assert pe.sorted_indices.tolist() == pt.sorted_indices.tolist()
    pad_e, len_e = rnn.pad_packed_sequence(pe, batch_first=True)
    pad_t, len_t = torch.nn.utils.rnn.pad_packed_sequence(pt, batch_first=True)
    assert_close(pad_e, pad_t)
    assert len_e.tolist() == len_t.tolist() == lengths
    back = rnn.unpack_sequence(pe)
    for a, b in zip(back, seqs):
        assert_close(a, b)
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        rnn.pack_padded_sequence(em(np.zeros((4, 3, 2), np.float32)), [2, 4, 3])
