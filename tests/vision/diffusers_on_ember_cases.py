"""Shared cases of test_diffusers_on_ember.py: tiny Hugging Face ``diffusers`` models built
from configs, and what is run on them (forward passes, sampling loops and pipelines, one
training step).

The functions take the ``torch`` and ``diffusers`` modules as arguments and use only their
public API, so the same code runs on real PyTorch (in the test process) and on ember (in a
subprocess where ``torch`` is aliased to ember by tests/torch_alias.py). Results are numpy
arrays keyed ``"<case>/<what>"``; the PyTorch side also hands its weights over, so both
sides run the same model. The models run in float64 (the saved pipeline's UNet in
float32, as ``save_pretrained`` wrote it), though diffusers computes timestep embeddings
and noise schedules in float32 whatever the model's dtype. Random draws never cross
frameworks:
the noise of a sampling loop comes from a fixed numpy stream that replaces diffusers'
``randn_tensor`` in the scheduler and pipeline modules.
"""

from __future__ import annotations

import contextlib
import importlib

import numpy as np

_UNET = dict(sample_size=16, in_channels=3, out_channels=3, block_out_channels=(32, 64),
             layers_per_block=1, down_block_types=("DownBlock2D", "AttnDownBlock2D"),
             up_block_types=("AttnUpBlock2D", "UpBlock2D"), norm_num_groups=8,
             attention_head_dim=8)
_UNET_COND = dict(sample_size=8, in_channels=4, out_channels=4, block_out_channels=(32, 64),
                  layers_per_block=1,
                  down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                  up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
                  cross_attention_dim=16, attention_head_dim=8, norm_num_groups=8)
_VAE = dict(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(32, 64),
            layers_per_block=1, down_block_types=("DownEncoderBlock2D",) * 2,
            up_block_types=("UpDecoderBlock2D",) * 2, norm_num_groups=8, sample_size=16)

# name -> (model class, config kwargs, task)
CASES = {
    "unet2d": ("UNet2DModel", _UNET, "unet"),
    "unet2d_cond": ("UNet2DConditionModel", _UNET_COND, "unet_cond"),
    "vae": ("AutoencoderKL", _VAE, "vae"),
    "ddpm": ("UNet2DModel", _UNET, "ddpm"),
    "ddim": ("UNet2DModel", _UNET, "ddim"),
    "schedulers": (None, None, "schedulers"),
    "pretrained": ("UNet2DModel", _UNET, "pretrained"),
    "train": ("UNet2DModel", _UNET, "train"),
}

# schedulers stepped with a synthetic model (no network): those that draw no noise
SCHEDULERS = ["EulerDiscreteScheduler", "HeunDiscreteScheduler", "LMSDiscreteScheduler",
              "KDPM2DiscreteScheduler", "DPMSolverMultistepScheduler",
              "DPMSolverSinglestepScheduler", "UniPCMultistepScheduler",
              "DEISMultistepScheduler", "PNDMScheduler", "EDMEulerScheduler",
              "FlowMatchEulerDiscreteScheduler"]

_STEPS = 5


def _numpy(t) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


def build(torch, diffusers, name: str, state: dict | None):
    """The case's float64 model from its config; with ``state`` (numpy arrays) its weights."""
    cls, kwargs, _ = CASES[name]
    torch.manual_seed(0)
    model = getattr(diffusers, cls)(**kwargs).double()
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    return model


@contextlib.contextmanager
def _fixed_noise(torch, modules, draws):
    """Replaces ``randn_tensor`` in the given diffusers modules by a function that hands out
    ``draws`` (numpy arrays) in order, as tensors of the asked shape, dtype and device."""
    queue = list(draws)

    def randn_tensor(shape, generator=None, device=None, dtype=None, layout=None):
        noise = queue.pop(0)
        assert tuple(noise.shape) == tuple(shape), (noise.shape, shape)
        return torch.from_numpy(noise.copy()).to(device=device, dtype=dtype)

    saved = [(m, m.randn_tensor) for m in modules]
    try:
        for m in modules:
            m.randn_tensor = randn_tensor
        yield queue
    finally:
        for m, f in saved:
            m.randn_tensor = f


def run_case(torch, diffusers, name: str, state: dict | None = None,
             ckpt_root: str | None = None):
    """``(results, state)`` of one case: numpy outputs keyed ``name/what``, and the weights
    the model ran with. The ``pretrained`` case uses a directory under ``ckpt_root``:
    PyTorch's side writes it, ember's side loads it."""
    diffusers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()
    task = CASES[name][2]
    if task == "schedulers":
        return {f"{name}/{k}": v for k, v in _schedulers(torch, diffusers).items()}, {}
    if task == "pretrained":
        return {f"{name}/{k}": v for k, v in _pretrained(torch, diffusers, name,
                                                         ckpt_root).items()}, {}
    model = build(torch, diffusers, name, state)
    state = {k: _numpy(v) for k, v in model.state_dict().items()}
    rng = np.random.default_rng(0)
    if task == "train":
        out = _train(torch, diffusers, model, rng)
    else:
        model.eval()
        with torch.no_grad():
            out = {"unet": _unet, "unet_cond": _unet_cond, "vae": _vae, "ddpm": _ddpm,
                   "ddim": _ddim}[task](torch, diffusers, model, rng)
    return {f"{name}/{k}": v for k, v in out.items()}, state


