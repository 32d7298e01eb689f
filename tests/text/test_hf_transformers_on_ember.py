"""Hugging Face ``transformers`` itself, run on ember: ``torch`` is aliased to ember in a
subprocess (tests/torch_alias.py), and each small model built from a config must give PyTorch's
outputs on the same weights: forward passes of ten architectures (and Llama with
``attn_implementation="flex_attention"``), transformers' attention-mask builders (vmap and
broadcast paths), greedy and beam-search ``generate``, and one AdamW training step (loss,
gradients, new weights) for BERT and GPT-2, and ``from_pretrained`` (through the meta device)
of BERT, GPT-2 and Llama checkpoints that PyTorch's ``save_pretrained`` wrote. The cases
live in hf_on_ember_cases.py; PyTorch runs them in this process."""

import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]
from hf_on_ember_cases import CASES, run_case  # noqa: E402
from on_ember_harness import case_results, run_on_ember  # noqa: E402

FORWARD = [n for n, c in CASES.items() if c[4] == "forward"]


@pytest.fixture(scope="module")
def both(transformers, tmp_path_factory):
    """``(torch results, ember results)`` of every case (one ember subprocess for all)."""
    import torch

    ref, weights = {}, {}
    ckpt_root = str(tmp_path_factory.mktemp("hf_on_ember") / "checkpoints")
    for name in CASES:
        res, state = run_case(torch, transformers, name, ckpt_root=ckpt_root)
        ref.update(res)
        weights.update({f"{name}/{k}": v for k, v in state.items()})
    got = run_on_ember(os.path.join(HERE, "hf_on_ember_worker.py"), weights, list(CASES),
                       env={"HF_ON_EMBER_CKPT": ckpt_root})
    return ref, got


def _results(both, name: str):
    return case_results(*both, name)


@pytest.mark.parametrize("name", FORWARD)
def test_forward_matches_torch(both, name):
    ref, got = _results(both, name)
    for k in ref:
        assert got[k].shape == ref[k].shape and got[k].dtype == ref[k].dtype, k
        np.testing.assert_allclose(got[k], ref[k], rtol=1e-5, atol=1e-5, err_msg=k)


@pytest.mark.parametrize("name", ["gpt2_generate", "llama_generate", "llama_beam"])
def test_greedy_generate_same_tokens(both, name):
    ref, got = _results(both, name)
    np.testing.assert_array_equal(got[name + "/tokens"], ref[name + "/tokens"])


def test_mask_builders_match_torch(both):
    ref, got = _results(both, "masks")
    for k in ref:  # the vmap and the broadcast path of transformers.masking_utils.sdpa_mask
        np.testing.assert_array_equal(got[k], ref[k], err_msg=k)
    # the flex-attention BlockMask of the same pattern stands for the same dense mask
    np.testing.assert_array_equal(both[1]["masks/flex_elements"], ref["masks/vmap1"])


@pytest.mark.parametrize("name", ["bert_train", "gpt2_train"])
def test_training_step_matches_torch(both, name):
    ref, got = _results(both, name)
    np.testing.assert_allclose(got[name + "/loss"], ref[name + "/loss"], rtol=1e-5)
    grads = [k for k in ref if "/grad." in k]
    assert len(grads) > 10
    for k in grads:
        np.testing.assert_allclose(got[k], ref[k], rtol=1e-4, atol=1e-5, err_msg=k)
    for k in [k for k in ref if "/step." in k]:
        # AdamW's first step moves each weight by lr * g / (|g| + eps): compare where the
        # gradient is far from 0 (elsewhere round-off in g decides the sign of the step)
        g = ref[k.replace("/step.", "/grad.")] if k.replace("/step.", "/grad.") in ref else None
        sure = np.ones(ref[k].shape, bool) if g is None else np.abs(g) > 1e-5
        np.testing.assert_allclose(got[k][sure], ref[k][sure], rtol=1e-5, atol=1e-5,
                                   err_msg=k)
        assert np.abs(got[k] - ref[k]).max() <= 2 * 1e-2 + 1e-6, k  # at most two lr apart


@pytest.mark.parametrize("name", ["bert_pretrained", "gpt2_pretrained", "llama_pretrained"])
def test_from_pretrained_matches_torch(both, name):
    """``from_pretrained`` builds the model on the meta device and assigns the checkpoint's
    weights: ember's model must hold them all (nothing left on meta) and give PyTorch's
    output."""
    ref, got = _results(both, name)
    assert int(got[name + "/on_meta"]) == 0
    out = name + "/out0"
    assert got[out].shape == ref[out].shape and got[out].dtype == ref[out].dtype
    np.testing.assert_allclose(got[out], ref[out], rtol=1e-5, atol=1e-5)
