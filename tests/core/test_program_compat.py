"""Behaviours that real PyTorch programs (pytorch/examples) relied on and ember got wrong:
each test is against torch 2.13 on the same input."""

import ember
import numpy as np
import pytest
import torch
from torch_compare import to_numpy

INPLACE_ACTIVATIONS = {
    "leaky_relu": lambda F, x: F.leaky_relu(x, 0.2, inplace=True),
    "elu": lambda F, x: F.elu(x, inplace=True),
    "selu": lambda F, x: F.selu(x, inplace=True),
    "celu": lambda F, x: F.celu(x, 0.7, inplace=True),
    "silu": lambda F, x: F.silu(x, inplace=True),
    "mish": lambda F, x: F.mish(x, inplace=True),
    "hardtanh": lambda F, x: F.hardtanh(x, -0.5, 1.0, inplace=True),
    "relu6": lambda F, x: F.relu6(x, inplace=True),
    "hardswish": lambda F, x: F.hardswish(x, inplace=True),
    "hardsigmoid": lambda F, x: F.hardsigmoid(x, inplace=True),
    "threshold": lambda F, x: F.threshold(x, 0.1, 2.0, inplace=True),
    "rrelu_eval": lambda F, x: F.rrelu(x, training=False, inplace=True),
    "relu": lambda F, x: F.relu(x, inplace=True),
}


@pytest.mark.parametrize("name", sorted(INPLACE_ACTIVATIONS))
def test_inplace_activation_on_a_graph_value_backpropagates(name):
    # e.g. BatchNorm -> LeakyReLU(inplace=True) in DCGAN: the op must not save the value it
    # overwrites (ember raised "modified by an inplace operation")
    fn = INPLACE_ACTIVATIONS[name]
    vals = np.linspace(-3.7, 3.3, 23).astype(np.float32)
    grads, outs = [], []
    for m in (torch, ember):
        w = m.tensor(vals, requires_grad=True)
        y = w * 1.5
        out = fn(m.nn.functional, y)
        assert out is y  # in place
        (out * m.arange(23.0)).sum().backward()
        grads.append(to_numpy(w.grad))
        outs.append(to_numpy(out))
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-5, atol=1e-6)


def test_hardswish_gradient_at_the_edges():
    got = []
    for m in (torch, ember):
        w = m.tensor([-3.0, 3.0, -3.5, 2.5], requires_grad=True)
        m.nn.functional.hardswish(w).sum().backward()
        got.append(to_numpy(w.grad))
    np.testing.assert_array_equal(got[1], got[0])


@pytest.mark.parametrize("a,b", [(1, 0), (1.0, 0), (True, False), (2, 0.5), (1j, 0)])
def test_where_with_two_python_scalars(a, b):
    cond = np.array([True, False, True])
    t = torch.where(torch.tensor(cond), a, b)
    e = ember.where(ember.tensor(cond), a, b)
    assert e.dtype.name == str(t.dtype).split(".")[1]
    np.testing.assert_array_equal(to_numpy(e), to_numpy(t))


