"""Recurrent layers against PyTorch: RNN/LSTM/GRU (layers, directions, batch_first,
unbatched, initial states, packed sequences) and the cells; outputs, states and every
gradient."""

import ember
import ember.nn as nn
import numpy as np
import pytest
import torch
from ember.nn.utils import rnn as rnn_utils
from nn_compare import assert_close, check_module, em, load_from_torch, randn, th

CONFIGS = [
    dict(num_layers=1),
    dict(num_layers=2, bidirectional=True),
    dict(num_layers=2, batch_first=True, bias=False),
]


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("kw", CONFIGS, ids=["1layer", "2layer-bi", "batch_first-nobias"])
def test_recurrent_layers(device, cls, kw):
    e, t = getattr(nn, cls)(5, 7, **kw), getattr(torch.nn, cls)(5, 7, **kw)
    assert list(e.state_dict()) == list(t.state_dict())
    assert repr(e) == repr(t)
    x = randn(3, 4, 5) if not kw.get("batch_first") else randn(4, 3, 5)
    check_module(e, t, x, device=device, rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_initial_state_and_unbatched(device, cls):
    e, t = getattr(nn, cls)(4, 6, num_layers=2), getattr(torch.nn, cls)(4, 6, num_layers=2)
    load_from_torch(e, t, device)
    x, h, c = randn(5, 3, 4), randn(2, 3, 6, seed=1), randn(2, 3, 6, seed=2)
    if cls == "LSTM":
        eo, (eh, ec) = e(em(x, device), (em(h, device), em(c, device)))
        to, (tht, tc) = t(th(x), (th(h), th(c)))
        assert_close(ec, tc)
    else:
        eo, eh = e(em(x, device), em(h, device))
        to, tht = t(th(x), th(h))
    assert_close(eo, to)
    assert_close(eh, tht)
    check_module(e, t, randn(5, 4), device=device, load=False)


def test_rnn_relu_and_errors(device):
    check_module(nn.RNN(3, 4, nonlinearity="relu"), torch.nn.RNN(3, 4, nonlinearity="relu"),
                 randn(6, 2, 3), device=device)
    with pytest.raises(RuntimeError, match="input_size"):
        nn.LSTM(3, 4)(ember.randn(2, 2, 5))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size"):
        nn.LSTM(3, 4)(ember.randn(2, 2, 3), (ember.zeros(1, 3, 4), ember.zeros(1, 3, 4)))
    with pytest.raises(ValueError, match="dropout"):
        nn.LSTM(3, 4, dropout=2.0)


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_packed_sequence_input(device, cls):
    e = getattr(nn, cls)(3, 4, num_layers=2, bidirectional=True)
    t = getattr(torch.nn, cls)(3, 4, num_layers=2, bidirectional=True)
    load_from_torch(e, t, device)
    seqs = [randn(5, 3), randn(2, 3, seed=1), randn(4, 3, seed=2)]
    ein = [em(s, device, True) for s in seqs]
    tin = [th(s, True) for s in seqs]
    eo, eh = e(rnn_utils.pack_sequence(ein, enforce_sorted=False))
    to, tht = t(torch.nn.utils.rnn.pack_sequence(tin, enforce_sorted=False))
    assert_close(eo.data, to.data)
    eh = eh[0] if cls == "LSTM" else eh
    tht = tht[0] if cls == "LSTM" else tht
    assert_close(eh, tht)
    g = randn(*to.data.shape, seed=7)
    (eo.data * em(g, device)).sum().backward()
    (to.data * th(g)).sum().backward()
    for a, b in zip(ein, tin):
        assert_close(a.grad, b.grad, 1e-4, 2e-5)
    for (n, p), (_, q) in zip(e.named_parameters(), t.named_parameters()):
        assert_close(p.grad, q.grad, 1e-4, 2e-5, n)


@pytest.mark.parametrize("cls", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cells(device, cls):
    e, t = getattr(nn, cls)(4, 5), getattr(torch.nn, cls)(4, 5)
    assert repr(e) == repr(t)
    check_module(e, t, randn(3, 4), device=device)
    check_module(e, t, randn(4), device=device, load=False)
    h = randn(3, 5, seed=3)
    hx = (em(h, device), em(h, device)) if cls == "LSTMCell" else em(h, device)
    thx = (th(h), th(h)) if cls == "LSTMCell" else th(h)
    eo, to = e(em(randn(3, 4), device), hx), t(th(randn(3, 4)), thx)
    for a, b in zip(eo if isinstance(eo, tuple) else [eo], to if isinstance(to, tuple)
                    else [to]):
        assert_close(a, b)


def test_lstm_double_backward():
    e, t = nn.LSTM(2, 3).double(), torch.nn.LSTM(2, 3).double()
    load_from_torch(e, t)
    x = randn(4, 2, 2, dtype=np.float64)
    a, b = em(x, requires_grad=True), th(x, True)
    ga, = ember.autograd.grad((e(a)[0] ** 2).sum(), a, create_graph=True)
    gb, = torch.autograd.grad((t(b)[0] ** 2).sum(), b, create_graph=True)
    assert_close(ga, gb, 1e-7, 1e-9)
    (ga * ga).sum().backward()
    (gb * gb).sum().backward()
    assert_close(a.grad, b.grad, 1e-7, 1e-9)
    assert_close(e.weight_hh_l0.grad, t.weight_hh_l0.grad, 1e-7, 1e-9)


def test_lstm_default_init_bound():
    m = nn.LSTM(10, 100)
    for p in m.parameters():
        assert np.abs(p.detach().numpy()).max() <= 0.1
