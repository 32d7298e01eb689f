"""The meta device (shape and dtype, no data) against PyTorch: factories and the
``with device("meta")`` default, shape/dtype inference of ops, no-op in-place fills and
initialisers, the errors for reading values, ``to_empty``, ``load_state_dict(assign=True)``
and the repr."""

import tracemalloc

import ember
import numpy as np
import pytest
import torch


def _meta_of(t):
    """``(device type, shape, dtype name, requires_grad)`` of a tensor of either library."""
    return (t.device.type, tuple(t.shape), str(t.dtype).split(".")[-1], t.requires_grad)


CASES = {
    "empty": lambda m: m.empty(3, device="meta"),
    "zeros_dtype": lambda m: m.zeros(2, 3, dtype=m.int32, device="meta"),
    "ones_grad": lambda m: m.ones(2, device="meta", requires_grad=True),
    "full": lambda m: m.full((2, 2), 1.5, device="meta"),
    "arange": lambda m: m.arange(5, device="meta"),
    "randn": lambda m: m.randn(4, 2, device="meta"),
    "rand_f64": lambda m: m.rand(3, dtype=m.float64, device="meta"),
    "randint": lambda m: m.randint(0, 5, (3,), device="meta"),
    "tensor": lambda m: m.tensor([1, 2, 3], device="meta"),
    "eye": lambda m: m.eye(3, device="meta"),
    "empty_like": lambda m: m.empty_like(m.empty(2, 5, device="meta")),
    "new_empty": lambda m: m.empty(2, device="meta", dtype=m.float16).new_empty(4, 1),
    "new_zeros": lambda m: m.empty(2, device="meta").new_zeros(3),
    "zeros_like_cpu": lambda m: m.zeros_like(m.empty(2, 3, device="meta"), device="cpu"),
    "to_meta": lambda m: m.ones(2, 3).to("meta"),
    "add": lambda m: m.empty(2, 3, device="meta") + m.empty(3, device="meta"),
    "mul_scalar": lambda m: m.empty(2, 3, device="meta", dtype=m.float16) * 2.5,
    "matmul": lambda m: m.empty(4, 2, 3, device="meta") @ m.empty(3, 5, device="meta"),
    "sum": lambda m: m.empty(4, 6, device="meta").sum(1),
    "mean_keep": lambda m: m.empty(4, 6, device="meta").mean(0, keepdim=True),
    "softmax": lambda m: m.empty(4, 6, device="meta").softmax(-1),
    "view_t": lambda m: m.empty(4, 6, device="meta").view(2, 12).t(),
    "cast": lambda m: m.empty(4, 6, device="meta").to(m.bfloat16),
    "compare": lambda m: m.empty(4, device="meta") > 0,
    "cat": lambda m: m.cat([m.empty(2, 3, device="meta"), m.empty(1, 3, device="meta")]),
    "index": lambda m: m.empty(5, 3, device="meta")[1:4, 0],
    "grad_fn": lambda m: m.empty(2, device="meta", requires_grad=True) * 2,
    "rpow": lambda m: 10000.0 ** (m.arange(0, 8, 2, device="meta").float() / 8),
    "expand": lambda m: m.arange(6, device="meta").expand((2, -1)),
    "linear": lambda m: m.nn.functional.linear(m.empty(2, 3, device="meta"),
                                               m.empty(4, 3, device="meta")),
    "layer_norm": lambda m: m.nn.functional.layer_norm(m.empty(2, 5, 8, device="meta"),
                                                       (8,)),
    "gelu": lambda m: m.nn.functional.gelu(m.empty(2, 5, device="meta")),
}


@pytest.mark.parametrize("name", list(CASES))
def test_meta_results_match_torch(name):
    assert _meta_of(CASES[name](ember)) == _meta_of(CASES[name](torch))


