"""Small torch.* namespaces programs touch (backends flags, nn.attention, random.fork_rng,
version, compiler, utils.model_zoo/hooks): importable under PyTorch's paths and behaving
as PyTorch's do."""

import ember
import numpy as np
import pytest
import torch


def test_backend_flags_programs_set():
    ember.backends.cuda.matmul.allow_tf32 = True
    ember.backends.cudnn.allow_tf32 = True
    assert ember.backends.cuda.matmul.allow_tf32
    with ember.backends.cuda.sdp_kernel(enable_flash=False):
        assert not ember.backends.cuda.flash_sdp_enabled()
    assert ember.backends.cuda.flash_sdp_enabled()
    assert ember.backends.cpu.get_cpu_capability() == torch.backends.cpu.get_cpu_capability()
    assert not ember.backends.mkldnn.is_available() and not ember.backends.openmp.is_available()
    with ember.backends.mkldnn.flags(enabled=False):
        assert ember.backends.mkldnn.enabled is False
    assert ember.backends.mkldnn.enabled is True


def test_sdpa_kernel_and_causal_bias_masks_match_torch():
    from ember.nn.attention import SDPBackend, sdpa_kernel
    from ember.nn.attention.bias import causal_lower_right, causal_upper_left
    from torch.nn.attention.bias import causal_lower_right as t_lr
    from torch.nn.attention.bias import causal_upper_left as t_ul

    for b in SDPBackend:
        assert int(getattr(torch.nn.attention.SDPBackend, b.name)) == b.value
    rng = np.random.default_rng(0)
    q = rng.standard_normal((2, 3, 4, 8)).astype(np.float32)
    k = rng.standard_normal((2, 3, 6, 8)).astype(np.float32)
    for em, tm in ((causal_lower_right, t_lr), (causal_upper_left, t_ul)):
        with sdpa_kernel([SDPBackend.MATH]):
            e = ember.nn.functional.scaled_dot_product_attention(
                ember.tensor(q), ember.tensor(k), ember.tensor(k), attn_mask=em(4, 6))
        t = torch.nn.functional.scaled_dot_product_attention(
            torch.tensor(q), torch.tensor(k), torch.tensor(k), attn_mask=tm(4, 6))
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(AssertionError, match="SDPBackend"):
        with sdpa_kernel(["math"]):
            pass


def test_fork_rng_restores_the_stream():
    ember.manual_seed(3)
    want = ember.rand(4).numpy()
    ember.manual_seed(3)
    with ember.random.fork_rng():
        ember.rand(100)
    np.testing.assert_array_equal(ember.rand(4).numpy(), want)
    with ember.random.fork_rng(enabled=False):
        ember.rand(1)
    assert ember.random.initial_seed() == 3


def test_version_compiler_and_utils_paths():
    assert ember.version.__version__ == ember.__version__ and ember.version.cuda is None

    @ember.compiler.disable
    def f(x):
        return x + 1

    assert f(1) == 2 and not ember.compiler.is_compiling()
    assert ember.compiler.disable()(f) is f
    from ember.utils.hooks import RemovableHandle
    from ember.utils.model_zoo import load_url

    h = ember.nn.Linear(2, 2).register_forward_hook(lambda *a: None)
    assert isinstance(h, RemovableHandle)
    assert load_url is ember.hub.load_state_dict_from_url


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the no-CUDA behaviour")
def test_accelerator_probes_answer_like_cpu_only_torch():
    """What accelerate asks of torch at start-up and in save_state/load_state: the xpu RNG
    state lists, ``cuda.is_initialized``, the FSDP1 module path and its option enums, and
    ``utils.cpp_extension`` (importable; building refuses, as libraries expect to catch)."""
    import importlib

    for m in (torch, ember):
        assert m.xpu.get_rng_state_all() == [] and m.xpu.set_rng_state_all([]) is None
        m.xpu.seed()
        m.xpu.seed_all()
        assert m.cuda.is_initialized() is False and m.cuda.get_rng_state_all() == []
        fsdp = importlib.import_module(m.__name__ + ".distributed.fsdp")
        full = importlib.import_module(
            m.__name__ + ".distributed.fsdp.fully_sharded_data_parallel")
        assert full.FullyShardedDataParallel is fsdp.FullyShardedDataParallel
        assert not isinstance(m.nn.Linear(2, 2), full.FullyShardedDataParallel)
        for enum_name in ("ShardingStrategy", "BackwardPrefetch", "StateDictType"):
            ours = [e.name for e in getattr(fsdp, enum_name)]
            assert ours == [e.name for e in getattr(torch.distributed.fsdp, enum_name)]
            assert getattr(full, enum_name) is getattr(fsdp, enum_name)
        ext = importlib.import_module(m.__name__ + ".utils.cpp_extension")
        assert callable(ext.load) and callable(ext.load_inline) and hasattr(ext, "CUDA_HOME")
        join = importlib.import_module(m.__name__ + ".distributed.algorithms.join")
        assert {"Join", "Joinable", "JoinHook"} <= set(dir(join))
        assert m.distributed.algorithms.Join is join.Join
    assert ember.utils.cpp_extension.CUDA_HOME is None  # as in a CPU-only torch build
    with pytest.raises(RuntimeError, match="cannot build"):
        ember.utils.cpp_extension.load("ext", ["ext.cpp"])
    with pytest.raises(RuntimeError, match="no XPU"):
        ember.xpu.set_rng_state_all([ember.get_rng_state()])


