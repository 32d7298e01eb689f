"""ember.audio.models against torchaudio's outputs and gradients (golden file made by
tools/fixtures/audio_models_golden.py with torchaudio, from seeded weights), plus
state_dict keys, shapes, errors and a training step."""

import sys
from pathlib import Path

import ember
import numpy as np
import pytest
from ember.audio import models

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "fixtures"))
from audio_models_golden import CASES, model_inputs, output_weights  # noqa: E402
from vision_recipe import seeded_state  # noqa: E402

GOLDEN = Path(__file__).resolve().parent / "golden" / "models.npz"


@pytest.fixture(scope="module")
def golden():
    with np.load(GOLDEN) as f:
        return {k: f[k] for k in f.files}


def build(name):
    ctor, kwargs, shape, seed = CASES[name]
    return getattr(models, ctor)(**kwargs), shape, seed


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torchaudio(golden, name):
    model, shape, seed = build(name)
    sd = model.state_dict()
    assert list(sd) == list(golden[f"{name}/keys"])
    state = seeded_state({k: tuple(v.shape) for k, v in sd.items()}, seed)
    model.load_state_dict({k: ember.from_numpy(v) for k, v in state.items()})
    x_np, rng = model_inputs(shape, seed)
    x = ember.from_numpy(x_np).requires_grad_(True)
    y = model(x)
    expected = golden[f"{name}/output"]
    assert tuple(y.shape) == expected.shape and y.dtype == ember.float32
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-4, atol=1e-4)
    w = ember.from_numpy(output_weights(rng, expected.shape))
    (y * w).sum().backward()
    scale = max(1.0, float(np.abs(golden[f"{name}/grad_input"]).max()))
    np.testing.assert_allclose(x.grad.numpy(), golden[f"{name}/grad_input"], rtol=1e-3,
                               atol=1e-4 * scale)
    params = dict(model.named_parameters())
    prefix = f"{name}/grad/"
    checked = [k[len(prefix):] for k in golden if k.startswith(prefix)]
    assert len(checked) == 2
    for key in checked:
        ref = golden[prefix + key]
        np.testing.assert_allclose(params[key].grad.numpy(), ref, rtol=1e-3,
                                   atol=1e-4 * max(1.0, float(np.abs(ref).max())))


def test_wav2letter_shapes_and_keys():
    m = models.Wav2Letter()
    keys = list(m.state_dict())
    assert keys[:2] == ["acoustic_model.0.0.weight", "acoustic_model.0.0.bias"]
    assert keys[-2:] == ["acoustic_model.1.20.weight", "acoustic_model.1.20.bias"]
    assert len(keys) == 24
    assert sum(p.numel() for p in m.parameters()) == 26_211_290  # torchaudio's count
    with ember.no_grad():
        y = m(ember.randn(3, 1, 1600))
    assert tuple(y.shape) == (3, 40, 6)
    np.testing.assert_allclose(y.exp().sum(1).numpy(), 1.0, rtol=1e-5)
    spec = models.Wav2Letter(num_classes=5, input_type="power_spectrum", num_features=201)
    assert list(spec.state_dict())[0] == "acoustic_model.0.weight"
    assert tuple(spec.acoustic_model[0].weight.shape) == (250, 201, 48)
    with pytest.raises(ValueError, match="input_type"):
        models.Wav2Letter(input_type="spectrogram")


def test_conv_tasnet_base_structure():
    m = models.conv_tasnet_base(num_sources=3)
    sd = m.state_dict()
    assert len(sd) == 343
    assert tuple(sd["encoder.weight"].shape) == (512, 1, 16)
    assert tuple(sd["decoder.weight"].shape) == (512, 1, 16)
    assert "mask_generator.conv_layers.23.res_out.weight" not in sd  # last block: no residual
    assert "mask_generator.conv_layers.22.res_out.weight" in sd
    assert tuple(sd["mask_generator.output_conv.weight"].shape) == (1536, 128, 1)
    assert m.mask_generator.receptive_field == 3 + 2 * (2 ** 8 - 2) + 2 * 2 * (2 ** 8 - 1)
    with pytest.raises(ValueError, match="channel==1"):
        m(ember.zeros(1, 2, 100))
    with pytest.raises(ValueError, match="activation"):
        models.ConvTasNet(msk_activate="tanh")


@pytest.mark.parametrize("frames", [64, 65, 67, 72])
def test_conv_tasnet_keeps_length(frames):
    m = models.ConvTasNet(num_sources=2, enc_kernel_size=16, enc_num_feats=8, msk_num_feats=4,
                          msk_num_hidden_feats=6, msk_num_layers=2, msk_num_stacks=1)
    with ember.no_grad():
        assert tuple(m(ember.randn(2, 1, frames)).shape) == (2, 2, frames)


def test_training_steps_reduce_loss():
    ember.manual_seed(0)
    m = models.ConvTasNet(num_sources=2, enc_kernel_size=8, enc_num_feats=16, msk_num_feats=8,
                          msk_num_hidden_feats=16, msk_num_layers=2, msk_num_stacks=1)
    t = ember.linspace(0, 1, 256)
    s1 = (t * 2 * 3.14159 * 20).sin().view(1, 1, -1)
    s2 = 0.5 * (t * 2 * 3.14159 * 3).sin().view(1, 1, -1)
    target = ember.cat([s1, s2], 1)
    opt = ember.optim.Adam(m.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        opt.zero_grad()
        loss = ((m(s1 + s2) - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses


def test_wav2letter_ctc_training_step():
    ember.manual_seed(0)
    m = models.Wav2Letter(num_classes=6, input_type="mfcc", num_features=8)
    x = ember.randn(2, 8, 24)
    targets = ember.tensor([[1, 2, 3], [4, 5, 1]])
    opt = ember.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
    ctc = ember.nn.CTCLoss()
    losses = []
    for _ in range(5):
        opt.zero_grad()
        logp = m(x)  # (N, C, T)
        loss = ctc(logp.permute(2, 0, 1), targets, ember.tensor([12, 12]),
                   ember.tensor([3, 3]))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(np.isfinite(losses)) and losses[-1] < losses[0], losses
