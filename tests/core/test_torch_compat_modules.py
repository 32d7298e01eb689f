"""The torch module names that third-party code (Hugging Face transformers) imports and
that ember declares: ember._dynamo, ember.xpu, ember.cuda streams/graphs, the sharded
ember.distributed packages, ember.ops namespaces. Each either works as PyTorch's does on a
CPU-only machine or raises a clear error when used."""

import importlib

import ember
import pytest


def test_dynamo_decorators_are_identity_and_nothing_compiles():
    import ember._dynamo as dynamo
    from ember._dynamo._trace_wrapped_higher_order_op import TransformGetItemToIndex

    def f(x):
        return x + 1
    assert dynamo.allow_in_graph(f) is f and dynamo.assume_constant_result(f) is f
    assert dynamo.disable(f) is f and dynamo.optimize("inductor")(f) is f
    assert dynamo.is_compiling() is False
    dynamo.mark_static_address(ember.ones(2))
    dynamo.mark_dynamic(ember.ones(2), 0)
    dynamo.config.capture_scalar_outputs = True
    assert issubclass(dynamo.exc.Unsupported, RuntimeError)
    with TransformGetItemToIndex():
        assert ember.arange(5)[ember.tensor(3)].item() == 3



def test_dynamo_eval_frame_names_optimized_module():
    """Libraries unwrap compiled models with ``isinstance(m,
    torch._dynamo.eval_frame.OptimizedModule)`` (diffusers' pipelines do)."""
    import ember._dynamo as dynamo

    assert ember._dynamo.eval_frame.OptimizedModule is dynamo.OptimizedModule
    assert not isinstance(ember.nn.Linear(2, 2), dynamo.eval_frame.OptimizedModule)


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the no-accelerator behaviour")
def test_generic_stream_and_event_on_cpu_match_torch():
    """``torch.Stream``/``torch.Event`` (device-generic, used in annotations and by
    offloading code): without an accelerator they are CPU ones, always idle/complete, and
    the CPU backend refuses to record events, as in PyTorch."""
    torch = pytest.importorskip("torch")
    for m in (torch, ember):
        s = m.Stream()
        assert (s.device_type, s.device_index, s.stream_id) == (0, -1, 0)  # CPU
        assert repr(s) == "torch.Stream device_type=cpu, device_index=-1, stream_id=0"
        assert s.device == m.device("cpu") and s.query() is True
        e = m.Event()
        assert e.device == m.device("cpu") and e.query() is True
        s.wait_event(e)
        s.synchronize()
        e.synchronize()
        e.wait()
        with s as entered:
            assert entered is s
        for call, args in ((s.record_event, ()), (e.record, ()),
                           (s.wait_stream, (m.Stream("cpu"),))):
            with pytest.raises(RuntimeError, match="cpu backend doesn't support events"):
                call(*args)
        with pytest.raises(ValueError, match="enable_timing=True"):
            e.elapsed_time(m.Event())

def test_xpu_is_an_unavailable_device():
    import ember.xpu as xpu

    assert xpu.is_available() is False and xpu.device_count() == 0
    assert xpu.memory_allocated() == 0 and not xpu.is_current_stream_capturing()
    xpu.synchronize()
    xpu.empty_cache()
    xpu.manual_seed(0)
    with pytest.raises(RuntimeError, match="no XPU device"):
        xpu.current_device()
    with pytest.raises(RuntimeError, match="no XPU device"):
        xpu.Stream()


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the no-CUDA behaviour")
def test_cuda_streams_and_graphs_without_cuda():
    assert ember.cuda.is_current_stream_capturing() is False
    for cls in (ember.cuda.Stream, ember.cuda.Event):
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            cls()
    with pytest.raises(NotImplementedError, match="not supported by ember"):
        ember.cuda.CUDAGraph()
    with pytest.raises(NotImplementedError, match="not supported by ember"):
        ember.cuda.graph(None)
    with ember.cuda.StreamContext(None):
        pass


