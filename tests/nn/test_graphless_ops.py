"""The ops that run on their arrays directly, without a graph node, when no graph is
recorded (``ops.op.graphless``: ``no_grad``, nothing traced or profiled): ``cat``,
single-row ``layer_norm``, last-dim ``softmax``, ``matmul``, ``linear``, ``gelu``, and
``add``/``mul``/``div``. Under ``no_grad`` each gives PyTorch's values and the op path's
(grad on) exactly, never requires grad, raises the op path's errors, and still shows up
under ``jit.trace`` and the profiler; half-precision operands keep the op path (computed in
float32)."""

import ember
import numpy as np
import pytest
import torch
from ember.ops import op as ops_op

RNG = np.random.default_rng(11)
X = RNG.standard_normal((1, 1, 48)).astype(np.float32)
W = RNG.standard_normal((40, 48)).astype(np.float32)
B = RNG.standard_normal(40).astype(np.float32)
LN_W = RNG.standard_normal(48).astype(np.float32)
LN_B = RNG.standard_normal(48).astype(np.float32)
PAST = RNG.standard_normal((1, 4, 5, 12)).astype(np.float32)
Q = RNG.standard_normal((1, 4, 1, 12)).astype(np.float32)
S = RNG.standard_normal((2, 4, 1, 6)).astype(np.float32)


def _cases(fw):
    F = fw.nn.functional
    t = fw.tensor
    return {
        "cat": lambda: fw.cat([t(PAST), t(Q)], dim=2),
        "cat_neg_dim": lambda: fw.cat((t(PAST), t(Q)), dim=-2),
        "layer_norm": lambda: F.layer_norm(t(X), (48,), t(LN_W), t(LN_B), 1e-5),
        "softmax": lambda: F.softmax(t(S), dim=-1),
        "softmax_dim3": lambda: F.softmax(t(S), dim=3),
        "matmul": lambda: fw.matmul(t(Q), t(PAST).transpose(-1, -2)),
        "matmul_broadcast": lambda: fw.matmul(t(S), t(PAST[0, 0, :, :6].T.copy())),
        "linear": lambda: F.linear(t(X), t(W), t(B)),
        "linear_no_bias": lambda: F.linear(t(X[0]), t(W)),
        "add": lambda: t(X) + t(LN_W),
        "mul": lambda: t(X) * 3.0,
        "div": lambda: t(S) / 2.5,
        "div_tensor": lambda: t(S) / t(S[:1] + 4.0),
        "linear_f64": lambda: F.linear(t(X.astype(np.float64)), t(W.astype(np.float64))),
        "gelu_tanh": lambda: F.gelu(t(W), approximate="tanh"),
        "gelu": lambda: F.gelu(t(W)),
        "gelu_f64": lambda: F.gelu(t(W.astype(np.float64))),
    }


@pytest.mark.parametrize("name", sorted(_cases(torch)))
def test_graphless_values_match_torch_and_the_op_path(name):
    with torch.no_grad():
        ref = _cases(torch)[name]().numpy()
    with_graph = _cases(ember)[name]().numpy()  # grad mode on: the op path
    with ember.no_grad():
        assert ops_op.graphless()
        y = _cases(ember)[name]()
    assert y.requires_grad is False and y.grad_fn is None
    assert y.dtype == ember.from_numpy(with_graph).dtype and y.shape == with_graph.shape
    np.testing.assert_array_equal(y.numpy(), with_graph)
    np.testing.assert_allclose(y.numpy(), ref, rtol=2e-6, atol=2e-6)


def test_graphless_results_of_grad_requiring_inputs_need_no_grad():
    w = ember.tensor(W, requires_grad=True)
    b = ember.tensor(B, requires_grad=True)
    with ember.no_grad():
        for y in (ember.nn.functional.linear(ember.tensor(X), w, b), w * 2.0, w + w,
                  ember.cat([w, w]), ember.matmul(w, w.t())):
            assert y.requires_grad is False and y.grad_fn is None


def test_op_path_is_taken_with_grad_on():
    """With grad mode on, the same calls record their nodes (their backward works)."""
    x = ember.tensor(X, requires_grad=True)
    y = ember.nn.functional.layer_norm(x, (48,), ember.tensor(LN_W), ember.tensor(LN_B))
    z = ember.cat([y, y], dim=1) * 2.0 / 3.0 + 1.0
    assert type(z.grad_fn).__name__.startswith("Add")
    z.sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape


