"""The benchmark workloads, each written once against the PyTorch API of a module ``fw``.

A workload's ``setup(fw, model, device)`` returns ``step()``, one timed iteration on
``device`` (the model is already there): a training step returns its loss as a float, anything
else returns its output. Inputs come from a seeded numpy
generator, so every framework sees the same batch; the same batch is used at every step, which
makes "the loss falls" a fair self-check. FLOPs are counted analytically (convolutions, linear
layers and attention products); a training step counts as three forward passes.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .checks import summarize
from .models.bert import bert_macs
from .models.gpt2 import generate_macs, gpt2_macs, greedy_generate
from .models.resnet import resnet_macs
from .models.small import LSTM_VOCAB, lstm_lm_macs, mlp_macs, small_cnn_macs
from .weights import to_numpy

OVERHEAD_INNER = 100  # (a * b + c).backward() repetitions per timed op_overhead step
PROMPT, NEW_TOKENS = 16, 64
BPTT, LSTM_BATCH = 35, 20


@dataclass(frozen=True)
class Workload:
    """One benchmark: what to build, how to step it, and how to count its work."""

    name: str
    model: str | None  # key of models.MODELS; None for model-free workloads
    kind: str  # "train", "infer" or "overhead"
    items: int  # samples, tokens or ops processed by one step
    unit: str  # "samples/s", "tokens/s" or "us/op"
    flops: float  # analytic floating-point operations per step (0: not counted)
    iters: int  # timed steps in a full run (a time budget may stop a slow framework earlier)
    warmup: int
    setup: Callable
    fingerprint: Callable | None = None  # step result -> dict; None: summarize the output
    quick: bool = True  # part of the --quick subset

    def describe(self, result):
        """The fingerprint of a (non-training) step result."""
        if self.fingerprint is not None:
            return self.fingerprint(result)
        return {"output": summarize(to_numpy(result))}


def _rng(seed):
    return np.random.default_rng(seed)


def _put(fw, array, device):
    """A framework tensor on ``device`` holding a numpy ``array``."""
    return fw.from_numpy(array).to(device)


def _images(fw, seed, batch, channels, size, classes, device):
    rng = _rng(seed)
    x = rng.standard_normal((batch, channels, size, size), dtype=np.float32)
    return _put(fw, x, device), _put(fw, rng.integers(0, classes, batch), device)


def _train(fw, model, loss_fn, lr, momentum=0.0, weight_decay=0.0, clip=None):
    """A step function: zero_grad, loss, backward, optional clipping, SGD step."""
    model.train()
    params = list(model.parameters())
    opt = fw.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)

    def step():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        if clip is not None:
            fw.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        return loss.item()

    return step


def _infer(fw, model, forward):
    """A step function running ``forward()`` in eval mode under ``no_grad``."""
    model.eval()

    def step():
        with fw.no_grad():
            return forward()

    return step


def _classifier_step(fw, model, x, y, **sgd):
    cross_entropy = fw.nn.functional.cross_entropy
    return _train(fw, model, lambda: cross_entropy(model(x), y), **sgd)


def mlp_train(fw, model, device):
    rng = _rng(1)
    x = _put(fw, rng.standard_normal((128, 784), dtype=np.float32), device)
    y = _put(fw, rng.integers(0, 10, 128), device)
    return _classifier_step(fw, model, x, y, lr=0.1)


def mlp_infer(fw, model, device):
    x = _put(fw, _rng(2).standard_normal((128, 784), dtype=np.float32), device)
    return _infer(fw, model, lambda: model(x))


def cnn_train(fw, model, device):
    x, y = _images(fw, 3, 64, 1, 28, 10, device)
    return _classifier_step(fw, model, x, y, lr=0.002)


def resnet20_train(fw, model, device):
    x, y = _images(fw, 4, 128, 3, 32, 10, device)
    return _classifier_step(fw, model, x, y, lr=0.1, momentum=0.9, weight_decay=1e-4)


def imagenet_infer(fw, model, device):
    x, _ = _images(fw, 5, 8, 3, 224, 1000, device)
    return _infer(fw, model, lambda: model(x))


def imagenet_train(fw, model, device):
    x, y = _images(fw, 6, 8, 3, 224, 1000, device)
    return _classifier_step(fw, model, x, y, lr=0.001, momentum=0.9, weight_decay=1e-4)


def bert_infer(fw, model, device):
    ids = _put(fw, _rng(7).integers(0, 30522, (8, 128)), device)
    types = _put(fw, np.zeros((8, 128), dtype=np.int64), device)
    return _infer(fw, model, lambda: model(ids, types))


def gpt2_forward(fw, model, device):
    ids = _put(fw, _rng(8).integers(0, 50257, (4, 256)), device)
    return _infer(fw, model, lambda: model(ids)[0])


def gpt2_generate(fw, model, device):
    prompt = _put(fw, _rng(9).integers(0, 50257, (1, PROMPT)), device)
    return _infer(fw, model, lambda: greedy_generate(fw, model, prompt, NEW_TOKENS))


def _generated(result):
    tokens, first_logits = result
    return {"tokens": [int(t) for t in to_numpy(tokens).reshape(-1)],
            "output": summarize(to_numpy(first_logits))}


def lstm_train(fw, model, device):
    data = _rng(10).integers(0, LSTM_VOCAB, (BPTT + 1, LSTM_BATCH))
    x, y = _put(fw, data[:-1].copy(), device), _put(fw, data[1:].reshape(-1).copy(), device)
    cross_entropy = fw.nn.functional.cross_entropy
    state = [None]

    def loss():  # the hidden state carries over, detached, as in truncated BPTT
        if state[0] is not None:
            state[0] = tuple(s.detach() for s in state[0])
        logits, state[0] = model(x, state[0])
        return cross_entropy(logits.reshape(-1, LSTM_VOCAB), y)

    return _train(fw, model, loss, lr=20.0, clip=0.25)


def op_overhead(fw, _model, device):
    a = fw.tensor(2.0, requires_grad=True, device=device)
    b = fw.tensor(3.0, requires_grad=True, device=device)
    c = fw.tensor(1.0, requires_grad=True, device=device)

    def step():
        for _ in range(OVERHEAD_INNER):
            (a * b + c).backward()
        return (a * b + c).detach()

    return step


def _w(name, model, kind, items, unit, flops, iters, warmup, setup, fingerprint=None,
       quick=True):
    return Workload(name, model, kind, items, unit, float(flops), iters, warmup, setup,
                    fingerprint, quick)


_R18, _R50 = resnet_macs(18), resnet_macs(50)
_LSTM_TOKENS = BPTT * LSTM_BATCH

# Step counts give torch about 2-10 s of timed steps per child on a 2-core machine.
WORKLOADS = {w.name: w for w in (
    _w("mlp_train", "mlp", "train", 128, "samples/s", 6 * 128 * mlp_macs(), 300, 10, mlp_train),
    _w("mlp_infer", "mlp", "infer", 128, "samples/s", 2 * 128 * mlp_macs(), 500, 20, mlp_infer),
    _w("cnn_train", "cnn", "train", 64, "samples/s", 6 * 64 * small_cnn_macs(), 30, 3,
       cnn_train),
    _w("resnet20_train", "resnet20", "train", 128, "samples/s",
       6 * 128 * resnet_macs(20, 32), 8, 2, resnet20_train),
    _w("resnet18_infer", "resnet18", "infer", 8, "samples/s", 2 * 8 * _R18, 10, 1,
       imagenet_infer),
    _w("resnet18_train", "resnet18", "train", 8, "samples/s", 6 * 8 * _R18, 5, 1,
       imagenet_train, quick=False),
    _w("resnet50_infer", "resnet50", "infer", 8, "samples/s", 2 * 8 * _R50, 6, 1,
       imagenet_infer),
    _w("resnet50_train", "resnet50", "train", 8, "samples/s", 6 * 8 * _R50, 3, 1,
       imagenet_train, quick=False),
    _w("bert_infer", "bert", "infer", 8, "samples/s", 2 * 8 * bert_macs(128), 4, 1, bert_infer),
    _w("gpt2_forward", "gpt2", "infer", 4 * 256, "tokens/s", 2 * 4 * gpt2_macs(256, 256), 3, 1,
       gpt2_forward, quick=False),
    _w("gpt2_generate", "gpt2", "infer", NEW_TOKENS, "tokens/s",
       2 * generate_macs(PROMPT, NEW_TOKENS), 3, 1, gpt2_generate, _generated),
    _w("lstm_train", "lstm", "train", _LSTM_TOKENS, "tokens/s",
       6 * _LSTM_TOKENS * lstm_lm_macs(), 8, 2, lstm_train),
    _w("op_overhead", None, "overhead", 2 * OVERHEAD_INNER, "us/op", 0, 200, 5, op_overhead),
)}
