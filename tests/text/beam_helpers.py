"""The shared setup of the beam search and beam sampling tests: a small random GPT-2 in
transformers and its ember copy, left-padded prompts, and scores made comparable."""

import numpy as np
from ember.text import models as M
from text_helpers import copy_weights, left_padded_mask, random_batch

VOCAB, EOS = 99, 98
CONFIG = dict(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=4, n_positions=64,
              bos_token_id=EOS, eos_token_id=EOS)
PROMPT = 7
TOL = dict(rtol=1e-5, atol=1e-5)


def model_pair(transformers, eos_boost: float = 0.0):
    """A random transformers GPT-2 and the ember copy. ``eos_boost`` > 0 raises the
    end-of-sequence logit (a final-norm bias along the direction added to EOS's tied
    embedding row), so that hypotheses finish early."""
    import torch

    torch.manual_seed(0)
    ref = transformers.GPT2LMHeadModel(transformers.GPT2Config(**CONFIG)).eval()
    if eos_boost:
        with torch.no_grad():
            u = torch.randn(CONFIG["n_embd"])
            u /= u.norm()
            ref.transformer.ln_f.bias.copy_(u)
            ref.transformer.wte.weight[EOS] += eos_boost * u
    ours = M.GPT2LMHeadModel(M.GPT2Config(**CONFIG)).eval()
    copy_weights(ref, ours)
    return ref, ours


def prompts(pad: int = EOS):
    """Three left-padded prompts (lengths 7, 4, 2) and their attention mask."""
    ids = random_batch(5, 3, PROMPT, EOS - 1)
    mask = left_padded_mask([PROMPT, 4, 2], PROMPT)
    ids[mask == 0] = pad
    return ids, mask


def finite(x):
    """Scores as numpy with -inf/inf replaced by -/+1e30 (so that they compare)."""
    x = x.detach().numpy() if hasattr(x, "detach") else x.numpy()
    return np.where(np.isinf(x), np.sign(x) * 1e30, x)
