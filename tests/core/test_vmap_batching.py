"""ember.vmap's batched path against torch.func.vmap: nested vmap over index vectors (as
transformers' attention-mask builders use it) runs the function once, with PyTorch's values;
functions using ops without a batched form still give PyTorch's values (element loop)."""

import ember
import numpy as np
import pytest

torch = pytest.importorskip("torch")

MASK_DIMS = [(None, None, None, 0), (None, None, 0, None), (None, 0, None, None),
             (0, None, None, None)]


def _mask_fn(lib, calls):
    pad = lib.tensor([[1, 1, 1, 0, 0, 1], [0, 1, 1, 1, 1, 1]]).bool()
    left = lib.tensor([0, 1])

    def causal(b, h, q, kv):
        return kv <= q

    def padding(b, h, q, kv):
        return pad[b, kv]

    def chunked(b, h, q, kv):
        return (kv - left[b]) // 2 == (q - left[b]) // 2

    def window(b, h, q, kv):
        return abs(q - kv) <= 3

    def combined(b, h, q, kv):
        calls.append(1)
        r = q.new_ones((), dtype=lib.bool)
        for m in (causal, padding, chunked, window):
            r = r & m(b, h, q, kv).to(r.device)
        return r | (h == 1) & (1 == b)

    f = combined
    for dims in MASK_DIMS:
        f = lib.vmap(f, in_dims=dims, out_dims=0)
    return f


def test_nested_mask_vmap_matches_torch_in_one_call():
    calls = []
    got = _mask_fn(ember, calls)(ember.arange(2), ember.arange(2), ember.arange(6),
                                 ember.arange(6))
    ref = _mask_fn(torch, [])(torch.arange(2), torch.arange(2), torch.arange(6),
                              torch.arange(6))
    assert tuple(got.shape) == tuple(ref.shape) == (2, 2, 6, 6)
    assert got.dtype == ember.bool
    np.testing.assert_array_equal(got.numpy(), ref.numpy())
    assert len(calls) == 1  # batched: the function ran once, not 2*2*6*6 times


@pytest.mark.parametrize("case", ["scalar_left", "plain_tensor", "promotion", "out_dims",
                                  "tuple_out", "unbatched_out", "index_int", "in_dim_1",
                                  "nested"])
def test_batched_ops_match_torch(case):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    w = rng.standard_normal((5, 4)).astype(np.float32)
    i = np.array([2, 0, 1])
    table = rng.standard_normal((3, 6)).astype(np.float32)
    cases = {
        "scalar_left": (lambda L: (lambda a: 2.0 - a * 3 + 1 / (abs(a) + 1)), (x,), 0, 0),
        "plain_tensor": (lambda L: (lambda a, m: m * a - (m >= a).float()), (x, w), (0, None),
                         0),
        "promotion": (lambda L: (lambda a, s: a + s), (x, np.arange(3.0)), (0, 0), 0),
        "out_dims": (lambda L: (lambda a: a * 2), (x,), 1, 1),
        "tuple_out": (lambda L: (lambda a: (a + 1, a > 0)), (x,), 0, (1, 0)),
        "unbatched_out": (lambda L: (lambda a, m: m + 1), (x, w), (0, None), 0),
        "index_int": (lambda L: (lambda j, t: t[j, 3] + t[1, j]), (i, table), (0, None), 0),
        "in_dim_1": (lambda L: (lambda a, m: a - m[0, :3]), (x, w), (1, None), -1),
        "nested": (lambda L: L.vmap(lambda a, b: a * b + (a > b).float(), in_dims=(None, 0)),
                   (x[0], w), (0, 1), 1),
    }
    make, args, in_dims, out_dims = cases[case]
    ours = ember.vmap(make(ember), in_dims=in_dims, out_dims=out_dims)(
        *[ember.tensor(a) for a in args])
    ref = torch.vmap(make(torch), in_dims=in_dims, out_dims=out_dims)(
        *[torch.tensor(a) for a in args])
    ours = ours if isinstance(ours, tuple) else (ours,)
    ref = ref if isinstance(ref, tuple) else (ref,)
    for o, r in zip(ours, ref):
        assert tuple(o.shape) == tuple(r.shape)
        assert str(o.dtype).split(".")[-1] == str(r.dtype).split(".")[-1]
        np.testing.assert_allclose(o.numpy(), r.numpy(), rtol=1e-6, atol=1e-6)


def test_unsupported_ops_fall_back_to_the_loop_with_torchs_values():
    x = np.random.default_rng(1).standard_normal((4, 3, 5)).astype(np.float32)

    def f(lib):
        return lambda a: (a.softmax(-1) * a.sum(0)).max(dim=-1).values + a[0, 1]
    got = ember.vmap(f(ember))(ember.tensor(x))
    ref = torch.vmap(f(torch))(torch.tensor(x))
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-6)


def test_randomness_modes():
    with pytest.raises(RuntimeError, match="randomness"):
        ember.vmap(lambda a: a + ember.rand(()))(ember.ones(3))
    same = ember.vmap(lambda a: a + ember.rand(()), randomness="same")(ember.zeros(3))
    assert bool((same == same[0]).all())
    diff = ember.vmap(lambda a: a + ember.rand(()), randomness="different")(ember.zeros(50))
    assert len(set(diff.tolist())) > 1


def test_vmap_of_grad_still_composes():
    x = ember.randn(3, 4)
    g = ember.vmap(ember.func.grad(lambda a: (a * a).sum()))(x)
    np.testing.assert_allclose(g.numpy(), 2 * x.numpy(), rtol=1e-6)
