"""The CPU random stream is PyTorch's (``ember._torch_stream``): after the same
``manual_seed``, ember and torch 2.13 draw the same numbers, so layers initialise to the same
weights and data loaders shuffle in the same order."""

import ember
import numpy as np
import pytest
import torch
from torch_compare import to_numpy


def _values(x):
    items = x if isinstance(x, (list, tuple)) else [x]
    return [to_numpy(t.detach().float() if "bfloat16" in str(t.dtype) else t.detach())
            for t in items]


def _same(fn, seed=123):
    torch.manual_seed(seed)
    want = _values(fn(torch))
    ember.manual_seed(seed)
    got = _values(fn(ember))
    assert len(got) == len(want)
    return got, want


EXACT = {
    "rand": lambda m: m.rand(3, 5),
    "rand_float64": lambda m: m.rand(40, dtype=m.float64),
    "rand_float16": lambda m: m.rand(40, dtype=m.float16),
    "rand_complex64": lambda m: m.rand(4, dtype=m.complex64),
    "rand_like": lambda m: m.rand_like(m.zeros(2, 9)),
    "randn_float64": lambda m: m.randn(100, dtype=m.float64),
    "randn_float64_small_calls": lambda m: [m.randn(3, dtype=m.float64),
                                            m.randn(5, dtype=m.float64),
                                            m.randn(1, dtype=m.float64)],
    "randn_complex128": lambda m: m.randn(20, dtype=m.complex128),
    "randint": lambda m: m.randint(0, 1000, (50,)),
    "randint_wide": lambda m: m.randint(-2 ** 40, 2 ** 40, (5,)),
    "randint_like": lambda m: m.randint_like(m.zeros(6), 3, 11),
    "randperm": lambda m: m.randperm(1000),
    "uniform_": lambda m: m.empty(7, 3).uniform_(-2, 5),
    "random_": lambda m: m.empty(10, dtype=m.int64).random_(3, 9),
    "generator": lambda m: m.rand(5, generator=m.Generator().manual_seed(7)),
    "linear_init": lambda m: list(m.nn.Linear(20, 7).parameters()),
    "conv_init": lambda m: list(m.nn.Conv2d(3, 8, 3).parameters()),
    "lstm_init": lambda m: list(m.nn.LSTM(5, 6, 2).parameters()),
    "transformer_layer_init": lambda m: list(m.nn.TransformerEncoderLayer(8, 2, 16)
                                             .parameters()),
    "xavier_uniform_": lambda m: m.nn.init.xavier_uniform_(m.empty(5, 6)),
    "kaiming_normal_float64": lambda m: m.nn.init.kaiming_normal_(
        m.empty(5, 6, dtype=m.float64)),
    "exponential_": lambda m: m.empty(40).exponential_(2.0),
    "multinomial_with_replacement": lambda m: m.multinomial(m.rand(3, 7), 20, True),
    "multinomial_without_replacement": lambda m: m.multinomial(m.rand(5, 9), 6),
    "weighted_random_sampler": lambda m: m.tensor(list(m.utils.data.WeightedRandomSampler(
        [0.1, 0.5, 0.2, 0.9], 12))),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_draws_equal_torchs(name):
    got, want = _same(EXACT[name])
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("seed", [0, 42, 2 ** 33 + 5])
def test_seeds_use_their_low_32_bits_as_torch(seed):
    got, want = _same(lambda m: m.rand(20), seed)
    np.testing.assert_array_equal(got[0], want[0])


def test_float32_normals_within_a_few_ulps():
    """PyTorch's float32 Box-Muller runs on vectorised log/sin/cos approximations: the
    same uniforms give values a few float32 ulps apart."""
    got, want = _same(lambda m: [m.randn(1000), m.nn.Embedding(10, 4).weight])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


def test_state_round_trip_and_fork_rng():
    ember.manual_seed(5)
    state = ember.get_rng_state()
    a = ember.randn(7, dtype=ember.float64)  # a scalar Box-Muller pair left cached
    ember.set_rng_state(state)
    np.testing.assert_array_equal(to_numpy(ember.randn(7, dtype=ember.float64)), to_numpy(a))
    with ember.random.fork_rng():
        ember.rand(3)
    torch.manual_seed(5)
    torch.randn(7, dtype=torch.float64)
    np.testing.assert_array_equal(to_numpy(ember.rand(4)), to_numpy(torch.rand(4)))


def test_dataloader_shuffles_in_torchs_order():
    def epochs(m):
        ds = m.utils.data.TensorDataset(m.arange(20))
        dl = m.utils.data.DataLoader(ds, batch_size=7, shuffle=True)
        return [b[0] for _ in range(2) for b in dl]

    got, want = _same(epochs)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_same_initial_weights_same_training_step():
    """A seeded MLP starts from torch's weights, so one SGD step gives torch's loss."""
    def step(m):
        net = m.nn.Sequential(m.nn.Linear(8, 16), m.nn.Tanh(), m.nn.Linear(16, 3))
        x = m.linspace(-1, 1, 40).reshape(5, 8)
        y = m.tensor([0, 2, 1, 1, 0])
        opt = m.optim.SGD(net.parameters(), lr=0.1)
        losses = []
        for _ in range(2):
            opt.zero_grad()
            loss = m.nn.functional.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.detach())
        return losses

    got, want = _same(step)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6)