def test_sharded_distributed_names_import_and_refuse_use():
    from ember.distributed._composable.fsdp import fully_shard
    from ember.distributed.checkpoint.hf_storage import HuggingFaceStorageReader
    from ember.distributed.device_mesh import DeviceMesh
    from ember.distributed.fsdp import CPUOffloadPolicy, MixedPrecisionPolicy
    from ember.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_tensor
    from ember.distributed.tensor._utils import compute_local_shape_and_global_offset
    from ember.distributed.tensor.placement_types import _StridedShard

    assert not isinstance(ember.ones(2), DTensor) and issubclass(DTensor, ember.Tensor)
    assert Shard(1) == Shard(1) != Shard(0) and Replicate() == Replicate()
    assert Partial().reduce_op == "sum" and _StridedShard(0, split_factor=2).is_shard()
    assert MixedPrecisionPolicy().param_dtype is None and CPUOffloadPolicy().pin_memory
    for call in (lambda: fully_shard(None), lambda: DeviceMesh("cpu", [0]),
                 lambda: distribute_tensor(ember.ones(2), None, [Shard(0)]),
                 lambda: HuggingFaceStorageReader("x"), lambda: DTensor(),
                 lambda: compute_local_shape_and_global_offset((2,), None, [])):
        with pytest.raises(NotImplementedError, match="not supported by ember"):
            call()
    import ember.distributed._functional_collectives as fc

    t = ember.ones(2)
    assert fc.wait_tensor(t) is t
    for name in ("tensor", "device_mesh", "fsdp", "checkpoint"):
        assert getattr(ember.distributed, name) is importlib.import_module(
            f"ember.distributed.{name}")


def test_fake_tensor_names_are_declared():
    from ember._subclasses import FakeTensor, FakeTensorMode
    from ember._subclasses.fake_tensor import is_fake

    assert not isinstance(ember.ones(2), FakeTensor)
    assert not is_fake(ember.ones(2)) and not is_fake(3)  # as torch's for real tensors
    for cls in (FakeTensor, FakeTensorMode):
        with pytest.raises(NotImplementedError, match="no fake tensors"):
            cls()


def test_fx_experimental_proxy_mode_is_none():
    """``torch.fx.experimental.proxy_tensor.get_proxy_mode()`` is None outside make_fx
    tracing (kornia checks it); ember has no such tracing."""
    import torch.fx.experimental.proxy_tensor as tpt
    from ember.fx.experimental.proxy_tensor import get_proxy_mode

    assert get_proxy_mode() is None and tpt.get_proxy_mode() is None


def test_ops_namespaces():
    lib = importlib.import_module("ember.library")

    @lib.custom_op("compat_test::twice", mutates_args=())
    def twice(x: ember.Tensor) -> ember.Tensor:
        return x * 2
    assert ember.ops.compat_test.twice(ember.ones(2)).tolist() == [2.0, 2.0]
    with pytest.raises(AttributeError, match="torch.ops.aten is not provided"):
        ember.ops.aten
    assert not hasattr(ember.ops, "no_such_namespace")


def test_fsdp_cpu_offload_and_auto_wrap_policies_match_torch():
    """``CPUOffload`` and the auto-wrap policies of ``torch.distributed.fsdp`` (diffusers'
    training_utils imports them): plain records and predicates that answer as PyTorch's."""
    torch = pytest.importorskip("torch")
    from ember.distributed.fsdp import CPUOffload, ShardingStrategy
    from ember.distributed.fsdp import wrap as ember_wrap
    from torch.distributed.fsdp import wrap as torch_wrap

    assert CPUOffload().offload_params is False and CPUOffload(True).offload_params is True
    assert ShardingStrategy.FULL_SHARD.name == "FULL_SHARD"
    for m, wrap in ((torch, torch_wrap), (ember, ember_wrap)):
        lin, attn = m.nn.Linear(4, 4), m.nn.MultiheadAttention(4, 2)
        answers = [wrap.transformer_auto_wrap_policy(mod, rec, 0, {m.nn.Linear})
                   for mod in (lin, attn) for rec in (True, False)]
        answers += [wrap.lambda_auto_wrap_policy(mod, rec, 0, lambda x: x.training)
                    for mod in (lin, m.nn.ReLU().eval()) for rec in (True, False)]
        answers += [wrap.size_based_auto_wrap_policy(mod, rec, n, min_num_params=10)
                    for mod in (lin, attn, m.nn.ModuleList([lin]))
                    for rec in (True, False) for n in (5, 20)]
        answers.append(wrap.always_wrap_policy(lin, False, 0))
        if m is torch:
            want = answers
    assert answers == want
