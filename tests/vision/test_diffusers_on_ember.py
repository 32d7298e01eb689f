"""Hugging Face ``diffusers`` itself, run on ember: ``torch`` is aliased to ember in a
subprocess (tests/torch_alias.py), and tiny models built from configs must give PyTorch's
outputs on the same weights: UNet2DModel and UNet2DConditionModel (cross-attention, with and
without an encoder mask, with scaled_dot_product_attention and the classic attention
processor) forward passes, AutoencoderKL encode/decode, a DDPMPipeline and a DDIM sampling
loop, eleven more schedulers stepped with a synthetic model, a pipeline that PyTorch's
``save_pretrained`` wrote loaded with ``from_pretrained``, and one training step (loss,
gradients, AdamW, EMA). The cases live in diffusers_on_ember_cases.py; PyTorch runs them in
this process.

The models run in float64, but diffusers computes the sinusoidal timestep embedding and the
schedulers' noise schedules in float32, where numpy's and PyTorch's sin/cos/exp/log/pow
differ in the last bit: outputs that pass through them agree to ~1e-6 of their size, not to
float64 round-off. Those are checked against ``FLOAT32_TOL`` relative to their largest
magnitude; what avoids them (the VAE, the UNet at timestep 0, add_noise, timesteps) is
checked to float64 round-off."""

import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]
from diffusers_on_ember_cases import CASES, SCHEDULERS, run_case  # noqa: E402
from on_ember_harness import case_results, run_on_ember  # noqa: E402

FLOAT32_TOL = 1e-5  # of the largest magnitude, for values that went through float32 math
GRAD_TOL = 5e-5  # of each gradient's largest magnitude (seen: 2.5e-6)
LR = 1e-3  # the training case's AdamW learning rate


@pytest.fixture(scope="module")
def both(diffusers, tmp_path_factory):
    """``(torch results, ember results)`` of every case (one ember subprocess for all)."""
    import torch

    ref, weights = {}, {}
    ckpt_root = str(tmp_path_factory.mktemp("diffusers_on_ember") / "checkpoints")
    for name in CASES:
        res, state = run_case(torch, diffusers, name, ckpt_root=ckpt_root)
        ref.update(res)
        weights.update({f"{name}/{k}": v for k, v in state.items()})
    got = run_on_ember(os.path.join(HERE, "diffusers_on_ember_worker.py"), weights,
                       list(CASES), env={"DIFFUSERS_ON_EMBER_CKPT": ckpt_root})
    return ref, got


def _results(both, name: str):
    return case_results(*both, name)


def _close(got, want, tol, key):
    """``|got - want| <= tol * max(1, max|want|)`` everywhere."""
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=0, atol=tol * scale, err_msg=key)


def test_unet2d_forward(both):
    ref, got = _results(both, "unet2d")
    # timestep 0: the embedding is exactly sin 0 / cos 0, so float64 round-off only
    _close(got["unet2d/t0"], ref["unet2d/t0"], 1e-12, "t0")
    for k in ref:
        _close(got[k], ref[k], FLOAT32_TOL, k)


def test_unet2d_condition_cross_attention(both):
    ref, got = _results(both, "unet2d_cond")
    for k in ref:
        _close(got[k], ref[k], FLOAT32_TOL, k)
    # the two attention implementations agree with each other on ember too
    _close(got["unet2d_cond/classic"], got["unet2d_cond/sdpa"], 1e-12, "classic vs sdpa")
    _close(got["unet2d_cond/classic_masked"], got["unet2d_cond/masked"], 1e-12, "masked")
    assert np.abs(got["unet2d_cond/masked"] - got["unet2d_cond/sdpa"]).max() > 1e-3


def test_autoencoder_kl_encode_decode(both):
    ref, got = _results(both, "vae")
    for k in ref:  # no float32 math on this path: float64 round-off
        np.testing.assert_allclose(got[k], ref[k], rtol=1e-10, atol=1e-12, err_msg=k)


def test_ddpm_pipeline(both):
    ref, got = _results(both, "ddpm")
    np.testing.assert_array_equal(got["ddpm/timesteps"], ref["ddpm/timesteps"])
    assert int(got["ddpm/unused_draws"]) == int(ref["ddpm/unused_draws"]) == 1
    _close(got["ddpm/images"], ref["ddpm/images"], FLOAT32_TOL, "images")


def test_ddim_sampling_loop(both):
    ref, got = _results(both, "ddim")
    np.testing.assert_array_equal(got["ddim/timesteps"], ref["ddim/timesteps"])
    for k in ("ddim/add_noise", "ddim/velocity"):  # the float32 schedule is bitwise PyTorch's
        np.testing.assert_allclose(got[k], ref[k], rtol=1e-12, atol=1e-12, err_msg=k)
    for k in ref:
        _close(got[k], ref[k], FLOAT32_TOL, k)


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_scheduler_steps(both, scheduler):
    ref, got = _results(both, "schedulers")
    key = f"schedulers/{scheduler}"
    _close(got[key + ".timesteps"], ref[key + ".timesteps"], 1e-6, key + ".timesteps")
    assert np.isfinite(got[key]).all(), key
    _close(got[key], ref[key], FLOAT32_TOL, key)


def test_pipeline_from_pretrained(both):
    """``DDPMPipeline.from_pretrained`` of what PyTorch's ``save_pretrained`` wrote: the
    UNet (float32) holds the checkpoint's weights, none left on the meta device, and the
    scheduler comes back with its config."""
    ref, got = _results(both, "pretrained")
    assert int(got["pretrained/on_meta"]) == 0
    assert str(got["pretrained/scheduler"]) == "DDPMScheduler"
    np.testing.assert_array_equal(got["pretrained/timesteps"], ref["pretrained/timesteps"])
    np.testing.assert_array_equal(got["pretrained/alphas_cumprod"],
                                  ref["pretrained/alphas_cumprod"])
    _close(got["pretrained/out"], ref["pretrained/out"], FLOAT32_TOL, "out")


def test_training_step(both):
    """Noise-prediction MSE, backward, AdamW step, EMA update (plain and foreach)."""
    ref, got = _results(both, "train")
    np.testing.assert_allclose(got["train/loss"], ref["train/loss"], rtol=1e-6)
    np.testing.assert_allclose(got["train/after"], ref["train/after"], rtol=1e-5)
    np.testing.assert_allclose(got["train/snr"], ref["train/snr"], rtol=1e-6)
    grads = [k for k in ref if "/grad." in k]
    assert len(grads) > 50
    for k in grads:  # relative to each gradient's size (some are 0 up to round-off)
        atol = GRAD_TOL * float(np.abs(ref[k]).max(initial=0.0)) + 1e-12
        np.testing.assert_allclose(got[k], ref[k], rtol=0, atol=atol, err_msg=k)
    for k in [k for k in ref if "/step." in k or "/ema" in k]:
        name = k.split("/", 1)[1].split(".", 1)[1]
        g = ref["train/grad." + name]
        # AdamW's first step moves each weight by about lr * sign(g): compare where the
        # gradient is far from 0 (elsewhere round-off in g can flip the step's sign)
        sure = np.abs(g) > 1e-4
        np.testing.assert_allclose(got[k][sure], ref[k][sure], rtol=0, atol=1e-8, err_msg=k)
        assert np.abs(got[k] - ref[k]).max() <= 2 * LR + 1e-9, k
