"""Creation ops against PyTorch (logspace, the *_like family, full, empty_strided,
from_numpy) and random ops by their statistics: normal, bernoulli, multinomial, poisson and
the in-place fills, each exactly reproducible under ``ember.manual_seed``."""

import math

import ember
import numpy as np
import pytest
import torch
from torch_compare import assert_close, compare, compare_raises

N = 20000


def test_logspace(device):
    compare([], lambda m: (m.logspace(0, 2, 3), m.logspace(-1, 1, 5, base=2),
                           m.logspace(0, 2, 3, base=2, dtype=m.int64),
                           m.logspace(1, 3, 1), m.logspace(0, 1, 0),
                           m.logspace(0.5, 1.5, 4, dtype=m.float64)), device=device)


def test_like_family(device):
    """*_like keep shape, dtype and device unless told otherwise (values of the random ones
    are checked by statistics below)."""
    def f(m, x):
        xi = (x * 10).long()
        return (m.full_like(x, 2.5), m.full_like(xi, 2.7), m.full_like(x, 3, dtype=m.int32),
                m.zeros_like(xi), m.ones_like(x, dtype=m.bool), m.empty_like(x).shape,
                m.rand_like(x).shape, m.randn_like(x, dtype=m.float64).dtype,
                m.randint_like(x, 5).dtype, m.randint_like(xi, 2, 9).shape,
                m.full_like(x, 1.0, requires_grad=True).requires_grad)
    compare([(2, 3)], f, device=device, grad=False)


def test_full_dtype_inference(device):
    compare([], lambda m: (m.full((2,), 3), m.full((2,), 3.0), m.full((1,), True),
                           m.full((2, 1), 1 + 2j), m.full([2], 1, dtype=m.float16)),
            device=device)


def test_empty_strided(device):
    def f(m):
        a = m.empty_strided((2, 3), (1, 2))
        b = m.empty_strided((2, 3), (3, 1), dtype=m.int64)
        c = m.empty_strided((0, 4), (4, 1))
        d = m.empty_strided((3,), (0,))
        return (a.shape, a.stride(), b.stride(), b.dtype, c.shape, d.stride(),
                a.is_contiguous(), b.is_contiguous())
    compare([], f, device=device)
    compare_raises([], lambda m: m.empty_strided((2, 3), (1,)), device=device)


def test_from_numpy_and_as_tensor_share_memory():
    a = np.zeros(4, dtype=np.float32)
    for t in (ember.from_numpy(a), ember.as_tensor(a), ember.asarray(a)):
        t[1] = 5.0
        assert a[1] == 5.0
        a[2] = 7.0
        assert t[2].item() == 7.0
    assert ember.tensor(a)._data is not a


def test_tensor_explicit_float64_is_exact():
    """Python floats given an explicit float64 dtype are not rounded through float32."""
    assert ember.tensor([0.1, 0.9], dtype=ember.float64).tolist() == [0.1, 0.9]
    assert ember.tensor(0.1, dtype=ember.float64).item() == 0.1
    assert_close(ember.tensor([[0.1]], dtype=ember.complex128),
                 torch.tensor([[0.1]], dtype=torch.complex128))


# -- statistics ------------------------------------------------------------------------------
def _mean_close(x, mean, std, n=N, k=6.0):
    """The sample mean is within ``k`` standard errors of ``mean``."""
    assert abs(float(x.double().mean()) - mean) <= k * std / math.sqrt(n) + 1e-9, \
        (float(x.double().mean()), mean)


def test_normal_forms(device):
    ember.manual_seed(0)
    a = ember.normal(2.0, 3.0, (N,), device=device)
    assert a.dtype is ember.float32 and a.shape == (N,)
    _mean_close(a, 2.0, 3.0)
    assert abs(float(a.std()) - 3.0) < 0.1
    mean = ember.full((N,), -1.0, device=device)
    b = ember.normal(mean, 0.5)
    _mean_close(b, -1.0, 0.5)
    c = ember.normal(1.0, ember.full((N,), 2.0, dtype=ember.float64, device=device))
    assert c.dtype is ember.float64
    _mean_close(c, 1.0, 2.0)
    d = ember.normal(mean, ember.full((N,), 0.1, device=device))
    _mean_close(d, -1.0, 0.1)
    e = ember.normal(0.0, 1.0, size=(2, 3), dtype=ember.float64, device=device)
    assert e.shape == (2, 3) and e.dtype is ember.float64