@pytest.mark.parametrize("args", [(0, 1, 7), (-4, 4, 9), (0.1, 7.3, 33), (3, -2.5, 101),
                                  (0, 1, 1000), (-1e3, 2e4, 77)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linspace_bitwise_equal_to_torch(args, dtype):
    t = torch.linspace(*args, dtype=getattr(torch, dtype)).numpy()
    e = ember.linspace(*args, dtype=getattr(ember, dtype)).numpy()
    np.testing.assert_array_equal(e, t)


def test_randint_with_high_as_the_only_positional():
    t = ember.randint(5, size=(200,))
    assert t.dtype == ember.int64 and t.shape == (200,)
    assert 0 <= int(t.min()) and int(t.max()) < 5
    assert ember.randint(ember.tensor(3), size=(4,)).shape == (4,)


def test_index_with_a_range():
    for m in (torch, ember):
        x = m.arange(12.0).reshape(3, 4)
        x[range(3), 2] = 99.0
        x[range(3), m.tensor([0, 1, 3])] = -1.0
        if m is torch:
            want = x.numpy().copy()
    np.testing.assert_array_equal(x.numpy(), want)
    np.testing.assert_array_equal(ember.arange(6)[range(1, 4)].numpy(), [1, 2, 3])


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_products_keep_their_dtype(dtype):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 8), np.float32), rng.standard_normal((8, 6), np.float32)
    td, ed = getattr(torch, dtype), getattr(ember, dtype)
    ta, tb = torch.tensor(a).to(td), torch.tensor(b).to(td)
    ea, eb = ember.tensor(a).to(ed), ember.tensor(b).to(ed)
    pairs = [(ta @ tb, ea @ eb), (torch.mm(ta, tb), ember.mm(ea, eb)),
             (torch.nn.functional.linear(ta, tb.T), ember.nn.functional.linear(ea, eb.T)),
             (torch.addmm(ta[:, :6], ta, tb), ember.addmm(ea[:, :6], ea, eb)),
             (torch.einsum("ij,jk->ik", ta, tb), ember.einsum("ij,jk->ik", ea, eb))]
    for t, e in pairs:
        assert e.dtype == ed
        np.testing.assert_array_equal(to_numpy(e), to_numpy(t))
    tc = torch.nn.Conv2d(3, 4, 3).to(td)
    ec = ember.nn.Conv2d(3, 4, 3).to(ed)
    ec.load_state_dict({k: ember.tensor(v.float().numpy()).to(ed)
                        for k, v in tc.state_dict().items()})
    x = rng.standard_normal((2, 3, 6, 6), np.float32)
    ey = ec(ember.tensor(x).to(ed))
    assert ey.dtype == ed
    np.testing.assert_allclose(to_numpy(ey), to_numpy(tc(torch.tensor(x).to(td))),
                               rtol=2e-2, atol=2e-2)


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the no-CUDA behaviour")
def test_data_parallel_on_cpu_runs_the_module_and_prefixes_state_dict():
    torch.manual_seed(0)
    tnet = torch.nn.DataParallel(torch.nn.Linear(3, 2))
    enet = ember.nn.DataParallel(ember.nn.Linear(3, 2))
    assert list(enet.state_dict()) == list(tnet.state_dict()) == ["module.weight",
                                                                   "module.bias"]
    enet.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tnet.state_dict().items()})
    x = np.ones((4, 3), np.float32)
    np.testing.assert_allclose(enet(ember.tensor(x)).detach().numpy(),
                               tnet(torch.tensor(x)).detach().numpy(), rtol=1e-6)
    out = ember.nn.parallel.data_parallel(enet.module, ember.tensor(x))
    assert out.shape == (4, 2)


def test_consume_prefix_in_state_dict_if_present():
    from ember.nn.modules.utils import consume_prefix_in_state_dict_if_present as ec
    from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present as tc

    sd_t = torch.nn.DataParallel(torch.nn.Linear(2, 2)).state_dict()
    sd_e = ember.nn.DataParallel(ember.nn.Linear(2, 2)).state_dict()
    tc(sd_t, "module.")
    ec(sd_e, "module.")
    assert list(sd_e) == list(sd_t) == ["weight", "bias"]


def test_torch_module_paths_programs_name():
    from ember.nn.modules.activation import MultiheadAttention
    from ember.nn.modules.linear import NonDynamicallyQuantizableLinear

    assert MultiheadAttention is ember.nn.MultiheadAttention
    assert issubclass(NonDynamicallyQuantizableLinear, ember.nn.Linear)
    t = ember.zeros(2)
    assert not (t.is_xpu or t.is_mps or t.is_mkldnn or t.is_nested or t.is_vulkan)


def test_accelerator_and_cpu_device_modules():
    has_gpu = ember.cuda.is_available()
    assert ember.accelerator.is_available() == has_gpu
    assert ember.accelerator.device_count() == ember.cuda.device_count()
    if has_gpu:
        assert ember.accelerator.current_accelerator().type == "cuda"
    else:
        assert ember.accelerator.current_accelerator() is None
        assert ember.accelerator.current_device_index() == -1
        with pytest.raises(RuntimeError, match="no accelerator"):
            ember.accelerator.set_device_index(0)
    ember.accelerator.synchronize()
    assert ember.cpu.is_available() and ember.cpu.device_count() == 1
    ember.cpu.synchronize()
    with ember.cpu.stream(ember.cpu.current_stream()):
        pass


def test_leaf_grad_never_aliases_the_users_gradient():
    # x.t().backward(G) handed x a transposed view of G; the second backward then wrote into G
    x = ember.zeros(2, 3, requires_grad=True)
    g = ember.ones(3, 2)
    x.t().backward(g)
    x.t().backward(g)
    np.testing.assert_array_equal(g.numpy(), np.ones((3, 2)))
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 2.0))


