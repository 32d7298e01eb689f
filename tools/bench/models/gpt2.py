"""GPT-2 small (124M) with Hugging Face names (``wte``, ``h.N.attn.c_attn``, ...), no dropout.

``c_attn``/``c_proj``/``c_fc`` are ``nn.Linear`` (HF uses a transposed Conv1D). The output head
is tied to ``wte``. ``forward(ids, past)`` takes and returns the KV cache as a list with one
``(k, v)`` pair per layer, each (batch, heads, length, head_dim), grown by concatenation.
"""

import functools
import math

HIDDEN, LAYERS, HEADS, VOCAB, MAX_POSITIONS = 768, 12, 12, 50257, 1024
LN_EPS = 1e-5
MASKED = -1e9


@functools.cache
def _classes(fw):
    nn, F = fw.nn, fw.nn.functional

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(HIDDEN, 3 * HIDDEN)
            self.c_proj = nn.Linear(HIDDEN, HIDDEN)

        def forward(self, x, past, mask):
            b, t, _ = x.shape
            d = HIDDEN // HEADS
            q, k, v = (p.view(b, t, HEADS, d).transpose(1, 2)
                       for p in self.c_attn(x).split(HIDDEN, dim=2))
            if past is not None:
                k, v = fw.cat([past[0], k], dim=2), fw.cat([past[1], v], dim=2)
            scores = fw.matmul(q, k.transpose(-1, -2)) / math.sqrt(d)
            if mask is not None:
                scores = scores + mask
            out = fw.matmul(F.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, t, HIDDEN)
            return self.c_proj(out), (k, v)

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = nn.Linear(HIDDEN, 4 * HIDDEN)
            self.c_proj = nn.Linear(4 * HIDDEN, HIDDEN)

        def forward(self, x):
            return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(HIDDEN, eps=LN_EPS)
            self.attn = Attention()
            self.ln_2 = nn.LayerNorm(HIDDEN, eps=LN_EPS)
            self.mlp = MLP()

        def forward(self, x, past, mask):
            a, present = self.attn(self.ln_1(x), past, mask)
            x = x + a
            return x + self.mlp(self.ln_2(x)), present

    class GPT2(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(VOCAB, HIDDEN)
            self.wpe = nn.Embedding(MAX_POSITIONS, HIDDEN)
            self.h = nn.ModuleList([Block() for _ in range(LAYERS)])
            self.ln_f = nn.LayerNorm(HIDDEN, eps=LN_EPS)

        def forward(self, ids, past=None):
            """Logits (batch, t, vocab) for ``ids`` (batch, t) and the extended cache."""
            start = 0 if past is None else past[0][0].shape[2]
            t = ids.shape[1]
            x = self.wte(ids) + self.wpe(fw.arange(start, start + t, device=ids.device))
            mask = None
            if t > 1:  # causal: query i may see keys up to start + i
                full = fw.full((t, start + t), MASKED, device=ids.device)
                mask = fw.triu(full, diagonal=start + 1)
            present = []
            for i, block in enumerate(self.h):
                x, kv = block(x, None if past is None else past[i], mask)
                present.append(kv)
            return F.linear(self.ln_f(x), self.wte.weight), present

    return GPT2


def gpt2_small(fw):
    """GPT-2 small: 12 layers, hidden 768, 12 heads, vocabulary 50257."""
    return _classes(fw)()


def greedy_generate(fw, model, prompt, new_tokens):
    """Greedy decoding with the KV cache; returns (tokens (batch, new), first-step logits)."""
    logits, past = model(prompt)
    first = logits[:, -1, :]
    token = first.argmax(dim=-1, keepdim=True)
    out = [token]
    for _ in range(new_tokens - 1):
        logits, past = model(token, past)
        token = logits[:, -1, :].argmax(dim=-1, keepdim=True)
        out.append(token)
    return fw.cat(out, dim=1), first


def gpt2_macs(tokens, context):
    """Multiply-accumulates for ``tokens`` query positions attending to ``context`` keys each."""
    per_token = LAYERS * (12 * HIDDEN * HIDDEN + 2 * context * HIDDEN) + HIDDEN * VOCAB
    return tokens * per_token


def generate_macs(prompt, new_tokens):
    """Multiply-accumulates of ``greedy_generate`` for one sequence."""
    macs = gpt2_macs(prompt, prompt)
    for step in range(1, new_tokens):
        macs += gpt2_macs(1, prompt + step)
    return macs
