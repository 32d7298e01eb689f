"""Shared cases of test_hf_transformers_on_ember.py: small Hugging Face models built from
configs, and what is run on them (forward, greedy generation, one training step).

The functions take the ``torch`` module as an argument and use only its public API, so the
same code runs on real PyTorch (in the test process) and on ember (in a subprocess where
``torch`` is aliased to ember by tests/torch_alias.py). Results are numpy arrays keyed
``"<case>/<what>"``; the PyTorch side also hands its weights over, so both sides run the
same model.
"""

from __future__ import annotations

import numpy as np

_ENC = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            vocab_size=100)
_DEC = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
            intermediate_size=64, vocab_size=100)
_NO_DROPOUT = dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
_GPT2 = dict(n_embd=32, n_layer=2, n_head=4, vocab_size=100, n_positions=64)
_GPT2_NO_DROPOUT = dict(resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)

# name -> (model_type, Auto class, config kwargs, inputs kind, task)
CASES = {
    "bert": ("bert", "AutoModel", _ENC, "text", "forward"),
    "gpt2": ("gpt2", "AutoModel", _GPT2, "text", "forward"),
    "llama": ("llama", "AutoModel", _DEC, "text", "forward"),
    "t5": ("t5", "AutoModel", dict(d_model=32, num_layers=2, num_heads=4, d_ff=64, d_kv=8,
                                   vocab_size=100), "seq2seq", "forward"),
    "roberta": ("roberta", "AutoModel", _ENC, "text", "forward"),
    "distilbert": ("distilbert", "AutoModel", dict(dim=32, n_layers=2, n_heads=4,
                                                   hidden_dim=64, vocab_size=100), "text",
                   "forward"),
    "vit": ("vit", "AutoModel", dict(hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=4, intermediate_size=64,
                                     image_size=32, patch_size=8), "image", "forward"),
    "mistral": ("mistral", "AutoModel", _DEC, "text", "forward"),
    "qwen2": ("qwen2", "AutoModel", _DEC, "text", "forward"),
    "whisper": ("whisper", "AutoModel", dict(
        d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64, vocab_size=100,
        num_mel_bins=16, max_source_positions=32, max_target_positions=32, pad_token_id=0,
        bos_token_id=1, eos_token_id=2, decoder_start_token_id=1), "audio", "forward"),
    "gpt2_generate": ("gpt2", "AutoModelForCausalLM", dict(_GPT2, bos_token_id=1,
                                                           eos_token_id=2), "prompt",
                      "generate"),
    "llama_generate": ("llama", "AutoModelForCausalLM", dict(_DEC, bos_token_id=1,
                                                             eos_token_id=2), "prompt",
                       "generate"),
    "llama_beam": ("llama", "AutoModelForCausalLM", dict(_DEC, bos_token_id=1,
                                                         eos_token_id=2), "prompt", "generate"),
    # flex attention on ember; PyTorch's side runs sdpa (torch's CPU flex_attention wants
    # torch.compile, and both compute the same masked softmax)
    "llama_flex": ("llama", "AutoModel", _DEC, "text", "forward"),
    "masks": (None, None, None, "mask", "masks"),
    # from_pretrained of a directory PyTorch's save_pretrained wrote (safetensors): the model
    # is built on the meta device and its weights assigned from the checkpoint
    "bert_pretrained": ("bert", "AutoModel", _ENC, "text", "pretrained"),
    "gpt2_pretrained": ("gpt2", "AutoModelForCausalLM", _GPT2, "text", "pretrained"),
    "llama_pretrained": ("llama", "AutoModelForCausalLM", _DEC, "text", "pretrained"),
    "bert_train": ("bert", "AutoModelForMaskedLM", dict(_ENC, **_NO_DROPOUT), "text",
                   "train"),
    "gpt2_train": ("gpt2", "AutoModelForCausalLM", dict(_GPT2, **_GPT2_NO_DROPOUT), "text",
                   "train"),
}


def make_inputs(kind: str) -> dict:
    """The numpy inputs of one case (the same on both sides)."""
    rng = np.random.default_rng(0)
    if kind == "image":
        return {"pixel_values": rng.standard_normal((2, 3, 32, 32)).astype(np.float32)}
    if kind == "audio":
        return {"input_features": rng.standard_normal((2, 16, 64)).astype(np.float32),
                "decoder_input_ids": np.array([[1, 5, 7]] * 2, dtype=np.int64)}
    if kind == "seq2seq":
        return {"input_ids": np.array([[11, 12, 13, 14], [21, 22, 23, 1]], dtype=np.int64),
                "attention_mask": np.array([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=np.int64),
                "decoder_input_ids": np.array([[0, 5], [0, 6]], dtype=np.int64)}
    if kind == "prompt":  # left-padded batch, as generation wants
        return {"input_ids": np.array([[0, 7, 8, 9], [11, 12, 13, 14]], dtype=np.int64),
                "attention_mask": np.array([[0, 1, 1, 1], [1, 1, 1, 1]], dtype=np.int64)}
    return {"input_ids": np.array([[5, 6, 7, 8, 9], [15, 16, 17, 18, 3]], dtype=np.int64),
            "attention_mask": np.array([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]], dtype=np.int64)}


