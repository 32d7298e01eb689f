"""``ember.profiler`` (torch.profiler's API): schedules step for step as PyTorch's, the spans
handed to ``on_trace_ready``, ``record_function`` and ops in the tables, trace files."""

import json
import os
import warnings

import ember
import pytest
import torch


@pytest.mark.parametrize("kw", [dict(wait=1, warmup=1, active=2, repeat=2),
                                dict(wait=0, warmup=2, active=1),
                                dict(wait=2, warmup=1, active=3, repeat=1, skip_first=3),
                                dict(wait=3, warmup=1, active=1, repeat=2, skip_first_wait=1)])
def test_schedule_matches_torch(kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.profiler.schedule(**kw)
        e = ember.profiler.schedule(**kw)
    assert [e(i).name for i in range(20)] == [t(i).name for i in range(20)]


def test_schedule_rejects_bad_arguments():
    with pytest.raises(AssertionError, match="Invalid profiler schedule"):
        ember.profiler.schedule(wait=0, warmup=1, active=0)


def test_profile_with_schedule_hands_over_each_active_span():
    spans = []
    lin = ember.nn.Linear(4, 3)
    x = ember.randn(2, 4)
    sched = ember.profiler.schedule(wait=1, warmup=1, active=2, repeat=2)
    with ember.profiler.profile(activities=[ember.profiler.ProfilerActivity.CPU],
                                schedule=sched, record_shapes=True,
                                on_trace_ready=lambda p: spans.append(
                                    (p.step_num, p.key_averages()))) as prof:
        for i in range(10):
            with ember.profiler.record_function(f"iter{i}"):
                lin(x)
            prof.step()
    assert [s for s, _ in spans] == [4, 8]  # two cycles of 4 steps
    names = {ev.key for ev in spans[0][1]}
    assert {"iter2", "iter3", "aten::linear"} <= names and "iter1" not in names
    assert "iter4" not in names
    assert {"iter6", "iter7"} <= {ev.key for ev in spans[1][1]}


def test_profile_without_schedule_records_everything_and_writes_traces(tmp_path):
    handler = ember.profiler.tensorboard_trace_handler(str(tmp_path), worker_name="w0")
    with ember.profiler.profile(on_trace_ready=handler) as prof:
        with ember.profiler.record_function("block"):
            ember.randn(3, 3).matmul(ember.randn(3, 3))
    table = prof.key_averages().table(sort_by="cpu_time_total")
    assert "block" in table and "aten::matmul" in table
    files = os.listdir(tmp_path)
    assert len(files) == 1 and files[0].startswith("w0.") and files[0].endswith(".pt.trace.json")
    trace = json.loads((tmp_path / files[0]).read_text())
    assert any(ev.get("name") == "block" for ev in trace["traceEvents"])
    with pytest.raises(NotImplementedError, match="stacks"):
        prof.export_stacks(str(tmp_path / "s.txt"))


def test_results_before_any_span_finished_raise():
    prof = ember.profiler.profile(schedule=ember.profiler.schedule(wait=5, warmup=1, active=1))
    with prof:
        prof.step()
        with pytest.raises(RuntimeError, match="didn't finish"):
            prof.key_averages()


class _FakeCupy:
    """Stands in for CuPy in ``ember._device``: counts device synchronisations."""

    def __init__(self):
        self.syncs = 0
        fake = self

        class Device:
            def synchronize(self):
                fake.syncs += 1

        self.cuda = type("cuda", (), {"Device": Device})


def test_ops_wait_for_the_gpu_only_when_cuda_activity_is_profiled(monkeypatch):
    """With CUDA activity (use_cuda) each recorded op ends with a device synchronize, so its
    time includes its kernels; CPU-only profiling and unprofiled ops never synchronise."""
    from ember import _device

    fake = _FakeCupy()
    monkeypatch.setattr(_device, "_cupy", fake)
    x = ember.ones(4)
    with ember.autograd.profiler.profile():
        (x * 2).sum()
    assert fake.syncs == 0
    with ember.autograd.profiler.profile(use_cuda=True) as prof:
        (x * 2).sum()
    assert fake.syncs == 2 and len(prof.function_events) == 2
    with ember.profiler.profile(activities=[ember.profiler.ProfilerActivity.CPU,
                                            ember.profiler.ProfilerActivity.CUDA]):
        x + 1
    assert fake.syncs == 3
    x - 1  # no profiler: no synchronisation
    assert fake.syncs == 3


def test_tensorboard_handler_keeps_every_trace(tmp_path):
    # with active=1 every step (and the exit) saves a trace; two saves within the same
    # millisecond must not overwrite each other (PyTorch names files by nanoseconds)
    out = {}
    for lib in (torch, ember):
        d = tmp_path / lib.__name__
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.profiler.profile(
                    schedule=lib.profiler.schedule(wait=0, warmup=0, active=1),
                    on_trace_ready=lib.profiler.tensorboard_trace_handler(
                        str(d), worker_name="w", use_python_export=False)) as prof:
                for _ in range(2):
                    lib.ones(4).sum()
                    prof.step()
        names = os.listdir(d)
        assert all(n.startswith("w.") and n.endswith(".pt.trace.json") for n in names)
        out[lib.__name__] = len(names)
    assert out["ember"] == out["torch"] == 3
