"""ember.audio.models.Wav2Vec2Model (wav2vec 2.0 / HuBERT) against Hugging Face transformers
models converted with ``import_huggingface_model``: same weights, same waveform, same
outputs (forward, extract_features, with and without padding), plus torchaudio's
``state_dict`` names, the presets' sizes and the errors on bad input."""

import functools
import os

import ember
import numpy as np
import pytest
import torch
from ember.audio import models
from ember.audio.models.wav2vec2.utils import import_huggingface_model
from transformers import (
    HubertConfig,
    HubertForCTC,
    HubertModel,
    Wav2Vec2Config,
    Wav2Vec2ForCTC,
    Wav2Vec2Model,
)

DEVICE = os.environ.get("EMBER_TEST_DEVICE", "cpu")
if DEVICE.startswith("cuda") and not ember.cuda.is_available():
    pytest.skip("EMBER_TEST_DEVICE=cuda but CUDA is not available", allow_module_level=True)

ATOL = 1e-4
SMALL = dict(hidden_size=32, num_hidden_layers=2, intermediate_size=37, conv_dim=(8, 12, 16),
             conv_kernel=(10, 3, 2), conv_stride=(5, 2, 2), num_conv_pos_embedding_groups=4,
             vocab_size=11)
# name: (transformers class, config class, extra config)
CASES = {
    "w2v_group_postnorm": (Wav2Vec2Model, Wav2Vec2Config,
                           dict(feat_extract_norm="group", do_stable_layer_norm=False,
                                conv_bias=False, num_attention_heads=4,
                                num_conv_pos_embeddings=16)),
    "w2v_layer_prenorm_ctc": (Wav2Vec2ForCTC, Wav2Vec2Config,
                              dict(feat_extract_norm="layer", do_stable_layer_norm=True,
                                   conv_bias=True, num_attention_heads=2,
                                   num_conv_pos_embeddings=9)),
    "hubert_group_ctc": (HubertForCTC, HubertConfig,
                         dict(feat_extract_norm="group", do_stable_layer_norm=False,
                              conv_bias=False, num_attention_heads=4,
                              num_conv_pos_embeddings=15)),
    "hubert_layer_prenorm": (HubertModel, HubertConfig,
                             dict(feat_extract_norm="layer", do_stable_layer_norm=True,
                                  conv_bias=False, num_attention_heads=2,
                                  num_conv_pos_embeddings=16)),
}
WAVE_LEN = 1200
LENGTHS = [1200, 890]


def hf_model(name, **overrides):
    """A seeded transformers model of ``CASES[name]``, its parameters jittered so that every
    LayerNorm / GroupNorm weight matters, in eval mode."""
    cls, cfg_cls, extra = CASES[name]
    cfg = cfg_cls(**{**SMALL, **extra, **overrides})
    torch.manual_seed(0)
    model = cls(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return model


def waveform():
    return np.random.default_rng(0).standard_normal((2, WAVE_LEN)).astype(np.float32)


def to_ember(x):
    return ember.from_numpy(x).to(DEVICE)


def hf_outputs(model, wave, lengths=None):
    """(last output: logits or last_hidden_state, hidden_states) of a transformers model."""
    kwargs = {}
    if lengths is not None:
        mask = np.arange(wave.shape[1])[None, :] < np.asarray(lengths)[:, None]
        kwargs["attention_mask"] = torch.from_numpy(mask.astype(np.int64))
    with torch.no_grad():
        out = model(torch.from_numpy(wave), output_hidden_states=True, **kwargs)
    last = out.logits if hasattr(out, "logits") else out.last_hidden_state
    return last.numpy(), [h.numpy() for h in out.hidden_states]


def converted(hf):
    return import_huggingface_model(hf).to(DEVICE).eval()


@functools.cache
def pair(name):
    """``(transformers model, converted ember model)`` of ``CASES[name]``, shared by the
    tests that only run them (keeps the file fast)."""
    hf = hf_model(name)
    return hf, converted(hf)


def assert_close(actual, expected):
    """Compares an ember output with the transformers one; returns the max abs difference."""
    actual = actual.detach().cpu().numpy()
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=ATOL)
    return float(np.abs(actual - expected).max())


@pytest.mark.parametrize("name", list(CASES))
def test_forward_matches_transformers(name):
    hf, model = pair(name)
    wave = waveform()
    expected, _ = hf_outputs(hf, wave)
    with ember.no_grad():
        out, lengths = model(to_ember(wave))
    assert lengths is None and out.dtype == ember.float32
    assert_close(out, expected)


