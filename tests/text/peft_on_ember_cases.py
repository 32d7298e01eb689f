"""Shared cases of test_peft_accelerate_on_ember.py: LoRA fine-tuning with Hugging Face
``peft`` on small ``transformers`` models built from configs, and a training loop driven by
``accelerate``'s ``Accelerator``.

As in hf_on_ember_cases.py, the functions take the ``torch`` module as an argument and use
only public APIs, so the same code runs on real PyTorch (in the test process) and on ember
(in a subprocess where ``torch`` is ember, through tests/torch_alias.py). Results are numpy
arrays keyed ``"<case>/<what>"``; PyTorch's side also hands over the weights it started
from, so both sides train the same model. Everything runs in float64, so the two sides
agree to round-off.
"""

from __future__ import annotations

import os

import numpy as np

_LLAMA = dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
              intermediate_size=32, vocab_size=64, max_position_embeddings=32)
_GPT2 = dict(n_embd=16, n_layer=2, n_head=4, vocab_size=64, n_positions=32, resid_pdrop=0.0,
             embd_pdrop=0.0, attn_pdrop=0.0)
_BERT = dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=4, intermediate_size=32,
             vocab_size=64, max_position_embeddings=32, hidden_dropout_prob=0.0,
             attention_probs_dropout_prob=0.0, num_labels=3)

# name -> (model_type, Auto class, config kwargs, LoRA target modules, peft task type)
LORA_CASES = {
    "lora_llama": ("llama", "AutoModelForCausalLM", _LLAMA, ["q_proj", "v_proj", "down_proj"],
                   "CAUSAL_LM"),
    # GPT-2's attention is a transformers Conv1D (weight stored transposed): fan_in_fan_out
    "lora_gpt2": ("gpt2", "AutoModelForCausalLM", _GPT2, ["c_attn", "c_proj"], "CAUSAL_LM"),
    # a sequence classifier: peft also trains a copy of the head (modules_to_save)
    "lora_bert_cls": ("bert", "AutoModelForSequenceClassification", _BERT, ["query", "value"],
                      "SEQ_CLS"),
}
CASES = [*LORA_CASES, "accelerate_loop"]
STEPS = 3  # AdamW steps of the LoRA cases


def _numpy(t) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


def _inputs(torch, name: str) -> dict:
    ids = np.array([[5, 6, 7, 8, 9, 10], [15, 16, 17, 18, 3, 0]], dtype=np.int64)
    mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]], dtype=np.int64)
    out = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
    if LORA_CASES[name][4] == "SEQ_CLS":
        out["labels"] = torch.tensor([2, 0])
    else:
        out["labels"] = torch.from_numpy(np.where(mask == 1, ids, -100))
    return out


def run_case(torch, name: str, state: dict | None = None, ckpt_root: str | None = None):
    """``(results, state)`` of one case: numpy outputs keyed ``name/what``, and the weights
    it started from. Checkpoints go under ``ckpt_root/<side>/<name>``."""
    if name == "accelerate_loop":
        return _accelerate_loop(torch, state, ckpt_root)
    return _lora(torch, name, state, ckpt_root)


def _base_model(torch, name: str, base_state: dict | None):
    import transformers

    model_type, auto, kwargs, _, _ = LORA_CASES[name]
    config = transformers.AutoConfig.for_model(model_type, **kwargs)
    torch.manual_seed(0)
    model = getattr(transformers, auto).from_config(config).to(torch.float64)
    if base_state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in base_state.items()})
    return model


def _loss(torch, model, inputs: dict, task: str):
    """The model's own loss for the classifier; for the language models the next-token
    cross entropy in float64 (transformers' causal-LM loss rounds the logits to float32)."""
    if task == "SEQ_CLS":
        return model(**inputs).loss
    labels = inputs["labels"]
    logits = model(**{k: v for k, v in inputs.items() if k != "labels"}).logits
    return torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]),
                                             labels[:, 1:].reshape(-1), ignore_index=-100)