def test_normal_gradient(device):
    """normal(mean, std) is ``mean + std * eps``: d/dmean = 1, d/dstd = eps."""
    ember.manual_seed(1)
    m = ember.zeros(5, requires_grad=True, device=device)
    s = ember.ones(5, requires_grad=True, device=device)
    y = ember.normal(m, s)
    y.sum().backward()
    assert_close(m.grad, torch.ones(5))
    assert_close(s.grad, torch.tensor(y.detach().cpu().numpy()))


def test_bernoulli(device):
    ember.manual_seed(0)
    p = ember.full((N,), 0.3, device=device)
    x = ember.bernoulli(p)
    assert x.dtype is ember.float32 and set(np.unique(x.cpu().numpy())) <= {0.0, 1.0}
    _mean_close(x, 0.3, math.sqrt(0.21))
    y = ember.bernoulli(ember.zeros(N, dtype=ember.float64, device=device), 0.8)
    assert y.dtype is ember.float64
    _mean_close(y, 0.8, 0.4)
    z = ember.empty(N, device=device).bernoulli_(0.6)
    _mean_close(z, 0.6, math.sqrt(0.24))
    w = ember.empty(N, device=device).bernoulli_(p)
    _mean_close(w, 0.3, math.sqrt(0.21))
    q = p.bernoulli()
    _mean_close(q, 0.3, math.sqrt(0.21))


def test_bernoulli_and_poisson_requires_grad_zero_gradient(device):
    """As in torch, samples of a tensor requiring grad require grad, with zero gradient."""
    def f(m, x):
        p = x.sigmoid()
        return m.bernoulli(p) * 0 + m.poisson(p * 3) * 0
    compare([(4,)], f, device=device)


def test_poisson(device):
    ember.manual_seed(0)
    for rate in (0.5, 4.0, 30.0):
        x = ember.poisson(ember.full((N,), rate, device=device))
        assert x.dtype is ember.float32
        _mean_close(x, rate, math.sqrt(rate))
        assert abs(float(x.var()) - rate) < 0.1 * rate + 0.05
    assert ember.poisson(ember.zeros(3, dtype=ember.float64)).dtype is ember.float64
    compare_raises([(3,)], lambda m, x: m.poisson(x.long()), device=device)


def test_multinomial(device):
    ember.manual_seed(0)
    w = ember.tensor([1.0, 2.0, 0.0, 7.0], device=device)
    s = ember.multinomial(w, N, replacement=True)
    counts = np.bincount(s.cpu().numpy(), minlength=4) / N
    np.testing.assert_allclose(counts, [0.1, 0.2, 0.0, 0.7], atol=0.015)
    rows = ember.multinomial(ember.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 1.0]]), 3)
    assert rows.shape == (2, 3) and rows.dtype is ember.int64
    assert sorted(rows[0].tolist()) == [0, 1, 2] and rows[1, 0].item() == 2
    first = ember.multinomial(ember.tensor([[9.0, 1.0]]).expand(N, 2), 1)
    _mean_close(first.float(), 0.1, 0.3)
    compare_raises([(3,)], lambda m, x: m.multinomial(x.abs(), 4), device=device)
    compare_raises([(3,)], lambda m, x: m.multinomial(-x.abs(), 1), device=device)


FILLS = {
    "uniform_": (lambda t: t.uniform_(-2, 4), 1.0, math.sqrt(36 / 12)),
    "normal_": (lambda t: t.normal_(1.5, 0.5), 1.5, 0.5),
    "exponential_": (lambda t: t.exponential_(4.0), 0.25, 0.25),
    "geometric_": (lambda t: t.geometric_(0.25), 4.0, math.sqrt(0.75) / 0.25),
    "log_normal_": (lambda t: t.log_normal_(0.0, 0.5), math.exp(0.125),
                    math.sqrt((math.exp(0.25) - 1) * math.exp(0.25))),
    "random_range": (lambda t: t.random_(3, 10), 6.0, math.sqrt((49 - 1) / 12)),
    "random_to": (lambda t: t.random_(5), 2.0, math.sqrt(2.0)),
    "bernoulli_": (lambda t: t.bernoulli_(0.25), 0.25, math.sqrt(0.1875)),
}


@pytest.mark.parametrize("name", sorted(FILLS))
def test_inplace_fill_statistics(name, device):
    """Each fill writes in place (same tensor back, version bumped) with the right mean and
    spread, and torch's gives the same statistics."""
    fill, mean, std = FILLS[name]
    ember.manual_seed(0)
    t = ember.empty(N, dtype=ember.float64, device=device)
    v0 = t._version
    assert fill(t) is t and t._version > v0
    _mean_close(t, mean, std)
    torch.manual_seed(0)
    tt = fill(torch.empty(N, dtype=torch.float64))
    assert abs(float(t.std()) - float(tt.std())) < 0.1 * std + 0.02
    if name.startswith("random") or name == "geometric_":
        assert np.array_equal(t.cpu().numpy(), np.round(t.cpu().numpy()))