@pytest.mark.parametrize("name", list(CASES))
def test_forward_with_lengths_matches_transformers_attention_mask(name):
    hf, model = pair(name)
    wave = waveform()
    expected, _ = hf_outputs(hf, wave, LENGTHS)
    with ember.no_grad():
        out, lengths = model(to_ember(wave), ember.tensor(LENGTHS, device=DEVICE))
    frames = _hf_frames(hf, LENGTHS)
    assert lengths.cpu().tolist() == frames
    assert frames[1] < out.shape[1]  # the second item really is padded
    assert_close(out, expected)  # padded frames too: both zero them and mask them as keys
    with ember.no_grad():
        unmasked, _ = model(to_ember(wave))
    diff = (out - unmasked)[1, :frames[1]].abs().max().item()
    assert diff > 1e-3  # the mask changes the valid frames of the padded item


def _hf_frames(hf, lengths):
    base = getattr(hf, "wav2vec2", None) or getattr(hf, "hubert", None) or hf
    return base._get_feat_extract_output_lengths(torch.tensor(lengths)).tolist()


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("padded", [False, True])
def test_extract_features_matches_hidden_states(name, padded):
    hf, model = pair(name)
    wave = waveform()
    _, hidden = hf_outputs(hf, wave, LENGTHS if padded else None)
    lengths = ember.tensor(LENGTHS, device=DEVICE) if padded else None
    with ember.no_grad():
        feats, out_lengths = model.extract_features(to_ember(wave), lengths)
        first, _ = model.extract_features(to_ember(wave), lengths, num_layers=1)
    assert len(feats) == 2 and len(first) == 1
    assert (out_lengths is None) == (not padded)
    # transformers 5 records hidden_states = (transformer input, output of layer 1, ...,
    # output of the last layer), the raw layer outputs as extract_features returns them
    # (with pre-norm layers the final LayerNorm is only in last_hidden_state)
    assert len(hidden) == len(feats) + 1
    diffs = [assert_close(feat, hidden[i + 1]) for i, feat in enumerate(feats)]
    assert_close(first[0], hidden[1])
    assert max(diffs) < ATOL


def test_gradients_match_transformers():
    hf = hf_model("w2v_layer_prenorm_ctc")
    model = converted(hf)
    wave = waveform()
    w = np.random.default_rng(1).standard_normal((2, 59, 11)).astype(np.float32)
    x_t = torch.from_numpy(wave).requires_grad_(True)
    (hf(x_t).logits * torch.from_numpy(w)).sum().backward()
    x = to_ember(wave).requires_grad_(True)
    out, _ = model(x)
    (out * to_ember(w)).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), x_t.grad.numpy(), rtol=1e-3, atol=1e-4)
    params = dict(model.named_parameters())
    hf_params = dict(hf.named_parameters())
    pairs = {
        "encoder.transformer.pos_conv_embed.conv.parametrizations.weight.original1":
            "wav2vec2.encoder.pos_conv_embed.conv.parametrizations.weight.original1",
        "encoder.transformer.layers.0.attention.q_proj.weight":
            "wav2vec2.encoder.layers.0.attention.q_proj.weight",
        "feature_extractor.conv_layers.0.conv.weight":
            "wav2vec2.feature_extractor.conv_layers.0.conv.weight",
    }
    for ours, theirs in pairs.items():
        ref = hf_params[theirs].grad.numpy()
        np.testing.assert_allclose(params[ours].grad.cpu().numpy(), ref, rtol=1e-3,
                                   atol=1e-4 * max(1.0, float(np.abs(ref).max())))


def _layer_keys(i):
    p = f"encoder.transformer.layers.{i}."
    names = [f"attention.{n}_proj.{w}" for n in ("k", "v", "q", "out") for w in ("weight", "bias")]
    names += ["layer_norm.weight", "layer_norm.bias"]
    names += [f"feed_forward.{n}_dense.{w}" for n in ("intermediate", "output")
              for w in ("weight", "bias")]
    names += ["final_layer_norm.weight", "final_layer_norm.bias"]
    return [p + n for n in names]