def test_dtype_is_signed_and_is_nonzero_match_torch():
    for name in ["uint8", "uint16", "uint32", "uint64", "int8", "int64", "bool", "float16"]:
        assert getattr(ember, name).is_signed == getattr(torch, name).is_signed, name
    with pytest.raises(RuntimeError, match="no values"):
        ember.is_nonzero(ember.tensor([]))
    assert ember.is_nonzero(ember.tensor([3]))


def _graph_names(m):
    b = m.ones(3, requires_grad=True).sin()
    fns = [(2 * b).grad_fn, (2 + b).grad_fn, (b * 2).grad_fn]
    return [[None if f is None else type(f).__name__ if m is torch else f.name()
             for f, _ in fn.next_functions] for fn in fns]


def test_reflected_operators_keep_the_tensor_first_in_the_graph():
    # the introyt autograd tutorial walks grad_fn.next_functions[0][0] from `2 * b`
    t, e = _graph_names(torch), _graph_names(ember)
    assert [[n is None for n in row] for row in e] == [[n is None for n in row] for row in t]
    for m in (torch, ember):
        x = m.tensor([6, 3], dtype=m.uint8)
        assert (5 & x).tolist() == [4, 1] and (5 | x).tolist() == [7, 7]
        assert (5 ^ x).tolist() == [3, 6]


def test_repr_parameter_once_and_suffix_wrapping_like_torch():
    def cases(m):
        yield m.nn.Parameter(m.ones(2))
        yield [m.nn.Parameter(m.ones(2), requires_grad=False)]
        yield m.linspace(0.0, 6.2832, 25, requires_grad=True)
        yield m.linspace(0.0, 6.2832, 8, requires_grad=True) * 2
        yield m.ones(7, dtype=m.float64, requires_grad=True) * 3.14159
        yield m.arange(30).reshape(3, 10) * 1000
    for a, b in zip(cases(torch), cases(ember)):
        assert repr(b).replace("ember.", "torch.") == repr(a)


def test_sdpa_output_keeps_the_query_layout():
    x = np.random.default_rng(0).standard_normal((2, 5, 3, 4)).astype(np.float32)
    grads = []
    for m in (torch, ember):
        x0 = m.tensor(x, requires_grad=True)
        q = x0.transpose(1, 2)
        y = m.nn.functional.scaled_dot_product_attention(q, q, q)
        assert tuple(y.stride()) == (60, 4, 12, 1)
        z = y.transpose(1, 2).view(2, 5, 12)  # the SDPA tutorial's reshape
        (z * z).sum().backward()
        grads.append(to_numpy(x0.grad))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-4, atol=1e-5)


def test_affine_grid_in_theta_dtype_and_grid_sample_gradient():
    img = np.sin(np.arange(784.0, dtype=np.float32)).reshape(1, 1, 28, 28)
    got = []
    for m in (torch, ember):
        theta = m.tensor([[[1.0, 0, 0], [0, 1, 0]]], requires_grad=True)
        g = m.nn.functional.affine_grid(theta, (1, 1, 28, 28), align_corners=False)
        m.nn.functional.grid_sample(m.tensor(img), g, align_corners=False).sum().backward()
        got.append((to_numpy(g), to_numpy(theta.grad)))
    np.testing.assert_array_equal(got[1][0], got[0][0])
    np.testing.assert_allclose(got[1][1], got[0][1], rtol=1e-4, atol=1e-3)


def test_grid_sample_nearest_gives_the_grid_a_zero_gradient():
    for m in (torch, ember):
        theta = m.eye(2, 3).unsqueeze(0).requires_grad_()
        g = m.nn.functional.affine_grid(theta, (1, 1, 4, 4), align_corners=False)
        out = m.nn.functional.grid_sample(m.rand(1, 1, 4, 4), g, mode="nearest",
                                          align_corners=False)
        out.sum().backward()
        np.testing.assert_array_equal(to_numpy(theta.grad), np.zeros((1, 2, 3)))