def _numpy(t) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


def build(torch, transformers, name: str, state: dict | None):
    """The case's model from its config; with ``state`` (numpy arrays) its weights."""
    model_type, auto, kwargs, _, _ = CASES[name]
    config = transformers.AutoConfig.for_model(model_type, **kwargs)
    if name.endswith("_flex"):
        config._attn_implementation = "flex_attention" if torch.__name__ == "ember" else "sdpa"
    torch.manual_seed(0)
    model = getattr(transformers, auto).from_config(config)
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    return model


def run_case(torch, transformers, name: str, state: dict | None = None,
             ckpt_root: str | None = None):
    """``(results, state)`` of one case: numpy outputs keyed ``name/what``, and the weights
    the model ran with. ``pretrained`` cases use checkpoint directories under
    ``ckpt_root``: PyTorch's side writes them, ember's side loads them."""
    _, _, _, kind, task = CASES[name]
    if task == "masks":
        return {f"{name}/{k}": v for k, v in _masks(torch, transformers).items()}, {}
    if task == "pretrained":
        return _pretrained(torch, transformers, name, ckpt_root), {}
    model = build(torch, transformers, name, state)
    state = {k: _numpy(v) for k, v in model.state_dict().items()}
    inputs = {k: torch.from_numpy(v.copy()) for k, v in make_inputs(kind).items()}
    out = {}
    if task == "forward":
        model.eval()
        with torch.no_grad():
            res = model(**inputs)
        out["out0"] = _numpy(res[0])
        if getattr(res, "encoder_last_hidden_state", None) is not None:
            out["encoder"] = _numpy(res.encoder_last_hidden_state)
    elif task == "generate":
        model.eval()
        beams = dict(num_beams=2, num_return_sequences=2) if name.endswith("_beam") else {}
        seq = model.generate(**inputs, max_new_tokens=6, do_sample=False, pad_token_id=0,
                             **beams)
        out["tokens"] = _numpy(seq)
    else:
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
        res = model(**inputs, labels=inputs["input_ids"])
        res.loss.backward()
        out["loss"] = _numpy(res.loss)
        for k, p in model.named_parameters():
            if p.grad is not None:
                out["grad." + k] = _numpy(p.grad)
        opt.step()
        for k, p in model.named_parameters():
            out["step." + k] = _numpy(p)
    return {f"{name}/{k}": v for k, v in out.items()}, state


def _masks(torch, transformers) -> dict:
    """transformers' sdpa mask builder, with its vmap path (nested torch.vmap over batch,
    head, query and key indices) and its broadcast path, on a sliding-window, chunked,
    left-padded causal pattern; on ember also the flex-attention BlockMask of the same
    pattern (its dense form must equal PyTorch's sdpa mask)."""
    mu = transformers.masking_utils
    pad = torch.tensor([[0, 0, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 0, 0]]).bool()
    fn = mu.and_masks(mu.causal_mask_function, mu.sliding_window_overlay(4),
                      mu.chunked_overlay(3, torch.tensor([2, 0])))
    blocks = torch.tensor([[-1, 0, 0, 0, -1, 1, 1, -1, -1], [2, 2, -1, -1, 3, 3, 3, -1, -1]])
    images = mu.or_masks(mu.causal_mask_function, mu.blockwise_overlay(blocks))  # gemma3's
    out = {}
    for use_vmap in (True, False):
        m = mu.sdpa_mask(batch_size=2, q_length=6, kv_length=9, q_offset=3, mask_function=fn,
                         attention_mask=pad, allow_is_causal_skip=False, use_vmap=use_vmap)
        out[f"vmap{int(use_vmap)}"] = _numpy(m)
        m = mu.sdpa_mask(batch_size=2, q_length=9, kv_length=9, mask_function=images,
                         allow_is_causal_skip=False, use_vmap=use_vmap)
        out[f"blocks_vmap{int(use_vmap)}"] = _numpy(m)
    if torch.__name__ == "ember":  # PyTorch would torch.compile the BlockMask: ember only
        bm = mu.flex_attention_mask(batch_size=2, q_length=6, kv_length=9, q_offset=3,
                                    mask_function=fn, attention_mask=pad)
        out["flex_elements"] = _numpy(bm._element_mask())
    return out


def _pretrained(torch, transformers, name: str, ckpt_root: str) -> dict:
    """``from_pretrained`` of the case's checkpoint directory (written first by PyTorch's
    ``save_pretrained``), then a forward pass; also how many parameters or buffers are still
    on the meta device afterwards (none should be)."""
    import os

    _, auto, _, kind, _ = CASES[name]
    path = os.path.join(ckpt_root, name)
    if torch.__name__ == "torch":
        build(torch, transformers, name, None).save_pretrained(path)
    model = getattr(transformers, auto).from_pretrained(path)
    model.eval()
    inputs = {k: torch.from_numpy(v.copy()) for k, v in make_inputs(kind).items()}
    with torch.no_grad():
        res = model(**inputs)
    on_meta = sum(t.is_meta for t in list(model.parameters()) + list(model.buffers()))
    return {f"{name}/out0": _numpy(res[0]), f"{name}/on_meta": np.array(on_meta)}