def test_cauchy_median(device):
    """Cauchy has no mean: check the median and quartiles."""
    ember.manual_seed(0)
    t = ember.empty(N, device=device).cauchy_(1.0, 2.0)
    q = np.quantile(t.cpu().numpy(), [0.25, 0.5, 0.75])
    np.testing.assert_allclose(q, [-1.0, 1.0, 3.0], atol=0.12)


def test_random_defaults(device):
    """random_() without bounds: [0, 2**mantissa] for floats, [0, max] for integers."""
    ember.manual_seed(0)
    f = ember.empty(N, dtype=ember.float32, device=device).random_()
    assert float(f.min()) >= 0 and float(f.max()) <= 2 ** 24 and float(f.max()) > 2 ** 23
    h = ember.empty(N, dtype=ember.float16, device=device).random_()
    assert float(h.max()) <= 2 ** 11
    i = ember.empty(N, dtype=ember.int8, device=device).random_()
    assert int(i.min()) >= 0 and int(i.max()) == 127
    b = ember.empty(N, dtype=ember.bool, device=device).random_()
    _mean_close(b.float(), 0.5, 0.5)
    big = ember.empty(N, dtype=ember.int64, device=device).random_()
    assert int(big.min()) >= 0 and int(big.max()) > 2 ** 60


@pytest.mark.parametrize("name", sorted(FILLS) + ["cauchy_"])
def test_reproducible_under_manual_seed(name, device):
    fill = FILLS[name][0] if name in FILLS else (lambda t: t.cauchy_())
    ember.manual_seed(123)
    a = fill(ember.empty(50, device=device)).cpu().numpy().copy()
    ember.manual_seed(123)
    b = fill(ember.empty(50, device=device)).cpu().numpy()
    np.testing.assert_array_equal(a, b)
    g = ember.Generator().manual_seed(7)
    c = ember.empty(50).uniform_(generator=g).numpy().copy()
    g.manual_seed(7)
    d = ember.empty(50).uniform_(generator=g).numpy()
    np.testing.assert_array_equal(c, d)


def test_sampling_functions_reproducible(device):
    def draw():
        p = ember.full((100,), 0.5, device=device)
        return np.concatenate([ember.bernoulli(p).cpu().numpy(),
                               ember.poisson(p * 4).cpu().numpy(),
                               ember.multinomial(p, 10).cpu().numpy(),
                               ember.normal(p, 1.0).cpu().numpy(),
                               ember.rand(5, device=device).cpu().numpy()])
    ember.manual_seed(5)
    a = draw()
    ember.manual_seed(5)
    np.testing.assert_array_equal(a, draw())


@pytest.mark.parametrize("fn", [
    lambda m, x: x.uniform_(2, 1),
    lambda m, x: x.random_(5, 2),
    lambda m, x: x.long().exponential_(),
    lambda m, x: x.long().cauchy_(),
    lambda m, x: x.long().log_normal_(),
    lambda m, x: x.geometric_(1.5),
    lambda m, x: x.exponential_(-1.0),
    lambda m, x: x.normal_(0, -1.0),
    lambda m, x: m.bernoulli(x + 5),
    lambda m, x: m.poisson(x - 5),
    lambda m, x: m.bernoulli(x.long()),
])
def test_errors(fn, device):
    compare_raises([(4,)], fn, device=device)


def test_fill_on_leaf_requiring_grad_raises(device):
    compare_raises([(4,)], lambda m, x: x.normal_(), grad=True, device=device)
    compare_raises([(4,)], lambda m, x: x.exponential_(), grad=True, device=device)
    x = ember.zeros(4, requires_grad=True)
    with ember.no_grad():
        x.uniform_(-1, 1)  # nn.init does this
    assert x.requires_grad and float(x.abs().max()) <= 1


def test_fill_on_non_leaf_cuts_gradient(device):
    """A random fill of a non-leaf: the old value gets a zero gradient (as torch)."""
    compare([(5,)], lambda m, x: (x * 2).exponential_().shape, device=device)
    x = ember.ones(5, requires_grad=True)
    y = x * 2
    y.uniform_()
    (y * x).sum().backward()
    assert_close(x.grad, torch.tensor(y.detach().numpy()))