def test_state_dict_keys_are_torchaudios():
    model = models.wav2vec2_model(
        extractor_mode="group_norm", extractor_conv_layer_config=[(8, 10, 5), (8, 3, 2)],
        extractor_conv_bias=False, encoder_embed_dim=16, encoder_projection_dropout=0.1,
        encoder_pos_conv_kernel=8, encoder_pos_conv_groups=2, encoder_num_layers=2,
        encoder_num_heads=2, encoder_attention_dropout=0.1, encoder_ff_interm_features=24,
        encoder_ff_interm_dropout=0.1, encoder_dropout=0.1, encoder_layer_norm_first=False,
        encoder_layer_drop=0.1, aux_num_out=5)
    expected = [
        "feature_extractor.conv_layers.0.layer_norm.weight",
        "feature_extractor.conv_layers.0.layer_norm.bias",
        "feature_extractor.conv_layers.0.conv.weight",
        "feature_extractor.conv_layers.1.conv.weight",
        "encoder.feature_projection.layer_norm.weight",
        "encoder.feature_projection.layer_norm.bias",
        "encoder.feature_projection.projection.weight",
        "encoder.feature_projection.projection.bias",
        "encoder.transformer.pos_conv_embed.conv.bias",
        "encoder.transformer.pos_conv_embed.conv.parametrizations.weight.original0",
        "encoder.transformer.pos_conv_embed.conv.parametrizations.weight.original1",
        "encoder.transformer.layer_norm.weight",
        "encoder.transformer.layer_norm.bias",
        *_layer_keys(0), *_layer_keys(1),
        "aux.weight", "aux.bias",
    ]
    sd = model.state_dict()
    assert list(sd) == expected
    assert tuple(sd["encoder.transformer.pos_conv_embed.conv.parametrizations.weight."
                    "original0"].shape) == (1, 1, 8)
    assert tuple(sd["encoder.transformer.pos_conv_embed.conv.parametrizations.weight."
                    "original1"].shape) == (16, 8, 8)
    layer_mode = models.wav2vec2_model("layer_norm", [(8, 10, 5), (8, 3, 2)], True, 16, 0.0,
                                       8, 2, 1, 2, 0.0, 24, 0.0, 0.0, True, 0.0, None)
    keys = list(layer_mode.state_dict())
    assert keys[:8] == [
        "feature_extractor.conv_layers.0.layer_norm.weight",
        "feature_extractor.conv_layers.0.layer_norm.bias",
        "feature_extractor.conv_layers.0.conv.weight",
        "feature_extractor.conv_layers.0.conv.bias",
        "feature_extractor.conv_layers.1.layer_norm.weight",
        "feature_extractor.conv_layers.1.layer_norm.bias",
        "feature_extractor.conv_layers.1.conv.weight",
        "feature_extractor.conv_layers.1.conv.bias"]
    assert not any(k.startswith("aux") for k in keys)


def test_legacy_weight_g_weight_v_keys_load():
    """Older torchaudio / transformers checkpoints hold ``conv.weight_g`` / ``weight_v``."""
    hf = hf_model("w2v_group_postnorm")
    model = converted(hf)
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    prefix = "encoder.transformer.pos_conv_embed.conv."
    sd[prefix + "weight_g"] = sd.pop(prefix + "parametrizations.weight.original0")
    sd[prefix + "weight_v"] = sd.pop(prefix + "parametrizations.weight.original1")
    fresh = models.wav2vec2_model(**_small_factory_args(hf)).to(DEVICE).eval()
    fresh.load_state_dict(sd)
    wave = to_ember(waveform())
    with ember.no_grad():
        a, _ = model(wave)
        b, _ = fresh(wave)
    np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())


def test_importer_takes_any_object_with_config_and_numpy_state_dict():
    hf, model = pair("hubert_group_ctc")

    class Plain:
        config = hf.config

        def state_dict(self):
            return {k: v.detach().numpy() for k, v in hf.state_dict().items()}

    imported = import_huggingface_model(Plain()).to(DEVICE).eval()
    assert list(imported.state_dict()) == list(model.state_dict())
    wave = to_ember(waveform())
    with ember.no_grad():
        a, _ = model(wave)
        b, _ = imported(wave)
    np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())


def _small_factory_args(hf):
    from ember.audio.models.wav2vec2.utils.import_huggingface import _get_config

    return {**_get_config(hf.config), "aux_num_out": None}


# Parameter counts (aux excluded) of each preset, equal to those of the transformers models
# of the same configuration (Wav2Vec2Model / HubertModel, less masked_spec_embed), counted
# with torch 2.13 / transformers 5.24; built here on the meta device (no memory, no init).
PRESET_PARAMS = {
    "wav2vec2_base": 94_370_944,
    "wav2vec2_large": 315_427_968,
    "wav2vec2_large_lv60k": 315_437_696,
    "hubert_base": 94_370_944,
    "hubert_large": 315_434_112,
    "hubert_xlarge": 962_492_544,
}