@pytest.mark.parametrize("call, error", [
    (lambda fw: fw.ones(2, 3) + fw.ones(4), "size of tensor a|broadcast"),
    (lambda fw: fw.ones(2, 3) * fw.ones(2, 2), "size of tensor a|broadcast"),
    (lambda fw: fw.ones(2, 3) / fw.ones(3, 2), "size of tensor a|broadcast"),
    (lambda fw: fw.cat([fw.ones(2, 3), fw.ones(4, 3)], dim=1), "Sizes of tensors must match"),
    (lambda fw: fw.cat([fw.ones(2, 3), fw.ones(2, 3, 1)]), "same number of dimensions"),
    (lambda fw: fw.matmul(fw.ones(2, 3), fw.ones(4, 2)), "cannot be multiplied"),
    (lambda fw: fw.nn.functional.linear(fw.ones(1, 3), fw.ones(4, 3), fw.ones(5)),
     "must match the existing size|could not be broadcast"),
])
def test_graphless_errors_are_the_op_paths(call, error):
    with torch.no_grad(), pytest.raises(RuntimeError, match=error):
        call(torch)
    with ember.no_grad(), pytest.raises(RuntimeError, match=error):
        call(ember)


def test_cat_promotes_and_skips_empty_under_no_grad():
    with ember.no_grad():
        mixed = ember.cat([ember.tensor([1, 2]), ember.tensor([0.5], dtype=ember.float64)])
        skipped = ember.cat([ember.zeros(0), ember.ones(2, 3)], dim=1)
    assert mixed.dtype == ember.float64 and mixed.tolist() == [1.0, 2.0, 0.5]
    assert skipped.shape == (2, 3)


@pytest.mark.parametrize("dtype", [ember.float16, ember.bfloat16])
def test_half_precision_keeps_the_op_path(dtype):
    """float16/bfloat16 products and sums are computed in float32 and rounded once, under
    no_grad as with grad on."""
    a = ember.tensor(W[:4, :8]).to(dtype)
    b = ember.tensor(W[4:12, :6]).to(dtype)
    with_graph = [ember.matmul(a, b).float().numpy(), (a + a * 3.0).float().numpy()]
    with ember.no_grad():
        graphless = [ember.matmul(a, b).float().numpy(), (a + a * 3.0).float().numpy()]
    for g, o in zip(graphless, with_graph):
        np.testing.assert_array_equal(g, o)


def test_layer_norm_special_rows_under_no_grad_match_torch():
    rows = [[1.0] * 8, [float("inf")] + [0.0] * 7, [float("nan")] + [1.0] * 7]
    for row in rows:
        for eps in (1e-5, 0.0):
            outs = []
            for fw in (ember, torch):
                with fw.no_grad():
                    ln = fw.nn.LayerNorm(8, eps=eps)
                    outs.append(ln(fw.tensor([row])).numpy())
            np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6, atol=1e-6, equal_nan=True)


def test_graphless_ops_are_traced_and_profiled():
    def fn(x, w):
        h = ember.nn.functional.linear(x, w)
        h = ember.nn.functional.layer_norm(h, (40,), ember.ones(40), ember.zeros(40))
        s = ember.nn.functional.softmax(ember.nn.functional.gelu(h) / 2.0, dim=-1)
        return ember.cat([s * 3.0, s + 1.0], dim=1).matmul(ember.ones(80, 2))

    x, w = ember.tensor(X[0]), ember.tensor(W)
    with ember.no_grad():
        assert ops_op.graphless()
        traced = ember.jit.trace(fn, (x, w))
        x2 = ember.randn(1, 48)
        np.testing.assert_array_equal(traced(x2, w).numpy(), fn(x2, w).numpy())
        with ember.autograd.profiler.profile() as prof:
            fn(x, w)
        assert ops_op.graphless()
    names = {e.name for e in prof.function_events}
    assert {"aten::linear", "aten::layer_norm", "aten::softmax", "aten::div", "aten::mul",
            "aten::add", "aten::cat", "aten::matmul", "aten::gelu"} <= names