def test_deprecated_scalar_first_overloads():
    from ember.ops import elementwise

    elementwise._WARNED_DEPRECATED.clear()  # warned once per process, as PyTorch
    with pytest.warns(UserWarning, match="deprecated"):
        p = ember.ones(3)
        p.add_(-0.5, ember.full((3,), 2.0))
    np.testing.assert_array_equal(p.numpy(), [0.0, 0.0, 0.0])
    with pytest.warns(UserWarning, match="deprecated"):
        t = ember.full((3,), 2.0)
        r = ember.sub(t, 0.5, ember.ones(3)).numpy()
        c = ember.ones(3).addcmul(2, ember.full((3,), 2.0), ember.full((3,), 3.0)).numpy()
        d = ember.addcdiv(ember.ones(3), 2, ember.full((3,), 2.0), ember.full((3,), 4.0)).numpy()
    np.testing.assert_array_equal(r, [1.5] * 3)
    np.testing.assert_array_equal(c, [13.0] * 3)
    np.testing.assert_array_equal(d, [2.0] * 3)


def test_complex_abs_second_derivative_matches_torch():
    x = np.random.default_rng(0).standard_normal(6)
    got = []
    for m in (torch, ember):
        a = m.tensor(x, dtype=m.float64, requires_grad=True)
        y = m.complex(a, a * a).abs()
        (g1,) = m.autograd.grad(y.sum(), a, create_graph=True)
        (g2,) = m.autograd.grad((g1 * g1).sum(), a)
        z = m.tensor(x[:3] + 1j * x[3:], requires_grad=True)
        (gz,) = m.autograd.grad(z.abs().sum(), z, create_graph=True)
        (gz2,) = m.autograd.grad((gz.real ** 2 + gz.imag * 3).sum(), z)
        z0 = m.zeros(2, dtype=m.complex128, requires_grad=True)
        (g0,) = m.autograd.grad(z0.abs().sum(), z0)
        got.append([to_numpy(t) for t in (g1, g2, gz, gz2, g0)])
    for e, t in zip(got[1], got[0]):
        np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12)


def test_sparse_private_accessors_are_methods():
    got = []
    for m in (torch, ember):
        s = m.sparse_coo_tensor(m.tensor([[1, 0, 1], [2, 0, 2]]), m.tensor([3.0, 4.0, 5.0]),
                                (2, 3))
        got.append((s._indices().tolist(), s._values().tolist(),
                    s.coalesce().indices().tolist(), s.coalesce().values().tolist()))
    assert got[1] == got[0]


def test_types_module_aliases_work_in_isinstance():
    from ember.types import Device, Number

    assert isinstance(2.5, Number) and isinstance(True, Number) and not isinstance("x", Number)
    assert isinstance(ember.device("cpu"), Device) and isinstance("cuda:0", Device)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_norms_and_clamps_keep_dtype_and_values(dtype):
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    got = []
    for m in (torch, ember):
        t = m.tensor(x).to(getattr(m, dtype))
        r = [t.norm(), m.linalg.vector_norm(t, 3, 1), m.nn.functional.normalize(t, dim=1),
             m.linalg.vector_norm(t, float("inf")), t.clamp_min(0.1), t.clamp(max=0.2),
             t.clamp(-0.5, 0.5)]
        got.append(([str(a.dtype).split(".")[1] for a in r], [to_numpy(a) for a in r]))
    assert got[1][0] == got[0][0]
    for e, t in zip(got[1][1], got[0][1]):
        np.testing.assert_array_equal(e, t)


def test_device_as_a_context_manager_sets_and_restores_the_default():
    before = ember.get_default_device()
    with ember.device("cpu") as d:
        assert d == ember.device("cpu") and ember.get_default_device() == d
        assert ember.zeros(2).device == d
        with ember.device("cpu"):
            pass
        assert ember.get_default_device() == d
    assert ember.get_default_device() == before
    with pytest.raises(ValueError):
        with ember.device("cpu"):
            raise ValueError("inside")
    assert ember.get_default_device() == before


# --- found running timm's models with ``import ember as torch`` ---------------------------

def test_data_classes_are_generic_like_torchs():
    # timm: ``class ScheduledBatchSampler(Sampler[List[Tuple[Any, int]]])``
    from collections.abc import Iterable
    from typing import Any

    from ember.utils.data import DataLoader, Dataset, IterableDataset, Sampler

    class Batches(Sampler[list[tuple[Any, int]]]):
        def __iter__(self):
            return iter([[0, 1], [2]])

    class Stream(IterableDataset[int]):
        def __iter__(self):
            return iter(range(3))

    class Items(Dataset[int]):
        def __getitem__(self, i):
            return i * 10

        def __len__(self):
            return 3

    assert issubclass(IterableDataset, Iterable) and isinstance(Stream(), Iterable)
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=2)] == [[0, 1], [2]]
    assert [b.tolist() for b in DataLoader(Items(), batch_sampler=Batches())] == \
        [[0, 10], [20]]
    assert DataLoader[int].__origin__ is DataLoader


