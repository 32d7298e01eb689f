"""Hugging Face ``peft`` and ``accelerate`` run unchanged on ember: ``torch`` is aliased to
ember in a subprocess (tests/torch_alias.py), and the same code must give PyTorch's results
on the same weights. LoRA (``get_peft_model``) on small Llama, GPT-2 (transformers'
``Conv1D``, so ``fan_in_fan_out``) and BERT sequence-classifier models built from configs:
the trainable parameters, the forward pass, three AdamW steps (losses and trained weights),
``save_pretrained`` / ``PeftModel.from_pretrained`` (the same safetensors adapter as
PyTorch's; ember also loads PyTorch's) and ``merge_and_unload``. An ``Accelerator(cpu=True)``
loop: ``prepare``, gradient accumulation, ``backward``, ``clip_grad_norm_``, ``gather``, a
scheduler, ``save_state``/``load_state`` and ``unwrap_model``. The cases live in
peft_on_ember_cases.py; PyTorch runs them in this process. All in float64."""

import json
import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]
from on_ember_harness import case_results, run_on_ember  # noqa: E402
from peft_on_ember_cases import CASES, LORA_CASES, run_case  # noqa: E402

# Llama's rotary embedding computes cos/sin in float32 (transformers' choice, on both
# sides), whose last-bit differences reach the float64 logits; the rest is float64 round-off
TOL = {"lora_llama": 1e-6}
DEFAULT_TOL = 1e-10


@pytest.fixture(scope="module")
def both(transformers, peft, accelerate, tmp_path_factory):
    """``(torch results, ember results, checkpoint root)`` of every case (one ember
    subprocess for all)."""
    import torch

    ref, weights = {}, {}
    ckpt_root = str(tmp_path_factory.mktemp("peft_on_ember") / "checkpoints")
    for name in CASES:
        res, state = run_case(torch, name, ckpt_root=ckpt_root)
        ref.update(res)
        weights.update({f"{name}/{k}": v for k, v in state.items()})
    got = run_on_ember(os.path.join(HERE, "peft_on_ember_worker.py"), weights,
                       [ckpt_root, *CASES])
    return ref, got, ckpt_root


def _results(both, name: str):
    ref, got, _ = both
    return case_results(ref, got, name)[0], got


def _close(got, ref, tol, what):
    assert got.shape == ref.shape and got.dtype == ref.dtype, what
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol, err_msg=what)


@pytest.mark.parametrize("name", list(LORA_CASES))
def test_lora_adapters_match_torch(both, name):
    """The same LoRA layers wrap the same modules: trainable parameter names and counts,
    dtype, the files ``save_pretrained`` writes, and the plain model ``merge_and_unload``
    gives back."""
    ref, got = _results(both, name)
    for what in ("n_trainable", "trainable_names", "lora_dtype", "saved_files", "merged_type",
                 "merged_names"):
        np.testing.assert_array_equal(got[f"{name}/{what}"], ref[f"{name}/{what}"],
                                      err_msg=what)
    assert len(ref[f"{name}/trainable_names"]) >= 8


@pytest.mark.parametrize("name", list(LORA_CASES))
def test_lora_training_matches_torch(both, name):
    """Forward before training, the losses of three AdamW steps, every trained weight
    (LoRA A and B, and the classifier copy of the sequence classifier), forward after."""
    ref, got = _results(both, name)
    tol = TOL.get(name, DEFAULT_TOL)
    trained = [k for k in ref if "/trained." in k]
    assert any("lora_A" in k for k in trained) and any("lora_B" in k for k in trained)
    for k in [f"{name}/logits0", f"{name}/losses", f"{name}/logits1", *trained]:
        _close(got[k], ref[k], tol, k)
    # the steps did train: LoRA B left zero, the loss went down
    assert np.all(np.diff(ref[f"{name}/losses"]) < 0)
    assert np.abs(ref[f"{name}/logits1"] - ref[f"{name}/logits0"]).max() > 1e-3


@pytest.mark.parametrize("name", list(LORA_CASES))
def test_lora_save_reload_and_merge_match_torch(both, name):
    """``save_pretrained`` writes the adapter PyTorch writes (same safetensors tensors, same
    adapter_config.json); ``PeftModel.from_pretrained`` of ember's own adapter and of
    PyTorch's, and ``merge_and_unload``, give the trained model's logits."""
    from safetensors.numpy import load_file

    ref, got = _results(both, name)
    ckpt_root = both[2]
    tol = TOL.get(name, DEFAULT_TOL)
    trained = ref[f"{name}/logits1"]
    for k in ("reloaded_own", "reloaded_torch_saved", "logits_merged"):
        _close(got[f"{name}/{k}"], trained, tol, k)
    _close(ref[f"{name}/reloaded_own"], trained, DEFAULT_TOL, "torch reloaded")
    dirs = {side: os.path.join(ckpt_root, side, name) for side in ("torch", "ember")}
    tensors = {side: load_file(os.path.join(d, "adapter_model.safetensors"))
               for side, d in dirs.items()}
    assert sorted(tensors["ember"]) == sorted(tensors["torch"]) and len(tensors["torch"]) >= 8
    for k, v in tensors["torch"].items():
        _close(tensors["ember"][k], v, tol, k)
    configs = {}
    for side, d in dirs.items():
        with open(os.path.join(d, "adapter_config.json")) as f:
            configs[side] = json.load(f)
        # peft keeps target_modules as a set: its list order follows string hashing
        configs[side]["target_modules"] = sorted(configs[side]["target_modules"])
    assert configs["ember"] == configs["torch"]


def test_accelerate_loop_matches_torch(both):
    ref, got = _results(both, "accelerate_loop")
    name = "accelerate_loop"
    for what in ("num_processes", "device", "distributed_type", "batches", "saved_files",
                 "epoch1_synced", "epoch2_synced", "unwrapped_type"):
        np.testing.assert_array_equal(got[f"{name}/{what}"], ref[f"{name}/{what}"],
                                      err_msg=what)
    # gradient accumulation over 2 batches: gradients synchronize (and the optimizer steps)
    # every second batch
    np.testing.assert_array_equal(ref[f"{name}/epoch1_synced"], [False, True] * 4)
    floats = [k for k in ref if ref[k].dtype.kind == "f"]
    assert any("/final." in k for k in floats)
    for k in floats:
        _close(got[k], ref[k], DEFAULT_TOL, k)
    # load_state put weights, optimizer, scheduler back: replaying the second epoch gives
    # the same losses
    for side in (ref, got):
        assert float(side[f"{name}/restored_max_diff"]) == 0.0
        assert float(side[f"{name}/replay_max_diff"]) == 0.0
        lr = side[f"{name}/restored_lr"]
        assert lr[0] == lr[1]
