"""BERT-base encoder with Hugging Face ``BertModel`` attribute names (no pooler, no dropout).

Attention is written out with ``matmul`` and ``softmax``; every position attends to every
other (no padding mask). Returns the last hidden state (batch, seq, hidden).
"""

import functools
import math

HIDDEN, LAYERS, HEADS, FF = 768, 12, 12, 3072
VOCAB, MAX_POSITIONS, TYPES = 30522, 512, 2
LN_EPS = 1e-12


@functools.cache
def _classes(fw):
    nn, F = fw.nn, fw.nn.functional

    class Embeddings(nn.Module):
        def __init__(self):
            super().__init__()
            self.word_embeddings = nn.Embedding(VOCAB, HIDDEN)
            self.position_embeddings = nn.Embedding(MAX_POSITIONS, HIDDEN)
            self.token_type_embeddings = nn.Embedding(TYPES, HIDDEN)
            self.LayerNorm = nn.LayerNorm(HIDDEN, eps=LN_EPS)

        def forward(self, ids, token_types):
            positions = fw.arange(ids.shape[1], device=ids.device)
            x = self.word_embeddings(ids) + self.position_embeddings(positions)
            return self.LayerNorm(x + self.token_type_embeddings(token_types))

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.query = nn.Linear(HIDDEN, HIDDEN)
            self.key = nn.Linear(HIDDEN, HIDDEN)
            self.value = nn.Linear(HIDDEN, HIDDEN)

        def forward(self, x):
            b, s, _ = x.shape
            d = HIDDEN // HEADS

            def heads(t):
                return t.view(b, s, HEADS, d).transpose(1, 2)

            q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
            scores = fw.matmul(q, k.transpose(-1, -2)) / math.sqrt(d)
            context = fw.matmul(F.softmax(scores, dim=-1), v)
            return context.transpose(1, 2).reshape(b, s, HIDDEN)

    class DenseNorm(nn.Module):
        """``dense`` then ``LayerNorm`` of the residual sum (HF's BertSelfOutput/BertOutput)."""

        def __init__(self, n_in):
            super().__init__()
            self.dense = nn.Linear(n_in, HIDDEN)
            self.LayerNorm = nn.LayerNorm(HIDDEN, eps=LN_EPS)

        def forward(self, x, residual):
            return self.LayerNorm(self.dense(x) + residual)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.self = SelfAttention()
            self.output = DenseNorm(HIDDEN)

        def forward(self, x):
            return self.output(self.self(x), x)

    class Intermediate(nn.Module):
        def __init__(self):
            super().__init__()
            self.dense = nn.Linear(HIDDEN, FF)

        def forward(self, x):
            return F.gelu(self.dense(x))

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = Attention()
            self.intermediate = Intermediate()
            self.output = DenseNorm(FF)

        def forward(self, x):
            x = self.attention(x)
            return self.output(self.intermediate(x), x)

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.ModuleList([Layer() for _ in range(LAYERS)])

        def forward(self, x):
            for layer in self.layer:
                x = layer(x)
            return x

    class BertModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embeddings = Embeddings()
            self.encoder = Encoder()

        def forward(self, ids, token_types):
            return self.encoder(self.embeddings(ids, token_types))

    return BertModel


def bert_base(fw):
    """BERT-base encoder: 12 layers, hidden 768, 12 heads, feed-forward 3072."""
    return _classes(fw)()


def bert_macs(seq):
    """Multiply-accumulates of one encoder forward pass over one sequence of ``seq`` tokens."""
    return LAYERS * (seq * 12 * HIDDEN * HIDDEN + 2 * seq * seq * HIDDEN)
