"""Run by tests/vision/test_timm_models.py under tests/torch_alias.py (``torch`` is ember):
runs ``timm_recipe.run_model`` for the named models and saves the results to an .npz.

    python tests/torch_alias.py tests/vision/timm_runner.py OUT.npz NAME... [--optimizers]
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "fixtures"))

import timm  # noqa: E402
import torch  # noqa: E402  (ember, through the alias)
from timm_recipe import OPTIMIZERS, run_model, run_optimizer  # noqa: E402

assert torch.__name__ == "ember", torch.__name__
out, args = sys.argv[1], sys.argv[2:]
names = [a for a in args if not a.startswith("--")]
arrays = {}
for name in names:
    for key, value in run_model(torch, timm, name).items():
        arrays[f"{name}/{key}"] = value
for name in OPTIMIZERS if "--optimizers" in args else ():
    for key, value in run_optimizer(torch, timm, name).items():
        arrays[f"optim/{name}/{key}"] = value
np.savez(out, **arrays)
