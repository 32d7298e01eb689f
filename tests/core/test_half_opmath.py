"""float16/bfloat16 math as PyTorch's CPU kernels do it (``ember.ops._opmath``): in float32,
rounded once to the half type, scalars of products and quotients kept in float32, sums
accumulated in float32 (numpy alone sums 1001 bfloat16 values in [-3, 3] to 236, not 0).

Each op runs on the same rounded inputs in ember and torch 2.13; the ops that PyTorch
computes with one rounding give bit-identical results, the others (whose float32 steps
differ from PyTorch's vectorized ones) agree to two units in the last place."""

import ember
import numpy as np
import pytest
import torch
from torch_compare import to_numpy

X = np.linspace(-3, 3, 1001).astype(np.float32)
Y = (np.cos(np.linspace(0, 20, 1001)) + 1.5).astype(np.float32)  # positive
DTYPES = ["float16", "bfloat16"]


def F(m):
    return m.nn.functional


def rows(a, n=7):
    return a[:1001 // n * n].reshape(-1, n)


# ops PyTorch rounds once (or, for logsumexp, composes of half ops): equal bit for bit
EXACT = {
    "mul_scalar": lambda m, a, b: a * 0.1,
    "rmul_scalar": lambda m, a, b: 0.1 * a,
    "div_scalar": lambda m, a, b: a / 0.3,
    "rdiv_scalar": lambda m, a, b: 0.3 / b,
    "add_scalar": lambda m, a, b: a + 0.3,
    "sub_scalar": lambda m, a, b: a - 0.3,
    "rsub_scalar": lambda m, a, b: 0.7 - a,
    "add_alpha": lambda m, a, b: a.add(b, alpha=0.3),
    "sub_alpha": lambda m, a, b: a.sub(b, alpha=0.3),
    "mul_": lambda m, a, b: a.clone().mul_(0.1),
    "div_": lambda m, a, b: a.clone().div_(0.3),
    "add_alpha_": lambda m, a, b: a.clone().add_(b, alpha=0.1),
    "addcmul": lambda m, a, b: a.addcmul(a, b, value=0.1),
    "addcdiv": lambda m, a, b: a.addcdiv(a, b, value=0.1),
    "lerp_scalar": lambda m, a, b: a.lerp(b, 0.3),
    "lerp_tensor": lambda m, a, b: a.lerp(b, b / 4),
    "pow_scalar": lambda m, a, b: b ** 2.5,
    "pow_tensor": lambda m, a, b: b.pow(a),
    "exp": lambda m, a, b: a.exp(),
    "log": lambda m, a, b: b.log(),
    "sqrt": lambda m, a, b: b.sqrt(),
    "tanh": lambda m, a, b: a.tanh(),
    "sigmoid": lambda m, a, b: a.sigmoid(),
    "sin": lambda m, a, b: a.sin(),
    "softplus": lambda m, a, b: F(m).softplus(a),
    "elu": lambda m, a, b: F(m).elu(a),
    "leaky_relu": lambda m, a, b: F(m).leaky_relu(a, 0.1),
    "hardswish": lambda m, a, b: F(m).hardswish(a),
    "logsigmoid": lambda m, a, b: F(m).logsigmoid(a),
    "sum": lambda m, a, b: a.sum(),
    "sum_dim": lambda m, a, b: rows(b).sum(0),
    "mean": lambda m, a, b: b.mean(),
    "var": lambda m, a, b: b.var(),
    "std_dim": lambda m, a, b: rows(b).std(1),
    "norm": lambda m, a, b: b.norm(),
    "prod": lambda m, a, b: (b[:30] / 1.5).prod(),
    "cumsum": lambda m, a, b: b.cumsum(0),
    "softmax": lambda m, a, b: rows(a).softmax(-1),
    "log_softmax": lambda m, a, b: rows(a).log_softmax(-1),
    "logsumexp": lambda m, a, b: rows(a).logsumexp(-1),
    "rms_norm": lambda m, a, b: F(m).rms_norm(rows(a, 13), (13,)),
    "mse_loss": lambda m, a, b: F(m).mse_loss(a, b),
    "l1_loss": lambda m, a, b: F(m).l1_loss(a, b),
    "smooth_l1_loss": lambda m, a, b: F(m).smooth_l1_loss(a, b),
    "bce_with_logits": lambda m, a, b: F(m).binary_cross_entropy_with_logits(a, b / 3),
    "avg_pool1d": lambda m, a, b: F(m).avg_pool1d(a[:1000].reshape(4, 5, 50), 3),
    "floor_divide_scalar": lambda m, a, b: a.div(0.7, rounding_mode="floor"),
    "logit": lambda m, a, b: (b / 3).logit(),
    "instance_norm": lambda m, a, b: F(m).instance_norm(a[:1000].reshape(2, 5, 100)),
    "normalize": lambda m, a, b: F(m).normalize(rows(a, 13)),
    "cosine_similarity": lambda m, a, b: F(m).cosine_similarity(rows(a, 13), rows(b, 13)),
    "kl_div": lambda m, a, b: F(m).kl_div(rows(a).log_softmax(-1), rows(b).softmax(-1),
                                          reduction="batchmean"),
    "huber_loss": lambda m, a, b: F(m).huber_loss(a, b, delta=0.5),
    "selu": lambda m, a, b: F(m).selu(a),
    "prelu": lambda m, a, b: F(m).prelu(rows(a), b[:7]),
    "atan2": lambda m, a, b: m.atan2(a, b),
    "logaddexp": lambda m, a, b: m.logaddexp(a, b),
    "remainder_scalar": lambda m, a, b: a.remainder(0.7),
    "round_decimals": lambda m, a, b: a.round(decimals=1),
    "logcumsumexp": lambda m, a, b: a.logcumsumexp(0),
    "std_mean": lambda m, a, b: m.std_mean(rows(a), 1)[0],
    "nanmean": lambda m, a, b: a.nanmean(),
    "matmul": lambda m, a, b: rows(a) @ b[:21].reshape(7, 3),
    "conv2d": lambda m, a, b: F(m).conv2d(a[:1000].reshape(2, 5, 10, 10),
                                          b[:90].reshape(2, 5, 3, 3), padding=1),
    "addmm": lambda m, a, b: m.addmm(b[:30].reshape(10, 3), a[:70].reshape(10, 7),
                                     b[:21].reshape(7, 3), beta=0.5, alpha=0.3),
    "mul_0dim_tensor": lambda m, a, b: a * m.tensor(0.1),
    "mul_float64_0dim_tensor": lambda m, a, b: a * m.tensor(0.1, dtype=m.float64),
}

# ops whose float32 steps differ from PyTorch's vectorized kernels: within two ulps
CLOSE = {
    "rsqrt": lambda m, a, b: b.rsqrt(),
    "silu": lambda m, a, b: F(m).silu(a),
    "mish": lambda m, a, b: F(m).mish(a),
    "gelu": lambda m, a, b: F(m).gelu(a),
    "gelu_tanh": lambda m, a, b: F(m).gelu(a, approximate="tanh"),
    "layer_norm": lambda m, a, b: F(m).layer_norm(rows(a, 13), (13,)),
    "layer_norm_affine": lambda m, a, b: F(m).layer_norm(rows(a, 13), (13,), b[:13], a[:13]),
    "group_norm": lambda m, a, b: F(m).group_norm(a[:1000].reshape(5, 4, 50), 2),
    "cross_entropy": lambda m, a, b: F(m).cross_entropy(rows(a), (rows(b)[:, 0] * 4).long() % 7),
    "batch_norm_train": lambda m, a, b: F(m).batch_norm(a[:1000].reshape(5, 4, 50) * b[:1000]
                                                        .reshape(5, 4, 50), None, None,
                                                        training=True),
    "batch_norm_eval": lambda m, a, b: F(m).batch_norm(a[:1000].reshape(5, 4, 50), b[:4],
                                                       b[4:8], training=False),
    "nll_loss": lambda m, a, b: F(m).nll_loss(rows(a).log_softmax(-1),
                                              (rows(b)[:, 0] * 4).long() % 7),
    "interpolate_bilinear": lambda m, a, b: F(m).interpolate(
        a[:1000].reshape(2, 5, 10, 10), scale_factor=2, mode="bilinear"),
    "adaptive_avg_pool2d": lambda m, a, b: F(m).adaptive_avg_pool2d(
        a[:1000].reshape(2, 5, 10, 10), (3, 7)),
    "glu": lambda m, a, b: F(m).glu(rows(a, 13)[:, :12]),
    "softsign": lambda m, a, b: F(m).softsign(a),
    "xlogy": lambda m, a, b: m.xlogy(b, b),
    "sdpa": lambda m, a, b: F(m).scaled_dot_product_attention(
        a[:960].reshape(2, 4, 15, 8), b[:960].reshape(2, 4, 15, 8),
        a[:960].reshape(2, 4, 15, 8)),
}


def _inputs(dtype):
    tx, ty = (torch.from_numpy(v).to(getattr(torch, dtype)) for v in (X, Y))
    ex, ey = (ember.tensor(to_numpy(t)).to(getattr(ember, dtype)) for t in (tx, ty))
    return (tx, ty), (ex, ey)


def _both(fn, dtype):
    (tx, ty), (ex, ey) = _inputs(dtype)
    got, want = fn(ember, ex, ey), fn(torch, tx, ty)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    return to_numpy(got).astype(np.float32), to_numpy(want).astype(np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(EXACT))
def test_equals_torch_bit_for_bit(name, dtype):
    got, want = _both(EXACT[name], dtype)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CLOSE))