def test_jit_annotations_exports_typing_names():
    # timm: ``from torch.jit.annotations import List``
    from ember.jit import annotations as ours
    from torch.jit import annotations as theirs

    for name in ("List", "Tuple", "Optional"):
        assert getattr(ours, name)[int] == getattr(theirs, name)[int]
    assert ours.Dict[str, int] == theirs.Dict[str, int]
    for name in ("BroadcastingList1", "BroadcastingList2", "BroadcastingList3"):
        assert getattr(ours, name)[int] == ours.List[int]


@pytest.mark.parametrize("fn", ["zeros", "ones", "empty", "rand", "randn"])
def test_factories_take_size_as_a_keyword(fn):
    # timm's BEiT: ``torch.zeros(size=(n, n), dtype=...)``
    for m in (torch, ember):
        t = getattr(m, fn)(size=(2, 3), dtype=m.float64)
        assert tuple(t.shape) == (2, 3) and t.dtype == m.float64
        with pytest.raises(TypeError, match="size"):
            getattr(m, fn)(3, size=(2,))
    with pytest.raises(TypeError, match="unexpected keyword argument 'sizes'"):
        getattr(ember, fn)(sizes=(2,))


ACTIVATIONS_F64 = ["hardsigmoid", "hardswish", "relu6", "silu", "gelu", "mish", "hardtanh",
                   "elu", "selu", "softplus", "sigmoid", "tanh", "leaky_relu", "logsigmoid",
                   "celu", "softsign", "tanhshrink", "hardshrink", "softshrink"]


@pytest.mark.parametrize("name", ACTIVATIONS_F64)
def test_float64_activation_gradients_equal_torchs(name):
    # timm's MobileNetV3 in float64: torch's hardsigmoid backward scales by a float32 1/6,
    # which ember's did not (3e-8 relative gradient differences)
    x = np.random.default_rng(0).standard_normal(1000) * 4
    outs = []
    for m in (torch, ember):
        t = m.tensor(x, requires_grad=True)
        y = getattr(m.nn.functional, name)(t)
        (y * m.arange(1000, dtype=m.float64)).sum().backward()
        outs.append((to_numpy(y.detach()), to_numpy(t.grad)))
    np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-15, atol=1e-15)
    # tanh's 1 - y**2 cancels where |y| ~ 1: an ulp of y becomes ~1e-8 relative
    rtol = 1e-7 if name == "tanh" else 1e-14
    np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=rtol, atol=1e-13)


def test_torch_C_probes_answer_as_on_a_cpu_build():
    # timm: ``hasattr(getattr(torch._C, '_CudaDeviceProperties', None), 'L2_cache_size')``
    assert getattr(ember._C, "_CudaDeviceProperties", None) is None
    assert ember._C._get_tracing_state() is torch._C._get_tracing_state() is None
    ember._C._log_api_usage_once("ember.test")
    assert ember._C._cuda_getDeviceCount() == ember.cuda.device_count()
    with ember.no_grad():
        ember._C._set_grad_enabled(True)
        assert ember.is_grad_enabled()
    assert issubclass(ember.nn.Parameter, ember._C.TensorBase)


def test_inf_and_nan_results_do_not_warn_but_users_numpy_still_does():
    # torch computes 1/0, log(0), sqrt(-1) and overflowing casts silently; numpy warns. Run
    # as a program does (ember imported at top level, default filters), in a subprocess:
    # pytest's own warning capture drops filters set while it collects
    import subprocess
    import sys

    program = (
        "import warnings, numpy as np, ember\n"
        "a = ember.tensor([1.0, 0.0, -1.0])\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    out = [a / 0, ember.log(a), ember.sqrt(a), ember.tensor([1e30]).to(ember.float16),\n"
        "           ember.tensor([1e300], dtype=ember.float64).exp()]\n"
        "assert caught == [], [str(w.message) for w in caught]\n"
        "assert np.isinf(out[0].numpy()).sum() == 2 and np.isnan(out[1].numpy()).sum() == 1\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    np.array([1.0]) / 0\n"
        "assert [w.category for w in caught] == [RuntimeWarning], caught\n")
    proc = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "RuntimeWarning" not in proc.stderr


