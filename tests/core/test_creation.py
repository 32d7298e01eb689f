"""Tensor creation against PyTorch: factories, *_like, ranges, random tensors, seeding,
generators and RNG state."""

import ember
import numpy as np
import pytest
import torch
from torch_compare import assert_close, compare_raises

FACTORIES = {
    "zeros": lambda m, d: m.zeros(2, 3, device=d),
    "zeros_tuple": lambda m, d: m.zeros((2, 3), dtype=m.int32, device=d),
    "zeros_empty_shape": lambda m, d: m.zeros((), device=d),
    "ones": lambda m, d: m.ones(4, dtype=m.float64, device=d),
    "ones_size": lambda m, d: m.ones(m.Size([2, 1]), device=d),
    "full_float": lambda m, d: m.full((2, 2), 1.5, device=d),
    "full_int": lambda m, d: m.full((2,), 3, device=d),
    "full_bool": lambda m, d: m.full((2,), True, device=d),
    "full_dtype": lambda m, d: m.full((2,), 3, dtype=m.float16, device=d),
    "empty_shape": lambda m, d: m.empty(3, 0, device=d).shape,
    "arange_int": lambda m, d: m.arange(5, device=d),
    "arange_start_end": lambda m, d: m.arange(2, 9, 3, device=d),
    "arange_float": lambda m, d: m.arange(0, 1, 0.1, device=d),
    "arange_neg_step": lambda m, d: m.arange(5, 0, -1.5, device=d),
    "arange_dtype": lambda m, d: m.arange(5, dtype=m.float64, device=d),
    "arange_float_to_int": lambda m, d: m.arange(0.5, 4, dtype=m.int64, device=d),
    "linspace": lambda m, d: m.linspace(0, 1, 5, device=d),
    "linspace_one": lambda m, d: m.linspace(2, 3, 1, device=d),
    "linspace_int": lambda m, d: m.linspace(0, 10, 4, dtype=m.int64, device=d),
    "linspace_neg": lambda m, d: m.linspace(3, -3, 7, device=d),
    "logspace": lambda m, d: m.logspace(0, 2, 3, device=d),
    "eye": lambda m, d: m.eye(3, device=d),
    "eye_rect": lambda m, d: m.eye(2, 4, dtype=m.int64, device=d),
    "scalar_tensor": lambda m, d: m.scalar_tensor(3, device=d),
    "zeros_requires_grad": lambda m, d: m.zeros(2, requires_grad=True, device=d),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_factory(name, device):
    """Each factory gives torch's values, dtype, shape and requires_grad."""
    e, t = FACTORIES[name](ember, device), FACTORIES[name](torch, None)
    assert_close(e, t)
    if isinstance(t, torch.Tensor):
        assert e.requires_grad == t.requires_grad and str(e.device).startswith(device)


LIKE = {
    "zeros_like": lambda m, x: m.zeros_like(x),
    "ones_like_dtype": lambda m, x: m.ones_like(x, dtype=m.int64),
    "full_like": lambda m, x: m.full_like(x, 7),
    "full_like_float_on_int": lambda m, x: m.full_like(x.long(), 2.7),
    "empty_like_shape": lambda m, x: m.empty_like(x).shape,
    "zeros_like_rg": lambda m, x: m.zeros_like(x, requires_grad=True),
}


@pytest.mark.parametrize("name", sorted(LIKE))
def test_like_factories(name, device):
    """*_like factories copy shape, dtype (unless given) and device."""
    x = np.arange(6.0).reshape(2, 3)
    e = LIKE[name](ember, ember.tensor(x, dtype=ember.float32, device=device))
    t = LIKE[name](torch, torch.tensor(x, dtype=torch.float32))
    assert_close(e, t)


def test_factories_errors(device):
    """Negative sizes, zero steps, wrong-direction ranges and bad sizes raise."""
    compare_raises([], lambda m: m.zeros(-1), device=device)
    compare_raises([], lambda m: m.arange(0, 5, 0), device=device)
    compare_raises([], lambda m: m.arange(5, 0, 1), device=device)
    compare_raises([], lambda m: m.linspace(0, 1, -1), device=device)
    compare_raises([], lambda m: m.zeros(2.5), device=device)
    compare_raises([], lambda m: m.randint(5, 2, (3,)), device=device)


def test_requires_grad_on_int_factory_raises(device):
    """requires_grad=True for an integer factory raises."""
    compare_raises([], lambda m: m.zeros(2, dtype=m.int64, requires_grad=True), device=device)
    compare_raises([], lambda m: m.arange(3, requires_grad=True), device=device)


def test_random_factories_shapes_and_dtypes(device):
    """rand/randn/randint/randperm shapes, dtypes and ranges."""
    ember.manual_seed(0)
    r = ember.rand(2, 3, device=device)
    assert r.shape == (2, 3) and r.dtype is ember.float32 and 0 <= r.min().item() < 1
    n = ember.randn((4,), dtype=ember.float64, device=device)
    assert n.shape == (4,) and n.dtype is ember.float64
    i = ember.randint(3, 7, (50,), device=device)
    assert i.dtype is ember.int64 and i.min().item() >= 3 and i.max().item() < 7
    i2 = ember.randint(4, (3, 2), device=device)
    assert i2.shape == (3, 2) and i2.max().item() < 4
    p = ember.randperm(10, device=device)
    assert p.dtype is ember.int64 and sorted(p.tolist()) == list(range(10))
    assert ember.rand(3, requires_grad=True, device=device).requires_grad
    assert ember.rand(2, dtype=ember.float16, device=device).dtype is ember.float16
    assert ember.randint(0, 5, (2,), dtype=ember.int32, device=device).dtype is ember.int32


def test_random_like(device):
    """rand_like/randn_like/randint_like follow the input's shape, dtype and device."""
    x = ember.zeros(2, 3, dtype=ember.float64, device=device)
    assert ember.rand_like(x).dtype is ember.float64 and ember.randn_like(x).shape == (2, 3)
    r = ember.randint_like(x, 5)
    assert r.dtype is ember.float64 and r.max().item() < 5


def test_rand_int_dtype_raises(device):
    """rand with an integer dtype raises."""
    compare_raises([], lambda m: m.rand(2, dtype=m.int64), device=device)


def test_randn_distribution(device):
    """randn has mean 0 and std 1; rand is uniform on [0, 1)."""
    ember.manual_seed(1)
    a = np.asarray(ember.randn(20000, device=device).cpu())
    assert abs(a.mean()) < 0.03 and abs(a.std() - 1) < 0.03
    u = np.asarray(ember.rand(20000, device=device).cpu())
    assert abs(u.mean() - 0.5) < 0.01 and u.min() >= 0 and u.max() < 1


def test_manual_seed_reproducible(device):
    """The same seed gives the same stream; a different seed a different one."""
    def draw():
        return (ember.rand(5, device=device).tolist(), ember.randn(3, device=device).tolist(),
                ember.randint(0, 100, (4,), device=device).tolist(),
                ember.randperm(6, device=device).tolist())
    ember.manual_seed(123)
    a = draw()
    ember.manual_seed(123)
    b = draw()
    ember.manual_seed(124)
    c = draw()
    assert a == b and a != c


def test_manual_seed_returns_generator():
    """manual_seed returns the default generator; initial_seed reports the seed."""
    g = ember.manual_seed(42)
    assert isinstance(g, ember.Generator) and ember.initial_seed() == 42


def test_generator_objects(device):
    """A Generator gives a stream independent of the global one and reproducible."""
    g1 = ember.Generator().manual_seed(7)
    ember.manual_seed(0)
    a = ember.rand(4, generator=g1).tolist()
    ember.rand(10)
    g2 = ember.Generator()
    g2.manual_seed(7)
    b = ember.rand(4, generator=g2).tolist()
    assert a == b and g1.initial_seed() == 7
    p1 = ember.randperm(8, generator=ember.Generator().manual_seed(3)).tolist()
    p2 = ember.randperm(8, generator=ember.Generator().manual_seed(3)).tolist()
    assert p1 == p2


def test_get_set_rng_state(device):
    """set_rng_state restores the stream saved by get_rng_state."""
    ember.manual_seed(5)
    state = ember.get_rng_state()
    a = ember.rand(4).tolist()
    ember.rand(7)
    ember.set_rng_state(state)
    assert ember.rand(4).tolist() == a and state.dtype is ember.uint8


def test_generator_state_round_trip():
    """Generator.get_state/set_state."""
    g = ember.Generator().manual_seed(9)
    s = g.get_state()
    a = ember.randn(3, generator=g).tolist()
    g.set_state(s)
    assert ember.randn(3, generator=g).tolist() == a


def test_set_rng_state_rejects_garbage():
    """A state that isn't one of ours raises instead of unpickling arbitrary objects."""
    import pickle

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    bad = ember.tensor(list(pickle.dumps(Evil())), dtype=ember.uint8)
    with pytest.raises(Exception):  # noqa: B017
        ember.set_rng_state(bad)


def test_uniform_normal_fill_use_generator(device):
    """uniform_/normal_ with a generator are reproducible."""
    x = ember.empty(5, device=device)
    a = x.uniform_(generator=ember.Generator(device).manual_seed(1)).tolist()
    b = x.uniform_(generator=ember.Generator(device).manual_seed(1)).tolist()
    assert a == b
    other = "cuda" if x.device.type == "cpu" else "cpu"
    if other == "cpu" or ember.cuda.is_available():  # torch's error for another device's
        with pytest.raises(RuntimeError, match=f"Expected a '{x.device.type}' device type"):
            x.uniform_(generator=ember.Generator(other))


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the no-CUDA behaviour")
def test_cuda_generator_without_cuda_raises_at_construction():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        ember.Generator("cuda")


def test_default_device_and_dtype_used_by_factories():
    """Factories use the default dtype (set_default_dtype)."""
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.zeros(2).dtype is ember.float64 and ember.rand(2).dtype is ember.float64
        assert ember.arange(0.0, 2).dtype is ember.float64
        assert ember.full((1,), 1.5).dtype is ember.float64
    finally:
        ember.set_default_dtype(ember.float32)


def test_device_objects():
    """device parsing, equality and repr like torch."""
    for spec in ("cpu", "cuda", "cuda:1"):
        assert repr(ember.device(spec)) == repr(torch.device(spec))
        assert str(ember.device(spec)) == str(torch.device(spec))
    assert ember.device("cuda", 0) == ember.device("cuda:0")
    for spec in ("cpu", "cuda:0", "npu"):  # a device never equals a string in torch 2.13
        assert (ember.device("cpu") == spec) == (torch.device("cpu") == spec)
        assert (ember.device("cpu") != spec) == (torch.device("cpu") != spec)
        assert (spec == ember.device("cpu")) == (spec == torch.device("cpu"))
    compare_raises([], lambda m: m.device("tpu"))


def test_device_types_without_a_backend():
    """Every PyTorch device type names a device (code compares against ``device('mps')``),
    comparing with a string that names no device is False, not an error (accelerate's
    ``device == "npu"``), and putting a tensor on a device type ember has no backend for
    raises NotImplementedError (a RuntimeError), as PyTorch's CPU build does for mps."""
    for spec in ("mps", "xpu", "xpu:1", "hpu", "xla", "privateuseone", "mtia", "ipu"):
        assert repr(ember.device(spec)) == repr(torch.device(spec))
        assert ember.device(spec).type == torch.device(spec).type
    compare_raises([], lambda m: m.device("npu"))
    assert not (ember.device("cpu") == "npu") and ember.device("cpu") != "not a device"
    assert ember.device("mps") != ember.device("cpu")
    for call in (lambda: ember.zeros(2, device="mps"), lambda: ember.ones(2).to("xpu"),
                 lambda: ember.tensor([1.0], device=ember.device("hpu"))):
        with pytest.raises(NotImplementedError, match="no .* backend"):
            call()
    with pytest.raises(NotImplementedError):
        torch.zeros(2, device="mps")


def test_cuda_unavailable_message(device):
    """Asking for cuda without it raises a clear RuntimeError naming the fix."""
    if ember.cuda.is_available():
        pytest.skip("CUDA is available")
    with pytest.raises(RuntimeError, match="CuPy"):
        ember.zeros(2, device="cuda")
