"""Small models: the MLP, the MNIST-style CNN and the two-layer LSTM language model."""

import functools

MLP_SIZES = (784, 512, 512, 10)
LSTM_VOCAB, LSTM_HIDDEN, LSTM_LAYERS = 10000, 650, 2


def mlp(fw, sizes=MLP_SIZES):
    """Linear layers with ReLU between them, as one ``nn.Sequential`` (keys ``0.weight``, ...)."""
    nn = fw.nn
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


def mlp_macs(sizes=MLP_SIZES):
    """Multiply-accumulates of one MLP forward pass, per sample."""
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


@functools.cache
def _classes(fw):
    nn, F = fw.nn, fw.nn.functional

    class SmallCNN(nn.Module):
        """The PyTorch MNIST example network, without dropout."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = fw.flatten(F.max_pool2d(x, 2), 1)
            return self.fc2(F.relu(self.fc1(x)))

    class LSTMLM(nn.Module):
        """Word-level language model (PyTorch word_language_model names), without dropout."""

        def __init__(self, vocab, hidden, layers):
            super().__init__()
            self.encoder = nn.Embedding(vocab, hidden)
            self.rnn = nn.LSTM(hidden, hidden, layers)
            self.decoder = nn.Linear(hidden, vocab)

        def forward(self, ids, state=None):
            """``ids`` is (seq, batch); returns logits (seq, batch, vocab) and the new state."""
            out, state = self.rnn(self.encoder(ids), state)
            return self.decoder(out), state

    return SmallCNN, LSTMLM


def small_cnn(fw):
    """conv(1->32,3)-relu-conv(32->64,3)-relu-maxpool2-fc(9216->128)-relu-fc(128->10)."""
    return _classes(fw)[0]()


def small_cnn_macs():
    """Multiply-accumulates of one CNN forward pass on a 1x28x28 image."""
    return 26 * 26 * 32 * 9 + 24 * 24 * 64 * 32 * 9 + 9216 * 128 + 128 * 10


def lstm_lm(fw):
    """2-layer LSTM LM: 650 hidden, vocabulary 10000."""
    return _classes(fw)[1](LSTM_VOCAB, LSTM_HIDDEN, LSTM_LAYERS)


def lstm_lm_macs():
    """Multiply-accumulates of one LSTM LM forward pass, per token."""
    h = LSTM_HIDDEN
    return LSTM_LAYERS * 4 * h * (h + h) + h * LSTM_VOCAB
