"""Time ember.text's BERT and GPT-2 against transformers (PyTorch) on the same weights.

    python -m tools.bench_text [--rounds 2] [--threads N] [--only bert_infer,gpt2_generate]

Workloads (the ones of tools/bench, here through the ember.text / transformers classes):

* ``bert_infer``: ``BertModel`` (bert-base config), batch 8 x 128 tokens, no_grad.
* ``gpt2_forward``: ``GPT2LMHeadModel`` (GPT-2 small), batch 4 x 256 tokens, one forward.
* ``gpt2_generate``: GPT-2 small, greedy ``generate`` of 64 tokens after a 16-token prompt
  (end-of-sequence disabled so both make all 64), KV cache on.

``--baseline plain`` replaces transformers by tools/bench's plain PyTorch GPT-2 (the same
weights; a concatenating KV cache and a bare greedy loop, no ``generate`` machinery) for the
GPT-2 workloads: the stricter comparison for generation.

Each (framework, workload) runs in its own process, frameworks alternating, with weights
drawn once from a seed into an .npz both load. Prints the median step time of each, the
ratio ember/torch (time; < 1 means ember is faster) and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

PROMPT, NEW_TOKENS = 16, 64
WORKLOADS = ("bert_infer", "gpt2_forward", "gpt2_generate")


def _model_kind(workload: str) -> str:
    return "bert" if workload.startswith("bert") else "gpt2"


def write_weights(kind: str, path: str) -> None:
    """Draw every weight of the transformers model once (N(0, 0.02), norms at 1)."""
    import torch  # noqa: F401 - transformers needs it
    import transformers

    model = _hf_model(transformers, kind)
    rng = np.random.default_rng(1234)
    arrays = {}
    for name, t in model.state_dict().items():
        shape = tuple(t.shape)
        if name == "lm_head.weight":  # tied to the input embedding
            arrays[name] = arrays["transformer.wte.weight"]
        elif name.endswith("LayerNorm.weight") or ".ln_" in name and name.endswith(".weight"):
            arrays[name] = np.ones(shape, np.float32)
        elif name.endswith("bias"):
            arrays[name] = np.zeros(shape, np.float32)
        else:
            arrays[name] = (rng.standard_normal(shape, dtype=np.float32) * 0.02)
    np.savez(path, **arrays)


def _hf_model(transformers, kind: str):
    if kind == "bert":
        return transformers.BertModel(transformers.BertConfig()).eval()
    cfg = transformers.GPT2Config(eos_token_id=None, bos_token_id=None)
    return transformers.GPT2LMHeadModel(cfg).eval()


def _ember_model(kind: str):
    from ember.text.models import BertConfig, BertModel, GPT2Config, GPT2LMHeadModel
    from ember.text.models.modeling_utils import skip_weight_init

    with skip_weight_init():  # weights come from the .npz
        if kind == "bert":
            return BertModel(BertConfig())
        return GPT2LMHeadModel(GPT2Config(eos_token_id=None, bos_token_id=None))


def _plain_torch_gpt2(state: dict):
    """tools/bench's plain PyTorch GPT-2 (nn.Linear projections) with the .npz weights."""
    import torch

    from tools.bench.models.gpt2 import gpt2_small

    model = gpt2_small(torch)
    conv = (".c_attn.weight", ".c_proj.weight", ".c_fc.weight")
    sd = {}
    for k, v in state.items():
        if k == "lm_head.weight":
            continue
        k = k[len("transformer."):]
        sd[k] = torch.from_numpy(np.ascontiguousarray(v.T if k.endswith(conv) else v))
    model.load_state_dict(sd)
    return model.eval()


