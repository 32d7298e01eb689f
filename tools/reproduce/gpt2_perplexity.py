"""GPT-2's perplexity on the WikiText-2 test set, with transformers' sliding-window recipe.

    python tools/reproduce/gpt2_perplexity.py --model gpt2 [--stride 512] [--max-length 1024]

The split's lines are joined with newlines, tokenized once, and scored in windows of
``max_length`` tokens that advance by ``stride``; only the tokens new to each window count
(the earlier ones are context), so every token is scored once with up to
``max_length - stride`` tokens of context. Prints the perplexity, exp(mean NLL).
"""

from __future__ import annotations

import argparse
import math
import time

import ember
import ember.nn.functional as F
from ember.text.datasets import WikiText2
from ember.text.models import GPT2LMHeadModel
from ember.text.tokenizers import AutoTokenizer


def perplexity(model, ids: ember.Tensor, max_length: int, stride: int,
               limit: int | None = None) -> tuple[float, int]:
    """exp(mean NLL) of the (1, N) token stream ``ids`` with sliding windows."""
    n = ids.shape[1] if limit is None else min(limit, ids.shape[1])
    nll_sum, counted, prev_end = 0.0, 0, 0
    with ember.no_grad():
        for begin in range(0, n, stride):
            end = min(begin + max_length, n)
            target_len = end - prev_end  # tokens not scored by an earlier window
            window = ids[:, begin:end]
            logits = model(window, use_cache=False).logits[0, :-1]  # (T - 1, V)
            targets = window[0, 1:]
            first = max(0, logits.shape[0] - target_len)
            loss = F.cross_entropy(logits[first:], targets[first:], reduction="sum")
            nll_sum += float(loss)
            counted += targets.shape[0] - first
            prev_end = end
            if end == n:
                break
    return math.exp(nll_sum / counted), counted


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="gpt2", help="hub name or folder")
    p.add_argument("--root", default=None, help="data set root (default $EMBER_HOME/datasets)")
    p.add_argument("--split", default="test")
    p.add_argument("--max-length", type=int, default=None, help="default: n_positions")
    p.add_argument("--stride", type=int, default=512)
    p.add_argument("--limit-tokens", type=int, default=None)
    a = p.parse_args(argv)
    tok = AutoTokenizer.from_pretrained(a.model)
    model = GPT2LMHeadModel.from_pretrained(a.model)
    text = "\n".join(WikiText2(root=a.root, split=a.split, download=True))
    ids = tok(text, return_tensors="pt").input_ids
    max_length = a.max_length or model.config.n_positions
    t0 = time.perf_counter()
    ppl, n = perplexity(model, ids, max_length, min(a.stride, max_length), a.limit_tokens)
    print(f"{a.model}: WikiText-2 {a.split} perplexity {ppl:.2f} over {n} tokens "
          f"(max_length {max_length}, stride {a.stride}, {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
