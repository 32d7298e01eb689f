"""Run by tests/core/test_third_party_libraries.py, once with real torch and once under
tests/torch_alias.py (``torch`` is ember): uses einops and torchmetrics on seeded data and
saves every result to an .npz for the test to compare.

    python [tests/torch_alias.py] tests/core/third_party_runner.py OUT.npz
"""

import sys

import numpy as np
import torch
from einops import einsum as einops_einsum
from einops import pack, rearrange, reduce, repeat, unpack
from einops.layers.torch import Rearrange, Reduce
from torchmetrics.classification import (
    BinaryAUROC,
    MulticlassAccuracy,
    MulticlassConfusionMatrix,
    MulticlassF1Score,
)
from torchmetrics.regression import MeanSquaredError, PearsonCorrCoef, R2Score

results = {"framework": np.array(torch.__name__)}


def keep(key, value):
    results[key] = np.asarray(value.detach().numpy() if hasattr(value, "detach") else value,
                              dtype=np.float64)


x = torch.from_numpy(np.arange(2 * 3 * 4 * 6, dtype=np.float32).reshape(2, 3, 4, 6))
keep("rearrange", rearrange(x, "b c (h p1) (w p2) -> b (h w) (p1 p2 c)", p1=2, p2=3))
keep("reduce_mean", reduce(x, "b c h w -> b c", "mean"))
keep("repeat", repeat(x[0, 0], "h w -> h w r", r=2))
keep("einsum", einops_einsum(x, x, "b c h w, b c h w -> b c"))
packed, shapes = pack([x, x[:, :1]], "b * h w")
keep("pack", packed)
keep("unpack", unpack(packed, shapes, "b * h w")[1])
layer = torch.nn.Sequential(Rearrange("b c h w -> b (c h w)"), Reduce("b (n k) -> b n", "max",
                                                                       k=8))
keep("layers", layer(x))

rng = np.random.default_rng(0)
logits = torch.from_numpy(rng.standard_normal((50, 4), dtype=np.float32))
target = torch.from_numpy(rng.integers(0, 4, 50))
for name, metric in [("accuracy", MulticlassAccuracy(num_classes=4)),
                     ("f1_macro", MulticlassF1Score(num_classes=4, average="macro")),
                     ("confusion", MulticlassConfusionMatrix(num_classes=4))]:
    metric.update(logits[:25], target[:25])  # accumulated over two batches
    metric.update(logits[25:], target[25:])
    keep(name, metric.compute())
scores = torch.from_numpy(rng.random(40).astype(np.float32))
labels = torch.from_numpy(rng.integers(0, 2, 40))
keep("auroc", BinaryAUROC()(scores, labels))
pred = torch.from_numpy(rng.standard_normal(30).astype(np.float32))
true = pred + torch.from_numpy(rng.standard_normal(30).astype(np.float32)) * 0.3
keep("mse", MeanSquaredError()(pred, true))
keep("r2", R2Score()(pred, true))
keep("pearson", PearsonCorrCoef()(pred, true))

np.savez(sys.argv[1], **results)