def _unet(torch, diffusers, model, rng) -> dict:
    """UNet2DModel forward at a few timesteps: Python ints, a 0-d and a per-sample tensor."""
    x = torch.from_numpy(rng.standard_normal((2, 3, 16, 16)))
    out = {}
    for t in (0, 10, 999):
        out[f"t{t}"] = _numpy(model(x, t).sample)
    out["t_float"] = _numpy(model(x, torch.tensor(37.5, dtype=torch.float64)).sample)
    out["t_batch"] = _numpy(model(x, torch.tensor([3, 500])).sample)
    return out


def _unet_cond(torch, diffusers, model, rng) -> dict:
    """UNet2DConditionModel forward with cross-attention on text-like states, with and
    without an encoder attention mask, and with the classic (bmm/baddbmm softmax) attention
    processor instead of scaled_dot_product_attention."""
    x = torch.from_numpy(rng.standard_normal((2, 4, 8, 8)))
    ctx = torch.from_numpy(rng.standard_normal((2, 5, 16)))
    t = torch.tensor([3, 700])
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    out = {"sdpa": _numpy(model(x, t, encoder_hidden_states=ctx).sample),
           "masked": _numpy(model(x, t, encoder_hidden_states=ctx,
                                  encoder_attention_mask=mask).sample)}
    model.set_attn_processor(diffusers.models.attention_processor.AttnProcessor())
    out["classic"] = _numpy(model(x, t, encoder_hidden_states=ctx).sample)
    out["classic_masked"] = _numpy(model(x, t, encoder_hidden_states=ctx,
                                         encoder_attention_mask=mask).sample)
    return out


def _vae(torch, diffusers, model, rng) -> dict:
    """AutoencoderKL: the latent distribution's mean and std, a sample of it (from a given
    noise), the decoding of the mean, and the whole forward pass."""
    x = torch.from_numpy(rng.standard_normal((2, 3, 16, 16)))
    dist = model.encode(x).latent_dist
    out = {"mean": _numpy(dist.mean), "std": _numpy(dist.std), "logvar": _numpy(dist.logvar)}
    vae_module = importlib.import_module(type(dist).__module__)  # where it draws its noise
    with _fixed_noise(torch, [vae_module], [rng.standard_normal(tuple(dist.mean.shape))]):
        out["sample"] = _numpy(dist.sample())
    out["kl"] = _numpy(dist.kl())
    out["decoded"] = _numpy(model.decode(dist.mean).sample)
    out["forward"] = _numpy(model(x).sample)  # decodes the mode
    return out


def _ddpm(torch, diffusers, model, rng) -> dict:
    """DDPMPipeline (5 steps) with a DDPMScheduler: initial noise and each step's variance
    noise come from a fixed numpy stream."""
    import diffusers.pipelines.ddpm.pipeline_ddpm as pipeline_module
    import diffusers.schedulers.scheduling_ddpm as scheduler_module

    scheduler = diffusers.DDPMScheduler(num_train_timesteps=1000)
    pipe = diffusers.DDPMPipeline(unet=model, scheduler=scheduler)
    pipe.set_progress_bar_config(disable=True)
    draws = [rng.standard_normal((2, 3, 16, 16)) for _ in range(_STEPS + 1)]
    with _fixed_noise(torch, [pipeline_module, scheduler_module], draws) as left:
        images = pipe(batch_size=2, num_inference_steps=_STEPS, output_type="np").images
    # the last step (t = 0) adds no noise
    return {"images": np.asarray(images), "timesteps": _numpy(scheduler.timesteps),
            "unused_draws": np.array(len(left))}


