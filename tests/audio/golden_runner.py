"""Runs one case of a golden-file recipe (tools/fixtures/audio_*_recipe.py) on ember: the
case's inputs as tensors on ``device`` (those it differentiates requiring grad), then its
function with ember and ember.audio, warnings silenced as when the golden file was made."""

import warnings

import ember
import ember.audio as eaudio


def run_case(case, inputs: dict, device: str = "cpu", seed: int | None = None):
    """``(input tensors, list of outputs)`` of ``case`` = (name, input keys, fn, grad
    positions); ``seed`` seeds ember's generator first (cases that draw)."""
    _, keys, fn, grad = case
    tensors = []
    for j, k in enumerate(keys):
        t = ember.tensor(inputs[k], device=device)
        if j in grad:
            t.requires_grad_(True)
        tensors.append(t)
    if seed is not None:
        ember.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fn(ember, eaudio, *tensors)
    return tensors, (list(res) if isinstance(res, tuple) else [res])
