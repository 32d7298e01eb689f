"""Proof items of ember.nn: a LeNet on generated images and a 2-layer LSTM language model
train for 20 SGD steps from torch's weights and give torch's loss at every step (dropout
off); the state_dict keys of every layer class equal torch's."""

import warnings

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_compare import load_from_torch, tnp

STEPS = 20


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """torch's threads fight over the shared cores of small machines: one is faster here."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _images(n=48, seed=0):
    """28x28 grayscale images of a bright square in one of 4 quadrants (the label), plus
    noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    x = rng.normal(0, 0.3, (n, 1, 28, 28)).astype(np.float32)
    for i, c in enumerate(y):
        r, col = (c // 2) * 14 + rng.integers(1, 6), (c % 2) * 14 + rng.integers(1, 6)
        x[i, 0, r:r + 8, col:col + 8] += 1.5
    return x, y.astype(np.int64)


def _lenet(mod):
    return mod.Sequential(
        mod.Conv2d(1, 6, 5), mod.ReLU(), mod.MaxPool2d(2),
        mod.Conv2d(6, 16, 5), mod.ReLU(), mod.MaxPool2d(2),
        mod.Flatten(), mod.Linear(16 * 4 * 4, 120), mod.ReLU(),
        mod.Linear(120, 84), mod.ReLU(), mod.Linear(84, 10))


def test_lenet_sgd_matches_torch_step_by_step():
    t = _lenet(torch.nn)
    e = load_from_torch(_lenet(nn), t)
    assert list(e.state_dict()) == list(t.state_dict())
    x, y = _images()
    topt = torch.optim.SGD(t.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    eopt = ember.optim.SGD(e.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    tl, el = [], []
    for step in range(STEPS):
        idx = slice((step % 3) * 16, (step % 3) * 16 + 16)
        for model, opt, lib, f, losses in ((t, topt, torch, TF, tl), (e, eopt, ember, F, el)):
            opt.zero_grad()
            loss = f.cross_entropy(model(lib.tensor(x[idx])), lib.tensor(y[idx]))
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
    np.testing.assert_allclose(el, tl, rtol=2e-4, atol=1e-5)
    assert tl[-1] < tl[0]
    for (k, a), b in zip(e.state_dict().items(), t.state_dict().values()):
        np.testing.assert_allclose(tnp(a), tnp(b), rtol=1e-3, atol=1e-4, err_msg=k)


class _LM:
    """A 2-layer LSTM language model, built from ember.nn or torch.nn."""

    def __init__(self, mod, vocab=40, emb=16, hidden=32):
        self.net = mod.ModuleDict({
            "embed": mod.Embedding(vocab, emb),
            "rnn": mod.LSTM(emb, hidden, num_layers=2, dropout=0.0, batch_first=True),
            "head": mod.Linear(hidden, vocab)})

    def __call__(self, tokens):
        h, _ = self.net["rnn"](self.net["embed"](tokens))
        return self.net["head"](h)


def _corpus(n=16, length=13, vocab=40, seed=1):
    """Token sequences that mostly count upwards modulo ``vocab``."""
    rng = np.random.default_rng(seed)
    start = rng.integers(0, vocab, (n, 1))
    seq = (start + np.arange(length)[None, :] * rng.integers(1, 3, (n, 1))) % vocab
    noise = rng.random(seq.shape) < 0.1
    seq[noise] = rng.integers(0, vocab, noise.sum())
    return seq.astype(np.int64)


def test_lstm_language_model_sgd_matches_torch_step_by_step():
    tm, em_ = _LM(torch.nn), _LM(nn)
    load_from_torch(em_.net, tm.net)
    assert list(em_.net.state_dict()) == list(tm.net.state_dict())
    data = _corpus()
    topt = torch.optim.SGD(tm.net.parameters(), lr=0.5)
    eopt = ember.optim.SGD(em_.net.parameters(), lr=0.5)
    tl, el = [], []
    for _step in range(STEPS):
        for model, opt, lib, f, losses, clip in (
                (tm, topt, torch, TF, tl, torch.nn.utils.clip_grad_norm_),
                (em_, eopt, ember, F, el, nn.utils.clip_grad_norm_)):
            opt.zero_grad()
            tokens = lib.tensor(data)
            logits = model(tokens[:, :-1])
            loss = f.cross_entropy(logits.reshape(-1, 40), tokens[:, 1:].reshape(-1))
            loss.backward()
            clip(model.net.parameters(), 1.0)
            opt.step()
            losses.append(float(loss.detach()))
    np.testing.assert_allclose(el, tl, rtol=2e-4, atol=1e-5)
    assert tl[-1] < tl[0]


# -- state_dict keys of every layer ------------------------------------------------------
_ARGS = {
    "AdaptiveAvgPool1d": (2,), "AdaptiveAvgPool2d": (2,), "AdaptiveAvgPool3d": (2,),
    "AdaptiveMaxPool1d": (2,), "AdaptiveMaxPool2d": (2,), "AdaptiveMaxPool3d": (2,),
    "AdaptiveLogSoftmaxWithLoss": (16, 20, [5, 10]), "AvgPool1d": (2,), "AvgPool2d": (2,),
    "AvgPool3d": (2,), "BatchNorm1d": (3,), "BatchNorm2d": (3,), "BatchNorm3d": (3,),
    "Bilinear": (2, 3, 4), "ChannelShuffle": (2,), "CircularPad1d": (1,),
    "CircularPad2d": (1,), "CircularPad3d": (1,), "ConstantPad1d": (1, 0.5),
    "ConstantPad2d": (1, 0.5), "ConstantPad3d": (1, 0.5), "Conv1d": (2, 3, 3),
    "Conv2d": (2, 3, 3), "Conv3d": (2, 3, 3), "ConvTranspose1d": (2, 3, 3),
    "ConvTranspose2d": (2, 3, 3), "ConvTranspose3d": (2, 3, 3), "CrossMapLRN2d": (3,),
    "Embedding": (5, 3), "EmbeddingBag": (5, 3), "Fold": ((4, 4), 2),
    "FractionalMaxPool2d": (2, (3, 3)), "FractionalMaxPool3d": (2, (3, 3, 3)),
    "GRU": (3, 4), "GRUCell": (3, 4), "GroupNorm": (2, 4), "InstanceNorm1d": (3,),
    "InstanceNorm2d": (3,), "InstanceNorm3d": (3,), "LPPool1d": (2, 2), "LPPool2d": (2, 2),
    "LPPool3d": (2, 2), "LSTM": (3, 4), "LSTMCell": (3, 4), "LayerNorm": (4,),
    "LazyConv1d": (3, 2), "LazyConv2d": (3, 2), "LazyConv3d": (3, 2),
    "LazyConvTranspose1d": (3, 2), "LazyConvTranspose2d": (3, 2),
    "LazyConvTranspose3d": (3, 2), "LazyLinear": (3,), "Linear": (3, 4),
    "LocalResponseNorm": (3,), "MaxPool1d": (2,), "MaxPool2d": (2,), "MaxPool3d": (2,),
    "MaxUnpool1d": (2,), "MaxUnpool2d": (2,), "MaxUnpool3d": (2,),
    "MultiheadAttention": (8, 2), "PixelShuffle": (2,), "PixelUnshuffle": (2,),
    "RMSNorm": (4,), "RNN": (3, 4), "RNNCell": (3, 4), "ReflectionPad1d": (1,),
    "ReflectionPad2d": (1,), "ReflectionPad3d": (1,), "ReplicationPad1d": (1,),
    "ReplicationPad2d": (1,), "ReplicationPad3d": (1,), "SyncBatchNorm": (3,),
    "Threshold": (0.1, 0.0), "TransformerDecoderLayer": (8, 2, 16),
    "TransformerEncoderLayer": (8, 2, 16), "Unflatten": (1, (2, 2)), "Unfold": (2,),
    "ZeroPad1d": (1,), "ZeroPad2d": (1,), "ZeroPad3d": (1,),
}
_EXTRA = [  # (class name, args, kwargs): variants whose keys differ
    ("LSTM", (3, 6), {"num_layers": 2, "bidirectional": True, "proj_size": 2}),
    ("GRU", (3, 4), {"num_layers": 2, "bias": False}),
    ("BatchNorm2d", (3,), {"affine": False, "track_running_stats": False}),
    ("Linear", (3, 4), {"bias": False}),
    ("MultiheadAttention", (8, 2), {"kdim": 4, "vdim": 6, "bias": False}),
    ("MultiheadAttention", (8, 2), {"add_bias_kv": True}),
    ("LayerNorm", (4,), {"elementwise_affine": False}),
    ("EmbeddingBag", (5, 3), {"mode": "max"}),
    ("Transformer", (), {"d_model": 8, "nhead": 2, "num_encoder_layers": 1,
                         "num_decoder_layers": 1, "dim_feedforward": 16}),
    ("AdaptiveLogSoftmaxWithLoss", (16, 20, [5, 10]), {"head_bias": True}),
    ("LazyBatchNorm2d", (), {}), ("LazyInstanceNorm2d", (), {}),
    ("TransformerEncoder", None, {}), ("TransformerDecoder", None, {}),
]
_SKIP = {"Module", "Container", "RNNBase", "RNNCellBase", "TransformerEncoder",
         "TransformerDecoder"}


def _classes():
    out = []
    for name in sorted(dir(torch.nn)):
        cls = getattr(torch.nn, name)
        if isinstance(cls, type) and issubclass(cls, torch.nn.Module) and name not in _SKIP:
            out.append(name)
    return out


def _build(mod, name, args, kwargs):
    if name == "TransformerEncoder":
        return mod.TransformerEncoder(mod.TransformerEncoderLayer(8, 2, 16), 2)
    if name == "TransformerDecoder":
        return mod.TransformerDecoder(mod.TransformerDecoderLayer(8, 2, 16), 2)
    return getattr(mod, name)(*args, **kwargs)


def test_state_dict_keys_of_every_layer():
    checked, missing = [], []
    cases = [(n, _ARGS.get(n, ()), {}) for n in _classes()] + _EXTRA
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, args, kwargs in cases:
            if not hasattr(nn, name):
                missing.append(name)
                continue
            torch.manual_seed(0)
            try:
                t = _build(torch.nn, name, args, kwargs)
            except TypeError:
                continue  # needs arguments the table lacks (none of torch's layers today)
            e = _build(nn, name, args, kwargs)
            tsd, esd = t.state_dict(), e.state_dict()
            assert list(esd) == list(tsd), name
            for k, v in tsd.items():
                if isinstance(v, torch.nn.parameter.UninitializedParameter) or \
                        type(v).__name__.startswith("Uninitialized"):
                    continue
                assert tuple(esd[k].shape) == tuple(v.shape), f"{name}.{k}"
                assert str(esd[k].dtype).split(".")[-1] == str(v.dtype).split(".")[-1], \
                    f"{name}.{k}"
            assert [n for n, _ in e.named_parameters()] == \
                [n for n, _ in t.named_parameters()], name
            checked.append(name)
    assert len(checked) >= 150, len(checked)
    # only torch's experimental/new or multi-process classes may be absent
    assert set(missing) <= {"DataParallel", "LinearCrossEntropyLoss"}, missing


@pytest.mark.parametrize("name", ["LazyLinear", "LazyConv2d", "LazyBatchNorm1d",
                                  "LazyConvTranspose1d", "LazyInstanceNorm3d"])
def test_lazy_modules_materialize_like_torch(name):
    shapes = {"LazyLinear": (2, 7), "LazyConv2d": (2, 3, 6, 6), "LazyBatchNorm1d": (4, 5),
              "LazyConvTranspose1d": (2, 3, 5), "LazyInstanceNorm3d": (2, 3, 2, 3, 2)}
    args = _ARGS.get(name, ())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = getattr(torch.nn, name)(*args)
    e = getattr(nn, name)(*args)
    assert repr(e) == repr(t)
    x = np.random.default_rng(0).standard_normal(shapes[name]).astype(np.float32)
    t(torch.tensor(x))
    e(ember.tensor(x))
    assert type(e).__name__ == type(t).__name__
    assert repr(e) == repr(t)
    assert {k: tuple(v.shape) for k, v in e.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in t.state_dict().items()}
    load_from_torch(e, t)
    t.eval()
    e.eval()
    np.testing.assert_allclose(tnp(e(ember.tensor(x))), tnp(t(torch.tensor(x))), rtol=1e-5,
                               atol=1e-5)
    if "InstanceNorm" in name:
        return  # loading leaves num_features at 0, so the first call raises, in torch too
    # a lazy module also materializes from a state dict
    e2 = getattr(nn, name)(*args)
    e2.load_state_dict({k: ember.from_numpy(tnp(v).copy()) for k, v in t.state_dict().items()})
    e2.eval()
    np.testing.assert_allclose(tnp(e2(ember.tensor(x))), tnp(t(torch.tensor(x))), rtol=1e-5,
                               atol=1e-5)