def test_underscore_assert_like_torch():
    for m in (torch, ember):
        m._assert(m.tensor(True), "fine")
        with pytest.raises(AssertionError, match="boom"):
            m._assert(False, "boom")


def test_assert_async_like_torch():
    """``torch._assert_async(t[, msg])`` (kornia validates factors with it)."""
    for m in (torch, ember):
        m._assert_async(m.tensor(True))
        m._assert_async(m.tensor(2.5), "fine")
        with pytest.raises(RuntimeError, match="single nonzero value, but got zero"):
            m._assert_async(m.tensor(False))
        with pytest.raises(RuntimeError, match="my message"):
            m._assert_async(m.tensor(0.0), "my message")
        with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
            m._assert_async(m.tensor([1, 1]))


def test_complex32_is_declared_like_torch():
    """``torch.complex32`` (``chalf``) can be named and compared (kornia lists it among
    floating/complex dtypes); ember has no complex half storage, so making one raises."""
    for m in (torch, ember):
        assert m.chalf is m.complex32 and m.complex32.is_complex
        assert not m.complex32.is_floating_point and m.complex32.itemsize == 4
        assert m.float64 not in (m.complex32, m.complex64) and m.complex32 != m.complex64
    with pytest.raises(TypeError, match="no complex32"):
        ember.empty(0, dtype=ember.complex32)


def test_symbolic_scalar_types_like_torch():
    """``torch.SymInt``/``SymFloat``/``SymBool`` exist (kornia checks ``isinstance(n, (int,
    torch.SymInt))``); plain Python numbers are not instances of them."""
    for m in (torch, ember):
        assert m.types.SymInt is m.SymInt
        for cls, value in ((m.SymInt, 3), (m.SymFloat, 2.5), (m.SymBool, True)):
            assert isinstance(cls, type) and not isinstance(value, cls)
        assert isinstance(3, m.types.IntLikeType)


@pytest.mark.parametrize("case", ["conv2d", "conv2d_1x1", "conv2d_groups", "conv1d",
                                  "conv3d", "conv_transpose2d"])
def test_convolutions_of_an_empty_batch(case):
    # torchvision's Mask R-CNN runs its mask head on zero RoIs; ember divided by zero
    results = []
    for m in (torch, ember):
        F = m.nn.functional
        spec = {"conv2d": (F.conv2d, (0, 3, 8, 8), (4, 3, 3, 3), {"padding": 1}),
                "conv2d_1x1": (F.conv2d, (0, 3, 8, 8), (4, 3, 1, 1), {}),
                "conv2d_groups": (F.conv2d, (0, 4, 5, 5), (4, 1, 3, 3), {"groups": 4}),
                "conv1d": (F.conv1d, (0, 3, 10), (4, 3, 3), {"stride": 2}),
                "conv3d": (F.conv3d, (0, 2, 4, 4, 4), (3, 2, 3, 3, 3), {}),
                "conv_transpose2d": (F.conv_transpose2d, (0, 3, 8, 8), (3, 4, 3, 3),
                                     {"stride": 2})}[case]
        fn, xs, ws, kw = spec
        x = m.zeros(*xs, requires_grad=True)
        w = m.ones(*ws, requires_grad=True)
        b = m.ones(ws[1] if fn is F.conv_transpose2d else ws[0], requires_grad=True)
        y = fn(x, w, b, **kw)
        (y * 2).sum().backward()
        results.append((tuple(y.shape), tuple(x.grad.shape), to_numpy(w.grad), to_numpy(b.grad)))
    assert results[1][:2] == results[0][:2]
    np.testing.assert_array_equal(results[1][2], results[0][2])
    np.testing.assert_array_equal(results[1][3], results[0][3])


def test_every_lazy_submodule_imports_and_missing_ones_answer_hasattr():
    # ember listed "masked"/"overrides" without the modules: hasattr(torch, "masked")
    # raised ModuleNotFoundError instead of answering False
    for name in sorted(ember._LAZY_SUBMODULES):
        assert getattr(ember, name).__name__ == f"ember.{name}"
    for name in sorted(ember._NOT_PROVIDED):
        assert not hasattr(ember, name)
        assert hasattr(torch, name)


