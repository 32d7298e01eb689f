"""from_pretrained / save_pretrained: folders written by transformers (safetensors and
pytorch_model.bin) load into ember; ember's folders load back; publishers' quirks (prefixes,
gamma/beta, attn.bias buffers, missing lm_head) are handled; hub names download through a
local server."""

import json
import os

import ember
import numpy as np
import pytest
from ember.text import models as M
from ember.text.models import hub
from text_helpers import random_batch, to_ember, to_torch

GPT = dict(vocab_size=99, n_embd=32, n_layer=2, n_head=4, n_positions=64, bos_token_id=98,
           eos_token_id=98)
BERT = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
            intermediate_size=37, max_position_embeddings=64)


def _ref(transformers, name, cfg):
    config_cls = transformers.GPT2Config if name.startswith("GPT2") else transformers.BertConfig
    return getattr(transformers, name)(config_cls(**cfg)).eval()


def _logits(model, ids, torch_model=False):
    if torch_model:
        import torch

        with torch.no_grad():
            out = model(to_torch(ids))
    else:
        with ember.no_grad():
            out = model(to_ember(ids))
    value = out.logits if hasattr(out, "logits") and out.logits is not None \
        else out.last_hidden_state
    return value.detach().numpy()


@pytest.mark.parametrize("safe", [True, False])
@pytest.mark.parametrize("name,cfg", [("GPT2LMHeadModel", GPT), ("BertForMaskedLM", BERT),
                                      ("BertModel", BERT)])
def test_loads_transformers_folder(transformers, tmp_path, name, cfg, safe):
    ref = _ref(transformers, name, cfg)
    if safe:
        ref.save_pretrained(tmp_path)
    else:  # pytorch_model.bin: transformers 4 wrote it with torch.save (tied key dropped);
        # transformers 5 writes only safetensors, so the test writes it the same way
        import torch

        ref.config.save_pretrained(tmp_path)
        sd = {k: v for k, v in ref.state_dict().items() if k != "lm_head.weight"}
        torch.save(sd, os.path.join(tmp_path, "pytorch_model.bin"))
    assert os.path.exists(tmp_path / ("model.safetensors" if safe else "pytorch_model.bin"))
    ours, info = getattr(M, name).from_pretrained(tmp_path, output_loading_info=True)
    assert info == {"missing_keys": [], "unexpected_keys": [], "mismatched_keys": []}
    assert not ours.training
    ids = random_batch(0, 2, 6, 98)
    np.testing.assert_allclose(_logits(ours, ids), _logits(ref, ids, True), rtol=1e-4,
                               atol=1e-5)


@pytest.mark.parametrize("safe", [True, False])
def test_ember_folder_loads_in_transformers(transformers, tmp_path, safe):
    ember.manual_seed(0)
    ours = M.GPT2LMHeadModel(M.GPT2Config(**GPT)).eval()
    ours.save_pretrained(tmp_path, safe_serialization=safe)
    files = set(os.listdir(tmp_path))
    assert "config.json" in files
    assert ("model.safetensors" in files) == safe and ("pytorch_model.bin" in files) != safe
    if safe:
        ref = transformers.GPT2LMHeadModel.from_pretrained(tmp_path).eval()
    else:
        import torch

        ref = transformers.GPT2LMHeadModel(transformers.GPT2Config.from_pretrained(tmp_path))
        sd = torch.load(os.path.join(tmp_path, "pytorch_model.bin"), weights_only=True)
        ref.load_state_dict(sd, strict=False)
        ref.tie_weights()
        ref.eval()
    ids = random_batch(1, 2, 6, 98)
    np.testing.assert_allclose(_logits(ours, ids), _logits(ref, ids, True), rtol=1e-4,
                               atol=1e-5)
    again = M.GPT2LMHeadModel.from_pretrained(tmp_path)
    np.testing.assert_allclose(_logits(again, ids), _logits(ours, ids), rtol=1e-6)
    assert again.lm_head.weight is again.transformer.wte.weight


def test_publisher_quirks(transformers, tmp_path):
    """A base-model checkpoint without prefix, with GPT-2's attn.bias/masked_bias buffers
    and no lm_head, loads into GPT2LMHeadModel; BERT's gamma/beta names load too."""
    from ember.serialization import save_safetensors

    ref = _ref(transformers, "GPT2LMHeadModel", GPT)
    ref.config.save_pretrained(tmp_path)
    state = {k[len("transformer."):]: ember.from_numpy(v.numpy().copy())
             for k, v in ref.state_dict().items() if k.startswith("transformer.")}
    tri = np.tril(np.ones((64, 64), np.float32))[None, None]
    for i in range(2):
        state[f"h.{i}.attn.bias"] = ember.from_numpy(tri)
        state[f"h.{i}.attn.masked_bias"] = ember.tensor(-1e4)
    save_safetensors(state, tmp_path / "model.safetensors")
    ours, info = M.GPT2LMHeadModel.from_pretrained(tmp_path, output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    ids = random_batch(2, 1, 5, 98)
    np.testing.assert_allclose(_logits(ours, ids), _logits(ref, ids, True), rtol=1e-4,
                               atol=1e-5)
    trunk = M.GPT2Model.from_pretrained(tmp_path)  # same file into the base model
    assert trunk.h[0].attn.c_attn.weight.shape == (32, 96)

    bref = _ref(transformers, "BertForSequenceClassification", BERT)
    bdir = tmp_path / "bert"
    bref.config.save_pretrained(bdir)
    bstate = {}
    for k, v in bref.state_dict().items():
        k = k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias",
                                                                     "LayerNorm.beta")
        bstate[k] = ember.from_numpy(v.numpy().copy())
    save_safetensors(bstate, bdir / "model.safetensors")
    bours = M.BertForSequenceClassification.from_pretrained(bdir)
    np.testing.assert_allclose(_logits(bours, ids), _logits(bref, ids, True), rtol=1e-4,
                               atol=1e-5)


