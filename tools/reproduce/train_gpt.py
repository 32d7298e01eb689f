"""Train a small GPT-2 from scratch on WikiText-2 with a byte-level BPE learnt from it.

    python tools/reproduce/train_gpt.py [--n-layer 4] [--n-embd 256] [--steps 2000]
        [--block 128] [--batch-size 16] [--vocab 8192]

Learns a tokenizer on the training split (``train_bpe``), trains ``GPT2LMHeadModel`` with
AdamW and cosine decay on random windows of the token stream (nanoGPT's loop), and reports
the validation loss and perplexity every ``--eval-every`` steps, then samples a continuation.
"""

from __future__ import annotations

import argparse
import math
import time

import ember
import numpy as np
from ember.text.datasets import WikiText2
from ember.text.models import GPT2Config, GPT2LMHeadModel
from ember.text.tokenizers import train_bpe


def windows(stream: np.ndarray, block: int, batch: int, rng) -> ember.Tensor:
    """``batch`` random windows of ``block`` tokens (B, block)."""
    starts = rng.integers(0, len(stream) - block, batch)
    return ember.from_numpy(stream[starts[:, None] + np.arange(block)])


def evaluate(model, stream: np.ndarray, block: int, batch: int, iters: int, rng) -> float:
    model.eval()
    losses = []
    with ember.no_grad():
        for _ in range(iters):
            x = windows(stream, block, batch, rng)
            losses.append(float(model(x, labels=x, use_cache=False).loss))  # shifted inside
    model.train()
    return float(np.mean(losses))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default=None)
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=256)
    p.add_argument("--block", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--vocab", type=int, default=8192)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    ember.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    train_lines = list(WikiText2(a.root, "train", download=True))
    valid_lines = list(WikiText2(a.root, "valid", download=True))
    tok = train_bpe(iterator=train_lines, vocab_size=a.vocab, min_frequency=2)
    eot = tok.eos_token_id

    def stream(lines):
        ids = []
        for enc in tok(lines, add_special_tokens=False)["input_ids"]:
            ids.extend(enc)
        ids.append(eot)
        return np.asarray(ids, dtype=np.int64)

    train_ids, valid_ids = stream(train_lines), stream(valid_lines)
    config = GPT2Config(vocab_size=len(tok), n_positions=a.block, n_embd=a.n_embd,
                        n_layer=a.n_layer, n_head=a.n_head, bos_token_id=eot, eos_token_id=eot,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    model = GPT2LMHeadModel(config)
    opt = ember.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.95), weight_decay=0.1)
    warm = max(1, a.steps // 20)

    def lr_at(step):
        if step < warm:
            return (step + 1) / warm
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, a.steps - warm)))

    sched = ember.optim.lr_scheduler.LambdaLR(opt, lr_at)
    print(f"{model.num_parameters() / 1e6:.1f}M parameters, {len(train_ids)} training tokens")
    t0 = time.perf_counter()
    for step in range(1, a.steps + 1):
        x = windows(train_ids, a.block, a.batch_size, rng)
        loss = model(x, labels=x, use_cache=False).loss
        opt.zero_grad()
        loss.backward()
        ember.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % a.eval_every == 0 or step == a.steps:
            val = evaluate(model, valid_ids, a.block, a.batch_size, 10, rng)
            print(f"step {step}: train loss {float(loss):.3f}, valid loss {val:.3f} "
                  f"(ppl {math.exp(val):.1f}), {time.perf_counter() - t0:.0f} s")
    prompt = tok("The", return_tensors="pt").input_ids
    room = a.block - prompt.shape[1]  # the model has a.block positions
    out = model.generate(prompt, max_new_tokens=min(30, room), do_sample=True, top_k=40)
    print(tok.decode(out[0]))


if __name__ == "__main__":
    main()