def child(framework: str, workload: str, weights: str, iters: int, threads: int) -> dict:
    """Build, load, warm up and time one workload in this process."""
    kind = _model_kind(workload)
    with np.load(weights) as npz:
        state = {k: npz[k] for k in npz.files}
    plain = framework == "torch-plain"
    if plain:
        import torch

        torch.set_num_threads(threads)
        fw = torch
        model = _plain_torch_gpt2(state)
    elif framework == "torch":
        import torch
        import transformers

        torch.set_num_threads(threads)
        fw = torch
        model = _hf_model(transformers, kind)
        model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()},
                              strict=False)
        model.eval()
    else:
        import ember

        ember.set_num_threads(threads)
        fw = ember
        model = _ember_model(kind)
        model._load_pretrained_state({k: ember.from_numpy(v) for k, v in state.items()})
        model.eval()
    if workload == "bert_infer":
        ids = fw.from_numpy(np.random.default_rng(7).integers(0, 30522, (8, 128)))
        types = fw.from_numpy(np.zeros((8, 128), dtype=np.int64))

        def step():
            return model(input_ids=ids, token_type_ids=types).last_hidden_state
    elif workload == "gpt2_forward":
        ids = fw.from_numpy(np.random.default_rng(8).integers(0, 50257, (4, 256)))

        def step():
            if plain:
                return model(ids)[0]
            return model(input_ids=ids, use_cache=False).logits
    elif plain:
        from tools.bench.models.gpt2 import greedy_generate

        prompt = fw.from_numpy(np.random.default_rng(9).integers(0, 50257, (1, PROMPT)))

        def step():
            return fw.cat([prompt, greedy_generate(fw, model, prompt, NEW_TOKENS)[0]], dim=1)
    else:
        prompt = fw.from_numpy(np.random.default_rng(9).integers(0, 50257, (1, PROMPT)))
        kwargs = dict(max_new_tokens=NEW_TOKENS, do_sample=False, pad_token_id=0)
        if framework == "torch":
            kwargs["min_new_tokens"] = NEW_TOKENS

        def step():
            return model.generate(prompt, **kwargs)
    times = []
    with fw.no_grad():
        out = step()  # warm-up
        for _ in range(iters):
            t0 = time.perf_counter()
            out = step()
            times.append(time.perf_counter() - t0)
    arr = out.detach().numpy() if hasattr(out, "detach") else np.asarray(out)
    return {"median_s": statistics.median(times), "times": times,
            "checksum": float(np.asarray(arr, dtype=np.float64).sum()),
            "tokens": arr[0, -8:].tolist() if workload == "gpt2_generate" else None}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m tools.bench_text")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--iters", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--only", default=",".join(WORKLOADS))
    p.add_argument("--baseline", choices=("transformers", "plain"), default="transformers",
                   help="the PyTorch side of the GPT-2 workloads")
    p.add_argument("--child", nargs=3, metavar=("FRAMEWORK", "WORKLOAD", "WEIGHTS"),
                   help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        print(json.dumps(child(*a.child, a.iters, a.threads)))
        return
    workloads = [w for w in a.only.split(",") if w]
    results: dict = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        weights = {}
        for kind in sorted({_model_kind(w) for w in workloads}):
            weights[kind] = os.path.join(tmp, f"{kind}.npz")
            write_weights(kind, weights[kind])
        for w in workloads:
            for r in range(a.rounds):
                other = "torch-plain" if (a.baseline == "plain" and w.startswith("gpt2")) \
                    else "torch"
                order = ("ember", other) if r % 2 == 0 else (other, "ember")
                for fw in order:
                    cmd = [sys.executable, "-m", "tools.bench_text", "--child", fw, w,
                           weights[_model_kind(w)], "--iters", str(a.iters), "--threads",
                           str(a.threads)]
                    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
                    if out.returncode:
                        raise RuntimeError(f"{fw} {w} failed:\n{out.stderr[-3000:]}")
                    res = json.loads(out.stdout.strip().splitlines()[-1])
                    key = "torch" if fw.startswith("torch") else fw
                    results.setdefault(w, {}).setdefault(key, []).append(res)
                    print(f"{w:14s} {fw:11s} round {r + 1}: {res['median_s'] * 1e3:9.1f} ms "
                          f"(load {os.getloadavg()[0]:.2f})", flush=True)
    print(f"\nPyTorch side: {a.baseline}; threads {a.threads}; load average before "
          f"{load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    print(f"{'workload':14s} {'ember ms':>10s} {'torch ms':>10s} {'ember/torch':>12s} "
          f"{'ember tok/s':>12s} {'torch tok/s':>12s}")
    for w, by_fw in results.items():
        e = statistics.median(t for r in by_fw["ember"] for t in r["times"])
        t = statistics.median(t for r in by_fw["torch"] for t in r["times"])
        tok = {"bert_infer": 8 * 128, "gpt2_forward": 4 * 256, "gpt2_generate": NEW_TOKENS}[w]
        print(f"{w:14s} {e * 1e3:10.1f} {t * 1e3:10.1f} {e / t:11.2f}x {tok / e:12.1f} "
              f"{tok / t:12.1f}")
        if w == "gpt2_generate":
            print(f"  last tokens ember {by_fw['ember'][0]['tokens']} torch "
                  f"{by_fw['torch'][0]['tokens']}")


if __name__ == "__main__":
    main()
