"""Run by tests/vision/test_timm_models.py under tests/torch_alias.py (``torch`` is ember):
runs ``timm_recipe.run_model`` for the named models and saves the results to an .npz.

    python tests/torch_alias.py tests/vision/timm_runner.py OUT.npz NAME [NAME...]
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "fixtures"))

import timm  # noqa: E402
import torch  # noqa: E402  (ember, through the alias)
from timm_recipe import run_model  # noqa: E402

assert torch.__name__ == "ember", torch.__name__
out, names = sys.argv[1], sys.argv[2:]
arrays = {}
for name in names:
    for key, value in run_model(torch, timm, name).items():
        arrays[f"{name}/{key}"] = value
np.savez(out, **arrays)