def _ddim(torch, diffusers, model, rng) -> dict:
    """A hand-written DDIM loop (5 steps, eta = 0: deterministic), its predicted clean
    samples, the scheduler's add_noise/get_velocity, and one eta = 1 step with a given
    variance noise."""
    scheduler = diffusers.DDIMScheduler(num_train_timesteps=1000, beta_schedule="scaled_linear",
                                        clip_sample=False, set_alpha_to_one=False,
                                        steps_offset=1)
    scheduler.set_timesteps(_STEPS)
    x = torch.from_numpy(rng.standard_normal((2, 3, 16, 16))) * scheduler.init_noise_sigma
    out = {"timesteps": _numpy(scheduler.timesteps)}
    for i, t in enumerate(scheduler.timesteps):
        eps = model(scheduler.scale_model_input(x, t), t).sample
        res = scheduler.step(eps, t, x, eta=0.0)
        x = res.prev_sample
        out[f"x0_{i}"] = _numpy(res.pred_original_sample)
    out["final"] = _numpy(x)
    clean = torch.from_numpy(rng.standard_normal((2, 3, 16, 16)))
    noise = torch.from_numpy(rng.standard_normal((2, 3, 16, 16)))
    ts = torch.tensor([10, 900])
    out["add_noise"] = _numpy(scheduler.add_noise(clean, noise, ts))
    out["velocity"] = _numpy(scheduler.get_velocity(clean, noise, ts))
    t = scheduler.timesteps[1]
    eps = model(x, t).sample
    out["eta1"] = _numpy(scheduler.step(eps, t, x, eta=1.0, variance_noise=noise).prev_sample)
    return out


def _schedulers(torch, diffusers) -> dict:
    """Each scheduler of ``SCHEDULERS`` from its default config: 6 inference steps of a
    synthetic noise predictor, from a given sample; the timesteps and the final sample."""
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal((2, 3, 4, 4))
    c = torch.from_numpy(rng.standard_normal((2, 3, 4, 4)))
    out = {}
    for name in SCHEDULERS:
        scheduler = getattr(diffusers, name)()
        scheduler.set_timesteps(6)
        x = torch.from_numpy(x0.copy()) * getattr(scheduler, "init_noise_sigma", 1.0)
        for t in scheduler.timesteps:
            model_input = scheduler.scale_model_input(x, t) \
                if hasattr(scheduler, "scale_model_input") else x
            eps = 0.3 * model_input + c * (1 + float(t) / 1000)
            x = scheduler.step(eps, t, x).prev_sample
        out[name] = _numpy(x)
        out[name + ".timesteps"] = _numpy(scheduler.timesteps)
    return out


def _pretrained(torch, diffusers, name: str, ckpt_root: str) -> dict:
    """A DDPMPipeline that PyTorch's ``save_pretrained`` wrote (model_index.json, the
    scheduler's config, the UNet's safetensors), loaded with ``from_pretrained``: the
    UNet's output and the scheduler's timesteps, and what is left on the meta device."""
    import os

    path = os.path.join(ckpt_root, name)
    if torch.__name__ == "torch":
        unet = build(torch, diffusers, name, None).float()
        diffusers.DDPMPipeline(unet=unet, scheduler=diffusers.DDPMScheduler(
            num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2")).save_pretrained(path)
    pipe = diffusers.DDPMPipeline.from_pretrained(path)
    pipe.scheduler.set_timesteps(_STEPS)
    x = torch.from_numpy(np.random.default_rng(2).standard_normal((2, 3, 16, 16)))
    with torch.no_grad():
        y = pipe.unet(x.float(), 0).sample
    tensors = list(pipe.unet.parameters()) + list(pipe.unet.buffers())
    return {"out": _numpy(y), "timesteps": _numpy(pipe.scheduler.timesteps),
            "alphas_cumprod": _numpy(pipe.scheduler.alphas_cumprod),
            "on_meta": np.array(sum(t.is_meta for t in tensors)),
            "scheduler": np.array(type(pipe.scheduler).__name__)}


def _train(torch, diffusers, model, rng) -> dict:
    """One training step of the noise-prediction objective: clean images noised by a
    DDPMScheduler at given timesteps, MSE between the UNet's output and the noise,
    backward, AdamW step."""
    import torch.nn.functional as F

    model.train()
    scheduler = diffusers.DDPMScheduler(num_train_timesteps=1000)
    clean = torch.from_numpy(rng.standard_normal((2, 3, 16, 16)))
    noise = torch.from_numpy(rng.standard_normal((2, 3, 16, 16)))
    ts = torch.tensor([25, 640])
    noisy = scheduler.add_noise(clean, noise, ts)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    loss = F.mse_loss(model(noisy, ts).sample, noise)
    loss.backward()
    out = {"loss": _numpy(loss)}
    for k, p in model.named_parameters():
        out["grad." + k] = _numpy(p.grad)
    import diffusers.training_utils as training_utils

    ema = [training_utils.EMAModel(model.parameters(), decay=0.9, foreach=f)
           for f in (False, True)]
    opt.step()
    opt.zero_grad()
    for k, p in model.named_parameters():
        out["step." + k] = _numpy(p)
    for e in ema:
        e.step(model.parameters())
    for i, e in enumerate(ema):
        for (k, _), p in zip(model.named_parameters(), e.shadow_params):
            out[f"ema{i}.{k}"] = _numpy(p)
    out["snr"] = _numpy(training_utils.compute_snr(scheduler, ts))
    with torch.no_grad():
        out["after"] = _numpy(F.mse_loss(model(noisy, ts).sample, noise))
    return out