def test_futures_behave_as_torch_futures():
    """torch.futures (captum imports it): set_result / set_exception, then() chains (a
    callback's error wrapped in a RuntimeError), add_done_callback, collect_all and
    wait_all, completing once only; torch.Future is the same class."""
    from ember.futures import Future, collect_all, wait_all

    assert ember.Future is Future and Future[int] is not None
    results = []
    for m in (torch, ember):
        f = m.futures.Future()
        seen = []
        f.add_done_callback(lambda fut, seen=seen: seen.append(fut.value() * 10))
        g = f.then(lambda fut: fut.value() + 1)
        h = f.then(lambda fut: 1 / 0)
        out = [f.done(), g.done()]
        f.set_result(3)
        out += [f.done(), f.wait(), g.wait(), seen]
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            h.wait()
        with pytest.raises(RuntimeError, match="only be marked completed once"):
            f.set_result(4)
        e = m.futures.Future()
        e.set_exception(ValueError("boom"))
        with pytest.raises(ValueError, match="boom"):
            e.value()
        a, b = m.futures.Future(), m.futures.Future()
        c = m.futures.collect_all([a, b])
        a.set_result(1)
        out.append(c.done())
        b.set_result(2)
        out += [c.done(), [x.value() for x in c.wait()], m.futures.wait_all([a, g])]
        with pytest.raises(ValueError, match="boom"):
            m.futures.wait_all([a, e])
        results.append(out)
    assert results[1] == results[0] == [False, False, True, 3, 4, [30], False, True, [1, 2],
                                        [1, 4]]
    assert wait_all([]) == [] and collect_all([]).done()


def test_scatter_gather_split_and_join_nested_inputs():
    """torch.nn.parallel.scatter_gather (captum's layer methods import it): scatter chunks
    tensors along ``dim`` per target device through tuples, lists, dicts and named tuples
    and repeats other objects; gather concatenates back (gradients flow through both)."""
    from collections import namedtuple

    from ember.nn.parallel import gather, scatter
    from ember.nn.parallel.scatter_gather import scatter_kwargs

    Pair = namedtuple("Pair", "a b")
    x = ember.arange(12.0).reshape(6, 2).requires_grad_(True)
    parts = scatter((x, [x * 2, "tag"], {"k": x}, Pair(x, 5)), ["cpu", "cpu"], dim=0)
    assert len(parts) == 2 and isinstance(parts[0], tuple)
    t, lst, d, p = parts[1]
    np.testing.assert_array_equal(t.detach().numpy(), np.arange(6.0, 12.0).reshape(3, 2))
    assert isinstance(lst, list) and lst[1] == "tag" and list(d) == ["k"]
    assert isinstance(p, Pair) and p.b == 5 and p.a.shape == (3, 2)
    assert len(scatter(x[:1], ["cpu", "cpu"])) == 1  # fewer slices than devices
    joined = gather([q[0] for q in parts], -1)
    np.testing.assert_array_equal(joined.detach().numpy(), x.detach().numpy())
    joined.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((6, 2)))
    merged = gather([{"v": ember.ones(2), "n": None}, {"v": ember.zeros(1), "n": None}], "cpu")
    assert merged["n"] is None and merged["v"].tolist() == [1.0, 1.0, 0.0]
    assert gather([ember.tensor(1.0), ember.tensor(2.0)], -1).tolist() == [1.0, 2.0]
    ins, kws = scatter_kwargs((x,), {"s": 1}, ["cpu", "cpu"])
    assert len(ins) == len(kws) == 2 and kws[1] == {"s": 1} and ins[1][0].shape == (3, 2)