@pytest.mark.parametrize("name", list(PRESET_PARAMS))
def test_preset_parameter_counts(name):
    with ember.device("meta"):
        model = getattr(models, name)()
        with_aux = getattr(models, name)(aux_num_out=32)
    assert sum(p.numel() for p in model.parameters()) == PRESET_PARAMS[name]
    dim = model.encoder.feature_projection.projection.out_features
    assert sum(p.numel() for p in with_aux.parameters()) == PRESET_PARAMS[name] + 32 * (dim + 1)
    assert model.aux is None and tuple(with_aux.aux.weight.shape) == (32, dim)


def test_preset_structure_and_defaults():
    with ember.device("meta"):
        base = models.wav2vec2_base()
        lv60k = models.wav2vec2_large_lv60k()
        hubert = models.hubert_base()
    layers = base.encoder.transformer.layers
    assert len(layers) == 12 and layers[0].attention.num_heads == 12
    assert not layers[0].layer_norm_first and base.encoder.transformer.layer_norm_first
    assert base.feature_extractor.conv_layers[0].layer_norm is not None
    assert base.feature_extractor.conv_layers[1].layer_norm is None
    assert base.feature_extractor.conv_layers[0].conv.bias is None
    assert [(c.conv.out_channels, c.kernel_size, c.stride)
            for c in base.feature_extractor.conv_layers] == \
        [(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512, 2, 2)] * 2
    assert base.encoder.transformer.pos_conv_embed.conv.groups == 16
    assert base.encoder.transformer.pos_conv_embed.num_remove == 1  # kernel 128 is even
    assert base.encoder.transformer.layer_drop == 0.1
    assert lv60k.encoder.transformer.layers[0].layer_norm_first
    assert lv60k.feature_extractor.conv_layers[6].conv.bias is not None
    assert lv60k.encoder.transformer.layers[0].attention.dropout == 0.0
    assert hubert.encoder.transformer.layer_drop == 0.05
    assert hubert.encoder.transformer.layers[0].feed_forward.intermediate_dropout.p == 0.0


def test_bad_inputs_raise_clear_errors():
    _, model = pair("w2v_group_postnorm")
    with pytest.raises(ValueError, match=r"2D \(batch, time\).*\[2, 1, 1200\]"):
        model(to_ember(waveform()[:, None, :]))
    with pytest.raises(ValueError, match=r"2D \(batch, time\)"):
        model.extract_features(to_ember(waveform()[0]))
    with pytest.raises(ValueError, match="lengths"):
        model(to_ember(waveform()), ember.tensor([[1200, 890]], device=DEVICE))
    with pytest.raises(ValueError, match="lengths"):
        model(to_ember(waveform()), ember.tensor([1200], device=DEVICE))
    with pytest.raises(ValueError, match=r"num_layers.*\[1, 2\]"):
        model.extract_features(to_ember(waveform()), num_layers=3)
    with pytest.raises(ValueError, match="norm mode"):
        models.wav2vec2_model("batch_norm", [(8, 10, 5)], False, 16, 0.0, 8, 2, 1, 2, 0.0, 24,
                              0.0, 0.0, False, 0.0, None)
    with pytest.raises(ValueError, match="not divisible"):
        models.wav2vec2_model("group_norm", [(8, 10, 5)], False, 16, 0.0, 8, 2, 1, 3, 0.0, 24,
                              0.0, 0.0, False, 0.0, None)


def test_importer_rejects_what_torchaudio_cannot_express():
    with pytest.raises(ValueError, match="hidden_act='relu'"):
        import_huggingface_model(hf_model("w2v_group_postnorm", hidden_act="relu"))
    with pytest.raises(ValueError, match="feat_proj_layer_norm"):
        import_huggingface_model(hf_model("hubert_layer_prenorm", feat_proj_layer_norm=False))


def test_short_input_gives_zero_lengths_and_layer_drop_trains():
    model = converted(hf_model("w2v_group_postnorm"))
    with ember.no_grad():
        _, lengths = model(to_ember(waveform()), ember.tensor([1200, 5], device=DEVICE))
    assert lengths.cpu().tolist() == [59, 0]
    model.train()
    model.encoder.transformer.layer_drop = 1.0  # every layer dropped
    out, _ = model(to_ember(waveform()))
    out.sum().backward()
    assert model.encoder.transformer.layers[0].attention.q_proj.weight.grad is None
    assert model.encoder.feature_projection.projection.weight.grad is not None