def test_new_head_is_initialised_and_reported(tmp_path):
    base = M.BertModel(M.BertConfig(**BERT))
    base.save_pretrained(tmp_path)
    with pytest.warns(UserWarning, match="newly initialized"):
        model, info = M.BertForSequenceClassification.from_pretrained(
            tmp_path, num_labels=4, output_loading_info=True)
    assert info["missing_keys"] == ["classifier.weight", "classifier.bias"]
    assert model.classifier.weight.shape == (4, 32)
    assert float(model.classifier.weight.detach().abs().sum()) > 0  # drawn, not left empty
    np.testing.assert_array_equal(model.bert.embeddings.word_embeddings.weight.detach().numpy(),
                                  base.embeddings.word_embeddings.weight.detach().numpy())


def test_auto_classes(tmp_path):
    M.GPT2LMHeadModel(M.GPT2Config(**GPT)).save_pretrained(tmp_path)
    assert isinstance(M.AutoConfig.from_pretrained(tmp_path), M.GPT2Config)
    assert type(M.AutoModelForCausalLM.from_pretrained(tmp_path)) is M.GPT2LMHeadModel
    assert type(M.AutoModel.from_pretrained(tmp_path)) is M.GPT2Model


def test_hub_name_downloads_pinned_revision(server, monkeypatch, tmp_path):
    """A model name resolves to the pinned commit's files (here on a local server)."""
    folder = tmp_path / "src"
    M.GPT2LMHeadModel(M.GPT2Config(**GPT)).save_pretrained(folder)
    rev = hub.PINNED_REVISIONS["gpt2"]
    for name in ("config.json", "model.safetensors"):
        server.add(f"/gpt2/resolve/{rev}/{name}", (folder / name).read_bytes())
    monkeypatch.setenv("EMBER_HF_ENDPOINT", server.url(""))
    model = M.GPT2LMHeadModel.from_pretrained("gpt2")
    assert model.config.n_layer == 2
    cached = os.path.join(hub.model_folder("gpt2"), "model.safetensors")
    assert os.path.isfile(cached) and rev in cached
    hits = len(server.requests)
    M.GPT2LMHeadModel.from_pretrained("gpt2")  # second time: from the cache
    assert len(server.requests) == hits
    assert hub.hub_url("gpt2", "config.json").endswith(f"/gpt2/resolve/{rev}/config.json")
    with pytest.raises(FileNotFoundError):
        M.BertModel.from_pretrained(str(tmp_path / "nowhere"))


def test_config_json_is_transformers_readable(transformers, tmp_path):
    M.BertForSequenceClassification(M.BertConfig(**BERT, num_labels=3)).save_pretrained(
        tmp_path)
    data = json.loads((tmp_path / "config.json").read_text())
    assert data["model_type"] == "bert" and data["architectures"] == [
        "BertForSequenceClassification"]
    cfg = transformers.BertConfig.from_pretrained(tmp_path)
    assert cfg.num_labels == 3 and cfg.hidden_size == 32


def test_sharded_checkpoint_with_index(tmp_path):
    """``model.safetensors.index.json`` naming several shard files is read shard by shard."""
    from ember.serialization import save_safetensors

    ember.manual_seed(1)
    model = M.GPT2LMHeadModel(M.GPT2Config(**GPT)).eval()
    model.config.save_pretrained(tmp_path)
    state = {k: v for k, v in model.state_dict().items() if k != "lm_head.weight"}
    keys = list(state)
    shards = {"model-00001-of-00002.safetensors": keys[:7],
              "model-00002-of-00002.safetensors": keys[7:]}
    weight_map = {}
    for name, ks in shards.items():
        save_safetensors({k: state[k] for k in ks}, tmp_path / name)
        weight_map.update({k: name for k in ks})
    (tmp_path / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {}, "weight_map": weight_map}))
    again, info = M.GPT2LMHeadModel.from_pretrained(tmp_path, output_loading_info=True)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    ids = random_batch(5, 1, 4, 98)
    np.testing.assert_allclose(_logits(again, ids), _logits(model, ids), rtol=1e-6)
