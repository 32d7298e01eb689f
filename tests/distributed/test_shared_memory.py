"""Tensor.share_memory_ / Module.share_memory: updates made by forked processes (the
Hogwild pattern) and tensors sent through a multiprocessing Queue share memory."""

import ember
import ember.multiprocessing as mp
import numpy as np


def test_share_memory_keeps_values_and_flags():
    t = ember.arange(6.0).reshape(2, 3)
    assert not t.is_shared()
    assert t.share_memory_() is t and t.is_shared()
    assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    data = t._data
    t.share_memory_()  # idempotent
    assert t._data is data and t[1].is_shared() and t.detach().is_shared()
    e = ember.zeros(0).share_memory_()
    assert e.is_shared() and e.shape == (0,)


def hogwild_train(model, steps):
    opt = ember.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(steps):
        opt.zero_grad()
        for p in model.parameters():
            p.grad = ember.ones_like(p)
        opt.step()


def test_hogwild_updates_are_shared():
    model = ember.nn.Sequential(ember.nn.Linear(3, 2), ember.nn.BatchNorm1d(2))
    model.share_memory()
    assert all(p.is_shared() for p in model.parameters())
    assert all(b.is_shared() for b in model.buffers())
    before = [p.detach().numpy().copy() for p in model.parameters()]
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=hogwild_train, args=(model, 2)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    for b, p in zip(before, model.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), b - 2.0, rtol=1e-6)  # 2 procs x 2 x 0.5


def add_five(q, done):
    t = q.get()
    t.add_(5)
    done.put(t.is_shared())


def test_queue_passes_shared_tensors_by_reference():
    ctx = mp.get_context("fork")
    q, done = ctx.Queue(), ctx.Queue()
    t = ember.zeros(4).share_memory_()
    p = ctx.Process(target=add_five, args=(q, done))
    p.start()
    q.put(t)
    assert done.get(timeout=30) is True
    p.join(30)
    assert t.tolist() == [5.0] * 4
    plain = ember.zeros(2)  # not shared: a copy travels, the original is untouched
    p = ctx.Process(target=add_five, args=(q, done))
    p.start()
    q.put(plain)
    assert done.get(timeout=30) is False
    p.join(30)
    assert plain.tolist() == [0.0, 0.0]
