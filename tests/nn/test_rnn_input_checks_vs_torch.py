"""The errors ``RNN``/``LSTM``/``GRU`` and their cells raise for inputs or states of the
wrong dtype or size, against PyTorch (a float64 batch into a float32 LSTM must not run)."""

import ember
import ember.nn as nn
import pytest
import torch


def _raises_like(fe, ft):
    with pytest.raises(Exception) as te:
        ft()
    with pytest.raises(type(te.value)) as ee:
        fe()
    return str(ee.value), str(te.value)


@pytest.mark.parametrize("name", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("dtype", ["float64", "float16", "int64"])
def test_rnn_input_dtype_must_match_weights(name, dtype):
    e, t = getattr(nn, name)(3, 4), getattr(torch.nn, name)(3, 4)
    em_msg, th_msg = _raises_like(lambda: e(ember.ones(2, 1, 3, dtype=getattr(ember, dtype))),
                                  lambda: t(torch.ones(2, 1, 3, dtype=getattr(torch, dtype))))
    assert em_msg.replace("ember.", "torch.") == th_msg


@pytest.mark.parametrize("name", ["RNN", "GRU"])
def test_rnn_hidden_dtype_must_match_weights(name):
    e, t = getattr(nn, name)(3, 4), getattr(torch.nn, name)(3, 4)
    _raises_like(lambda: e(ember.ones(2, 1, 3), ember.zeros(1, 1, 4, dtype=ember.float64)),
                 lambda: t(torch.ones(2, 1, 3), torch.zeros(1, 1, 4, dtype=torch.float64)))


def test_rnn_dtype_check_is_off_under_autocast():
    with ember.autocast("cpu"):
        out, _ = nn.GRU(3, 4)(ember.ones(2, 1, 3, dtype=ember.bfloat16))
    assert tuple(out.shape) == (2, 1, 4)


@pytest.mark.parametrize("name", ["RNNCell", "GRUCell", "LSTMCell"])
def test_cell_input_checks(name):
    e, t = getattr(nn, name)(3, 4), getattr(torch.nn, name)(3, 4)
    lstm = name == "LSTMCell"

    def state(mod, *shape, **kw):
        h = mod.zeros(*shape, **kw)
        return (h, h) if lstm else h

    cases = [
        ((ember.ones(2, 5),), (torch.ones(2, 5),)),
        ((ember.ones(2, 3), state(ember, 3, 4)), (torch.ones(2, 3), state(torch, 3, 4))),
        ((ember.ones(2, 3), state(ember, 2, 5)), (torch.ones(2, 3), state(torch, 2, 5))),
        ((ember.ones(2, 3, dtype=ember.float64),), (torch.ones(2, 3, dtype=torch.float64),)),
        ((ember.ones(2, 3), state(ember, 2, 4, dtype=ember.float64)),
         (torch.ones(2, 3), state(torch, 2, 4, dtype=torch.float64))),
    ]
    for ea, ta in cases:
        em_msg, th_msg = _raises_like(lambda a=ea: e(*a), lambda a=ta: t(*a))
        assert em_msg.lower() == th_msg.lower()
