"""Op behaviours Hugging Face transformers relies on, against torch 2.13:
scaled_dot_product_attention gives a zero output (and zero gradients) for a query whose keys
are all masked, an ``expand`` that repeats nothing is a writable view, and reductions take
numpy's ``axis``/``keepdims`` names."""

import ember
import ember.nn.functional as F
import numpy as np
import pytest

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("float_mask", [False, True])
def test_sdpa_fully_masked_rows_are_zero(float_mask):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 2, 4, 8)) for _ in range(3))
    keep = np.array([[False] * 4, [True, False, False, False], [True, True, False, True],
                     [True] * 4])

    def run(lib, tf):
        tq = lib.tensor(q, requires_grad=True)
        tk, tv = lib.tensor(k, requires_grad=True), lib.tensor(v, requires_grad=True)
        m = lib.tensor(keep)
        if float_mask:
            m = lib.zeros(4, 4, dtype=lib.float64).masked_fill(~m, float("-inf"))
        out = tf.scaled_dot_product_attention(tq, tk, tv, attn_mask=m)
        (out * lib.arange(8.0, dtype=lib.float64)).sum().backward()
        return [t.detach().numpy() for t in (out, tq.grad, tk.grad, tv.grad)]
    for got, ref in zip(run(ember, F), run(torch, torch.nn.functional)):
        assert not np.isnan(got).any()
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)


def test_expand_without_repeats_is_a_writable_view():
    base = ember.arange(5)
    view = base.expand((1, -1))
    view.copy_(ember.arange(5) * 2)
    assert base.tolist() == [0, 2, 4, 6, 8]
    tb = torch.arange(5)
    tb.expand((1, -1)).copy_(torch.arange(5) * 2)
    assert tb.tolist() == base.tolist()
    with pytest.raises(RuntimeError):
        ember.ones(3, 1).expand(3, 4).add_(1)


@pytest.mark.parametrize("name", ["all", "any", "sum", "nansum", "mean", "nanmean", "prod",
                                  "amax", "amin", "argmax", "argmin", "logsumexp"])
def test_reductions_accept_axis_and_keepdims(name):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    if name in ("all", "any"):
        x = x > 0
    got = getattr(ember, name)(ember.tensor(x), axis=1, keepdims=True)
    ref = getattr(torch, name)(torch.tensor(x), axis=1, keepdims=True)
    assert tuple(got.shape) == tuple(ref.shape)
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-6)
    method = getattr(ember.tensor(x), name)(axis=0)
    np.testing.assert_allclose(method.numpy(), getattr(torch.tensor(x), name)(axis=0).numpy(),
                               rtol=1e-6)
