"""Benchmark models, each written once against the PyTorch API of a framework module ``fw``.

``MODELS`` maps a model name to ``builder(fw) -> fw.nn.Module``. Workloads that share a model
name also share one set of weights within a run (see ``tools.bench.weights``).
"""

from .bert import bert_base
from .gpt2 import gpt2_small
from .resnet import resnet18, resnet20, resnet50
from .small import lstm_lm, mlp, small_cnn

MODELS = {
    "mlp": mlp,
    "cnn": small_cnn,
    "resnet20": resnet20,
    "resnet18": resnet18,
    "resnet50": resnet50,
    "bert": bert_base,
    "gpt2": gpt2_small,
    "lstm": lstm_lm,
}