def _torch_bernoulli_uses_the_stream() -> bool:
    """PyTorch's CPU ``bernoulli_(p)`` draws double uniforms from its stream, except on
    Intel CPUs where it seeds MKL's generator from it instead."""
    torch.manual_seed(0)
    a = torch.empty(64).bernoulli_(0.3)
    torch.manual_seed(0)
    return torch.equal(a, (torch.rand(64, dtype=torch.float64) < 0.3).float())


BERNOULLI = {
    "bernoulli_tensor": lambda m: m.bernoulli(m.full((30,), 0.3)),
    "bernoulli__tensor_p": lambda m: m.empty(30).bernoulli_(m.full((30,), 0.6)),
}
BERNOULLI_SCALAR = {
    "bernoulli__scalar": lambda m: m.empty(30).bernoulli_(0.3),
    "bernoulli_scalar_p": lambda m: m.bernoulli(m.zeros(30), 0.4),
    "dropout": lambda m: m.nn.functional.dropout(m.linspace(-1, 1, 50), 0.3),
    "dropout_float64": lambda m: m.nn.functional.dropout(m.linspace(-1, 1, 50,
                                                                    dtype=m.float64), 0.25),
    "dropout2d": lambda m: m.nn.functional.dropout2d(m.ones(2, 6, 3, 3), 0.5),
    "dropout_module": lambda m: m.nn.Dropout(0.1)(m.ones(4, 5)),
}


@pytest.mark.parametrize("name", sorted(BERNOULLI) + sorted(BERNOULLI_SCALAR))
def test_bernoulli_and_dropout_masks_equal_torchs(name):
    if name in BERNOULLI_SCALAR and not _torch_bernoulli_uses_the_stream():
        pytest.skip("PyTorch draws scalar-probability Bernoulli masks with MKL on this CPU")
    got, want = _same({**BERNOULLI, **BERNOULLI_SCALAR}[name])
    np.testing.assert_array_equal(got[0], want[0])


def test_generator_states_are_torchs_bytes_and_move_both_ways():
    """``get_rng_state`` is PyTorch's 5056-byte layout (seed, Mersenne Twister words and
    position, the cached normal value), so a state saved by torch (e.g. a Trainer
    checkpoint's) continues torch's stream in ember and the other way round."""
    for seed, draws in ((11, 0), (11, 5), (9, 700)):
        torch.manual_seed(seed)
        ember.manual_seed(seed)
        torch.rand(draws)
        ember.rand(draws)
        np.testing.assert_array_equal(to_numpy(ember.get_rng_state()),
                                      to_numpy(torch.get_rng_state()))
    torch.manual_seed(7)
    torch.rand(3)
    torch.randn(3, dtype=torch.float64)  # leaves a cached normal value in the state
    ember.set_rng_state(ember.tensor(to_numpy(torch.get_rng_state())))
    np.testing.assert_array_equal(to_numpy(ember.randn(5, dtype=ember.float64)),
                                  to_numpy(torch.randn(5, dtype=torch.float64)))
    g = ember.Generator().manual_seed(3)
    torch.set_rng_state(torch.from_numpy(to_numpy(g.get_state())))
    np.testing.assert_array_equal(to_numpy(ember.rand(20, generator=g)),
                                  to_numpy(torch.rand(20)))
    assert ember.initial_seed() == 7 and torch.initial_seed() == 3  # the states' seeds
    with pytest.raises(RuntimeError, match="RNG state size"):
        ember.set_rng_state(ember.zeros(100, dtype=ember.uint8))


def test_masks_of_strided_tensors_follow_memory_order():
    """PyTorch's kernels fill a strided tensor in memory order: dropout of a transposed
    view (as multi-head attention's batch-first output is) and an in-place fill of one
    draw their values in that order, so a Transformer layer trains identically."""
    got, want = _same(lambda m: [
        m.nn.functional.dropout(m.ones(4, 6).t(), 0.5),
        m.empty(5, 3).t().uniform_(),
        m.empty(3, 7).t().bernoulli_(0.3),
        m.empty(6, 5, dtype=m.float64).t().normal_()])
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)

    def train(m):
        layer = m.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True)
        opt = m.optim.Adam(layer.parameters(), lr=1e-2)
        x = m.linspace(-1, 1, 80).reshape(2, 5, 8)
        out = []
        for _ in range(3):
            opt.zero_grad()
            loss = layer(x).pow(2).mean()
            loss.backward()
            opt.step()
            out.append(loss.detach())
        return out

    got, want = _same(train)
    # (rtol: float32 sums run in a CPU-dependent order: 1e-5 on AVX2, 7e-5 apart on AVX-512)
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=2e-4)


@pytest.mark.parametrize("kw", [dict(std=0.02), dict(mean=0.0, std=1.0, a=1.5, b=3.0),
                                dict(mean=0.5, std=2.0, a=-0.5, b=0.7)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_trunc_normal_samples_as_torch(kw, dtype):
    """PyTorch 2.13's rejection sampling (normal redraws, or uniform proposals accepted by
    density ratio): the same draws, the same values (to float32 normals' ulps and
    float64 rounding) and the stream left at the same place."""
    got, want = _same(lambda m: [m.nn.init.trunc_normal_(
        m.empty(1000, dtype=getattr(m, dtype)), **kw), m.rand(3)])
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(got[1], want[1])
    assert kw.get("a", -2.0) <= got[0].min() and got[0].max() <= kw.get("b", 2.0)