def test_within_two_ulps_of_torch(name, dtype):
    got, want = _both(CLOSE[name], dtype)
    ulp = 2.0 ** (-10 if dtype == "float16" else -7)
    np.testing.assert_allclose(got, want, rtol=2 * ulp, atol=1e-4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_long_half_sums_accumulate_in_float32(dtype):
    """The sum of 1001 symmetric half values is 0 (numpy's half accumulation gives 236 in
    bfloat16), and a sum past the half type's integer range is not stuck there."""
    (tx, _), (ex, _) = _inputs(dtype)
    assert float(ex.sum()) == float(tx.sum()) == 0.0
    ones = ember.ones(5000, dtype=getattr(ember, dtype))
    assert float(ones.sum()) == float(torch.ones(5000, dtype=getattr(torch, dtype)).sum())
    assert float(ones.mean()) == 1.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_running_statistics(dtype):
    (_, ty), (_, ey) = _inputs(dtype)
    stats = []
    for m, y in ((ember, ey), (torch, ty)):
        d = getattr(m, dtype)
        rm, rv = m.zeros(4, dtype=d), m.ones(4, dtype=d)
        w = m.tensor([0.7, 1.3, -0.4, 2.1]).to(d)
        b = m.tensor([0.1, -0.2, 0.3, 0.05]).to(d)
        out = F(m).batch_norm(y[:1000].reshape(5, 4, 50), rm, rv, w, b, training=True)
        stats.append([to_numpy(t).astype(np.float32) for t in (out, rm, rv)])
    ulp = 2.0 ** (-10 if dtype == "float16" else -7)
    for got, want in zip(*stats):
        np.testing.assert_allclose(got, want, rtol=2 * ulp, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["sigmoid", "softmax", "batch_norm_train", "mul_scalar",
                                  "logsumexp", "log_softmax", "rms_norm", "addcmul"])
def test_gradients_stay_in_the_half_dtype_and_near_torch(name, dtype):
    fn = EXACT.get(name) or CLOSE[name]
    grads = []
    for m, (a, b) in zip((ember, torch), reversed(_inputs(dtype))):
        a = a.clone().requires_grad_(True)
        out = fn(m, a, b)
        (out.float() * m.linspace(0.5, 1.5, out.numel()).reshape(out.shape)).sum().backward()
        assert str(a.grad.dtype).split(".")[-1] == dtype
        grads.append(to_numpy(a.grad).astype(np.float32))
    ulp = 2.0 ** (-10 if dtype == "float16" else -7)
    np.testing.assert_allclose(grads[0], grads[1], rtol=4 * ulp, atol=4 * ulp)
