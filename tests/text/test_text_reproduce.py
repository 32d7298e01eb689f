"""Smoke runs of tools/reproduce/gpt2_perplexity.py, bert_sst2.py and train_gpt.py on tiny
models and data written here (the real runs need the published weights and data sets)."""

import math
import sys
from pathlib import Path

import ember
import numpy as np
import pytest

pytest.importorskip("tokenizers")

from ember.text import models as M  # noqa: E402
from ember.text.tokenizers import train_bpe, train_wordpiece  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "reproduce"))

LINES = ["the quick brown fox jumps over the lazy dog", "a lazy dog sleeps",
         "= heading =", "", "numbers 1 2 3 and words"] * 20


@pytest.fixture
def wikitext_root(tmp_path):
    folder = tmp_path / "data" / "WikiText2" / "wikitext-2"
    folder.mkdir(parents=True)
    for split in ("train", "valid", "test"):
        (folder / f"wiki.{split}.tokens").write_text("\n".join(LINES), encoding="utf-8")
    return tmp_path / "data"


def _tiny_gpt2(folder):
    tok = train_bpe(iterator=LINES, vocab_size=300, min_frequency=1)
    ember.manual_seed(0)
    model = M.GPT2LMHeadModel(M.GPT2Config(vocab_size=len(tok), n_positions=64, n_embd=16,
                                           n_layer=1, n_head=2))
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return model, tok


def test_gpt2_perplexity_windows_match_a_direct_computation(tmp_path, wikitext_root, capsys):
    import gpt2_perplexity

    model, tok = _tiny_gpt2(tmp_path / "m")
    model.eval()
    ids = tok("\n".join(LINES), return_tensors="pt").input_ids[:, :64]
    with ember.no_grad():
        logits = model(ids).logits[0, :-1]
    nll = ember.nn.functional.cross_entropy(logits, ids[0, 1:])
    ppl, n = gpt2_perplexity.perplexity(model, ids, 64, 64)
    assert n == 63 and math.isclose(ppl, math.exp(float(nll)), rel_tol=1e-5)
    overlapped, n2 = gpt2_perplexity.perplexity(model, ids, 32, 16)
    assert n2 == 63 and np.isfinite(overlapped)
    gpt2_perplexity.main(["--model", str(tmp_path / "m"), "--root", str(wikitext_root),
                          "--max-length", "32", "--stride", "16", "--limit-tokens", "200"])
    assert "perplexity" in capsys.readouterr().out


def test_train_gpt_runs(wikitext_root, capsys):
    import train_gpt

    train_gpt.main(["--root", str(wikitext_root), "--n-layer", "1", "--n-head", "2",
                    "--n-embd", "16", "--block", "16", "--batch-size", "4", "--vocab", "300",
                    "--steps", "4", "--eval-every", "2"])
    out = capsys.readouterr().out
    assert out.count("valid loss") == 2


@pytest.mark.filterwarnings("ignore:Some weights of BertForSequenceClassification")
def test_bert_sst2_runs(tmp_path, capsys):
    import bert_sst2

    data = tmp_path / "data" / "SST2" / "SST-2"
    data.mkdir(parents=True)
    rows = "".join(f"{'good fun film' if i % 2 else 'dull bad film'} {i} \t{i % 2}\n"
                   for i in range(24))
    for split in ("train", "dev"):
        (data / f"{split}.tsv").write_text("sentence\tlabel\n" + rows, encoding="utf-8")
    tok = train_wordpiece(iterator=[r.split("\t")[0] for r in rows.splitlines()],
                          vocab_size=120, min_frequency=1)
    folder = tmp_path / "bert"
    M.BertModel(M.BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=1,
                             num_attention_heads=2, intermediate_size=32,
                             max_position_embeddings=64)).save_pretrained(folder)
    tok.save_pretrained(folder)
    bert_sst2.main(["--model", str(folder), "--root", str(tmp_path / "data"),
                    "--batch-size", "8", "--lr", "1e-3"])
    assert "dev accuracy" in capsys.readouterr().out


def _hf_sliding_window_ppl(hf_model, ids, max_length, stride, exact_counts):
    """Hugging Face's documented protocol ("Perplexity of fixed-length models"): windows of
    ``max_length`` every ``stride`` tokens, labels masked to -100 except the tokens no
    earlier window scored, ``outputs.loss`` weighted by the window's token count. The
    documentation weights by (valid labels - 1); ``exact_counts`` weights by the labels the
    shifted loss really averaged (the two agree when windows do not overlap)."""
    import torch

    seq_len = ids.shape[1]
    nll_sum, n_tokens, prev_end = 0.0, 0, 0
    with torch.no_grad():
        for begin in range(0, seq_len, stride):
            end = min(begin + max_length, seq_len)
            trg_len = end - prev_end
            input_ids = ids[:, begin:end]
            target = input_ids.clone()
            target[:, :-trg_len] = -100
            loss = hf_model(input_ids, labels=target).loss
            count = int((target[:, 1:] != -100).sum()) if exact_counts else \
                int((target != -100).sum()) - target.shape[0]
            nll_sum += float(loss) * count
            n_tokens += count
            prev_end = end
            if end == seq_len:
                break
    return math.exp(nll_sum / n_tokens), n_tokens


@pytest.mark.parametrize("max_length,stride", [(32, 32), (32, 8), (24, 16)])
def test_gpt2_perplexity_matches_transformers_protocol(tmp_path, max_length, stride):
    """The same weights in transformers' GPT2LMHeadModel, the same token stream and
    windows: the same perplexity and token count."""
    transformers = pytest.importorskip("transformers")
    import gpt2_perplexity
    import torch

    _tiny_gpt2(tmp_path / "m")
    model = M.GPT2LMHeadModel.from_pretrained(tmp_path / "m").eval()
    hf = transformers.GPT2LMHeadModel.from_pretrained(tmp_path / "m").eval()
    ids = ember.from_numpy(np.random.default_rng(0).integers(0, model.config.vocab_size,
                                                             (1, 101)))
    ppl, n = gpt2_perplexity.perplexity(model, ids, max_length, stride)
    ref, n_ref = _hf_sliding_window_ppl(hf, torch.from_numpy(ids.numpy()), max_length,
                                        stride, exact_counts=True)
    assert n == n_ref and math.isclose(ppl, ref, rel_tol=1e-5)
    # overlapping windows score every token but the first; disjoint ones miss each
    # window's first token
    assert n == (100 if stride < max_length else 100 - (101 - 1) // max_length)
    if stride == max_length:  # no overlap: the documentation's weighting is exact too
        doc, _ = _hf_sliding_window_ppl(hf, torch.from_numpy(ids.numpy()), max_length,
                                        stride, exact_counts=False)
        assert math.isclose(ppl, doc, rel_tol=1e-5)