def test_device_context_and_modules():
    for m in (torch, ember):
        with m.device("meta"):
            lin = m.nn.Linear(3, 4)
            made = [m.empty(2), m.zeros(2), m.tensor([1.0]), m.arange(3), m.randn(2)]
        assert lin.weight.device.type == "meta" and lin.weight.is_meta
        assert all(t.is_meta for t in made)
        assert m.empty(2).device.type == "cpu"  # the context is over
    lin = ember.nn.Linear(3, 4, device="meta")
    assert lin.weight.is_meta and not lin.weight.is_cpu and lin.weight.requires_grad
    assert lin.weight.stride() == (3, 1) and lin.weight.is_contiguous()


def _raised(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - compared with PyTorch's
        return type(exc), str(exc).split("!")[0]
    return None


@pytest.mark.parametrize("what", ["item", "item_many", "float", "bool", "tolist", "numpy",
                                  "to_cpu", "cpu", "copy_out"])
def test_reading_values_raises_as_torch(what):
    def fn(m):
        t = m.empty((), device="meta") if what in ("item", "float", "bool") else \
            m.empty(2, 3, device="meta")
        return {"item": lambda: t.item(), "item_many": lambda: t.item(),
                "float": lambda: float(t), "bool": lambda: bool(t),
                "tolist": lambda: t.tolist(), "numpy": lambda: t.numpy(),
                "to_cpu": lambda: t.to("cpu"), "cpu": lambda: t.cpu(),
                "copy_out": lambda: m.empty(2, 3).copy_(t)}[what]
    got, want = _raised(fn(ember)), _raised(fn(torch))
    assert want is not None and got == want


def test_module_to_raises_and_to_empty_allocates():
    for m in (torch, ember):
        lin = m.nn.Linear(3, 4, device="meta")
        with pytest.raises(NotImplementedError, match="Cannot copy out of meta tensor"):
            lin.to("cpu")
        w = lin.weight
        lin.to_empty(device="cpu")
        assert lin.weight.device.type == "cpu" and lin.weight.requires_grad
        assert type(lin.weight) is type(w)
        assert tuple(lin(m.ones(2, 3)).shape) == (2, 4)


def test_inplace_fills_and_init_are_noops_without_memory():
    big = ember.empty(50_000, 50_000, device="meta")  # 10 GB if it were real
    tracemalloc.start()
    try:
        ember.nn.init.normal_(big)
        ember.nn.init.kaiming_uniform_(big, a=5 ** 0.5)
        ember.nn.init.trunc_normal_(big, std=0.02)
        ember.nn.init.zeros_(big)
        ember.nn.init.constant_(big, 3.0)
        big.zero_()
        big.fill_(2.0)
        big.normal_()
        big.uniform_()
        big.copy_(ember.ones(50_000))
        big.add_(1).mul_(2)
        out = (big * 2 + 1).to(ember.float16)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50_000_000, peak
    assert out.is_meta and tuple(out.shape) == (50_000, 50_000) and out.dtype == ember.float16


def test_load_state_dict_assign_replaces_meta_params():
    src = torch.nn.Linear(3, 4)
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    want = src(torch.from_numpy(x)).detach().numpy()
    lin = ember.nn.Linear(3, 4, device="meta")
    lin.load_state_dict({k: ember.from_numpy(v.detach().numpy().copy())
                         for k, v in src.state_dict().items()}, assign=True)
    assert not lin.weight.is_meta and lin.weight.requires_grad
    got = lin(ember.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("make", [
    lambda m: m.empty(2, 3, device="meta"),
    lambda m: m.empty(2, 3, device="meta", dtype=m.float64),
    lambda m: m.empty((), device="meta"),
    lambda m: m.zeros(2, dtype=m.int64, device="meta"),
    lambda m: m.empty(2, device="meta", requires_grad=True),
    lambda m: m.empty(2, device="meta", requires_grad=True) * 2,
    lambda m: m.nn.Parameter(m.empty(2, device="meta")),
])
def test_repr_matches_torch(make):
    assert repr(make(ember)).replace("ember.", "torch.") == repr(make(torch))


def test_device_mismatch_raises():
    for m in (torch, ember):
        with pytest.raises(RuntimeError):
            m.empty(2, 3, device="meta") + m.ones(2, 3)


def test_numpy_functions_with_values_refuse():
    t = ember.empty(3, device="meta")
    with pytest.raises((NotImplementedError, RuntimeError)):
        ember.equal(t, t)
