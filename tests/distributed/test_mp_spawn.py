"""ember.multiprocessing: spawn/start_processes run fn(i, *args), report a child's failure
with its traceback, and leave no process behind."""

import os
import signal
import time
import warnings

import ember
import ember.multiprocessing as mp
import pytest


def fill(i, t, model):
    """Runs in a spawned child: writes into shared memory the parent can see."""
    t[i] = i + 1.0
    assert t.is_shared() and isinstance(model.weight, ember.nn.Parameter)
    with ember.no_grad():
        model.weight.add_(1.0)


def test_spawn_shares_tensors_with_children():
    t = ember.zeros(2).share_memory_()
    model = ember.nn.Linear(2, 1).share_memory()
    w0 = model.weight.detach().clone()
    assert mp.spawn(fill, args=(t, model), nprocs=2) is None
    assert t.tolist() == [1.0, 2.0]
    assert ember.allclose(model.weight.detach(), w0 + 2)


def fails(i, how):
    if i == 0:
        time.sleep(60)  # must be stopped by the parent when rank 1 fails
    if how == "raise":
        raise ValueError(f"boom from {i}")
    if how == "exit":
        os._exit(3)
    os.kill(os.getpid(), signal.SIGKILL)


def test_child_exception_carries_its_traceback():
    t0 = time.monotonic()
    with pytest.raises(mp.ProcessRaisedException) as info:
        mp.start_processes(fails, args=("raise",), nprocs=2, start_method="fork")
    e = info.value
    assert e.error_index == 1 and "Process 1 terminated with the following error" in str(e)
    assert "ValueError: boom from 1" in str(e) and "Traceback" in str(e)
    assert time.monotonic() - t0 < 20


@pytest.mark.parametrize("how, code, sig", [("exit", 3, None), ("kill", -9, "SIGKILL")])
def test_child_exit_code_and_signal(how, code, sig):
    with pytest.raises(mp.ProcessExitedException) as info:
        mp.start_processes(fails, args=(how,), nprocs=2, start_method="fork")
    assert info.value.exit_code == code and info.value.signal_name == sig
    assert info.value.error_index == 1


def quiet(i, out):
    out[i] = 10.0 * i


def test_process_context_and_reexports():
    out = ember.zeros(3).share_memory_()
    ctx = mp.start_processes(quiet, args=(out,), nprocs=3, join=False, start_method="fork")
    assert isinstance(ctx, mp.ProcessContext) and len(ctx.pids()) == 3
    while not ctx.join(timeout=10):
        pass
    assert out.tolist() == [0.0, 10.0, 20.0]
    assert not any(p.is_alive() for p in ctx.processes)
    assert mp.cpu_count() >= 1 and mp.get_context("fork").Process is not None
    assert callable(mp.set_start_method) and mp.Queue and mp.Pool and mp.SimpleQueue
    assert mp.get_sharing_strategy() in mp.get_all_sharing_strategies()
    mp.set_sharing_strategy("file_system")
    assert mp.get_sharing_strategy() == "file_system"
    mp.set_sharing_strategy("file_descriptor")
    with pytest.raises(AssertionError):
        mp.set_sharing_strategy("nope")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FutureWarning, match="only supports start_method=spawn"):
            mp.spawn(quiet, args=(out,), nprocs=1, start_method="fork")