def test_overrides_helpers_answer_as_for_plain_tensors():
    for m in (torch, ember):
        t = m.ones(2)
        assert m.overrides.has_torch_function((t,)) is False
        assert m.overrides.has_torch_function_unary(t) is False
        assert m.overrides.has_torch_function_variadic(t, t) is False
        assert m.overrides.is_tensor_like(t) and not m.overrides.is_tensor_like(3.0)
    with pytest.raises(NotImplementedError, match="handle_torch_function"):
        ember.overrides.handle_torch_function(ember.add, (ember.ones(1),), ember.ones(1))


# --- found running PyTorch Lightning with ``import ember as torch`` -----------------------

@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the no-CUDA behaviour")
def test_constants_and_declared_types_like_torch():
    import math

    for name in ("inf", "nan", "pi", "e"):
        a, b = getattr(ember, name), getattr(torch, name)
        assert (math.isnan(a) and math.isnan(b)) or a == b
    assert ember.newaxis is torch.newaxis is None
    assert isinstance(ember.jit.trace(ember.nn.Linear(2, 2), ember.ones(1, 2)),
                      ember.ScriptModule)
    assert ember._C._TensorMeta is type(ember.Tensor)
    assert ember.profiler.kineto_available() is False
    assert ember.cuda.get_rng_state_all() == [] and ember.cuda.set_rng_state_all([]) is None


def test_untyped_storage():
    t = ember.arange(6, dtype=ember.float32)
    s = t[2:].untyped_storage()
    assert isinstance(s, ember.UntypedStorage)
    assert s.nbytes() == 24 and s.data_ptr() == t.data_ptr() and len(s) == 24
    assert ember.UntypedStorage(10).nbytes() == torch.UntypedStorage(10).nbytes() == 10


def test_parse_to_like_torch():
    cases = [(("cpu",), {}), ((ember.float64,), {}), (("cpu", ember.float16), {}),
             ((), {"device": "cpu", "dtype": ember.int64, "non_blocking": True})]
    for args, kw in cases:
        targs = tuple(getattr(torch, a.name) if isinstance(a, ember.dtype) else a for a in args)
        tkw = {k: getattr(torch, v.name) if isinstance(v, ember.dtype) else v
               for k, v in kw.items()}
        ours, theirs = ember._C._nn._parse_to(*args, **kw), torch._C._nn._parse_to(*targs, **tkw)
        assert str(ours[0]) == str(theirs[0]) and ours[2:] == theirs[2:]
        assert (ours[1] is None) == (theirs[1] is None)
        assert ours[1] is None or ours[1].name == str(theirs[1]).split(".")[-1]
    like = ember._C._nn._parse_to(ember.ones(1, dtype=ember.float64))
    assert like[1] is ember.float64 and like[0].type == "cpu"


def test_pytorch_file_reader_reads_torch_checkpoints(tmp_path):
    path = tmp_path / "c.pt"
    torch.save({"a": torch.arange(3.0)}, path)
    ours, theirs = ember.PyTorchFileReader(str(path)), torch.PyTorchFileReader(str(path))
    assert sorted(ours.get_all_records()) == sorted(theirs.get_all_records())
    for name in theirs.get_all_records():
        assert ours.get_record(name) == bytes(theirs.get_record(name))
        assert ours.has_record(name)
    assert not ours.has_record("nope")
    s = ours.get_storage_from_record("data/0", 3, ember.float32)
    assert s.tolist() == [0.0, 1.0, 2.0]


def test_flop_counter_declared_and_refused_when_entered():
    from ember.utils.flop_counter import FlopCounterMode

    mode = FlopCounterMode(display=False)
    assert mode.get_total_flops() == 0 and mode.get_flop_counts() == {}
    with pytest.raises(NotImplementedError, match="FlopCounterMode"):
        with mode:
            pass


def test_pytree_node_type_helper():
    from collections import namedtuple

    from ember.utils import _pytree as ours
    from torch.utils import _pytree as theirs

    for tree in ((1, 2), [1], {"a": 1}, 3, "s"):
        assert ours._get_node_type(tree) is theirs._get_node_type(tree)
    point = namedtuple("Point", "x y")(1, 2)
    assert ours._get_node_type(point) in ours.SUPPORTED_NODES
    assert ours._get_node_type(3) not in ours.SUPPORTED_NODES


def test_optimized_module_wraps():
    lin = ember.nn.Linear(2, 2)
    wrapped = ember._dynamo.OptimizedModule(lin)
    x = ember.ones(1, 2)
    assert wrapped._orig_mod is lin and wrapped(x).equal(lin(x))