def _lora(torch, name: str, state: dict | None, ckpt_root: str):
    """LoRA on the case's model: trainable parameters, forward, ``STEPS`` AdamW steps (losses
    and LoRA weights), ``save_pretrained`` / ``PeftModel.from_pretrained`` (its own adapter
    and, on ember, the one PyTorch saved), then ``merge_and_unload``."""
    import peft

    _, _, _, targets, task = LORA_CASES[name]
    base_state = None if state is None else {k[5:]: v for k, v in state.items()
                                             if k.startswith("base.")}
    model = _base_model(torch, name, base_state)
    if base_state is None:
        base_state = {k: _numpy(v) for k, v in model.state_dict().items()}
    config = peft.LoraConfig(r=4, lora_alpha=8, target_modules=targets, lora_dropout=0.0,
                             task_type=task, fan_in_fan_out=LORA_CASES[name][0] == "gpt2")
    model = peft.get_peft_model(model, config)
    if state is not None:  # PyTorch's LoRA initialization (lora_A is random)
        model.load_state_dict({k[5:]: torch.from_numpy(v.copy()) for k, v in state.items()
                               if k.startswith("peft.")})
    state = {"base." + k: v for k, v in base_state.items()}
    state.update({"peft." + k: _numpy(v) for k, v in model.state_dict().items()})

    out = {}
    trainable, total = model.get_nb_trainable_parameters()
    out["n_trainable"] = np.array([trainable, total])
    out["trainable_names"] = np.array(sorted(k for k, p in model.named_parameters()
                                             if p.requires_grad))
    out["lora_dtype"] = np.array(str(next(p for k, p in model.named_parameters()
                                          if "lora_A" in k).dtype).split(".")[-1])
    inputs = _inputs(torch, name)
    model.eval()
    with torch.no_grad():
        out["logits0"] = _numpy(model(**inputs).logits)

    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2,
                            weight_decay=0.01)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = _loss(torch, model, inputs, task)
        loss.backward()
        opt.step()
        losses.append(_numpy(loss))
    out["losses"] = np.array(losses)
    for k, p in model.named_parameters():
        if p.requires_grad:
            out["trained." + k] = _numpy(p)
    model.eval()
    with torch.no_grad():
        out["logits1"] = _numpy(model(**inputs).logits)

    side = "torch" if torch.__name__ == "torch" else "ember"
    path = os.path.join(ckpt_root, side, name)
    model.save_pretrained(path)
    out["saved_files"] = np.array(sorted(os.listdir(path)))
    dirs = {"own": path}
    if side == "ember":  # also the adapter PyTorch's side saved
        dirs["torch_saved"] = os.path.join(ckpt_root, "torch", name)
    inputs_eval = {k: v for k, v in inputs.items() if k != "labels"}
    for tag, d in dirs.items():
        loaded = peft.PeftModel.from_pretrained(_base_model(torch, name, base_state), d)
        loaded.eval()
        with torch.no_grad():
            out[f"reloaded_{tag}"] = _numpy(loaded(**inputs_eval).logits)

    merged = model.merge_and_unload()
    out["merged_type"] = np.array(type(merged).__name__)
    out["merged_names"] = np.array(sorted(k for k, _ in merged.named_parameters()))
    with torch.no_grad():
        out["logits_merged"] = _numpy(merged(**inputs_eval).logits)
    return {f"{name}/{k}": v for k, v in out.items()}, state


def _accelerate_loop(torch, state: dict | None, ckpt_root: str):
    """An ``Accelerator(cpu=True)`` training loop: ``prepare`` of model, optimizer, data
    loader and scheduler; gradient accumulation over 2 batches with ``accumulate``,
    ``backward``, ``clip_grad_norm_``, ``gather``; ``save_state`` part way, two more updates,
    ``load_state`` (weights, optimizer, scheduler and RNG back to the saved point) and the
    same two updates again; then ``unwrap_model``."""
    import accelerate
    from accelerate.utils import set_seed
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    name = "accelerate_loop"
    set_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)).to(torch.float64)
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    state = {k: _numpy(v) for k, v in model.state_dict().items()}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 4))
    y = np.sin(x.sum(1, keepdims=True))
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=3)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-2, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

    acc = accelerate.Accelerator(cpu=True, gradient_accumulation_steps=2)
    model, opt, loader, sched = acc.prepare(model, opt, loader, sched)
    out = {"num_processes": np.array(acc.num_processes), "device": np.array(str(acc.device)),
           "distributed_type": np.array(str(acc.distributed_type)),
           "batches": np.array(len(loader))}

    def epoch():
        losses, gathered, norms, lrs, synced = [], [], [], [], []
        for xb, yb in loader:
            with acc.accumulate(model):
                loss = nn.functional.mse_loss(model(xb), yb)
                acc.backward(loss)
                synced.append(acc.sync_gradients)
                if acc.sync_gradients:
                    norms.append(float(acc.clip_grad_norm_(model.parameters(), 0.5)))
                opt.step()
                sched.step()
                opt.zero_grad()
            losses.append(_numpy(loss))
            gathered.append(_numpy(acc.gather(loss.detach()[None])))
            lrs.append(sched.get_last_lr()[0])
        return {"losses": np.array(losses), "gathered": np.concatenate(gathered),
                "norms": np.array(norms), "lrs": np.array(lrs), "synced": np.array(synced)}

    def weights():
        return {k: _numpy(v) for k, v in acc.unwrap_model(model).state_dict().items()}

    for k, v in epoch().items():
        out["epoch1_" + k] = v
    side = "torch" if torch.__name__ == "torch" else "ember"
    path = os.path.join(ckpt_root, side, name)
    acc.save_state(path)
    out["saved_files"] = np.array(sorted(os.listdir(path)))
    saved = weights()
    saved_lr = sched.get_last_lr()[0]
    for k, v in epoch().items():
        out["epoch2_" + k] = v
    acc.load_state(path)
    restored = weights()
    out["restored_max_diff"] = np.array(max(np.abs(restored[k] - saved[k]).max()
                                            for k in saved))
    out["restored_lr"] = np.array([saved_lr, sched.get_last_lr()[0]])
    again = epoch()
    out["replay_max_diff"] = np.array(np.abs(again["losses"] - out["epoch2_losses"]).max())
    unwrapped = acc.unwrap_model(model)
    out["unwrapped_type"] = np.array(type(unwrapped).__name__)
    for k, v in weights().items():
        out["final." + k] = v
    acc.end_training()
    return {f"{name}/{k}": v for k, v in out.items()}, state
